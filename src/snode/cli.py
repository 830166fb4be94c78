"""The command line: ``snode train``, ``snode evaluate MODEL``, ``snode info MODEL``.

``snode train`` with no options trains a classifier on the two-spirals data with NCG and the
hybrid Sobolev/L2 gradient, prints train and test accuracy, and saves the model to snode-model.npz.
Ctrl-C during training saves the last good model before exiting.
"""
import argparse
import contextlib
import json
import os
import signal
import sys
import time
import warnings

import numpy as np

from . import __version__, data as datasets
from .cost import Cost
from .estimators import OPTIMIZERS, SNODEClassifier, SNODERegressor, load
from .exceptions import LineSearchWarning, NonFiniteError
from .io import read_header
from .objective import Objective
from .optim import BETA_RULES
from .mpi import launched_by_mpi
from .presets import PRESETS, preset
from .reduce import BLOCK_SIZE

_IMAGES = ("digits", "mnist")


def _file_options(p):
    p.add_argument("--header", default=None, choices=["auto", "yes", "no"],
                   help="csv:FILE: whether the first row names the columns (default auto)")
    p.add_argument("--label-column", default=None,
                   help="csv:FILE: the labels' column, a number (negative from the end) or "
                        "a name from the header (default: the last)")
    p.add_argument("--delimiter", default=None,
                   help="csv:FILE: the field separator, or 'tab' (default: the first of , ; "
                        "tab | in the first line)")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line (its usage is in --help)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser():
    p = _Parser(prog="snode", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"snode {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and save it")
    t.add_argument("--dataset", default="spirals",
                   help="spirals, circles, moons, xor, teacher, digits, mnist:DIR, csv:FILE, "
                        "npz:FILE (default spirals)")
    t.add_argument("--n", type=int, default=None,
                   help="samples of a generated data set (default 1000)")
    _file_options(t)
    t.add_argument("--test-size", type=float, default=0.25,
                   help="the held-out share of the data (MNIST: its own 10,000 test images)")
    t.add_argument("--width", type=int, default=None,
                   help="state dimension (default: the classes' or targets' components "
                        "and the features after them, at least the larger of the two plus 2)")
    t.add_argument("--preset", default=None, choices=sorted(PRESETS),
                   help="a named configuration (baravdish2022: the method's authors' "
                        "prototype); the options below change single settings of it")
    t.add_argument("--steps", type=int, default=None,
                   help="depth steps K (default: 60, fewer for large problems, down to 10 for "
                        "6e7 / (samples x width^2))")
    t.add_argument("--T", type=float, default=None, help="final time (default 6)")
    t.add_argument("--scheme", default=None, choices=["euler", "heun", "midpoint", "rk4"],
                   help="Runge-Kutta scheme (default rk4)")
    t.add_argument("--activation", default=None, help="activation (default tanh)")
    t.add_argument("--task", default="auto", choices=["auto", "classify", "regress"],
                   help="classification or regression (default auto: class labels are "
                        "strings, booleans or whole numbers of at most 100 values and half "
                        "the samples; anything else is a target)")
    t.add_argument("--loss", default=None, choices=["ce", "mse"],
                   help="classification loss (default ce)")
    t.add_argument("--optimizer", default="ncg", choices=OPTIMIZERS)
    t.add_argument("--beta", default=None, choices=BETA_RULES,
                   help="NCG's conjugate direction with this rule (then --memory is 0)")
    t.add_argument("--memory", type=int, default=None,
                   help="NCG's direction: m > 0 limited-memory BFGS from the last m steps, 0 "
                        "the conjugate one of --beta (default: 40 pairs in full-batch mode, "
                        "fewer for large networks; 0 in mini-batch mode and with --beta)")
    t.add_argument("--alpha", type=_alpha, default=None,
                   help="Sobolev alpha, or auto: (T/6)^2, smoothing over a sixth of the depth "
                        "(the default)")
    t.add_argument("--sobolev-weight", type=_alpha, default=None,
                   help="NCG's hybrid gradient: this share of the Sobolev gradient, the rest "
                        "the L2 gradient, or auto (the default: 0.5 in full batch, 1 in "
                        "mini-batches); 1: the Sobolev gradient")
    t.add_argument("--no-sobolev", action="store_true", help="use the L2 gradient")
    t.add_argument("--line-search", default=None, choices=["auto", "sensitivity", "wolfe"],
                   help="NCG's step length: the sensitivity step (the linearised cost's "
                        "minimiser, checked against the cost), the strong-Wolfe search from "
                        "the step 1, or auto (the default: wolfe for the L-BFGS direction, "
                        "sensitivity for the conjugate ones)")
    t.add_argument("--batch-size", type=int, default=None,
                   help=f"mini-batch size (default: full batch, or 100 above {LARGE} "
                        "training samples); 0: full batch (also over a preset's batches)")
    t.add_argument("--iterations-per-batch", type=int, default=None,
                   help="NCG iterations on each mini-batch (default 6)")
    t.add_argument("--epochs", type=int, default=None,
                   help="epochs of mini-batch training (default 10, or 1 above "
                        f"{LARGE} training samples)")
    t.add_argument("--max-iter", type=int, default=None,
                   help="full-batch iterations (default 800)")
    t.add_argument("--ftol", type=float, default=None,
                   help="full batch: stop when the cost fell by at most this fraction of "
                        "itself over --n-iter-no-change iterations (default 1e-4; 0: run all "
                        "--max-iter)")
    t.add_argument("--n-iter-no-change", type=int, default=None,
                   help="full batch: the iterations --ftol looks back over (default 10); "
                        "with --early-stopping also its checks without progress")
    t.add_argument("--early-stopping", action="store_true",
                   help="hold out --validation-fraction of the training samples and stop when "
                        "their cost has not fallen by --ftol of itself over --n-iter-no-change "
                        "checks (every iteration; with mini-batches every epoch), keeping the "
                        "best weights")
    t.add_argument("--validation-fraction", type=float, default=None,
                   help="the share held out by --early-stopping (default 0.1)")
    t.add_argument("--lr", type=float, default=None,
                   help="learning rate of adam/sgd/gd (default 0.01)")
    t.add_argument("--decay", type=float, default=None,
                   help="weight decay (default 1e-4 for classification, 0 for regression)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=None,
                   help="threads of the sweeps (default: the CPUs; under mpiexec, the CPUs "
                        "divided by the ranks on the machine)")
    t.add_argument("--block-size", type=int, default=None,
                   help="samples of a block of the sums over samples (default 4096): under "
                        "mpiexec each rank trains on whole blocks, so give at least as many "
                        "blocks as ranks")
    t.add_argument("--output", "-o", default="snode-model.npz")
    t.add_argument("--json", default=None, help="write the metrics to this JSON file")
    t.add_argument("--plot", default=None, help="save a figure (needs matplotlib)")
    t.add_argument("--quiet", "-q", action="store_true")

    e = sub.add_parser("evaluate", help="accuracy (or error) of a saved model on a data set")
    e.add_argument("model")
    e.add_argument("--dataset", required=True,
                   help="the data to score the model on (as for snode train)")
    e.add_argument("--n", type=int, default=None,
                   help="samples of a generated data set (default 1000)")
    e.add_argument("--seed", type=int, default=1,
                   help="seed of a synthetic data set (default 1: fresh samples)")
    _file_options(e)

    r = sub.add_parser("reproduce", help="run the method's experiments and write a report")
    r.add_argument("--quick", action="store_true",
                   help="small sizes (about 10 s on 2 cores without --mnist)")
    r.add_argument("--out", default="snode-report",
                   help="the report's folder (created; default snode-report)")
    r.add_argument("--mnist", default=None,
                   help="a folder with the MNIST files (IDX or CSV): adds MNIST 14 x 14")
    r.add_argument("--mnist-train", type=int, default=None, metavar="N",
                   help="train on the first N MNIST training images (default: all 60000, "
                        "2000 with --quick)")
    r.add_argument("--mnist-epochs", type=int, default=None, metavar="E",
                   help="epochs over them (default: the authors' 10, 1 with --quick)")
    r.add_argument("--threads", type=int, default=None,
                   help="threads of the sweeps (default: the CPUs)")
    r.add_argument("--seed", type=int, default=0, help="seed of every experiment (default 0)")

    i = sub.add_parser("info", help="describe a saved model")
    i.add_argument("model")
    return p


class _Progress:
    """A one-line progress bar on stderr: iterations (and the epoch), the live cost, the
    training accuracy (on at most 1000 training samples, refreshed every few seconds) and an
    estimate of the time left; with `record`, the accuracy after every iteration is kept for
    the figure."""

    SAMPLE = 1000
    REFRESH = 3.0  # seconds between accuracy updates on the bar

    def __init__(self, total, est, X, y, quiet, record=False, epochs=None):
        if len(X) > self.SAMPLE:
            keep = np.random.default_rng(0).choice(len(X), self.SAMPLE, replace=False)
            X, y = X[np.sort(keep)], y[np.sort(keep)]
        self.total, self.est, self.X, self.y, self.epochs = total, est, X, y, epochs
        self.quiet = quiet or not sys.stderr.isatty()
        self.record = record and isinstance(est, SNODEClassifier)
        self.accuracy = ([], [])
        self.objective = None
        self.n = 0
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.acc, self.acc_time = None, -np.inf

    def _train_accuracy(self):
        if self.objective is None:  # the estimator's network exists once training has begun
            classes = self.est.classes_
            self.objective = Objective(self.est.net_, Cost(mse=0.0, n_classes=len(classes)),
                                       self.est.initial_state(self.X),
                                       labels=np.searchsorted(classes, self.y))
        return self.objective.accuracy()

    def __call__(self, rec):
        self.n += 1
        now = time.perf_counter()
        if self.record:
            self.acc, self.acc_time = self._train_accuracy(), now
            self.accuracy[0].append(self.n)
            self.accuracy[1].append(self.acc)
        if self.quiet or (now - self.last < 0.2 and self.n < self.total):
            return False
        self.last = now
        frac = min(1.0, self.n / self.total)
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        text = ""
        if self.epochs and self.epochs > 1:
            text += f"  epoch {int(rec.get('epoch', 0)) + 1}/{self.epochs}"
        text += f"  cost {rec['cost']:.4g}"
        if isinstance(self.est, SNODEClassifier):
            if now - self.acc_time > self.REFRESH or self.n >= self.total:
                self.acc, self.acc_time = self._train_accuracy(), now
            text += f"  train acc {self.acc:.3f}"
        elapsed = now - self.t0
        left = elapsed / frac - elapsed if frac > 0 else 0.0
        sys.stderr.write(f"\r[{bar}] {self.n}/{self.total}{text}  {elapsed:.0f}s, "
                         f"{_duration(left)} left ")
        sys.stderr.flush()
        return False

    def close(self):
        if not self.quiet:
            sys.stderr.write("\n")


def _duration(seconds):
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


#: Training sets larger than this train in mini-batches by default.
LARGE = 10000


def _load(args, mnist_part):
    """(X, y) of the data set: for MNIST its training or test files (`mnist_part`)."""
    kind, _, arg = args.dataset.partition(":")
    if kind == "mnist":
        return datasets.mnist(arg or ".", mnist_part)
    return datasets.load(args.dataset, n=1000 if args.n is None else args.n, seed=args.seed,
                         **_csv_options(args))


def _split(args):
    """(Xtr, Xte, ytr, yte): MNIST's own training and test files, else a seeded split."""
    if args.dataset.partition(":")[0] == "mnist":
        (Xtr, ytr), (Xte, yte) = _load(args, "train"), _load(args, "test")
        return Xtr, Xte, ytr, yte
    X, y = _load(args, "train")
    return datasets.train_test_split(X, y, args.test_size, seed=args.seed)


def _scatter(args, comm, lead):
    """Under mpiexec: rank 0 reads and splits the data and sends every rank its share of the
    training samples (whole blocks, snode.shard); the other ranks read nothing. Returns
    (Xtr, Xte, ytr, yte, n_train, (Xall, yall)): this rank's share, and on rank 0 the test set
    and all training samples (for the metrics), None elsewhere."""
    from types import SimpleNamespace

    from .reduce import shard

    data = _split(args) if lead else None
    n_train = comm.bcast(len(data[0]) if lead else None, root=0)
    size, B = comm.Get_size(), args.block_size or BLOCK_SIZE
    if size > -(-n_train // B):
        raise ValueError(f"{size} ranks need at least as many blocks of --block-size samples; "
                         f"{n_train} training samples make fewer: give a smaller --block-size")
    pieces = None
    if lead:
        Xtr, ytr = data[0], data[2]
        pieces = [(Xtr[s], ytr[s]) for s in (shard(n_train, SimpleNamespace(rank=r, size=size),
                                                   B) for r in range(size))]
    X, y = comm.scatter(pieces, root=0)
    if lead:
        return X, data[1], y, data[3], n_train, (data[0], data[2])
    return X, None, y, None, n_train, (None, None)


#: --task auto: whole numbers are class labels when they take at most this many values (and
#: at most one for every two samples); more, they are numbers to fit (diabetes' 214 values
#: of 442 samples, counts, prices).
AUTO_MAX_CLASSES = 100


def _is_classification(y):
    """--task auto's choice for the training targets y (all of them)."""
    if y.ndim != 1:
        return False
    if y.dtype.kind in "USOb":
        return True
    if not np.issubdtype(y.dtype, np.integer):
        return False
    return np.unique(y).size <= min(AUTO_MAX_CLASSES, max(2, y.size // 2))


def _csv_options(args):
    """The file options given on the command line (for csv:FILE data sets)."""
    opts = {}
    if args.header is not None:
        opts["header"] = args.header
    if args.delimiter is not None:
        opts["delimiter"] = "\t" if args.delimiter in ("\\t", "tab") else args.delimiter
    if args.label_column is not None:
        lc = args.label_column
        opts["label_column"] = int(lc) if lc.lstrip("-").isdigit() else lc
    return opts


def _alpha(text):
    """--alpha, --sobolev-weight: a number or "auto"."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number or auto, got {text!r}") from None


def _writable(path, option):
    """ValueError now, not after training, if `path` cannot be written."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise ValueError(f"{option} {path} is a folder; give a file name")
    if not os.path.isdir(folder):
        raise ValueError(f"{option}: no folder {folder} to write {os.path.basename(path)} in")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{option}: the folder {folder} is not writable")


#: The training settings a preset may give, with their values without one.
_DEFAULTS = dict(width=None, n_steps="auto", T=6.0, scheme="rk4", activation="tanh",
                 loss=None, beta=None, memory="auto", sobolev_alpha="auto",
                 sobolev_weight="auto",
                 batch_size=None, iterations_per_batch=6, epochs=None)


def _settings(args):
    """The estimator's settings: the preset's (or the defaults), then the options given."""
    settings = dict(_DEFAULTS)
    if args.preset is not None:
        settings.update(preset(args.preset).estimator_params())
    given = dict(width=args.width, n_steps=args.steps, T=args.T, scheme=args.scheme,
                 activation=args.activation, loss=args.loss, beta=args.beta,
                 memory=args.memory, sobolev_alpha=args.alpha,
                 sobolev_weight=args.sobolev_weight, batch_size=args.batch_size,
                 iterations_per_batch=args.iterations_per_batch, epochs=args.epochs,
                 decay=args.decay)
    settings.update({k: v for k, v in given.items() if v is not None})
    if args.batch_size == 0:  # (full batch, also over a preset's batches)
        settings["batch_size"] = None
    if args.no_sobolev:
        settings["sobolev_alpha"] = None
    if args.line_search is not None:
        settings["ncg_options"] = dict(settings.get("ncg_options") or {},
                                       step=args.line_search)
    return settings


def _final_cost(result):
    """The cost at the weights the run ends with (the last recorded cost when that is not
    known, as after Ctrl-C)."""
    return float(result.fun if np.isfinite(result.fun) else result.cost)


def _unused_options(args, batch_size, n_train):
    """One warning line on stderr naming the options given that this run does not use (an
    option of full-batch training in mini-batch mode, a learning rate for NCG, ...)."""
    ncg = args.optimizer == "ncg"
    if not batch_size:
        mode = "full batch"
    elif args.batch_size:
        mode = f"mini-batches of {batch_size}"
    elif args.preset is not None:
        mode = f"mini-batches of {batch_size}, the preset's; --batch-size 0 for full batch"
    else:
        mode = f"mini-batches of {batch_size} for {n_train} training samples"
    other = f"--optimizer {args.optimizer}"
    unused = []
    if args.n is not None and not _generated(args):
        unused.append(("--n", "a generated data set's size"))
    if batch_size:  # (--ftol and --n-iter-no-change: early stopping's too)
        unused += [(o, mode) for o, v in (("--max-iter", args.max_iter), ("--ftol", args.ftol),
                                          ("--n-iter-no-change", args.n_iter_no_change))
                   if v is not None and (o == "--max-iter" or not args.early_stopping)]
    else:
        if args.epochs is not None:
            unused.append(("--epochs", mode))
        if args.n_iter_no_change is not None and args.ftol == 0.0 and not args.early_stopping:
            unused.append(("--n-iter-no-change", "--ftol 0 turns the stop off"))
    if args.iterations_per_batch is not None and not (batch_size and ncg):
        unused.append(("--iterations-per-batch", mode if not batch_size else other))
    if args.validation_fraction is not None and not args.early_stopping:
        unused.append(("--validation-fraction", "without --early-stopping"))
    if ncg and args.lr is not None:
        unused.append(("--lr", "NCG takes no learning rate"))
    if ncg and args.sobolev_weight is not None and args.alpha == 0.0:
        unused.append(("--sobolev-weight", "--alpha 0: the Sobolev gradient is the L2 one"))
    if not ncg:
        unused += [(o, other) for o, v in (("--beta", args.beta), ("--memory", args.memory),
                                           ("--alpha", args.alpha),
                                           ("--sobolev-weight", args.sobolev_weight),
                                           ("--no-sobolev", args.no_sobolev or None),
                                           ("--line-search", args.line_search))
                   if v is not None]
    if unused:
        print("snode train: warning: not used by this run: "
              + ", ".join(f"{o} ({why})" for o, why in unused), file=sys.stderr)


def _check_options(args):
    """Every numeric option given, checked by its own name (also one the run will not use),
    and the options that contradict each other."""
    at_least = (("--steps", args.steps, 1), ("--width", args.width, 1),
                ("--batch-size", args.batch_size, 0), ("--epochs", args.epochs, 1),
                ("--iterations-per-batch", args.iterations_per_batch, 1),
                ("--max-iter", args.max_iter, 1), ("--n-iter-no-change", args.n_iter_no_change, 1),
                ("--block-size", args.block_size, 1), ("--memory", args.memory, 0),
                ("--seed", args.seed, 0), ("--n", args.n, 2))
    for option, value, low in at_least:
        if value is not None and value < low:
            raise ValueError(f"{option} must be >= {low}, got {value}")
    alpha = None if args.alpha == "auto" else args.alpha
    for option, value, positive in (("--T", args.T, True), ("--lr", args.lr, True),
                                    ("--ftol", args.ftol, False), ("--decay", args.decay, False),
                                    ("--alpha", alpha, False)):
        if value is not None and not (np.isfinite(value) and (value > 0.0 if positive
                                                               else value >= 0.0)):
            raise ValueError(f"{option} must be a finite number {'>' if positive else '>='} 0, "
                             f"got {value}")
    if args.memory and args.beta is not None:
        raise ValueError(f"--beta {args.beta} chooses a conjugate direction, which --memory "
                         f"{args.memory} replaces by L-BFGS; give one of them")
    if args.sobolev_weight not in (None, "auto") and not 0.0 <= args.sobolev_weight <= 1.0:
        raise ValueError(f"--sobolev-weight must be in [0, 1], got {args.sobolev_weight}")
    for option, value in (("--alpha", args.alpha), ("--sobolev-weight", args.sobolev_weight)):
        if args.no_sobolev and value is not None:
            raise ValueError(f"{option} {value} sets the Sobolev metric, which --no-sobolev "
                             "turns off; give one of them")


def _train(args):
    _check_options(args)
    for path, option in ((args.output, "--output"), (args.json, "--json"),
                         (args.plot, "--plot")):
        if path:
            _writable(path, option)
    comm = args.comm
    lead = comm is None or comm.Get_rank() == 0  # (only rank 0 prints and writes)
    if comm is None:
        Xtr, Xte, ytr, yte = _split(args)
        n_train = len(Xtr)
        Xall, yall = Xtr, ytr
    else:  # rank 0 reads the data; each rank receives its share of the training samples
        Xtr, Xte, ytr, yte, n_train, (Xall, yall) = _scatter(args, comm, lead)
    if args.task == "auto":  # (rank 0's choice, from every training target)
        classify = _is_classification(yall) if lead else None
        if comm is not None:
            classify = comm.bcast(classify, root=0)
        if lead and not args.quiet and np.issubdtype(yall.dtype, np.integer):
            print(f"the training targets are whole numbers with {np.unique(yall).size} "
                  "values: "
                  + ("class labels (--task regress fits them as numbers)" if classify else
                     "fitted as numbers (--task classify takes them as class labels)"))
        if not classify and ytr.dtype.kind != "f":
            ytr = ytr.astype(np.float64)
            if lead:
                yte, yall = yte.astype(np.float64), yall.astype(np.float64)
    elif args.task == "classify":
        if ytr.ndim != 1:
            raise ValueError(f"--task classify needs one label a sample; {args.dataset} has "
                             f"{ytr.shape[1]} target columns")
        classify = True
    else:
        if ytr.dtype.kind in "USO":
            raise ValueError(f"--task regress needs numbers; {args.dataset} has class names")
        ytr = ytr.astype(np.float64)
        if lead:
            yte, yall = yte.astype(np.float64), yall.astype(np.float64)
        classify = False
    settings = _settings(args)
    batch_size, epochs = settings.pop("batch_size"), settings.pop("epochs")
    if batch_size is None and n_train > LARGE and args.batch_size != 0:
        batch_size, epochs = 100, (1 if epochs is None else epochs)
        if not args.quiet and lead:
            print(f"{n_train} training samples: mini-batches of {batch_size}, {epochs} "
                  f"epoch{'s' if epochs > 1 else ''} (--batch-size, --epochs to change)")
    epochs = 10 if epochs is None else epochs
    if "scale" not in settings:
        settings["scale"] = "image" if args.dataset.split(":")[0] in _IMAGES else "standard"
    threads = args.threads
    if comm is not None and threads is None:
        from .mpi import threads_per_rank

        threads = threads_per_rank(comm)
    if lead:
        _unused_options(args, batch_size, n_train)
    # (the options not given keep the estimator's defaults)
    given = dict(max_iter=args.max_iter, ftol=args.ftol, n_iter_no_change=args.n_iter_no_change,
                 lr=args.lr, early_stopping=args.early_stopping or None,
                 validation_fraction=args.validation_fraction)
    common = dict(settings, optimizer=args.optimizer, batch_size=batch_size, epochs=epochs,
                  random_state=args.seed, n_threads=threads, block_size=args.block_size,
                  comm=comm, **{k: v for k, v in given.items() if v is not None})
    loss = common.pop("loss", None)
    if classify:
        est = SNODEClassifier(loss=loss or "ce", **common)
    else:
        if args.loss is not None:
            raise ValueError("--loss applies to classification only")
        est = SNODERegressor(**common)
    if batch_size:
        n_batches = (max(1, n_train // batch_size) if est.drop_last
                     else -(-n_train // batch_size))
        total = epochs * n_batches * (est.iterations_per_batch
                                      if args.optimizer == "ncg" else 1)
    else:
        total = est.max_iter

    progress = _Progress(total, est, Xtr, ytr, args.quiet or not lead, record=bool(args.plot),
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
            # (scikit-learn's hint for many classes: --task and the note above say it)
            warnings.filterwarnings("ignore", message="The number of unique classes")
            est.fit(Xtr, ytr, callback=callback)
    finally:
        progress.close()
    seconds = time.perf_counter() - t0
    interrupted = est.result_.interrupted
    if comm is not None:  # (Ctrl-C may have reached some ranks only)
        interrupted = bool(comm.allreduce(int(args.stop["stop"])))
    # the run's processes and threads are not the model's (the file is the one-process
    # file); the metrics below: every sample, on rank 0 alone
    est.comm, est.n_threads = None, args.threads
    Xtr, ytr = Xall, yall
    if not lead:
        return 0
    metrics = {"dataset": args.dataset, "n_train": int(len(Xtr)), "n_test": int(len(Xte)),
               "seconds": seconds, "iterations": int(est.n_iter_),
               "gradient_evaluations": int(est.result_.evaluations),
               "final_cost": _final_cost(est.result_), "interrupted": bool(interrupted),
               "message": "interrupted" if interrupted else est.result_.message}
    if classify:
        metrics["train_accuracy"] = est.score(Xtr, ytr)
        metrics["test_accuracy"] = est.score(Xte, yte) if len(Xte) else float("nan")
        test = (f"test accuracy {metrics['test_accuracy']:.4f}" if len(Xte) else
                "no test samples (--test-size 0)")
        print(f"train accuracy {metrics['train_accuracy']:.4f}   {test}   ({seconds:.1f} s, "
              f"{metrics['iterations']} iterations)")
    else:
        for name, (A, B) in (("train", (Xtr, ytr)), ("test", (Xte, yte))):
            if len(A):
                metrics[f"{name}_r2"], metrics[f"{name}_relative_error"] = _fit_quality(
                    est, A, B)
        test = (f"test R^2 {metrics['test_r2']:.4f} (relative error "
                f"{metrics['test_relative_error']:.3e})" if len(Xte) else
                "no test samples (--test-size 0)")
        print(f"train R^2 {metrics['train_r2']:.4f} (relative error "
              f"{metrics['train_relative_error']:.3e})   {test}   ({seconds:.1f} s)")
    if est.result_.message not in ("maximum number of iterations reached", "interrupted") \
            and not interrupted:
        print(f"training stopped early: {est.result_.message}")
    est.save(args.output)
    print(f"model saved to {args.output}" + (" (training interrupted: last good weights)"
                                            if interrupted else ""))
    if args.json:  # (strict JSON: null for a figure that is not finite)
        metrics = {k: v if not isinstance(v, float) or np.isfinite(v) else None
                   for k, v in metrics.items()}
        with open(args.json, "w") as f:
            json.dump(metrics, f, indent=2, allow_nan=False)
    if args.plot:
        from .plots import training_figure

        training_figure(est, Xtr, ytr, args.plot,
                        accuracy=progress.accuracy if progress.record else None)
        print(f"figure saved to {args.plot}")
    return 130 if interrupted else 0


def _generated(args):
    """Whether the data set is generated (the one that --n sizes)."""
    return args.dataset.split(":")[0] in ("spirals", "circles", "moons", "xor", "teacher")


def _evaluate(args):
    est = load(args.model)
    if not hasattr(est, "predict"):
        raise ValueError(f"{args.model} holds a bare network, not an estimator")
    if args.n is not None and not _generated(args):
        print("snode evaluate: warning: not used by this run: --n (a generated data set's "
              "size)", file=sys.stderr)
    X, y = _load(args, "test")  # (MNIST: its own test images)
    if isinstance(est, SNODEClassifier):
        y = _as_classes(y, est.classes_, args.dataset)
        print(f"accuracy {est.score(X, y):.4f} on {len(X)} samples of {args.dataset}")
    else:
        if y.dtype.kind in "USOb":
            raise ValueError(f"{args.dataset} has class names, but {args.model} holds a "
                             "regressor")
        r2, err = _fit_quality(est, X, y.astype(np.float64))
        print(f"R^2 {r2:.4f}, relative error {err:.3e} on {len(X)} samples of "
              f"{args.dataset}")
    return 0


def _fit_quality(est, X, y):
    """A regressor's R^2 (scikit-learn's, averaged over the targets) and relative error
    ||prediction - y|| / ||y|| (nan for targets that are all 0) on (X, y)."""
    norm = np.linalg.norm(y)
    err = np.linalg.norm(est.predict(X) - y) / norm if norm > 0 else float("nan")
    return est.score(X, y), float(err)


def _as_classes(y, classes, dataset):
    """The labels y in the type of the model's classes (a file read as integers against a
    model trained on class names, or the other way round); ValueError if some are not among
    them."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{dataset} has targets, not class labels")
    if classes.dtype.kind in "US" and y.dtype.kind not in "US":
        y = y.astype(str)
    elif classes.dtype.kind not in "US" and y.dtype.kind in "US":
        try:
            y = y.astype(classes.dtype)
        except ValueError:
            pass
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(f"{dataset} has labels the model was not trained on: "
                         f"{unknown[:5].tolist()}{' ...' if unknown.size > 5 else ''} (its "
                         f"classes: {classes[:10].tolist()}"
                         f"{' ...' if classes.size > 10 else ''})")
    return y


def _info(args):
    model = load(args.model)  # the whole file is checked, not only its header
    h = read_header(args.model)
    meta = h.get("meta", {})
    print(f"{args.model}: snode model (format version {h['version']})")
    print(f"  width {h['width']}, steps {h['n_steps']}, T {h['T']}, scheme {h['scheme']}, "
          f"activation {h['activation']}")
    if "estimator" in meta:
        print(f"  {meta['estimator']} with {meta['n_features_in']} input features "
              f"(from component {meta.get('input_offset_used', 0)} of the state)"
              + (f" and {meta['n_outputs']} outputs" if "n_outputs" in meta else ""))
        if "classes" in meta:
            print(f"  classes: {meta['classes']}")
        params = dict(meta.get("params", {}))
        if "memory_used" in meta and "memory" in params:
            params["memory"] = f"{params['memory']} ({meta['memory_used']} used)"
        if "sobolev_weight_used" in meta and params.get("sobolev_weight") == "auto":
            params["sobolev_weight"] = f"auto ({meta['sobolev_weight_used']:g} used)"
        ncg = params.get("optimizer", "ncg") == "ncg"
        # (the loaded estimator's: a file from before the auto line search has the step)
        options = getattr(model, "ncg_options", None) or {}
        rule = getattr(model, "step_rule_", None)
        if rule is not None:
            step = options.get("step", "auto")
            params["line_search"] = f"auto ({rule} used)" if step == "auto" else step
            params["ncg_options"] = {k: v for k, v in options.items() if k != "step"} or None
        if params.get("sobolev_alpha", "auto") is None:  # (the L2 metric: no blend)
            params.pop("sobolev_weight", None)
        names = ("optimizer", "loss") + (
            ("beta", "memory", "line_search", "sobolev_alpha", "sobolev_weight",
             "ncg_options") if ncg
            else ("lr",)) + (
            "decay", "scale", "target_scale", "batch_size") + (
            ("max_iter", "ftol", "n_iter_no_change") if params.get("batch_size") is None
            else ("iterations_per_batch",) * ncg + ("drop_last", "epochs")) + (
            ("early_stopping", "validation_fraction") if params.get("early_stopping") else ())
        print("  trained with " + ", ".join(f"{k}={params[k]}" for k in names if k in params))
    return 0


def _reproduce(args):
    from .reproduce import run

    if not args.out:
        raise ValueError("--out must name a folder")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {args.out} is a file; give a folder")
    _writable(os.path.join(args.out, "report.md") if os.path.isdir(args.out)
              else args.out, "--out")
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.mnist is not None and not os.path.isdir(args.mnist):
        raise ValueError(f"--mnist {args.mnist!r} is not a folder")
    for opt, value in (("--mnist-train", args.mnist_train),
                       ("--mnist-epochs", args.mnist_epochs)):
        if value is not None and value < 1:
            raise ValueError(f"{opt} must be >= 1, got {value}")
        if value is not None and args.mnist is None:
            raise ValueError(f"{opt} needs --mnist")
    try:
        run(args.out, quick=args.quick, mnist=args.mnist, threads=args.threads,
            seed=args.seed, progress=lambda line: print(line, flush=True),
            mnist_train=args.mnist_train, mnist_epochs=args.mnist_epochs)
    except KeyboardInterrupt:
        print("interrupted: no report written", file=sys.stderr)
        return 130
    return 0


def main(argv=None):
    if not launched_by_mpi():
        args = _parser().parse_args(argv)
        args.comm = None
        return _main(args)
    # one of several processes started by mpiexec: Ctrl-C is handled from the start (see
    # _main_mpi), and the parser's help, version and errors are printed by rank 0 alone
    stop = {"stop": False}
    signal.signal(signal.SIGINT, lambda signum, frame: stop.update(stop=True))
    if _launcher_rank() != 0:
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), \
                contextlib.redirect_stderr(null):
            args = _parser().parse_args(argv)
    else:
        args = _parser().parse_args(argv)
    args.comm, args.stop = None, stop
    return _main_mpi(args)


def _launcher_rank():
    """This process's rank as the MPI launcher gave it (before MPI starts), else 0."""
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"):
        try:
            return int(os.environ[name])
        except (KeyError, ValueError):
            pass
    return 0


def _main_mpi(args):
    """Under mpiexec: `train` on every rank over MPI_COMM_WORLD; the other commands on rank 0
    alone. An error on any rank ends the whole job (MPI_Abort) with its message, so that no
    rank waits forever for the others."""
    try:
        from .mpi import world

        comm = world()
    except ImportError as exc:
        print(f"snode {args.command}: error: {exc}", file=sys.stderr)
        return 2
    rank, size = comm.Get_rank(), comm.Get_size()
    if args.command != "train":
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return _main(args) if rank == 0 else 0
    args.comm = comm

    def on_interrupt(signum, frame):
        # the first Ctrl-C: every rank stops after the iteration they all finish next (the
        # ranks agree on it), rank 0 writes the last good weights; a second one ends the job
        if args.stop["stop"]:
            comm.Abort(130)
        args.stop["stop"] = True

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        code = _main(args, reraise=True)
    except BaseException as exc:  # noqa: BLE001 - any error ends every rank
        text = str(exc) or type(exc).__name__
        print(f"snode train: error (rank {rank} of {size}): {text}", file=sys.stderr,
              flush=True)
        time.sleep(0.5)  # (the launcher forwards the message before the job is torn down)
        comm.Abort(130 if isinstance(exc, KeyboardInterrupt) else 2)
        return 2  # pragma: no cover - Abort does not return
    comm.Barrier()
    return code


def _main(args, reraise=False):
    try:
        return {"train": _train, "evaluate": _evaluate, "info": _info,
                "reproduce": _reproduce}[args.command](args)
    except NonFiniteError as exc:  # an overflow: what the user chose, with the way out
        if reraise:
            raise
        hint = ("try a smaller --T, more --steps, or a bounded activation such as tanh"
                if args.command == "train" else "the model overflows on these inputs")
        print(f"snode {args.command}: error: {exc} ({hint})", file=sys.stderr)
        return 2
    except (ValueError, ImportError, OSError, MemoryError) as exc:
        if reraise:
            raise
        print(f"snode {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
