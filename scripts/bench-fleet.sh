#!/usr/bin/env bash
# scripts/bench-fleet.sh — benchmark of the fleet commands (issue 12,
# "Scale"). Not a test: prints a table, asserts nothing.
#
# Collects a simulator vCenter of SRC hosts (testbed/vcsim, VMS VMs) with
# `esxup collect --out-dir`, copies each facts file until the folder holds
# N hosts (each copy with its own host name), then times on that folder:
#   check-json   esxup check --facts-dir DIR --target TARGET --format json
#   check-table  the same, one line per host
#   report-html  esxup report --facts-dir DIR --target TARGET -o fleet.html
#   report-csv   the same as CSV
#   py-parse     scripts/bench/fleet_parse.py: read and json.loads every file,
#                one process (the floor of a script-based tool)
#   py-parse-N   the same over `nproc` processes
# and then opens fleet.html in headless Chromium (--dump-dom), reading the
# time from navigation start to the page script's end (`data-ready-ms`,
# performance.now() when the table is drawn and interactive).
# Wall time from date +%s%N, peak RSS from /usr/bin/time -v; best wall and
# largest RSS of RUNS runs.
#
# usage: scripts/bench-fleet.sh [N] [RUNS] [SRC] [VMS]   (default 10000 3 50 1000)
# env:   TARGET (default 8.0U3e; e.g. TARGET=auto for the best target per host)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
RUNS=${2:-3}
SRC=${3:-50}
VMS=${4:-1000}
TARGET=${TARGET:-8.0U3e}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
WORK=$(mktemp -d /tmp/esxup-bench-fleet.XXXXXX)
trap 'exec 9>&- 2>/dev/null || true; [ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

command -v /usr/bin/time >/dev/null || { echo "bench: installing time" >&2; apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }; }
bash testbed/vcsim/build.sh
echo "bench: building esxup (release)" >&2
cargo build --release -q -p esxup
ESXUP="$CARGO_TARGET_DIR/release/esxup"

# The simulator lives as long as fd 9 (its stdin) stays open.
mkfifo "$WORK/sim.in"
testbed/vcsim/bin/esxup-vcsim -mode vpx -hosts 0 -clusters 5 -cluster-hosts $((SRC / 5)) -vms "$VMS" -snapshot-every 10 \
  -user root -password esxup-bench <"$WORK/sim.in" >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
exec 9>"$WORK/sim.in"
for _ in $(seq 600); do [ -s "$WORK/sim.out" ] && break; sleep 0.1; done
[ -s "$WORK/sim.out" ] || { echo "bench: simulator did not start" >&2; cat "$WORK/sim.err" >&2; exit 2; }
BANNER=$(head -1 "$WORK/sim.out")
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$BANNER" "$1"; }
export ESXUP_PASSWORD=esxup-bench
"$ESXUP" collect --host "$(field url)" --user root --thumbprint "$(field thumbprint)" --out-dir "$WORK/src" >/dev/null 2>"$WORK/collect.err" \
  || { echo "bench: collection failed" >&2; cat "$WORK/collect.err" >&2; exit 2; }
exec 9>&-
mkdir "$WORK/facts"
python3 - "$WORK/src" "$WORK/facts" "$N" <<'PY'
import json, os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = [json.load(open(os.path.join(src, f))) for f in sorted(os.listdir(src)) if f.endswith(".json")]
for i in range(n):
    f = dict(base[i % len(base)])
    f["hostname"] = f"{f.get('hostname') or 'host'}-{i // len(base):04d}"
    with open(os.path.join(dst, f"{f['hostname']}.json"), "w") as out:
        json.dump(f, out, indent=2)
PY
bytes=$(du -sb "$WORK/facts" | cut -f1)
echo "bench: $N facts files ($((bytes / 1048576)) MiB) from $(ls "$WORK/src" | wc -l) collected hosts" >&2

P=$(nproc)
declare -A CMD
CMD[check-json]="$ESXUP check --facts-dir $WORK/facts --target $TARGET --format json"
CMD[check-table]="$ESXUP check --facts-dir $WORK/facts --target $TARGET"
CMD[report-html]="$ESXUP report --facts-dir $WORK/facts --target $TARGET -o $WORK/fleet.html"
CMD[report-csv]="$ESXUP report --facts-dir $WORK/facts --target $TARGET --format csv"
CMD[py-parse]="python3 scripts/bench/fleet_parse.py $WORK/facts"
CMD[py-parse-$P]="python3 scripts/bench/fleet_parse.py $WORK/facts --procs $P"
ORDER="check-json check-table report-html report-csv py-parse py-parse-$P"

declare -A BEST RSS
for name in $ORDER; do
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s%N)
    # Exit 1 is "some host blocked": a normal answer here.
    set +e
    /usr/bin/time -v -o "$WORK/time.txt" ${CMD[$name]} >"$WORK/$name.stdout" 2>"$WORK/$name.stderr"
    rc=$?
    set -e
    t1=$(date +%s%N)
    if [ "$rc" -gt 1 ]; then echo "bench: $name failed (rc $rc):" >&2; tail -5 "$WORK/$name.stderr" >&2; exit 2; fi
    w=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')
    r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
    if [ -z "${BEST[$name]:-}" ] || awk -v a="$w" -v b="${BEST[$name]}" 'BEGIN{exit !(a<b)}'; then BEST[$name]=$w; fi
    if [ -z "${RSS[$name]:-}" ] || [ "$r" -gt "${RSS[$name]}" ]; then RSS[$name]=$r; fi
  done
done

# The page in headless Chromium: time to the drawn, interactive table.
ready="-"
if command -v chromium >/dev/null; then
  best=""
  for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/profile"
    dom=$(timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
      --disable-component-update --disable-sync --no-first-run --user-data-dir="$WORK/profile" \
      --dump-dom "file://$WORK/fleet.html" 2>/dev/null || true)
    ms=$(printf '%s' "$dom" | grep -o 'data-ready-ms="[0-9]*"' | head -1 | grep -o '[0-9]*' || true)
    [ -n "$ms" ] && { [ -z "$best" ] || [ "$ms" -lt "$best" ]; } && best=$ms
  done
  ready=${best:--}
fi

echo
echo "esxup fleet benchmark: $N facts files ($((bytes / 1048576)) MiB), target $TARGET; best of $RUNS runs; $P CPUs"
echo "(html report $(( $(wc -c <"$WORK/fleet.html") / 1048576 )) MiB; check --format json wrote $(( $(wc -c <"$WORK/check-json.stdout") / 1048576 )) MiB)"
printf '%-12s %10s %14s  %s\n' command wall_s peak_rss_MiB "vs py-parse (wall)"
for name in $ORDER; do
  ratio=$(awk -v a="${BEST[$name]}" -v b="${BEST[py-parse]}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')
  printf '%-12s %10.3f %14.1f  %s\n' "$name" "${BEST[$name]}" "$(awk -v r="${RSS[$name]}" 'BEGIN{print r/1024}')" "$ratio"
done
echo "chromium: fleet.html drawn and interactive ${ready} ms after navigation start (data-ready-ms)"
