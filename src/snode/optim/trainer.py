"""The training loop shared by the optimisers: the schedule of batches, the history, the
callback and Ctrl-C.

An optimiser is a :class:`Trainer` (a frozen dataclass whose schedule fields are declared
here, once) with two methods: ``init_state(objective)`` returns its own state (a mutable
object it defines), and ``iterate(objective, state, loop)`` runs one iteration on the
objective's batch and returns a :class:`Step`. The loop and the iteration talk through the
typed :class:`Loop` (what the loop tells: a new batch, another iteration to come; what the
iteration tells back: the cost at the new weights, an evaluation made for the next one), in
the manner of diffrax's solvers' ``init`` and ``step``.
"""
from dataclasses import dataclass, field
import math
import time
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult

from .._validate import check_bool, check_int, check_real, check_seed, seed_of
from ..exceptions import NonFiniteError
from ..model import all_finite
from ..objective import as_objective
from ..reduce import Reducer, digest, gather_floats, rank0_copy, reduce_floats

if TYPE_CHECKING:
    from ..cost import Cost
    from ..model import SNODE
    from ..objective import Objective

__all__ = ["TrainResult", "Trainer", "Loop", "Step", "pair_dot", "pair_axpy", "pair_finite",
           "HISTORY_FIELDS", "SCHEDULE_FIELDS"]

HISTORY_FIELDS = ("epoch", "batch", "cost", "grad_norm", "beta", "step", "restart",
                  "rejected", "backtracks", "evaluations", "time")


class TrainResult(OptimizeResult):
    """Outcome of training (a dict with attribute access, like scipy's OptimizeResult).

    Attributes
    ----------
    x : (ndarray, ndarray)
        The final weights (W, b) (copies; the network holds them too).
    fun : float
        The cost at the final weights, on the data of the last iteration (all of it in
        full-batch mode).
    cost : float
        Cost at the start of the last iteration (on its batch), before that iteration's step.
    n_iter, nit : int
        Iterations.
    evaluations, njev : int
        Gradient evaluations (a forward and an adjoint sweep each).
    nfev : int
        Cost evaluations, with or without a gradient.
    sweeps : int
        All sweeps over depth: a gradient evaluation counts 2, a cost evaluation and a
        sensitivity sweep 1 each.
    history : dict of ndarray
        Per iteration: epoch, batch, cost (before the step), grad_norm (in the metric), beta,
        step, restart (1 where the direction was reset to steepest descent), rejected (trial
        steps refused because the cost there was not finite), backtracks, evaluations
        (gradient evaluations spent up to this iteration's gradient, cumulative), time
        (seconds since the start).
    success : bool
    message : str
    interrupted : bool
        True when stopped by Ctrl-C (the weights are the last accepted ones).

    Examples
    --------
    >>> import snode
    >>> X, Y, _ = snode.data.teacher(200, seed=0)
    >>> net = snode.SNODE(width=4, n_steps=20, seed=1)
    >>> result = snode.Adam(lr=0.01, max_iter=5).minimize(net, snode.Cost(), X, Y)
    >>> isinstance(result, snode.TrainResult), result.success, result.message
    (True, True, 'maximum number of iterations reached')
    >>> len(result.history["cost"]), result.nit
    (5, 5)
    """


def pair_dot(u, v):
    """Euclidean inner product of two parameter pairs (W, b)."""
    # einsum's own loop, not BLAS: a threaded BLAS dot woken between OpenMP sweeps competes
    # with the sweeps' idle threads for the cores (docs/decisions.md)
    return float(np.einsum("i,i->", u[0].ravel(), v[0].ravel(), dtype=np.float64)
                 + np.einsum("i,i->", u[1].ravel(), v[1].ravel(), dtype=np.float64))


def pair_axpy(a, x, y):
    """a x + y for parameter pairs."""
    return (a * x[0] + y[0], a * x[1] + y[1])


def pair_finite(p):
    """Whether both arrays of a pair are finite."""
    return all_finite(p[0]) and all_finite(p[1])


@dataclass
class Loop:
    """What the training loop and an optimiser's iteration tell each other.

    Attributes
    ----------
    first : bool
        Set by the loop: the iteration is the first on its batch (a new batch: directions
        restart, evaluations made on the last batch do not count).
    more : bool
        Set by the loop: another iteration on this batch follows (an iteration may then
        evaluate the gradient at its new weights for the next one).
    pending : int
        Set by the iteration: gradient evaluations it made for the next iteration (they
        count for the next one's record).
    fun : float
        Set by the iteration: the cost at the weights it leaves, when known (NaN if not).
    """

    first: bool = True
    more: bool = False
    pending: int = 0
    fun: float = math.nan


@dataclass
class Step:
    """The outcome of one iteration: its history record and what it asks of the loop.

    Attributes
    ----------
    cost, grad_norm, beta, step : float
        The cost before the step, the gradient norm in the metric, the direction's beta
        (NaN where it has none), the step length taken (0: none).
    restart, rejected, backtracks : int
        1 where the direction was reset to steepest descent; trial steps refused because
        their cost was not finite; trial steps refused in all.
    stop : str or None
        Training ends here, with this message.
    success : bool
        With `stop`: whether it is a success.
    next_batch : bool
        Nothing more to do on this batch (mini-batch mode).
    """

    cost: float
    grad_norm: float
    beta: float
    step: float
    restart: int
    rejected: int
    backtracks: int
    stop: "str | None" = None
    success: bool = True
    next_batch: bool = False

    def record(self):
        """The history record (a dict) of the iteration's fields; ``stop``, ``success`` and
        ``next_batch`` when set."""
        rec = dict(cost=self.cost, grad_norm=self.grad_norm, beta=self.beta, step=self.step,
                   restart=self.restart, rejected=self.rejected, backtracks=self.backtracks)
        if self.stop is not None:
            rec.update(stop=self.stop, success=self.success)
        if self.next_batch:
            rec["next_batch"] = True
        return rec


#: The schedule's settings, shared by every optimiser (declared once, in Trainer).
SCHEDULE_FIELDS = ("batch_size", "iterations_per_batch", "epochs", "max_iter", "tol", "seed",
                   "drop_last", "ftol", "n_iter_no_change")


@dataclass(frozen=True)
class Trainer:
    """What the optimisers share: the schedule of batches (keyword-only settings), the
    history, the callback and Ctrl-C. Subclasses implement ``init_state(objective)`` and
    ``iterate(objective, state, loop) -> Step``, and call :meth:`check_schedule` when they
    check their own settings.

    Parameters
    ----------
    batch_size : int or None, default None
        Mini-batch mode: every epoch, batches of `batch_size` shuffled samples; None: full
        batch.
    iterations_per_batch : int >= 1
        Iterations on each mini-batch.
    epochs : int >= 1, default 10
        Mini-batch mode: passes over the data.
    max_iter : int >= 1, default 200
        Full-batch mode: the most iterations.
    tol : float >= 0, default 1e-8
        Full-batch mode: stop when the gradient norm in the metric is at most `tol`.
    seed : int, numpy Generator or None
        Seed of the shuffling (over several processes: rank 0's, drawn there when None).
    drop_last : bool, default False
        Mini-batch mode: leave out the last batch of an epoch when it is smaller than
        `batch_size`. With fewer samples than `batch_size` the one batch is all of them.
    ftol : float >= 0, default 0
        Full-batch mode: also stop (converged, ``success=True``) when the cost fell by at
        most ``ftol |J|`` over the last `n_iter_no_change` iterations and is the lowest of
        them (a cost that rose is no stall; 0: never).
    n_iter_no_change : int >= 1, default 10
    """

    batch_size: Optional[int] = field(default=None, kw_only=True)
    iterations_per_batch: int = field(default=1, kw_only=True)
    epochs: int = field(default=10, kw_only=True)
    max_iter: int = field(default=200, kw_only=True)
    tol: float = field(default=1e-8, kw_only=True)
    seed: Optional[int] = field(default=None, kw_only=True)
    drop_last: bool = field(default=False, kw_only=True)
    ftol: float = field(default=0.0, kw_only=True)
    n_iter_no_change: int = field(default=10, kw_only=True)

    def check_schedule(self):
        """Check (and normalise) the schedule's settings."""
        if self.batch_size is not None:
            object.__setattr__(self, "batch_size", check_int(self.batch_size, "batch_size", 1))
        for name in ("iterations_per_batch", "epochs", "max_iter"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, 1))
        object.__setattr__(self, "tol", check_real(self.tol, "tol", minimum=0.0))
        object.__setattr__(self, "ftol", check_real(self.ftol, "ftol", minimum=0.0))
        object.__setattr__(self, "n_iter_no_change",
                           check_int(self.n_iter_no_change, "n_iter_no_change", 1))
        object.__setattr__(self, "drop_last", check_bool(self.drop_last, "drop_last"))
        object.__setattr__(self, "seed", check_seed(self.seed, "seed"))

    def init_state(self, objective):
        """A fresh state of this optimiser for a run on `objective`."""
        raise NotImplementedError

    def iterate(self, objective, state, loop):
        """One iteration on the objective's batch from its network's weights: returns a
        :class:`Step` (and updates the weights, `state` and `loop`)."""
        raise NotImplementedError

    def minimize(self, net: "Union[SNODE, Objective]", cost: "Optional[Cost]" = None,
                 X: Optional[ArrayLike] = None, Y: Optional[ArrayLike] = None,
                 labels: Optional[ArrayLike] = None,
                 callback: Optional[Callable[[dict[str, Any]], Any]] = None, *,
                 reducer: Optional[Reducer] = None) -> TrainResult:
        """Train: update the network's weights in place; returns a TrainResult.

        Parameters
        ----------
        net : SNODE or Objective
            The network (with `cost` and the data), or an :class:`snode.Objective` that
            binds all of them (then leave cost, X, Y, labels out).
        cost : Cost
        X : array_like, shape (N, m)
        Y : array_like, shape (N, m'), optional
        labels : array_like of int, shape (N,), optional
        callback : callable, optional
            ``callback(record)`` after every iteration with its history record (a dict;
            in mini-batch mode with ``epoch_end``, True at an epoch's last iteration); a
            true return value (True, 1, ...) stops training.
        reducer : Reducer, optional
            Where sums over samples meet across processes (see :mod:`snode.reduce`).

        Returns
        -------
        TrainResult

        Raises
        ------
        ValueError
            For malformed data or arguments (before anything changes).
        NonFiniteError
            If the cost is not finite at the starting weights (nothing changes).
        """
        if callback is not None and not callable(callback):
            raise ValueError(f"callback must be callable, got {callback!r}")
        return self._run(as_objective(net, cost, X, Y, labels, reducer), callback)

    def _run(self, objective, callback):
        seed = self.seed
        if isinstance(seed, np.random.RandomState):  # (numpy's Generator does not take one)
            seed = seed_of(seed)
        if objective.reducer.size > 1 and self.batch_size is not None:
            # every process draws the same mini-batches: rank 0's seed (drawn there if None)
            if seed is None:
                seed = int(np.random.default_rng().integers(2**63))
            seed = objective.reducer.allgather(seed)[0]
        rng = np.random.default_rng(seed)
        if objective.reducer.size > 1:
            _rank0_weights(objective)
        hist = {k: [] for k in HISTORY_FIELDS}
        counts = objective.counts
        start = dict(counts)
        t0 = time.perf_counter()
        state, loop = self.init_state(objective), Loop()
        message, success = "maximum number of iterations reached", True
        interrupted = stop = False
        last_cost = np.nan
        good = objective.params()
        batch_obj = objective
        try:
            if self.batch_size is None:
                batches, n_it = (((0, 0, None, True),), self.max_iter)
            else:
                batches, n_it = self._minibatches(objective.n_total, rng), \
                    self.iterations_per_batch
            for epoch, bi, idx, last_batch in batches:
                batch_obj = objective if idx is None else objective.subset(idx)
                loop.first = True
                for it in range(n_it):
                    # the next iteration runs on this batch: its gradient may come from this
                    # iteration's line search
                    loop.more = it + 1 < n_it
                    out = self.iterate(batch_obj, state, loop)
                    good = objective.params()
                    # an optimiser may evaluate the next iteration's gradient in this one
                    # (NCG's accepted trial point): it counts for the next
                    rec = out.record()
                    rec.update(epoch=epoch, batch=bi,
                               evaluations=counts["gradients"] - start["gradients"]
                               - loop.pending, time=time.perf_counter() - t0)
                    if idx is not None:  # (mini-batches: the last iteration of an epoch)
                        rec["epoch_end"] = last_batch and (it + 1 == n_it or out.next_batch)
                    for k in HISTORY_FIELDS:
                        hist[k].append(rec[k])
                    last_cost = out.cost
                    loop.first = False
                    # the callback sees every recorded iteration, the last one too
                    asked = callback is not None and _agreed_stop(objective.reducer,
                                                                  callback(dict(rec)))
                    if out.stop:  # (the optimiser's own reason comes first)
                        message, success, stop = out.stop, out.success, True
                        break
                    if asked:
                        message, stop = "stopped by the callback", True
                        break
                    stalled = self._stalled(hist["cost"]) if idx is None else None
                    if stalled:
                        message, stop = stalled, True
                        break
                    if out.next_batch:  # nothing more to do on this batch
                        break
                if stop:
                    break
        except KeyboardInterrupt:
            objective.set_params(good)
            if objective.reducer.size > 1:
                # the processes were interrupted at different points of their calls to each
                # other: none can go on (``python -m mpi4py`` then ends the job); snode train
                # under mpiexec stops them all after the same iteration instead
                raise
            message, interrupted = "interrupted", True
        # the cost at the final weights: known from the last iteration, unless interrupted
        fun = np.nan if interrupted else loop.fun
        if not np.isfinite(fun) and hist["cost"]:
            try:
                fun = batch_obj.value()
            except (NonFiniteError, KeyboardInterrupt):  # not finite, or a second Ctrl-C
                fun = np.nan
        history = {k: np.asarray(v, dtype=float) for k, v in hist.items()}
        n_iter = len(hist["cost"])
        njev = counts["gradients"] - start["gradients"]
        return TrainResult(x=objective.params(), fun=float(fun), cost=float(last_cost),
                           n_iter=n_iter, nit=n_iter, evaluations=njev, njev=njev,
                           nfev=counts["values"] - start["values"],
                           sweeps=counts["sweeps"] - start["sweeps"], history=history,
                           success=success, message=message, interrupted=interrupted)

    def _stalled(self, costs):
        """Full-batch mode: the stop message when the cost fell by at most `ftol` relative to
        itself over the last `n_iter_no_change` iterations and is the lowest of them (a cost
        that rose, as Adam's and gradient descent's may, is not a stall); else None. The
        costs are the ones recorded before each step, the same on every process."""
        n = self.n_iter_no_change
        if not self.ftol > 0.0 or len(costs) <= n:
            return None
        now, then = costs[-1], costs[-1 - n]
        if (np.isfinite(now) and now <= min(costs[-1 - n:])
                and then - now <= self.ftol * abs(now)):
            return (f"converged: the cost fell by at most ftol={self.ftol:g} of itself over "
                    f"the last {n} iteration{'s' if n > 1 else ''}")
        return None

    def _minibatches(self, N, rng):
        # (fewer samples than batch_size: the one batch is all of them, also with drop_last)
        B = min(self.batch_size, N)
        stop = N - N % B if self.drop_last else N
        starts = range(0, stop, B)
        for epoch in range(self.epochs):
            perm = rng.permutation(N)
            for bi, start in enumerate(starts):
                yield epoch, bi, perm[start:start + B], bi == len(starts) - 1


def _rank0_weights(objective):
    """Over several processes, every process starts from rank 0's weights (a network made
    with seed=None differs from process to process): compared by a digest, taken from rank 0
    when they differ."""
    W, b = objective.params()
    got = gather_floats(objective.reducer, [digest(W), digest(b)])
    if (got != got[0]).any():
        objective.set_params(rank0_copy(objective.reducer, W, b))


def _agreed_stop(reducer, answer):
    """The callback's answer; over several processes, True when it said so on any of them (a
    stop on some processes only would leave the others waiting)."""
    if reducer.size == 1:
        return bool(answer)
    (n,) = reduce_floats(reducer, 1.0 if answer else 0.0)
    return n > 0
