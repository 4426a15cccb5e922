#!/usr/bin/env python3
"""A least-squares form the trainer does not have yet, checked on generated seasonal series.

The generated seasonal series (SeriesGenerator) have a day-to-day persistence that follows the
season, so the best forecast is a periodic autoregression: yesterday's value times a coefficient
that moves with the day of the year. This fits, by ordinary least squares and with numpy only,
the last W values plus the day of year's sine and cosine (what the search's least-squares form
with the calendar reads) and, added to them, the second harmonic and yesterday's value times the
sine and cosine. Fit on the first 85% of the history before the test part (the last 20%), scored
on the rest of it (validation), then refitted on all of it and scored once on the test part, as
the trainer does:

    for s in 1 2 3; do ./forecast generate --kind seasonal --days 1500 --seed $s \
        --output /tmp/par/seasonal-$s.csv; done
    python3 bench/periodic-ar.py /tmp/par/seasonal-{1,2,3}.csv

Prints validation and test MAE per form and window; the trainer's numbers to compare with are in
docs/BENCHMARKS.md (least squares 1.6910 / 1.9891 / 1.7293 on the same test days).
"""
import csv, datetime, sys
import numpy as np


def load(path):
    rows = list(csv.DictReader(open(path)))
    days = [datetime.date.fromisoformat(r["date"]) for r in rows]
    values = np.array([float(r["value"]) if r["value"] not in ("", "NaN") else np.nan for r in rows])
    return days, values


def design(days, v, targets, periodic, window):
    rows = []
    for t in targets:
        a = 2 * np.pi * days[t].timetuple().tm_yday / 365.25
        row = [1.0] + [v[t - k] for k in range(1, window + 1)] + [np.sin(a), np.cos(a)]
        if periodic:
            row += [np.sin(2 * a), np.cos(2 * a), v[t - 1] * np.sin(a), v[t - 1] * np.cos(a)]
        rows.append(row)
    return np.array(rows)


def scores(days, v, periodic, window):
    n = len(v)
    test0 = int(n * 0.8)
    val0 = int(test0 * 0.85)
    windows = lambda a, b: [t for t in range(max(a, window), b) if not np.isnan(v[t - window:t + 1]).any()]
    train, val, test = windows(0, val0), windows(val0, test0), windows(test0, n)
    fit = lambda ts: np.linalg.lstsq(design(days, v, ts, periodic, window), v[ts], rcond=None)[0]
    mae = lambda b, ts: float(np.mean(np.abs(design(days, v, ts, periodic, window) @ b - v[ts])))
    return mae(fit(train), val), mae(fit(train + val), test)


print("series            form                 window  validation  test")
for path in sys.argv[1:]:
    days, v = load(path)
    for periodic in (False, True):
        for window in (1, 2, 7):
            val, test = scores(days, v, periodic, window)
            form = "calendar + periodic" if periodic else "calendar"
            print(f"{path.split('/')[-1]:17s} {form:20s} {window:6d}  {val:10.4f}  {test:.4f}")
