#!/usr/bin/env python3
"""How much better than least squares can any of several model families forecast a series one
reading ahead, on rolling origins inside its training period? (docs/BENCHMARKS.md)

An upper bound on what choosing a method can gain, not a model: every family gets a small grid and
the best configuration of each is reported on the same origins it was picked on (an optimistic
figure). The test period is never read. The origins are the trainer's (Selection): three, each
scoring the next tenth of the training period, each fit on everything before it.

  /usr/bin/python3 bench/method-bound.py --csv FILE --series-column COL --series NAME \
      --features a,b,c --target b [--test-from YYYY-MM-DD]        (else the last 20% is the test)

Needs numpy and scikit-learn (Debian: apt-get install python3-sklearn).
"""
import argparse, csv, datetime as dt, warnings
import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor

warnings.filterwarnings("ignore")


def read(a):
    rows = [r for r in csv.DictReader(open(a.csv)) if r[a.series_column] == a.series]
    rows.sort(key=lambda r: r[a.time_column])
    days = [dt.date.fromisoformat(r[a.time_column]) for r in rows]
    feats = a.features.split(",")
    x = np.array([[float(r[c]) for c in feats] for r in rows])
    return days, x, feats.index(a.target)


def design(days, x, target, window, end, periodic):
    """Windows of the standardised features (statistics of the training period), the calendar
    (sine and cosine of the day of year, day of week), and for `periodic` the target's lags times
    the calendar's sine and cosine; the target's next reading, and persistence."""
    mu, sd = x[:end].mean(0), x[:end].std(0) + 1e-9
    z = (x - mu) / sd
    rows, ys, base, at = [], [], [], []
    for t in range(window, len(days)):
        w = z[t - window:t]
        doy = days[t].timetuple().tm_yday / 365.25 * 2 * np.pi
        cal = [np.sin(doy), np.cos(doy)]
        dow = [1.0 if days[t].weekday() == k else 0.0 for k in range(6)]
        f = list(w.ravel()) + cal + dow
        if periodic:
            f += list(w[:, target] * cal[0]) + list(w[:, target] * cal[1])
        rows.append(f)
        ys.append(x[t, target])
        base.append(x[t - 1, target])
        at.append(t)
    return np.array(rows), np.array(ys), np.array(base), np.array(at)


def main():
    p = argparse.ArgumentParser()
    for o in ("--csv", "--series-column", "--series", "--features", "--target"):
        p.add_argument(o, required=True)
    p.add_argument("--time-column", default="date")
    p.add_argument("--test-from")
    a = p.parse_args()
    days, x, target = read(a)
    end = (next(i for i, d in enumerate(days) if d >= dt.date.fromisoformat(a.test_from))
           if a.test_from else int(len(days) * 0.8))
    share = int(end * 0.10)
    origins = [(end - (3 - j) * share, end - (2 - j) * share) for j in range(3)]

    def errors(make, window=7, periodic=False, change=False):
        f, y, b, at = design(days, x, target, window, end, periodic)
        out = []
        for lo, hi in origins:
            tr, va = at < lo, (at >= lo) & (at < hi)
            m = make()
            m.fit(f[tr], (y - b)[tr] if change else y[tr])
            out.append(m.predict(f[va]) + (b[va] if change else 0))
        pred = np.concatenate(out)
        actual = np.concatenate([y[(at >= lo) & (at < hi)] for lo, hi in origins])
        return pred, actual

    families = {
        "least squares (window 7, calendar)": [lambda: Ridge(alpha=1e-6)],
        "ridge, windows 7 and 14": [lambda r=r: Ridge(alpha=r) for r in (1, 10, 100)],
        "periodic autoregression": [lambda r=r: Ridge(alpha=r) for r in (1e-6, 1, 10)],
        "gradient boosting": [
            lambda lr=lr, n=n: HistGradientBoostingRegressor(
                max_iter=n, learning_rate=lr, max_leaf_nodes=15, random_state=0)
            for lr, n in ((0.05, 200), (0.03, 400), (0.1, 100))],
        "random forest": [
            lambda l=l: RandomForestRegressor(
                n_estimators=300, min_samples_leaf=l, random_state=0, n_jobs=1) for l in (5, 20)],
        "nearest neighbours": [lambda k=k: KNeighborsRegressor(n_neighbors=k) for k in (20, 50)],
        "multilayer perceptron": [
            lambda h=h: MLPRegressor(hidden_layer_sizes=(h,), alpha=1.0, max_iter=3000,
                                     random_state=0, early_stopping=True) for h in (8, 32)],
    }
    ls, actual = errors(families["least squares (window 7, calendar)"][0])
    f, y, b, at = design(days, x, target, 7, end, False)
    persistence = np.concatenate([b[(at >= lo) & (at < hi)] for lo, hi in origins])
    best = {}
    for name, makes in families.items():
        tries = []
        for make in makes:
            for change in (False, True):
                if name.startswith("ridge"):
                    for w in (7, 14):
                        tries.append(errors(make, window=w, change=change)[0])
                else:
                    tries.append(errors(make, periodic=name.startswith("periodic"),
                                        change=change)[0])
        best[name] = min(tries, key=lambda pr: np.abs(pr - actual).mean())
    mae = lambda pr: np.abs(pr - actual).mean()
    base = min(mae(ls), mae(persistence))
    print(f"{a.series} {a.target}: {len(actual)} readings on 3 origins before reading {end} "
          f"({days[end]}); least squares {mae(ls):.4f}, persistence {mae(persistence):.4f}")
    print(f"  {'family (best of its grid)':44s} {'MAE':>8s} {'/ min':>7s}")
    for name, pr in best.items():
        print(f"  {name:44s} {mae(pr):8.4f} {mae(pr) / base:7.3f}")
    others = [n for n in best if not n.startswith("least")]
    combo = np.mean([best[n] for n in others], axis=0)
    print(f"  {'mean of the six others':44s} {mae(combo):8.4f} {mae(combo) / base:7.3f}")


if __name__ == "__main__":
    main()
