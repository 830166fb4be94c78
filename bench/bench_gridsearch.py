"""scikit-learn's grid search over SNODEClassifier: ``n_jobs=1`` against ``n_jobs=2`` (joblib's
default backend, one process a job), alone and beside one busy process, side by side.

    python bench/bench_gridsearch.py [--repeat 3] [--backend loky|threading]

Reported: the median wall time (and the range) of ``GridSearchCV(SNODEClassifier(), grid,
cv=3, n_jobs=...).fit`` on scikit-learn's breast-cancer set (569 samples, 30 features) over a
grid of 6 candidates (decay x T), and the speed-up of ``n_jobs=2`` over ``n_jobs=1`` in each
condition (issue 27's bar on a 2-core machine: at least 1.8 with another process busy). The
busy process is a Python loop. Needs scikit-learn. Run it on a machine with nothing else
running; the conditions were written for 2 cores.
"""
import argparse
import subprocess
import sys
import time

import numpy as np

BUSY = "import time\nt = time.time() + 3600\nwhile time.time() < t:\n    pass\n"


def search(n_jobs, backend):
    from joblib import parallel_backend
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import GridSearchCV

    import snode

    X, y = load_breast_cancer(return_X_y=True)
    grid = {"decay": [1e-4, 1e-3, 1e-2], "T": [3.0, 6.0]}
    gs = GridSearchCV(snode.SNODEClassifier(random_state=0, max_iter=200), grid, cv=3,
                      n_jobs=n_jobs)
    t0 = time.perf_counter()
    with parallel_backend(backend):
        gs.fit(X, y)
    return time.perf_counter() - t0, gs.best_score_


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backend", default="loky", choices=("loky", "threading"))
    args = ap.parse_args()
    rows = []
    for busy in (False, True):
        proc = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
        try:
            times = {1: [], 2: []}
            scores = {}
            for _ in range(args.repeat):  # (alternating: the machine's drift hits both)
                for n_jobs in (1, 2):
                    t, score = search(n_jobs, args.backend)
                    times[n_jobs].append(t)
                    scores[n_jobs] = score
        finally:
            if proc is not None:
                proc.kill()
        med = {k: float(np.median(v)) for k, v in times.items()}
        rows.append((busy, times, med, med[1] / med[2], scores))
    print("| condition | n_jobs=1 s | n_jobs=2 s | speed-up | best score 1 / 2 |")
    print("|---|---:|---:|---:|---|")
    for busy, times, med, ratio, scores in rows:
        name = "beside one busy process" if busy else "alone"
        print(f"| {name} | {med[1]:.2f} [{min(times[1]):.2f}-{max(times[1]):.2f}] | "
              f"{med[2]:.2f} [{min(times[2]):.2f}-{max(times[2]):.2f}] | {ratio:.2f} | "
              f"{scores[1]:.4f} / {scores[2]:.4f} |")


if __name__ == "__main__":
    main()
