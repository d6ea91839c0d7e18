#!/usr/bin/env bash
# scripts/bench-parsers.sh — hand-written parsers vs library crates (issue 14,
# "Library parsers").
#
# On the full-size synthetic depot (scripts/gen-synthetic-depot.py, the one
# scripts/bench-depot.sh uses: ~1,500 profiles, ~25,000 VIBs, ~65 MB of
# metadata XML), one thread, everything in memory:
#   xml   crates/esxup-depot/examples/xml_bench.rs: src/minixml.rs (the tree
#         it builds; and vibs/*.xml read into Vibs by xml.rs) against
#         quick-xml (its event loop with every attribute and text unescaped;
#         and a streaming quick-xml reader producing the same Vibs, checked
#         equal first with --check)
#   hash  crates/esxup-depot/examples/hash_bench.rs: the tables of
#         src/fasthash.rs on the depot's real keys (VIB ids, VIB names, the
#         per-dry-run name tables) with esxup's FNV-style hasher (name_hash
#         for the dry-run tables) against rustc-hash (Fx), foldhash and
#         std's SipHash-1-3
# Each is measured twice: wall clock (best and median of BENCH_RUNS runs,
# default 7; noisy on a shared machine) and instructions under
# valgrind --tool=callgrind, counted only inside the measured function
# (repeatable whatever else the machine runs). Then a table.
#
#   scripts/bench-parsers.sh           full size (callgrind part: a few minutes)
#   scripts/bench-parsers.sh --small   a quick smoke run
#   BENCH_NO_CALLGRIND=1 scripts/bench-parsers.sh   wall clock only
#
# The depot, its key list and the raw results are kept under
# target/bench-parsers/ (BENCH_PARSERS_DIR) and reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

small=()
[ "${1:-}" = "--small" ] && small=(--small)
command -v python3 >/dev/null || { echo "bench-parsers: python3 missing: run scripts/test.sh --setup-only" >&2; exit 2; }
if [ -z "${BENCH_NO_CALLGRIND:-}" ] && ! command -v valgrind >/dev/null; then
  echo "bench-parsers: valgrind missing (apt-get install valgrind), or set BENCH_NO_CALLGRIND=1" >&2
  exit 2
fi

dir=${BENCH_PARSERS_DIR:-$PWD/target/bench-parsers}
depot=$dir/depot${small[0]:+-small}
res=$dir/results${small[0]:+-small}
runs=${BENCH_RUNS:-7}
mkdir -p "$dir" "$res"
rm -f "$res"/*

if [ ! -f "$depot/index.xml" ] || [ ! -s "$depot.gen.json" ]; then
  echo "generating the synthetic depot in $depot ..." >&2
  rm -rf "$depot"
  python3 scripts/gen-synthetic-depot.py "$depot" "${small[@]}" >"$depot.gen.json"
fi
cat "$depot.gen.json" >&2

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
echo "building the benchmark drivers (release) ..." >&2
cargo build --release -q -p esxup-depot --example xml_bench --example hash_bench
bin="$CARGO_TARGET_DIR/release/examples"
keys=$depot.keys.txt
if [ ! -s "$keys" ] || [ "$depot/index.xml" -nt "$keys" ]; then
  "$bin/hash_bench" "$depot" --write-keys "$keys"
fi

echo "checking that the quick-xml VIB reader gives what xml.rs gives ..." >&2
"$bin/xml_bench" "$depot" --check | tee "$res/check.json" >&2
"$bin/xml_bench" --refusals >"$res/refusals.txt"

echo "wall clock ($runs runs each) ..." >&2
"$bin/xml_bench" "$depot" --kind all --runs "$runs" >"$res/xml-all.wall"
"$bin/xml_bench" "$depot" --kind vib --variant minixml,qx-events,qx-raw --runs "$runs" >"$res/xml-vib.wall"
"$bin/hash_bench" "$keys" --runs "$((runs + 2))" >"$res/hash.wall" 2>"$res/hash.keys"

# One callgrind run per driver: collection is on only inside FN (the
# measured function) and a profile is dumped each time FN returns, so that
# dump N (NAME.cg.N) is the Nth measured pass, in the order the driver
# prints its JSON lines.
cg() { # NAME FN COMMAND...
  local name=$1 fn=$2
  shift 2
  valgrind --tool=callgrind --callgrind-out-file="$res/$name.cg" --collect-atstart=no \
    --toggle-collect="$fn" --dump-after="$fn" "$@" >"$res/$name.cgjson" 2>"$res/$name.cglog"
}
if [ -z "${BENCH_NO_CALLGRIND:-}" ]; then
  echo "instruction counts (callgrind; minutes) ..." >&2
  cg xml-all xml_bench::measured "$bin/xml_bench" "$depot" --kind all --runs 1
  cg xml-vib xml_bench::measured "$bin/xml_bench" "$depot" --kind vib --variant minixml,qx-events,qx-raw --runs 1
  cg hash hash_bench::measured "$bin/hash_bench" "$keys" --runs 1 --reps 1
fi

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "depot: $(cat "$depot.gen.json")"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); rustc $(rustc --version | cut -d' ' -f2); wall: best (median) of $runs runs, one thread"
python3 - "$res" <<'EOF'
import json, os, sys
res = sys.argv[1]

def lines(name):
    p = os.path.join(res, name)
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []

def dumps(name, n):
    """Instructions of the measured passes 1..n of a callgrind run."""
    out = []
    for i in range(1, n + 1):
        p = os.path.join(res, "%s.cg.%d" % (name, i))
        tot = None
        if os.path.exists(p):
            for l in open(p):
                if l.startswith("totals:"):
                    tot = int(l.split()[1])
        out.append(tot)
    return out

def with_instr(name):
    cg = lines(name + ".cgjson")
    return {(tuple(sorted((k, v) for k, v in d.items() if k in ("variant", "kind", "workload", "hasher")))): (d, i)
            for d, i in zip(cg, dumps(name, len(cg)))}

print()
print("XML (%s)" % "MB = 10^6 bytes of XML text")
print("%-12s %-5s %7s %6s %9s %9s %8s %10s %9s" % ("reader", "docs", "docs_n", "MB", "best_s", "median_s", "MB/s", "Minstr", "instr/B"))
for name in ("xml-all", "xml-vib"):
    cg = with_instr(name)
    for d in lines(name + ".wall"):
        if d["variant"] == "load":
            continue
        key = tuple(sorted((k, v) for k, v in d.items() if k in ("variant", "kind")))
        ins = cg.get(key, (None, None))[1]
        print("%-12s %-5s %7d %6.1f %9.4f %9.4f %8.1f %10s %9s" % (
            d["variant"], d["kind"], d["docs"], d["bytes"] / 1e6, d["best_s"], d["median_s"], d["mb_s"],
            "%.0f" % (ins / 1e6) if ins else "-", "%.2f" % (ins / d["bytes"]) if ins else "-"))
print()
print("Hash tables (op = one insert or lookup; %s)" % open(os.path.join(res, "hash.keys")).read().strip())
print("%-8s %-11s %9s %9s %10s %11s %9s" % ("workload", "hasher", "ops/rep", "ns/op", "median_ns", "instr/op", "vs_fnv"))
cg = with_instr("hash")
base = {}
rows = []
for d in lines("hash.wall"):
    key = tuple(sorted((k, v) for k, v in d.items() if k in ("workload", "hasher")))
    c = cg.get(key)
    ipo = c[1] / c[0]["ops"] if c and c[1] else None
    if d["hasher"] == "fnv":
        base[d["workload"]] = ipo
    rows.append((d, ipo))
for d, ipo in rows:
    b = base.get(d["workload"])
    med = d["median_s"] * 1e9 / d["ops"]
    print("%-8s %-11s %9d %9.2f %10.2f %11s %9s" % (
        d["workload"], d["hasher"], d["ops"] // d["reps"], d["ns_per_op"], med,
        "%.1f" % ipo if ipo else "-", "%.2f" % (ipo / b) if ipo and b else "-"))
print()
print("(dryrun/fnv is the crate's name_hash; fnv-words is FastHasher there. instr: callgrind, inside the")
print(" measured pass only. Raw results: %s)" % res)
EOF
echo
echo "DTD / entity refusal (minixml; bare quick-xml events; the quick-xml VIB reader):"
cat "$res/refusals.txt"
