#!/usr/bin/env bash
# Accuracy benchmark (docs/BENCHMARKS.md): the trainer on the shipped data with its presets and with
# the column mapping alone (the form chosen on the history before the test part), on generated
# series of every kind, and, when npm can fetch it, on a weather station it was never tuned on
# (New York, from the vega-datasets package that also has the shipped Seattle rows).
#   bench/accuracy.sh [OUT_DIR] [--quick]      (default out/bench; about 40 minutes on 2 cores)
# SEEDS="4 5 6" KINDS="seasonal price" ONLY=generated bench/accuracy.sh OUT_DIR: other seeds and
# kinds of generated series only (the defaults: seeds 1 2 3, every kind, everything).
# R_DATASETS=1 bench/accuracy.sh OUT_DIR: also the daily series that ship with R (bench/r-datasets.R;
# needs Rscript with the forecast and tseries packages), GRU and LSTM, about 15 minutes more;
# ONLY=r bench/accuracy.sh OUT_DIR: those alone.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/bench}"
quick="${2:-}"
mkdir -p "$out/data"

run() { # name, then train flags: one line "name model persistence linear ratio-to-persistence ratio-to-min"
  local name=$1; shift
  ./forecast train "$@" --no-publish --metrics-json "$out/$name.json" > "$out/$name.txt" 2> "$out/$name.err"
  awk -v n="$name" '
    /^  model /        { m = $2 }
    /^  persistence /  { p = $2 }
    /^  linear \(OLS\)/ { l = $3 }
    /^chosen: /        { sub(/^chosen: +/, ""); c = $0 }
    END { b = (p < l ? p : l); printf "%-22s model %9.4f  persistence %9.4f  linear %9.4f  model/persistence %.3f  model/min %.3f  %s\n", n, m, p, l, m / p, m / b, c }
  ' "$out/$name.txt" | tee -a "$out/summary.txt"
}

r_datasets() { # the daily series that ship with R (bench/r-datasets.R), the mapping alone
  Rscript bench/r-datasets.R "$out/data"
  local d="$out/data" arch target
  for arch in gru lstm; do
    run "eu-stocks-$arch" --csv "$d/eu-stocks.csv" --series-column index --time-column date \
      --features close --target close --arch "$arch"
    run "gold-$arch" --csv "$d/gold.csv" --series-column series --time-column date \
      --features price --target price --arch "$arch"
    run "tcm10y-$arch" --csv "$d/tcm10y.csv" --series-column series --time-column date \
      --features yield --target yield --arch "$arch"
    for target in flow.vat flow.jok temp; do
      run "ice-$target-$arch" --csv "$d/ice-river.csv" --series-column station --time-column date \
        --features flow.vat,flow.jok,prec,temp --target "$target" --arch "$arch"
    done
  done
}

: > "$out/summary.txt"
if [[ "${ONLY:-}" == r ]]; then
  r_datasets
  exit 0
fi
seattle=(--csv data/seattle-weather.csv --series-column location --time-column date
         --features precipitation,temp_max,temp_min,wind --target temp_max --test-from 2015-03-16)
sp500=(--csv data/sp500-daily.csv --series-id SP500 --time-column date
       --features open,high,low,close,adjclose,volume --target close)

echo "MAE on the test windows; details in $out/"
for arch in gru lstm; do
  [[ "${ONLY:-}" == generated ]] && break
  run "weather-preset-$arch" --preset weather --arch "$arch" --test-from 2015-03-16
  run "stock-preset-$arch"   --preset stock   --arch "$arch"
  run "seattle-mapping-$arch" "${seattle[@]}" --arch "$arch"
  run "sp500-mapping-$arch"   "${sp500[@]}" --arch "$arch"
done

# generated series: every kind, several seeds
read -r -a seeds <<< "${SEEDS:-1 2 3}"
[[ "$quick" == --quick ]] && seeds=(1)
read -r -a kinds <<< "${KINDS:-random-walk price seasonal weekly regime gaps}"
for kind in "${kinds[@]}"; do
  for seed in "${seeds[@]}"; do
    f="$out/data/$kind-$seed.csv"
    ./forecast generate --kind "$kind" --days 1500 --seed "$seed" --output "$f" > /dev/null
    run "$kind-$seed" --csv "$f" --series-column series --time-column date --features value,aux --target value
  done
done

# a weather station nobody tuned for: New York in vega-datasets' weather.csv (npm)
[[ "${ONLY:-}" == generated ]] && exit 0
if [[ ! -f "$out/data/weather.csv" ]] && command -v npm > /dev/null; then
  (cd "$out/data" && npm pack --silent vega-datasets@3.2.1 > /dev/null 2>&1 \
    && tar xzf vega-datasets-3.2.1.tgz package/data/weather.csv && mv package/data/weather.csv . \
    && rm -rf package vega-datasets-3.2.1.tgz) || true
fi
if [[ -f "$out/data/weather.csv" ]]; then
  grep -E '^(location|New York),' "$out/data/weather.csv" > "$out/data/new-york.csv"
  for arch in gru lstm; do
    run "new-york-mapping-$arch" --csv "$out/data/new-york.csv" --series-column location --time-column date \
      --features precipitation,temp_max,temp_min,wind --target temp_max --arch "$arch"
  done
fi
if [[ "${R_DATASETS:-}" == 1 ]]; then
  r_datasets
fi
