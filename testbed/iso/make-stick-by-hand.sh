#!/usr/bin/env bash
# testbed/iso/make-stick-by-hand.sh — writes an ESXi installer USB stick image
# from an ISO WITHOUT esxup (sgdisk, mtools, xorriso only; no root, no mount):
# the reference for what esxup-media's writer must produce, and the check that
# the test peers (make-esxi-iso.py, the stand-in loader, boot-usb.sh) work.
#
#   testbed/iso/make-stick-by-hand.sh ISO IMG [SIZE_MIB]    (default 256)
#
# IMG: a GPT disk, partition 1 from sector 2048 to the end, type EF00 (EFI
# system partition), FAT32 (mtools at offset 1 MiB), label ESXI, holding every
# file of the ISO (upper-case names as on the ISO), EFI/BOOT/BOOT.CFG with
# `ks=usb:/KS.CFG` added to its kernelopt= line, and a KS.CFG (a minimal
# install kickstart; password CONSTRUCTED, for tests only).
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 ISO IMG [SIZE_MIB]" >&2; exit 2; fi
iso="$1"; img="$2"; mib="${3:-256}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
xorriso -osirrox on -indev "$iso" -extract / "$tmp/iso" 2>/dev/null
chmod -R u+w "$tmp/iso"
rm -f "$tmp/iso/BOOT.CAT"   # the El Torito catalogue is not a file of the stick
sed -i 's/^kernelopt=\(.*\)$/kernelopt=\1 ks=usb:\/KS.CFG/' "$tmp/iso/EFI/BOOT/BOOT.CFG" 2>/dev/null ||
  { echo "make-stick-by-hand.sh: $iso has no EFI/BOOT/BOOT.CFG" >&2; exit 1; }
cat > "$tmp/iso/KS.CFG" <<'KS'
vmaccepteula
install --firstdisk --overwritevmfs
rootpw esxup-Test-1
network --bootproto=dhcp --device=vmnic0
reboot
KS
rm -f "$img"
truncate -s "${mib}M" "$img"
sgdisk -n1:2048:0 -t1:ef00 -c1:ESXI "$img" >/dev/null
export MTOOLS_SKIP_CHECK=1
mformat -i "$img@@1M" -F -v ESXI ::
mcopy -s -m -i "$img@@1M" "$tmp/iso/"* ::/
echo "make-stick-by-hand.sh: wrote $img" >&2
