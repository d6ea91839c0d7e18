#!/usr/bin/env bash
# testbed/vcsim/build.sh — builds the vSphere simulator harness (the *.go
# files next to it) into testbed/vcsim/bin/esxup-vcsim, offline, in GOPATH mode
# against Debian's golang-github-vmware-govmomi-dev (govmomi 0.24.2 under
# /usr/share/gocode). Rebuilds only when a .go file or build.sh is newer than
# the binary. Called by scripts/test.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/bin/esxup-vcsim"
fresh=1
[ -x "$bin" ] || fresh=0
for f in "$here"/*.go "$here/build.sh"; do
  case "$f" in *_test.go) continue ;; esac
  [ "$fresh" = 1 ] && [ "$bin" -nt "$f" ] || fresh=0
done
if [ "$fresh" = 1 ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "testbed/vcsim/build.sh: go not found (apt-get install golang-go)" >&2
  exit 1
fi
if [ ! -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ]; then
  echo "testbed/vcsim/build.sh: govmomi not found (apt-get install golang-github-vmware-govmomi-dev)" >&2
  exit 1
fi
mkdir -p "$here/bin"
cd "$here"
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off
export GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/esxup-go-build}"
go build -o "$bin.tmp" .
mv "$bin.tmp" "$bin"
echo "testbed/vcsim/build.sh: built $bin" >&2
