"""SNODEClassifier: classification with a standalone neural ODE."""
from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..cost import Cost
from ..loss import softmax
from . import distributed
from .base import SkBase, SkClassifier, SNODEEstimator
from .params import CLASSIFIER

__all__ = ["SNODEClassifier", "matching"]


class SNODEClassifier(SNODEEstimator, SkClassifier, SkBase, kind=CLASSIFIER):
    """Classification with a standalone neural ODE; the classes are read from the first C
    outputs (softmax for probabilities), and x(0) holds zeros there and the scaled inputs
    after them.

    Every setting left at "auto" is resolved by the rules of :mod:`snode.estimators.auto`; the
    measurements that chose the defaults are in docs/decisions.md.

    <parameters>

    Attributes
    ----------
    net_ : SNODE
        The trained network.
    scaler_ : Scaler
        The input scaling fitted on the training data.
    classes_ : ndarray, shape (C,)
        The class labels seen in training, sorted; output c scores ``classes_[c]``.
    n_features_in_ : int
        The number of input features seen in training.
    input_offset_ : int
        The state's component where the inputs begin (the resolved `input_offset`; 0 for
        files saved before it).
    result_ : TrainResult
        How training went: the optimiser's result (cost, iterations, message).
    history_ : dict of ndarray
        The training history (``result_.history``).
    n_iter_ : int
        The iterations run.
    loss_curve_ : list of float
        The training cost of every iteration (mini-batch mode: its mean over each epoch's
        batches), as scikit-learn's MLP's; the cost includes the weight decay.
    memory_ : int
        The L-BFGS pairs NCG kept (the resolved `memory`; 0 for the conjugate direction and
        the other optimisers).
    sobolev_weight_ : float
        The hybrid gradient's weight NCG used (the resolved `sobolev_weight`; 1 under the L2
        metric and for the other optimisers).
    step_rule_ : {"sensitivity", "wolfe"} or None
        NCG's line search (ncg_options' "step", "auto" resolved; None for the other
        optimisers).
    batch_size_, epochs_ : int or None
        The schedule used (`batch_size` and `epochs`, "auto" resolved; both None: full
        batch).
    optimizer_ : Trainer
        The optimiser that ran, with the estimator's "auto" settings resolved (its own
        "auto" settings, alpha and wolfe_c2, it resolves as it runs); not stored in model
        files, nor are ``result_``, ``history_``, ``n_iter_``, ``loss_curve_`` and the
        validation costs.
    early_stopping_ : bool
        Whether validation chose the weights (the resolved `early_stopping`): a held-out
        share, or folds where it would hold fewer than 10 samples.
    decay_ : float
        The weight decay of the weights the network holds (the resolved `decay`: with the
        decay path, the stage where they were reached; the first stage's where the starting
        weights were kept).
    validation_costs_, best_validation_cost_ : ndarray and float
        With early stopping: the validation cost (the classifier's Brier score, the
        regressor's squared error) at every check, and its best by early stopping's rule (a
        new best lower than the last by more than `ftol` of it), whose weights the network
        holds; where folds chose the stage of the decay path, the folds' mean cost of each
        stage in the path's order, and that of the stage reached.

    Raises
    ------
    ValueError
        From ``fit`` for malformed data, fewer than 2 classes, or parameters out of range.

    References
    ----------
    docs/method.md; Baravdish et al. (2022), arXiv:2202.05766 (the network and its training).

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.moons(200, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=60, random_state=0).fit(X, y)
    >>> clf.predict(X[:4]).shape, clf.predict_proba(X[:4]).shape
    ((4,), (4, 2))
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    def _fit(self, X, y, callback):
        p, red, X, y = self._start(X, y, classification=True)
        classes, labels = np.unique(y, return_inverse=True)
        if red.size > 1:  # the classes of every process's samples
            classes = np.unique(np.concatenate(red.allgather(classes)))
            labels = np.searchsorted(classes, y)
        if p["warm_start"] and hasattr(self, "classes_") and \
                not np.array_equal(classes, self.classes_):
            raise ValueError("warm_start needs the same classes as the previous fit")
        if classes.shape[0] < 2:
            raise ValueError(f"need at least 2 classes, got {classes.shape[0]} class")
        C = classes.shape[0]
        if p["loss"] == "ce":
            cost = Cost(mse=0.0, ce=1.0, n_classes=C)
        else:
            cost = Cost(mse=1.0, n_classes=C)
        return self._fit_net(p, red, X, C, labels=labels, cost=cost, callback=callback,
                             attrs=dict(classes_=classes))

    classes_: NDArray[Any]  # (set by fit)

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """The first C outputs, (N, C) (for 2 classes: output 1 minus output 0, (N,))."""
        z = self._outputs(X)[:, :self.classes_.shape[0]]
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Softmax of the first C outputs, (N, C)."""
        return softmax(self._outputs(X), self.classes_.shape[0])

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The class of each sample of X (N, m): the largest of the first C outputs."""
        z = self._outputs(X)[:, :self.classes_.shape[0]]
        return self.classes_[z.argmax(axis=1)]

    def score(self, X: ArrayLike, y: ArrayLike,
              sample_weight: Optional[ArrayLike] = None) -> float:
        """Mean accuracy (over every process's samples with `comm`).

        Raises
        ------
        ValueError
            If y is not one label per sample of X ((N,) or (N, 1)).
        """
        y = np.asarray(y)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        red = self._reducer()
        if red.size > 1 and np.shape(X)[:1] == (0,):  # (no samples here)
            hit = np.zeros(0, dtype=bool)
        else:
            pred = self.predict(X)
            hit = pred == matching(y, pred.shape, "y")
        if red.size > 1:  # every process's samples
            w = np.ones(hit.shape[0]) if w is None else w
            right, total = distributed.global_sums(red, float(np.sum(w * hit)),
                                                   float(np.sum(w)))
            return right / total
        return float(np.average(hit, weights=w))

    def _extra_meta(self):
        return {"classes": self.classes_.tolist()}

    def _restore_meta(self, meta):
        classes = meta["classes"]
        if not isinstance(classes, list) or len(classes) < 2 or \
                len(classes) > self.net_.width or \
                not all(isinstance(c, (str, int, float, bool)) for c in classes) or \
                len(set(classes)) != len(classes):
            raise ValueError(f"classes must be a list of 2 to {self.net_.width} distinct "
                             f"labels, got {classes!r}")
        self.classes_ = np.asarray(classes)


def matching(y, shape, name):
    """y with the given shape (N,) or (N, k): one of shape (N, 1) for (N,) or (N,) for
    (N, 1) is reshaped; anything else raises a ValueError (numpy would broadcast it)."""
    if y.shape == shape:
        return y
    if y.size == shape[0] and len(shape) <= 2 and (shape[1:] in ((), (1,))) and \
            y.shape in ((shape[0],), (shape[0], 1)):
        return y.reshape(shape)
    raise ValueError(f"{name} must have shape {shape} (the predictions' shape), got {y.shape}")
