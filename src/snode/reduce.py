"""Reducers: where the sums over samples of several processes meet.

Every quantity of training that is a sum over samples (the cost, its gradient, the sums of
the sensitivity step) is a sum over *blocks*: the batch is cut into blocks of ``block_size``
consecutive samples (global sample numbers, the same whatever the number of processes), each
block's part is formed by the one process that holds it (already divided by the *global*
number of samples), and the blocks' parts are added along a fixed binary tree over the block
numbers (:func:`tree_nodes`). Each process evaluates the tree's largest subtrees that lie
within its own blocks and passes them to the objective's reducer, which evaluates the rest of
the tree and returns the root to every process. Neither the blocks nor the tree depend on the
number of processes or threads, so the sums are bit for bit the same on any number of them.
Penalties on the weights are added once, after the reduction, by every process alike. One
process needs nothing: :class:`LocalReducer`, the default, returns its own root. Counts (the
samples, the correct predictions) are integers and go through ``allreduce``.

The tree: the node of blocks [a, b) with b - a > 1 has the children [a, m) and [m, b), where
m - a is the largest power of two below b - a. See docs/method.md (sums over samples).
"""
import numpy as np

from ._validate import check_int
from .exceptions import NonFiniteError

__all__ = ["Reducer", "LocalReducer", "Blocks", "shard", "tree_nodes", "tree_sum",
           "block_size_for", "BLOCK_MIN", "BLOCK_MAX", "BLOCK_COUNT"]

#: The default block of the sums over samples (:func:`block_size_for`): a power of two
#: between BLOCK_MIN and BLOCK_MAX samples, near n / BLOCK_COUNT for n samples.
BLOCK_MIN = 256
BLOCK_MAX = 4096
BLOCK_COUNT = 16


def block_size_for(n_samples):
    """The default block size of the sums over `n_samples` samples (of all processes): the
    smallest power of two that cuts them into at most :data:`BLOCK_COUNT` blocks, kept
    between :data:`BLOCK_MIN` and :data:`BLOCK_MAX`. It depends on the number of samples
    alone, never on the processes, so that any number of processes up to the number of
    blocks works by default with sums bit for bit those of one process. (Smaller blocks
    cost time: each is a call of the compiled sweeps; docs/decisions.md.)

    Examples: 750 samples make 3 blocks of 256; 10,000 make 10 of 1024; 60,000 make 15 of
    4096.
    """
    n = max(1, check_int(n_samples, "n_samples", 0))
    B = 1 << max(0, (-(-n // BLOCK_COUNT) - 1).bit_length())
    return min(BLOCK_MAX, max(BLOCK_MIN, B))


class Reducer:
    """The contract of a reducer (a base class to derive from).

    Attributes
    ----------
    rank : int
        This process's index among `size` (0 for the process that writes files and prints).
    size : int
        Number of processes.
    exact : bool
        True when :meth:`reduce_tree` evaluates the whole tree (sums bit for bit the same on
        any number of processes); False for the plain all-reduce of this base class.

    Notes
    -----
    Implementations must provide:

    - ``allreduce(*parts)``: take this process's partial sums (floats, or float64 arrays of
      any shape, the same shapes on every process) and return, in the same order and shapes,
      new objects holding the sums over all processes. Every process must receive bit-for-bit
      the same result (every process then takes the same step), so the order of the sum over
      processes must be fixed (by rank, not by arrival).
    - ``total(n)``: return the sum of ``n`` (this process's number of samples) over all
      processes, the same on every process.

    and may provide, for sums that do not depend on the number of processes:

    - ``offset(n)``: the number of samples of the processes of lower rank (this process's
      first global sample number); processes hold consecutive samples in rank order.
    - ``reduce_tree(nodes, n_blocks)``: `nodes` is this process's list of ``((a, b), parts)``,
      the tree's largest subtrees within its blocks and their sums (tuples of floats and
      float64 arrays); return the root's parts, the same on every process. Without it, the
      nodes are added in order and passed to ``allreduce`` (a sum that depends on how the
      blocks are split between processes).
    - ``allgather(obj)``: the list of every process's `obj`, in rank order (mini-batches
      drawn from samples that other processes hold, and early stopping's held-out samples,
      drawn from all of them; without it those are refused, and the few settings and
      digests the processes compare go through ``allreduce``).

    Each call is collective: every process of the group makes the same calls in the same
    order. The sums over the chunks of a block inside one process (threads) are the compiled
    core's business, not the reducer's.

    Examples
    --------
    A reducer is how sums over samples meet across processes; one process passes them through:

    >>> import numpy as np
    >>> import snode
    >>> red = snode.LocalReducer()
    >>> isinstance(red, snode.Reducer), red.rank, red.size
    (True, 0, 1)
    >>> red.total(10)                       # samples over all processes
    10
    >>> [float(part[0]) for part in red.allreduce(np.array([1.5]), np.array([2.0]))]
    [1.5, 2.0]
    """

    rank = 0
    size = 1
    exact = False

    def allreduce(self, *parts):
        raise NotImplementedError(f"{type(self).__name__} must implement allreduce(*parts) "
                                  "(see snode.Reducer)")

    def total(self, n):
        raise NotImplementedError(f"{type(self).__name__} must implement total(n) "
                                  "(see snode.Reducer)")

    def offset(self, n):
        """This process's first global sample number (default: from ``allgather``)."""
        counts = self.allgather(int(n))
        return int(sum(counts[:self.rank]))

    def allgather(self, obj):
        raise NotImplementedError(f"{type(self).__name__} must implement allgather(obj) for "
                                  "mini-batches over several processes (see snode.Reducer)")

    def reduce_tree(self, nodes, n_blocks):
        """The plain reduction: this process's nodes added in order, then ``allreduce``."""
        parts = None
        for _, value in nodes:
            parts = value if parts is None else add_parts(parts, value)
        return tuple(self.allreduce(*parts))


class LocalReducer(Reducer):
    """The reducer of a single process: sums pass through unchanged (no copies, no cost).

    Examples
    --------
    >>> import snode
    >>> red = snode.LocalReducer()
    >>> red.total(7), red.offset(7)
    (7, 0)
    """

    exact = True

    def allreduce(self, *parts):
        return parts

    def total(self, n):
        return int(n)

    def offset(self, n):
        return 0

    def allgather(self, obj):
        return [obj]

    def reduce_tree(self, nodes, n_blocks):
        # one process holds every block: its one node is the root
        (_, parts), = nodes
        return parts

    def __repr__(self):
        return "LocalReducer()"


def shard(n_samples, group=None, block_size=None):
    """This process's share of `n_samples` samples: whole blocks, consecutive, in rank order.

    Parameters
    ----------
    n_samples : int
        The samples of the whole data set (or mini-batch).
    group : Reducer or mpi4py communicator, optional
        The processes (``rank`` and ``size``, or ``Get_rank()`` and ``Get_size()``); default
        one process.
    block_size : int, optional
        The blocks of the sums over samples (default: :func:`block_size_for` of
        `n_samples`); the same as the objective's.

    Returns
    -------
    slice
        The samples ``[start, stop)`` of this process: the blocks ``[r nb / size,
        (r + 1) nb / size)`` (both rounded up) of the ``nb = ceil(n_samples / block_size)``
        blocks, so that shares differ by at most one block; with fewer blocks than
        processes some processes (spread among the ranks, rank 0 never) get none.

    Raises
    ------
    ValueError
        For a negative count, a block size below 1, or a group without a rank and size.

    Examples
    --------
    One process holds every sample; under MPI each rank gets whole blocks in rank order:

    >>> import snode
    >>> snode.shard(1000)
    slice(0, 1000, None)
    """
    n = check_int(n_samples, "n_samples", 0)
    B = block_size_for(n) if block_size is None else check_int(block_size, "block_size", 1)
    try:
        if group is None:
            rank, size = 0, 1
        elif hasattr(group, "Get_rank"):
            rank, size = int(group.Get_rank()), int(group.Get_size())
        else:
            rank, size = int(group.rank), int(group.size)
        ok = 0 <= rank < size
    except Exception:  # (an mpi4py error for COMM_NULL, a missing attribute, ...)
        ok = False
    if not ok:
        raise ValueError(f"group must be a Reducer or an mpi4py communicator (rank and size), "
                         f"got {group!r}")
    nb = -(-n // B)
    a, b = -(-rank * nb // size), -(-(rank + 1) * nb // size)
    return slice(min(a * B, n), min(b * B, n))


# --- the tree over blocks --------------------------------------------------------------------

def _split(a, b):
    m = 1
    while 2 * m < b - a:
        m *= 2
    return a + m


def tree_nodes(lo, hi, n_blocks):
    """The largest subtrees of the tree over blocks [0, n_blocks) that lie within [lo, hi):
    a list of (a, b) in increasing order (at most about 2 log2 n_blocks of them)."""
    out = []

    def visit(a, b):
        if b <= lo or a >= hi:
            return
        if lo <= a and b <= hi:
            out.append((a, b))
            return
        m = _split(a, b)
        visit(a, m)
        visit(m, b)

    if hi > lo:
        visit(0, n_blocks)
    return out


def add_parts(left, right):
    """``left + right`` part by part (floats, or arrays added into `left`'s own arrays)."""
    out = []
    for x, y in zip(left, right):
        if isinstance(x, np.ndarray):
            np.add(x, y, out=x)
            out.append(x)
        else:
            out.append(x + y)
    return tuple(out)


def tree_sum(a, b, leaf, known=None):
    """The sum over the blocks [a, b) of ``leaf(k)`` (a tuple of floats and float64 arrays,
    fresh arrays that may be added into) along the tree, depth first: at most one pending
    sum a level. `known` maps nodes (a, b) to sums already formed (which are added into)."""
    if known is not None and (a, b) in known:
        return known[(a, b)]
    if b - a == 1:
        return leaf(a)
    m = _split(a, b)
    return add_parts(tree_sum(a, m, leaf, known), tree_sum(m, b, leaf, known))


class Blocks:
    """The blocks of this process's `n` samples among all processes' (a collective
    constructor: it asks the reducer for the global count and this process's offset).

    Attributes
    ----------
    n, n_total, offset : int
        This process's samples, all processes', and its first global sample number (0 with
        a reducer that is not exact, whose blocks are its own).
    size : int
        Samples of a block.
    first, stop, count : int
        This process's blocks [first, stop) of `count` (global numbers with an exact reducer;
        else its own blocks, numbered from 0).

    Raises
    ------
    ValueError
        With an exact reducer, when this process's samples are not whole blocks.
    """

    def __init__(self, reducer, n, block_size):
        self.reducer, self.n, self.size = reducer, n, block_size
        self.n_total = total_samples(reducer, n)
        self.offset = int(reducer.offset(n)) if reducer.exact else 0
        B = block_size
        if reducer.exact:
            bad = None
            if n and (self.offset % B or (n % B and self.offset + n != self.n_total)):
                bad = ValueError(
                    f"this process's samples (numbers {self.offset} to {self.offset + n - 1} "
                    f"of {self.n_total}) must be whole blocks of block_size={B} samples (the "
                    "last block of all may be short): shard the data with snode.shard")
            # (every process gives the verdict, not only the culprits)
            agree(reducer, bad, f"the samples of another process are not whole blocks of "
                                f"block_size={B}: shard the data with snode.shard")
            self.count = -(-self.n_total // B)
            self.first = self.offset // B
        else:
            self.count = -(-n // B)
            self.first = 0
        self.stop = self.first + -(-n // B)

    def slice(self, k):
        """This process's samples of block k (a number among `first`..`stop` - 1)."""
        lo = k * self.size - (self.offset if self.reducer.exact else 0)
        return slice(lo, min(lo + self.size, self.n))

    def sum(self, leaf, zeros, error=None):
        """The sum over every process's blocks of ``leaf(k)`` (a tuple of floats and float64
        arrays for block k of this process; fresh arrays), along the tree. ``zeros()``: the
        parts of no samples (for a process without any).

        A leaf that raises (an overflow, say) raises on every process alike: with several
        processes the failures travel with the sums (two more numbers), and each process
        then raises its own exception, or, where its own blocks went well, the same kind
        (:class:`~snode.NonFiniteError` or ValueError) naming the other processes. `error`:
        a failure of this process from before the sum, to pass on the same way."""
        if type(self.reducer) is LocalReducer:
            if error is not None:
                raise error
            (_, parts), = [((a, b), tree_sum(a, b, leaf))
                           for a, b in tree_nodes(self.first, self.stop, self.count)]
            return parts
        failed = [error] if error is not None else []

        def guarded(k):
            if failed:  # (this process failed already: zeros, and the flag)
                return zeros() + (0.0, 0.0)
            try:
                return tuple(leaf(k)) + (0.0, 0.0)
            except (NonFiniteError, ValueError) as exc:
                failed.append(exc)
                return zeros() + (0.0, 0.0)

        nodes = [((a, b), tree_sum(a, b, guarded))
                 for a, b in tree_nodes(self.first, self.stop, self.count)]
        if not nodes and not self.reducer.exact:
            nodes = [((0, 0), zeros() + (0.0, 0.0))]
        if failed:  # the flags ride on this process's first node
            flag = (1.0, 0.0) if isinstance(failed[0], NonFiniteError) else (0.0, 1.0)
            if nodes:
                (ab, parts) = nodes[0]
                nodes[0] = (ab, parts[:-2] + flag)
        *parts, n_nonfinite, n_other = self.reducer.reduce_tree(nodes, self.count)
        _raise_agreed(failed, n_nonfinite, n_other)
        return tuple(parts)


def _raise_agreed(failed, n_nonfinite, n_other, others=None):
    """Raise this process's failure, or the other processes' kind, when any failed."""
    if failed:
        raise failed[0]
    if n_nonfinite or n_other:
        kind = NonFiniteError if n_nonfinite else ValueError
        what = "overflowed (Inf or NaN)" if n_nonfinite else "failed"
        raise kind(others or f"a sweep on another process {what}; see that process's message")


def digest(thing):
    """A 48-bit digest of an array (its dtype, shape and bytes) or of anything by its repr."""
    import hashlib

    h = hashlib.blake2b(digest_size=6)
    if isinstance(thing, np.ndarray):
        h.update(repr((thing.dtype.str, thing.shape)).encode())
        h.update(np.ascontiguousarray(thing).tobytes())
    else:
        h.update(repr(thing).encode())
    return float(int.from_bytes(h.digest(), "little"))  # (exact in a float64)


def rank0_copy(reducer, *arrays):
    """Collective: rank 0's float64 `arrays` on every process (each process passes its own,
    the same shapes everywhere)."""
    if reducer.size == 1:
        return arrays
    if has_allgather(reducer):
        return tuple(reducer.allgather(arrays)[0])
    return tuple(gather_floats(reducer, a)[0] for a in arrays)


def same_everywhere(reducer, named):
    """Collective: ValueError on every process unless the values of `named` (a sequence of
    (name, value) pairs; arrays, or anything with a stable repr) are the same on all of them;
    the message names the first that differs and the ranks where it does."""
    got = gather_floats(reducer, [digest(value) for _, value in named])
    for k, (name, _) in enumerate(named):
        ranks = np.flatnonzero(got[:, k] != got[0, k]).tolist()
        if ranks:
            raise ValueError(f"the processes differ in {name}: rank(s) {ranks} from rank 0")


def agree(reducer, error, others=None):
    """Collective: every process raises when `error` (this process's exception, or None) is
    set on any of them (so that none goes on alone into calls the others do not make); the
    others raise the same kind (NonFiniteError or ValueError) with the message `others`."""
    if reducer.size == 1:
        if error is not None:
            raise error
        return
    flag = (0.0, 0.0) if error is None else \
        ((1.0, 0.0) if isinstance(error, NonFiniteError) else (0.0, 1.0))
    n_nonfinite, n_other = reduce_floats(reducer, *flag)
    _raise_agreed([error] if error is not None else [], n_nonfinite, n_other, others)


def tree_root(nodes, n_blocks):
    """The root of the tree over [0, n_blocks) from nodes that cover it: a list of
    ((a, b), parts) (every process's largest subtrees, in any order)."""
    known = dict(nodes)

    def missing(k):
        raise ValueError(f"the nodes do not cover block {k} of {n_blocks}")

    return tree_sum(0, n_blocks, missing, known)


def check_reducer(reducer):
    """The reducer to use: `reducer`, or a LocalReducer for None; ValueError if it lacks the
    reducer's methods. An object that is no :class:`Reducer` but has them (``allreduce``,
    ``total``, and optionally ``rank``, ``size``, ``allgather``) is used through the base
    class's defaults (the plain reduction)."""
    if reducer is None:
        return LocalReducer()
    for name in ("allreduce", "total"):
        if not callable(getattr(reducer, name, None)):
            raise ValueError(f"reducer must have an {name}() method (see snode.Reducer), "
                             f"got {reducer!r}")
    return reducer if isinstance(reducer, Reducer) else _Adapted(reducer)


class _Adapted(Reducer):
    """A duck-typed reducer (allreduce, total) with the base class's defaults."""

    def __init__(self, inner):
        self._inner = inner
        self.rank, self.size = int(getattr(inner, "rank", 0)), int(getattr(inner, "size", 1))

    def allreduce(self, *parts):
        return self._inner.allreduce(*parts)

    def total(self, n):
        return self._inner.total(n)

    def allgather(self, obj):
        if not callable(getattr(self._inner, "allgather", None)):
            return super().allgather(obj)
        return self._inner.allgather(obj)

    def __repr__(self):
        return repr(self._inner)


def has_allgather(reducer):
    """Whether `reducer` (checked) implements ``allgather``."""
    inner = reducer._inner if isinstance(reducer, _Adapted) else reducer
    if isinstance(inner, Reducer):
        return type(inner).allgather is not Reducer.allgather
    return callable(getattr(inner, "allgather", None))


def gather_floats(reducer, a):
    """Collective: every process's float64 array `a` (the same shape everywhere), stacked in
    rank order, shape (size, *a.shape): by ``allgather``, or where the reducer has none by an
    ``allreduce`` of slots that only their own process fills (adding zeros is exact)."""
    a = np.asarray(a, dtype=np.float64)
    if reducer.size == 1:
        return a[None]
    if has_allgather(reducer):
        return np.stack(reducer.allgather(a))
    slots = np.zeros((reducer.size,) + a.shape)
    slots[reducer.rank] = a
    return np.asarray(reducer.allreduce(slots)[0]).reshape(slots.shape)


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
