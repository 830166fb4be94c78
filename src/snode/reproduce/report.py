"""The report writer of ``snode reproduce``: the text, tables and figures of each section from
what the experiments (:mod:`.experiments`) measured, and the files report.md and report.json
(written atomically)."""
import json
import os
import time

import numpy as np

from .experiments import NOISE_PROBES

__all__ = ["Report", "pyplot", "teacher", "synthetic", "metric", "sensitivity", "robustness",
           "digits_intro", "mnist_intro"]


def pyplot():
    """matplotlib's pyplot on the Agg backend (ImportError without matplotlib)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


class Report:
    """The report being written: its lines, its numbers (report.json), its figures."""

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
        pyplot().close(fig)
        self.figures.append(name)
        self.lines += ["", f"![{caption}]({name})", "", f"*{caption}*", ""]

    def write(self):
        """report.md and report.json in the report's folder."""
        _write(os.path.join(self.out, "report.md"), "\n".join(self.lines) + "\n")
        _write(os.path.join(self.out, "report.json"),
               json.dumps(self.numbers, indent=1, default=float))


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def teacher(rep, numbers, nets, true):
    rep.numbers["teacher"] = numbers
    out, tv_teacher, K = numbers["runs"], numbers["teacher_total_variation"], numbers["steps"]
    rep.text("| optimiser | final cost | seconds | relative weight error | total variation "
             f"(teacher {tv_teacher:.3g}) |", "|---|---:|---:|---:|---:|",
             *[f"| {k} | {v['final_cost']:.3g} | {v['seconds']:.2f} | "
               f"{v['weight_error']:.3f} | {v['total_variation']:.3g} |" for k, v in out.items()])
    best = min(out, key=lambda k: out[k]["final_cost"])
    rep.text("", f"Lowest final cost: {best}. " + (
        "NCG with the Sobolev metric reached it." if best == "NCG (Sobolev)" else
        f"NCG with the Sobolev metric did not ({out['NCG (Sobolev)']['final_cost']:.3g} "
        f"against {out[best]['final_cost']:.3g})."))
    plt = pyplot()
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    for name, v in out.items():
        ax[0].semilogy(v["cost"], label=name)
        ax[1].semilogy(v["time"], v["cost"], label=name)
    ax[0].set_xlabel("iteration"), ax[1].set_xlabel("seconds")
    ax[0].set_ylabel("cost"), ax[0].legend()
    t = np.arange(K) * (1.0 / K)
    for i, (r, c) in enumerate(((0, 0), (0, 1), (1, 0))):
        ax[2].plot(t, true.W[:, r, c], "k-", lw=2, label="teacher" if i == 0 else None)
        ax[2].plot(t, nets["NCG (Sobolev)"].W[:, r, c], "C0--",
                   label="NCG (Sobolev)" if i == 0 else None)
        ax[2].plot(t, nets["NCG (L2)"].W[:, r, c], "C1:", label="NCG (L2)" if i == 0 else None)
    ax[2].set_xlabel("depth t"), ax[2].set_title("W(t) entries"), ax[2].legend()
    rep.figure(fig, "teacher.png", "Teacher: cost against iterations and wall time; three "
                                   "entries of W(t), reconstructed and the teacher's")


def synthetic(rep, results, trained):
    from ..plots import decision_regions

    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    rows = []
    for r, (name, res) in enumerate(results.items()):
        ncg_est, _, _, Xte, yte, runs = trained[name]
        for label, est in runs.items():
            axes[r, 0].semilogy(est.history_["cost"], label=label)
        axes[r, 0].set_title(f"{name}: training cost"), axes[r, 0].legend()
        axes[r, 0].set_xlabel("iteration")
        decision_regions(ncg_est, Xte, yte, ax=axes[r, 1])
        axes[r, 1].set_title(f"{name}: NCG, held-out data")
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
        ncg_res = res["NCG"]
        others = {k: v for k, v in res.items() if k != "NCG"}
        better = [k for k, v in others.items()
                  if v["test_accuracy"] > ncg_res["test_accuracy"]]
        lower = [k for k, v in others.items()
                 if v.get("final_cost", np.inf) < ncg_res["final_cost"]]
        rep.text(f"- {name}: " + (f"held-out accuracy below {', '.join(better)}; " if better
                                  else "held-out accuracy at or above every other method; ")
                 + (f"final training cost above {', '.join(lower)}." if lower
                    else "the lowest final training cost."))
    rep.figure(fig, "synthetic.png", "Training cost per iteration and NCG's decision regions")


def metric(rep, numbers, runs, default):
    from ..plots import weights_over_depth

    rep.numbers["metric"] = numbers
    tv, cost = numbers["total_variation"], numbers["final_cost"]
    rep.text("NCG on spirals with the Sobolev gradient (alpha = (T/6)^2), the hybrid gradient "
             f"(the default: weight {default.sobolev_weight_:g} on the Sobolev gradient, the "
             "rest on the L2 one) and the L2 gradient. "
             "Total variation of the weights over depth: "
             + ", ".join(f"{k} {v:.3g}" for k, v in tv.items()) + "; final training cost: "
             + ", ".join(f"{k} {v:.3g}" for k, v in cost.items()) + ".")
    fig, ax = pyplot().subplots(1, 3, figsize=(18, 4))
    for axis, (name, run) in zip(ax, runs.items()):
        weights_over_depth(run.net_, ax=axis)
        axis.set_title(f"{name.split(' ')[0]} gradient" + (" (default)" if run is default
                                                            else ""))
    rep.figure(fig, "metric.png", "Every weight over depth, NCG on spirals with each metric")


def sensitivity(rep, numbers, scale, sweep):
    rep.numbers["sensitivity"] = numbers
    sizes, err, sigmas = (np.asarray(numbers[k]) for k in ("sizes", "error", "sigmas"))
    rep.text("Spirals, the NCG-trained network, a random weight direction as long as the "
             "weights: the linearisation's error falls with slope "
             f"{numbers['slope']:.2f} in the perturbation size over its five smallest sizes (2 "
             "expected: the sensitivity is the exact derivative). The linearised output spread "
             "under weight noise (per weight, standard deviation sigma) agrees with Monte "
             "Carlo "
             + (f"below sigma = {sweep.limit:.3g}, where the relative discrepancy first "
                "exceeds 0.2 (the weights' root mean square is "
                f"{scale:.3g})." if np.isfinite(sweep.limit) else "at every level tried."))
    fig, ax = pyplot().subplots(1, 2, figsize=(11, 4))
    ax[0].loglog(sizes, err, "o-", label="|actual - predicted|")
    ax[0].loglog(sizes, err[0] * (sizes / sizes[0]) ** 2, "k:", label="slope 2")
    ax[0].set_xlabel("perturbation size s (relative to the weights)"), ax[0].legend()
    ax[1].semilogx(sigmas, sweep.discrepancy, "o-")
    ax[1].axhline(0.2, color="k", ls=":")
    ax[1].set_xlabel("weight noise sigma"), ax[1].set_ylabel("|MC - linearised| / |linearised|")
    rep.figure(fig, "sensitivity.png", "Linearisation error against perturbation size; "
                                       "linearised uncertainty against Monte Carlo")


def digits_intro(rep, iterations):
    rep.text("Networks: width 74 (the 10 classes' components, then the 64 pixels), 20 steps "
             f"over T = 6, {iterations} full-batch iterations, pixels scaled to [-1, 1]; the "
             "ResNets are the same shape with explicit Euler steps.", "")


def mnist_intro(rep, n_train, epochs):
    reduced = n_train < 60000 or epochs < 10
    rep.text(f"{n_train} training images, {epochs} epoch(s)"
             + (" (reduced from the authors' 60000 images and 10 epochs, which take hours on "
                "a few cores; `--mnist-train` and `--mnist-epochs` set them)" if reduced
                else " (the authors' sizes)")
             + "; the ResNets are the same network trained by SGD (momentum 0.9) and Adam "
             "with batches of 100.", "")


def robustness(rep, name, numbers, norms_of, robust, n_noise):
    rep.numbers[f"robustness_{name}"] = numbers
    out, eps_grid, n_test = numbers["models"], numbers["epsilons"], numbers["test_samples"]
    fig, ax = pyplot().subplots(1, 2, figsize=(11, 4))
    for label in out:
        if norms_of[label].size:
            ax[0].hist(norms_of[label], bins=30, alpha=0.5, label=label)
        ax[1].plot(eps_grid, robust[label], label=label)
    ax[0].set_xlabel("minimal L2 perturbation (DeepFool)"), ax[0].legend()
    ax[0].set_ylabel("test images")
    ax[1].set_xlabel("epsilon (L2)"), ax[1].set_ylabel("robust accuracy (all samples)")
    ax[1].legend()
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
