"""The loss on the outputs x(T): its terms, the targets each term needs, and its values.

The data terms of the cost of a batch of N samples (docs/method.md, the cost functional) are

    mse/(2N) sum |x(T) - Y|^2 + ce/N sum CE(softmax(x(T)[:C]), c) + out/(2N) sum |x(T)|^2,

with targets Y (zero-padded to the width) or, without them, the one-hot vectors of the labels
c in the first C components. :class:`Loss` holds the terms' weights and is the one place that
says which terms need what (:meth:`Loss.check_targets`); the compiled core holds the one
implementation of the values (also inside the gradient sweep, through :class:`snode.SNODE`).
:class:`snode.Cost` adds the weight penalties.
"""
from collections import namedtuple
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import _kernels
from ._validate import as_float_array, as_labels, check_int, check_real

__all__ = ["Loss", "Batch", "output_loss", "output_loss_along", "OutputLine", "softmax"]


class Batch(namedtuple("Batch", "X Y labels")):
    """A batch of samples checked once at the public boundary (:meth:`snode.Cost.prepare`),
    which then flows down unchecked: inputs X (N, m) float64, targets Y (N, m') float64 or
    None, labels (N,) int64 or None; C-contiguous arrays."""

    __slots__ = ()

    def rows(self, index):
        """The batch of the samples `index` (a slice: views; an index array: copies)."""
        Y, labels = self.Y, self.labels
        return Batch(self.X[index], None if Y is None else Y[index],
                     None if labels is None else labels[index])

    @property
    def n(self):
        """The number of samples."""
        return self.X.shape[0]


@dataclass(frozen=True)
class Loss:
    """The data terms of the cost, on the outputs x(T).

    Parameters
    ----------
    mse, ce, out : float >= 0
        Weights of the squared error, the softmax cross-entropy of the first `n_classes`
        outputs and the output energy.
    n_classes : int, optional
        C: needed when ``ce > 0``, and to build one-hot targets from labels for the squared
        error.

    Raises
    ------
    ValueError
        For a negative or non-finite weight, or ``ce > 0`` without n_classes.
    """

    mse: float = 1.0
    ce: float = 0.0
    out: float = 0.0
    n_classes: Optional[int] = None

    def __post_init__(self):
        for name in ("mse", "ce", "out"):
            object.__setattr__(self, name, check_real(getattr(self, name), name, minimum=0.0))
        if self.n_classes is not None:
            object.__setattr__(self, "n_classes",
                               check_int(self.n_classes, "n_classes", minimum=1))
        if self.ce > 0 and self.n_classes is None:
            raise ValueError("the cross-entropy term (ce > 0) needs n_classes")

    def check_targets(self, N, width, Y=None, labels=None, *, drop_unused=False,
                      check_values=True):
        """The targets of N samples of a network of the given width, checked for these terms:
        returns (Y, labels) as float64 (N, m) and int64 (N,) arrays, or None.

        Y : (N, m) floats, 1 <= m <= width; labels : (N,) integers in [0, n_classes).
        With `drop_unused`, labels that no term can use (no n_classes, and Y given or no
        squared error) are dropped instead of refused. `check_values=False` checks shapes and
        types only (for data whose values were checked already; a label out of range still
        raises ValueError from the core).

        Raises
        ------
        ValueError
            If a term lacks what it needs (the cross-entropy needs labels; the squared error
            needs Y or labels), labels come without n_classes, n_classes exceeds the width,
            or an array is malformed.
        """
        C = self.n_classes
        if drop_unused and C is None and not (self.ce > 0 or (self.mse > 0 and Y is None)):
            labels = None
        if C is not None and C > width:
            raise ValueError(f"n_classes = {C} exceeds the width {width}: the classes are read "
                             "from the first n_classes outputs")
        if Y is not None:
            Y = as_float_array(Y, "Y", ndim=2, allow_nonfinite=not check_values)
            if Y.shape[0] != N or not 1 <= Y.shape[1] <= width:
                raise ValueError(f"Y must have shape ({N}, m) with 1 <= m <= {width}, got "
                                 f"{Y.shape}")
        if labels is not None:
            if C is None:
                raise ValueError("labels need a cost with n_classes")
            labels = as_labels(labels, N, C, check_range=check_values)
        if self.ce > 0 and labels is None:
            raise ValueError("the cross-entropy term (ce > 0) needs labels")
        if self.mse > 0 and Y is None and labels is None:
            raise ValueError("the squared-error term (mse > 0) needs targets Y or labels")
        return Y, labels

    @property
    def terms(self):
        """The weights as the compiled core takes them: (mse, ce, out, C or 0)."""
        return self.mse, self.ce, self.out, self.n_classes or 0

    def curvature_bound(self):
        """``(mse + out + ce/2) / 2``: a bound on half the loss's second derivative in the
        outputs (per sample, before the 1/N)."""
        return 0.5 * (self.mse + self.out + 0.5 * self.ce)

    def value(self, outputs, Y=None, labels=None, *, scale=None, grad=False,
              check_input=True):
        """The data terms at given outputs x(T) (N, d): their sum over the samples times
        `scale` (default 1/N); with `grad`, also their gradient with respect to the outputs,
        (N, d). `check_input=False` skips the checks, for arrays already checked."""
        if check_input:
            outputs = as_float_array(outputs, "outputs", ndim=2)
            Y, labels = self.check_targets(outputs.shape[0], outputs.shape[1], Y, labels)
        scale = 1.0 / max(outputs.shape[0], 1) if scale is None else scale
        # (the loss is formed in float64, also on a float32 network's outputs)
        outputs = np.ascontiguousarray(outputs, dtype=np.float64)
        J, g = _kernels.loss(outputs, Y, labels, *self.terms, scale, bool(grad))
        return (J, g) if grad else J

    def along(self, outputs, xi, Y=None, labels=None, *, scale, check_input=True):
        """The data terms on the line ``x + eta xi`` of outputs, as an :class:`OutputLine`."""
        return OutputLine(outputs, xi, self, Y, labels, scale=scale, check_input=check_input)


def as_loss(loss):
    """`loss` as a :class:`Loss`: itself, or the loss terms of any object with the fields
    mse, ce, out and n_classes (a :class:`snode.Cost`)."""
    if isinstance(loss, Loss):
        return loss
    own = getattr(loss, "loss", None)
    if isinstance(own, Loss):
        return own
    return Loss(loss.mse, loss.ce, loss.out, loss.n_classes)


def output_loss(outputs, loss, Y=None, labels=None, *, scale=None, grad=False):
    """The data terms of `loss` at given outputs x(T).

    Parameters
    ----------
    outputs : array_like, shape (N, d)
    loss : Loss or Cost
    Y : array_like, shape (N, m), optional
    labels : array_like of int, shape (N,), optional
    scale : float, optional
        Factor of the sums over samples; default 1/N.
    grad : bool
        Also return the gradient with respect to the outputs.

    Returns
    -------
    float, or (float, ndarray of shape (N, d)) with `grad`
    """
    return as_loss(loss).value(outputs, Y, labels, scale=scale, grad=grad)


def output_loss_along(outputs, xi, loss, Y=None, labels=None, *, scale, eta):
    """The data terms of `loss` at the outputs ``x + eta xi`` and their first and second
    derivatives in eta: ``(phi, dphi, d2phi)``, sums over the samples (times `scale`).
    `outputs` and `xi` have shape (N, d); Y, labels as for :func:`output_loss`."""
    return OutputLine(outputs, xi, loss, Y, labels, scale=scale)(eta)


class OutputLine:
    """:func:`output_loss_along` at many eta with the arrays checked once (a line search
    evaluates it several times an iteration): ``line(eta) -> (phi, dphi, d2phi)``."""

    def __init__(self, outputs, xi, loss, Y=None, labels=None, *, scale, check_input=True):
        loss = as_loss(loss)
        if check_input:
            outputs = as_float_array(outputs, "outputs", ndim=2)
            Y, labels = loss.check_targets(outputs.shape[0], outputs.shape[1], Y, labels)
            xi = as_float_array(xi, "xi", ndim=2)
            scale = check_real(scale, "scale")
        # (formed in float64, also on a float32 network's outputs and tangents)
        self._x = np.ascontiguousarray(outputs, dtype=np.float64)
        self._xi = np.ascontiguousarray(xi, dtype=np.float64)
        self._Y, self._labels = Y, labels
        self._terms = (*loss.terms, scale)

    def __call__(self, eta):
        return _kernels.loss_line(self._x, self._xi, self._Y, self._labels, *self._terms,
                                  float(eta))


def softmax(z, n_classes):
    """The softmax of the first `n_classes` columns of z (N, >= n_classes): (N, n_classes)."""
    z = as_float_array(z, "z", ndim=2)
    return _kernels.softmax(z, check_int(n_classes, "n_classes", minimum=1))
