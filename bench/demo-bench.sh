#!/usr/bin/env bash
# The demo's wall time, another build against this one, interleaved (docs/BENCHMARKS.md):
#   git worktree add /tmp/old <commit>; (cd /tmp/old && ./mvnw -B -q package -DskipTests)
#   bench/demo-bench.sh /tmp/old [OUT_DIR] [REPEATS]
# Runs quick-old, quick-new, full-new, full-old REPEATS times (default 2); one line per run
# ("time label seconds") in OUT_DIR/times.txt, each run's console and --summary-json beside it.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
old="${1:?a checkout of the build to compare, built}"
out="${2:-$here/out/demo-bench}"
repeats="${3:-2}"
mkdir -p "$out"
export DJL_CACHE_DIR="${DJL_CACHE_DIR:-$here/.djl-cache}"
run() { # label, checkout, demo flags
  local label=$1 dir=$2; shift 2
  local start end
  start=$(date +%s.%N)
  (cd "$dir" && ./forecast demo "$@" --report "$out/$label.html" --summary-json "$out/$label.json" \
    > "$out/$label.log" 2>&1)
  end=$(date +%s.%N)
  printf "%s %s %.1f\n" "$(date -u +%T)" "$label" "$(echo "$end - $start" | bc)" | tee -a "$out/times.txt"
}
for i in $(seq 1 "$repeats"); do
  run "quick-old-$i" "$old" --quick
  run "quick-new-$i" "$here" --quick
  run "full-new-$i" "$here"
  run "full-old-$i" "$old"
done
