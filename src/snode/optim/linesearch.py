"""Line searches, written on the scalar function phi(eta) = J(theta + eta d) of the step.

Nothing here knows the network: each search receives phi (and its derivative) as plain
functions of eta, in the way scipy.optimize's line searches are written. A trial point whose
cost is not finite has ``phi(eta) = inf``.

References
----------
.. [1] J. Nocedal, S. J. Wright, "Numerical Optimization", 2nd ed., Springer, 2006, chapter 3
   (sufficient decrease, backtracking, the strong Wolfe conditions).
"""
import warnings

import numpy as np
from scipy.optimize import line_search

__all__ = ["backtrack", "first_finite", "newton_bisect", "sensitivity_step", "wolfe"]


#: The rounding allowance of the sufficient-decrease test, relative to |phi(0)|: near a
#: minimiser the decrease a step can make is below the rounding of the cost, and a test
#: without allowance refuses every step there (compare the approximate Wolfe conditions of
#: Hager and Zhang, which allow 1e-6 |phi(0)|).
ROUNDING = 8 * np.finfo(np.float64).eps


def backtrack(phi, phi0, slope, eta, c1=1e-4, max_backtracks=30, shrink=0.5):
    """Backtracking from `eta` until sufficient decrease (the Armijo condition).

    Tries eta, shrink eta, shrink^2 eta, ... until
    ``phi(eta) <= phi0 + c1 eta slope + ROUNDING |phi0|``.

    Parameters
    ----------
    phi : callable
        phi(eta) -> float (inf where the cost is not finite).
    phi0, slope : float
        phi(0) and phi'(0) < 0.
    eta : float > 0
        The first trial step.

    Returns
    -------
    eta : float or None
        The accepted step, or None after `max_backtracks` halvings.
    backtracks : int
        Trial steps refused before the accepted one.
    nonfinite : int
        Trial steps whose cost was not finite.
    """
    nonfinite = 0
    allowance = ROUNDING * abs(phi0)
    for k in range(max_backtracks + 1):
        value = phi(eta)
        nonfinite += not np.isfinite(value)
        if value <= phi0 + c1 * eta * slope + allowance:
            return eta, k, nonfinite
        eta *= shrink
    return None, max_backtracks, nonfinite


def first_finite(phi, eta, max_backtracks=30, shrink=0.5):
    """The first of eta, shrink eta, ... whose cost is finite (the authors' unguarded rule,
    which refuses only overflow): ``(eta or None, trial steps refused)``."""
    for k in range(max_backtracks + 1):
        if np.isfinite(phi(eta)):
            return eta, k
        eta *= shrink
    return None, max_backtracks


def newton_bisect(dphi, slope0, max_iter=60):
    """Root of an increasing phi' with ``phi'(0) = slope0 < 0``.

    Brackets the root by doubling from 1, then takes Newton steps kept inside the bracket
    (bisection when one would leave it).

    Parameters
    ----------
    dphi : callable
        dphi(eta) -> (phi'(eta), phi''(eta)).
    slope0 : float
        phi'(0), for the relative stopping test.

    Returns
    -------
    float
        The root; the last doubled step when phi' stays negative (the model decreases
        without bound along the line).
    """
    lo, hi = 0.0, 1.0
    for _ in range(200):
        f, _ = dphi(hi)
        if f > 0.0:
            break
        lo, hi = hi, 2.0 * hi
    else:
        return hi
    eta = 0.5 * (lo + hi)
    for _ in range(max_iter):
        f, c = dphi(eta)
        if f > 0.0:
            hi = eta
        else:
            lo = eta
        if abs(f) <= 1e-14 * abs(slope0) or hi - lo <= 1e-15 * hi:
            break
        newton = eta - f / c if c > 0.0 else np.nan
        eta = newton if lo < newton < hi else 0.5 * (lo + hi)
    return eta


def sensitivity_step(line):
    """The step that minimises the linearised cost along the direction (the sensitivity step
    of the method; docs/method.md, the sensitivity step).

    Parameters
    ----------
    line : LinearizedCost
        From :meth:`snode.Objective.linearize`: ``line(eta) -> (phi, phi', phi'')``, with
        ``slope`` = phi'(0) < 0 and, when it is a quadratic, its ``minimizer()``.

    Returns
    -------
    float
        The minimiser: in closed form for a quadratic; else the root of phi' (which is
        increasing: the linearised cost is convex) by :func:`newton_bisect`. When a quadratic
        has no curvature, 1 (a line search takes it from there).

    References
    ----------
    Baravdish et al. (2022), arXiv:2202.05766 (the step length from the sensitivity problem).
    """
    if line.quadratic:
        eta = line.minimizer()
        return 1.0 if eta is None else eta
    return newton_bisect(lambda eta: line(eta)[1:], line.slope)


def wolfe(phi_dphi, phi0, dphi0, c1=1e-4, c2=0.1, max_iter=10):
    """A step satisfying the strong Wolfe conditions (scipy's search on the scalar phi).

    Parameters
    ----------
    phi_dphi : callable
        eta -> (phi(eta), phi'(eta)); (inf, nan) where the cost is not finite.
    phi0, dphi0 : float
        phi(0), phi'(0) < 0.

    Returns
    -------
    eta : float or None
        None when the search fails.
    evaluations : int
        The points at which phi_dphi was called.
    """
    cache = {}

    def at(x):
        eta = float(x[0])
        if eta not in cache:
            cache[eta] = phi_dphi(eta)
        return cache[eta]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = line_search(lambda x: at(x)[0], lambda x: np.array([at(x)[1]]), np.zeros(1),
                          np.ones(1), gfk=np.array([dphi0]), old_fval=phi0, c1=c1, c2=c2,
                          maxiter=max_iter)
    eta = res[0]
    if eta is None or not np.isfinite(eta):
        return None, len(cache)
    return float(eta), len(cache)
