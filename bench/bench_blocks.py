"""The cost of smaller blocks of the sums over samples: one cost-and-gradient evaluation (rk4,
tanh, cross-entropy) at several block sizes, one process.

    python bench/bench_blocks.py [--repeat 9] [--threads 2] [--sizes 4096 1024 256 128 64]

Each block is a call of the compiled sweeps, and the blocks' sums meet along a tree in Python,
so small blocks cost time; the default block size (:func:`snode.reduce.block_size_for`)
trades that against the number of blocks, which bounds the processes a run can use. Reported
per problem (width, samples, steps): the median time of an evaluation at each block size
(sizes taken in turn, `--repeat` rounds) and its ratio to the largest block's.
"""
import argparse
import time

import numpy as np

import snode

PROBLEMS = [(4, 750, 10), (16, 1000, 10), (64, 1257, 10), (8, 6000, 10), (8, 20000, 4)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 1024, 256, 128, 64])
    args = ap.parse_args()
    print(f"one evaluation, median of {args.repeat} (ms), threads {args.threads or 'default'};"
          f" snode.isa() {snode.isa()}")
    print("width samples steps | " + " | ".join(f"B={B}" for B in args.sizes))
    for w, n, k in PROBLEMS:
        rng = np.random.default_rng(0)
        X, labels = rng.standard_normal((n, w)), rng.integers(0, 2, n)
        net = snode.SNODE(w, k, seed=0, n_threads=args.threads)
        cost = snode.Cost(mse=0.0, ce=1.0, n_classes=2)
        objs = [snode.Objective(net, cost, X, labels=labels, block_size=B)
                for B in args.sizes]
        times = [[] for _ in objs]
        for obj in objs:
            obj.value_and_grad()  # (warm)
        for _ in range(args.repeat):
            for t, obj in zip(times, objs):
                t0 = time.perf_counter()
                obj.value_and_grad()
                t.append(time.perf_counter() - t0)
        med = [np.median(t) * 1e3 for t in times]
        print(f"{w} {n} {k} | " + " | ".join(f"{m:.2f} ({m / med[0]:.2f}x)" for m in med),
              flush=True)


if __name__ == "__main__":
    main()
