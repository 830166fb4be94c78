"""The cost functional: which terms, with which weights (docs/method.md, the cost functional).

The data terms are computed by the compiled core (through :class:`snode.SNODE`); the weight
penalty is the depth operator of :mod:`snode.sobolev`. :class:`snode.Objective` binds a cost
to a network and a batch; ``cost(net, X, ...)`` and ``cost.value_and_grad(net, X, ...)`` are
shorthands for it.
"""
from dataclasses import dataclass

from ._validate import check_int, check_real
from .model import output_loss
from .objective import Objective
from .sobolev import _apply, _inner

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
    """

    mse: float = 1.0
    ce: float = 0.0
    out: float = 0.0
    decay: float = 0.0
    smooth: float = 0.0
    n_classes: int = None

    def __post_init__(self):
        for name in ("mse", "ce", "out", "decay", "smooth"):
            object.__setattr__(self, name, check_real(getattr(self, name), name, minimum=0.0))
        if self.n_classes is not None:
            object.__setattr__(self, "n_classes",
                               check_int(self.n_classes, "n_classes", minimum=1))
        if self.ce > 0 and self.n_classes is None:
            raise ValueError("the cross-entropy term (ce > 0) needs n_classes")

    # --- inputs ------------------------------------------------------------------------------
    def prepare(self, net, X, Y=None, labels=None):
        """Check and convert a batch once: returns (X, Y, labels).

        Labels are kept (and checked) when the cost has n_classes; otherwise, when no term
        uses them, they are dropped.

        Raises
        ------
        ValueError
            Naming what is wrong with X, Y or labels, or what a term lacks.
        """
        X = net.check_inputs(X)
        if self.n_classes is None and not (self.ce > 0 or (self.mse > 0 and Y is None)):
            labels = None
        Y, labels = net.check_targets(self, X.shape[0], Y, labels)
        return X, Y, labels

    # --- the weight penalty (docs/method.md: decay and smooth are the depth operator) --------
    def _penalised(self):
        return self.decay > 0 or self.smooth > 0

    def penalty(self, net, params=None):
        """The weight terms (decay, smooth) of J at the network's weights or at `params`."""
        if not self._penalised():
            return 0.0
        p = (net.W, net.b) if params is None else params
        return 0.5 * _inner(p, p, net.h, self.decay, self.smooth)

    def penalty_grad(self, net, gW, gb, params=None):
        """Add the gradient of the weight terms (at the network's weights or at `params`) to
        gW, gb in place."""
        if not self._penalised():
            return
        pW, pb = _apply((net.W, net.b) if params is None else params, net.h, self.decay,
                        self.smooth)
        gW += pW
        gb += pb

    def penalty_along(self, net, params, direction):
        """The penalty on the line ``params + eta direction``: ``P(eta) = p0 + p1 eta +
        p2 eta^2 / 2``; returns (p0, p1, p2)."""
        if not self._penalised():
            return 0.0, 0.0, 0.0
        h = net.h
        return (0.5 * _inner(params, params, h, self.decay, self.smooth),
                _inner(params, direction, h, self.decay, self.smooth),
                _inner(direction, direction, h, self.decay, self.smooth))

    def data_cost(self, outputs, Y=None, labels=None):
        """The data terms (mse, ce, out) of J at given outputs x(T) of shape (N, width)."""
        return output_loss(outputs, self, Y, labels)

    # --- shorthands for an Objective --------------------------------------------------------
    def __call__(self, net, X, Y=None, labels=None):
        """The cost J (a float)."""
        return Objective(net, self, X, Y, labels).value()

    def value_and_grad(self, net, X, Y=None, labels=None, *, input_grad=False):
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
        J : float
        gW : ndarray, shape (n_steps, width, width)
        gb : ndarray, shape (n_steps, width)
        gX : ndarray, shape (N, m)
            Only with `input_grad`.

        Raises
        ------
        ValueError
            For malformed data.
        NonFiniteError
            If a sweep overflows.
        """
        return Objective(net, self, X, Y, labels).value_and_grad(input_grad=input_grad)
