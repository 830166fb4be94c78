"""Thin wrappers of the C core (csrc/): shapes checked, GIL released, status -> exception.

Nothing here knows about optimisation or semantics (finiteness of inputs, label ranges, ...):
the Python layer checks those once, before calling. Every sweep takes the network as
(W, b, a, bw, act, h): weights (K, d, d) and (K, d), the Butcher matrix (S, S) and weights (S,),
the activation code and the step; the loss as (mse, ce, out, n_classes, scale) with targets
Y (N, my) and labels (N,), either None where its term does not need it.

Only snode.model (the sweeps), snode.loss (the loss on given outputs) and snode.sobolev (the
depth operator) import this module.
"""
import os
import threading

import numpy as np

from snode.exceptions import NonFiniteError

from cython.parallel cimport prange, threadid
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int64_t

from snode._core cimport (
    SNODE_OK, SNODE_ERR_NONFINITE, SNODE_ERR_LABEL, snode_net, snode_loss, snode_sum,
    snode_targets, snode_targets_at, snode_forward_args, snode_cost_args, snode_grad_args,
    snode_tangent_args, snode_tangent_kept_args, snode_ws_forward, snode_ws_grad,
    snode_ws_tangent, snode_ws_tangent_kept, snode_keep_size, snode_forward, snode_data_cost,
    snode_value_grad, snode_tangent, snode_tangent_kept, snode_output_loss, snode_loss_line,
    snode_softmax, snode_activation, snode_h1_solve, snode_h1_apply, snode_h1_inner, snode_isa,
    snode_set_isa, snode_grad_panel, snode_uses_fused, snode_all_finite,
)


# Per-thread scratch memory, reused across calls: a fresh multi-megabyte buffer on every call
# would spend much of a small sweep's time in page faults. Each Python thread has its own, so
# concurrent calls from several threads never share one.
_tls = threading.local()


def _aligned(Py_ssize_t size):
    """An uninitialised float64 array of `size` numbers starting on a 64-byte boundary (a cache
    line; numpy gives 16): the kernels' vector loads then never straddle two lines (the C
    workspace layout keeps every array at a multiple of 8 numbers)."""
    raw = np.empty(size + 7, dtype=np.float64)
    skip = (-raw.ctypes.data % 64) // 8
    return raw[skip:skip + size]


def _memory_limit():
    """Bytes a sweep's scratch may take: half the machine's memory."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 1 << 62


_MEMORY_LIMIT = _memory_limit()


def _scratch(str name, Py_ssize_t size):
    bufs = getattr(_tls, "bufs", None)
    if bufs is None:
        bufs = _tls.bufs = {}
    size = max(size, 1)
    buf = bufs.get(name)
    if buf is None or buf.shape[0] < size:
        buf = _aligned(size)
        bufs[name] = buf
    return buf[:size]


def release_scratch():
    """Free the calling thread's cached scratch memory (and its spare kept-state buffers)."""
    _tls.bufs = {}
    _tls.kept = []


# Buffers of kept forward states that their owner released, per thread, for the next gradient
# sweep that keeps states: a fresh buffer of tens of megabytes costs its page faults on every
# use (they dominate a short training run's first iterations).
_KEPT_SPARE = 3


def _kept_buffer(Py_ssize_t size):
    pool = getattr(_tls, "kept", None)
    if pool:
        for i in range(len(pool)):
            if pool[i].shape[0] >= size:
                return pool.pop(i)[:size]
    return _aligned(size)


def recycle_kept(buf):
    """Give a released kept-state buffer (from value_grad) to the calling thread's pool."""
    pool = getattr(_tls, "kept", None)
    if pool is None:
        pool = _tls.kept = []
    base = buf
    while base.base is not None and isinstance(base.base, np.ndarray) and \
            base.base.ctypes.data == buf.ctypes.data:
        base = base.base  # the whole pooled buffer, not its slice
    pool.append(base)
    pool.sort(key=lambda a: a.shape[0])
    while len(pool) > _KEPT_SPARE:
        pool.pop(0)


def isa():
    """Name of the instruction-set level the sweeps run with."""
    return snode_isa().decode()


def set_isa(str name):
    """Use the given instruction-set level ("baseline", "avx2", "avx512") if it runs here."""
    if snode_set_isa(name.encode()) != 0:
        raise ValueError(f"instruction-set level {name!r} is not available on this machine")


# GCC's OpenMP runtime cannot start threads in a child made by fork() after the parent ran a
# parallel region (the child hangs): in such a child every sweep runs its chunks on one thread
# (the same chunks, so the same results).
cdef bint _forked = False


def _after_fork_in_child():
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_after_fork_in_child)


cdef inline int _team(int n_threads) noexcept nogil:
    return 1 if _forked else n_threads


# When true, every sweep uses the general kernels, also at the widths that have fused ones
# (for tests and benchmarks that compare the two); read once per call.
cdef bint _general_only = False


def use_general_kernels(bint flag):
    """Always use the general kernels (True), or the fused small-width ones where they exist
    (False, the default). Returns the previous setting. For tests and benchmarks."""
    global _general_only
    cdef bint old = _general_only
    _general_only = flag
    return old


cdef int _make_net(snode_net *net, const double[:, :, ::1] W, const double[:, ::1] b,
                   const double[:, ::1] a, const double[::1] bw, int act, double h) except -1:
    cdef Py_ssize_t K = W.shape[0], d = W.shape[1], S = bw.shape[0]
    if W.shape[2] != d:
        raise ValueError(f"W must have shape (K, d, d), got {(W.shape[0], W.shape[1], W.shape[2])}")
    if b.shape[0] != K or b.shape[1] != d:
        raise ValueError(f"b must have shape ({K}, {d}), got {(b.shape[0], b.shape[1])}")
    if a.shape[0] != S or a.shape[1] != S:
        raise ValueError(f"Butcher matrix must have shape ({S}, {S}), got {(a.shape[0], a.shape[1])}")
    if K < 1 or d < 1 or S < 1 or S > 16:
        raise ValueError(f"need K >= 1, d >= 1 and 1 <= S <= 16, got {K}, {d}, {S}")
    net.d = d
    net.K = K
    net.h = h
    net.S = <int>S
    net.a = &a[0, 0]
    net.bw = &bw[0]
    net.act = act
    net.W = &W[0, 0, 0]
    net.b = &b[0, 0]
    net.general = 1 if _general_only else 0
    return 0


def all_finite(x, int n_threads=1):
    """Whether every entry of the float64 array x is finite (no temporary arrays; blocks of a
    large array are checked on n_threads threads)."""
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64 and x.flags.c_contiguous):
        return bool(np.isfinite(x).all())
    cdef const double[::1] v = x.reshape(-1)
    cdef Py_ssize_t n = v.shape[0], block = 1 << 18, nb, k, lo
    cdef int one
    if n == 0:
        return True
    if n <= block:
        with nogil:
            one = snode_all_finite(n, &v[0])
        return bool(one)
    nb = (n + block - 1) // block
    cdef int[::1] ok = np.ones(nb, dtype=np.intc)
    with nogil:
        for k in prange(nb, num_threads=_team(max(1, min(n_threads, nb))), schedule="static"):
            lo = k * block
            ok[k] = snode_all_finite(min(block, n - lo), &v[lo])
    for k in range(nb):
        if not ok[k]:
            return False
    return True


def kernel_info(const double[:, :, ::1] W, const double[:, ::1] b, const double[:, ::1] a,
                const double[::1] bw, int act, double h, Py_ssize_t n, bint recompute):
    """(fused, panel): whether the sweeps of this network use the fused small-width kernels,
    and the samples per panel of a gradient sweep over a chunk of n. For tests."""
    cdef snode_net net
    _make_net(&net, W, b, a, bw, act, h)
    return bool(snode_uses_fused(&net)), snode_grad_panel(&net, n, 1 if recompute else 0)


def _size(nbytes):
    return f"{nbytes / 2**30:.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.1f} MiB"


cdef _workspace(Py_ssize_t size, str sweep, snode_net *net, Py_ssize_t chunk):
    """The calling thread's scratch of `size` numbers for a sweep, or MemoryError naming the
    sizes and the way out when it would take more than half of the machine's memory."""
    if 8 * size > _MEMORY_LIMIT:
        raise MemoryError(
            f"the {sweep} needs {_size(8 * size)} of scratch memory (width {net.d}, "
            f"{net.K} steps, {net.S} stages, chunks of {chunk} samples), more than half of "
            "this machine's: use memory='recompute', fewer steps, a smaller batch or fewer "
            "threads")
    return _scratch("work", size)


cdef int _check_inputs(Py_ssize_t N, Py_ssize_t m, Py_ssize_t d) except -1:
    if m > d or m < 1 or N < 1:
        raise ValueError(f"X must have shape (N >= 1, 1 <= m <= {d}), got {(N, m)}")
    return 0


cdef Py_ssize_t _n_chunks(Py_ssize_t N, int n_threads):
    # at least 8 samples a chunk; one chunk per thread
    cdef Py_ssize_t c = (N + 7) // 8
    if n_threads < 1:
        n_threads = 1
    return max(1, min(<Py_ssize_t>n_threads, c))


cdef Py_ssize_t _chunk_size(Py_ssize_t N, Py_ssize_t nch):
    # chunks start at multiples of 8 samples: the kernels pad a chunk to a multiple of 8
    cdef Py_ssize_t chunk = (N + nch - 1) // nch
    return (chunk + 7) // 8 * 8


# Gradients larger than this are summed in place step by step (no per-chunk copies).
cdef Py_ssize_t _COPY_MAX_BYTES = 4 << 20


cdef Py_ssize_t _sum_chunk(snode_net *net, Py_ssize_t N):
    # The samples of a chunk of the sums over samples of a batch of N (the cost and the
    # gradient): a number of the network and N alone, never of the threads. The sums are
    # formed chunk by chunk in chunk order, so that they are the same on any number of threads.
    # About N/8 samples (enough chunks for the threads to share, few enough that each is
    # worth its turn) and at least 32 (64 from width 33 on: a chunk streams all the weights),
    # split evenly in whole vector columns of the kernels (a chunk's last panel is padded to
    # them). For a gradient too large to copy per chunk, at most one panel of the gradient
    # sweep (P samples), so that the chunks add in place step by step.
    cdef Py_ssize_t least = 32 if net.d <= 32 else 64
    cdef Py_ssize_t n = max(1, min(8, (N + least - 1) // least))
    cdef Py_ssize_t P = snode_grad_panel(net, <Py_ssize_t>1 << 40, 0)
    cdef Py_ssize_t unit = snode_grad_panel(net, 1, 0)  # (one sample: one column unit)
    cdef Py_ssize_t c = (N + n - 1) // n
    if c > P and 8 * net.K * (net.d * net.d + net.d) > _COPY_MAX_BYTES:
        c = P
    return (c + unit - 1) // unit * unit


cdef int _sum_team(int n_threads, Py_ssize_t nch) noexcept nogil:
    # the threads a sum's chunks run on (whole chunks taken in turn: thread t takes chunks
    # t, t + T, t + 2T, ..., each in increasing order, as the ordered sum needs)
    cdef Py_ssize_t t = n_threads if n_threads > 1 else 1
    if t > nch:
        t = nch
    return _team(<int>t)


def sum_chunk(const double[:, :, ::1] W, const double[:, ::1] b, const double[:, ::1] a,
              const double[::1] bw, int act, double h, Py_ssize_t N):
    """The samples of a chunk of the sums over N samples of this network (for tests)."""
    cdef snode_net net
    _make_net(&net, W, b, a, bw, act, h)
    return _sum_chunk(&net, N)


cdef _raise_status(int[::1] status, str what):
    cdef Py_ssize_t c
    for c in range(status.shape[0]):
        if status[c] == SNODE_ERR_LABEL:
            raise ValueError("a label is outside [0, n_classes) (were the labels changed after "
                             "they were checked?)")
        if status[c] == SNODE_ERR_NONFINITE:
            raise NonFiniteError(
                f"the {what} sweep produced Inf or NaN: the weights or inputs are too large "
                "for this activation and depth")
        if status[c] != SNODE_OK:
            raise RuntimeError(f"internal error in the {what} sweep (status {status[c]})")


cdef int _loss_args(snode_loss *loss, snode_targets *tg, double mse, double ce, double out,
                    Py_ssize_t n_classes, double scale, const double[:, ::1] Y,
                    const int64_t[::1] labels, Py_ssize_t N, Py_ssize_t d) except -1:
    """Fill the loss and point at its targets, checking their shapes. (Which terms need which
    targets is the Python layer's rule, checked there; the core refuses a cross-entropy without
    labels as an internal error.)"""
    loss.mse = mse
    loss.ce = ce
    loss.out = out
    loss.n_classes = n_classes
    loss.scale = scale
    tg.Y = NULL
    tg.my = 0
    tg.labels = NULL
    if Y is not None:
        if Y.shape[0] != N or Y.shape[1] > d or Y.shape[1] < 1:
            raise ValueError(f"Y must have shape ({N}, 1 <= m <= {d}), got {(Y.shape[0], Y.shape[1])}")
        tg.Y = &Y[0, 0]
        tg.my = Y.shape[1]
    if labels is not None:
        if labels.shape[0] != N:
            raise ValueError(f"labels must have shape ({N},), got ({labels.shape[0]},)")
        tg.labels = &labels[0]
    return 0


# Each sweep is called chunk by chunk: the batch's arguments (all N samples) are filled once,
# and a chunk's are those of its samples lo..hi-1 (their rows of every per-sample array) with
# the chunk's own outputs and scratch.

cdef inline int _forward_chunk(const snode_net *net, const snode_forward_args *batch,
                               Py_ssize_t lo, Py_ssize_t hi, double *work) noexcept nogil:
    cdef snode_forward_args a = batch[0]
    a.n = hi - lo
    a.x0 = batch.x0 + lo * batch.m
    if a.xT != NULL:
        a.xT = batch.xT + lo * net.d
    if a.traj != NULL:
        a.traj = batch.traj + lo * net.d
    return snode_forward(net, &a, work)


cdef inline int _cost_chunk(const snode_net *net, const snode_cost_args *batch, Py_ssize_t lo,
                            Py_ssize_t hi, double *J, double *work) noexcept nogil:
    cdef snode_cost_args a = batch[0]
    a.n = hi - lo
    a.x0 = batch.x0 + lo * batch.m
    a.tg = snode_targets_at(&batch.tg, lo)
    a.J = J
    if a.xT != NULL:
        a.xT = batch.xT + lo * net.d
    return snode_data_cost(net, &a, work)


cdef inline int _grad_chunk(const snode_net *net, const snode_grad_args *batch, Py_ssize_t lo,
                            Py_ssize_t hi, double *J, double *g, const snode_sum *sum,
                            double *keep, double *work) noexcept nogil:
    # g: the chunk's gradient, gW then gb
    cdef snode_grad_args a = batch[0]
    cdef Py_ssize_t d = net.d
    a.n = hi - lo
    a.x0 = batch.x0 + lo * batch.m
    a.tg = snode_targets_at(&batch.tg, lo)
    if a.lamT != NULL:
        a.lamT = batch.lamT + lo * d
    if a.lam0 != NULL:
        a.lam0 = batch.lam0 + lo * d
    if a.xT != NULL:
        a.xT = batch.xT + lo * d
    a.J = J
    a.gW = g
    a.gb = g + net.K * d * d
    a.sum = sum
    a.keep = keep
    return snode_value_grad(net, &a, work)


cdef inline int _tangent_chunk(const snode_net *net, const snode_tangent_args *batch,
                               Py_ssize_t lo, Py_ssize_t hi, double *work) noexcept nogil:
    cdef snode_tangent_args a = batch[0]
    cdef Py_ssize_t d = net.d
    a.n = hi - lo
    a.x0 = batch.x0 + lo * batch.m
    if a.xi0 != NULL:
        a.xi0 = batch.xi0 + lo * batch.q * d
    if a.xT != NULL:
        a.xT = batch.xT + lo * d
    a.xiT = batch.xiT + lo * batch.q * d
    return snode_tangent(net, &a, work)


cdef inline int _tangent_kept_chunk(const snode_net *net, const snode_tangent_kept_args *batch,
                                    Py_ssize_t lo, Py_ssize_t hi, const double *keep,
                                    double *work) noexcept nogil:
    cdef snode_tangent_kept_args a = batch[0]
    a.n = hi - lo
    a.keep = keep
    a.xiT = batch.xiT + lo * net.d
    return snode_tangent_kept(net, &a, work)


def forward(const double[:, :, ::1] W, const double[:, ::1] b, const double[:, ::1] a,
            const double[::1] bw, int act, double h, const double[:, ::1] X, int n_threads,
            bint trajectory=False):
    """x(T) of shape (N, d), or the states at the step times, (K + 1, N, d)."""
    cdef snode_net net
    _make_net(&net, W, b, a, bw, act, h)
    cdef Py_ssize_t N = X.shape[0], m = X.shape[1], d = net.d, K = net.K
    _check_inputs(N, m, d)
    cdef Py_ssize_t nch = _n_chunks(N, n_threads), c, lo, hi
    cdef Py_ssize_t chunk = _chunk_size(N, nch)
    cdef Py_ssize_t ws = snode_ws_forward(&net, chunk)
    cdef double[::1] work = _workspace(nch * ws, "forward sweep", &net, chunk)
    cdef int[::1] status = np.zeros(nch, dtype=np.intc)
    cdef double[:, :, ::1] traj
    cdef double[:, ::1] out
    cdef snode_forward_args fa
    fa.n = N
    fa.x0 = &X[0, 0]
    fa.m = m
    fa.xT = NULL
    fa.traj = NULL
    fa.traj_stride = N * d
    if trajectory:
        res = np.empty((K + 1, N, d))
        traj = res
        fa.traj = &traj[0, 0, 0]
    else:
        res = np.empty((N, d))
        out = res
        fa.xT = &out[0, 0]
    with nogil:
        for c in prange(nch, num_threads=_team(n_threads), schedule="static"):
            lo = c * chunk
            hi = min(N, lo + chunk)
            if hi > lo:
                status[c] = _forward_chunk(&net, &fa, lo, hi, &work[c * ws])
    _raise_status(status, "forward")
    return res


def data_cost(const double[:, :, ::1] W, const double[:, ::1] b, const double[:, ::1] a,
              const double[::1] bw, int act, double h, const double[:, ::1] X,
              const double[:, ::1] Y, const int64_t[::1] labels, double mse, double ce,
              double out, Py_ssize_t n_classes, double scale, int n_threads,
              bint want_xT=False):
    """The data cost at the outputs of the forward sweep (no adjoint): returns (J, xT); xT is
    None unless asked for. The same J as value_grad's at the same weights, on any number of
    threads."""
    cdef snode_net net
    _make_net(&net, W, b, a, bw, act, h)
    cdef Py_ssize_t N = X.shape[0], m = X.shape[1], d = net.d
    _check_inputs(N, m, d)
    cdef snode_loss loss
    cdef snode_cost_args ca
    _loss_args(&loss, &ca.tg, mse, ce, out, n_classes, scale, Y, labels, N, d)
    ca.n = N
    ca.x0 = &X[0, 0]
    ca.m = m
    ca.loss = &loss
    ca.J = NULL
    ca.xT = NULL
    cdef Py_ssize_t chunk = _sum_chunk(&net, N), nch = (N + chunk - 1) // chunk, c, lo, hi
    cdef int team = _sum_team(n_threads, nch)
    cdef Py_ssize_t ws = snode_ws_forward(&net, chunk)
    cdef double[::1] work = _workspace(team * ws, "cost sweep", &net, chunk)
    cdef int[::1] status = np.zeros(nch, dtype=np.intc)
    cdef double[::1] Jc = np.zeros(nch)
    cdef double[:, ::1] xTv
    xT_arr = None
    if want_xT:
        xT_arr = np.empty((N, d))
        xTv = xT_arr
        ca.xT = &xTv[0, 0]
    with nogil:
        for c in prange(nch, num_threads=team, schedule="static", chunksize=1):
            lo = c * chunk
            hi = min(N, lo + chunk)
            status[c] = _cost_chunk(&net, &ca, lo, hi, &Jc[c], &work[threadid() * ws])
    _raise_status(status, "forward")
    cdef double J = 0.0
    for c in range(nch):
        J += Jc[c]
    return J, xT_arr


def value_grad(const double[:, :, ::1] W, const double[:, ::1] b, const double[:, ::1] a,
               const double[::1] bw, int act, double h, const double[:, ::1] X,
               const double[:, ::1] Y, const int64_t[::1] labels, const double[:, ::1] lamT,
               double mse, double ce, double out, Py_ssize_t n_classes, double scale,
               int n_threads, bint recompute=False, bint want_lam0=False, bint want_xT=False,
               bint keep=False):
    """Data cost and its exact gradient.

    Returns (J, gW, gb, lam0, xT, kept); lam0, xT and kept are None unless asked for. With
    lamT given, it is taken as dJ/dx(T) and J is 0. kept holds the forward states for
    tangent_kept (same N); not with recompute; its memory comes from the thread's pool of
    recycled buffers where one is large enough (see recycle_kept). J and the gradient are
    summed chunk by chunk in chunk order (chunks of _sum_chunk samples): the same numbers on
    any number of threads.
    """
    cdef snode_net net
    _make_net(&net, W, b, a, bw, act, h)
    cdef Py_ssize_t N = X.shape[0], m = X.shape[1], d = net.d, K = net.K
    _check_inputs(N, m, d)
    cdef snode_loss loss
    cdef snode_grad_args ga
    ga.lamT = NULL
    if lamT is not None:
        if lamT.shape[0] != N or lamT.shape[1] != d:
            raise ValueError(f"lamT must have shape ({N}, {d}), got {(lamT.shape[0], lamT.shape[1])}")
        ga.lamT = &lamT[0, 0]
        _loss_args(&loss, &ga.tg, 0.0, 0.0, 0.0, 0, scale, None, None, N, d)
    else:
        _loss_args(&loss, &ga.tg, mse, ce, out, n_classes, scale, Y, labels, N, d)
    if keep and recompute:
        raise ValueError("the forward states are kept in the 'store' memory mode only")
    cdef int rc = 1 if recompute else 0
    ga.n = N
    ga.x0 = &X[0, 0]
    ga.m = m
    ga.loss = &loss
    ga.lam0 = NULL
    ga.xT = NULL
    ga.recompute = rc
    # (per chunk: J, gW, gb, sum, keep)
    ga.J = ga.gW = ga.gb = ga.keep = NULL
    ga.sum = NULL
    cdef Py_ssize_t chunk = _sum_chunk(&net, N), nch = (N + chunk - 1) // chunk, c, lo, hi, e
    cdef int team = _sum_team(n_threads, nch)
    cdef Py_ssize_t ws = snode_ws_grad(&net, chunk, rc)
    cdef Py_ssize_t ksz = snode_keep_size(&net, chunk) if keep else 0
    cdef Py_ssize_t KDD = K * d * d, gsz = KDD + K * d
    # Chunks of one panel of the gradient sweep add their gradients into gW, gb in place, step
    # by step in chunk order (no copies of the gradient); chunks of several panels (small
    # gradients: _sum_chunk) each compute theirs into a copy of their own (the first into gW,
    # gb), and the copies are added afterwards, in chunk order, element by element (no thread
    # waits for another while the sweeps run). One chunk: directly.
    cdef bint shared = nch > 1 and snode_grad_panel(&net, chunk, rc) >= chunk
    cdef bint copies = nch > 1 and not shared
    if 8 * nch * ksz > _MEMORY_LIMIT:
        raise MemoryError(f"keeping the forward states of {N} samples needs "
                          f"{_size(8 * nch * ksz)}, more than half of this machine's memory: "
                          "evaluate without keeping them, or with a smaller batch")
    cdef double[::1] work = _workspace(team * ws, "gradient sweep", &net, chunk)
    cdef double[::1] gbuf = _scratch("grad", (nch - 1) * gsz if copies else 0)
    cdef int[::1] turn = np.zeros(K if shared else 1, dtype=np.intc)
    cdef snode_sum *sums = NULL
    cdef int[::1] status = np.zeros(nch, dtype=np.intc)
    cdef double[::1] Jc = np.zeros(nch)
    g_arr = np.empty(gsz)
    gW_arr = g_arr[:KDD].reshape(K, d, d)
    gb_arr = g_arr[KDD:].reshape(K, d)
    cdef double[::1] g = g_arr
    cdef double[:, ::1] lam0v, xTv
    cdef double[::1] keepv
    cdef double *kp = NULL
    cdef double *gp
    cdef double *g0
    cdef int tid
    lam0_arr = xT_arr = keep_arr = None
    if want_lam0:
        lam0_arr = np.empty((N, d))
        lam0v = lam0_arr
        ga.lam0 = &lam0v[0, 0]
    if want_xT:
        xT_arr = np.empty((N, d))
        xTv = xT_arr
        ga.xT = &xTv[0, 0]
    if keep:
        keep_arr = _kept_buffer(nch * ksz)
        keepv = keep_arr
        kp = &keepv[0]
    if shared:
        sums = <snode_sum *> PyMem_Malloc(nch * sizeof(snode_sum))
        if sums == NULL:
            raise MemoryError()
        for c in range(nch):
            sums[c].index = <int>c
            sums[c].count = <int>nch
            sums[c].turn = &turn[0]
    try:
        with nogil:
            for c in prange(nch, num_threads=team, schedule="static", chunksize=1):
                lo = c * chunk
                hi = min(N, lo + chunk)
                tid = threadid()
                gp = &gbuf[(c - 1) * gsz] if copies and c > 0 else &g[0]
                status[c] = _grad_chunk(&net, &ga, lo, hi, &Jc[c], gp,
                                        &sums[c] if shared else NULL,
                                        (kp + c * ksz) if kp != NULL else NULL, &work[tid * ws])
    finally:
        PyMem_Free(sums)
    _raise_status(status, "gradient")
    if copies:
        g0 = &g[0]
        with nogil:
            for e in prange(gsz, num_threads=_team(n_threads), schedule="static"):
                for c in range(1, nch):
                    g0[e] += gbuf[(c - 1) * gsz + e]
        if not snode_all_finite(gsz, g0):
            raise NonFiniteError("the gradient sweep produced Inf or NaN: the weights or "
                                 "inputs are too large for this activation and depth")
    cdef double J = 0.0
    for c in range(nch):
        J += Jc[c]
    return J, gW_arr, gb_arr, lam0_arr, xT_arr, keep_arr


def tangent(const double[:, :, ::1] W, const double[:, ::1] b, const double[:, ::1] a,
            const double[::1] bw, int act, double h, const double[:, ::1] X,
            const double[:, :, ::1] dW, const double[:, ::1] db, Py_ssize_t q,
            const double[:, :, ::1] xi0, bint identity, int n_threads):
    """Tangent-linear sweep: returns (xT (N, d), xiT (N, q, d))."""
    cdef snode_net net
    _make_net(&net, W, b, a, bw, act, h)
    cdef Py_ssize_t N = X.shape[0], m = X.shape[1], d = net.d, K = net.K
    _check_inputs(N, m, d)
    if q < 1 or (identity and q > d):
        raise ValueError(f"need 1 <= q (<= {d} for the identity), got {q}")
    cdef snode_tangent_args ta
    ta.dW = ta.db = ta.xi0 = NULL
    _direction(&ta.dW, &ta.db, dW, db, K, d)
    if xi0 is not None:
        if xi0.shape[0] != N or xi0.shape[1] != q or xi0.shape[2] != d:
            raise ValueError(f"xi0 must have shape ({N}, {q}, {d}), got {(xi0.shape[0], xi0.shape[1], xi0.shape[2])}")
        ta.xi0 = &xi0[0, 0, 0]
    cdef Py_ssize_t nch = _n_chunks(N, n_threads), c, lo, hi
    cdef Py_ssize_t chunk = _chunk_size(N, nch)
    cdef Py_ssize_t ws = snode_ws_tangent(&net, chunk, q)
    cdef double[::1] work = _workspace(nch * ws, "sensitivity sweep", &net, chunk)
    cdef int[::1] status = np.zeros(nch, dtype=np.intc)
    xT_arr = np.empty((N, d))
    xiT_arr = np.empty((N, q, d))
    cdef double[:, ::1] xT = xT_arr
    cdef double[:, :, ::1] xiT = xiT_arr
    ta.n = N
    ta.x0 = &X[0, 0]
    ta.m = m
    ta.q = q
    ta.identity = 1 if identity else 0
    ta.xT = &xT[0, 0]
    ta.xiT = &xiT[0, 0, 0]
    with nogil:
        for c in prange(nch, num_threads=_team(n_threads), schedule="static"):
            lo = c * chunk
            hi = min(N, lo + chunk)
            if hi > lo:
                status[c] = _tangent_chunk(&net, &ta, lo, hi, &work[c * ws])
    _raise_status(status, "sensitivity")
    return xT_arr, xiT_arr


cdef int _direction(const double **dWp, const double **dbp, const double[:, :, ::1] dW,
                    const double[:, ::1] db, Py_ssize_t K, Py_ssize_t d) except -1:
    if dW is not None:
        if dW.shape[0] != K or dW.shape[1] != d or dW.shape[2] != d:
            raise ValueError(f"dW must have shape ({K}, {d}, {d}), got {(dW.shape[0], dW.shape[1], dW.shape[2])}")
        dWp[0] = &dW[0, 0, 0]
    if db is not None:
        if db.shape[0] != K or db.shape[1] != d:
            raise ValueError(f"db must have shape ({K}, {d}), got {(db.shape[0], db.shape[1])}")
        dbp[0] = &db[0, 0]
    return 0


def tangent_kept(const double[:, :, ::1] W, const double[:, ::1] b, const double[:, ::1] a,
                 const double[::1] bw, int act, double h, Py_ssize_t N, const double[::1] kept,
                 const double[:, :, ::1] dW, const double[:, ::1] db, int n_threads):
    """The tangent-linear sweep along (dW, db) on the forward states `kept` that value_grad kept
    for N samples (the same weights), on n_threads threads: returns xiT (N, d)."""
    cdef snode_net net
    _make_net(&net, W, b, a, bw, act, h)
    cdef Py_ssize_t d = net.d, K = net.K
    if N < 1:
        raise ValueError(f"need N >= 1, got {N}")
    cdef snode_tangent_kept_args ka
    ka.dW = ka.db = NULL
    _direction(&ka.dW, &ka.db, dW, db, K, d)
    cdef Py_ssize_t chunk = _sum_chunk(&net, N), nch = (N + chunk - 1) // chunk, c, lo, hi
    cdef int team = _sum_team(n_threads, nch)
    cdef Py_ssize_t ksz = snode_keep_size(&net, chunk)
    if kept.shape[0] != nch * ksz:
        raise ValueError("the kept states do not belong to this network and batch")
    cdef Py_ssize_t ws = snode_ws_tangent_kept(&net, chunk)
    cdef double[::1] work = _workspace(team * ws, "sensitivity sweep", &net, chunk)
    cdef int[::1] status = np.zeros(nch, dtype=np.intc)
    xiT_arr = np.empty((N, d))
    cdef double[:, ::1] xiT = xiT_arr
    ka.n = N
    ka.keep = &kept[0]
    ka.xiT = &xiT[0, 0]
    with nogil:
        for c in prange(nch, num_threads=team, schedule="static", chunksize=1):
            lo = c * chunk
            hi = min(N, lo + chunk)
            status[c] = _tangent_kept_chunk(&net, &ka, lo, hi, &kept[c * ksz],
                                            &work[threadid() * ws])
    _raise_status(status, "sensitivity")
    return xiT_arr


def loss(const double[:, ::1] x, const double[:, ::1] Y, const int64_t[::1] labels,
         double mse, double ce, double out, Py_ssize_t n_classes, double scale,
         bint want_grad=False):
    """The data terms at given outputs x (N, d): returns (J, dJ/dx or None)."""
    cdef Py_ssize_t N = x.shape[0], d = x.shape[1]
    cdef snode_loss ls
    cdef snode_targets tg
    _loss_args(&ls, &tg, mse, ce, out, n_classes, scale, Y, labels, N, d)
    cdef double J = 0.0
    cdef double[:, ::1] gv
    cdef double *gp = NULL
    g_arr = None
    if want_grad:
        g_arr = np.zeros((N, d))
        gv = g_arr
        gp = &gv[0, 0]
    cdef int st = SNODE_OK
    if N > 0 and d > 0:
        with nogil:
            st = snode_output_loss(&ls, d, N, &x[0, 0], &tg, gp, &J)
    _raise_status(np.array([st], dtype=np.intc), "loss")
    return J, g_arr


def loss_line(const double[:, ::1] x, const double[:, ::1] xi, const double[:, ::1] Y,
              const int64_t[::1] labels, double mse, double ce, double out,
              Py_ssize_t n_classes, double scale, double eta):
    """(phi, phi', phi'') at eta of the data terms at outputs x + eta xi (N, d each)."""
    cdef Py_ssize_t N = x.shape[0], d = x.shape[1]
    if xi.shape[0] != N or xi.shape[1] != d:
        raise ValueError(f"xi must have shape ({N}, {d}), got {(xi.shape[0], xi.shape[1])}")
    cdef snode_loss ls
    cdef snode_targets tg
    _loss_args(&ls, &tg, mse, ce, out, n_classes, scale, Y, labels, N, d)
    cdef double res[3]
    res[0] = res[1] = res[2] = 0.0
    cdef int st = SNODE_OK
    if N > 0 and d > 0:
        with nogil:
            st = snode_loss_line(&ls, d, N, &x[0, 0], &xi[0, 0], &tg, eta, res)
    _raise_status(np.array([st], dtype=np.intc), "loss")
    return res[0], res[1], res[2]


def softmax(const double[:, ::1] z, Py_ssize_t C):
    """The softmax of the first C columns of z (N, >= C): (N, C)."""
    cdef Py_ssize_t N = z.shape[0]
    if C < 1 or C > z.shape[1]:
        raise ValueError(f"need 1 <= C <= {z.shape[1]}, got {C}")
    p_arr = np.empty((N, C))
    cdef double[:, ::1] p = p_arr
    if N > 0:
        with nogil:
            snode_softmax(N, C, &z[0, 0], z.shape[1], &p[0, 0])
    return p_arr


def activation(int act, const double[::1] z):
    """(s(z), s'(z)) elementwise."""
    n = z.shape[0]
    k_arr = np.empty(n)
    sp_arr = np.empty(n)
    cdef double[::1] k = k_arr, sp = sp_arr
    if n:
        with nogil:
            snode_activation(act, n, &z[0], &k[0], &sp[0])
    return k_arr, sp_arr


cdef _h1_status(int st, double h, double mass, double stiff):
    if st == SNODE_ERR_NONFINITE:
        raise NonFiniteError(f"the depth operator with h={h}, weights ({mass}, {stiff}) gave "
                             "Inf or NaN: the arrays are too large")
    if st != SNODE_OK:
        raise ValueError(f"the depth operator's parameters are out of range: h={h}, weights "
                         f"({mass}, {stiff}) (it overflows, or is singular without its first "
                         "weight)")


def h1_solve(const double[:, ::1] G, double h, double mass, double stiff):
    """g = A^-1 G, A = mass h I + (stiff/h) L column by column; G has shape (K, P)."""
    cdef Py_ssize_t K = G.shape[0], P = G.shape[1]
    if K < 1:
        raise ValueError("need at least one step")
    g_arr = np.empty((K, P))
    cdef double[:, ::1] g = g_arr
    cdef double[::1] work = np.empty(2 * K)
    cdef int st
    with nogil:
        st = snode_h1_solve(K, P, h, mass, stiff, &G[0, 0] if P else NULL,
                            &g[0, 0] if P else NULL, &work[0])
    _h1_status(st, h, mass, stiff)
    return g_arr


def h1_apply(const double[:, ::1] u, double h, double mass, double stiff):
    """A u, A = mass h I + (stiff/h) L column by column; u has shape (K, P)."""
    cdef Py_ssize_t K = u.shape[0], P = u.shape[1]
    if K < 1:
        raise ValueError("need at least one step")
    out_arr = np.empty((K, P))
    cdef double[:, ::1] o = out_arr
    cdef int st = SNODE_OK
    if P:
        with nogil:
            st = snode_h1_apply(K, P, h, mass, stiff, &u[0, 0], &o[0, 0])
    _h1_status(st, h, mass, stiff)
    return out_arr


def h1_inner(const double[:, ::1] u, const double[:, ::1] v, double h, double mass,
             double stiff):
    """sum u . A v for two (K, P) arrays, A = mass h I + (stiff/h) L."""
    if u.shape[0] != v.shape[0] or u.shape[1] != v.shape[1]:
        raise ValueError(f"shapes differ: {(u.shape[0], u.shape[1])} and {(v.shape[0], v.shape[1])}")
    cdef Py_ssize_t K = u.shape[0], P = u.shape[1]
    cdef double r
    if K == 0 or P == 0:
        return 0.0
    with nogil:
        r = snode_h1_inner(K, P, h, mass, stiff, &u[0, 0], &v[0, 0])
    if not (r == r and r - r == 0.0):  # Inf or NaN
        cm, cs = mass * h, stiff / h
        _h1_status(SNODE_ERR_NONFINITE if (cm - cm == 0.0 and cs - cs == 0.0) else -1,
                   h, mass, stiff)
    return r
