#!/usr/bin/env python3
"""The augmented Dickey-Fuller statistic the trainer reads (Selection.dickeyFuller), on the training
part of generated and shipped series: below Selection.MEAN_REVERTING_BELOW (-5) a level target needs
no margin over a change target (docs/BENCHMARKS.md). Only the training part is read.

The change of each reading is regressed on the previous reading, a constant, the day of year's sine
and cosine (only where the readings span a whole year) and LAGS changes before (default 7); the
statistic is the previous reading's t.

    ./forecast generate --kind KIND --days 1500 --seed S --output DIR/KIND-S.csv   (for each)
    /usr/bin/python3 bench/dickey-fuller.py DIR [LAGS]          (needs numpy; DIR/new-york.csv if there)
"""
import csv, datetime as dt, os, sys
import numpy as np


def statistic(days, y, lags):
    y = np.asarray(y)
    d = np.diff(y)
    angle = np.array([x.timetuple().tm_yday for x in days]) * 2 * np.pi / 365.25
    seasonal = (days[-1] - days[0]).days >= 364  # every day of the year seen
    rows, changes = [], []
    for i in range(lags + 1, len(y)):
        rows.append([1.0, y[i - 1]] + ([np.sin(angle[i]), np.cos(angle[i])] if seasonal else [])
                    + [d[i - 1 - j] for j in range(1, lags + 1)])
        changes.append(d[i - 1])
    x, t = np.array(rows), np.array(changes)
    beta = np.linalg.lstsq(x, t, rcond=None)[0]
    e = t - x @ beta
    cov = e @ e / (len(t) - x.shape[1]) * np.linalg.inv(x.T @ x)
    return beta[1] / np.sqrt(cov[1, 1])


def training_part(path, target, series_column=None, series=None, test_from=None):
    rows = [r for r in csv.DictReader(open(path))
            if (series is None or r[series_column] == series) and r.get(target) not in (None, "")]
    rows.sort(key=lambda r: r["date"])
    days = [dt.date.fromisoformat(r["date"]) for r in rows]
    values = [float(r[target]) for r in rows]
    end = (int(len(values) * 0.8) if test_from is None else
           next(i for i, d in enumerate(days) if d >= dt.date.fromisoformat(test_from)))
    return days[:end], values[:end]


def main():
    folder = sys.argv[1]
    lags = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    for kind in ("seasonal", "gaps", "weekly", "random-walk", "price", "regime"):
        found = []
        for seed in range(1, 100):
            path = f"{folder}/{kind}-{seed}.csv"
            if os.path.exists(path):
                found.append(statistic(*training_part(path, "value"), lags))
        if found:
            print(f"{kind:12s}", " ".join(f"{t:7.2f}" for t in found))
    home = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    print(f"{'Seattle':12s} {statistic(*training_part(f'{home}/data/seattle-weather.csv', 'temp_max', test_from='2015-03-16'), lags):7.2f}")
    print(f"{'S&P 500':12s} {statistic(*training_part(f'{home}/data/sp500-daily.csv', 'close'), lags):7.2f}")
    if os.path.exists(f"{folder}/new-york.csv"):
        print(f"{'New York':12s} {statistic(*training_part(f'{folder}/new-york.csv', 'temp_max', 'location', 'New York', '2015-03-16'), lags):7.2f}")


if __name__ == "__main__":
    main()
