"""A batch's cost and gradient at one point, as sums over blocks of samples.

The one place where the data terms of a checked batch (:class:`snode.loss.Batch`) are formed
block by block through the network's sweeps and added along the tree of :mod:`snode.reduce`
(through its reducer), and where the weight penalty is added, once, after the reduction.
:class:`snode.Objective` calls it for the optimisers; :class:`snode.Cost`'s shorthands call it
for one process. docs/method.md (the cost functional, sums over samples).
"""
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np
from numpy.typing import NDArray

from .exceptions import NonFiniteError
from .model import all_finite
from .reduce import LocalReducer

__all__ = ["Evaluation", "evaluate", "joined"]


@dataclass(slots=True, repr=False)
class Evaluation:
    """The objective at one point: what :meth:`snode.Objective.evaluate` returns.

    Attributes
    ----------
    params : (ndarray, ndarray)
        The weights (W, b) evaluated at: references to the arrays passed in, or to the
        network's own (which :meth:`Objective.set_params` overwrites); do not change them while
        the evaluation is in use.
    value : float
        The cost J (over all processes' samples, with the penalty).
    grad : (ndarray, ndarray) or None
        dJ/dW (n_steps, width, width) and dJ/db (n_steps, width), when asked for.
    input_grad : ndarray, shape (N, m), or None
        dJ/dX for this process's samples, when asked for.
    outputs : ndarray, shape (N, width), or None
        x(T) of this process's samples (with the gradient).
    states : ForwardStates, tuple of ForwardStates, or None
        The forward states kept for a linearisation at this point (one per block of this
        process's samples when it holds several).

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=2, n_steps=5, seed=0)
    >>> X, y = snode.data.moons(50, seed=0)
    >>> obj = snode.Objective(net, snode.Cost(mse=0.0, ce=1.0, n_classes=2), X, labels=y)
    >>> ev = obj.evaluate()
    >>> bool(np.isclose(ev.value, obj.value()))
    True
    >>> [g.shape for g in ev.grad]
    [(5, 2, 2), (5, 2)]
    >>> obj.release(ev)                      # the kept states' memory back for reuse
    """

    params: tuple[NDArray[Any], NDArray[Any]]
    value: float
    grad: Optional[tuple[NDArray[Any], NDArray[Any]]] = None
    input_grad: Optional[NDArray[Any]] = None
    outputs: Optional[NDArray[Any]] = None
    states: Any = None

    def value_and_grad(self, input_grad: bool = False) -> Union[tuple[float, NDArray[Any], NDArray[Any]],
                                                                  tuple[float, NDArray[Any], NDArray[Any], NDArray[Any]]]:
        """``(value, gW, gb)``, with `input_grad` also the input gradient: what
        ``value_and_grad`` of :class:`snode.Cost` and :class:`snode.Objective` return (an
        evaluation made with the gradient, and the input gradient where asked)."""
        assert self.grad is not None  # (an evaluation with grad=True)
        gW, gb = self.grad
        if input_grad:
            assert self.input_grad is not None
            return self.value, gW, gb, self.input_grad
        return self.value, gW, gb

    def __repr__(self) -> str:
        return (f"Evaluation(value={self.value!r}, grad={self.grad is not None}, "
                f"states={self.states is not None})")


def evaluate(net: Any, cost: Any, batch: Any, blocks: Any, point: tuple[NDArray[Any], NDArray[Any]], *,
             grad: bool = True, input_grad: bool = False, keep: bool = False) -> Evaluation:
    """The cost of `batch` at the weights `point` (checked), over this process's blocks.

    Parameters
    ----------
    net : SNODE
    cost : Cost
        Its loss gives the data terms, its penalty is added after the reduction.
    batch : Batch
        This process's samples, checked.
    blocks : snode.reduce.Blocks
        The blocks of the samples (the normalisation ``1 / blocks.n_total`` of every sum).
    point : (ndarray, ndarray)
        The weights, checked (:meth:`SNODE.check_params`).
    grad, input_grad, keep : bool
        The gradient (a forward and an adjoint sweep; else one forward sweep), dJ/dX of this
        process's samples, and the forward states kept for a linearisation.

    Returns
    -------
    Evaluation

    Raises
    ------
    NonFiniteError
        If a sweep overflows or the cost or gradient is not finite.
    """
    loss, scale = cost.loss, 1.0 / blocks.n_total
    if not grad:
        def value(k: int) -> tuple[float]:
            b = batch.rows(blocks.slice(k))
            return (net.data_cost(b.X, loss, b.Y, b.labels, scale=scale, params=point,
                                  check_input=False)[0],)

        (J,) = blocks.sum(value, lambda: (0.0,))
        return Evaluation(point, _with_penalty(net, cost, float(J), point))
    parts: list[Any] = []

    def gradient(k: int) -> tuple[Any, ...]:
        b = batch.rows(blocks.slice(k))
        r = net.data_gradient(b.X, loss, b.Y, b.labels, scale=scale, params=point,
                              input_grad=input_grad, outputs=True, keep=keep, check_input=False)
        parts.append(r)
        return r.value, r.gW, r.gb

    shapes = (net.n_steps, net.width, net.width), (net.n_steps, net.width)
    J, gW, gb = _reduced(blocks.sum(gradient, lambda: (0.0, *map(np.zeros, shapes))), *shapes)
    cost.penalty_grad(net, gW, gb, params=point)
    J = _with_penalty(net, cost, J, point)
    # (the core checked each block's sums; these add blocks, processes or a penalty)
    if not (len(parts) == 1 and type(blocks.reducer) is LocalReducer and cost.decay == 0
            and cost.smooth == 0) and not (all_finite(gW) and all_finite(gb)):
        raise NonFiniteError("the gradient is not finite: the weights are too large")
    one = len(parts) == 1
    outputs = parts[0].outputs if one else joined([r.outputs for r in parts], (0, net.width))
    gX = None
    if input_grad:
        gX = parts[0].input_grad if one else joined([r.input_grad for r in parts],
                                                     (0, batch.X.shape[1]))
    states = None
    if keep and parts:
        states = parts[0].states if one else tuple(r.states for r in parts)
        point = parts[0].states.params  # (copies, if the point was the network's own)
    return Evaluation(point, J, (gW, gb), gX, outputs, states)


def _with_penalty(net: Any, cost: Any, J: float, point: tuple[NDArray[Any], NDArray[Any]]) -> float:
    J = J + cost.penalty(net, point)
    if not np.isfinite(J):
        raise NonFiniteError("the cost is not finite: the weights or outputs are too large")
    return float(J)


def joined(arrays: Sequence[NDArray[Any]], empty: tuple[int, ...]) -> NDArray[Any]:
    """The arrays of this process's blocks, one after the other (`empty`: the shape of none)."""
    return np.concatenate(arrays) if arrays else np.empty(empty)


def _reduced(parts: Any, *shapes: tuple[int, ...]) -> tuple[float, NDArray[Any], NDArray[Any]]:
    """The cost and gradient a reducer returned, checked: (float, ndarray, ndarray)."""
    try:
        J, gW, gb = parts
        J = float(J)
        gW = np.ascontiguousarray(gW, dtype=np.float64)
        gb = np.ascontiguousarray(gb, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("the reducer's allreduce must return its parts, summed, in order "
                         "(see snode.Reducer)") from None
    if (gW.shape, gb.shape) != shapes:
        raise ValueError(f"the reducer returned arrays of shapes {gW.shape}, {gb.shape} for "
                         f"{shapes[0]}, {shapes[1]}")
    return J, gW, gb
