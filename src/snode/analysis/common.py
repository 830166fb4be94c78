"""What the analysis tools share: the checks of their arguments."""
import numpy as np

from .._validate import check_real
from ..exceptions import NonFiniteError
from ..model import SNODE

__all__ = ["seeded_rng", "input_box", "finite_or_raise", "checked_net"]


def seeded_rng(seed):
    """A numpy Generator of `seed` (None or an integer >= 0), checked."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise ValueError(f"seed must be None or an integer >= 0, got {seed!r}")
    return np.random.default_rng(seed)


def input_box(bounds, X):
    """(low, high) of the box of valid inputs, checked, and X inside it."""
    if bounds is None:
        return -np.inf, np.inf
    try:
        lo, hi = bounds
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be (low, high), got {bounds!r}") from None
    lo, hi = check_real(lo, "bounds"), check_real(hi, "bounds")
    if not lo < hi:
        raise ValueError(f"bounds must be (low, high) with low < high, got {bounds}")
    if (X < lo).any() or (X > hi).any():
        raise ValueError(f"X has values outside the bounds {bounds}")
    return lo, hi


def finite_or_raise(a, what):
    """`a`, or NonFiniteError naming `what` when it holds Inf or NaN."""
    if not np.isfinite(a).all():
        raise NonFiniteError(f"{what} overflows (not finite); use a smaller noise or size")
    return a


def checked_net(net, float64=False):
    """`net`, or ValueError when it is not an SNODE; with `float64`, a float32 network as a
    float64 copy at its weights (for tools that compare outputs at perturbations smaller
    than float32's rounding)."""
    if not isinstance(net, SNODE):
        raise ValueError(f"net must be an snode.SNODE, got {type(net).__name__}")
    if float64 and net.dtype != np.float64:
        return net.astype(np.float64)
    return net
