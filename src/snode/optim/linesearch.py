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


def rounding(eps):
    """The rounding allowance of the sufficient-decrease test, relative to the size of the
    cost (|phi(0)|, or the terms it sums), for outputs of relative rounding `eps` (the
    machine epsilon of the network's dtype): 8 eps. Near a minimiser the decrease a step can
    make is below the rounding of the cost, and a test without allowance refuses every step
    there (compare the approximate Wolfe conditions of Hager and Zhang, which allow
    1e-6 |phi(0)|)."""
    return 8.0 * eps


#: :func:`rounding` of float64.
ROUNDING = rounding(float(np.finfo(np.float64).eps))


def backtrack(phi, phi0, slope, eta, c1=1e-4, max_backtracks=30, shrink=0.5,
              allowance=None):
    """Backtracking from `eta` until sufficient decrease (the Armijo condition).

    Tries eta, shrink eta, shrink^2 eta, ... until
    ``phi(eta) <= phi0 + c1 eta slope + allowance``, the allowance for the cost's rounding
    (default ``ROUNDING |phi0|``). The search also ends, without a step but *flat*, at the
    first refused trial whose predicted decrease ``-slope eta`` is within the allowance:
    shorter steps cannot make a decrease the cost resolves, so the point is a minimiser along
    the line to within rounding.

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
        The accepted step, or None when no trial passed.
    backtracks : int
        Trial steps refused.
    nonfinite : int
        Trial steps whose cost was not finite.
    flat : bool
        True when the search ended because the predicted decrease fell within rounding
        (eta is None then).
    """
    nonfinite = 0
    if allowance is None:
        allowance = ROUNDING * abs(phi0)
    for k in range(max_backtracks + 1):
        value = phi(eta)
        nonfinite += not np.isfinite(value)
        if np.isfinite(value) and value <= phi0 + c1 * eta * slope + allowance:
            return eta, k, nonfinite, False
        if -slope * eta <= allowance:
            return None, k + 1, nonfinite, True
        eta *= shrink
    return None, max_backtracks + 1, nonfinite, False


def first_finite(phi, eta, max_backtracks=30, shrink=0.5):
    """The first of eta, shrink eta, ... whose cost is finite (the authors' unguarded rule,
    which refuses only overflow): ``(eta or None, trial steps refused)``."""
    for k in range(max_backtracks + 1):
        if np.isfinite(phi(eta)):
            return eta, k
        eta *= shrink
    return None, max_backtracks + 1


def newton_bisect(dphi, slope0, upper=np.inf, start=1.0, max_iter=60):
    """Root of an increasing phi' with ``phi'(0) = slope0 < 0``, in (0, upper].

    Brackets the root by doubling from `start` (never beyond `upper`), then takes Newton
    steps kept inside the bracket (bisection when one would leave it).

    Parameters
    ----------
    dphi : callable
        dphi(eta) -> (phi'(eta), phi''(eta)).
    slope0 : float
        phi'(0), for the relative stopping test.
    upper : float > 0, default inf
        The longest step searched.
    start : float > 0, default 1
        The first end of the bracket tried.

    Returns
    -------
    float
        The root; `upper` when phi' is still negative there (without a finite `upper`, the
        last of 200 doublings: the model decreases without bound along the line).
    """
    lo, hi = 0.0, min(start, upper)
    for _ in range(200):
        f, _ = dphi(hi)
        if f > 0.0:
            break
        if hi >= upper:
            return upper
        lo, hi = hi, min(2.0 * hi, upper)
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


#: Beyond the step at which the outputs move by this much (root mean square over samples),
#: the linearised cross-entropy changes by less than its rounding: a logit margin that grows
#: by log(1 / eps) ~ 36 has saturated the softmax (docs/method.md, the sensitivity step).
SATURATION = float(np.log(1.0 / np.finfo(np.float64).eps))


def sensitivity_step(line, max_step=np.inf):
    """The step that minimises the linearised cost along the direction, in (0, max_step] (the
    sensitivity step of the method; docs/method.md, the sensitivity step).

    Parameters
    ----------
    line : LinearizedCost
        From :meth:`snode.Objective.linearize`: ``line(eta) -> (phi, phi', phi'')`` with
        ``slope`` = phi'(0) < 0, ``curvature`` = phi''(0), ``output_rate`` (the root mean
        square change of x(T) per unit step) and, for a quadratic, ``minimizer()``.
    max_step : float > 0, default inf
        The longest step allowed (a trust region on the linearisation).

    Returns
    -------
    float
        The minimiser, clipped to `max_step`: in closed form for a quadratic (`max_step`, or 1
        when that is unbounded, for a quadratic without curvature); else the root of phi'
        (increasing: the linearised cost is convex) by :func:`newton_bisect`, bracketed from
        the Newton step ``-phi'(0) / phi''(0)`` and never beyond the step at which the
        outputs move by :data:`SATURATION` (so that a cost that decreases along the whole
        line, as the cross-entropy of separable data does, gives a finite step).

    References
    ----------
    Baravdish et al. (2022), arXiv:2202.05766 (the step length from the sensitivity problem).
    """
    if line.quadratic:
        eta = line.minimizer()
        if eta is None:
            return max_step if np.isfinite(max_step) else 1.0
        return min(eta, max_step)
    upper = max_step
    if line.output_rate > 0.0:
        upper = min(upper, SATURATION / line.output_rate)
    start = -line.slope / line.curvature if line.curvature > 0.0 else 1.0
    if not (np.isfinite(start) and start > 0.0):
        start = 1.0
    return newton_bisect(lambda eta: line(eta)[1:], line.slope, upper=upper,
                         start=min(start, upper))


def wolfe(phi_dphi, phi0, dphi0, c1=1e-4, c2=0.1, max_iter=10, max_step=np.inf):
    """A step satisfying the strong Wolfe conditions (scipy's search on the scalar phi, from
    the step 1).

    Parameters
    ----------
    phi_dphi : callable
        eta -> (phi(eta), phi'(eta)); (inf, nan) where the cost is not finite.
    phi0, dphi0 : float
        phi(0), phi'(0) < 0.
    max_step : float > 0, default inf
        The longest step tried.

    Returns
    -------
    eta : float or None
        None when the search fails (also when it ends at a step without sufficient
        decrease, as scipy's does when its iterations run out).
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
                          maxiter=max_iter, amax=max_step if np.isfinite(max_step) else None)
    eta = res[0]
    if eta is None or not (np.isfinite(eta) and eta > 0.0):
        return None, len(cache)
    eta = float(eta)
    if not at(np.array([eta]))[0] <= phi0 + c1 * eta * dphi0:
        return None, len(cache)
    return eta, len(cache)
