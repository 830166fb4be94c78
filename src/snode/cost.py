"""The cost functional and its exact discrete gradient (shared MATH.md sections 3-4)."""
from dataclasses import dataclass

import numpy as np

from . import _kernels
from ._validate import as_float_array, as_labels, check_int, check_real

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

    Calling ``cost(net, X, Y=None, labels=None)`` returns J;
    ``cost.value_and_grad(net, X, Y=None, labels=None)`` returns ``(J, gW, gb)``, the exact
    gradient of the discrete J with respect to ``net.W`` and ``net.b``.

    Targets ``Y`` have shape (N, m) with m <= width and are zero-padded. When ``mse > 0`` and
    ``Y`` is None, the targets are the one-hot vectors of ``labels`` in the first C components.
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
    def _data(self, net, X, Y, labels):
        X = net._inputs(X)
        N, d = X.shape[0], net.width
        if self.n_classes is not None and self.n_classes > d:
            raise ValueError(f"n_classes = {self.n_classes} exceeds the width {d}: the classes "
                             "are read from the first n_classes outputs")
        # labels are used by the cross-entropy, and for one-hot targets when Y is not given
        uses_labels = self.ce > 0 or (self.mse > 0 and Y is None)
        if not uses_labels:
            labels = None
        elif labels is not None:
            if self.n_classes is None:
                raise ValueError("labels need a cost with n_classes (to build one-hot targets)")
            labels = as_labels(labels, N, self.n_classes)
        elif self.ce > 0:
            raise ValueError("the cross-entropy term (ce > 0) needs labels")
        if Y is not None:
            Y = as_float_array(Y, "Y", ndim=2)
            if Y.shape[0] != N or not 1 <= Y.shape[1] <= d:
                raise ValueError(f"Y must have shape ({N}, m) with 1 <= m <= {d}, "
                                 f"got {Y.shape}")
        elif self.mse > 0:
            if labels is None:
                raise ValueError("the squared-error term (mse > 0) needs targets Y or labels")
            Y = np.zeros((N, self.n_classes))
            Y[np.arange(N), labels] = 1.0
        return X, Y, labels

    # --- the cost ----------------------------------------------------------------------------
    def data_cost(self, outputs, Y=None, labels=None):
        """The data terms (mse, ce, out) of J for given outputs x(T) of shape (N, width).

        `Y` and `labels` must already be checked (as by ``value_and_grad``).
        """
        N = outputs.shape[0]
        J = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            if self.mse > 0:
                diff = outputs.copy()
                diff[:, :Y.shape[1]] -= Y
                J += self.mse / (2 * N) * np.sum(diff * diff)
            if self.out > 0:
                J += self.out / (2 * N) * np.sum(outputs * outputs)
            if self.ce > 0:
                z = outputs[:, :self.n_classes]
                mx = z.max(axis=1)
                lse = mx + np.log(np.exp(z - mx[:, None]).sum(axis=1))
                J += self.ce / N * np.sum(lse - z[np.arange(N), labels])
        if not np.isfinite(J):
            raise _kernels.NonFiniteError("the cost is not finite: the outputs are too large")
        return float(J)

    def penalty(self, net):
        """The weight terms (decay, smooth) of J."""
        J = 0.0
        W, b, h = net.W, net.b, net.h
        if self.decay > 0:
            J += 0.5 * self.decay * h * (np.sum(W * W) + np.sum(b * b))
        if self.smooth > 0 and net.n_steps > 1:
            dW, db = np.diff(W, axis=0), np.diff(b, axis=0)
            J += 0.5 * self.smooth / h * (np.sum(dW * dW) + np.sum(db * db))
        return float(J)

    def penalty_grad(self, net, gW, gb):
        """Add the gradient of the weight terms to gW, gb in place."""
        W, b, h = net.W, net.b, net.h
        if self.decay > 0:
            gW += (self.decay * h) * W
            gb += (self.decay * h) * b
        if self.smooth > 0 and net.n_steps > 1:
            c = self.smooth / h
            for g, p in ((gW, W), (gb, b)):
                diff = c * np.diff(p, axis=0)
                g[:-1] -= diff
                g[1:] += diff

    def __call__(self, net, X, Y=None, labels=None):
        """The cost J (a float)."""
        X, Y, labels = self._data(net, X, Y, labels)
        return self._value(net, X, Y, labels)

    def value_and_grad(self, net, X, Y=None, labels=None):
        """The cost and its exact gradient.

        Returns
        -------
        J : float
        gW : ndarray, shape (n_steps, width, width)
        gb : ndarray, shape (n_steps, width)
        """
        X, Y, labels = self._data(net, X, Y, labels)
        J, gW, gb, _ = self._value_and_grad(net, X, Y, labels)
        return J, gW, gb

    # --- on checked data (the optimisers check a batch once, then iterate) --------------------
    def prepare(self, net, X, Y=None, labels=None):
        """Check and convert a batch once: returns (X, Y, labels) for the ``_``-methods."""
        return self._data(net, X, Y, labels)

    def _value(self, net, X, Y, labels):
        return self.data_cost(net.forward(X), Y, labels) + self.penalty(net)

    def _value_and_grad(self, net, X, Y, labels):
        """(J, gW, gb, x(T)) on checked data."""
        J, gW, gb, _, xT, _ = _kernels.value_grad(
            *net._net_args(), X, Y, labels, None, self.mse, self.ce, self.out,
            self.n_classes or 0, 1.0 / X.shape[0], net._threads(), net.memory == "recompute",
            False, True)
        self.penalty_grad(net, gW, gb)
        return J + self.penalty(net), gW, gb, xT
