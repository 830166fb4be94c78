"""The experiments of the reproduction report: each runs one of the method's experiments and
returns what it measured (numbers for report.json, and what the figures draw); the report
writer (:mod:`.report`) turns them into text and figures."""
import time
import warnings

import numpy as np

from .. import analysis, data
from ..cost import Cost
from ..estimators import SNODEClassifier
from ..model import SNODE
from ..optim import NCG, Adam, GradientDescent

__all__ = ["SIZES", "NOISE_SAMPLES", "NOISE_PROBES", "teacher", "synthetic", "metric",
           "sensitivity", "robustness", "digits", "mnist", "load_mnist"]

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


def _weight_error(net, reference):
    num = np.sum((net.W - reference.W) ** 2) + np.sum((net.b - reference.b) ** 2)
    return float(np.sqrt(num / (np.sum(reference.W ** 2) + np.sum(reference.b ** 2))))


def teacher(size, threads, seed):
    """Section 1: reconstructing a known network (NCG with the Sobolev and the L2 metric,
    gradient descent, Adam). Returns (numbers, nets, the teacher)."""
    K = size["teacher_steps"]
    X, Y, true = data.teacher(size["teacher_n"], width=4, n_steps=K, seed=seed)
    cost = Cost(mse=1.0)
    runs = {"NCG (Sobolev)": NCG(max_iter=size["teacher_iter"], tol=0.0),
            "NCG (L2)": NCG(metric="l2", max_iter=size["teacher_iter"], tol=0.0),
            "gradient descent": GradientDescent(lr=0.1, momentum=0.9,
                                                max_iter=size["teacher_iter"], tol=0.0),
            "Adam": Adam(lr=0.03, max_iter=size["teacher_iter"], tol=0.0)}
    out, nets = {}, {}
    for name, opt in runs.items():
        net = SNODE(4, K, T=1.0, init="smooth", seed=seed + 1, n_threads=threads)
        res = opt.minimize(net, cost, X, Y)
        J, t = res.history["cost"], res.history["time"]
        nets[name] = net
        out[name] = dict(final_cost=float(res.fun), seconds=float(t[-1]), iterations=len(J),
                         weight_error=_weight_error(net, true),
                         total_variation=analysis.smoothness(net)["total_variation"],
                         cost=J.tolist(), time=t.tolist())
    numbers = dict(runs=out,
                   teacher_total_variation=analysis.smoothness(true)["total_variation"],
                   steps=K, samples=size["teacher_n"])
    return numbers, nets, true


def synthetic(size, threads, seed):
    """Section 2: spirals and circles, NCG against gradient descent with momentum and Adam on
    the same network, and scikit-learn's MLP when installed. Returns (numbers per data set,
    {data set: (the NCG estimator, Xtr, ytr, Xte, yte, the estimators by method)})."""
    results, trained = {}, {}
    for name, make in (("spirals", data.spirals), ("circles", data.circles)):
        X, y = make(size["synth_n"], seed=seed)
        Xtr, Xte, ytr, yte = data.train_test_split(X, y, 0.25, seed=seed)
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
        trained[name] = (runs["NCG"], Xtr, ytr, Xte, yte, runs)
        try:
            from sklearn.neural_network import MLPClassifier
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mlp = make_pipeline(StandardScaler(), MLPClassifier(random_state=seed)).fit(
                    Xtr, ytr)
            res["MLP (scikit-learn)"] = dict(test_accuracy=float(mlp.score(Xte, yte)))
        except ImportError:
            pass
        results[name] = res
    return results, trained


def metric(est, Xtr, ytr, size, threads, seed):
    """Section 3: NCG on the same data with the Sobolev, the hybrid (`est`, the default) and
    the L2 gradient. Returns (numbers, the estimators by metric)."""
    runs = {"Sobolev": SNODEClassifier(random_state=seed, n_threads=threads,
                                       max_iter=size["synth_iter"], sobolev_weight=1.0),
            "hybrid (the default)": est,
            "L2": SNODEClassifier(random_state=seed, n_threads=threads,
                                  max_iter=size["synth_iter"], sobolev_alpha=None)}
    for run in runs.values():
        if run is not est:
            run.fit(Xtr, ytr)
    tv = {k: analysis.smoothness(r.net_)["total_variation"] for k, r in runs.items()}
    cost = {k: float(r.result_.fun) for k, r in runs.items()}
    return dict(total_variation=tv, final_cost=cost), runs


def sensitivity(est, Xtr, size, seed):
    """Section 4: the linearisation's error against the perturbation size, and the linearised
    uncertainty against Monte Carlo over noise levels. Returns (numbers, the weights' root
    mean square, the noise sweep)."""
    net = est.net_
    X = est.initial_state(Xtr[:100])
    rng = np.random.default_rng(seed)
    dW, db = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    scale = np.sqrt(np.sum(net.W ** 2) + np.sum(net.b ** 2)) / np.sqrt(dW.size + db.size)
    dW, db = dW * scale, db * scale
    # sizes relative to the weights' norm (the direction has the weights' norm)
    sizes = np.logspace(-6, -1, 11)
    err = analysis.perturbation_response(net, X, dW, db, sizes).error
    slope = np.polyfit(np.log(sizes[:5]), np.log(err[:5]), 1)[0]
    sigmas = np.logspace(-5, -1, 9) * scale
    sweep = analysis.noise_sweep(net, X[:40], sigmas, samples=size["noise_samples"], seed=seed)
    numbers = dict(sizes=sizes.tolist(), error=err.tolist(), slope=slope,
                   sigmas=sigmas.tolist(), discrepancy=sweep.discrepancy.tolist(),
                   limit=sweep.limit)
    return numbers, scale, sweep


def robustness(Xtr, ytr, Xte, yte, C, models, n_test, seed):
    """Sections 5 and 6: each model (estimators by name, unfitted) trained, attacked by
    DeepFool on the first `n_test` test samples inside the box of the scaled inputs, checked
    for masked gradients, and its class scores' spread under weight noise. Returns (numbers,
    {model: DeepFool's successful norms}, the robust accuracy by model)."""
    n_test = min(n_test, len(Xte))
    n_noise = min(NOISE_SAMPLES, n_test)
    eps_grid = None
    out, norms_of, robust = {}, {}, {}
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
        norms_of[label], robust[label] = norms, ra["over_all"]
    numbers = dict(epsilons=eps_grid.tolist(), models=out, test_samples=n_test)
    return numbers, norms_of, robust, n_noise


def digits(size, threads, seed):
    """Section 5's data and models: scikit-learn's digits, the NCG-trained sNODE and ResNets
    of the same shape. Returns (Xtr, ytr, Xte, yte, models), or None without scikit-learn."""
    try:
        X, y = data.digits()
    except ImportError:
        return None
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, 0.25, seed=seed)
    common = dict(n_steps=20, T=6.0, scale="range", random_state=seed, n_threads=threads,
                  max_iter=size["digits_iter"])
    models = {"sNODE (NCG)": SNODEClassifier(**common),
              "ResNet (SGD)": SNODEClassifier(scheme="euler", optimizer="sgd", lr=0.01,
                                              **common),
              "ResNet (Adam)": SNODEClassifier(scheme="euler", optimizer="adam", lr=0.003,
                                               **common)}
    return Xtr, ytr, Xte, yte, models


def load_mnist(path):
    """MNIST's training and test sets from a folder: ((Xtr, ytr), (Xte, yte))."""
    return data.mnist(path, "train"), data.mnist(path, "test")


def mnist(loaded, size, threads, seed):
    """Section 6's data and models: the first images of MNIST (14 x 14) and the authors'
    configuration, with ResNets of the same shape. Returns (Xtr, ytr, Xte, yte, models)."""
    (Xtr, ytr), (Xte, yte) = loaded
    n = size["mnist_train"]
    Xtr, ytr = Xtr[:n], ytr[:n]
    base = dict(width="inputs", n_steps=150, T=3.0, scheme="euler", loss="mse",
                scale="image", batch_size=100, epochs=size["mnist_epochs"],
                random_state=seed, n_threads=threads, decay=0.0)
    models = {"sNODE (NCG)": SNODEClassifier.from_preset(
                  "baravdish2022", epochs=size["mnist_epochs"], random_state=seed,
                  n_threads=threads),
              "ResNet (SGD)": SNODEClassifier(optimizer="sgd", lr=0.01, **base),
              "ResNet (Adam)": SNODEClassifier(optimizer="adam", lr=1e-3, **base)}
    return Xtr, ytr, Xte, yte, models
