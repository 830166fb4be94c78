"""Held-out quality of NCG training with its default settings, and its cost against Adam's.

    python bench/bench_quality.py [--sets spirals,circles,moons,digits,teacher] [--threads 2]
                                  [--seeds 5]

For each data set: a seeded 75/25 split, the estimator with NCG's defaults (FR, Sobolev metric
alpha = 1, sensitivity step with the Armijo safeguard; full batch, except digits, which uses
the authors' mini-batch scheme: batches of 100, 6 iterations each, 20 epochs, squared error to
one-hot targets) and the architecture listed in SETUPS; held-out accuracy (teacher: relative
output error on held-out inputs). Then Adam on the same network, initial weights and budget of
gradient evaluations, for each learning rate in LRS; the best final training cost among them
is the bar, and the table reports how many gradient evaluations NCG needed to reach it, or
that it did not. Costs are full training costs: after training, and for NCG along the way
(its history in full batch; checkpoints every 10 gradient evaluations in mini-batch mode, where
Adam takes one step per batch for the same number of gradient evaluations). Training is
chaotic (rounding-level changes move single runs), so the full-batch sets are also trained
from --seeds initialisations (random_state 0, 1, ...) and the spread of their held-out figures
is reported. digits needs scikit-learn.
"""
import argparse
import time

import numpy as np

import snode
from snode import datasets as ds

# name: (loader, estimator parameters)
SETUPS = {
    # the estimator's defaults: 60 steps over T = 6, 800 full-batch iterations
    "spirals": (lambda: ds.spirals(1000, seed=0), {}),
    "circles": (lambda: ds.circles(1000, seed=0), {}),
    "moons": (lambda: ds.moons(1000, seed=0), {}),
    "digits": (ds.digits, dict(n_steps=30, T=3.0, loss="mse", batch_size=100, epochs=20,
                               scale="range")),
    "teacher": (lambda: ds.teacher(1000, width=4, n_steps=20, seed=0)[:2],
                dict(width=4, n_steps=20, T=1.0, max_iter=2000, scale="none")),
}
LRS = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def held_out_value(est, X, y):
    if isinstance(est, snode.SNODEClassifier):
        return est.score(X, y)
    return np.linalg.norm(est.predict(X) - y) / np.linalg.norm(y)


def held_out(est, X, y):
    v = held_out_value(est, X, y)
    return f"accuracy {v:.4f}" if isinstance(est, snode.SNODEClassifier) else f"relative error {v:.2e}"


def spread(values, classifier):
    """mean (min-max) of held-out figures over initialisations"""
    v = np.asarray(values)
    fmt = "{:.4f}" if classifier else "{:.2e}"
    return f"{fmt.format(v.mean())} ({fmt.format(v.min())}-{fmt.format(v.max())}, {v.size} runs)"


def full_cost(est, X, y):
    """The estimator's training cost on all of (X, y) at its current weights."""
    Xs = est.scaler_.transform(X)
    if isinstance(est, snode.SNODEClassifier):
        C = len(est.classes_)
        labels = np.searchsorted(est.classes_, y)
        cost = (snode.Cost(mse=0.0, ce=1.0, n_classes=C) if est.loss == "ce"
                else snode.Cost(mse=1.0, n_classes=C))
        return cost(est.net_, Xs, labels=labels)
    return snode.Cost(mse=1.0)(est.net_, Xs, y if y.ndim == 2 else y[:, None])


class Checkpoints:
    """Full training cost every `every` iterations (and the gradient evaluations so far)."""

    def __init__(self, est, X, y, every):
        self.est, self.X, self.y, self.every = est, X, y, every
        self.evals, self.costs = [], []

    def __call__(self, rec):
        if len(self.evals) == 0 or rec["evaluations"] - self.evals[-1] >= self.every:
            self.evals.append(rec["evaluations"])
            self.costs.append(full_cost(self.est, self.X, self.y))
        return False


def run(name, threads, seeds):
    loader, params = SETUPS[name]
    X, y = loader()
    Xtr, Xte, ytr, yte = ds.train_test_split(X, y, 0.25, seed=0)
    cls = snode.SNODEClassifier if y.ndim == 1 and y.dtype.kind == "i" else snode.SNODERegressor
    minibatch = bool(params.get("batch_size"))
    est = cls(random_state=0, n_threads=threads, **params)
    marks = Checkpoints(est, Xtr, ytr, every=10)
    t0 = time.perf_counter()
    est.fit(Xtr, ytr, callback=marks if minibatch else None)
    seconds = time.perf_counter() - t0  # includes the checkpoints of a mini-batch run
    budget = int(est.result_.evaluations)
    final = full_cost(est, Xtr, ytr)
    if minibatch:  # the same number of gradient evaluations for Adam: one step per batch
        n_batches = -(-len(Xtr) // params["batch_size"])
        adam_params = dict(params, epochs=max(1, budget // n_batches))
        evals, costs = np.array(marks.evals + [budget]), np.array(marks.costs + [final])
    else:
        adam_params = dict(params, max_iter=budget)
        evals, costs = est.history_["evaluations"], est.history_["cost"]
    best, best_lr = np.inf, None
    for lr in LRS:
        adam = cls(random_state=0, n_threads=threads, optimizer="adam", lr=lr,
                   **adam_params).fit(Xtr, ytr)
        c = full_cost(adam, Xtr, ytr)
        if c < best:
            best, best_lr = c, lr
    reached = np.flatnonzero(costs <= best)
    if reached.size:
        k = int(evals[reached[0]])
        ncg = f"{k} ({k / budget:.0%} of the budget)"
    else:
        ncg = "not reached"
    if minibatch or seeds < 2:
        over_seeds = "-"
    else:
        values = [held_out_value(est, Xte, yte)]
        for rs in range(1, seeds):
            values.append(held_out_value(cls(random_state=rs, n_threads=threads, **params)
                                         .fit(Xtr, ytr), Xte, yte))
        over_seeds = spread(values, cls is snode.SNODEClassifier)
    return (f"| {name} | {held_out(est, Xte, yte)} | {over_seeds} | {final:.3g} | {budget} | "
            f"{seconds:.1f} | {best:.3g} (lr {best_lr:g}) | {ncg} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SETUPS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=5,
                    help="initialisations for the held-out spread (full-batch sets)")
    args = ap.parse_args(argv)
    print(f"# snode {snode.__version__}, {args.threads} threads")
    print("| data set | held-out | held-out over initialisations, mean (min-max) | "
          "NCG final cost | NCG gradient evaluations | NCG seconds | Adam's best final cost | "
          "NCG evaluations to reach it |")
    print("|---|---|---|---:|---:|---:|---:|---|")
    for name in args.sets.split(","):
        print(run(name, args.threads, args.seeds), flush=True)


if __name__ == "__main__":
    main()
