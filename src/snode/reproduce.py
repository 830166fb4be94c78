"""The reproduction report: ``snode reproduce [--quick] [--out DIR] [--mnist DIR]``.

Runs the method's experiments end to end and writes ``DIR/report.md``, PNG figures and
``DIR/report.json`` (every number, the seeds, the versions and the timings):

1. teacher: reconstructing a known network (NCG with the Sobolev metric and with the L2
   metric, gradient descent, Adam), cost against iterations and wall time, the weights over
   depth beside the teacher's;
2. spirals and circles: NCG against gradient descent with momentum and Adam on the same
   network and budget, and scikit-learn's MLPClassifier when installed; cost curves and
   decision regions;
3. the Sobolev against the L2 metric: the weights over depth;
4. the sensitivity problem: the linearisation's error against the perturbation size, and the
   linearised output uncertainty against Monte Carlo over noise levels;
5. robustness on digits (scikit-learn's; and MNIST 14 x 14 in the authors' configuration with
   ``--mnist``): DeepFool's minimal perturbations and the accuracy against epsilon for the
   NCG-trained sNODE and a ResNet of the same shape (explicit Euler) trained by SGD and by
   Adam, with the check for masked gradients.

Where the method loses, the report says so. ``--quick`` runs every section small (about a
10 s on 2 cores without MNIST); the full run is larger (see ``SIZES``).
"""
import json
import os
import platform
import sys
import time

import numpy as np

from . import __version__, analysis
from .cost import Cost
from . import data as synthetic
from .exceptions import LineSearchWarning
from .model import SNODE
from .optim import NCG, Adam, GradientDescent

__all__ = ["run", "SIZES"]

#: Problem sizes of the quick and the full run.
SIZES = {
    "quick": dict(teacher_n=200, teacher_steps=10, teacher_iter=150, synth_n=300,
                  synth_iter=150, digits_iter=40, digits_test=120, noise_samples=150,
                  mnist_train=2000, mnist_epochs=1, mnist_test=50),
    "full": dict(teacher_n=1000, teacher_steps=20, teacher_iter=1000, synth_n=1000,
                 synth_iter=800, digits_iter=300, digits_test=450, noise_samples=600,
                 mnist_train=60000, mnist_epochs=10, mnist_test=1000),
}


#: Weight-noise analysis of the robustness sections: test images and random probes.
NOISE_SAMPLES = 100
NOISE_PROBES = 32


class _Report:
    def __init__(self, out, progress):
        self.out, self.progress = out, progress
        self.lines, self.numbers, self.figures = [], {}, []
        self.t0 = time.perf_counter()

    def section(self, title):
        self.progress(f"[{time.perf_counter() - self.t0:6.1f} s] {title}")
        self.lines += ["", f"## {title}", ""]

    def text(self, *lines):
        self.lines.extend(lines)

    def figure(self, fig, name, caption):
        path = os.path.join(self.out, name)
        fig.savefig(path, dpi=90, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        self.figures.append(name)
        self.lines += ["", f"![{caption}]({name})", "", f"*{caption}*", ""]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _trace(opt, net, cost, X, Y=None, labels=None):
    """Train; return (cost per iteration, seconds per iteration, result)."""
    res = opt.minimize(net, cost, X, Y, labels)
    return res.history["cost"], res.history["time"], res


def _weight_error(net, teacher):
    num = np.sum((net.W - teacher.W) ** 2) + np.sum((net.b - teacher.b) ** 2)
    return float(np.sqrt(num / (np.sum(teacher.W ** 2) + np.sum(teacher.b ** 2))))


def _teacher(rep, size, threads, seed):
    rep.section("1. Teacher: reconstructing a known network")
    K = size["teacher_steps"]
    X, Y, teacher = synthetic.teacher(size["teacher_n"], width=4, n_steps=K, seed=seed)
    cost = Cost(mse=1.0)
    runs = {"NCG (Sobolev)": NCG(max_iter=size["teacher_iter"], tol=0.0),
            "NCG (L2)": NCG(metric="l2", max_iter=size["teacher_iter"], tol=0.0),
            "gradient descent": GradientDescent(lr=0.1, momentum=0.9,
                                                max_iter=size["teacher_iter"], tol=0.0),
            "Adam": Adam(lr=0.03, max_iter=size["teacher_iter"], tol=0.0)}
    out, nets = {}, {}
    for name, opt in runs.items():
        net = SNODE(4, K, T=1.0, init="smooth", seed=seed + 1, n_threads=threads)
        J, t, res = _trace(opt, net, cost, X, Y)
        nets[name] = net
        out[name] = dict(final_cost=float(res.fun), seconds=float(t[-1]), iterations=len(J),
                         weight_error=_weight_error(net, teacher),
                         total_variation=analysis.smoothness(net)["total_variation"],
                         cost=J.tolist(), time=t.tolist())
    tv_teacher = analysis.smoothness(teacher)["total_variation"]
    rep.numbers["teacher"] = dict(runs=out, teacher_total_variation=tv_teacher, steps=K,
                                  samples=size["teacher_n"])
    rep.text("| optimiser | final cost | seconds | relative weight error | total variation "
             f"(teacher {tv_teacher:.3g}) |", "|---|---:|---:|---:|---:|",
             *[f"| {k} | {v['final_cost']:.3g} | {v['seconds']:.2f} | "
               f"{v['weight_error']:.3f} | {v['total_variation']:.3g} |" for k, v in out.items()])
    best = min(out, key=lambda k: out[k]["final_cost"])
    rep.text("", f"Lowest final cost: {best}. " + (
        "NCG with the Sobolev metric reached it." if best == "NCG (Sobolev)" else
        f"NCG with the Sobolev metric did not ({out['NCG (Sobolev)']['final_cost']:.3g} "
        f"against {out[best]['final_cost']:.3g})."))
    plt = _plt()
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    for name, v in out.items():
        ax[0].semilogy(v["cost"], label=name)
        ax[1].semilogy(v["time"], v["cost"], label=name)
    ax[0].set_xlabel("iteration"), ax[1].set_xlabel("seconds")
    ax[0].set_ylabel("cost"), ax[0].legend()
    t = np.arange(K) * (1.0 / K)
    for i, (r, c) in enumerate(((0, 0), (0, 1), (1, 0))):
        ax[2].plot(t, teacher.W[:, r, c], "k-", lw=2, label="teacher" if i == 0 else None)
        ax[2].plot(t, nets["NCG (Sobolev)"].W[:, r, c], "C0--",
                   label="NCG (Sobolev)" if i == 0 else None)
        ax[2].plot(t, nets["NCG (L2)"].W[:, r, c], "C1:", label="NCG (L2)" if i == 0 else None)
    ax[2].set_xlabel("depth t"), ax[2].set_title("W(t) entries"), ax[2].legend()
    rep.figure(fig, "teacher.png", "Teacher: cost against iterations and wall time; three "
                                   "entries of W(t), reconstructed and the teacher's")


def _synthetic(rep, size, threads, seed):
    from .estimators import SNODEClassifier

    rep.section("2. Spirals and circles: NCG against gradient methods and an MLP")
    plt = _plt()
    from .plots import decision_regions

    results, trained = {}, {}
    rows = []
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    for r, (name, make) in enumerate((("spirals", synthetic.spirals),
                                      ("circles", synthetic.circles))):
        X, y = make(size["synth_n"], seed=seed)
        Xtr, Xte, ytr, yte = synthetic.train_test_split(X, y, 0.25, seed=seed)
        common = dict(random_state=seed, n_threads=threads, max_iter=size["synth_iter"])
        runs = {"NCG": SNODEClassifier(**common),
                "SGD (momentum 0.9)": SNODEClassifier(optimizer="sgd", lr=0.01, **common),
                "Adam": SNODEClassifier(optimizer="adam", lr=0.03, **common)}
        res = {}
        for label, est in runs.items():
            t0 = time.perf_counter()
            est.fit(Xtr, ytr)
            res[label] = dict(test_accuracy=est.score(Xte, yte), final_cost=float(
                est.result_.fun), seconds=time.perf_counter() - t0,
                cost=est.history_["cost"].tolist())
            axes[r, 0].semilogy(est.history_["cost"], label=label)
        trained[name] = (runs["NCG"], Xtr, ytr)
        try:
            from sklearn.neural_network import MLPClassifier
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mlp = make_pipeline(StandardScaler(), MLPClassifier(random_state=seed)).fit(
                    Xtr, ytr)
            res["MLP (scikit-learn)"] = dict(test_accuracy=float(mlp.score(Xte, yte)))
        except ImportError:
            pass
        axes[r, 0].set_title(f"{name}: training cost"), axes[r, 0].legend()
        axes[r, 0].set_xlabel("iteration")
        decision_regions(runs["NCG"], Xte, yte, ax=axes[r, 1])
        axes[r, 1].set_title(f"{name}: NCG, held-out data")
        results[name] = res
        rows += [f"| {name} | {k} | {v['test_accuracy']:.4f} | "
                 + (f"{v['final_cost']:.3g} | {v['seconds']:.2f} |" if "final_cost" in v
                    else "- | - |") for k, v in res.items()]
    rep.numbers["synthetic"] = results
    ncg = trained["spirals"][0]
    search = {"wolfe": "the strong-Wolfe line search", "sensitivity": "the sensitivity step"}
    rep.text("NCG with the classifier's defaults: "
             + (f"limited-memory BFGS with {ncg.memory_} pairs" if ncg.memory_ else
                "the FR direction")
             + f", the hybrid gradient (weight {ncg.sobolev_weight_:g} on the Sobolev one) and "
             + f"{search[ncg.step_rule_]}.", "")
    rep.text("| data | method | held-out accuracy | final training cost | seconds |",
             "|---|---|---:|---:|---:|", *rows, "")
    for name, res in results.items():
        ncg = res["NCG"]
        others = {k: v for k, v in res.items() if k != "NCG"}
        better = [k for k, v in others.items() if v["test_accuracy"] > ncg["test_accuracy"]]
        lower = [k for k, v in others.items() if v.get("final_cost", np.inf) < ncg["final_cost"]]
        rep.text(f"- {name}: " + (f"held-out accuracy below {', '.join(better)}; " if better
                                  else "held-out accuracy at or above every other method; ")
                 + (f"final training cost above {', '.join(lower)}." if lower
                    else "the lowest final training cost."))
    rep.figure(fig, "synthetic.png", "Training cost per iteration and NCG's decision regions")
    return trained


def _metric(rep, trained, size, threads, seed):
    from .estimators import SNODEClassifier

    rep.section("3. The metric in depth: the Sobolev, the hybrid and the L2 gradient")
    est, Xtr, ytr = trained["spirals"]  # (the default: the hybrid gradient)
    runs = {"Sobolev": SNODEClassifier(random_state=seed, n_threads=threads,
                                       max_iter=size["synth_iter"], sobolev_weight=1.0),
            "hybrid (the default)": est,
            "L2": SNODEClassifier(random_state=seed, n_threads=threads,
                                  max_iter=size["synth_iter"], sobolev_alpha=None)}
    for name, run in runs.items():
        if run is not est:
            run.fit(Xtr, ytr)
    tv = {k: analysis.smoothness(r.net_)["total_variation"] for k, r in runs.items()}
    cost = {k: float(r.result_.fun) for k, r in runs.items()}
    rep.numbers["metric"] = dict(total_variation=tv, final_cost=cost)
    rep.text("NCG on spirals with the Sobolev gradient (alpha = (T/6)^2), the hybrid gradient "
             f"(the default: weight {est.sobolev_weight_:g} on the Sobolev gradient, the rest "
             "on the L2 one) and the L2 gradient. "
             "Total variation of the weights over depth: "
             + ", ".join(f"{k} {v:.3g}" for k, v in tv.items()) + "; final training cost: "
             + ", ".join(f"{k} {v:.3g}" for k, v in cost.items()) + ".")
    plt = _plt()
    from .plots import weights_over_depth

    fig, ax = plt.subplots(1, 3, figsize=(18, 4))
    for axis, (name, run) in zip(ax, runs.items()):
        weights_over_depth(run.net_, ax=axis)
        axis.set_title(f"{name.split(' ')[0]} gradient" + (" (default)" if run is est else ""))
    rep.figure(fig, "metric.png", "Every weight over depth, NCG on spirals with each metric")


def _sensitivity(rep, trained, size, seed):
    rep.section("4. The sensitivity problem: linearisation error and uncertainty")
    est, Xtr, _ = trained["spirals"]
    net = est.net_
    X = est.initial_state(Xtr[:100])
    rng = np.random.default_rng(seed)
    dW, db = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    scale = np.sqrt(np.sum(net.W ** 2) + np.sum(net.b ** 2)) / np.sqrt(dW.size + db.size)
    dW, db = dW * scale, db * scale
    # sizes relative to the weights' norm (the direction has the weights' norm)
    sizes = np.logspace(-6, -1, 11)
    resp = analysis.perturbation_response(net, X, dW, db, sizes)
    err = resp.error
    fit = np.polyfit(np.log(sizes[:5]), np.log(err[:5]), 1)[0]
    sigmas = np.logspace(-5, -1, 9) * scale
    sweep = analysis.noise_sweep(net, X[:40], sigmas, samples=size["noise_samples"], seed=seed)
    rep.numbers["sensitivity"] = dict(sizes=sizes.tolist(), error=err.tolist(), slope=fit,
                                      sigmas=sigmas.tolist(),
                                      discrepancy=sweep.discrepancy.tolist(),
                                      limit=sweep.limit)
    rep.text("Spirals, the NCG-trained network, a random weight direction as long as the "
             "weights: the linearisation's error falls with slope "
             f"{fit:.2f} in the perturbation size over its five smallest sizes (2 expected: the "
             "sensitivity is the exact derivative). The linearised output spread under weight "
             "noise (per weight, standard deviation sigma) agrees with Monte Carlo "
             + (f"below sigma = {sweep.limit:.3g}, where the relative discrepancy first "
                "exceeds 0.2 (the weights' root mean square is "
                f"{scale:.3g})." if np.isfinite(sweep.limit) else "at every level tried."))
    plt = _plt()
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    ax[0].loglog(sizes, err, "o-", label="|actual - predicted|")
    ax[0].loglog(sizes, err[0] * (sizes / sizes[0]) ** 2, "k:", label="slope 2")
    ax[0].set_xlabel("perturbation size s (relative to the weights)"), ax[0].legend()
    ax[1].semilogx(sigmas, sweep.discrepancy, "o-")
    ax[1].axhline(0.2, color="k", ls=":")
    ax[1].set_xlabel("weight noise sigma"), ax[1].set_ylabel("|MC - linearised| / |linearised|")
    rep.figure(fig, "sensitivity.png", "Linearisation error against perturbation size; "
                                       "linearised uncertainty against Monte Carlo")


def _robustness(rep, name, Xtr, ytr, Xte, yte, C, make_snode, make_resnets, n_test, seed):
    n_test = min(n_test, len(Xte))
    n_noise = min(NOISE_SAMPLES, n_test)
    models = {"sNODE (NCG)": make_snode()}
    models.update(make_resnets())
    eps_grid = None
    out = {}
    plt = _plt()
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for label, est in models.items():
        t0 = time.perf_counter()
        est.fit(Xtr, ytr)
        seconds = time.perf_counter() - t0
        net = est.net_
        Xs = est.scaler_.transform(Xte[:n_test])
        labels = np.searchsorted(est.classes_, yte[:n_test])
        # the box of valid inputs: the range of the scaled pixels, training and test
        train_s = est.scaler_.transform(Xtr)
        lo = float(min(train_s.min(), Xs.min()))
        hi = float(max(train_s.max(), Xs.max()))
        res = analysis.deepfool(net, Xs, labels, C, bounds=(lo, hi),
                                input_offset=est.input_offset_)
        norms = res.norm[res.success]
        if eps_grid is None:
            top = np.percentile(norms, 95) if norms.size else 1.0
            eps_grid = np.linspace(0.0, 1.5 * top, 16)
        ra = analysis.robust_accuracy(res, eps_grid)
        mask = analysis.masking_check(net, Xs, labels, C, 2 * eps_grid[-1], norm=2, steps=50,
                                      bounds=(lo, hi), seed=seed,
                                      input_offset=est.input_offset_)
        # weight noise: the linearised standard deviation of the class scores per unit of
        # noise on every weight (random probes), root mean square over samples and classes
        spread = analysis.output_covariance(net, est.initial_state(Xte[:n_noise]), 1.0,
                                            probes=NOISE_PROBES, seed=seed,
                                            diagonal=True)[:, :C]
        rms_weight = float(np.sqrt((np.sum(net.W ** 2) + np.sum(net.b ** 2))
                                   / (net.W.size + net.b.size)))
        out[label] = dict(test_accuracy=est.score(Xte, yte), seconds=seconds,
                          median_norm=float(np.median(norms)) if norms.size else None,
                          fooled=float(res.success.mean()),
                          robust_over_all=ra["over_all"].tolist(),
                          robust_over_correct=ra["over_correct"].tolist(),
                          masking_check=dict(accuracy=mask["accuracy"], passed=mask["passed"]),
                          noise_spread=float(np.sqrt(np.mean(spread ** 2))),
                          rms_weight=rms_weight)
        if norms.size:
            ax[0].hist(norms, bins=30, alpha=0.5, label=label)
        ax[1].plot(eps_grid, ra["over_all"], label=label)
    ax[0].set_xlabel("minimal L2 perturbation (DeepFool)"), ax[0].legend()
    ax[0].set_ylabel("test images")
    ax[1].set_xlabel("epsilon (L2)"), ax[1].set_ylabel("robust accuracy (all samples)")
    ax[1].legend()
    rep.numbers[f"robustness_{name}"] = dict(epsilons=eps_grid.tolist(), models=out,
                                            test_samples=n_test)
    rep.text(f"Attacks in the L2 norm on the first {n_test} test images, inside the box of "
             "the scaled pixel values: DeepFool's minimal perturbations, and projected "
             "gradient ascent at twice the largest epsilon of the figure as the check for "
             "masked gradients. Held-out accuracy is on the whole test set. Weight noise: "
             "the linearised standard deviation of the class scores under independent "
             "Gaussian noise on every weight, per unit of its standard deviation (root mean "
             f"square over the first {n_noise} test images and the classes; "
             f"{NOISE_PROBES} random sensitivity probes), beside the weights' root mean square.",
             "", "| model | held-out accuracy | median minimal L2 perturbation | fooled | masking "
             "check (accuracy at 2 x largest epsilon) | score spread per unit weight noise | "
             "rms weight |", "|---|---:|---:|---:|---|---:|---:|",
             *[f"| {k} | {v['test_accuracy']:.4f} | "
               f"{v['median_norm'] if v['median_norm'] is None else round(v['median_norm'], 4)}"
               f" | {v['fooled']:.2f} | {'passed' if v['masking_check']['passed'] else 'FAILED'}"
               f" ({v['masking_check']['accuracy']:.2f}) | {v['noise_spread']:.3g} | "
               f"{v['rms_weight']:.3g} |" for k, v in out.items()], "")
    snode_norm = out["sNODE (NCG)"]["median_norm"] or 0.0
    others = [k for k, v in out.items() if k != "sNODE (NCG)" and
              (v["median_norm"] or 0.0) > snode_norm]
    rep.text("The NCG-trained sNODE needs " + (
        f"smaller median perturbations than {', '.join(others)}: on this evidence it is the "
        "less robust." if others else "the largest median perturbation of the models here."))
    calmer = [k for k, v in out.items() if k != "sNODE (NCG)" and
              v["noise_spread"] < out["sNODE (NCG)"]["noise_spread"]]
    rep.text("Under weight noise its class scores spread " + (
        f"more than those of {', '.join(calmer)}." if calmer else
        "least of the models here."))
    rep.figure(fig, f"robustness_{name}.png", f"{name}: minimal attack norms and robust "
                                             "accuracy against epsilon")


def _digits(rep, size, threads, seed):
    rep.section("5. Robustness on digits")
    try:
        X, y = synthetic.digits()
    except ImportError:
        rep.text("Skipped: scikit-learn is not installed (`pip install scikit-learn`).")
        return
    from .estimators import SNODEClassifier

    Xtr, Xte, ytr, yte = synthetic.train_test_split(X, y, 0.25, seed=seed)
    it = size["digits_iter"]
    common = dict(n_steps=20, T=6.0, scale="range", random_state=seed, n_threads=threads,
                  max_iter=it)

    def resnets():
        return {"ResNet (SGD)": SNODEClassifier(scheme="euler", optimizer="sgd", lr=0.01,
                                                **common),
                "ResNet (Adam)": SNODEClassifier(scheme="euler", optimizer="adam", lr=0.003,
                                                 **common)}

    rep.text("Networks: width 74 (the 10 classes' components, then the 64 pixels), 20 steps "
             f"over T = 6, {it} full-batch iterations, pixels scaled to [-1, 1]; the ResNets "
             "are the same shape with explicit Euler steps.", "")
    _robustness(rep, "digits", Xtr, ytr, Xte, yte, 10, lambda: SNODEClassifier(**common),
                resnets, size["digits_test"], seed)


def _load_mnist(path):
    from .data import mnist

    return mnist(path, "train"), mnist(path, "test")


def _mnist(rep, data, size, threads, seed):
    rep.section("6. Robustness on MNIST 14 x 14 in the authors' configuration")
    from .estimators import SNODEClassifier

    (Xtr, ytr), (Xte, yte) = data
    n = size["mnist_train"]
    Xtr, ytr = Xtr[:n], ytr[:n]

    def snode_():
        return SNODEClassifier.from_preset("baravdish2022", epochs=size["mnist_epochs"],
                                           random_state=seed, n_threads=threads)

    def resnets():
        base = dict(width="inputs", n_steps=150, T=3.0, scheme="euler", loss="mse",
                    scale="image", batch_size=100, epochs=size["mnist_epochs"],
                    random_state=seed, n_threads=threads, decay=0.0)
        return {"ResNet (SGD)": SNODEClassifier(optimizer="sgd", lr=0.01, **base),
                "ResNet (Adam)": SNODEClassifier(optimizer="adam", lr=1e-3, **base)}

    reduced = len(Xtr) < 60000 or size["mnist_epochs"] < 10
    rep.text(f"{len(Xtr)} training images, {size['mnist_epochs']} epoch(s)"
             + (" (reduced from the authors' 60000 images and 10 epochs, which take hours on "
                "a few cores; `--mnist-train` and `--mnist-epochs` set them)" if reduced
                else " (the authors' sizes)")
             + "; the ResNets are the same network trained by SGD (momentum 0.9) and Adam "
             "with batches of 100.", "")
    _robustness(rep, "mnist", Xtr, ytr, Xte, yte, 10, snode_, resnets, size["mnist_test"],
                seed)


def run(out, quick=False, mnist=None, threads=None, seed=0, progress=print, mnist_train=None,
        mnist_epochs=None):
    """Run the experiments and write ``out/report.md``, ``out/report.json`` and the figures.

    Parameters
    ----------
    out : str or path-like
        The folder (created if missing).
    quick : bool
        Small sizes (about 10 s on 2 cores without MNIST).
    mnist : str or path-like, optional
        A folder with the MNIST files, for section 6.
    mnist_train : int, optional
        Train on the first `mnist_train` training images (default: all 60000 in the full
        run, as the authors did; 2000 in the quick one).
    mnist_epochs : int, optional
        Epochs over them (default: the authors' 10 in the full run, 1 in the quick one).
        The authors' full configuration takes hours on 2 cores; the report states the sizes
        it ran.
    threads : int, optional
    seed : int
    progress : callable
        Called with one line per section.

    Returns
    -------
    dict
        Every number of the report (as written to report.json).

    Raises
    ------
    ImportError
        Without matplotlib.
    ValueError
        If `out` cannot be written, or `mnist_train` or `mnist_epochs` is not a positive
        integer.
    """
    import warnings

    from ._validate import check_int

    _plt()  # (ImportError first, before any work)
    seed = check_int(seed, "seed", 0)
    size = dict(SIZES["quick" if quick else "full"])
    if mnist_train is not None:
        size["mnist_train"] = check_int(mnist_train, "mnist_train", 1)
    if mnist_epochs is not None:
        size["mnist_epochs"] = check_int(mnist_epochs, "mnist_epochs", 1)
    data = None if mnist is None else _load_mnist(mnist)  # (its errors before any work)
    if data is not None:
        (_, ytr), (_, yte) = data
        missing = np.setdiff1d(np.unique(yte), ytr[:size["mnist_train"]])
        if missing.size:
            raise ValueError(f"the first {size['mnist_train']} MNIST training images lack "
                             f"the class(es) {missing.tolist()} of the test images; train on "
                             "more (--mnist-train)")
    out = os.fspath(out)
    os.makedirs(out, exist_ok=True)
    if not os.access(out, os.W_OK):
        raise ValueError(f"the folder {out} is not writable")
    rep = _Report(out, progress)
    rep.text(f"# snode reproduction report ({'quick' if quick else 'full'} run)", "",
             f"snode {__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}, "
             f"{platform.machine()}, {os.cpu_count()} CPUs, seed {seed}.",
             "Generated by `snode reproduce`; the numbers are in report.json.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineSearchWarning)
        _teacher(rep, size, threads, seed)
        trained = _synthetic(rep, size, threads, seed)
        _metric(rep, trained, size, threads, seed)
        _sensitivity(rep, trained, size, seed)
        _digits(rep, size, threads, seed)
        if data is not None:
            _mnist(rep, data, size, threads, seed)
    seconds = time.perf_counter() - rep.t0
    rep.numbers["meta"] = dict(version=__version__, numpy=np.__version__,
                               python=sys.version.split()[0], machine=platform.machine(),
                               cpus=os.cpu_count(), seed=seed, quick=bool(quick),
                               seconds=seconds, figures=rep.figures, sizes=size)
    rep.text("", f"Total time {seconds:.0f} s.")
    _write(os.path.join(out, "report.md"), "\n".join(rep.lines) + "\n")
    _write(os.path.join(out, "report.json"), json.dumps(rep.numbers, indent=1, default=float))
    progress(f"[{seconds:6.1f} s] report written to {os.path.join(out, 'report.md')}")
    return rep.numbers


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
