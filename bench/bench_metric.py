"""The metric in depth: speed against smoothness of NCG under the L2 metric, the Sobolev metric
with alpha = 1 and with alpha = "auto" ((T/6)^2, smoothing over a sixth of the depth), and the
hybrid gradient (half Sobolev with alpha = "auto", half L2: the estimators' default).

    python bench/bench_metric.py [--seeds 5] [--threads 2] [--directions FR,PR+,L-BFGS 20]
                                 [--metrics l2,sobolev alpha=1,auto,hybrid auto 0.5]
                                 [--step sensitivity|wolfe]

Problems: the teacher (the inverse problem: width 4 over T = 1 with 10 and 20 steps, 500
inputs, the teacher and the inputs drawn per seed, smooth initial weights; full-batch NCG,
squared error, no tolerance) and spirals (the classifier's defaults, T = 6 and 60 steps, and
T = 3 with 30 steps, where "auto" is 1/4), each with the conjugate rules FR and PR+ and with
the limited-memory BFGS direction (memory 20). Reported over seeds as median [min-max]:
iterations to reach 1e-4 of the initial cost (teacher, within 1500) or a training cost of 0.1
(spirals, within the classifier's 800; "never" when not reached), and the total variation of
the final weights over depth, sum_i |W_{i+1} - W_i| + |b_{i+1} - b_i|, as it is and relative
to the teacher's (teacher) or to the weights' own size times K (spirals). Lower is better in
all. Every run takes the line search of --step (default the sensitivity step, that of the
the metric table of docs/benchmarks/quality.md; the estimators' own default takes the Wolfe search for L-BFGS).
"""
import argparse
import warnings

import numpy as np

import snode
from snode import datasets as ds

METRICS = {"l2": dict(metric="l2"), "sobolev alpha=1": dict(alpha=1.0, sobolev_weight=1.0),
           "auto": dict(alpha="auto", sobolev_weight=1.0),
           "hybrid auto 0.5": dict(alpha="auto", sobolev_weight=0.5)}


STEP = ["sensitivity"]  # --step: the line search of every run


def total_variation(W, b):
    return np.abs(np.diff(W, axis=0)).sum() + np.abs(np.diff(b, axis=0)).sum()


#: The directions: NCG's conjugacy rules (memory 0) and limited-memory BFGS (memory 20).
RULES = {"FR": dict(beta="FR", memory=0), "PR+": dict(beta="PR+", memory=0),
         "L-BFGS 20": dict(memory=20)}


def teacher(seed, K, beta, options, threads):
    X, Y, teach = ds.teacher(500, width=4, n_steps=K, seed=seed, teacher_seed=seed)
    net = snode.SNODE(4, K, T=1.0, init="smooth", seed=100 + seed, n_threads=threads)
    cost = snode.Cost(mse=1.0)
    J0 = cost(net, X, Y)
    res = snode.NCG(**RULES[beta], max_iter=1500, tol=0.0, step=STEP[0],
                    **options).minimize(net, cost, X, Y)
    hit = np.flatnonzero(res.history["cost"] <= 1e-4 * J0)
    tv = total_variation(net.W, net.b)
    return hit[0] if hit.size else np.inf, tv / total_variation(teach.W, teach.b), tv


def spirals(seed, T, K, beta, options, threads):
    X, y = ds.spirals(1000, seed=0)
    Xtr, _, ytr, _ = ds.train_test_split(X, y, 0.25, seed=seed)
    alpha = None if options.get("metric") == "l2" else options["alpha"]
    est = snode.SNODEClassifier(T=T, n_steps=K, **RULES[beta], sobolev_alpha=alpha,
                                sobolev_weight=options.get("sobolev_weight", 1.0),
                                ncg_options={"step": STEP[0]},
                                random_state=seed, n_threads=threads).fit(Xtr, ytr)
    hit = np.flatnonzero(est.history_["cost"] <= 0.1)
    W, b = est.net_.W, est.net_.b
    size = (np.abs(W).sum() + np.abs(b).sum()) / K
    tv = total_variation(W, b)
    return hit[0] if hit.size else np.inf, tv / size, tv


def summary(values, fmt):
    v = np.asarray(values, dtype=float)
    f = lambda x: "never" if not np.isfinite(x) else fmt.format(x)  # noqa: E731
    return f"{f(np.median(v))} [{f(v.min())}-{f(v.max())}]"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--directions", default=",".join(RULES),
                    help=f"some of {', '.join(RULES)} (comma-separated)")
    ap.add_argument("--metrics", default=",".join(METRICS),
                    help=f"some of {', '.join(METRICS)} (comma-separated)")
    ap.add_argument("--step", default="sensitivity", choices=["sensitivity", "wolfe"],
                    help="the line search of every run (default sensitivity)")
    args = ap.parse_args(argv)
    STEP[0] = args.step
    directions, metrics = args.directions.split(","), args.metrics.split(",")
    for given, known in ((directions, RULES), (metrics, METRICS)):
        if not set(given) <= set(known):
            ap.error(f"unknown: {sorted(set(given) - set(known))}; choose from {list(known)}")
    warnings.simplefilter("ignore", snode.LineSearchWarning)
    print(f"# snode {snode.__version__}, {args.threads} threads, seeds 0-{args.seeds - 1}")
    print("| problem | direction | metric | iterations to the target | total variation "
          "(relative) | total variation |")
    print("|---|---|---|---|---|---|")
    problems = [("teacher K=10", lambda s, b, o: teacher(s, 10, b, o, args.threads)),
                ("teacher K=20", lambda s, b, o: teacher(s, 20, b, o, args.threads)),
                ("spirals T=6 K=60", lambda s, b, o: spirals(s, 6.0, 60, b, o, args.threads)),
                ("spirals T=3 K=30", lambda s, b, o: spirals(s, 3.0, 30, b, o, args.threads))]
    for name, run in problems:
        for beta in directions:
            for label in metrics:
                options = METRICS[label]
                if name.startswith("spirals T=6") and label == "auto":
                    continue  # (T/6)^2 = 1: the same run as alpha = 1
                r = np.array([run(s, beta, options) for s in range(args.seeds)])
                print(f"| {name} | {beta} | {label} | {summary(r[:, 0], '{:.0f}')} | "
                      f"{summary(r[:, 1], '{:.2f}')} | {summary(r[:, 2], '{:.3g}')} |",
                      flush=True)


if __name__ == "__main__":
    main()
