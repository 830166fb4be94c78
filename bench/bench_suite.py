"""The tuning suite: snode's estimators with their defaults beside scikit-learn's MLP, a linear
model and histogram gradient boosting, on shipped, generated and statsmodels' data sets, each
over several seeds of one split rule. The defaults are chosen on it (docs/decisions.md).

    python bench/bench_suite.py [--quick] [--seeds 5] [--sets NAME,...] [--models NAME,...]
                                [--params JSON] [--json FILE] [--threads N]

Needs scikit-learn; statsmodels for its data sets (left out, with a note, without it):
``python -m pip install ".[suite]"``.

Every set is split 70/30 with seed s (stratified for classification), s = 0, 1, ...; every
model sees the same splits and seed s. The models:

- snode: SNODEClassifier / SNODERegressor with their defaults (``--params`` changes some,
  e.g. '{"max_iter": 200}' to try a candidate default), random_state s;
- mlp: MLPClassifier / MLPRegressor with their defaults (random_state s), inputs standardised
  (and the regressor's targets, as snode's are);
- linear: LogisticRegression (max_iter 1000) / Ridge, inputs standardised;
- hgb: HistGradientBoostingClassifier / Regressor with their defaults (random_state s).

Score: held-out accuracy (classification) or R^2 (regression, averaged over target columns);
time: the wall time of ``fit`` and ``predict``. Reported per set: the median and range over
the seeds; then the issue's bars (snode within 0.5 accuracy points / 0.01 R^2 of the MLP's
median, and of the linear model's where it beats the MLP; snode's median time at most the
MLP's on half of the sets and at most max(2 x the MLP's, 1 s) on every set) and which sets
miss them.

--quick: 2 seeds and at most 600 samples a set (a first look in a few minutes; the bars are
the full run's). Sets with more than MAX_SAMPLES samples are subsampled (seeded, the same for
every model) in every mode.
"""
import argparse
import json
import sys
import time
import warnings

import numpy as np

MAX_SAMPLES = 3000
QUICK_SAMPLES = 600
CLF, REG = "classification", "regression"


# --- the data sets -----------------------------------------------------------------------
def _sk(name):
    def load():
        from sklearn import datasets
        d = getattr(datasets, "load_" + name)()
        return np.asarray(d.data, dtype=float), np.asarray(d.target)
    return load


def _make_clf(seed, **kw):
    def load():
        from sklearn.datasets import make_classification
        return make_classification(random_state=seed, **kw)
    return load


def _make_reg(kind, seed, **kw):
    def load():
        from sklearn import datasets
        if kind == "linear":
            X, y = datasets.make_regression(random_state=seed, **kw)
        else:
            X, y = getattr(datasets, "make_" + kind)(random_state=seed, **kw)
        return X, y
    return load


def _sm(name, target, drop=(), categorical=(), task=REG):
    """A statsmodels data set as a task: column `target` against the other columns, `drop`
    left out, `categorical` and text columns one-hot coded."""
    def load():
        import pandas as pd
        from statsmodels import datasets
        frame = getattr(datasets, name).load_pandas().data
        y = frame[target].to_numpy()
        X = frame.drop(columns=[target, *drop])
        X = X.astype({c: str for c in categorical})
        X = np.asarray(pd.get_dummies(X, drop_first=True, dtype=float), dtype=float)
        return X, (y.astype(int) if task == CLF else y.astype(float))
    return load


SETS = {
    # scikit-learn's shipped sets
    "iris": (CLF, _sk("iris")),
    "wine": (CLF, _sk("wine")),
    "breast_cancer": (CLF, _sk("breast_cancer")),
    "digits": (CLF, _sk("digits")),
    "diabetes": (REG, _sk("diabetes")),
    "linnerud": (REG, _sk("linnerud")),
    # generated: label noise, redundant and uninformative features, unequal classes, 2-50 features
    "clf_noisy_20": (CLF, _make_clf(1, n_samples=1000, n_features=20, n_informative=5,
                                    n_redundant=5, flip_y=0.2)),
    "clf_2d_noisy": (CLF, _make_clf(2, n_samples=600, n_features=2, n_informative=2,
                                    n_redundant=0, n_clusters_per_class=2, flip_y=0.1)),
    "clf_unequal_3": (CLF, _make_clf(3, n_samples=1000, n_features=10, n_informative=4,
                                     n_classes=3, weights=[0.7, 0.2, 0.1], flip_y=0.05)),
    "clf_50_sparse": (CLF, _make_clf(4, n_samples=800, n_features=50, n_informative=4,
                                     n_redundant=2, flip_y=0.05)),
    "clf_5class_hard": (CLF, _make_clf(5, n_samples=1500, n_features=15, n_informative=8,
                                       n_classes=5, class_sep=0.7, flip_y=0.1)),
    "reg_linear_noisy": (REG, _make_reg("linear", 1, n_samples=400, n_features=20,
                                        n_informative=5, noise=30.0)),
    "reg_friedman1": (REG, _make_reg("friedman1", 2, n_samples=800, n_features=10, noise=1.0)),
    "reg_friedman2": (REG, _make_reg("friedman2", 3, n_samples=800, noise=50.0)),
    "reg_few_noisy": (REG, _make_reg("linear", 4, n_samples=150, n_features=30,
                                     n_informative=10, noise=20.0)),
    # statsmodels' shipped sets made into tasks
    "sm_randhie": (REG, _sm("randhie", "mdvis")),
    "sm_grunfeld": (REG, _sm("grunfeld", "invest", drop=("year",))),
    "sm_macrodata": (REG, _sm("macrodata", "infl", drop=("year", "quarter"))),
    "sm_ccard": (REG, _sm("ccard", "AVGEXP")),
    "sm_engel": (REG, _sm("engel", "foodexp")),
    "sm_committee": (REG, _sm("committee", "BILLS104")),
    "sm_scotland": (REG, _sm("scotland", "YES")),
    "sm_spector": (CLF, _sm("spector", "GRADE", task=CLF)),
    "sm_modechoice": (CLF, _sm("modechoice", "choice", drop=("individual",),
                               categorical=("mode",), task=CLF)),
}


# --- the models ----------------------------------------------------------------------------
def make_model(name, task, seed, params, threads, multi=False):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    clf = task == CLF
    if name == "snode":
        import snode
        cls = snode.SNODEClassifier if clf else snode.SNODERegressor
        return cls(random_state=seed, n_threads=threads, **params)
    if name == "mlp":
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        if clf:
            return make_pipeline(StandardScaler(), MLPClassifier(random_state=seed))
        return TransformedTargetRegressor(make_pipeline(StandardScaler(),
                                                        MLPRegressor(random_state=seed)),
                                          transformer=StandardScaler())
    if name == "linear":
        from sklearn.linear_model import LogisticRegression, Ridge
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000) if clf
                             else Ridge())
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier as HC
        from sklearn.ensemble import HistGradientBoostingRegressor as HR
        if clf:
            return HC(random_state=seed)
        if multi:  # (one model a target column)
            from sklearn.multioutput import MultiOutputRegressor
            return MultiOutputRegressor(HR(random_state=seed))
        return HR(random_state=seed)
    raise ValueError(f"unknown model {name!r}")


MODELS = ("snode", "mlp", "linear", "hgb")


def score(task, y, pred):
    if task == CLF:
        return float(np.mean(y == pred))
    from sklearn.metrics import r2_score
    return float(r2_score(y, pred))


def run_set(name, seeds, models, params, threads, cap):
    from sklearn.model_selection import train_test_split
    task, load = SETS[name]
    X, y = load()
    if len(X) > cap:  # (the same subsample for every model and seed)
        keep = np.random.default_rng(12345).choice(len(X), cap, replace=False)
        X, y = X[np.sort(keep)], y[np.sort(keep)]
    out = {m: {"score": [], "time": []} for m in models}
    for s in seeds:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=s,
                                              stratify=y if task == CLF else None)
        for m in models:
            model = make_model(m, task, s, params, threads, multi=y.ndim == 2)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                model.fit(Xtr, ytr)
                pred = model.predict(Xte)
                t = time.perf_counter() - t0
            out[m]["score"].append(score(task, yte, pred))
            out[m]["time"].append(t)
    return task, X.shape, out


def bars(task, res):
    """(score bar met, time ratio to the MLP) of one set's results."""
    med = {m: float(np.median(r["score"])) for m, r in res.items()}
    tol = 0.005 if task == CLF else 0.01
    need = med.get("mlp", -np.inf)
    if "linear" in med and med["linear"] > need:
        need = med["linear"]
    ok = med["snode"] >= need - tol
    ratio = None
    if "mlp" in res:
        ratio = float(np.median(res["snode"]["time"]) / np.median(res["mlp"]["time"]))
    return ok, ratio


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--sets", default=None, help="comma-separated names (default: all)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--params", default="{}", help="snode's settings, a JSON object")
    ap.add_argument("--threads", type=int, default=None, help="snode's n_threads")
    ap.add_argument("--json", default=None, help="write every result to this file")
    args = ap.parse_args(argv)
    seeds = range(args.seeds if args.seeds is not None else (2 if args.quick else 5))
    models = [m for m in args.models.split(",") if m]
    unknown = set(models) - set(MODELS)
    if unknown:
        raise SystemExit(f"unknown model(s) {', '.join(sorted(unknown))}; the models: "
                         f"{', '.join(MODELS)}")
    params = json.loads(args.params)
    names = list(SETS) if args.sets is None else args.sets.split(",")
    cap = QUICK_SAMPLES if args.quick else MAX_SAMPLES
    results = {}
    print(f"| set | task | samples x features | " + " | ".join(
        f"{m} score | {m} s" for m in models) + " |", flush=True)
    print("|---|---|---|" + "---:|---:|" * len(models), flush=True)
    for name in names:
        if name not in SETS:
            raise SystemExit(f"unknown set {name!r}; the sets: {', '.join(SETS)}")
        try:
            task, shape, res = run_set(name, seeds, models, params, args.threads, cap)
        except ImportError as exc:
            print(f"| {name} | left out: {exc} |", flush=True)
            continue
        results[name] = dict(task=task, shape=shape, results=res)
        cells = []
        for m in models:
            s, t = np.array(res[m]["score"]), np.array(res[m]["time"])
            cells.append(f"{np.median(s):.3f} [{s.min():.3f}-{s.max():.3f}]")
            cells.append(f"{np.median(t):.2f}")
        print(f"| {name} | {task[:3]} | {shape[0]} x {shape[1]} | " + " | ".join(cells)
              + " |", flush=True)
    if "mlp" in models and "snode" in models and results:
        print()
        misses, faster, slow = [], 0, []
        for name, r in results.items():
            ok, ratio = bars(r["task"], r["results"])
            if not ok:
                misses.append(name)
            faster += ratio <= 1.0
            t_s = np.median(r["results"]["snode"]["time"])
            t_m = np.median(r["results"]["mlp"]["time"])
            if t_s > max(2 * t_m, 1.0):
                slow.append(f"{name} ({t_s:.2f} s against {t_m:.2f} s)")
        print(f"score bar (MLP, and the linear model where it beats the MLP) missed on "
              f"{len(misses)} of {len(results)} sets: {', '.join(misses) or 'none'}")
        print(f"median time at most the MLP's on {faster} of {len(results)} sets")
        print(f"over max(2 x the MLP's, 1 s) on: {', '.join(slow) or 'none'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(params=params, seeds=list(seeds), results=results), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
