"""Held-out quality of the estimators' defaults beside scikit-learn's MLP, and a race against
Adam, each over several seeds.

    python bench/bench_quality.py [--sets spirals,circles,moons,xor,digits,teacher]
                                  [--seeds 5] [--threads 2] [--params JSON] [--per-seed]

--params sets estimator parameters for every set (e.g. '{"memory": 0}' for the FR direction).

For every data set and seed s (0, 1, ...): a 75/25 split drawn with seed s; the estimator
with its defaults (random_state s) and scikit-learn's MLPClassifier (MLPRegressor for the
teacher) with its defaults on standardised inputs (random_state s); held-out accuracy (the
teacher: relative output error on held-out inputs).

The race: NCG with the defaults but without early stopping (the weight decay fixed: the
optimiser alone, on all training samples), then Adam on the same network from the same
initial weights, with the same number of gradient evaluations as that NCG run (all of them: no
early stop), at each learning rate of
LRS; the lowest final training cost among them is the bar. Reported: the wall time of that
Adam run, and the wall time NCG took to reach the bar (from its history; the cost recorded at
an iteration is reached by the end of it, so the figure never flatters NCG), or "not
reached". The runs are side by side in one process with the same threads; NCG wins a seed
when it reaches the bar sooner.

Every figure is a median with its range [min-max] over the seeds. digits and the MLP need
scikit-learn.
"""
import argparse
import json
import time
import warnings

import numpy as np

import snode
from snode import datasets as ds

SETS = {
    "spirals": lambda: ds.spirals(1000, seed=0),
    "circles": lambda: ds.circles(1000, seed=0),
    "moons": lambda: ds.moons(1000, seed=0),
    "xor": lambda: ds.xor(1000, seed=0),
    "digits": ds.digits,
    "teacher": lambda: ds.teacher(1000, width=4, n_steps=20, seed=0)[:2],
}
# settings that are not the estimator's defaults: the teacher is an inverse problem (width 4
# over T = 1, as the teacher; inputs in [-1, 1] and targets as they are; a longer full-batch
# run, every sample and no weight decay: the teacher's weights are to be found, not smoothed)
PARAMS = {"teacher": dict(width=4, n_steps=20, T=1.0, scale="none", target_scale="none",
                          max_iter=2000, early_stopping=False, decay=0.0)}
LRS = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
EXTRA = {}  # --params: estimator settings for every set (the NCG run and Adam's)


def held_out(est, X, y):
    if isinstance(est, snode.SNODEClassifier) or hasattr(est, "classes_"):
        return est.score(X, y)
    return float(np.linalg.norm(est.predict(X) - y) / np.linalg.norm(y))


def full_cost(est, X, y):
    """The estimator's training cost on all of (X, y) at its current weights."""
    Xs = est.initial_state(X)
    decay = est.decay_  # (the decay of the weights kept)
    if isinstance(est, snode.SNODEClassifier):
        C = len(est.classes_)
        labels = np.searchsorted(est.classes_, y)
        cost = (snode.Cost(mse=0.0, ce=1.0, n_classes=C, decay=decay) if est.loss == "ce"
                else snode.Cost(mse=1.0, n_classes=C, decay=decay))
        return cost(est.net_, Xs, labels=labels)
    Y = est.target_scaler_.transform(y if y.ndim == 2 else y[:, None])  # (training units)
    return snode.Cost(mse=1.0, decay=decay)(est.net_, Xs, Y)


class Trace:
    """Full training cost and wall time after every iteration (mini-batch runs: every
    `every` iterations, the time spent on the checkpoints themselves left out)."""

    def __init__(self, est, X, y, every):
        self.est, self.X, self.y, self.every = est, X, y, every
        self.times, self.costs, self.spent, self.n = [], [], 0.0, 0
        self.t0 = time.perf_counter()

    def __call__(self, rec):
        self.n += 1
        if self.n % self.every == 0:
            t = time.perf_counter()
            self.times.append(t - self.t0 - self.spent)
            self.costs.append(full_cost(self.est, self.X, self.y))
            self.spent += time.perf_counter() - t
        return False


def mlp(X, y, seed, classifier):
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = MLPClassifier(random_state=seed) if classifier else MLPRegressor(random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (convergence warnings at the default max_iter)
        return make_pipeline(StandardScaler(), model).fit(X, y)


def one_seed(name, seed, threads, with_mlp):
    X, y = SETS[name]()
    Xtr, Xte, ytr, yte = ds.train_test_split(X, y, 0.25, seed=seed)
    classifier = y.ndim == 1 and y.dtype.kind in "iu"
    cls = snode.SNODEClassifier if classifier else snode.SNODERegressor
    params = dict(PARAMS.get(name, {}), **EXTRA)
    est = cls(random_state=seed, n_threads=threads, **params)
    t0 = time.perf_counter()
    est.fit(Xtr, ytr)
    seconds = time.perf_counter() - t0
    # the race: the optimiser alone, on all training samples (mini-batch runs traced)
    params = dict(params, early_stopping=False)
    minibatch = est.batch_size_ is not None
    ncg = cls(random_state=seed, n_threads=threads, **params)
    trace = Trace(ncg, Xtr, ytr, every=10 if minibatch else 1)
    if est.early_stopping_ or minibatch:
        ncg.fit(Xtr, ytr, callback=trace if minibatch else None)
    else:  # (the same run)
        ncg = est
    budget = int(ncg.result_.evaluations)
    if minibatch:
        times, costs = np.array(trace.times), np.array(trace.costs)
        n_batches = -(-len(Xtr) // ncg.batch_size)
        adam_params = dict(params, epochs=max(1, budget // n_batches))
    else:
        times, costs = ncg.history_["time"], ncg.history_["cost"]
        adam_params = dict(params, max_iter=budget, ftol=0.0)  # (all of its budget)
    best, best_lr, adam_seconds = np.inf, None, np.nan
    for lr in LRS:
        t0 = time.perf_counter()
        adam = cls(random_state=seed, n_threads=threads, optimizer="adam", lr=lr,
                   **adam_params).fit(Xtr, ytr)
        t = time.perf_counter() - t0
        c = full_cost(adam, Xtr, ytr)
        if c < best:
            best, best_lr, adam_seconds = c, lr, t
    reached = np.flatnonzero(costs <= best)
    ncg_seconds = float(times[reached[0]]) if reached.size else np.inf
    return dict(held_out=held_out(est, Xte, yte), seconds=seconds,
                cost=full_cost(ncg, Xtr, ytr), evaluations=budget,
                mlp=held_out(mlp(Xtr, ytr, seed, classifier), Xte, yte) if with_mlp else np.nan,
                adam_cost=best, adam_lr=best_lr, adam_seconds=adam_seconds,
                ncg_seconds=ncg_seconds, classifier=classifier)


def spread(values, fmt):
    v = np.asarray(values, dtype=float)
    f = lambda x: "not reached" if np.isinf(x) else fmt.format(x)  # noqa: E731
    if np.isnan(v).all():
        return "-"
    return f"{f(np.median(v))} [{f(v.min())}-{f(v.max())}]"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--params", default="{}",
                    help='estimator settings as JSON, e.g. \'{"memory": 0}\'')
    ap.add_argument("--per-seed", action="store_true",
                    help="also a line per seed: the race's times and costs")
    args = ap.parse_args(argv)
    EXTRA.update(json.loads(args.params))
    try:
        import sklearn  # noqa: F401
        with_mlp = True
    except ImportError:
        with_mlp = False
    warnings.simplefilter("ignore", snode.LineSearchWarning)
    print(f"# snode {snode.__version__}, {args.threads} threads, seeds 0-{args.seeds - 1}; "
          "median [min-max]")
    print("| data set | held-out (snode) | held-out (MLP) | seconds | NCG final cost | "
          "Adam's best final cost | Adam seconds | NCG seconds to Adam's cost | "
          "NCG wins |")
    print("|---|---|---|---:|---|---|---|---|---:|")
    per_seed = []
    for name in args.sets.split(","):
        runs = [one_seed(name, s, args.threads, with_mlp) for s in range(args.seeds)]
        per_seed += [f"{name} seed {s}: NCG {r['ncg_seconds']:.2f} s to Adam's "
                     f"{r['adam_cost']:.3g} (lr {r['adam_lr']:g}, {r['adam_seconds']:.2f} s); "
                     f"NCG ends at {r['cost']:.3g} after {r['evaluations']} gradient "
                     "evaluations" for s, r in enumerate(runs)]
        col = lambda k: [r[k] for r in runs]  # noqa: E731
        fmt = "{:.4f}" if runs[0]["classifier"] else "{:.2e}"
        lrs = sorted({r["adam_lr"] for r in runs})
        wins = sum(r["ncg_seconds"] < r["adam_seconds"] for r in runs)
        print(f"| {name} | {spread(col('held_out'), fmt)} | {spread(col('mlp'), fmt)} | "
              f"{spread(col('seconds'), '{:.1f}')} | {spread(col('cost'), '{:.3g}')} | "
              f"{spread(col('adam_cost'), '{:.3g}')} (lr {', '.join(f'{x:g}' for x in lrs)}) | "
              f"{spread(col('adam_seconds'), '{:.1f}')} | "
              f"{spread(col('ncg_seconds'), '{:.1f}')} | {wins}/{len(runs)} |", flush=True)
    if args.per_seed:
        print()
        print("\n".join(per_seed))


if __name__ == "__main__":
    main()
