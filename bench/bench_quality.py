"""Held-out quality of NCG training with its default settings, and its cost against Adam's.

    python bench/bench_quality.py [--sets spirals,circles,moons,digits,teacher] [--threads 2]

For each data set: a seeded 75/25 split, the estimator with NCG's defaults (FR, Sobolev metric
alpha = 1, sensitivity step with the Armijo safeguard; full batch, except digits, which uses
the authors' mini-batch scheme: batches of 100, 6 iterations each, 20 epochs, squared error to
one-hot targets) and the architecture listed in SETUPS; held-out accuracy (teacher: relative output error on held-out inputs). Then Adam on
the same network, initial weights and budget of gradient evaluations, for each learning rate
in LRS; the best final training cost among them is the bar, and the table reports how many
gradient evaluations NCG needed to reach it, or that it did not (full-batch sets only).
Costs are those recorded at the start of the last iteration. digits needs scikit-learn.
"""
import argparse
import time

import numpy as np

import snode
from snode import datasets as ds

# name: (loader, estimator parameters)
SETUPS = {
    "spirals": (lambda: ds.spirals(1000, seed=0), dict(n_steps=60, T=6.0, max_iter=800)),
    "circles": (lambda: ds.circles(1000, seed=0), dict(n_steps=20, T=2.0, max_iter=300)),
    "moons": (lambda: ds.moons(1000, seed=0), dict(n_steps=20, T=2.0, max_iter=300)),
    "digits": (ds.digits, dict(n_steps=30, T=3.0, loss="mse", batch_size=100, epochs=20,
                               scale="range")),
    "teacher": (lambda: ds.teacher(1000, width=4, n_steps=20, seed=0)[:2],
                dict(width=4, n_steps=20, T=1.0, max_iter=2000, scale="none")),
}
LRS = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def held_out(est, X, y):
    if isinstance(est, snode.SNODEClassifier):
        return f"accuracy {est.score(X, y):.4f}"
    return f"relative error {np.linalg.norm(est.predict(X) - y) / np.linalg.norm(y):.2e}"


def run(name, threads):
    loader, params = SETUPS[name]
    X, y = loader()
    Xtr, Xte, ytr, yte = ds.train_test_split(X, y, 0.25, seed=0)
    cls = snode.SNODEClassifier if y.ndim == 1 and y.dtype.kind == "i" else snode.SNODERegressor
    t0 = time.perf_counter()
    est = cls(random_state=0, n_threads=threads, **params).fit(Xtr, ytr)
    seconds = time.perf_counter() - t0
    hist = est.history_
    budget = int(est.result_.evaluations)
    if params.get("batch_size"):
        # per-batch costs are not comparable to a final training cost: no race here
        return (f"| {name} | {held_out(est, Xte, yte)} | n/a (mini-batch) | {budget} | "
                f"{seconds:.1f} | n/a | n/a |")
    # Adam from the same initial weights, same budget, each learning rate
    best = np.inf
    best_lr = None
    for lr in LRS:
        adam = cls(random_state=0, n_threads=threads, optimizer="adam", lr=lr,
                   **dict(params, max_iter=budget)).fit(Xtr, ytr)
        final = adam.history_["cost"][-1]
        if final < best:
            best, best_lr = final, lr
    reached = np.flatnonzero(hist["cost"] <= best)
    if reached.size:
        evals = int(hist["evaluations"][reached[0]])
        ncg = f"{evals} ({evals / budget:.0%} of the budget)"
    else:
        ncg = "not reached"
    return (f"| {name} | {held_out(est, Xte, yte)} | {est.history_['cost'][-1]:.3g} | "
            f"{budget} | {seconds:.1f} | {best:.3g} (lr {best_lr:g}) | {ncg} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SETUPS))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    print(f"# snode {snode.__version__}, {args.threads} threads")
    print("| data set | held-out | NCG final cost | NCG gradient evaluations | NCG seconds | "
          "Adam's best final cost | NCG evaluations to reach it |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name in args.sets.split(","):
        print(run(name, args.threads), flush=True)


if __name__ == "__main__":
    main()
