"""The discrete H1 (Sobolev) inner product in depth, its Riesz map, and the weight penalty.

All of them are one operator on parameter pairs ``(W, b)`` (arrays of shape (K, d, d) and
(K, d), depth first), applied entry by entry along depth:

    A = mass h I + (stiff / h) L,     L the Neumann path Laplacian,

so that ``u . A v = mass h sum_i u_i v_i + (stiff/h) sum_i (u_{i+1} - u_i)(v_{i+1} - v_i)``.
With ``(mass, stiff) = (1, alpha)`` it is the Sobolev inner product and solving with it gives
the Sobolev gradient; with ``(decay, smooth)`` it is twice the cost's weight penalty and
applying it gives the penalty's gradient. See docs/method.md (the Sobolev gradient).

References
----------
.. [1] J. W. Neuberger, "Sobolev Gradients and Differential Equations", 2nd ed., Lecture
   Notes in Mathematics 1670, Springer, 2010.
"""
import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels
from ._validate import as_float_array, check_fraction, check_real

__all__ = ["sobolev_gradient", "sobolev_inner", "h1_inner", "h1_apply", "DepthOperator", "Pair"]

#: A pair of weight-shaped arrays (W-like of shape (K, d, d), b-like of shape (K, d)).
Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def _pair(gW_in: ArrayLike, gb_in: ArrayLike, names: tuple[str, str] = ("gW", "gb")) -> Pair:
    gW = as_float_array(gW_in, names[0], ndim=3)
    gb = as_float_array(gb_in, names[1], ndim=2)
    K, d = gW.shape[0], gW.shape[1]
    if gW.shape != (K, d, d) or gb.shape != (K, d):
        raise ValueError(f"{names[0]} must have shape (K, d, d) and {names[1]} (K, d), "
                         f"got {gW.shape} and {gb.shape}")
    if K < 1:
        raise ValueError(f"{names[0]} has no steps")
    return gW, gb


def _weights(h: float, mass: float, stiff: float,
             names: tuple[str, ...] = ("mass", "stiff")) -> tuple[float, float, float]:
    return check_real(h, "h", minimum=0.0, strict=True), check_real(mass, names[0], minimum=0.0), check_real(stiff, names[1], minimum=0.0)


def _flat(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return a.reshape(a.shape[0], -1)


def sobolev_gradient(gW: ArrayLike, gb: ArrayLike, h: float, alpha: float = 1.0,
                     weight: float = 1.0) -> Pair:
    """The Sobolev gradient: the Riesz representer of a gradient in the discrete H1 product;
    with ``weight < 1`` the hybrid gradient, its blend with the L2 gradient.

    Solves ``(h I + (alpha/h) L) g_S = G`` along depth for every entry, L the Neumann path
    Laplacian, so that ``sobolev_inner(g_S, v) = sum(G * v)`` for every v. ``alpha = 0`` gives
    the L2 gradient ``G / h``. One tridiagonal (Thomas) solve, O(K) per entry. The hybrid
    gradient is ``weight g_S + (1 - weight) G / h``: the Riesz representer in the inner
    product whose inverse operator is the same blend of the two inverses (docs/method.md,
    the hybrid gradient).

    Parameters
    ----------
    gW : array_like, shape (K, d, d)
    gb : array_like, shape (K, d)
        The gradient G = dJ/dtheta (as from ``Cost.value_and_grad``).
    h : float > 0
        The depth step.
    alpha : float >= 0, default 1.0
        Weight of the derivative term.
    weight : float in [0, 1], default 1.0
        The Sobolev gradient's share of the hybrid gradient (1: the Sobolev gradient, 0: the
        L2 gradient).

    Returns
    -------
    sW : ndarray, shape (K, d, d)
    sb : ndarray, shape (K, d)

    Raises
    ------
    ValueError
        For malformed arrays or parameters out of range.
    NonFiniteError
        If the result is not finite (h or alpha so extreme that the solve overflows).

    References
    ----------
    docs/method.md, the Sobolev gradient; Neuberger (2010).

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=3, n_steps=20, seed=0)
    >>> rng = np.random.default_rng(0)
    >>> gW, gb = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    >>> sW, sb = snode.sobolev_gradient(gW, gb, net.h, alpha=1.0)
    >>> def roughness(W):
    ...     return np.abs(np.diff(W, axis=0)).sum()
    >>> bool(roughness(sW) < roughness(gW))   # smoother in depth
    True
    """
    gW, gb = _pair(gW, gb)
    h, _, alpha = _weights(h, 1.0, alpha, ("mass", "alpha"))
    return DepthOperator(h, 1.0, alpha).hybrid((gW, gb), check_fraction(weight, "weight"))


def sobolev_inner(uW: ArrayLike, ub: ArrayLike, vW: ArrayLike, vb: ArrayLike, h: float,
                  alpha: float = 1.0) -> float:
    """The discrete H1 inner product in depth of two parameter pairs.

    ``<u, v>_S = h sum_i u_i . v_i + (alpha/h) sum_{i<K-1} (u_{i+1}-u_i) . (v_{i+1}-v_i)``,
    summed over the W and b parts.

    Parameters
    ----------
    uW, vW : array_like, shape (K, d, d)
    ub, vb : array_like, shape (K, d)
    h : float > 0
    alpha : float >= 0, default 1.0

    Returns
    -------
    float

    Examples
    --------
    The Sobolev gradient is the Riesz representative: its H1 product with any direction is the
    plain sum of the gradient times that direction.

    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=3, n_steps=20, seed=0)
    >>> rng = np.random.default_rng(0)
    >>> gW, gb, vW, vb = (rng.normal(size=s) for s in (net.W.shape, net.b.shape) * 2)
    >>> sW, sb = snode.sobolev_gradient(gW, gb, net.h, alpha=1.0)
    >>> lhs = snode.sobolev_inner(sW, sb, vW, vb, net.h, alpha=1.0)
    >>> bool(np.isclose(lhs, (gW * vW).sum() + (gb * vb).sum()))
    True
    """
    return h1_inner((uW, ub), (vW, vb), h, 1.0, alpha, names=("alpha",))


def h1_inner(u: tuple[ArrayLike, ArrayLike], v: tuple[ArrayLike, ArrayLike], h: float,
             mass: float, stiff: float, *, names: tuple[str, ...] = ("mass", "stiff")) -> float:
    """``u . A v`` for two parameter pairs u = (uW, ub), v = (vW, vb), A = mass h I +
    (stiff/h) L (see the module docstring): a float."""
    uW, ub = _pair(u[0], u[1], ("uW", "ub"))
    vW, vb = _pair(v[0], v[1], ("vW", "vb"))
    if uW.shape != vW.shape:
        raise ValueError(f"u and v have different shapes: {uW.shape} and {vW.shape}")
    h, mass, stiff = _weights(h, mass, stiff, ("mass",) + tuple(names[-1:]))
    return DepthOperator(h, mass, stiff).inner((uW, ub), (vW, vb))


def h1_apply(u: tuple[ArrayLike, ArrayLike], h: float, mass: float, stiff: float) -> Pair:
    """``A u`` for a parameter pair u = (uW, ub), A = mass h I + (stiff/h) L: a pair.

    Raises
    ------
    NonFiniteError
        If the result overflows.
    """
    uW, ub = _pair(u[0], u[1], ("uW", "ub"))
    return DepthOperator(h, mass, stiff).apply((uW, ub))


class DepthOperator:
    """The operator ``A = mass h I + (stiff / h) L`` on parameter pairs, for pairs already
    checked (float arrays of matching shapes (K, d, d) and (K, d)); the public functions above
    check theirs and call it. The optimisers' metric and the cost's weight penalty hold one.

    Parameters
    ----------
    h : float > 0
        The depth step.
    mass, stiff : float >= 0
        The weights of the identity and of the path Laplacian.

    Raises
    ------
    ValueError
        For a parameter out of range (at construction).
    """

    __slots__ = ("h", "mass", "stiff")

    def __init__(self, h: float, mass: float = 1.0, stiff: float = 0.0) -> None:
        self.h, self.mass, self.stiff = _weights(h, mass, stiff)

    def __repr__(self) -> str:
        return f"DepthOperator(h={self.h!r}, mass={self.mass!r}, stiff={self.stiff!r})"

    def apply(self, u: Pair) -> Pair:
        """``A u`` (a pair); NonFiniteError if it overflows."""
        h, mass, stiff = self.h, self.mass, self.stiff
        return (_kernels.h1_apply(_flat(_c(u[0])), h, mass, stiff).reshape(u[0].shape),
                _kernels.h1_apply(_c(u[1]), h, mass, stiff))

    def inner(self, u: Pair, v: Pair) -> float:
        """``u . A v`` (a float)."""
        h, mass, stiff = self.h, self.mass, self.stiff
        return float(_kernels.h1_inner(_flat(_c(u[0])), _flat(_c(v[0])), h, mass, stiff)
                     + _kernels.h1_inner(_c(u[1]), _c(v[1]), h, mass, stiff))

    def solve(self, u: Pair) -> Pair:
        """``A^-1 u`` (a pair; needs mass > 0): with (mass, stiff) = (1, alpha), the Sobolev
        gradient of the gradient u."""
        h, mass, stiff = self.h, self.mass, self.stiff
        return (_kernels.h1_solve(_flat(_c(u[0])), h, mass, stiff).reshape(u[0].shape),
                _kernels.h1_solve(_c(u[1]), h, mass, stiff))

    def hybrid(self, u: Pair, weight: float) -> Pair:
        """``weight A^-1 u + (1 - weight) u / h`` for a checked weight in [0, 1]: with mass 1,
        the hybrid gradient (the Sobolev gradient at weight 1, the same numbers as
        :meth:`solve`; also at stiff = 0, where the two coincide)."""
        g = self.solve(u)
        if weight == 1.0 or self.stiff == 0.0:
            return g
        c = (1.0 - weight) / self.h
        return (weight * g[0] + c * u[0], weight * g[1] + c * u[1])


# (the arrays are made float64 and contiguous, copied only when they are not; the kernels
# check shapes and finiteness)
def _c(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.ascontiguousarray(a, dtype=np.float64)
