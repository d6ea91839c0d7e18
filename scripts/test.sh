#!/usr/bin/env bash
# scripts/test.sh — the one test command (README, .ci/run).
#
# Installs what the tests need on a fresh Debian machine, builds the test
# peers, then runs the whole test suite. The tests start their own peers
# (the govmomi vSphere simulator, a loopback OpenSSH server, headless
# Chromium) from what this script installs and builds, so a test never
# depends on a service left running by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the simulator (Go + govmomi), sshd, Chromium for the HTML
# report tests, libssh2 for the SSH collector, Python for the peers in benches.
pkgs=(golang-go golang-github-vmware-govmomi-dev openssh-server openssh-client
      chromium libssh2-1-dev libssl-dev pkg-config zlib1g-dev)
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

# Test peers built from source in the repo.
for b in testbed/*/build.sh; do
  [ -e "$b" ] && bash "$b"
done

export ESXUP_TESTBED=1
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
  cargo test --workspace --doc
else
  cargo test --workspace --no-fail-fast "$@"
fi
