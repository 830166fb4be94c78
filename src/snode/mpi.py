"""Data-parallel training over MPI: a reducer over an mpi4py communicator.

Each process (rank) holds a share of the samples, whole blocks of the sums over samples
(:func:`snode.shard`), and runs the same optimiser on the same weights; the sums meet in
:class:`MPIReducer`. With ``exact=True`` (the default) the blocks' sums are added along the
fixed tree of :mod:`snode.reduce`, so that training is bit for bit the same on any number of
ranks and without MPI. Needs the ``mpi`` extra (``pip install "snode[mpi]"``: mpi4py and the
MPICH wheel, which runs without a system MPI).

Run a script on 3 ranks with ``mpiexec -n 3 python -m mpi4py script.py``: ``-m mpi4py`` ends
the whole job when one rank raises, instead of leaving the others waiting in a collective
call. The command line (``mpiexec -n 3 snode train ...``) does so by itself.
"""
import os

import numpy as np

from ._validate import check_bool
from .reduce import Reducer, tree_root

__all__ = ["MPIReducer", "world", "threads_per_rank", "launched_by_mpi"]

# environment variables that MPI launchers set in the processes they start
_LAUNCH_VARS = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE",
                "MPI_LOCALNRANKS", "HYDRA_CONTROL_FD")


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("MPI needs mpi4py and an MPI library: pip install 'snode[mpi]' "
                          f"({exc})") from None
    return MPI


def launched_by_mpi():
    """Whether this process was started by an MPI launcher (mpiexec, mpirun, srun with PMI)
    as one of several processes. ``SNODE_MPI=0`` in the environment says no (for a program
    that a rank starts as a child, which inherits the launcher's variables), ``SNODE_MPI=1``
    yes."""
    force = os.environ.get("SNODE_MPI")
    if force in ("0", "1"):
        return force == "1"
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        v = os.environ.get(name)
        if v is not None:
            try:
                return int(v) > 1
            except ValueError:
                return False
    return any(name in os.environ for name in _LAUNCH_VARS)


def world():
    """mpi4py's ``MPI.COMM_WORLD``."""
    return _mpi().COMM_WORLD


def threads_per_rank(comm=None):
    """Threads for each rank so that the ranks on one machine do not oversubscribe its
    cores: the CPUs this process may use divided by the ranks that share its machine (at
    least 1)."""
    MPI = _mpi()
    comm = MPI.COMM_WORLD if comm is None else comm
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        n_local = local.Get_size()
    finally:
        local.Free()
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    # (ranks pinned by the launcher see only their own cores)
    if cpus >= (os.cpu_count() or cpus) and n_local > 1:
        cpus = max(1, cpus // n_local)
    return max(1, cpus)


class MPIReducer(Reducer):
    """The sums over samples of the ranks of an MPI communicator.

    Parameters
    ----------
    comm : mpi4py communicator, optional
        Default ``MPI.COMM_WORLD``.
    exact : bool, default True
        True: the blocks' sums are added along the fixed tree over block numbers (every rank
        sends its subtrees' sums to rank 0, which adds them and broadcasts the root), so that
        the sums, and training, are bit for bit the same on any number of ranks and without
        MPI. False: each rank adds its own blocks and the ranks' parts meet in one reduction
        on rank 0, broadcast back (the plain data-parallel sum: fewer and smaller messages;
        the rounding then depends on the number of ranks, like Horovod's or PyTorch DDP's).

    Attributes
    ----------
    comm, rank, size, exact

    Raises
    ------
    ImportError
        Without mpi4py.
    ValueError
        For a `comm` that is no communicator (or COMM_NULL), or an `exact` that is no bool.

    Notes
    -----
    Every rank must call the same methods in the same order (they are collective). Rank 0
    holds every rank's subtree sums at once, at most about ``2 log2(n_blocks)`` gradients a
    rank, in exact mode.
    """

    def __init__(self, comm=None, *, exact=True):
        MPI = _mpi()
        self.comm = MPI.COMM_WORLD if comm is None else comm
        try:
            self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        except (AttributeError, MPI.Exception):
            raise ValueError(f"comm must be an mpi4py communicator (not COMM_NULL), got "
                             f"{comm!r}") from None
        self.exact = check_bool(exact, "exact")
        self._MPI = MPI

    def __repr__(self):
        return f"MPIReducer(rank={self.rank}, size={self.size}, exact={self.exact})"

    def total(self, n):
        return int(self.comm.allreduce(int(n)))

    def offset(self, n):
        got = self.comm.exscan(int(n))
        return 0 if self.rank == 0 or got is None else int(got)

    def allgather(self, obj):
        return self.comm.allgather(obj)

    def allreduce(self, *parts):
        # one buffer; reduced on rank 0 and broadcast, so that every rank has the same bits
        flat = np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts])
        out = np.empty_like(flat)
        self.comm.Reduce(flat, out, op=self._MPI.SUM, root=0)
        self.comm.Bcast(out, root=0)
        res, k = [], 0
        for p in parts:
            a = np.asarray(p)
            piece = out[k:k + a.size]
            k += a.size
            res.append(float(piece[0]) if a.ndim == 0 else piece.reshape(a.shape).copy())
        return tuple(res)

    def reduce_tree(self, nodes, n_blocks):
        if not self.exact:  # (the base class's: this rank's nodes folded, then allreduce)
            return super().reduce_tree(nodes, n_blocks)
        got = self.comm.gather(nodes, root=0)
        root = None
        if self.rank == 0:
            root = tree_root([nd for g in got for nd in g], n_blocks)
        return self.comm.bcast(root, root=0)
