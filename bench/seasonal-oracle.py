#!/usr/bin/env python3
"""How close the trainer comes to the best possible forecast of the generated seasonal series.

`forecast generate --kind seasonal` draws v(d) = 14 + 8 s(d) + n(d), s(d) = sin(2 pi doy/365.25 + phase),
n(d) = (0.55 + 0.35 s(d)) n(d-1) + (2.2 - 0.8 s(d)) e(d) (SeriesGenerator). Knowing that process, the
best one-day-ahead forecast is 14 + 8 s(d) + (0.55 + 0.35 s(d)) n(d-1): the "oracle" here, with the
cycle's phase fitted on the whole series (1,500 days make it exact to a fraction of a degree). Its MAE on
the test days of a run of bench/accuracy.sh, against the trainer's model, persistence and least squares
on the same days, read from that run's JSON:

    python3 bench/seasonal-oracle.py out/bench12c [SEEDS, e.g. 4,5,6]     (needs numpy)
"""
import csv, datetime, json, sys
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "out/bench"
print("seed  oracle   model    persistence  least-squares  oracle/min  model/min  model/oracle")
for seed in [int(a) for a in (sys.argv[2].split(",") if len(sys.argv) > 2 else ["1", "2", "3"])]:
    try:
        run = json.load(open(f"{out}/seasonal-{seed}.json"))
    except FileNotFoundError:
        continue
    rows = list(csv.DictReader(open(f"{out}/data/seasonal-{seed}.csv")))
    days = [datetime.date.fromisoformat(r["date"]) for r in rows]
    v = np.array([float(r["value"]) for r in rows])
    angle = 2 * np.pi * np.array([d.timetuple().tm_yday for d in days]) / 365.25
    a, b = np.linalg.lstsq(np.c_[np.sin(angle), np.cos(angle)], v - 14, rcond=None)[0]
    s = (a * np.sin(angle) + b * np.cos(angle)) / 8
    n = v - 14 - 8 * s
    test_from = datetime.date.fromisoformat(run["testFrom"])
    errors = [abs(v[t] - (14 + 8 * s[t] + (0.55 + 0.35 * s[t]) * n[t - 1]))
              for t in range(1, len(v)) if days[t] >= test_from and (days[t] - days[t - 1]).days == 1]
    oracle = float(np.mean(errors))
    model, pers, ls = run["model"]["mae"], run["persistence"]["mae"], run["linear"]["mae"]
    best = min(pers, ls)
    print(f"{seed:>4}  {oracle:.4f}  {model:.4f}  {pers:.4f}       {ls:.4f}         "
          f"{oracle / best:.3f}       {model / best:.3f}      {model / oracle:.3f}")
