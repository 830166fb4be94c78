"""Gradient evaluations per second of the compiled core, side by side with its peers.

    python bench/bench_core.py [--threads 2] [--repeat 15] [--no-peers]
                               [--dtype float64|float32|both]

For each (width, batch, steps) and dtype it times one evaluation of the mean-squared-error
cost and its gradient with respect to all weights (rk4, tanh), for snode and, where
installed, its peers on the same network in the same dtype: PyTorch (a hand-written rk4 loop
with autograd, weights split per step with W.unbind(0); ``pip install torch==2.13.0``) and JAX
(``lax.scan`` over the steps, ``jit(value_and_grad)``; its compile time is spent before the
timing; ``pip install jax``). All run in the same process with the same number of threads (JAX's through XLA_FLAGS,
set before it is imported), in alternating blocks of evaluations, each block after 0.2 s of
untimed warm-up (so that no method's idle threads spin while another is timed, and caches and
threads are warm), and the medians are reported. GFLOP/s counts 24 N d^2 K flops per
evaluation (4 stages x (2 N d^2 forward + 4 N d^2 backward) per step); "x best peer" is snode's
speed over the fastest peer's; "% GEMM" is snode's GFLOP/s over numpy's GEMM of the dtype
(DGEMM or SGEMM, 2048 x 2048, the BLAS's own threads) measured at the start of the same run.
With both dtypes, a table gives snode's float32 speed over its float64 speed; last, the cost
of one full-batch NCG iteration in gradient evaluations at (16, 1000, 50) and (64, 1797, 20)
in each dtype (bench_ncg.py's tables; --no-ncg leaves them out). Peak memory is measured in a
fresh process per method and size (Linux only): the growth of the resident set (VmHWM) during
the first evaluation at that size, after a small warm-up that loads libraries.
"""
import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

import snode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

CONFIGS = [(4, 1000, 50), (16, 1000, 50), (64, 1797, 20), (196, 100, 150)]


def _rss_kib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_growth_mib(fn):
    """MiB by which the resident set grows at its peak while fn() runs (None if unknown)."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the high-water mark
    except OSError:
        return None
    base = _rss_kib("VmRSS")
    fn()
    peak = _rss_kib("VmHWM")
    if base is None or peak is None:
        return None
    return max(0, peak - base) / 1024


def measure_peak(method, d, N, K, threads, dtype):
    """Run in a fresh process: peak memory growth of one evaluation of `method`."""
    cls = METHODS[method]
    cls(*make_problem(d, 8, 2), threads, dtype)()  # warm-up: load libraries, start threads
    m = cls(*make_problem(d, N, K), threads, dtype)
    return peak_growth_mib(m)


def peak_in_subprocess(method, d, N, K, threads, dtype):
    cmd = [sys.executable, os.path.abspath(__file__), "--peak", method, f"{d}:{N}:{K}",
           "--threads", str(threads), "--dtype", dtype]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
        value = out.stdout.strip().splitlines()[-1]
        return None if value == "None" else float(value)
    except (subprocess.SubprocessError, ValueError, IndexError):
        return None


def make_problem(d, N, K, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(K, d, d)) / d
    b = rng.normal(size=(K, d)) / d
    X = rng.normal(size=(N, d))
    Y = rng.normal(size=(N, d))
    return W, b, X, Y


class SnodeGrad:
    name = "snode"

    def __init__(self, W, b, X, Y, threads, dtype):
        K, d = b.shape
        self.net = snode.SNODE(d, K, T=1.0, scheme="rk4", activation="tanh", init="zeros",
                               n_threads=threads, dtype=dtype)
        X = X.astype(dtype)  # (as a float32 user's data would be)
        self.net.W, self.net.b = W, b
        self.X, self.Y = X, Y
        self.cost = snode.Cost(mse=1.0)

    def __call__(self):
        return self.cost.value_and_grad(self.net, self.X, self.Y)



class TorchGrad:
    name = "torch"

    def __init__(self, W, b, X, Y, threads, dtype):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        dt = getattr(torch, dtype)
        self.W = torch.tensor(W, dtype=dt, requires_grad=True)
        self.b = torch.tensor(b, dtype=dt, requires_grad=True)
        self.X = torch.tensor(X, dtype=dt)
        self.Y = torch.tensor(Y, dtype=dt)
        self.h = 1.0 / W.shape[0]

    def __call__(self):
        torch, h = self.torch, self.h
        x = self.X
        for Wi, bi in zip(self.W.unbind(0), self.b.unbind(0)):
            k1 = torch.tanh(x @ Wi.T + bi)
            k2 = torch.tanh((x + 0.5 * h * k1) @ Wi.T + bi)
            k3 = torch.tanh((x + 0.5 * h * k2) @ Wi.T + bi)
            k4 = torch.tanh((x + h * k3) @ Wi.T + bi)
            x = x + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        J = 0.5 / x.shape[0] * ((x - self.Y) ** 2).sum()
        gW, gb = torch.autograd.grad(J, (self.W, self.b))
        return J.item(), gW, gb


class JaxGrad:
    name = "jax"

    def __init__(self, W, b, X, Y, threads, dtype):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)  # (float32 arrays stay float32)
        h = 1.0 / W.shape[0]

        def cost(W, b, X, Y):
            def step(x, wb):
                Wi, bi = wb

                def f(z):
                    return jnp.tanh(z @ Wi.T + bi)

                k1 = f(x)
                k2 = f(x + 0.5 * h * k1)
                k3 = f(x + 0.5 * h * k2)
                k4 = f(x + h * k3)
                return x + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4), None

            x, _ = jax.lax.scan(step, X, (W, b))
            return 0.5 / X.shape[0] * jnp.sum((x - Y) ** 2)

        self.fn = jax.jit(jax.value_and_grad(cost, argnums=(0, 1)))
        self.args = tuple(jnp.asarray(a, dtype=getattr(jnp, dtype)) for a in (W, b, X, Y))
        self()  # (the compilation, apart from the timing)

    def __call__(self):
        J, (gW, gb) = self.fn(*self.args)
        gb.block_until_ready()
        return float(J), np.asarray(gW), np.asarray(gb)


METHODS = {"snode": SnodeGrad, "torch": TorchGrad, "jax": JaxGrad}


def peers(threads, wanted):
    """The peers installed (their names), JAX's threads set before it is imported."""
    found = []
    for name in wanted:
        try:
            if name == "jax":
                flags = os.environ.get("XLA_FLAGS", "")
                os.environ["XLA_FLAGS"] = (
                    f"{flags} --xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
                    f" intra_op_parallelism_threads={threads}").strip()
            __import__(name)
            found.append(name)
        except ImportError:
            print(f"{name} not installed: left out", file=sys.stderr)
    return found


def gemm_gflops(dtype, n=2048, repeat=5):
    """numpy's GEMM of `dtype` (DGEMM, SGEMM: its BLAS, its threads) on n x n matrices:
    GFLOP/s, the median."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype)
    a @ b
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2.0 * n ** 3 / statistics.median(times) / 1e9


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15, help="timed evaluations per method")
    ap.add_argument("--no-peers", "--no-torch", action="store_true",
                    help="time snode alone")
    ap.add_argument("--configs", default=None,
                    help="comma-separated d:N:K triples (default: the four standard ones)")
    ap.add_argument("--blocks", type=int, default=7,
                    help="alternating blocks per method; --repeat is split over them")
    ap.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    ap.add_argument("--no-ncg", action="store_true", help="leave out the NCG iteration's cost")
    ap.add_argument("--peak", nargs=2, metavar=("METHOD", "D:N:K"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.peak:
        d, N, K = (int(v) for v in args.peak[1].split(":"))
        print(measure_peak(args.peak[0], d, N, K, args.threads, args.dtype))
        return
    configs = CONFIGS
    if args.configs:
        configs = [tuple(int(v) for v in c.split(":")) for c in args.configs.split(",")]
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)

    names = ["snode"] + ([] if args.no_peers else peers(args.threads, ["torch", "jax"]))
    versions = ", ".join(f"{n} {__import__(n).__version__}" for n in names[1:])
    peaks = {dt: gemm_gflops(dt) for dt in dtypes}
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{args.threads} threads, snode {snode.__version__} ({snode.isa()}), numpy "
          f"{np.__version__}" + (f", {versions}" if versions else "") + "; numpy "
          + ", ".join(f"{'DGEMM' if dt == 'float64' else 'SGEMM'} {peaks[dt]:.0f} GFLOP/s"
                      for dt in dtypes))
    snode_ms = {}
    for dt in dtypes:
        snode_ms[dt] = table(args, names, configs, dt, peaks[dt])
    if len(dtypes) == 2:
        print("\n# snode float32 over float64, evaluations per second")
        print("| width | batch | steps | float64 ms | float32 ms | float32 / float64 |")
        print("|---:|---:|---:|---:|---:|---:|")
        for cfg in configs:
            t64, t32 = snode_ms["float64"][cfg], snode_ms["float32"][cfg]
            print(f"| {cfg[0]} | {cfg[1]} | {cfg[2]} | {t64:.2f} | {t32:.2f} | "
                  f"{t64 / t32:.2f}x |")
    if not args.no_ncg:
        import bench_ncg
        for dt in dtypes:
            bench_ncg.table(bench_ncg.CONFIGS, args.threads, 5, 25, dt)


def table(args, names, configs, dtype, peak):
    """The table of one dtype; returns snode's median milliseconds per configuration."""
    gemm = "DGEMM" if dtype == "float64" else "SGEMM"
    print(f"\n# {dtype}: median of %d evaluations of J and dJ/d(W, b) per method; rk4, tanh"
          % (max(1, args.repeat // args.blocks) * args.blocks))
    head = ("| width | batch | steps | snode ms | snode eval/s | snode GFLOP/s | % " + gemm
            + " | snode peak MiB |")
    sep = "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for name in names[1:]:
        head += f" {name} ms | {name} GFLOP/s | {name} peak MiB |"
        sep += "---:|---:|---:|"
    if len(names) > 1:
        head += " x best peer |"
        sep += "---:|"
    print(head)
    print(sep)
    # agreement of the gradients: float64 to rounding, float32 to its precision (a check that
    # the comparison is fair)
    agree = 1e-10 if dtype == "float64" else 1e-3
    out = {}
    for d, N, K in configs:
        W, b, X, Y = make_problem(d, N, K)
        if dtype == "float32":  # (the same numbers for every method)
            W, b, X, Y = (a.astype(np.float32).astype(np.float64) for a in (W, b, X, Y))
        methods = [METHODS[name](W, b, X, Y, args.threads, dtype) for name in names]
        ref = [m() for m in methods]
        gs = np.asarray(ref[0][1], dtype=np.float64)
        for m, r in zip(methods[1:], ref[1:]):
            g = np.asarray(r[1], dtype=np.float64)
            err = np.abs(gs - g).max() / np.abs(g).max()
            if not err < agree:
                raise SystemExit(f"snode and {m.name} gradients differ (rel {err:.2e}) at "
                                 f"{d, N, K} in {dtype}")
        times = {m.name: [] for m in methods}
        per_block = max(1, args.repeat // args.blocks)
        for _ in range(args.blocks):
            for m in methods:
                # warm-up of the block, at least 0.2 s: the other methods' idle threads stop
                # spinning, and the caches, this method's threads and the clock are warm
                t_warm = time.perf_counter() + 0.2
                m()
                while time.perf_counter() < t_warm:
                    m()
                for _ in range(per_block):
                    t0 = time.perf_counter()
                    m()
                    times[m.name].append(time.perf_counter() - t0)
        del methods, ref
        gc.collect()
        mem = {name: peak_in_subprocess(name, d, N, K, args.threads, dtype) for name in names}
        flops = 24.0 * N * d * d * K
        med = {name: statistics.median(times[name]) for name in names}
        ts = med["snode"]
        out[(d, N, K)] = ts * 1e3

        def fmt_mem(v):
            return "n/a" if v is None else f"{v:.1f}"

        row = (f"| {d} | {N} | {K} | {ts * 1e3:.2f} | {1 / ts:.0f} | {flops / ts / 1e9:.1f} "
               f"| {100 * flops / ts / 1e9 / peak:.0f} % | {fmt_mem(mem['snode'])} |")
        for name in names[1:]:
            row += (f" {med[name] * 1e3:.2f} | {flops / med[name] / 1e9:.1f} "
                    f"| {fmt_mem(mem[name])} |")
        if len(names) > 1:
            row += f" {min(med[n] for n in names[1:]) / ts:.1f}x |"
        print(row, flush=True)
    return out


if __name__ == "__main__":
    main()
