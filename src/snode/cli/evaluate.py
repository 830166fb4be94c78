"""``snode evaluate MODEL``: a saved estimator's accuracy (or R^2) on a data set."""
import sys
import warnings

import numpy as np

from ..estimators import SNODEClassifier, load
from . import data
from .train import fit_quality

__all__ = ["evaluate"]


def evaluate(args):
    """The ``evaluate`` command; returns the exit status."""
    est = load(args.model)
    if not hasattr(est, "predict"):
        raise ValueError(f"{args.model} holds a bare network, not an estimator")
    if args.n is not None and not data.generated(args):
        print("snode evaluate: warning: not used by this run: --n (a generated data set's "
              "size)", file=sys.stderr)
    opts = data.with_model_labels(args, est, data.csv_options(args))
    X, y, names = data.load(args, "test", opts)  # (MNIST: its own test images)
    X = data.by_name(X, names, est, args.dataset.partition(":")[2], "evaluate")
    with warnings.catch_warnings():  # (the columns are matched by name above)
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        _report(args, est, X, y)
    return 0


def _report(args, est, X, y):
    if isinstance(est, SNODEClassifier):
        y = data.as_classes(y, est.classes_, args.dataset)
        print(f"accuracy {est.score(X, y):.4f} on {len(X)} samples of {args.dataset}")
    else:
        if y.dtype.kind in "USOb":
            raise ValueError(f"{args.dataset} has class names, but {args.model} holds a "
                             "regressor")
        r2, err = fit_quality(est, X, y.astype(np.float64))
        print(f"R^2 {r2:.4f}, relative error {err:.3e} on {len(X)} samples of "
              f"{args.dataset}")
