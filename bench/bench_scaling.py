"""Thread scaling of a gradient evaluation and of a full-batch NCG iteration, 1 to T threads.

    python bench/bench_scaling.py [--threads 1 2 4 8 16] [--repeat 9]
                                  [--configs 64:1797:20,64:100:20,16:1797:50,16:100:50]

For each (width, batch, steps) of the problem of bench_core.py (rk4, tanh, float64,
mean-squared error) and each thread count: the median time of one cost-and-gradient
evaluation (``Objective.value_and_grad``) and of one NCG iteration (its defaults; the time
between consecutive iterations of a 12-iteration run, the first left out), the speed-up over
one thread and the parallel efficiency (speed-up / threads). Thread counts above the CPUs this
process may use are left out. The results are bit for bit the same on every thread count
(checked here on the gradient). Run it on a machine with nothing else running.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

import snode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_core import make_problem  # noqa: E402

CONFIGS = [(64, 1797, 20), (64, 100, 20), (16, 1797, 50), (16, 100, 50)]


def objective(d, N, K, threads):
    W, b, X, Y = make_problem(d, N, K)
    net = snode.SNODE(d, K, T=1.0, init="zeros", n_threads=threads)
    net.W, net.b = W, b
    return snode.Objective(net, snode.Cost(mse=1.0), X, Y)


def gradient_time(obj, repeat):
    obj.value_and_grad()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        obj.value_and_grad()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def iteration_time(obj, repeat):
    start = obj.params()
    runs = []
    for _ in range(max(1, repeat // 3)):
        obj.set_params(start)
        stamps = []
        snode.NCG(max_iter=12, ftol=0.0).minimize(
            obj, callback=lambda rec: stamps.append(time.perf_counter()))
        runs += list(np.diff(stamps)[1:])
    obj.set_params(start)
    return statistics.median(runs) if runs else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--configs", default=None, help="comma-separated d:N:K triples")
    args = ap.parse_args(argv)
    configs = CONFIGS if not args.configs else [
        tuple(int(v) for v in c.split(":")) for c in args.configs.split(",")]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    counts = [t for t in args.threads if t <= cpus]
    print(f"# {cpus} CPUs, snode {snode.__version__} ({snode.isa()}); medians of "
          f"{args.repeat} gradients and of the iterations of {max(1, args.repeat // 3)} "
          "12-iteration NCG runs")
    print("| width | batch | steps | threads | gradient ms | speed-up | efficiency "
          "| NCG iteration ms | speed-up | efficiency |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for d, N, K in configs:
        base = ref = None
        for t in counts:
            obj = objective(d, N, K, t)
            g = obj.value_and_grad()[1]
            if ref is None:
                ref = g
            elif not np.array_equal(g, ref):
                raise SystemExit(f"the gradient on {t} threads differs from 1 thread's")
            tg, ti = gradient_time(obj, args.repeat), iteration_time(obj, args.repeat)
            if base is None:
                base = (tg, ti)
            sg, si = base[0] / tg, base[1] / ti
            print(f"| {d} | {N} | {K} | {t} | {tg * 1e3:.2f} | {sg:.2f} | {sg / t:.0%} "
                  f"| {ti * 1e3:.2f} | {si:.2f} | {si / t:.0%} |", flush=True)


if __name__ == "__main__":
    main()
