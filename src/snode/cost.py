"""The cost functional: which terms, with which weights (docs/method.md, the cost functional).

The data terms are the loss on the outputs (:class:`snode.loss.Loss`, computed by the compiled
core through :class:`snode.SNODE`); the weight penalty is the depth operator of
:mod:`snode.sobolev`. :class:`snode.Objective` binds a cost to a network and a batch for the
optimisers; ``cost(net, X, ...)`` and ``cost.value_and_grad(net, X, ...)`` evaluate it on one
process's batch directly (:func:`snode.evaluation.evaluate`, the objective's own sums).
"""
from dataclasses import dataclass
import functools
from typing import Any, Literal, Optional, Union, overload

from numpy.typing import ArrayLike, NDArray

from ._validate import check_range, check_real
from .evaluation import Evaluation, evaluate
from .loss import Batch, Loss
from .model import SNODE
from .reduce import Blocks, LocalReducer, block_size_for
from .sobolev import DepthOperator, Pair

__all__ = ["Cost"]


@dataclass(frozen=True)
class Cost:
    """The cost J of an sNODE on a batch, a weighted sum of five terms.

    ``J = mse/(2N) sum |x(T) - Y|^2 + ce/N sum CE(softmax(x(T)[:C]), c) + out/(2N) sum |x(T)|^2
    + decay/2 h sum_i (|W_i|^2 + |b_i|^2) + smooth/2 sum_i (|W_{i+1}-W_i|^2 + |b_{i+1}-b_i|^2)/h``

    Parameters
    ----------
    mse, ce, out, decay, smooth : float >= 0
        Weights of the squared error, the cross-entropy of the first `n_classes` outputs, the
        output energy, the L2(0, T) weight decay and the H1 roughness penalty in depth.
    n_classes : int, optional
        C, the number of classes; needed when ``ce > 0``, and to build one-hot targets from
        labels for the squared error. At most the network's width.

    Raises
    ------
    ValueError
        For a negative or non-finite weight, or ``ce > 0`` without n_classes.

    Notes
    -----
    Calling ``cost(net, X, Y=None, labels=None)`` returns J;
    ``cost.value_and_grad(net, X, Y=None, labels=None)`` returns ``(J, gW, gb)``, the exact
    gradient of the discrete J with respect to ``net.W`` and ``net.b``.

    Targets ``Y`` have shape (N, m) with m <= width and are zero-padded. When ``mse > 0`` and
    ``Y`` is None, the targets are the one-hot vectors of ``labels`` in the first C components.

    References
    ----------
    docs/method.md; Baravdish et al. (2022), arXiv:2202.05766, where the cost functional
    with loss and penalty terms is set up for the sNODE.

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=3, n_steps=5, seed=0)
    >>> X = np.random.default_rng(0).normal(size=(8, 3))
    >>> Y = np.zeros((8, 3))
    >>> cost = snode.Cost(mse=1.0, decay=1e-4)
    >>> J, gW, gb = cost.value_and_grad(net, X, Y)      # the exact discrete gradient
    >>> gW.shape == net.W.shape and gb.shape == net.b.shape
    True
    >>> bool(np.isclose(cost(net, X, Y), J))
    True
    """

    mse: float = 1.0
    ce: float = 0.0
    out: float = 0.0
    decay: float = 0.0
    smooth: float = 0.0
    n_classes: Optional[int] = None

    def __post_init__(self) -> None:
        loss = Loss(self.mse, self.ce, self.out, self.n_classes)  # (checks its terms)
        for name in ("mse", "ce", "out", "n_classes"):
            object.__setattr__(self, name, getattr(loss, name))
        for name in ("decay", "smooth"):
            object.__setattr__(self, name, check_real(getattr(self, name), name, minimum=0.0))
        object.__setattr__(self, "_loss", loss)

    @property
    def loss(self) -> Loss:
        """The data terms (:class:`snode.loss.Loss`): mse, ce, out and n_classes."""
        loss: Loss = self.__dict__["_loss"]
        return loss

    # --- inputs ------------------------------------------------------------------------------
    def prepare(self, net: SNODE, X: ArrayLike, Y: Optional[ArrayLike] = None,
                labels: Optional[ArrayLike] = None, *, check_input: bool = True) -> Batch:
        """Check and convert a batch once: returns a :class:`snode.loss.Batch`, the tuple
        (X, Y, labels).

        Labels are kept (and checked) when the cost has n_classes; otherwise, when no term
        uses them, they are dropped. `check_input=False` trusts the arrays' values (finite,
        labels in range) and only converts them, for data checked already.

        Raises
        ------
        ValueError
            Naming what is wrong with X, Y or labels, or what a term lacks.
        """
        Xc = net.check_inputs(X, check_finite=check_input)
        Yc, labels_c = self.loss.check_targets(Xc.shape[0], net.width, Y, labels,
                                               drop_unused=True, check_values=check_input)
        if check_input:
            check_range(Yc, "Y", net.dtype)
        return Batch(Xc, Yc, labels_c)

    # --- the weight penalty (docs/method.md: decay and smooth are the depth operator) --------
    def _operator(self, net: SNODE) -> Optional[DepthOperator]:
        """The depth operator of the penalty, None when it is zero."""
        if not (self.decay > 0 or self.smooth > 0):
            return None
        return _depth_operator(net.h, self.decay, self.smooth)

    def penalty(self, net: SNODE, params: Optional[Pair] = None) -> float:
        """The weight terms (decay, smooth) of J at the network's weights or at `params`."""
        A = self._operator(net)
        if A is None:
            return 0.0
        p = (net.W, net.b) if params is None else params
        return 0.5 * A.inner(p, p)

    def penalty_grad(self, net: SNODE, gW: NDArray[Any], gb: NDArray[Any],
                     params: Optional[Pair] = None) -> None:
        """Add the gradient of the weight terms (at the network's weights or at `params`) to
        gW, gb in place."""
        A = self._operator(net)
        if A is None:
            return
        pW, pb = A.apply((net.W, net.b) if params is None else params)
        gW += pW
        gb += pb

    def penalty_along(self, net: SNODE, params: Pair,
                      direction: Pair) -> tuple[float, float, float]:
        """The penalty on the line ``params + eta direction``: ``P(eta) = p0 + p1 eta +
        p2 eta^2 / 2``; returns (p0, p1, p2)."""
        A = self._operator(net)
        if A is None:
            return 0.0, 0.0, 0.0
        return (0.5 * A.inner(params, params), A.inner(params, direction),
                A.inner(direction, direction))

    def data_cost(self, outputs: NDArray[Any], Y: Optional[NDArray[Any]] = None,
                  labels: Optional[NDArray[Any]] = None) -> float:
        """The data terms (mse, ce, out) of J at given outputs x(T) of shape (N, width)."""
        return float(self.loss.value(outputs, Y, labels))

    # --- one process's batch, directly ------------------------------------------------------
    def _evaluate(self, net: SNODE, X: ArrayLike, Y: Optional[ArrayLike],
                  labels: Optional[ArrayLike], grad: bool, input_grad: bool = False) -> Evaluation:
        if not isinstance(net, SNODE):
            raise ValueError(f"net must be an snode.SNODE, got {type(net).__name__}")
        batch = self.prepare(net, X, Y, labels)
        blocks = Blocks(LocalReducer(), batch.n, block_size_for(batch.n))
        return evaluate(net, self, batch, blocks, net.check_params((net.W, net.b)),
                        grad=grad, input_grad=input_grad)

    def __call__(self, net: SNODE, X: ArrayLike, Y: Optional[ArrayLike] = None,
                 labels: Optional[ArrayLike] = None) -> float:
        """The cost J (a float), as ``snode.Objective(net, cost, X, Y, labels).value()``."""
        return self._evaluate(net, X, Y, labels, grad=False).value

    @overload
    def value_and_grad(self, net: SNODE, X: ArrayLike, Y: Optional[ArrayLike] = ...,
                       labels: Optional[ArrayLike] = ..., *,
                       input_grad: Literal[False] = ...) -> tuple[float, NDArray[Any], NDArray[Any]]: ...

    @overload
    def value_and_grad(self, net: SNODE, X: ArrayLike, Y: Optional[ArrayLike] = ...,
                       labels: Optional[ArrayLike] = ..., *,
                       input_grad: Literal[True]) -> tuple[float, NDArray[Any], NDArray[Any], NDArray[Any]]: ...

    def value_and_grad(self, net: SNODE, X: ArrayLike, Y: Optional[ArrayLike] = None,
                       labels: Optional[ArrayLike] = None, *, input_grad: bool = False
                       ) -> Union[tuple[float, NDArray[Any], NDArray[Any]], tuple[float, NDArray[Any], NDArray[Any], NDArray[Any]]]:
        """The cost and its exact gradient.

        Parameters
        ----------
        net : SNODE
        X : array_like, shape (N, m)
        Y : array_like, shape (N, m'), optional
        labels : array_like of int, shape (N,), optional
        input_grad : bool
            Also return dJ/dX, shape (N, m), from the same adjoint sweep.

        Returns
        -------
        (J, gW, gb) or (J, gW, gb, gX)
            As :meth:`snode.Objective.value_and_grad`: the cost (a float), its gradient with
            respect to W (n_steps, width, width) and b (n_steps, width), and with
            `input_grad` dJ/dX (N, m).

        Raises
        ------
        ValueError
            For malformed data.
        NonFiniteError
            If a sweep overflows.
        """
        ev = self._evaluate(net, X, Y, labels, grad=True, input_grad=input_grad)
        return ev.value_and_grad(input_grad)


@functools.lru_cache(maxsize=32)
def _depth_operator(h: float, mass: float, stiff: float) -> DepthOperator:
    # (an operator is immutable: one per step and weights, not one per penalty evaluation,
    # which checked its parameters several times an iteration)
    return DepthOperator(h, mass, stiff)
