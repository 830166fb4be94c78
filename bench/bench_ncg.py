"""The cost of one full-batch NCG iteration, in gradient evaluations, measured side by side.

    python bench/bench_ncg.py [--threads 2] [--blocks 7] [--iterations 25]
                              [--dtype float64|float32|both]

For each (width, batch, steps) and dtype: the problem of bench_core.py (random weights, inputs
and targets; rk4, tanh, mean-squared error) trained by NCG with its defaults (FR, Sobolev
metric, sensitivity step with the Armijo safeguard), in alternating blocks with plain gradient
evaluations (``Cost.value_and_grad``), each block after 0.2 s of untimed warm-up. An
iteration's time is read off the training history (the time between consecutive iterations);
the first iteration of each run, which also evaluates the starting point's gradient, is left
out. Reported: the medians, and their ratio, the NCG iteration's cost in gradient evaluations,
once with the forward states kept for the sensitivity sweep (the default) and once without
(``Objective(keep_states=False)``: the sensitivity sweep recomputes the forward sweep); and the
mean over whole runs (the first iteration and any backtracking included), in gradient
evaluations. The target is at most 1.8 gradient evaluations an iteration.
"""
import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

import snode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_core import make_problem  # noqa: E402

CONFIGS = [(16, 1000, 50), (64, 1797, 20)]


def warm(fn):
    t_end = time.perf_counter() + 0.2
    fn()
    while time.perf_counter() < t_end:
        fn()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--blocks", type=int, default=7, help="alternating blocks per method")
    ap.add_argument("--iterations", type=int, default=25, help="NCG iterations per block")
    ap.add_argument("--configs", default=None, help="comma-separated d:N:K triples")
    ap.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    args = ap.parse_args(argv)
    configs = CONFIGS
    if args.configs:
        configs = [tuple(int(v) for v in c.split(":")) for c in args.configs.split(",")]
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{args.threads} threads, snode {snode.__version__} ({snode.isa()}); medians over "
          f"{args.blocks} alternating blocks")
    for dtype in ("float64", "float32") if args.dtype == "both" else (args.dtype,):
        table(configs, args.threads, args.blocks, args.iterations, dtype)


def table(configs, threads, blocks, iterations, dtype):
    """The table of one dtype (printed)."""
    print(f"\n# {dtype}: one full-batch NCG iteration in gradient evaluations")
    print("| width | batch | steps | gradient ms | NCG iteration ms | iteration / gradient | "
          "mean over runs / gradient | states recomputed: iteration ms | iteration / gradient "
          "| backtracks |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for d, N, K in configs:
        W, b, X, Y = make_problem(d, N, K)
        net = snode.SNODE(d, K, T=1.0, scheme="rk4", activation="tanh", init="zeros",
                          n_threads=threads, dtype=dtype)
        net.W, net.b = W, b
        X = X.astype(dtype)
        cost = snode.Cost(mse=1.0)
        ncg = snode.NCG(beta="FR", metric="sobolev", step="sensitivity", safeguard=True,
                        max_iter=iterations, tol=0.0)
        times = {"grad": [], "kept": [], "recomputed": []}
        backtracks, run_means = [], []

        def gradient():
            return cost.value_and_grad(net, X, Y)

        def train(keep):
            trial = net.copy()
            obj = snode.Objective(trial, cost, X, Y, keep_states="auto" if keep else False)
            t0 = time.perf_counter()
            res = ncg.minimize(obj)
            if keep:
                run_means.append((time.perf_counter() - t0) / res.n_iter)
                backtracks.append(res.history["backtracks"].sum())
            return np.diff(res.history["time"])  # iterations 2, 3, ...

        for _ in range(blocks):
            warm(gradient)
            for _ in range(iterations):
                t0 = time.perf_counter()
                gradient()
                times["grad"].append(time.perf_counter() - t0)
            for name, keep in (("kept", True), ("recomputed", False)):
                warm(gradient)
                times[name].extend(train(keep))
        g = statistics.median(times["grad"])
        tk = statistics.median(times["kept"])
        tr = statistics.median(times["recomputed"])
        tm = statistics.median(run_means)
        print(f"| {d} | {N} | {K} | {g * 1e3:.2f} | {tk * 1e3:.2f} | {tk / g:.2f} | "
              f"{tm / g:.2f} | {tr * 1e3:.2f} | {tr / g:.2f} | {int(sum(backtracks))} |",
              flush=True)


if __name__ == "__main__":
    main()
