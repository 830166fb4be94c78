"""The discrete Sobolev (H1) inner product in depth and the Sobolev gradient (MATH.md sec. 6)."""
from . import _kernels
from ._validate import as_float_array, check_real

__all__ = ["sobolev_gradient", "sobolev_inner"]


def _pair(gW, gb, names=("gW", "gb")):
    gW = as_float_array(gW, names[0], ndim=3)
    gb = as_float_array(gb, names[1], ndim=2)
    K, d = gW.shape[0], gW.shape[1]
    if gW.shape != (K, d, d) or gb.shape != (K, d):
        raise ValueError(f"{names[0]} must have shape (K, d, d) and {names[1]} (K, d), "
                         f"got {gW.shape} and {gb.shape}")
    if K < 1:
        raise ValueError(f"{names[0]} has no steps")
    return gW, gb


def _scalars(h, alpha):
    return (check_real(h, "h", minimum=0.0, strict=True),
            check_real(alpha, "alpha", minimum=0.0))


def sobolev_gradient(gW, gb, h, alpha=1.0):
    """The Sobolev gradient: the Riesz representer of a gradient in the discrete H1 product.

    Solves ``(h I + (alpha/h) L) g_S = G`` in depth for every entry, L the Neumann path
    Laplacian, so that ``sobolev_inner(g_S, v) = sum(G * v)`` for every v. ``alpha = 0`` gives
    the L2 gradient ``G / h``.

    Parameters
    ----------
    gW : array_like, shape (K, d, d)
    gb : array_like, shape (K, d)
        The gradient G = dJ/dtheta (as from ``Cost.value_and_grad``).
    h : float > 0
        The depth step.
    alpha : float >= 0, default 1.0
        Weight of the derivative term.

    Returns
    -------
    sW : ndarray, shape (K, d, d)
    sb : ndarray, shape (K, d)
    """
    gW, gb = _pair(gW, gb)
    h, alpha = _scalars(h, alpha)
    K, d = gb.shape
    sW = _kernels.h1_solve(gW.reshape(K, d * d), h, 1.0, alpha).reshape(K, d, d)
    sb = _kernels.h1_solve(gb, h, 1.0, alpha)
    return sW, sb


def sobolev_inner(uW, ub, vW, vb, h, alpha=1.0):
    """The discrete H1 inner product in depth of two parameter-shaped pairs.

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
    """
    uW, ub = _pair(uW, ub, ("uW", "ub"))
    vW, vb = _pair(vW, vb, ("vW", "vb"))
    if uW.shape != vW.shape:
        raise ValueError(f"u and v have different shapes: {uW.shape} and {vW.shape}")
    h, alpha = _scalars(h, alpha)
    K, d = ub.shape
    return (_kernels.h1_inner(uW.reshape(K, d * d), vW.reshape(K, d * d), h, 1.0, alpha)
            + _kernels.h1_inner(ub, vb, h, 1.0, alpha))
