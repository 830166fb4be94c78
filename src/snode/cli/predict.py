"""``snode predict MODEL``: a saved estimator's predictions on a data set, as a CSV file."""
import csv
import io as _io
import sys
import warnings

import numpy as np

from .. import data as datasets
from ..estimators import SNODEClassifier, load
from ..io import atomic_write
from ..loss import softmax
from . import data

__all__ = ["predict", "inputs", "prediction_table"]


def predict(args):
    """The ``predict`` command; returns the exit status."""
    to_file = args.output not in (None, "-")
    if to_file:
        data.writable(args.output, "--output")
    est = load(args.model)
    if not hasattr(est, "predict"):
        raise ValueError(f"{args.model} holds a bare network, not an estimator")
    X = inputs(args, est)
    with warnings.catch_warnings():  # (the columns were matched by name)
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        header, rows = prediction_table(est, X)
    text = _io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    if to_file:
        atomic_write(args.output, lambda f: f.write(text.getvalue().encode("utf-8")),
                     "the predictions")
        print(f"{len(X)} predictions written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text.getvalue())
        sys.stdout.flush()  # (a closed pipe raises here, not at the interpreter's exit)
    return 0


def inputs(args, est):
    """The inputs X of the data set for `est`, its columns in the model's order. A CSV file
    needs no labels: with a header and a model that knows its columns' names, those columns
    by name (any others, such as the labels, are left out); otherwise by position, the file
    holding the model's inputs alone or with the labels' column (--label-column, default the
    last; a regressor's targets: its last columns)."""
    kind, _, path = args.dataset.partition(":")
    n = est.n_features_in_
    if kind != "csv":
        X, _, _ = data.load(args, "test")  # (MNIST: its own test images)
        if X.shape[1] != n:
            raise ValueError(f"{args.dataset} has {X.shape[1]} input features; {args.model} "
                             f"takes {n}")
        return X
    if not path:
        raise ValueError(f"{args.dataset!r} names no file: give csv:FILE")
    opts = data.with_model_labels(args, est, data.csv_options(args))
    names, m = datasets.csv_columns(path, opts.get("delimiter"), opts.get("header", "auto"))
    label = opts.get("label_column")
    if isinstance(label, str) and (names is None or label not in names):
        raise ValueError(f"{path} has no column {label!r}" + (
            f"; its columns: {', '.join(names)}" if names else " (it has no header)"))
    want = getattr(est, "feature_names_in_", None)
    if want is not None and names is not None:
        want = [str(c) for c in want]
        data.check_columns(path, want, names, others=True)
        unused = [c for c in names if c not in want and c != label and
                  c not in ("", "Unnamed: 0")]
        if unused:
            data.note.info(f"snode predict: note: columns of {path} not used: "
                           f"{', '.join(unused)}")
        opts.pop("label_column", None)
        return datasets.load_csv(path, columns=want, label_column=None, **opts)[0]
    if names is not None:
        data.note_unnamed("predict", path)
        if names[0] in ("", "Unnamed: 0") and m > 1:
            m -= 1  # (pandas' index column)
    k = getattr(est, "n_outputs_", 1)  # (the columns of the labels, or of the targets)
    if m == n and label is None:
        return datasets.load_csv(path, label_column=None, **opts)[0]
    if m == n + k:
        return datasets.load_csv(path, target_columns=k, **opts)[0]
    what = "the labels" if k == 1 else f"{k} targets"
    if m == n:
        raise ValueError(f"{path} has {m} columns, the model's {n} inputs alone: no column of "
                         f"{what} to leave out (--label-column {label} given)")
    raise ValueError(f"{path} has {m} columns; {args.model} takes {n} input features (and "
                     f"the file may hold {what} beside them)")


def prediction_table(est, X):
    """(header, rows) of the predictions of `est` for X: a classifier's label and class
    probabilities ("prediction", "probability_<class>"...), a regressor's outputs
    ("prediction", or "prediction_1".. for several)."""
    if isinstance(est, SNODEClassifier):  # (one forward sweep: predict's and predict_proba's)
        z, C = est._outputs(X), est.classes_.shape[0]
        labels, P = est.classes_[z[:, :C].argmax(axis=1)], softmax(z, C)
        header = ["prediction"] + [f"probability_{c}" for c in est.classes_]
        return header, ([_cell(c)] + [repr(float(p)) for p in row]
                        for c, row in zip(labels, P))
    Y = np.asarray(est.predict(X))
    if Y.ndim == 1:
        return ["prediction"], ([repr(float(v))] for v in Y)
    header = [f"prediction_{j + 1}" for j in range(Y.shape[1])]
    return header, ([repr(float(v)) for v in row] for row in Y)


def _cell(label):
    return label.item() if isinstance(label, np.generic) else label
