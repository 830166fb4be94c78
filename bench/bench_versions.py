"""Two installs of snode side by side: gradient evaluations per second and the time of a
full-batch NCG iteration, per (width, batch, steps), old against new.

    python bench/bench_versions.py OLD_PYTHON NEW_PYTHON [--threads 2] [--blocks 7]
                                   [--repeat 20] [--iterations 30]

OLD_PYTHON and NEW_PYTHON are the interpreters of two virtual environments with snode
installed (a build of another commit in one, this checkout in the other). For each
configuration of bench_core.py (rk4, tanh, float64, squared error) the two run alternately,
`--blocks` times each, in fresh processes: a block times `--repeat` gradient evaluations
(``Cost.value_and_grad``) after 0.2 s of untimed warm-up, and a full-batch NCG run of
`--iterations` iterations (its defaults; the time between iterations, read off the history,
the first left out). Reported: the medians over all blocks, and new / old (above 1: the new
install is faster). Changes of a few per cent are within the noise of a shared machine.
"""
import argparse
import json
import subprocess
import sys

import numpy as np

CONFIGS = [(4, 1000, 50), (16, 1000, 50), (64, 1797, 20), (196, 100, 150)]

WORKER = r"""
import json, sys, time
import numpy as np
import snode
d, N, K, threads, repeat, iters = map(int, sys.argv[1:7])
rng = np.random.default_rng(0)
W, b = rng.normal(size=(K, d, d)) / d, rng.normal(size=(K, d)) / d
X, Y = rng.normal(size=(N, d)), rng.normal(size=(N, d))
net = snode.SNODE(d, K, T=1.0, init="zeros", n_threads=threads)
net.W, net.b = W, b
cost = snode.Cost(mse=1.0)
t0 = time.perf_counter()
while time.perf_counter() - t0 < 0.2:
    cost.value_and_grad(net, X, Y)
times = []
for _ in range(repeat):
    t = time.perf_counter()
    cost.value_and_grad(net, X, Y)
    times.append(time.perf_counter() - t)
net.W, net.b = W, b
res = snode.NCG(max_iter=iters, tol=0.0).minimize(net, cost, X, Y)
steps = np.diff(res.history["time"])[1:]
print(json.dumps({"grad": times, "iteration": steps.tolist(), "isa": snode.isa()}))
"""


def run(python, cfg, args):
    d, N, K = cfg
    out = subprocess.run([python, "-c", WORKER, str(d), str(N), str(K), str(args.threads),
                          str(args.repeat), str(args.iterations)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--blocks", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--configs", default=None, help="comma-separated d:N:K triples")
    args = ap.parse_args()
    configs = CONFIGS if args.configs is None else [
        tuple(int(v) for v in c.split(":")) for c in args.configs.split(",")]
    print(f"threads {args.threads}, {args.blocks} alternating blocks a version")
    print("| width, batch, steps | gradients/s old | new | new/old | NCG iteration ms old | "
          "new | old/new |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for cfg in configs:
        got = {"old": {"grad": [], "iteration": []}, "new": {"grad": [], "iteration": []}}
        for _ in range(args.blocks):
            for name in ("old", "new"):
                r = run(getattr(args, name), cfg, args)
                got[name]["grad"] += r["grad"]
                got[name]["iteration"] += r["iteration"]
        g = {k: 1.0 / np.median(v["grad"]) for k, v in got.items()}
        it = {k: 1e3 * np.median(v["iteration"]) for k, v in got.items()}
        print(f"| {cfg[0]}, {cfg[1]}, {cfg[2]} | {g['old']:.1f} | {g['new']:.1f} | "
              f"{g['new'] / g['old']:.3f} | {it['old']:.2f} | {it['new']:.2f} | "
              f"{it['old'] / it['new']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
