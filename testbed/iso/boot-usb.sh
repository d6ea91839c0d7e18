#!/usr/bin/env bash
# testbed/iso/boot-usb.sh — boots a raw disk image (an ESXi installer stick
# written by esxup, or one made by hand) in QEMU under OVMF (UEFI) and writes
# the VM's serial console to a log, for the media end-to-end tests. With the
# stand-in loader (build.sh) on the stick, the log shows
# ESXUP-STANDIN-LOADER-OK, EFI/BOOT/BOOT.CFG between ESXUP-BOOTCFG-BEGIN and
# ESXUP-BOOTCFG-END, and ESXUP-KS-PRESENT or ESXUP-KS-MISSING; the loader then
# powers the VM off, so QEMU exits on its own.
#
#   testbed/iso/boot-usb.sh IMG SERIAL_LOG [TIMEOUT_SECONDS]   (default 120, per QEMU run)
#
# The image is attached read-only-safe (snapshot=on: writes go to a temporary
# overlay, IMG is never changed). Media, by ESXUP_BOOT_MEDIA:
#   usb (default)  -device qemu-xhci + usb-storage (a USB stick, as asked)
#   disk           a virtio-blk disk
#   cdrom          IMG is an ISO, attached as an IDE/AHCI CD-ROM (El Torito EFI)
# KVM is tried when /dev/kvm can be opened; when QEMU reports a KVM failure the
# run is stopped and redone with TCG (ESXUP_BOOT_KVM=0: TCG at once).
#
# Exit: 0 when ESXUP-STANDIN-LOADER-OK is in the log; 1 when it is not
# (QEMU exited or the timeout hit first); 2 usage; 3 QEMU/OVMF missing.
set -uo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 IMG SERIAL_LOG [TIMEOUT_SECONDS]" >&2
  exit 2
fi
img="$1"; log="$2"; tmo="${3:-120}"
[ -f "$img" ] || { echo "boot-usb.sh: $img: no such file" >&2; exit 2; }
qemu="$(command -v qemu-system-x86_64 || true)"
[ -n "$qemu" ] || { echo "boot-usb.sh: qemu-system-x86_64 not found (apt-get install qemu-system-x86)" >&2; exit 3; }

# Debian's ovmf package: 4 MiB build first, the 2 MiB one as fallback (both
# without Secure Boot: the stand-in loader is unsigned).
code=""; vars=""
for pair in "/usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd" \
            "/usr/share/OVMF/OVMF_CODE.fd /usr/share/OVMF/OVMF_VARS.fd"; do
  set -- $pair
  if [ -f "$1" ] && [ -f "$2" ]; then code="$1"; vars="$2"; break; fi
done
[ -n "$code" ] || { echo "boot-usb.sh: OVMF firmware not found under /usr/share/OVMF (apt-get install ovmf)" >&2; exit 3; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
case "${ESXUP_BOOT_MEDIA:-usb}" in
  usb)   media=(-device qemu-xhci,id=xhci -drive "if=none,id=stick,format=raw,snapshot=on,file=$img"
                -device usb-storage,bus=xhci.0,drive=stick,removable=on,bootindex=0) ;;
  disk)  media=(-drive "if=none,id=disk,format=raw,snapshot=on,file=$img" -device virtio-blk-pci,drive=disk,bootindex=0) ;;
  cdrom) media=(-drive "if=none,id=cd,format=raw,media=cdrom,readonly=on,file=$img" -device ide-cd,drive=cd,bootindex=0) ;;
  *) echo "boot-usb.sh: ESXUP_BOOT_MEDIA must be usb, disk or cdrom" >&2; exit 2 ;;
esac

# run ACCEL: one QEMU run with ACCEL (kvm or tcg), at most $tmo seconds.
# Returns 0 when QEMU exited by itself, 124 on timeout, 125 when KVM failed
# (QEMU prints "KVM internal error" / "emulation failure" and pauses the VM:
# seen with nested or sandboxed /dev/kvm, which then is not "usable").
run() {
  local accel="$1" a pid t0 deadline rc=0
  if [ "$accel" = kvm ]; then a=(-machine q35,accel=kvm -cpu host); else a=(-machine q35,accel=tcg); fi
  : > "$log"; : > "$tmp/qemu.out"
  cp "$vars" "$tmp/vars.fd"
  t0=$(date +%s.%N)
  "$qemu" "${a[@]}" -m 256 -smp 1 \
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" \
    -drive "if=pflash,format=raw,unit=1,file=$tmp/vars.fd" \
    "${media[@]}" \
    -nographic -serial "file:$log" -monitor none -net none -no-reboot \
    </dev/null >"$tmp/qemu.out" 2>&1 &
  pid=$!
  deadline=$(( $(date +%s) + tmo ))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$accel" = kvm ] && grep -qE 'KVM internal error|emulation failure|failed to initialize kvm' "$tmp/qemu.out"; then
      rc=125; break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then rc=124; break; fi
    sleep 0.2
  done
  if [ "$rc" != 0 ]; then
    kill "$pid" 2>/dev/null; sleep 1; kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  else
    wait "$pid"; rc=$?
    # QEMU aborting at once on a KVM it cannot drive ("failed to set MSR
    # 0x10a", seen on some hosts' nested KVM) is "KVM not usable" too.
    if [ "$accel" = kvm ] && [ "$rc" != 0 ] && grep -qE 'failed to set MSR|KVM|kvm' "$tmp/qemu.out"; then rc=125; fi
  fi
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  case "$rc" in
    124) how="timed out after ${tmo}s" ;;
    125) how="stopped: KVM not usable" ;;
    *)   how="exited (rc $rc) after ${secs}s" ;;
  esac
  echo "boot-usb.sh: QEMU ($accel, ${ESXUP_BOOT_MEDIA:-usb}) $how" >&2
  local n=20; [ "$rc" = 125 ] && n=1
  if [ -s "$tmp/qemu.out" ]; then sed 's/^/boot-usb.sh: qemu: /' "$tmp/qemu.out" | head -n "$n" >&2; fi
  return "$rc"
}

rc=125
if [ "${ESXUP_BOOT_KVM:-1}" != 0 ] && ( exec 3<>/dev/kvm ) 2>/dev/null; then
  run kvm; rc=$?
fi
if [ "$rc" = 125 ]; then
  run tcg; rc=$?
fi
if grep -q 'ESXUP-STANDIN-LOADER-OK' "$log"; then
  exit 0
fi
echo "boot-usb.sh: ESXUP-STANDIN-LOADER-OK not in $log" >&2
exit 1
