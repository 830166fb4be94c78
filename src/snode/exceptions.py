"""The exceptions and warnings snode raises besides ValueError (bad input)."""

__all__ = ["NonFiniteError", "LineSearchWarning", "DepthWarning"]


class NonFiniteError(FloatingPointError):
    """A sweep or a cost gave Inf or NaN.

    Raised instead of returning a non-finite result: the weights or inputs are too large for
    the activation and depth (an unbounded activation such as relu over a long depth can
    overflow), or a trial point of a line search went too far. Optimisers catch it and step
    back; a user's own call gets it with the reason.

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=2, n_steps=5, activation="identity", seed=0)
    >>> net.W[:] = 1e200                      # far too large: the sweep overflows
    >>> try:
    ...     net.forward(np.ones((1, 2)))
    ... except snode.NonFiniteError as exc:
    ...     print("overflow:", type(exc).__name__)
    overflow: NonFiniteError
    """


class LineSearchWarning(UserWarning):
    """A line search found no acceptable step; training kept the last good weights.

    Examples
    --------
    Turned into an error, for a script that must not go on after a failed search:

    >>> import warnings
    >>> import snode
    >>> issubclass(snode.LineSearchWarning, UserWarning)
    True
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", snode.LineSearchWarning)
    ...     # training here raises at a failed line search instead of warning
    """


class DepthWarning(UserWarning):
    """The depth T or its step T / n_steps is where training rarely gets anywhere: the
    outputs move at most about T from their start (a bounded activation), and explicit
    steps much longer than 1 make them swing wildly with the weights. Measured in
    docs/decisions.md; the network is still trained as asked.

    Examples
    --------
    >>> import warnings
    >>> import snode
    >>> X, y = snode.data.moons(50, seed=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = snode.SNODEClassifier(T=60.0, n_steps=2, max_iter=2).fit(X, y)
    >>> any(issubclass(w.category, snode.DepthWarning) for w in caught)
    True
    """
