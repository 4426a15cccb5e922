#!/usr/bin/env bash
# Accuracy benchmark: GRU and LSTM on the shipped weather and stock data, each against
# persistence and least squares on the same chronological test windows. No broker needed.
#   bench/accuracy.sh [OUT_DIR]      (default out/bench; about 3 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/bench}"
mkdir -p "$out"

run() { # name, then train flags
  local name=$1; shift
  ./forecast train "$@" --no-publish --metrics-json "$out/$name.json" --chart "$out/$name.png" \
    > "$out/$name.txt"
  printf '%-14s %s\n' "$name" "$(grep -E '^  (model|persistence|linear)' "$out/$name.txt" \
    | awk '{printf "%s %s  ", $1, $(NF-2)}')"
}

echo "MAE on the test windows (model, persistence, linear); details in $out/"
run weather-gru  --preset weather --arch gru  --test-from 2015-03-16
run weather-lstm --preset weather --arch lstm --test-from 2015-03-16
run stock-gru    --preset stock   --arch gru
run stock-lstm   --preset stock   --arch lstm
