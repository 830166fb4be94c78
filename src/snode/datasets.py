"""Data sets and preprocessing.

Synthetic 2-D classification sets (`spirals`, `circles`, `moons`, `xor`), the inverse problem
`teacher`, scikit-learn's bundled 8x8 `digits`, MNIST from IDX files the user downloaded
(`mnist`), and CSV/NPZ files. Every loader returns float64 inputs X of shape (N, m) and either
integer labels (N,) or real targets (N, k).

Preprocessing: :class:`Scaler` (to a range, by default background 0 and foreground -1 as in the
authors' experiments, or standardisation), :func:`one_hot` targets in the first C components,
and a seeded :func:`train_test_split`.
"""
import gzip
import os
import struct

import numpy as np

from ._validate import as_float_array, check_int, check_real

__all__ = ["spirals", "circles", "moons", "xor", "teacher", "digits", "mnist", "load_csv",
           "load_npz", "load", "Scaler", "one_hot", "train_test_split", "NAMES"]

#: Names accepted by :func:`load` (besides "mnist:DIR", "csv:FILE" and "npz:FILE").
NAMES = ("spirals", "circles", "moons", "xor", "teacher", "digits")


def _rng(seed):
    return np.random.default_rng(seed)


def _n(n):
    return check_int(n, "n", minimum=2)


def spirals(n=1000, noise=0.05, turns=1.5, seed=None):
    """Two interleaved spirals in the plane, one per class (inputs in about [-1, 1]^2).

    Returns
    -------
    X : ndarray, shape (n, 2)
    labels : ndarray of int, shape (n,)
    """
    n = _n(n)
    noise = check_real(noise, "noise", minimum=0.0)
    turns = check_real(turns, "turns", minimum=0.0, strict=True)
    rng = _rng(seed)
    labels = np.arange(n) % 2
    r = np.sqrt(rng.uniform(0.0, 1.0, n)) * 0.95 + 0.05  # radius, area-uniform
    phi = r * turns * 2 * np.pi + np.pi * labels
    X = np.column_stack([r * np.cos(phi), r * np.sin(phi)])
    X += noise * rng.normal(size=X.shape)
    return X, labels


def circles(n=1000, noise=0.05, factor=0.5, seed=None):
    """Two concentric circles (radii 1 and `factor`), one per class.

    Returns (X (n, 2), labels (n,)); label 1 is the inner circle.
    """
    n = _n(n)
    noise = check_real(noise, "noise", minimum=0.0)
    factor = check_real(factor, "factor", minimum=0.0, strict=True)
    if not factor < 1.0:
        raise ValueError(f"factor must be < 1, got {factor}")
    rng = _rng(seed)
    labels = np.arange(n) % 2
    phi = rng.uniform(0.0, 2 * np.pi, n)
    radius = np.where(labels == 1, factor, 1.0)
    X = np.column_stack([radius * np.cos(phi), radius * np.sin(phi)])
    X += noise * rng.normal(size=X.shape)
    return X, labels


def moons(n=1000, noise=0.1, seed=None):
    """Two interleaving half circles, one per class. Returns (X (n, 2), labels (n,))."""
    n = _n(n)
    noise = check_real(noise, "noise", minimum=0.0)
    rng = _rng(seed)
    labels = np.arange(n) % 2
    phi = rng.uniform(0.0, np.pi, n)
    X = np.where(labels[:, None] == 0,
                 np.column_stack([np.cos(phi), np.sin(phi)]),
                 np.column_stack([1.0 - np.cos(phi), 0.5 - np.sin(phi)]))
    X = (X - [0.5, 0.25]) / 1.25 + noise * rng.normal(size=X.shape)
    return X, labels


def xor(n=1000, noise=0.0, seed=None):
    """Points uniform in [-1, 1]^2, labelled by the sign of x1 x2 (1 where positive)."""
    n = _n(n)
    noise = check_real(noise, "noise", minimum=0.0)
    rng = _rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    labels = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + noise * rng.normal(size=X.shape), labels


def teacher(n=1000, width=4, n_steps=20, T=1.0, scheme="rk4", activation="tanh", scale=4.0,
            seed=None, teacher_seed=0):
    """The inverse problem: a random smooth sNODE (the teacher) maps random inputs to outputs.

    The teacher's weights are the smooth initialisation (seeded by `teacher_seed`, so the same
    teacher answers every call) times `scale`; `seed` draws the inputs, uniform in [-1, 1]. The
    task is to recover the weights, or at least the teacher's input-output map, from (X, Y).

    Returns
    -------
    X : ndarray, shape (n, width)
    Y : ndarray, shape (n, width)
    net : SNODE
        The teacher.
    """
    from .model import SNODE

    n = _n(n)
    net = SNODE(width, n_steps, T=T, scheme=scheme, activation=activation, init="smooth",
                seed=teacher_seed)
    net.W *= scale
    net.b *= scale
    X = _rng(seed).uniform(-1.0, 1.0, (n, net.width))
    return X, net.forward(X), net


def digits():
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 64 features, 10 classes).

    Pixel values 0..16 as in scikit-learn; no download needed. Needs scikit-learn
    (``pip install scikit-learn``).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the digits data set comes with scikit-learn: "
                          "pip install scikit-learn") from None
    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(np.int64)


def _read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ValueError(f"cannot read the IDX file {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = struct.unpack(">" + "I" * ndim, raw[4:header])
    size = int(np.prod(shape))
    if len(raw) != header + size:
        raise ValueError(f"{path}: expected {size} data bytes for shape {shape}, "
                         f"found {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise ValueError(f"no {stem}[.gz] in {folder}: download the MNIST IDX files there")


def mnist(path, kind="train", size=14):
    """MNIST from the standard IDX files (plain or .gz) in the folder `path`.

    Images are averaged down from 28x28 to `size` x `size` (a divisor of 28; 14 as in the
    authors' experiments) and returned with pixel values in [0, 1].

    Parameters
    ----------
    path : str
        Folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
        t10k-labels-idx1-ubyte (each optionally .gz).
    kind : {"train", "test"}
    size : int, default 14

    Returns
    -------
    X : ndarray, shape (N, size * size)
    labels : ndarray of int, shape (N,)
    """
    if kind not in ("train", "test"):
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    size = check_int(size, "size", minimum=1)
    if 28 % size:
        raise ValueError(f"size must divide 28, got {size}")
    if not os.path.isdir(path):
        raise ValueError(f"{path} is not a folder")
    prefix = "train" if kind == "train" else "t10k"
    images = _read_idx(_find(path, f"{prefix}-images-idx3-ubyte"))
    labels = _read_idx(_find(path, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST files in {path} do not match: images {images.shape}, "
                         f"labels {labels.shape}")
    f = images.shape[1] // size
    X = images.astype(np.float64).reshape(-1, size, f, size, f).mean(axis=(2, 4)) / 255.0
    return X.reshape(len(X), -1), labels.astype(np.int64)


def _labels_or_targets(y):
    if y.ndim == 1 and np.all(y == np.round(y)) and y.min() >= 0:
        return y.astype(np.int64)
    return y


def load_csv(path, target_columns=1, delimiter=",", skip_header="auto"):
    """A CSV file of numbers: the last `target_columns` columns are the target.

    With one target column of non-negative integers, it is returned as labels (N,), else as
    targets (N, k). A first line that is not numeric is skipped as a header.
    """
    target_columns = check_int(target_columns, "target_columns", minimum=1)
    try:
        with open(path) as f:
            first = f.readline()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if skip_header == "auto":
        try:
            [float(v) for v in first.strip().split(delimiter)]
            skip_header = 0
        except ValueError:
            skip_header = 1
    try:
        data = np.loadtxt(path, delimiter=delimiter, skiprows=int(skip_header), ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path} is not a CSV file of numbers: {exc}") from None
    if data.shape[1] <= target_columns or data.shape[0] < 1:
        raise ValueError(f"{path} needs at least one row and more than {target_columns} "
                         f"columns, got shape {data.shape}")
    X = as_float_array(data[:, :-target_columns], f"inputs in {path}")
    y = data[:, -target_columns:]
    return X, _labels_or_targets(y[:, 0] if target_columns == 1 else y)


def load_npz(path):
    """An .npz file with arrays X (N, m) and y (labels (N,) or targets (N, k))."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if "X" not in data or "y" not in data:
                raise ValueError(f"{path} must hold arrays 'X' and 'y', has {sorted(data)}")
            X, y = data["X"], data["y"]
    except (OSError, EOFError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    X = as_float_array(X, f"X in {path}", ndim=2)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y in {path} have {X.shape[0]} and {y.shape[0]} rows")
    return X, _labels_or_targets(np.asarray(y))


def load(name, n=1000, seed=None):
    """A data set by name: one of NAMES, "mnist:DIR", "csv:FILE" or "npz:FILE".

    Returns (X, y) with y labels (N,) or targets (N, k); the teacher's targets are its outputs.
    """
    if not isinstance(name, str):
        raise ValueError(f"data set name must be a string, got {name!r}")
    kind, _, arg = name.partition(":")
    if kind == "mnist":
        return mnist(arg or ".")
    if kind == "csv":
        return load_csv(arg)
    if kind == "npz":
        return load_npz(arg)
    if kind == "digits":
        return digits()
    if kind == "teacher":
        X, Y, _ = teacher(n, seed=seed)
        return X, Y
    gens = {"spirals": spirals, "circles": circles, "moons": moons, "xor": xor}
    if kind not in gens:
        raise ValueError(f"unknown data set {name!r}; choose one of {NAMES}, 'mnist:DIR', "
                         "'csv:FILE' or 'npz:FILE'")
    return gens[kind](n, seed=seed)


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
    """

    def __init__(self, method="range", low=0.0, high=-1.0, per_feature=False):
        if method not in ("range", "standard", "none"):
            raise ValueError(f"unknown scaling {method!r}; choose 'range', 'standard' or 'none'")
        self.method = method
        self.low = check_real(low, "low")
        self.high = check_real(high, "high")
        self.per_feature = bool(per_feature)
        self.shift_ = self.scale_ = None

    def fit(self, X):
        X = as_float_array(X, "X", ndim=2)
        if X.shape[0] < 1:
            raise ValueError("cannot fit a scaler on no samples")
        axis = 0 if self.per_feature else None
        if self.method == "none":
            self.shift_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        elif self.method == "standard":
            mu, sd = X.mean(axis=axis), X.std(axis=axis)
            self.shift_ = np.broadcast_to(mu, X.shape[1]).copy()
            self.scale_ = np.broadcast_to(np.where(sd > 0, 1.0 / np.maximum(sd, 1e-300), 1.0),
                                          X.shape[1]).copy()
        else:
            lo, hi = X.min(axis=axis), X.max(axis=axis)
            span = hi - lo
            scale = np.where(span > 0, (self.high - self.low) / np.where(span > 0, span, 1), 1)
            self.scale_ = np.broadcast_to(scale, X.shape[1]).copy()
            self.shift_ = np.broadcast_to(lo - self.low / self.scale_, X.shape[1]).copy()
        return self

    def transform(self, X):
        if self.shift_ is None:
            raise ValueError("the scaler is not fitted")
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.shift_.shape[0]:
            raise ValueError(f"X has {X.shape[1]} features, the scaler was fitted on "
                             f"{self.shift_.shape[0]}")
        return (X - self.shift_) * self.scale_

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def to_dict(self):
        return {"method": self.method, "low": self.low, "high": self.high,
                "per_feature": self.per_feature,
                "shift": None if self.shift_ is None else self.shift_.tolist(),
                "scale": None if self.scale_ is None else self.scale_.tolist()}

    @classmethod
    def from_dict(cls, d):
        s = cls(d["method"], d["low"], d["high"], d["per_feature"])
        if d.get("shift") is not None:
            s.shift_ = np.asarray(d["shift"], dtype=np.float64)
            s.scale_ = np.asarray(d["scale"], dtype=np.float64)
        return s


def one_hot(labels, n_classes, width=None, levels=(0.0, 1.0)):
    """Targets with `levels[1]` in component `label` and `levels[0]` in the other first
    `n_classes` components, zero-padded to `width` (default n_classes)."""
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    width = n_classes if width is None else check_int(width, "width", minimum=n_classes)
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and (labels.min() < 0 or labels.max() >= n_classes)):
        raise ValueError(f"labels must be a vector of integers in [0, {n_classes})")
    Y = np.zeros((labels.shape[0], width))
    Y[:, :n_classes] = levels[0]
    Y[np.arange(labels.shape[0]), labels.astype(np.int64)] = levels[1]
    return Y


def train_test_split(X, y, test_size=0.25, seed=None):
    """Seeded random split: returns X_train, X_test, y_train, y_test."""
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
