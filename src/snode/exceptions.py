"""The exceptions and warnings snode raises besides ValueError (bad input)."""

__all__ = ["NonFiniteError", "LineSearchWarning", "DepthWarning"]


class NonFiniteError(FloatingPointError):
    """A sweep or a cost gave Inf or NaN.

    Raised instead of returning a non-finite result: the weights or inputs are too large for
    the activation and depth (an unbounded activation such as relu over a long depth can
    overflow), or a trial point of a line search went too far. Optimisers catch it and step
    back; a user's own call gets it with the reason.
    """


class LineSearchWarning(UserWarning):
    """A line search found no acceptable step; training kept the last good weights."""


class DepthWarning(UserWarning):
    """The depth T or its step T / n_steps is where training rarely gets anywhere: the
    outputs move at most about T from their start (a bounded activation), and explicit
    steps much longer than 1 make them swing wildly with the weights. Measured in
    docs/decisions.md; the network is still trained as asked."""
