#!/usr/bin/env bash
# scripts/test.sh — the one test command (README, .ci/run).
#
# Installs what the tests need on a fresh Debian machine, builds the test
# peers, then runs the whole test suite. The tests start their own peers
# (the govmomi vSphere simulator, a loopback OpenSSH server, headless
# Chromium, a local HTTP depot server) from what this script installs and
# builds, so no test depends on a service left running by hand.
#
#   scripts/test.sh               install, build peers, run every test
#   scripts/test.sh --setup-only  install and build peers, run nothing
#   scripts/test.sh -- ARGS       extra arguments go to the test runner
set -euo pipefail
cd "$(dirname "$0")/.."

setup_only=0
if [ "${1:-}" = "--setup-only" ]; then setup_only=1; shift; fi
[ "${1:-}" = "--" ] && shift

# Debian packages: Go + govmomi for the vSphere simulator, OpenSSH for the
# SSH collector tests, Chromium for the HTML runbook test, libssh2/OpenSSL
# headers for the ssh2 crate, a C compiler for the C parts of the ssh2 and
# libdeflater crates, python3 for the depot generator, its HTTP server and peers;
# for the install-media tests (testbed/iso): xorriso (test ISOs), gdisk (sgdisk)
# and fdisk (sfdisk) for GPT stick images, mtools and dosfstools (mformat/mcopy,
# mkfs.fat/fsck.fat) for their FAT32 partition, grub-efi-amd64-bin and
# grub-common (grub-mkstandalone) for the stand-in UEFI loader, qemu-system-x86
# and ovmf to boot a written stick under UEFI; e2fsprogs, mount and util-linux
# (losetup) for the loop-device tests of `esxup media --device`; openssl checks
# the SHA-512 crypt of the trial kickstart's root password.
pkgs=(golang-go golang-github-vmware-govmomi-dev openssh-server openssh-client
      chromium libssh2-1-dev libssl-dev pkg-config zlib1g-dev gcc libc6-dev python3 ca-certificates curl
      xorriso gdisk fdisk mtools dosfstools grub-efi-amd64-bin grub-common qemu-system-x86 ovmf
      e2fsprogs mount util-linux openssl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Test peers built from sources in the repo (each build.sh is incremental).
for b in testbed/*/build.sh; do
  [ -e "$b" ] || continue
  echo "test.sh: building $(dirname "$b")" >&2
  bash "$b"
done

[ "$setup_only" = 1 ] && exit 0

# The vSphere simulator harness's own tests (runner support: reboot, licence, ...).
(cd testbed/vcsim && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off go test .)

export ESXUP_TESTBED=1
# Fixed "today" so lifecycle and age texts in snapshots do not drift.
export ESXUP_TODAY="${ESXUP_TODAY:-2026-11-26}"
if cargo nextest --version >/dev/null 2>&1; then
  cargo test --workspace --doc -q
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
