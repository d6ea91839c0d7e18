#!/usr/bin/env bash
# scripts/bench-depot.sh — depot engine benchmark (issue 4, "Performance").
#
# Generates the full-size synthetic depot (scripts/gen-synthetic-depot.py:
# ~1,500 image profiles, ~25,000 VIBs, real schema) into a temporary
# directory, then, side by side in one run:
#   python-parse   python3 xml.etree.ElementTree merely parsing the XML files
#                  esxup reads (index, vendor index, vibs/, bulletins/,
#                  profiles/ of every metadata zip, read with zipfile)
#   esxup-cold     esxup: open the depot (parse everything) and dry-run the
#                  6.7 P06-like host against every profile (every VIB
#                  decided, every problem reported; the per-VIB reason texts
#                  are not rendered: esxup renders them for what it prints)
#   esxup-cold-render  the same, rendering every transaction in full
#                  (every reason text of all 1,500 dry-runs)
#   esxup-snapshot the same as esxup-cold, writing parsed-metadata snapshots
#   esxup-warm     the same again, loading the snapshots (a cached run)
#   python-read    python3 zipfile merely reading (inflating) those members,
#                  nothing parsed: how much of python-parse is inflating
#   inflate-floor  esxup's inflater (libdeflate) merely inflating the same
#                  members on every core after reading the zips' central
#                  directories with the zip crate, nothing parsed
#                  (examples/inflate_floor.rs): a floor under any cold run
# Each is timed with /usr/bin/time -v (wall clock, peak RSS), BENCH_RUNS
# times (default 5, interleaved); the table shows medians of the wall times.
#
#   scripts/bench-depot.sh            full size
#   scripts/bench-depot.sh --small    a quick smoke run
set -euo pipefail
cd "$(dirname "$0")/.."

gen_args=()
[ "${1:-}" = "--small" ] && gen_args=(--small)
command -v python3 >/dev/null || { echo "bench-depot: python3 missing: run scripts/test.sh --setup-only" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench-depot: installing time" >&2; apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "generating the synthetic depot in $work/depot ..." >&2
python3 scripts/gen-synthetic-depot.py "$work/depot" "${gen_args[@]}" >"$work/gen.json"
cat "$work/gen.json" >&2

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
echo "building the benchmark driver (release) ..." >&2
cargo build --release -q -p esxup-depot --example bench_depot --example inflate_floor
bin="$CARGO_TARGET_DIR/release/examples/bench_depot"
floor="$CARGO_TARGET_DIR/release/examples/inflate_floor"

cat >"$work/parse.py" <<'EOF'
import os, sys, time, zipfile
import xml.etree.ElementTree as ET
t = time.time()
root = sys.argv[1]
# --read-only: inflate the members, parse nothing (the member list still
# comes from parsing the two small index files).
read_only = len(sys.argv) > 2 and sys.argv[2] == "--read-only"
n = b = 0
def parse(data):
    global n, b
    if not read_only:
        ET.fromstring(data)
    n += 1
    b += len(data)
parse(open(os.path.join(root, "index.xml"), "rb").read())
vi = open(os.path.join(root, "vmw", "vmw-depot-index.xml"), "rb").read()
parse(vi)
for url in ET.fromstring(vi).iter("url"):
    with zipfile.ZipFile(os.path.join(root, "vmw", url.text)) as z:
        names = z.namelist()
        # The same files esxup parses: vmware.xml is skipped when vibs/ and
        # bulletins/ are present (it repeats them).
        for name in names:
            if name.endswith(".xml") and name != "vmware.xml":
                parse(z.read(name))
print('{"files": %d, "xml_bytes": %d, "parse_s": %.3f}' % (n, b, time.time() - t))
EOF

host="$work/depot/hosts/6.7-P06-like.viblist"
runs=${BENCH_RUNS:-5}
measure() { # name, command... -> "name wall_s rss_kb" (one run)
  local name=$1; shift
  /usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.time"
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$name.time" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
  echo "$name $wall $rss"
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# The snapshot-writing run needs an empty snapshot directory each time; the
# warm runs reuse what the last one wrote. Runs are interleaved (round
# robin) so that a change in the machine's load hits every variant alike.
: >"$work/all.txt"
for i in $(seq "$runs"); do
  rm -rf "$work/snapshots"
  measure python-parse python3 "$work/parse.py" "$work/depot" >>"$work/all.txt"
  measure esxup-cold "$bin" "$work/depot" "$host" >>"$work/all.txt"
  measure esxup-cold-render env ESXUP_BENCH_RENDER=1 "$bin" "$work/depot" "$host" >>"$work/all.txt"
  measure esxup-snapshot "$bin" "$work/depot" "$host" "$work/snapshots" >>"$work/all.txt"
  measure esxup-warm "$bin" "$work/depot" "$host" "$work/snapshots" >>"$work/all.txt"
  measure python-read python3 "$work/parse.py" "$work/depot" --read-only >>"$work/all.txt"
  measure inflate-floor "$floor" "$work/depot" >>"$work/all.txt"
  echo "run $i/$runs done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

xml_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["xml_bytes"])' "$work/gen.json")
names="python-parse esxup-cold esxup-cold-render esxup-snapshot esxup-warm python-read inflate-floor"
py_wall=$(awk '$1 == "python-parse" {print $2}' "$work/all.txt" | median)
echo
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); medians of $runs runs"
echo "depot: $(cat "$work/gen.json")"
printf '%-18s %9s %9s %9s %12s %16s %12s\n' run wall_s min_s max_s peak_rss_MB speedup_vs_python rss/xml
for n in $names; do
  w=$(awk -v n="$n" '$1 == n {print $2}' "$work/all.txt" | median)
  lo=$(awk -v n="$n" '$1 == n {print $2}' "$work/all.txt" | sort -g | head -1)
  hi=$(awk -v n="$n" '$1 == n {print $2}' "$work/all.txt" | sort -g | tail -1)
  k=$(awk -v n="$n" '$1 == n {print $3}' "$work/all.txt" | sort -g | tail -1)
  awk -v n="$n" -v w="$w" -v lo="$lo" -v hi="$hi" -v k="$k" -v p="$py_wall" -v x="$xml_bytes" \
    'BEGIN { printf "%-18s %9.3f %9.3f %9.3f %12.1f %16.1f %12.2f\n", n, w, lo, hi, k/1024, (w > 0 ? p/w : 0), k*1024/x }'
done
echo "(peak_rss_MB: the largest of the runs; the 20x goal is a wall time of $(awk -v p="$py_wall" 'BEGIN { printf "%.3f", p/20 }') s)"
echo
for f in $names; do echo "$f (last run): $(cat "$work/$f.out")"; done
