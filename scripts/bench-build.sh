#!/usr/bin/env bash
# scripts/bench-build.sh — benchmark of `esxup build` (issue 2, "under 10 ms
# end to end"). Not a test: prints hyperfine's numbers, asserts nothing.
#
# Times, end to end (process start to exit), with the built-in knowledge base:
#   esxup-build      esxup build 17700523               (release build, table)
#   esxup-json       esxup build 17700523 --format json
#   esxup-releases   esxup releases --format json        (serialises the whole catalog)
# and two peers doing less work on the same data:
#   python-toml      python3 reading data/releases/*.toml (tomllib) and printing
#                    the 17700523 row: the same parse, no advisories/lifecycle
#   python-json      python3 loading the catalog pre-exported to one JSON file
#                    and printing the row: a lookup in the cheapest format
# then, through a shell, the 17700523 query given as an argument against a
# pasted `esxcli system version get` on stdin.
#
# usage: scripts/bench-build.sh [RUNS]     (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-200}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
command -v hyperfine >/dev/null || { echo "bench: installing hyperfine" >&2; apt-get install -y -qq hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }; }
WORK=$(mktemp -d /tmp/esxup-bench-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "bench: building esxup (release)" >&2
cargo build --release -q -p esxup
ESXUP="$CARGO_TARGET_DIR/release/esxup"
export ESXUP_TODAY=2026-11-26

# The interpreter itself, not a version-manager shim (pyenv's costs ~300 ms).
PY=$(python3 -c 'import sys; print(sys.executable)')
"$ESXUP" releases --format json >"$WORK/releases.json"
printf '   Product: VMware ESXi\n   Version: 6.7.0\n   Build: Releasebuild-17700523\n   Update: 3\n   Patch: 0\n' >"$WORK/esxcli.txt"
cat >"$WORK/toml_lookup.py" <<'EOF'
import glob, sys, tomllib
for f in sorted(glob.glob(sys.argv[1] + "/releases/*.toml")):
    with open(f, "rb") as fh:
        for r in tomllib.load(fh).get("release", []):
            if r["build"] == 17700523:
                print(r["build"], r["name"], r.get("bulletin"), r["date"])
EOF
cat >"$WORK/json_lookup.py" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1])):
    if r["build"] == 17700523:
        print(r["build"], r["name"], r.get("bulletin"), r["release_date"])
EOF

echo "bench: $($PY --version), $(nproc) CPU(s), $(wc -l <"$WORK/releases.json") JSON lines of catalog, $(ls data/releases/*.toml data/advisories/*.toml 2>/dev/null | wc -l) data files" >&2
"$ESXUP" build 17700523 | head -4 >&2

hyperfine -N --warmup 20 --runs "$RUNS" --export-markdown "$WORK/bench.md" \
  -n esxup-build "$ESXUP build 17700523" \
  -n esxup-json "$ESXUP build 17700523 --format json" \
  -n esxup-releases "$ESXUP releases --format json" \
  -n python-toml "$PY $WORK/toml_lookup.py data" \
  -n python-json "$PY $WORK/json_lookup.py $WORK/releases.json"
# A paste on stdin needs a shell for the redirection: both through sh, so
# hyperfine's shell-spawn correction applies to both alike.
hyperfine --warmup 20 --runs "$RUNS" --export-markdown "$WORK/bench-stdin.md" \
  -n esxup-build-arg "$ESXUP build 17700523" \
  -n esxup-build-esxcli-stdin "$ESXUP build - <$WORK/esxcli.txt"
cat "$WORK/bench.md" "$WORK/bench-stdin.md"
