"""``snode train``: an estimator from the command line's options, trained on a data set, saved
with its metrics."""
import json
import sys
import time
import warnings

import numpy as np

from ..estimators import SNODEClassifier, SNODERegressor, auto
from ..estimators.params import CLASSIFIER, REGRESSOR, param
from ..exceptions import DepthWarning, LineSearchWarning
from ..optim import optimizer_spec
from ..presets import preset
from . import data
from .parser import IMAGES, table_options
from .progress import Progress

__all__ = ["train", "given_settings", "unused_options", "fit_quality"]

def given_settings(args):
    """The estimator's settings given on the command line: {parameter: (flag, value)}, each
    value checked by the table's constraint (ValueError naming the flag), and the flags that
    contradict each other refused; the run's own numbers checked too."""
    for option, value, low in (("--seed", args.seed, 0), ("--n", args.n, 2)):
        if value is not None and value < low:
            raise ValueError(f"{option} must be >= {low}, got {value}")
    given = {}
    for p, dest in table_options():
        if dest in vars(args):
            value = getattr(args, dest)
            if p.name == "ncg_options":  # (KEY=VALUE, repeated)
                value = {k: v for d in value for k, v in d.items()}
            flag = next(f for f in p.flags if f in args.flags_given) if any(
                f in args.flags_given for f in p.flags) else p.flags[0]
            given[p.name] = (flag, p.check_cli(value, flag))
    if args.line_search is not None:
        flag, options = given.get("ncg_options", ("--ncg-option", {}))
        if "step" in (options or {}):
            raise ValueError(f"--line-search {args.line_search} and --ncg-option "
                             f"step={options['step']} both set the step length; give one")
        given["ncg_options"] = ("--line-search", dict(options or {}, step=args.line_search))
    if args.no_sobolev:
        for name in ("sobolev_alpha", "sobolev_weight"):
            if name in given:
                flag, value = given[name]
                raise ValueError(f"{flag} {value} sets the Sobolev metric, which --no-sobolev "
                                 "turns off; give one of them")
        given["sobolev_alpha"] = ("--no-sobolev", None)
    if given.get("memory", (None, 0))[1] and given.get("beta", (None, None))[1] is not None:
        raise ValueError(f"--beta {given['beta'][1]} chooses a conjugate direction, which "
                         f"--memory {given['memory'][1]} replaces by L-BFGS; give one of them")
    return given


def unused_options(args, given, settings, kind, batch_size, n_train):
    """One warning line on stderr naming the options given that this run does not use (an
    option of full-batch training in mini-batch mode, a learning rate for NCG, ...): the
    table's modes, the registry's settings of each optimiser."""
    name = settings.get("optimizer", param("optimizer").default)
    spec = optimizer_spec(name)
    if not batch_size:
        mode, why_mode = "full", "full batch"
    elif given.get("batch_size", (None, None))[1]:
        mode, why_mode = "minibatch", f"mini-batches of {batch_size}"
    elif args.preset is not None:
        mode, why_mode = "minibatch", (f"mini-batches of {batch_size}, the preset's; "
                                       "--batch-size 0 for full batch")
    else:
        mode = "minibatch"
        why_mode = f"mini-batches of {batch_size} for {n_train} training samples"
    early = auto.early_stopping(
        settings.get("early_stopping", param("early_stopping").default), batch_size or None)
    unused = []
    if args.n is not None and not data.generated(args):
        unused.append(("--n", "a generated data set's size"))
    by_mode, by_optimizer = [], []
    for p, _ in table_options():
        if p.name not in given:
            continue
        flag = given[p.name][0]
        if p.mode is not None and p.mode != mode and not (
                early and p.name in ("ftol", "n_iter_no_change")):  # (early stopping's too)
            by_mode.append((flag, why_mode))
        elif p.name == "n_iter_no_change" and mode == "full" and not early and \
                settings.get("ftol", param("ftol").default) == 0.0:
            by_mode.append((flag, "--ftol 0 turns the stop off"))
        elif p.name == "validation_fraction" and not early:
            by_mode.append((flag, "without early stopping"))
        elif p.name in _OPTIMIZER_SETTINGS and not spec.uses(p.name):
            by_optimizer.append((flag, spec.why_unused(p.name)))
        elif p.name == "sobolev_weight" and settings.get("sobolev_alpha") == 0.0:
            by_optimizer.append((flag, "--alpha 0: the Sobolev gradient is the L2 one"))
    unused += by_mode + by_optimizer
    if unused:
        print("snode train: warning: not used by this run: "
              + ", ".join(f"{o} ({why})" for o, why in unused), file=sys.stderr)


#: The settings some optimisers read and others do not (the registry's).
def _one_line(message, category, filename, lineno, file=None, line=None):
    """A warning during training as one line on stderr, as the command line's own."""
    print(f"snode train: warning: {message}", file=sys.stderr)


def _optimizer_settings():
    from ..optim import OPTIMIZERS

    return {s for spec in OPTIMIZERS.values() for s in spec.reads}


_OPTIMIZER_SETTINGS = _optimizer_settings()


def _final_cost(result):
    """The cost at the weights the run ends with (the last recorded cost when that is not
    known, as after Ctrl-C)."""
    return float(result.fun if np.isfinite(result.fun) else result.cost)


def fit_quality(est, X, y):
    """A regressor's R^2 (scikit-learn's, averaged over the targets) and relative error
    ||prediction - y|| / ||y|| (nan for targets that are all 0) on (X, y)."""
    norm = np.linalg.norm(y)
    err = np.linalg.norm(est.predict(X) - y) / norm if norm > 0 else float("nan")
    return est.score(X, y), float(err)


def _task(args, ytr, yte, yall, comm, lead):
    """(classify, ytr, yte, yall): the task of --task and the targets as its type."""
    if args.task == "auto":  # (rank 0's choice, from every training target)
        classify = data.is_classification(yall) if lead else None
        if comm is not None:
            classify = comm.bcast(classify, root=0)
        from_file = args.dataset.partition(":")[0] in ("csv", "npz")  # (the user's data)
        if lead and not args.quiet and from_file and np.issubdtype(yall.dtype, np.integer):
            k = np.unique(yall).size
            data.note.info(f"snode train: note: the training targets are whole numbers with "
                           f"{k} value{'s' if k != 1 else ''}: "
                           + ("class labels (--task regress fits them as numbers)" if classify
                              else "fitted as numbers (--task classify takes them as class "
                                   "labels)"))
        if not classify and ytr.dtype.kind != "f":
            ytr = ytr.astype(np.float64)
            if lead:
                yte, yall = yte.astype(np.float64), yall.astype(np.float64)
        return classify, ytr, yte, yall
    if args.task == "classify":
        if ytr.ndim != 1:
            raise ValueError(f"--task classify needs one label a sample; {args.dataset} has "
                             f"{ytr.shape[1]} target columns")
        return True, ytr, yte, yall
    if ytr.dtype.kind in "USO":
        raise ValueError(f"--task regress needs numbers; {args.dataset} has class names")
    ytr = ytr.astype(np.float64)
    if lead:
        yte, yall = yte.astype(np.float64), yall.astype(np.float64)
    return False, ytr, yte, yall


def train(args):
    """The ``train`` command; returns the exit status."""
    given = given_settings(args)
    for path, option in ((args.output, "--output"), (args.json, "--json"),
                         (args.plot, "--plot")):
        if path is not None:
            data.writable(path, option)
    if args.plot is not None:
        data.needs_matplotlib("--plot", args.plot)
    comm = args.comm
    lead = comm is None or comm.Get_rank() == 0  # (only rank 0 prints and writes)
    if comm is None:
        Xtr, Xte, ytr, yte, names = data.split(args)
        n_train = len(Xtr)
        Xall, yall = Xtr, ytr
    else:  # rank 0 reads the data; each rank receives its share of the training samples
        block = given.get("block_size", (None, None))[1]
        Xtr, Xte, ytr, yte, n_train, (Xall, yall), names = data.scatter(args, comm, lead,
                                                                        block)
    classify, ytr, yte, yall = _task(args, ytr, yte, yall, comm, lead)
    kind, cls = (CLASSIFIER, SNODEClassifier) if classify else (REGRESSOR, SNODERegressor)
    for name, (flag, _) in given.items():
        if kind not in param(name).kinds:
            task = "classification" if param(name).kinds == (CLASSIFIER,) else "regression"
            raise ValueError(f"{flag} applies to {task} only")
    # the preset's settings, then the options given; the rest keep the estimator's defaults
    settings = {}
    if args.preset is not None:
        own = set(cls().get_params())
        settings.update({k: v for k, v in preset(args.preset).estimator_params().items()
                         if k in own})
    for name, (_, value) in given.items():
        if isinstance(value, dict) and isinstance(settings.get(name), dict):
            value = {**settings[name], **value}  # (ncg_options: the preset's, changed)
        settings[name] = value
    if "scale" not in settings and args.dataset.split(":")[0] in IMAGES:
        settings["scale"] = "image"
    est = cls(**settings, random_state=args.seed, comm=comm)
    batch_size, epochs = auto.schedule(est.batch_size, est.epochs, n_train)
    if est.batch_size == "auto" and batch_size is not None and not args.quiet and lead:
        data.note.info(f"snode train: note: {n_train} training samples: mini-batches of "
                       f"{batch_size}, {epochs} epoch{'s' if epochs > 1 else ''} "
                       "(--batch-size, --epochs to change)")
    if lead:
        unused_options(args, given, settings, kind, batch_size, n_train)
    spec = optimizer_spec(est.optimizer)
    if batch_size:
        n_batches = (max(1, n_train // batch_size) if est.drop_last
                     else -(-n_train // batch_size))
        total = epochs * n_batches * (est.iterations_per_batch
                                      if spec.uses("iterations_per_batch") else 1)
    else:
        total = est.max_iter

    # (--verbose prints its own lines: no bar between them)
    progress = Progress(total, est, Xtr, ytr, args.quiet or not lead or bool(est.verbose),
                        record=bool(args.plot),
                        epochs=epochs if batch_size else None)
    callback = progress
    if comm is not None:  # Ctrl-C: every rank stops after the same iteration (they agree)

        def callback(rec):
            progress(rec)
            return args.stop["stop"]

    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # reported below, in words
            warnings.simplefilter("ignore", LineSearchWarning)
            warnings.simplefilter("always", DepthWarning)
            warnings.showwarning = _one_line  # (a DepthWarning: one line, as the others)
            # (scikit-learn's hint for many classes: --task and the note above say it)
            warnings.filterwarnings("ignore", message="The number of unique classes")
            try:
                est.fit(Xtr, ytr, callback=callback)
            except KeyboardInterrupt:  # (after training: the last good weights, saved below)
                if not getattr(getattr(est, "result_", None), "interrupted", False):
                    raise
    finally:
        progress.close()
    seconds = time.perf_counter() - t0
    interrupted = est.result_.interrupted
    if comm is not None:  # (Ctrl-C may have reached some ranks only)
        interrupted = bool(comm.allreduce(int(args.stop["stop"])))
    # the run's processes and threads are not the model's (the file is the one-process
    # file); the metrics below: every sample, on rank 0 alone
    est.comm = None
    est.n_threads = given.get("n_threads", (None, None))[1]
    Xtr, ytr = Xall, yall
    if not lead:
        return 0
    metrics = {"dataset": args.dataset, "n_train": int(len(Xtr)), "n_test": int(len(Xte)),
               "dtype": est.net_.dtype.name, "seconds": seconds, "iterations": int(est.n_iter_),
               "gradient_evaluations": int(est.result_.evaluations),
               "final_cost": _final_cost(est.result_), "interrupted": bool(interrupted),
               "message": "interrupted" if interrupted else est.result_.message,
               "early_stopping": bool(getattr(est, "early_stopping_", False)),
               "decay": float(getattr(est, "decay_", float("nan"))),
               "best_validation_cost": float(getattr(est, "best_validation_cost_",
                                                     float("nan")))}
    no_test = ("no test samples (--test-size 0)" if args.test_size == 0 else
               f"no test samples (--test-size {args.test_size:g} of {len(Xall)} samples)")
    if classify:
        metrics["train_accuracy"] = est.score(Xtr, ytr)
        metrics["test_accuracy"] = est.score(Xte, yte) if len(Xte) else float("nan")
        test = (f"test accuracy {metrics['test_accuracy']:.4f}" if len(Xte) else
                no_test)
        print(f"train accuracy {metrics['train_accuracy']:.4f}   {test}   ({seconds:.1f} s, "
              f"{metrics['iterations']} iterations)")
    else:
        for name, (A, B) in (("train", (Xtr, ytr)), ("test", (Xte, yte))):
            if len(A):
                metrics[f"{name}_r2"], metrics[f"{name}_relative_error"] = fit_quality(
                    est, A, B)
        test = (f"test R^2 {metrics['test_r2']:.4f} (relative error "
                f"{metrics['test_relative_error']:.3e})" if len(Xte) else
                no_test)
        print(f"train R^2 {metrics['train_r2']:.4f} (relative error "
              f"{metrics['train_relative_error']:.3e})   {test}   ({seconds:.1f} s, "
              f"{metrics['iterations']} iterations)")
    if est.result_.message not in ("maximum number of iterations reached", "interrupted") \
            and not interrupted:
        message = est.result_.message
        print(message if message.startswith(("early stopping", "reached the stage"))
              else f"training stopped early: {message}")
    if names is not None:  # (a CSV header's: the file keeps them for evaluate and predict)
        est.feature_names_in_ = np.asarray(names[0], dtype=object)
        if len(names[1]) == 1:  # (the labels' column, found by name in other files)
            est.target_names_in_ = np.asarray(names[1], dtype=object)
    est.save(args.output)
    for name in ("feature_names_in_", "target_names_in_"):  # (the figure predicts arrays)
        est.__dict__.pop(name, None)
    print(f"model saved to {args.output}" + (" (training interrupted: last good weights)"
                                            if interrupted else ""))
    if args.json:  # (strict JSON: null for a figure that is not finite)
        metrics = {k: v if not isinstance(v, float) or np.isfinite(v) else None
                   for k, v in metrics.items()}
        with open(args.json, "w") as f:
            json.dump(metrics, f, indent=2, allow_nan=False)
    if args.plot:
        from ..plots import training_figure

        training_figure(est, Xtr, ytr, args.plot,
                        accuracy=progress.accuracy if progress.record else None)
        print(f"figure saved to {args.plot}")
    return 130 if interrupted else 0
