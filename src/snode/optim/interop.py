"""The objective as scipy.optimize.minimize sees it: a function of one flat vector."""
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from ..exceptions import NonFiniteError
from ..objective import as_objective

__all__ = ["scipy_objective"]


def scipy_objective(net: Any, cost: Any = None, X: Any = None, Y: Any = None, labels: Any = None,
                    *, reducer: Any = None
                    ) -> tuple[Callable[[Any], tuple[float, NDArray[np.float64]]],
                               NDArray[np.float64]]:
    """The cost as a function of a flat parameter vector, for ``scipy.optimize.minimize``.

    Parameters
    ----------
    net : SNODE or Objective
        The network (with `cost` and the data), or an :class:`snode.Objective`.
    cost : Cost
    X, Y, labels
        The data, as for :class:`snode.Objective`.
    reducer : Reducer, optional

    Returns
    -------
    fun : callable
        ``fun(x) -> (J, dJ/dx)`` (use ``jac=True``); x of shape (W.size + b.size,), W's entries
        first. It sets the network's weights to x. A point where a sweep overflows gives
        ``(inf, nan...)``, which scipy's line searches step back from.
    x0 : ndarray
        The current weights, flattened.

    Raises
    ------
    ValueError
        For malformed data; ``fun`` raises it for an x of the wrong shape.

    Notes
    -----
    After minimising, call ``fun(result.x)`` once more to leave the network at the optimum.

    Examples
    --------
    >>> import snode
    >>> X, Y, _ = snode.data.teacher(200, seed=0)
    >>> net = snode.SNODE(width=4, n_steps=20, seed=1)
    >>> from scipy.optimize import minimize
    >>> fun, x0 = snode.scipy_objective(net, snode.Cost(), X, Y)
    >>> J, g = fun(x0)                       # the cost and its exact gradient, flat
    >>> g.shape == x0.shape
    True
    >>> res = minimize(fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": 20})
    >>> bool(res.fun < J)
    True
    """
    obj = as_objective(net, cost, X, Y, labels, reducer)
    W, b = obj.params()
    nW, size = W.size, W.size + b.size

    def fun(x_in: Any) -> tuple[float, NDArray[np.float64]]:
        x = np.asarray(x_in, dtype=np.float64)
        if x.shape != (size,):
            raise ValueError(f"x must have shape ({size},), got {x.shape}")
        params = (x[:nW].reshape(W.shape).copy(), x[nW:].reshape(b.shape).copy())
        if not (np.isfinite(params[0]).all() and np.isfinite(params[1]).all()):
            return np.inf, np.full(x.shape, np.nan)
        obj.set_params(params)
        try:
            J, GW, Gb = obj.value_and_grad()
        except NonFiniteError:
            return np.inf, np.full(x.shape, np.nan)
        return float(J), np.concatenate([GW.ravel(), Gb.ravel()])

    return fun, np.concatenate([W.ravel(), b.ravel()])
