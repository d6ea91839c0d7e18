#!/usr/bin/env bash
# testbed/iso/build.sh — builds the stand-in UEFI loader
# testbed/iso/bin/BOOTX64.EFI (GRUB 2, grub-mkstandalone -O x86_64-efi, with
# testbed/iso/grub.cfg embedded) that make-esxi-iso.py puts into the test ISOs
# as EFI/BOOT/BOOTX64.EFI and that boot-usb.sh boots under OVMF. Rebuilds only
# when grub.cfg or build.sh is newer than the loader. Called by scripts/test.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/bin/BOOTX64.EFI"
if [ -s "$out" ] && [ "$out" -nt "$here/grub.cfg" ] && [ "$out" -nt "$here/build.sh" ]; then
  exit 0
fi
if ! command -v grub-mkstandalone >/dev/null 2>&1 || [ ! -d /usr/lib/grub/x86_64-efi ]; then
  echo "testbed/iso/build.sh: grub-mkstandalone or x86_64-efi modules not found (apt-get install grub-common grub-efi-amd64-bin)" >&2
  exit 1
fi
mkdir -p "$here/bin"
# Only what grub.cfg uses (plus iso9660, so the loader also runs from the ISO's
# El Torito EFI image when the ISO itself is booted as a CD-ROM).
mods="part_gpt part_msdos fat iso9660 normal echo cat search search_fs_file serial terminal halt configfile test"
grub-mkstandalone -O x86_64-efi --locales= --fonts= --themes= \
  --install-modules="$mods" --modules="$mods" \
  -o "$out.tmp" "boot/grub/grub.cfg=$here/grub.cfg"
mv "$out.tmp" "$out"
echo "testbed/iso/build.sh: built $out ($(stat -c %s "$out") bytes)" >&2
