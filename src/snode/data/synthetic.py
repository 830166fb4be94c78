"""Synthetic data sets: the 2-D classification sets (spirals, circles, moons, xor) and the
inverse problem (teacher), generated from a seed; and scikit-learn's bundled 8x8 digits.

Every generator returns float64 inputs X of shape (n, m) and integer labels (n,), or, for the
teacher, real targets (n, width).
"""
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .._validate import check_int, check_real

if TYPE_CHECKING:
    from ..model import SNODE

__all__ = ["spirals", "circles", "moons", "xor", "teacher", "digits"]


def _rng(seed: Any) -> np.random.Generator:
    return np.random.default_rng(seed)


def _n(n: int) -> int:
    return check_int(n, "n", minimum=2)


def spirals(n: int = 1000, noise: float = 0.05, turns: float = 1.5,
            seed: Any = None) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Two interleaved spirals in the plane, one per class (inputs in about [-1, 1]^2).

    Returns
    -------
    X : ndarray, shape (n, 2)
    labels : ndarray of int, shape (n,)

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.spirals(200, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((200, 2), [0, 1])
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


def circles(n: int = 1000, noise: float = 0.05, factor: float = 0.5,
            seed: Any = None) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Two concentric circles (radii 1 and `factor`), one per class.

    Returns (X (n, 2), labels (n,)); label 1 is the inner circle.

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.circles(100, seed=0)
    >>> X.shape, y.shape
    ((100, 2), (100,))
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


def moons(n: int = 1000, noise: float = 0.1,
          seed: Any = None) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Two interleaving half circles, one per class. Returns (X (n, 2), labels (n,)).

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.moons(100, noise=0.2, seed=0)
    >>> X.shape, int(y.sum())
    ((100, 2), 50)
    """
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


def xor(n: int = 1000, noise: float = 0.0,
        seed: Any = None) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Points uniform in [-1, 1]^2, labelled by the sign of x1 x2 (1 where positive).

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.xor(100, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 2), [0, 1])
    """
    n = _n(n)
    noise = check_real(noise, "noise", minimum=0.0)
    rng = _rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    labels = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + noise * rng.normal(size=X.shape), labels


def teacher(n: int = 1000, width: int = 4, n_steps: int = 20, T: float = 1.0,
            scheme: Any = "rk4", activation: str = "tanh", scale: float = 4.0, seed: Any = None,
            teacher_seed: Any = 0) -> tuple[NDArray[np.float64], NDArray[np.float64], "SNODE"]:
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

    Examples
    --------
    >>> import snode
    >>> X, Y, net = snode.data.teacher(50, seed=0)
    >>> X.shape, Y.shape, net.n_steps
    ((50, 4), (50, 4), 20)
    >>> bool((net.forward(X) == Y).all())          # the teacher's own outputs
    True
    """
    from ..model import SNODE

    n = _n(n)
    net = SNODE(width, n_steps, T=T, scheme=scheme, activation=activation, init="smooth",
                seed=teacher_seed)
    net.W *= scale
    net.b *= scale
    X = _rng(seed).uniform(-1.0, 1.0, (n, net.width))
    return X, net.forward(X), net


def digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 64 features, 10 classes).

    Pixel values 0..16 as in scikit-learn; no download needed. Needs scikit-learn
    (``pip install scikit-learn``).

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.digits()               # (needs scikit-learn)
    >>> X.shape
    (1797, 64)
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the digits data set comes with scikit-learn: "
                          "pip install scikit-learn") from None
    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(np.int64)
