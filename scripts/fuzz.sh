#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...] — coverage-guided fuzzing (cargo-fuzz,
# libFuzzer, nightly) of every parser target in crates/esxup-fuzz, SECONDS
# each (default 600). The corpus of each target starts from the seeds the
# replay test uses (real fixtures of the other crates' tests). A crash is
# written to fuzz/artifacts/<target>/; add it as a seed case of the replay
# test (crates/esxup-fuzz/tests/replay.rs) when it is fixed. Every
# `cargo test` replays the seeds and deterministic mutations of them without
# libFuzzer, so CI needs no nightly.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
[ $# -gt 0 ] && shift
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
if [ $# -gt 0 ]; then targets=("$@"); else
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//' | sort)
fi
ESXUP_FUZZ_EXPORT="$PWD/fuzz/corpus" cargo test -q -p esxup-fuzz --test replay >/dev/null
printf '%-16s %12s %10s %s\n' target executions coverage result
for t in "${targets[@]}"; do
  log="fuzz/$t.log"
  set +e
  (cd fuzz && cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  if [ "$rc" = 0 ]; then res="no crash"; else res="CRASH (rc $rc, see $log and fuzz/artifacts/$t/)"; fi
  printf '%-16s %12s %10s %s\n' "$t" "${runs:-?}" "${cov:-?}" "$res"
done
