#!/usr/bin/env bash
# Benchmark of the fleet form of `esxup check`: generates N facts files
# (default 10,000, hostnames varied, hosts taken round-robin from the
# scenario fixtures in crates/esxup-check/tests/scenarios) and times
# `esxup check --facts-dir DIR --target T` with a release build.
# Goal (issue 5): under 2 seconds for 10,000 hosts on 2 cores.
#
# Usage: scripts/bench-check.sh [N] [TARGET]
# Env:   CARGO_TARGET_DIR (default target), KEEP=1 keeps the generated folder.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
TARGET="${2:-8.0U3}"
TD="${CARGO_TARGET_DIR:-target}"
cargo build --release -p esxup --quiet
BIN="$TD/release/esxup"
DIR="$(mktemp -d /tmp/esxup-bench-check.XXXXXX)"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$DIR"' EXIT
python3 - "$DIR" "$N" <<'PY'
import json, os, sys, glob
out, n = sys.argv[1], int(sys.argv[2])
srcs = sorted(glob.glob('crates/esxup-check/tests/scenarios/*/facts.json'))
bases = [json.load(open(p)) for p in srcs]
for i in range(n):
    f = dict(bases[i % len(bases)])
    f['hostname'] = f'esx{i:05d}.example.net'
    with open(os.path.join(out, f'esx{i:05d}.json'), 'w') as fh:
        json.dump(f, fh)
PY
echo "generated $N facts files in $DIR ($(du -sh "$DIR" | cut -f1)), cores: $(nproc)"
export ESXUP_TODAY="${ESXUP_TODAY:-2026-01-15}"
start=$(date +%s.%N)
set +e
"$BIN" check --facts-dir "$DIR" --target "$TARGET" > "$DIR.out"
code=$?
set -e
end=$(date +%s.%N)
tail -n 1 "$DIR.out"
rm -f "$DIR.out"
echo "exit code $code (1 = some host blocked)"
awk -v s="$start" -v e="$end" -v n="$N" 'BEGIN { printf "checked %d hosts in %.2f s (%.0f hosts/s)\n", n, e - s, n / (e - s) }'
