"""Preprocessing: input scaling fitted on training data, one-hot targets, a seeded split."""
from typing import Any, Callable, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import as_float_array, check_int, check_real

__all__ = ["Scaler", "one_hot", "train_test_split"]


def _rng(seed: Any) -> np.random.Generator:
    return np.random.default_rng(seed)


def _extremes(X: NDArray[np.float64], axis: Optional[int],
              reducer: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The smallest and largest values (per feature with axis 0) over all processes."""
    from ..reduce import gather_floats

    shape = (X.shape[1],) if axis == 0 else ()
    if X.shape[0]:
        own = np.stack([X.min(axis=axis), X.max(axis=axis), np.ones(shape)])
    else:  # (no samples here: marked as none)
        own = np.zeros((3,) + shape)
    parts = gather_floats(reducer, own)
    parts = parts[parts[:, 2].reshape(len(parts), -1)[:, 0] > 0]
    return parts[:, 0].min(axis=0), parts[:, 1].max(axis=0)


class Scaler:
    """Affine input scaling, fitted on training data and reused on new data.

    Parameters
    ----------
    method : {"range", "standard", "none"}, default "range"
        "range" maps the smallest value to `low` and the largest to `high`; the default
        (low=0, high=-1) is the authors' choice for images: background 0, strokes -1.
        "standard" subtracts the mean and divides by the standard deviation.
    low, high : float
    per_feature : bool, default False
        Fit each feature separately (for tabular and 2-D data) or all values together (for
        images).

    Attributes
    ----------
    shift_, scale_ : ndarray, shape (m,)
        The fitted map ``(X - shift_) * scale_``.
    constant_ : ndarray of bool, shape (m,)
        The features that were constant (to their rounding) in the fitted data: only shifted
        (scale 1).

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> X = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    >>> s = snode.data.Scaler("standard", per_feature=True).fit(X)
    >>> Z = s.transform(X)
    >>> np.allclose(Z.mean(axis=0), 0.0), np.allclose(s.inverse_transform(Z), X)
    (True, True)
    """

    def __init__(self, method: str = "range", low: float = 0.0, high: float = -1.0,
                 per_feature: bool = False) -> None:
        if method not in ("range", "standard", "none"):
            raise ValueError(f"unknown scaling {method!r}; choose 'range', 'standard' or 'none'")
        self.method = method
        self.low = check_real(low, "low")
        self.high = check_real(high, "high")
        self.per_feature = bool(per_feature)
        self.shift_: Optional[NDArray[np.float64]] = None
        self.scale_: Optional[NDArray[np.float64]] = None
        self.constant_: Optional[NDArray[np.bool_]] = None

    def fit(self, X: ArrayLike, *, reducer: Any = None, block_size: Optional[int] = None,
            name: str = "X", check_input: bool = True) -> "Scaler":
        """Fit to the samples X (N, m) (`name`: what the messages call X;
        `check_input=False` trusts a float64 array already checked to be finite).

        With a `reducer` of several processes, X is this process's share (whole blocks of
        `block_size` samples, as for :class:`snode.Objective`) and the statistics are those of
        all processes' samples, bit for bit the same as one process's fit to all of them
        (means and variances are summed block by block along the tree of
        :mod:`snode.reduce`).

        Raises
        ------
        ValueError
            For no samples, values whose range overflows ("range"), or a spread beyond what
            float64 holds ("standard": above about 1e308 or below 1e-308; any magnitude in
            between is standardised alike).
        """
        from ..reduce import Blocks, block_size_for, check_reducer, total_samples

        X = as_float_array(X, name, ndim=2, allow_nonfinite=not check_input)
        red = check_reducer(reducer)
        B = block_size_for(total_samples(red, X.shape[0])) if block_size is None else \
            check_int(block_size, "block_size", 1)
        blocks = Blocks(red, X.shape[0], B)
        if blocks.n_total < 1:
            raise ValueError("cannot fit a scaler on no samples")
        axis = 0 if self.per_feature else None
        if self.method == "none":
            self.shift_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
            constant: Any = False
        elif self.method == "standard":
            n = blocks.n_total * (X.shape[1] if axis is None else 1)
            zeros = (lambda: (np.zeros(X.shape[1] if axis == 0 else ()),))
            # the statistics of X / c, c the power of two just below the largest magnitude:
            # neither the squares of tiny values underflow (1e-170 read as a constant) nor
            # those of huge ones overflow; a power of two scales exactly, so that one block
            # gives numpy's X.mean() and X.var() (divided by c, c^2) bit for bit
            lo, hi = _extremes(X, axis, red)
            c = np.ldexp(1.0, np.frexp(np.maximum(abs(lo), abs(hi)))[1] - 1)  # (<= the largest)

            def sums(f: Callable[[NDArray[np.float64]], NDArray[np.float64]]) -> Any:
                return blocks.sum(lambda k: (np.asarray(np.add.reduce(
                    f(X[blocks.slice(k)] / c), axis=axis)),), zeros)[0]

            with np.errstate(over="ignore", invalid="ignore"):
                mu_c = sums(lambda x: x) / n
                var_c = sums(lambda x: (x - mu_c) * (x - mu_c)) / n
                mu, std = mu_c * c, np.sqrt(var_c) * c
            if not (np.isfinite(mu).all() and np.isfinite(std).all()):
                raise ValueError(f"{name} has values too large to standardise (their "
                                 "spread overflows)")
            # a feature whose variance is within the rounding of its values is a constant
            # (scikit-learn's StandardScaler rule): scale 1, not 1 / (rounding noise)
            eps = np.finfo(np.float64).eps
            constant = (var_c <= n * eps * var_c + (n * mu_c * eps) ** 2) | (std == 0)
            with np.errstate(divide="ignore", over="ignore"):
                scale = np.where(constant, 1.0, 1.0 / np.where(constant, 1.0, std))
            if not np.isfinite(scale).all():
                raise ValueError(f"{name} has values too small to standardise (their spread "
                                 "is below 1e-308)")
            self.shift_ = np.broadcast_to(mu, X.shape[1]).copy()
            self.scale_ = np.broadcast_to(scale, X.shape[1]).copy()
        else:
            lo, hi = _extremes(X, axis, red)
            with np.errstate(over="ignore"):
                span = hi - lo
            if not np.isfinite(span).all():
                raise ValueError(f"{name} has values too large to scale (their range "
                             "overflows)")
            # a span within the rounding of the values: a constant, scaled by 1
            constant = span <= 8 * np.finfo(np.float64).eps * np.maximum(abs(lo), abs(hi))
            scale = np.where(constant, 1.0,
                             (self.high - self.low) / np.where(constant, 1.0, span))
            self.scale_ = np.broadcast_to(scale, X.shape[1]).copy()
            self.shift_ = np.broadcast_to(lo - self.low / self.scale_, X.shape[1]).copy()
        self.constant_ = np.broadcast_to(constant, X.shape[1]).copy()
        return self

    def _checked(self, X: ArrayLike, name: str, check_input: bool) -> NDArray[np.float64]:
        """X as a float array (N, m) with the fitted number of columns (`check_input=False`:
        not scanned for non-finite values)."""
        shift, _ = self._map()
        A = as_float_array(X, name, ndim=2, allow_nonfinite=not check_input)
        if A.shape[1] != shift.shape[0]:
            raise ValueError(f"{name} has {A.shape[1]} features, the scaler was fitted on "
                             f"{shift.shape[0]}")
        return A

    def _map(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(shift_, scale_) of the fitted scaler; ValueError before ``fit``."""
        if self.shift_ is None or self.scale_ is None:
            raise ValueError("the scaler is not fitted")
        return self.shift_, self.scale_

    def transform(self, X: ArrayLike, *, check_input: bool = True) -> NDArray[np.float64]:
        """The scaled values ``(X - shift_) * scale_`` of X (N, m) (`check_input=False`:
        X, checked already, is not scanned again for non-finite values)."""
        A = self._checked(X, "X", check_input)
        shift, scale = self._map()
        Z: NDArray[np.float64] = (A - shift) * scale
        return Z

    def inverse_transform(self, Z: ArrayLike, *,
                          check_input: bool = True) -> NDArray[np.float64]:
        """The values whose transform is Z (N, m): ``Z / scale_ + shift_``."""
        A = self._checked(Z, "Z", check_input)
        shift, scale = self._map()
        X: NDArray[np.float64] = A / scale + shift
        return X

    def fit_transform(self, X: ArrayLike) -> NDArray[np.float64]:
        return self.fit(X).transform(X)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "low": self.low, "high": self.high,
                "per_feature": self.per_feature,
                "shift": None if self.shift_ is None else self.shift_.tolist(),
                "scale": None if self.scale_ is None else self.scale_.tolist(),
                "constant": None if self.constant_ is None else self.constant_.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Scaler":
        s = cls(d["method"], d["low"], d["high"], d["per_feature"])
        if d.get("shift") is not None:
            s.shift_ = np.asarray(d["shift"], dtype=np.float64)
            s.scale_ = np.asarray(d["scale"], dtype=np.float64)
            # (files from before it: no feature marked constant)
            constant = d.get("constant")
            s.constant_ = (np.zeros(s.shift_.shape, dtype=bool) if constant is None
                           else np.asarray(constant))
            if s.constant_.dtype != bool or s.constant_.shape != s.shift_.shape:
                raise ValueError("the scaling's 'constant' must be one boolean a feature")
        return s


def one_hot(labels: ArrayLike, n_classes: int, width: Optional[int] = None,
            levels: tuple[float, float] = (0.0, 1.0)) -> NDArray[np.float64]:
    """Targets with `levels[1]` in component `label` and `levels[0]` in the other first
    `n_classes` components, zero-padded to `width` (default n_classes).

    Examples
    --------
    >>> import snode
    >>> snode.data.one_hot([0, 2, 1], 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    width = n_classes if width is None else check_int(width, "width", minimum=n_classes)
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and (labels.min() < 0 or labels.max() >= n_classes)):
        raise ValueError(f"labels must be a vector of integers in [0, {n_classes})")
    Y = np.zeros((labels.shape[0], width))
    Y[:, :n_classes] = levels[0]
    Y[np.arange(labels.shape[0]), labels.astype(np.int64)] = levels[1]
    return Y


def train_test_split(X: ArrayLike, y: ArrayLike, test_size: float = 0.25,
                     seed: Any = None) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any],
                                                NDArray[Any]]:
    """Seeded random split: returns X_train, X_test, y_train, y_test.

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    >>> Xtr, Xte, ytr, yte = snode.data.train_test_split(X, y, 0.3, seed=0)
    >>> len(Xtr), len(Xte), sorted(ytr.tolist() + yte.tolist()) == list(range(10))
    (7, 3, True)
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y have {X.shape[0]} and {y.shape[0]} samples")
    test_size = check_real(test_size, "test_size", minimum=0.0)
    if not test_size < 1.0:
        raise ValueError(f"test_size must be < 1, got {test_size}")
    n_test = int(round(test_size * X.shape[0]))
    perm = _rng(seed).permutation(X.shape[0])
    test, train = perm[:n_test], perm[n_test:]
    return X[train], X[test], y[train], y[test]
