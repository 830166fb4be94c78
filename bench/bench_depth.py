"""Training quality against the depth T at a fixed number of steps: where a DepthWarning is due.

    python bench/bench_depth.py [--seeds 3] [--steps 10] [--T 1e-8 1e-5 ... 300]

For each data set (moons and spirals of 600 samples, scikit-learn's breast cancer and wine)
and each T: the median test accuracy of ``SNODEClassifier(T=T, n_steps=steps)`` over
`--seeds` seeded 70/30 splits. Needs scikit-learn. The table of docs/decisions.md ("The
depth's limits") is its output.
"""
import argparse
import warnings

import numpy as np

import snode

DEFAULT_T = [1e-8, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 6, 20, 50, 100, 300]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--T", type=float, nargs="+", default=DEFAULT_T)
    args = ap.parse_args()
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.model_selection import train_test_split

    warnings.simplefilter("ignore")  # (the DepthWarning itself, the line searches')
    sets = {"moons": snode.datasets.moons(600, seed=0),
            "spirals": snode.datasets.spirals(600, seed=0),
            "breast cancer": load_breast_cancer(return_X_y=True),
            "wine": load_wine(return_X_y=True)}
    print("| T (h = T/%d) | " % args.steps + " | ".join(f"{T:g}" for T in args.T) + " |")
    for name, (X, y) in sets.items():
        row = []
        for T in args.T:
            accs = []
            for seed in range(args.seeds):
                Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed)
                est = snode.SNODEClassifier(T=T, n_steps=args.steps, random_state=seed)
                accs.append(est.fit(Xtr, ytr).score(Xte, yte))
            row.append(f"{np.median(accs):.3f}")
        print(f"| {name} | " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
