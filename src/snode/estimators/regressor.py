"""SNODERegressor: regression with a standalone neural ODE."""
from typing import Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import as_float_array
from ..cost import Cost
from ..data import Scaler
from . import distributed, persistence
from .base import SkBase, SkRegressor, SNODEEstimator
from .classifier import matching
from .params import REGRESSOR

__all__ = ["SNODERegressor", "r2"]


class SNODERegressor(SNODEEstimator, SkRegressor, SkBase, kind=REGRESSOR):
    """Regression with a standalone neural ODE: targets (N,) or (N, k) are fitted by the first
    k outputs (squared error); x(0) holds zeros there and the scaled inputs after them.

    Every setting left at "auto" is resolved by the rules of :mod:`snode.estimators.auto`; the
    measurements that chose the defaults are in docs/decisions.md.

    <parameters>

    Attributes
    ----------
    As for :class:`SNODEClassifier`, with ``n_outputs_`` (k) instead of ``classes_``, and:

    target_scaler_ : Scaler
        The target scaling fitted on the training targets (``net_``'s outputs are in its
        units).

    Raises
    ------
    ValueError
        From ``fit`` for malformed data (targets whose variance overflows among them) or
        parameters out of range.

    References
    ----------
    docs/method.md; Baravdish et al. (2022), arXiv:2202.05766 (the network and its training).

    Examples
    --------
    >>> import snode
    >>> X, Y, _ = snode.data.teacher(200, seed=0)
    >>> reg = snode.SNODERegressor(max_iter=60, random_state=0).fit(X, Y[:, 0])
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> bool(reg.score(X, Y[:, 0]) > 0.9)                  # R^2
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multioutput": True}

    def _fit(self, X, y, callback):
        p, red, X, y = self._start(X, y, classification=False)
        y = as_float_array(y, "y", allow_nonfinite=True)  # (checked by _start)
        Y = y[:, None] if y.ndim == 1 else y
        if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have {X.shape[0]} rows, got shape {y.shape}")
        if p["warm_start"] and hasattr(self, "target_scaler_"):
            if Y.shape[1] != self.target_scaler_.shift_.shape[0]:
                raise ValueError(f"y has {Y.shape[1]} target columns, but the fitted network "
                                 f"was trained on {self.target_scaler_.shift_.shape[0]}; "
                                 "warm_start goes on with it (set warm_start=False to start "
                                 "afresh)")
            targets = self.target_scaler_  # (the units the network was trained in)
            if p["target_scale"] != targets.method:
                raise ValueError("warm_start goes on with the fitted target scaling: "
                                 f"target_scale must stay {targets.method!r}; set "
                                 "warm_start=False to start afresh")
        else:
            targets = Scaler(p["target_scale"], per_feature=True).fit(
                Y, reducer=red, block_size=p["block_size"], name="y", check_input=False)
        return self._fit_net(p, red, X, Y.shape[1],
                             Y=targets.transform(Y, check_input=False),
                             cost=Cost(mse=1.0), callback=callback,
                             attrs=dict(_y_1d=y.ndim == 1, n_outputs_=Y.shape[1],
                                        target_scaler_=targets))

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """The targets of the samples X (N, m): (N,) or (N, k), as fitted."""
        out = self._outputs(X)[:, :self.n_outputs_]  # (checks that the estimator is fitted)
        targets = self.target_scaler_
        out = targets.inverse_transform(out, check_input=False)
        # a target that was constant in training is that constant (its column is only
        # shifted, so the network's rounding-level error would be in its units)
        out[:, targets.constant_] = targets.shift_[targets.constant_]
        return out[:, 0] if self._y_1d else out

    def score(self, X: ArrayLike, y: ArrayLike,
              sample_weight: Optional[ArrayLike] = None) -> float:
        """Coefficient of determination R^2 (scikit-learn's: averaged over the targets; over
        every process's samples with `comm`).

        Raises
        ------
        ValueError
            If y does not have the predictions' shape ((N,) and (N, 1) are taken as the
            same).
        """
        y0 = as_float_array(y, "y")
        red = self._reducer()
        empty = red.size > 1 and np.shape(X)[:1] == (0,)  # (no samples here)
        p = y0.copy() if empty else self.predict(X)
        t = matching(y0, p.shape, "y")
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if red.size > 1:  # every process's samples: the mean, then the squares
            w = np.ones(t.shape[0]) if w is None else w
            k = 1 if t.ndim == 1 else t.shape[1]
            Y, P = t.reshape(t.shape[0], k), p.reshape(t.shape[0], k)
            n, *s1 = distributed.global_sums(red, float(np.sum(w)),
                                             *np.sum(w[:, None] * Y, axis=0))
            mean = np.array(s1) / n
            sums = distributed.global_sums(red, *np.sum(w[:, None] * (Y - P) ** 2, axis=0),
                                           *np.sum(w[:, None] * (Y - mean) ** 2, axis=0))
            ss_res, ss_tot = np.array(sums[:k]) / n, np.array(sums[k:]) / n
            return r2(ss_res, ss_tot)
        ss_res = np.average((t - p) ** 2, axis=0, weights=w)
        ss_tot = np.average((t - np.average(t, axis=0, weights=w)) ** 2, axis=0, weights=w)
        return r2(ss_res, ss_tot)

    def _extra_meta(self):
        return {"n_outputs": int(self.n_outputs_), "y_1d": bool(self._y_1d),
                "target_scaler": self.target_scaler_.to_dict()}

    def _restore_meta(self, meta):
        k = meta["n_outputs"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.net_.width:
            raise ValueError(f"n_outputs must be an integer in [1, {self.net_.width}], got {k!r}")
        self.n_outputs_ = k
        self._y_1d = bool(meta["y_1d"])
        if "target_scaler" in meta:
            targets = persistence.stored_scaler(meta["target_scaler"], k, "target",
                                                positive=True)
        else:  # (a file from before the target scaling: trained on the targets as they are)
            targets = Scaler("none", per_feature=True).fit(np.zeros((1, k)))
        self.target_scaler_ = targets


def r2(ss_res, ss_tot):
    """R^2 averaged over the targets from their residual and total sums of squares; a target
    constant in y scores 1 when predicted exactly, else 0 (scikit-learn's r2_score)."""
    ss_res, ss_tot = np.atleast_1d(ss_res), np.atleast_1d(ss_tot)
    varies = ss_tot > 0
    r2 = np.where(varies, 1 - ss_res / np.where(varies, ss_tot, 1),
                  np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(r2))
