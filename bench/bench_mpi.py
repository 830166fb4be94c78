"""Parallel efficiency over MPI ranks: a gradient evaluation and an NCG iteration.

    python bench/bench_mpi.py [--ranks 1 2] [--threads 1] [--n 16384] [--width 16]
                              [--steps 20] [--repeats 9] [--exact both]

For each number of ranks R the script starts ``mpiexec -n R`` on itself; every rank holds its
share of N samples (whole blocks of the default size: 1024 for N = 16384) of a random problem
(rk4, tanh, cross-entropy, the weights of ``SNODE(seed=0)``), runs its sweeps on `--threads`
threads, and times (after a barrier, medians over `--repeats`) one evaluation of the cost and gradient through the reducer
and one NCG iteration (the median of the time between iterations of a 12-iteration run).
Reported per R: the medians, the speed-up over one rank and the parallel efficiency
(speed-up / R), for the exact reducer (the tree, bit for bit the same for any R) and the plain
one (``MPIReducer(exact=False)``). Needs ``snode[mpi]``; the machine's cores bound what R can
show (R x threads at most the cores).
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np


def worker(args):
    import snode
    from snode.mpi import MPIReducer

    red = MPIReducer(exact=args.exact == "exact")
    comm = red.comm
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n, args.width))
    labels = rng.integers(0, 4, size=args.n)
    s = snode.shard(args.n, red)
    net = snode.SNODE(args.width, args.steps, T=1.0, seed=0, n_threads=args.threads)
    cost = snode.Cost(mse=0.0, ce=1.0, n_classes=4)
    obj = snode.Objective(net, cost, X[s], labels=labels[s], reducer=red)
    obj.value_and_grad()  # warm-up
    grad = []
    for _ in range(args.repeats):
        comm.Barrier()
        t0 = time.perf_counter()
        obj.value_and_grad()
        grad.append(time.perf_counter() - t0)
    comm.Barrier()
    res = snode.NCG(max_iter=12).minimize(obj)
    it = np.diff(res.history["time"])[1:]
    out = {"ranks": red.size, "grad_s": statistics.median(grad),
           "iteration_s": float(np.median(it)), "samples_rank0": s.stop - s.start}
    if red.rank == 0:
        print("RESULT " + json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n", type=int, default=16384)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--exact", default="both", choices=["both", "exact", "plain"])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or \
        shutil.which("mpiexec")
    if mpiexec is None:
        sys.exit("bench_mpi: no mpiexec (pip install 'snode[mpi]')")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; N={args.n}, "
          f"width {args.width}, {args.steps} steps, {args.threads} thread(s) a rank, medians "
          f"of {args.repeats}")
    print(f"{'mode':6} {'ranks':>5} {'gradient ms':>12} {'speed-up':>9} {'eff.':>6} "
          f"{'NCG it. ms':>11} {'speed-up':>9} {'eff.':>6}")
    modes = ["exact", "plain"] if args.exact == "both" else [args.exact]
    for mode in modes:
        base = None
        for R in args.ranks:
            cmd = [mpiexec, "-n", str(R), sys.executable, "-m", "mpi4py",
                   os.path.abspath(__file__), "--worker", "--exact", mode,
                   "--threads", str(args.threads), "--n", str(args.n), "--width",
                   str(args.width), "--steps", str(args.steps), "--repeats",
                   str(args.repeats)]
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
            line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
            if r.returncode or not line:
                sys.exit(f"bench_mpi: {' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}")
            res = json.loads(line[0][7:])
            base = base or res
            sg, si = base["grad_s"] / res["grad_s"], base["iteration_s"] / res["iteration_s"]
            print(f"{mode:6} {R:5d} {1e3 * res['grad_s']:12.2f} {sg:9.2f} {sg / R:6.2f} "
                  f"{1e3 * res['iteration_s']:11.2f} {si:9.2f} {si / R:6.2f}", flush=True)


if __name__ == "__main__":
    main()
