"""The training loop shared by the optimisers: batches, history, callbacks, interruption."""
import time
from dataclasses import dataclass

import numpy as np

from ..reduce import digests, reduce_floats
from scipy.optimize import OptimizeResult

from .._validate import check_bool, check_int, check_real
from ..exceptions import NonFiniteError
from ..model import all_finite
from ..objective import as_objective

__all__ = ["TrainResult", "Trainer", "pair_dot", "pair_axpy"]

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
    """


def pair_dot(u, v):
    """Euclidean inner product of two parameter pairs (W, b)."""
    # einsum's own loop, not BLAS: a threaded BLAS dot woken between OpenMP sweeps competes
    # with the sweeps' idle threads for the cores (measured: 1 ms instead of 20 us)
    return float(np.einsum("i,i->", u[0].ravel(), v[0].ravel())
                 + np.einsum("i,i->", u[1].ravel(), v[1].ravel()))


def pair_axpy(a, x, y):
    """a x + y for parameter pairs."""
    return (a * x[0] + y[0], a * x[1] + y[1])


def pair_finite(p):
    """Whether both arrays of a pair are finite."""
    return all_finite(p[0]) and all_finite(p[1])


@dataclass(frozen=True)
class Trainer:
    """What the optimisers share: the schedule of batches, the history, the callback and
    Ctrl-C. Subclasses implement ``_iterate(objective, state) -> record``."""

    def _check_common(self):
        if self.batch_size is not None:
            object.__setattr__(self, "batch_size", check_int(self.batch_size, "batch_size", 1))
        for name in ("iterations_per_batch", "epochs", "max_iter"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, 1))
        object.__setattr__(self, "tol", check_real(self.tol, "tol", minimum=0.0))
        object.__setattr__(self, "ftol", check_real(self.ftol, "ftol", minimum=0.0))
        object.__setattr__(self, "n_iter_no_change",
                           check_int(self.n_iter_no_change, "n_iter_no_change", 1))
        for name in ("drop_last", "safeguard", "nesterov"):
            if hasattr(self, name):
                object.__setattr__(self, name, check_bool(getattr(self, name), name))

    def minimize(self, net, cost=None, X=None, Y=None, labels=None, callback=None, *,
                 reducer=None):
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
        state = {}
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
                state["first"] = True
                for it in range(n_it):
                    # the next iteration runs on this batch: its gradient may come from this
                    # iteration's line search
                    state["more"] = it + 1 < n_it
                    rec = self._iterate(batch_obj, state)
                    good = objective.params()
                    # an optimiser may evaluate the next iteration's gradient in this one
                    # (NCG's accepted trial point): it counts for the next
                    pending = state.get("pending", 0)
                    rec.update(epoch=epoch, batch=bi,
                               evaluations=counts["gradients"] - start["gradients"] - pending,
                               time=time.perf_counter() - t0)
                    if idx is not None:  # (mini-batches: the last iteration of an epoch)
                        rec["epoch_end"] = last_batch and (
                            it + 1 == n_it or bool(rec.get("next_batch")))
                    for k in HISTORY_FIELDS:
                        hist[k].append(rec.get(k, np.nan))
                    last_cost = rec["cost"]
                    state["first"] = False
                    # the callback sees every recorded iteration, the last one too
                    asked = callback is not None and _agreed_stop(objective.reducer,
                                                                  callback(dict(rec)))
                    if rec.get("stop"):  # (the optimiser's own reason comes first)
                        message, success, stop = rec["stop"], rec.get("success", True), True
                        break
                    if asked:
                        message, stop = "stopped by the callback", True
                        break
                    stalled = self._stalled(hist["cost"]) if idx is None else None
                    if stalled:
                        message, stop = stalled, True
                        break
                    if rec.get("next_batch"):  # nothing more to do on this batch
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
        fun = np.nan if interrupted else state.get("fun", np.nan)
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
    got = digests(objective.reducer, W, b)
    if got is not None and len(set(got)) > 1:  # (None: a reducer without allgather)
        objective.set_params(objective.reducer.allgather((W, b))[0])


def _agreed_stop(reducer, answer):
    """The callback's answer; over several processes, True when it said so on any of them (a
    stop on some processes only would leave the others waiting)."""
    if reducer.size == 1:
        return bool(answer)
    (n,) = reduce_floats(reducer, 1.0 if answer else 0.0)
    return n > 0
