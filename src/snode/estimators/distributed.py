"""The estimators over several processes (their `comm`): the reducer, the data's shares, the
settings every process must share, the seed and the threads (:mod:`snode.mpi`, docs/method.md
section 8)."""
import numpy as np

from ..reduce import (Reducer, agree, check_reducer, gather_floats, has_allgather, reduce_floats,
                      same_everywhere, shard)

__all__ = ["reducer_of", "global_sums", "shared_seed", "checked_share", "threads",
           "can_gather", "gathered", "own_rows"]


def reducer_of(comm):
    """The reducer of a checked `comm`: a LocalReducer for None, the reducer itself, or an
    :class:`snode.mpi.MPIReducer` of an mpi4py communicator."""
    if comm is None or isinstance(comm, Reducer):
        return check_reducer(comm)
    from ..mpi import MPIReducer

    return MPIReducer(comm)


def global_sums(reducer, *values):
    """Sums of floats over the processes (the values as they are for one)."""
    return values if reducer.size == 1 else reduce_floats(reducer, *values)


def shared_seed(reducer, seed):
    """The seed every process uses: rank 0's (drawn there when None)."""
    if reducer.size == 1:
        return seed
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    if has_allgather(reducer):
        return reducer.allgather(seed)[0]
    return int(gather_floats(reducer, float(seed))[0])  # (seeds below 2**53 are exact)


def checked_share(reducer, check, X, y, settings):
    """``check(X, y)`` for this process's share of the training data (possibly empty with
    several processes); a share that fails stops every process with the same kind of error
    (none goes on alone into the calls the others make), and every process must have the
    same `settings` and columns.

    Returns
    -------
    (result of check, or the empty share (X, y) with X as floats)
    """
    if reducer.size == 1:
        return check(X, y)
    error = out = None
    try:
        if np.ndim(X) == 2 and np.shape(X)[0] == 0 and np.shape(y)[:1] == (0,):
            out = (np.empty(np.shape(X)), np.asarray(y))  # (no samples here)
            if out[0].shape[1] < 1:
                raise ValueError("X has no features")
        else:
            out = check(X, y)
    except ValueError as exc:
        error = exc
    agree(reducer, error, "the training data of another process are malformed; see its "
                          "message")
    same_everywhere(reducer, [(f"the estimator's setting {k}", v)
                              for k, v in sorted(settings.items(), key=lambda kv: kv[0])]
                    + [("the number of features", out[0].shape[1]),
                       ("the targets' shape past the samples", np.shape(out[1])[1:])])
    return out


def threads(reducer, n_threads):
    """The sweeps' threads of each process: `n_threads`, or with None under an mpi4py
    communicator the CPUs divided by the ranks on the machine (None otherwise: all)."""
    if n_threads is None and reducer.size > 1 and hasattr(reducer, "comm"):
        from ..mpi import threads_per_rank

        return threads_per_rank(reducer.comm)
    return n_threads


def can_gather(reducer):
    """Whether the processes of `reducer` can exchange samples (``allgather``: one process,
    or a reducer that implements it)."""
    return reducer.size == 1 or has_allgather(reducer)


def gathered(reducer, *arrays):
    """Every process's samples of `arrays` (each this process's share, or None), joined in
    rank order: the whole data set on every process (a collective call). Shares are
    consecutive samples in rank order, so the result is the one process's data."""
    if reducer.size == 1:
        return arrays
    pieces = reducer.allgather(arrays)
    return tuple(None if a is None else np.concatenate([p[i] for p in pieces])
                 for i, a in enumerate(arrays))


def own_rows(reducer, rows, block_size):
    """This process's share of the samples `rows` (global numbers, the same on every
    process; an array, or an int for ``arange(rows)``): whole blocks of `block_size` of
    them, consecutive, in rank order (:func:`snode.shard`)."""
    rows = np.arange(rows) if np.ndim(rows) == 0 else np.asarray(rows)
    return rows[shard(rows.shape[0], reducer, block_size)]
