"""Reducers: where the sums over samples of several processes meet.

Every quantity of training that is a sum over samples (the cost, its gradient, the sums of
the sensitivity step, the counts behind an accuracy) is formed by each process over its own
samples, already divided by the *global* number of samples, and then passed through the
objective's reducer, which returns the sum over all processes. Penalties on the weights are
added once, after the reduction, by every process alike. One process needs nothing:
:class:`LocalReducer`, the default, returns its input.

A reducer for processes that share the data (a communicator of MPI ranks, say) implements the
same contract; the optimisers and :class:`snode.Objective` do not change.
"""
import numpy as np

__all__ = ["Reducer", "LocalReducer"]


class Reducer:
    """The contract of a reducer (a base class to derive from).

    Attributes
    ----------
    rank : int
        This process's index among `size` (0 for the process that writes files and prints).
    size : int
        Number of processes.

    Notes
    -----
    Implementations must:

    - ``allreduce(*parts)``: take this process's partial sums (floats, or float64 arrays of
      any shape, the same shapes on every process) and return, in the same order and shapes,
      new objects holding the sums over all processes. Every process must receive bit-for-bit
      the same result (every process then takes the same step), so the order of the sum over
      processes must be fixed (by rank, not by arrival).
    - ``total(n)``: return the sum of ``n`` (this process's number of samples) over all
      processes, the same on every process.

    Each call is collective: every process of the group makes the same calls in the same
    order. An all-reduce over the chunks of a batch inside one process (threads) is the
    compiled core's business, not the reducer's.
    """

    rank = 0
    size = 1

    def allreduce(self, *parts):
        raise NotImplementedError(f"{type(self).__name__} must implement allreduce(*parts) "
                                  "(see snode.Reducer)")

    def total(self, n):
        raise NotImplementedError(f"{type(self).__name__} must implement total(n) "
                                  "(see snode.Reducer)")


class LocalReducer(Reducer):
    """The reducer of a single process: sums pass through unchanged (no copies, no cost)."""

    def allreduce(self, *parts):
        return parts

    def total(self, n):
        return int(n)

    def __repr__(self):
        return "LocalReducer()"


def check_reducer(reducer):
    """The reducer to use: `reducer`, or a LocalReducer for None; ValueError if it lacks the
    reducer's methods."""
    if reducer is None:
        return LocalReducer()
    for name in ("allreduce", "total"):
        if not callable(getattr(reducer, name, None)):
            raise ValueError(f"reducer must have an {name}() method (see snode.Reducer), "
                             f"got {reducer!r}")
    return reducer


def total_samples(reducer, n):
    """The reducer's global sample count for this process's n, checked (an integer >= n)."""
    t = reducer.total(n)
    try:
        ok = float(t) == int(t) and int(t) >= n
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"the reducer's total({n}) must be an integer at least {n}, got {t!r}")
    return int(t)


def reduce_floats(reducer, *values):
    """Sum plain floats through the reducer; returns a tuple of floats."""
    if type(reducer) is LocalReducer:
        return tuple(float(v) for v in values)
    parts = reducer.allreduce(np.array(values, dtype=np.float64))
    try:
        out = np.asarray(parts[0], dtype=np.float64).reshape(len(values))
    except (TypeError, ValueError, IndexError):
        raise ValueError("the reducer's allreduce must return its parts, summed, in order "
                         "(see snode.Reducer)") from None
    return tuple(float(v) for v in out)
