#!/usr/bin/env bash
# Short histories with the column mapping alone (docs/BENCHMARKS.md, "Hansen's test"): slices of
# LEN days (default 120) of generated series (seasonal, gaps, regime, random-walk, price, weekly;
# seeds 1 and 2; offsets 0, 90, ..., 630 days) and of the shipped Seattle and S&P 500 files (every
# 90 rows: Seattle 2012-2015, the last slices reaching into its test period from 2015-03-16; the
# S&P 500 2000-2015), each trained with closed forms only, one horizon, the test part the last
# fifth of the windows:
#   bench/short-histories.sh OUT_DIR [SLICE ...]   (no slice names: all 126; about 8 minutes)
# OUT_DIR and BUILD are taken from the repository's root.
# LEN=240 for longer slices; BUILD=DIR runs DIR/forecast (another build) on the same slices.
# One line per slice in OUT_DIR/summary.txt: MAE, persistence's, their ratio, what was chosen, the
# p-value of Hansen's test, and FLIP where that test served persistence instead of the choice.
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: [LEN=240] [BUILD=DIR] bench/short-histories.sh OUT_DIR [SLICE ...]" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
repo=$PWD
build="${BUILD:-$repo}"
out="$1"; shift
len="${LEN:-120}"
d="$out/slices"; mkdir -p "$d"
slice() { # source csv, rows to skip after the header, output: the header and the next LEN rows
  awk -v skip="$2" -v n="$len" 'NR == 1 || (NR > skip + 1 && NR <= skip + 1 + n)' "$1" > "$3"
}
slices=()
for kind in ${KINDS:-seasonal gaps regime random-walk price weekly}; do
  for seed in 1 2; do
    [[ -f "$d/$kind-$seed.csv" ]] || ./forecast generate --kind "$kind" --days 1500 --seed "$seed" \
      --output "$d/$kind-$seed.csv" > /dev/null
    for start in 0 90 180 270 360 450 540 630; do
      slice "$d/$kind-$seed.csv" "$start" "$d/$kind-$seed-$start-$len.csv"
      slices+=("$kind-$seed-$start-$len")
    done
  done
done
for start in $(seq 0 90 1260); do
  slice data/seattle-weather.csv "$start" "$d/sea-$start-$len.csv"
  slices+=("sea-$start-$len")
  slice data/sp500-daily.csv $((start * 3)) "$d/spx-$start-$len.csv" # 2000-2012
  slices+=("spx-$start-$len")
done
[[ $# -gt 0 ]] && slices=("$@")
: > "$out/summary.txt"
for s in "${slices[@]}"; do
  case $s in
    sea-*) args=(--series-id SEA --time-column date --features temp_max,temp_min,precipitation,wind --target temp_max) ;;
    spx-*) args=(--series-id SP500 --time-column date --features open,high,low,close,adjclose,volume --target close) ;;
    *) args=(--series-column series --time-column date --features value,aux --target value) ;;
  esac
  rm -f "$out/$s.json" "$out/$s.err"
  FORECAST_LOG_LEVEL=info "$build/forecast" train --csv "$d/$s.csv" "${args[@]}" --budget 0s \
    --no-publish --horizons 1 --members 1 --metrics-json "$out/$s.json" > "$out/$s.txt" 2> "$out/$s.err" || true
  python3 - "$out/$s.json" "$s" "$out/$s.err" << 'PY' | tee -a "$out/summary.txt"
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    lines = open(sys.argv[3]).read().strip().splitlines() or ['no output']
    print(f"{sys.argv[2]:24s} failed: " + lines[-1][:150])
    sys.exit()
m, p, c = d['model']['mae'], d['persistence']['mae'], d['selection']['chosen']
flip = 'FLIP' if 'persistence served:' in open(sys.argv[3]).read() else ''
print(f"{sys.argv[2]:24s} model {m:10.4f} pers {p:10.4f} ratio {m / p:6.3f} {c['stage']} "
      f"{c['transform']} w{c['window']} y{int(c['yearly'])} r{c['ridge']} "
      f"p={d['selection'].get('superiorAbilityP', '-')} {flip}")
PY
done
