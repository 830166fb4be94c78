"""The command line's data: loading a data set by name, the split, the task, the shares of
several processes."""
import logging
import os
from types import SimpleNamespace

import numpy as np

from .. import data as datasets
from ..reduce import block_size_for, shard
from .parser import GENERATED

__all__ = ["load", "split", "scatter", "is_classification", "generated", "as_classes",
           "writable", "by_name", "check_columns", "note_unnamed", "csv_options",
           "with_model_labels", "AUTO_MAX_CLASSES"]

#: The commands' notes (shown on stderr unless --quiet).
note = logging.getLogger("snode.cli")

#: --task auto: whole numbers are class labels when they take at most this many values (and
#: at most one for every two samples); more, they are numbers to fit (diabetes' 214 values
#: of 442 samples, counts, prices).
AUTO_MAX_CLASSES = 100


def load(args, mnist_part, opts=None):
    """(X, y, names) of the data set: for MNIST its training or test files (`mnist_part`);
    names: a CSV header's names of X's columns and of the labels' (or targets') columns, a
    pair of lists (else None). `opts`: the CSV options (default: the command line's)."""
    kind, _, arg = args.dataset.partition(":")
    opts = csv_options(args) if opts is None else opts
    if kind == "mnist":
        return (*datasets.mnist(arg or ".", mnist_part), None)
    if kind == "csv" and arg:
        X, y, names = datasets.load_csv(arg, return_names=True, **opts)
        if names is None:
            return X, y, None
        header, _ = datasets.csv_columns(arg, opts.get("delimiter"), opts.get("header", "auto"))
        rest = [c for c in header if c not in names and c not in ("", "Unnamed: 0")]
        return X, y, (names, rest)
    return (*datasets.load(args.dataset, n=1000 if args.n is None else args.n, seed=args.seed,
                           **opts), None)


def with_model_labels(args, est, opts):
    """The CSV options `opts` with the labels' column of the model's training file, by its
    name, where none is given and the file's header has that name."""
    kind, _, path = args.dataset.partition(":")
    targets = getattr(est, "target_names_in_", None)
    if kind != "csv" or not path or "label_column" in opts or targets is None or \
            len(targets) != 1:
        return opts
    names, _ = datasets.csv_columns(path, opts.get("delimiter"), opts.get("header", "auto"))
    if names is not None and names.count(str(targets[0])) == 1:
        opts = dict(opts, label_column=str(targets[0]))
    return opts


def split(args):
    """(Xtr, Xte, ytr, yte, names): MNIST's own training and test files, else a seeded
    split; names as :func:`load`'s."""
    if args.dataset.partition(":")[0] == "mnist":
        (Xtr, ytr, _), (Xte, yte, _) = load(args, "train"), load(args, "test")
        return Xtr, Xte, ytr, yte, None
    X, y, names = load(args, "train")
    return (*datasets.train_test_split(X, y, args.test_size, seed=args.seed), names)


def by_name(X, names, est, path, command):
    """X's columns in the order of the columns `est` was trained on, where both have names
    (a CSV header's `names`, the model's ``feature_names_in_``), columns the model does not
    know left out with a note (as ``snode predict`` does); X as it is where either lacks
    names (then the columns count by position, with a note where the model has names).

    Raises
    ------
    ValueError
        Naming the model's columns that `path` lacks, and those it names twice.
    """
    want = getattr(est, "feature_names_in_", None)
    if names is not None and want is None:
        note_unnamed(command, path)
    if names is None and want is not None:
        note.info(f"snode {command}: note: {path} has no header: its columns are taken by "
                  f"position as the model's {', '.join(map(str, want))}")
    if want is None or names is None:
        return X
    names = names[0]
    want = [str(n) for n in want]
    if names == want:
        return X
    check_columns(path, want, names, others=True)
    unused = [c for c in names if c not in want and c not in ("", "Unnamed: 0")]
    if unused:
        note.info(f"snode {command}: note: columns of {path} not used: {', '.join(unused)}")
    if [c for c in names if c in want] != want:
        note.info(f"snode {command}: note: the columns of {path} are in another order than "
                  "the model's; matched by name")
    return X[:, [names.index(n) for n in want]]


def check_columns(path, want, names, others):
    """ValueError naming the model's columns (`want`) that the header `names` of `path`
    lacks or names twice, and, unless `others`, the columns it has beyond them."""
    missing = [n for n in want if n not in names]
    extra = [] if others else [n for n in names if n not in want]
    twice = sorted({n for n in (want if others else names) if names.count(n) > 1})
    if missing or extra or twice:
        parts = [f"{what}: {', '.join(map(repr, which))}" for what, which in (
            ("lacks the model's columns", missing), ("has columns the model was not "
             "trained on", extra), ("names columns twice", twice)) if which]
        hint = "" if others else "; --label-column names the labels' column"
        raise ValueError(f"{path} {'; '.join(parts)} (the model's columns: "
                         f"{', '.join(want)}{hint})")


def note_unnamed(command, path):
    """The note of a file whose header names its columns for a model that knows no names."""
    note.info(f"snode {command}: note: {path} names its columns, but the model knows no names "
              "(it was not trained on a file with a header): its columns are taken by "
              "position")


def scatter(args, comm, lead, block_size):
    """Under mpiexec: rank 0 reads and splits the data and sends every rank its share of the
    training samples (whole blocks, snode.shard); the other ranks read nothing. Returns
    (Xtr, Xte, ytr, yte, n_train, (Xall, yall), names): this rank's share, and on rank 0 the
    test set, all training samples (for the metrics) and the columns' names, None
    elsewhere."""
    data = error = None
    if lead:
        try:
            data = split(args)
        except (ValueError, OSError) as exc:  # (the others hear of it, and stop with it)
            error = exc
    n_train = comm.bcast(len(data[0]) if data is not None else error, root=0)
    if isinstance(n_train, BaseException):
        raise n_train if lead else ValueError(f"rank 0 could not read the data: {n_train}")
    size, B = comm.Get_size(), block_size or block_size_for(n_train)
    n_blocks = -(-n_train // B)
    if size > n_blocks:
        why = "--block-size" if block_size else "the default for this many"
        raise ValueError(f"{size} ranks need at least as many blocks of the sums over samples; "
                         f"{n_train} training samples make {n_blocks} of {B} ({why}): run "
                         f"at most {n_blocks} rank{'s' if n_blocks > 1 else ''}, or give a "
                         "smaller --block-size")
    pieces = None
    if lead:
        Xtr, ytr = data[0], data[2]
        pieces = [(Xtr[s], ytr[s]) for s in (shard(n_train, SimpleNamespace(rank=r, size=size),
                                                   B) for r in range(size))]
    X, y = comm.scatter(pieces, root=0)
    if lead:
        return X, data[1], y, data[3], n_train, (data[0], data[2]), data[4]
    return X, None, y, None, n_train, (None, None), None


def is_classification(y):
    """--task auto's choice for the training targets y (all of them)."""
    if y.ndim != 1:
        return False
    if y.dtype.kind in "USOb":
        return True
    if not np.issubdtype(y.dtype, np.integer):
        return False
    return np.unique(y).size <= min(AUTO_MAX_CLASSES, max(2, y.size // 2))


def generated(args):
    """Whether the data set is generated (the one that --n sizes)."""
    return args.dataset.split(":")[0] in GENERATED


def csv_options(args):
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


def as_classes(y, classes, dataset):
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


def needs_matplotlib(what, ext_of=None):
    """ValueError now, not after the work, if matplotlib is missing (`what` needs it) or
    cannot write a figure of the extension of `ext_of` (a path)."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError:
        raise ValueError(f"{what} needs matplotlib (python -m pip install matplotlib); "
                         "nothing was run") from None
    if ext_of:
        ext = os.path.splitext(ext_of)[1][1:].lower()
        kinds = Figure().canvas.get_supported_filetypes()
        if ext and ext not in kinds:
            raise ValueError(f"{what}: matplotlib cannot write .{ext} files (it writes "
                             f"{', '.join(sorted(kinds))})")


def writable(path, option):
    """ValueError now, not after training, if `path` cannot be written."""
    if not str(path).strip():
        raise ValueError(f"{option} is empty; give a file name")
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise ValueError(f"{option} {path} is a folder; give a file name")
    if not os.path.isdir(folder):
        raise ValueError(f"{option}: no folder {folder} to write {os.path.basename(path)} in")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{option}: the folder {folder} is not writable")
