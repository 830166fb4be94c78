"""The objective: the cost of a network on a batch, as one function of the weights.

:class:`Objective` is the seam between the optimisers and everything below them. It binds a
network, a cost, a batch of samples and a reducer, and answers what an optimiser asks: the
cost at given weights, the cost and its gradient, and the cost with x(T) linearised along a
direction (the sensitivity step's model, :class:`LinearizedCost`). Every sum over samples is
formed on this process's samples, scaled by the global number of samples, and passed through
the reducer block by block; the weight penalty is added once, after the reduction (see
:mod:`snode.reduce`).

The formulas are in docs/method.md (the cost functional, the sensitivity step).
"""
from typing import Any, Literal, Optional, Union, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .cost import Cost
from .evaluation import Evaluation, evaluate, joined
from .exceptions import NonFiniteError
from .loss import Batch
from .model import SNODE, release_states
from .reduce import (Blocks, LocalReducer, Reducer, agree, block_size_for, check_reducer,
                     reduce_floats, same_everywhere, shard, total_samples)
from ._validate import check_bool, check_int

__all__ = ["Objective", "Evaluation", "LinearizedCost", "as_objective"]


#: Forward states larger than this are not kept by default (keep_states="auto").
MAX_STATE_BYTES = 1 << 30


class Objective:
    """The cost of a network on a batch, as a function of the weights.

    Parameters
    ----------
    net : SNODE
        The network; its weights are the default point and what :meth:`set_params` changes.
    cost : Cost
        The cost functional.
    X : array_like, shape (N, m)
        This process's samples (zero-padded to the width).
    Y : array_like, shape (N, m'), optional
        Targets of the squared error.
    labels : array_like of int, shape (N,), optional
        Class labels (the cross-entropy, or one-hot targets of the squared error).
    reducer : Reducer, optional
        Where sums over samples meet across processes; default :class:`LocalReducer`.
    block_size : int, optional
        Samples of a block of the sums over samples (default: :func:`snode.reduce.block_size_for`
        of all processes' samples, 256 to 4096): the sums are formed block by block and added
        along a fixed tree, so that they are bit for bit the same however the blocks are
        shared between processes. With an
        exact reducer of several processes, this process's samples must be whole blocks of
        the global batch (the last one may be short): see :func:`snode.shard`.
    keep_states : {"auto", True, False}, default "auto"
        Whether gradient evaluations keep their forward states for :meth:`linearize` ("auto":
        when the network stores its states, ``net.memory == "store"``, and they take at most
        ``MAX_STATE_BYTES``); without them a linearisation recomputes the forward sweep.

    Attributes
    ----------
    n_samples : int
        This process's samples.
    n_total : int
        The samples over all processes (the normalisation of every sum).
    offset : int
        The global number of this process's first sample.
    counts : dict
        ``gradients`` (gradient evaluations), ``values`` (cost evaluations, with or without
        a gradient), ``sweeps`` (passes over depth: a gradient 2, a cost or a linearisation 1;
        a linearisation without kept states does more work in its pass, as does a gradient
        with ``memory="recompute"``).

    Raises
    ------
    ValueError
        For malformed data or a term that lacks what it needs (as :meth:`Cost.prepare`).

    Notes
    -----
    Evaluating at other weights (``params=(W, b)``) leaves the network as it is; only
    :meth:`set_params` changes it. X and Y are checked once and then referenced, not copied:
    change them and build a new objective.

    References
    ----------
    docs/method.md; Baravdish et al. (2022), arXiv:2202.05766 (the cost, the adjoint and the
    sensitivity problems of the sNODE).

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=2, n_steps=5, seed=0)
    >>> X, y = snode.data.moons(50, seed=0)
    >>> obj = snode.Objective(net, snode.Cost(mse=0.0, ce=1.0, n_classes=2), X, labels=y)
    >>> J, gW, gb = obj.value_and_grad()
    >>> bool(np.isclose(obj.value(), J))
    True
    >>> 0.0 <= obj.accuracy() <= 1.0
    True
    >>> line = obj.linearize(obj.evaluate(), (-gW, -gb))   # the cost along -gradient
    >>> bool(line.slope < 0)                                # a descent direction
    True
    """

    def __init__(self, net: SNODE, cost: Cost, X: ArrayLike, Y: Optional[ArrayLike] = None,
                 labels: Optional[ArrayLike] = None, *, reducer: Optional[Reducer] = None,
                 keep_states: Union[bool, str] = "auto", block_size: Optional[int] = None,
                 check_input: bool = True) -> None:
        if not isinstance(net, SNODE):
            raise ValueError(f"net must be an snode.SNODE, got {type(net).__name__}")
        if not isinstance(cost, Cost):
            raise ValueError(f"cost must be an snode.Cost, got {cost!r}")
        reducer = check_reducer(reducer)
        error = None
        try:  # (with several processes, a bad share stops every one of them: see agree)
            if reducer.size > 1 and np.ndim(X) == 2 and np.shape(X)[0] == 0:
                batch = _empty_share(net, cost, X, Y, labels)
            else:
                batch = cost.prepare(net, X, Y, labels, check_input=check_bool(
                    check_input, "check_input"))
            if batch.labels is not None and batch.labels is labels:
                # (the caller's later changes would reach the core unchecked)
                batch = batch._replace(labels=np.array(batch.labels))
            if keep_states not in ("auto", True, False):
                raise ValueError(f"keep_states must be 'auto', True or False, got "
                                 f"{keep_states!r}")
            if block_size is not None:
                block_size = check_int(block_size, "block_size", 1)
        except ValueError as exc:
            error = exc
        agree(reducer, error, "the data of another process are malformed; see its message")
        if reducer.size > 1:
            same_everywhere(reducer, [
                ("the network", _network_settings(net)), ("the cost", repr(cost)),
                ("the block size", block_size), ("the data's columns", batch.X.shape[1]),
                ("the targets' columns", None if batch.Y is None else batch.Y.shape[1]),
                ("whether labels are given", batch.labels is None)])
        if block_size is None:
            block_size = block_size_for(total_samples(reducer, batch.n))
        self._setup(net, cost, batch, reducer, keep_states, block_size)

    def _setup(self, net, cost, batch, reducer, keep_states, block_size):
        self.net, self.cost, self.reducer = net, cost, reducer
        self.batch = batch
        self.keep_states = keep_states
        self.block_size = block_size
        self.n_samples = batch.n
        self._blocks = Blocks(reducer, self.n_samples, block_size)
        self.n_total, self.offset = self._blocks.n_total, self._blocks.offset
        if self.n_total < 1:
            raise ValueError("the batch has no samples on any process")
        self._scale = 1.0 / self.n_total
        self.counts = {"gradients": 0, "values": 0, "sweeps": 0}

    @property
    def eps(self) -> float:
        """The relative rounding of the network's outputs: the machine epsilon of its dtype
        (float64's 2.2e-16, float32's 1.2e-7), from which the line searches allow for the
        cost's rounding (:meth:`output_scale`)."""
        return float(np.finfo(self.net.dtype).eps)

    @property
    def X(self):
        """This process's inputs (N, m), as checked."""
        return self.batch.X

    @property
    def Y(self):
        """This process's targets (N, m') or None."""
        return self.batch.Y

    @property
    def labels(self):
        """This process's labels (N,) or None."""
        return self.batch.labels

    def subset(self, index: ArrayLike) -> "Objective":
        """The objective on the samples `index` of this one (a mini-batch, in that order): the
        same network, cost, reducer, block size and counts; normalised by the mini-batch's
        global size. Over several processes, `index` holds global sample numbers (the same on
        every process); the processes exchange the mini-batch's samples
        (``reducer.allgather``) and each takes its share of its blocks."""
        index = np.asarray(index)
        if index.dtype == bool:  # a mask: the samples it selects (global numbers over several)
            index = np.flatnonzero(index)
        red = self.reducer
        batch = self.batch
        if red.size > 1:
            batch, index = self._gather(index)
        sub = object.__new__(Objective)
        sub._setup(self.net, self.cost, batch.rows(index), red, self.keep_states,
                   self.block_size)
        sub.counts = self.counts
        return sub

    def _gather(self, index):
        # every process contributes the rows of the mini-batch it holds; all assemble the
        # whole mini-batch and keep their share of its blocks
        n, batch = self.n_samples, self.batch
        offset = self.offset if self.reducer.exact else int(self.reducer.offset(n))
        own = np.flatnonzero((index >= offset) & (index < offset + n))
        pieces = self.reducer.allgather((own, *batch.rows(index[own] - offset)))
        N = index.shape[0]
        X = np.empty((N, batch.X.shape[1]))
        Y = None if batch.Y is None else np.empty((N, batch.Y.shape[1]))
        labels = None if batch.labels is None else np.empty(N, dtype=batch.labels.dtype)
        seen = np.zeros(N, dtype=bool)
        for pos, xr, yr, lr in pieces:
            X[pos] = xr
            seen[pos] = True
            if Y is not None:
                Y[pos] = yr
            if labels is not None:
                labels[pos] = lr
        if not seen.all():
            raise ValueError("the mini-batch holds sample numbers that no process has (they "
                             f"must lie in [0, {self.n_total}))")
        return Batch(X, Y, labels), shard(N, self.reducer, self.block_size)

    # --- the point ---------------------------------------------------------------------------
    @property
    def h(self) -> float:
        """The network's depth step."""
        return self.net.h

    def params(self) -> tuple[NDArray[Any], NDArray[Any]]:
        """Copies of the network's weights, ``(W, b)``."""
        return self.net.get_params()

    def set_params(self, params: tuple[ArrayLike, ArrayLike]) -> None:
        """Set the network's weights to ``params = (W, b)`` (checked first; ValueError, with
        the weights unchanged, if malformed or not finite)."""
        self.net.set_params(params)

    def _point(self, params, copy=True):
        # the network's own arrays are copied (an evaluation keeps its point) unless the
        # evaluation is used at once and dropped
        if params is None:
            net = self.net
            params = (net.W.copy(), net.b.copy()) if copy else (net.W, net.b)
        return self.net.check_params(params)

    # --- values and gradients ----------------------------------------------------------------
    def _keep(self, keep):
        if keep is not None:
            return bool(keep)
        if self.keep_states is False or self.net.memory != "store":
            return False
        return (self.keep_states is True
                or self.net.states_nbytes(self.n_samples) <= MAX_STATE_BYTES)

    def evaluate(self, params: Optional[tuple[ArrayLike, ArrayLike]] = None, *, grad: bool = True,
                 input_grad: bool = False, keep: Optional[bool] = None) -> Evaluation:
        """The objective at `params` (default: the network's weights).

        Parameters
        ----------
        params : (W, b), optional
            Arrays of shapes (n_steps, width, width) and (n_steps, width).
        grad : bool, default True
            Compute the gradient (a forward and an adjoint sweep); else only the cost (one
            forward sweep).
        input_grad : bool
            Also dJ/dX of this process's samples (with `grad`).
        keep : bool, optional
            Keep the forward states for :meth:`linearize` (with `grad`); default by
            `keep_states`.

        Returns
        -------
        Evaluation

        Raises
        ------
        ValueError
            For malformed weights, or input_grad without grad.
        NonFiniteError
            If a sweep overflows or the cost is not finite.
        """
        if input_grad and not grad:
            raise ValueError("input_grad needs grad=True (the input gradient comes from the "
                             "adjoint sweep)")
        return self._evaluate(self._point(params), grad, input_grad, keep)

    def _evaluate(self, point, grad, input_grad, keep):
        self.counts["values"] += 1
        self.counts["sweeps"] += 2 if grad else 1
        self.counts["gradients"] += bool(grad)
        return evaluate(self.net, self.cost, self.batch, self._blocks, point, grad=grad,
                        input_grad=input_grad, keep=self._keep(keep) and bool(grad))

    def release(self, evaluation: Evaluation) -> None:
        """Declare that `evaluation` will not be linearised again: the memory of its forward
        states goes back to a pool for later evaluations (a fresh buffer of tens of megabytes
        costs its page faults on every evaluation)."""
        states, evaluation.states = evaluation.states, None
        for st in states if isinstance(states, tuple) else (states,):
            release_states(st)

    def value(self, params: Optional[tuple[ArrayLike, ArrayLike]] = None) -> float:
        """The cost J at `params` (default: the network's weights), from one forward sweep."""
        return self._evaluate(self._point(params, copy=False), False, False, False).value

    @overload
    def value_and_grad(self, params: Optional[tuple[ArrayLike, ArrayLike]] = ..., *,
                       input_grad: Literal[False] = ...) -> tuple[float, NDArray[Any], NDArray[Any]]: ...

    @overload
    def value_and_grad(self, params: Optional[tuple[ArrayLike, ArrayLike]] = ..., *,
                       input_grad: Literal[True]) -> tuple[float, NDArray[Any], NDArray[Any], NDArray[Any]]: ...

    def value_and_grad(self, params: Optional[tuple[ArrayLike, ArrayLike]] = None, *,
                       input_grad: bool = False) -> Union[tuple[float, NDArray[Any], NDArray[Any]], tuple[float, NDArray[Any], NDArray[Any], NDArray[Any]]]:
        """The cost and its exact gradient at `params` (default: the network's weights).

        Returns
        -------
        J : float
        gW : ndarray, shape (n_steps, width, width)
        gb : ndarray, shape (n_steps, width)
        gX : ndarray, shape (N, m)
            dJ/dX of this process's samples; only with `input_grad`.
        """
        ev = self._evaluate(self._point(params, copy=False), True, input_grad, False)
        return ev.value_and_grad(input_grad)

    def accuracy(self, params: Optional[tuple[ArrayLike, ArrayLike]] = None) -> float:
        """The fraction of samples (over all processes) whose largest output among the first
        n_classes is their label. Needs labels."""
        if self.labels is None:
            raise ValueError("accuracy needs labels (and a cost with n_classes)")
        C = self.cost.n_classes
        point = self._point(params, copy=False)
        self.counts["sweeps"] += 1
        correct, error = 0, None
        if self.n_samples:
            try:
                out = self.net.forward(self.X, params=point)
                correct = int(np.count_nonzero(out[:, :C].argmax(axis=1) == self.labels))
            except NonFiniteError as exc:
                error = exc
        agree(self.reducer, error)
        (correct,) = reduce_floats(self.reducer, correct)
        return correct / self.n_total

    def output_scale(self, evaluation):
        """``S = sum |dJ/dx(T)| |x(T)| + eps c/N sum |x(T)|^2`` over all processes' samples
        and the output components, at a gradient evaluation, with ``c = (mse + out + ce/2) /
        2`` a bound on half the loss's curvature in the outputs: the size of the terms the
        data cost sums, so that eps times it is the cost's rounding level even where the cost
        itself is far smaller (the first term: rounding of the outputs times the loss's slope;
        the second: its square times the curvature, which is what is left at a minimiser that
        fits the data to within rounding). The line searches' rounding allowance;
        docs/method.md, the sensitivity step.

        Raises
        ------
        ValueError
            For an evaluation without outputs (evaluate(grad=False)).
        """
        if not isinstance(evaluation, Evaluation) or evaluation.outputs is None:
            raise ValueError("output_scale needs a gradient evaluation (evaluate(grad=True))")
        (S,) = self._blocks.sum(lambda k: (self.output_scale_block(evaluation.outputs, k),),
                                lambda: (0.0,))
        return float(S)

    def output_scale_block(self, outputs, k):
        """:meth:`output_scale`'s sum over block k of this process's samples (`outputs` the
        evaluation's)."""
        sl = self._blocks.slice(k)
        b = self.batch.rows(sl)
        loss = self.cost.loss
        x = outputs[sl]
        _, g = loss.value(x, b.Y, b.labels, scale=self._scale, grad=True, check_input=False)
        flat = x.reshape(-1)
        c = loss.curvature_bound() * self._scale * self.eps
        # (summed in float64 also for a float32 network's outputs: their squares overflow
        # float32 from 1.8e19 on)
        return float(np.einsum("i,i->", np.abs(g).ravel(), np.abs(flat), dtype=np.float64)
                     + c * np.einsum("i,i->", flat, flat, dtype=np.float64))

    # --- the linearised model ----------------------------------------------------------------
    def linearize(self, evaluation: Evaluation,
                  direction: tuple[ArrayLike, ArrayLike]) -> "LinearizedCost":
        """The cost along ``params + eta direction`` with x(T) replaced by its linearisation
        ``x(T) + eta xi(T)`` (the sensitivity sweep along `direction`).

        Parameters
        ----------
        evaluation : Evaluation
            A gradient evaluation (its outputs and gradient; its kept forward states if any).
        direction : (ndarray, ndarray)
            (dW, db), the shapes of the weights.

        Returns
        -------
        LinearizedCost
        """
        if not isinstance(evaluation, Evaluation) or evaluation.grad is None \
                or evaluation.outputs is None:
            raise ValueError("linearize needs a gradient evaluation (evaluate(grad=True))")
        if evaluation.outputs.shape[0] != self.n_samples:
            raise ValueError("the evaluation belongs to another objective (its samples differ)")
        dW, db = self.net.check_direction(direction)
        # the tangent of the direction scaled to unit max-norm (the sweep is linear in it),
        # so that a long direction cannot overflow it
        scale = max(float(np.abs(dW).max()), float(np.abs(db).max()))
        if not scale > 0.0:
            raise ValueError("the direction must be nonzero")
        u = (dW / scale, db / scale)
        self.counts["sweeps"] += 1
        states = evaluation.states
        error = None
        try:
            if self.n_samples == 0:  # (a process without samples takes part in the sums)
                xi = np.empty((0, self.net.width))
            elif states is None:
                xi = self.net.sensitivity(self.X, u[0], u[1], params=evaluation.params)
            elif isinstance(states, tuple):
                xi = joined([self.net.sensitivity(None, u[0], u[1], states=st)
                             for st in states], (0, self.net.width))
            else:
                xi = self.net.sensitivity(None, u[0], u[1], states=states)
        except NonFiniteError as exc:
            if type(self.reducer) is LocalReducer:
                raise
            error, xi = exc, np.zeros((self.n_samples, self.net.width))  # (raised below)
        GW, Gb = evaluation.grad
        slope_u = float(np.einsum("i,i->", GW.ravel(), u[0].ravel(), dtype=np.float64)
                        + np.einsum("i,i->", Gb.ravel(), u[1].ravel(), dtype=np.float64))
        return LinearizedCost(self, evaluation, u, scale, xi, slope_u, error)


def as_objective(net, cost=None, X=None, Y=None, labels=None, reducer=None):
    """`net` itself when it is an Objective (and nothing else is given), else the Objective of
    (net, cost, X, Y, labels, reducer): what the optimisers and the scipy interface accept.

    Raises
    ------
    ValueError
        For an Objective with other arguments, or a network without a cost and inputs.
    """
    if isinstance(net, Objective):
        if any(a is not None for a in (cost, X, Y, labels, reducer)):
            raise ValueError("pass either an Objective, or a network, a cost, data and a "
                             "reducer")
        return net
    if cost is None or X is None:
        raise ValueError("a network needs a cost and inputs X (or pass an Objective)")
    return Objective(net, cost, X, Y, labels, reducer=reducer)


def _network_settings(net):
    """What defines a network apart from its weights (compared between processes)."""
    t = net.tableau
    return (net.width, net.n_steps, float(net.T), net.activation, t.a.tobytes(),
            t.b.tobytes(), net.memory)


def _empty_share(net, cost, X, Y, labels):
    """The batch of a process without samples (several processes): empty arrays of the
    right widths."""
    m = np.shape(X)[1]
    if not 1 <= m <= net.width:
        raise ValueError(f"X must have 1 to {net.width} features, got {m}")
    X = np.empty((0, m))
    if Y is not None:
        Y = np.empty((0, np.shape(Y)[1] if np.ndim(Y) == 2 else 1))
    if labels is not None or cost.n_classes is not None:
        labels = np.empty(0, dtype=np.int64)
    return Batch(X, Y, labels)


class LinearizedCost:
    """The cost along a line with x(T) linearised: ``phi(eta)`` and its derivatives.

    ``phi(eta) = J(x(T) + eta xi(T)) + P(theta + eta d)``: the data terms at the linearised
    outputs and the weight penalty on the line (exact: it is quadratic). ``phi(0)`` is the
    cost and ``phi'(0)`` the exact slope ``<dJ/dtheta, d>`` (the adjoint and the sensitivity
    give the same number up to rounding; the exact one is used, so that a line search's
    sufficient-decrease test and this model agree at 0). Without the cross-entropy term phi
    is a quadratic (`quadratic`), whose minimiser is ``-slope / curvature``. Built by
    :meth:`Objective.linearize`; its sums over samples pass through the objective's reducer.

    Attributes
    ----------
    value : float
        phi(0), the cost.
    slope : float
        phi'(0).
    quadratic : bool
        True without the cross-entropy term.
    curvature : float
        phi''(0) (constant when `quadratic`).
    output_rate : float
        The root mean square over samples of ``|xi(T)|``, the change of x(T) per unit step along
        the direction (the scale of a trust region on the linearisation).
    output_scale : float
        :meth:`Objective.output_scale` at the evaluation: the size of the terms whose
        rounding the data cost carries (eps times it is the cost's rounding level when x(T)
        has relative rounding eps, even where the cost itself is far smaller).

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=2, n_steps=5, seed=0)
    >>> X, y = snode.data.moons(50, seed=0)
    >>> obj = snode.Objective(net, snode.Cost(mse=0.0, ce=1.0, n_classes=2), X, labels=y)
    >>> ev = obj.evaluate()                  # value, gradient and the kept forward states
    >>> gW, gb = ev.grad
    >>> line = obj.linearize(ev, (-gW, -gb))
    >>> phi, dphi, d2phi = line(0.0)        # the value and two derivatives at eta = 0
    >>> bool(np.isclose(phi, ev.value)) and bool(np.isclose(dphi, line.slope))
    True
    """

    def __init__(self, objective, evaluation, unit, scale, xi, slope_u, error=None):
        # computed in the variable t = eta * scale along the unit direction (no overflow for
        # long or short directions), reported in eta
        self._obj, self._scale = objective, scale
        cost, net = objective.cost, objective.net
        self.value = evaluation.value
        self._slope_u = slope_u
        self.slope = slope_u * scale
        self.quadratic = cost.ce == 0.0
        _, self._p1, self._p2 = cost.penalty_along(net, evaluation.params, unit)
        blocks, sc = objective._blocks, objective._scale
        self._blocks = blocks
        self._lines, self._last = {}, (None, None)
        for k in range(blocks.first, blocks.stop):
            sl = blocks.slice(k)
            b = objective.batch.rows(sl)
            self._lines[k] = cost.loss.along(evaluation.outputs[sl], xi[sl], b.Y, b.labels,
                                             scale=sc, check_input=False)

        # at 0, with two more sums: the mean of |xi(T)|^2 over samples, and the size of the
        # terms the data cost sums (Objective.output_scale)
        def at_zero(k):
            flat = xi[blocks.slice(k)].reshape(-1)
            return (*self._lines[k](0.0),
                    float(np.einsum("i,i->", flat, flat, dtype=np.float64)) * sc,
                    objective.output_scale_block(evaluation.outputs, k))

        *self._d0, ms, self.output_scale = (float(v) for v in blocks.sum(
            at_zero, lambda: (0.0,) * 5, error))
        self.output_rate = np.sqrt(max(ms, 0.0)) * scale
        self._curv_u = self._d0[2] + self._p2
        self.curvature = self._curv_u * scale * scale

    def _data(self, t):
        return tuple(float(v) for v in self._blocks.sum(lambda k: self._lines[k](t),
                                                        lambda: (0.0,) * 3))

    def __call__(self, eta: float) -> tuple[float, float, float]:
        """``(phi(eta), phi'(eta), phi''(eta))``."""
        s = self._scale
        t = eta * s
        if eta == 0.0:
            return self.value, self.slope, self.curvature
        if self.quadratic:
            return (self.value + eta * self.slope + 0.5 * eta * eta * self.curvature,
                    self.slope + eta * self.curvature, self.curvature)
        if eta == self._last[0]:  # (the step search's last point, asked again by the radius)
            return self._last[1]
        f, d1, d2 = self._data(t)
        f0, d10, _ = self._d0
        phi = self.value + (f - f0) + (self._p1 * t + 0.5 * self._p2 * t * t)
        dphi = self.slope + (d1 - d10 + self._p2 * t) * s
        self._last = (eta, (phi, dphi, (d2 + self._p2) * s * s))
        return self._last[1]

    def minimizer(self) -> Optional[float]:
        """The minimiser ``-slope / curvature`` of a quadratic phi; None when phi is not a
        quadratic (with the cross-entropy: see ``snode.optim.linesearch.sensitivity_step``)
        or has no positive curvature."""
        if not (self.quadratic and self._curv_u > 0.0):
            return None
        return -self._slope_u / self._curv_u / self._scale
