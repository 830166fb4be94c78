"""The standard gradient methods the NCG is compared with, on the same network and gradient:
gradient descent (SGD with a batch size), with momentum or Nesterov's, and Adam."""
from dataclasses import dataclass

import numpy as np

from .._validate import check_real
from ..exceptions import NonFiniteError
from ..sobolev import _solve
from .ncg import METRICS, _check_alpha, metric_alpha
from .trainer import Trainer, pair_axpy, pair_dot, pair_finite

__all__ = ["GradientDescent", "Adam"]


@dataclass(frozen=True)
class GradientDescent(Trainer):
    """Gradient descent with a fixed learning rate, optionally with (Nesterov) momentum: with
    `batch_size` set this is SGD with momentum.

    Parameters
    ----------
    lr : float > 0, default 0.1
        Learning rate.
    momentum : float in [0, 1), default 0
    nesterov : bool, default False
    metric : {"l2", "sobolev"}, default "l2"
        The gradient in depth, as for :class:`NCG`: the L2(0, T) gradient ``G / h`` of the
        weights as functions of depth (G = dJ/dtheta, h the depth step), or the Sobolev
        gradient with weight `alpha` (which is the L2 one at ``alpha = 0``). The step is
        ``lr`` times it, so `lr` and `tol` mean the same under both metrics.
    alpha : float >= 0 or "auto", default "auto"
        As for :class:`NCG`.
    batch_size, iterations_per_batch, epochs, max_iter, tol, seed, drop_last
        As for :class:`NCG` (one iteration per batch by default); `tol` bounds the gradient's
        norm in the metric.
    ftol, n_iter_no_change
        As for :class:`NCG`: the full-batch stop on a cost that no longer falls.

    Raises
    ------
    ValueError
        For parameters out of range.

    Notes
    -----
    A step that makes the weights or the cost non-finite restores the last good weights and
    stops training (``success=False``).

    References
    ----------
    .. [1] Y. Nesterov, "A method for solving the convex programming problem with convergence
       rate O(1/k^2)", Soviet Mathematics Doklady 27, 372-376, 1983.
    """

    lr: float = 0.1
    momentum: float = 0.0
    nesterov: bool = False
    metric: str = "l2"
    alpha: "float | str" = "auto"
    batch_size: int = None
    iterations_per_batch: int = 1
    epochs: int = 10
    max_iter: int = 200
    tol: float = 1e-8
    seed: int = None
    drop_last: bool = False
    ftol: float = 0.0
    n_iter_no_change: int = 10

    def __post_init__(self):
        object.__setattr__(self, "lr", check_real(self.lr, "lr", minimum=0.0, strict=True))
        object.__setattr__(self, "momentum", check_real(self.momentum, "momentum", minimum=0.0))
        if not self.momentum < 1.0:
            raise ValueError(f"momentum must be < 1, got {self.momentum}")
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; choose one of {METRICS}")
        _check_alpha(self)
        self._check_common()

    def _direction(self, obj, G):
        return _solve(G, obj.h, metric_alpha(self, obj))

    def _iterate(self, obj, state):
        ev, g, rec = _begin(self, obj, state, self._direction, beta=self.momentum)
        if "stop" in rec:
            return rec
        v = state.get("v")
        v = g if v is None else pair_axpy(self.momentum, v, g)
        upd = pair_axpy(self.momentum, v, g) if self.nesterov else v
        return _step(obj, state, ev, upd, self.lr, rec, v=v)


@dataclass(frozen=True)
class Adam(Trainer):
    """Adam on the gradient dJ/dtheta (its steps do not depend on the gradient's scale; `tol`
    bounds the norm of the L2(0, T) gradient, as for :class:`GradientDescent`).

    Parameters
    ----------
    lr : float > 0, default 0.01
    beta1, beta2 : float in [0, 1), defaults 0.9 and 0.999
    eps : float > 0, default 1e-8
    batch_size, iterations_per_batch, epochs, max_iter, tol, seed, drop_last
        As for :class:`GradientDescent`.
    ftol, n_iter_no_change
        As for :class:`NCG`.

    Raises
    ------
    ValueError
        For parameters out of range.

    References
    ----------
    .. [1] D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015,
       arXiv:1412.6980.
    """

    lr: float = 1e-2
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    batch_size: int = None
    iterations_per_batch: int = 1
    epochs: int = 10
    max_iter: int = 200
    tol: float = 1e-8
    seed: int = None
    drop_last: bool = False
    ftol: float = 0.0
    n_iter_no_change: int = 10

    def __post_init__(self):
        object.__setattr__(self, "lr", check_real(self.lr, "lr", minimum=0.0, strict=True))
        for name in ("beta1", "beta2"):
            v = check_real(getattr(self, name), name, minimum=0.0)
            if not v < 1.0:
                raise ValueError(f"{name} must be < 1, got {v}")
        object.__setattr__(self, "eps", check_real(self.eps, "eps", minimum=0.0, strict=True))
        self._check_common()

    def _iterate(self, obj, state):
        ev, _, rec = _begin(self, obj, state, _l2_gradient, beta=np.nan)
        if "stop" in rec:
            return rec
        GW, Gb = ev.grad
        t = state.get("t", 0) + 1
        m = state.get("m", (np.zeros_like(GW), np.zeros_like(Gb)))
        v = state.get("v", (np.zeros_like(GW), np.zeros_like(Gb)))
        m = tuple(self.beta1 * mi + (1 - self.beta1) * gi for mi, gi in zip(m, (GW, Gb)))
        v = tuple(self.beta2 * vi + (1 - self.beta2) * gi * gi for vi, gi in zip(v, (GW, Gb)))
        c1, c2 = 1 - self.beta1 ** t, 1 - self.beta2 ** t
        upd = tuple((mi / c1) / (np.sqrt(vi / c2) + self.eps) for mi, vi in zip(m, v))
        return _step(obj, state, ev, upd, self.lr, rec, t=t, m=m, v=v)


def _l2_gradient(obj, G):
    """The L2(0, T) gradient G / h (its norm is the one `tol` bounds)."""
    return (G[0] / obj.h, G[1] / obj.h)


def _begin(opt, obj, state, direction, beta):
    """An iteration's gradient at the current weights and its record: (evaluation, the
    direction of the step, record); the record has "stop" when training ends here."""
    try:
        ev = obj.evaluate(grad=True, keep=False)
    except NonFiniteError:
        if "theta_prev" not in state:  # at the starting weights: nothing to go back to
            raise
        return None, None, _diverged(obj, state)
    g = direction(obj, ev.grad)
    gn = np.sqrt(max(pair_dot(ev.grad, g), 0.0))
    rec = dict(cost=ev.value, grad_norm=gn, beta=beta, step=opt.lr, restart=0, rejected=0,
               backtracks=0)
    if opt.batch_size is None and gn <= opt.tol:
        rec.update(step=0.0, stop="gradient norm below tol")
        state["fun"] = ev.value
    return ev, g, rec


def _step(obj, state, ev, upd, lr, rec, **keep):
    """theta <- theta - lr upd, unless that is not finite (then as _diverged); `keep` is the
    optimiser's state after a taken step."""
    new = (ev.params[0] - lr * upd[0], ev.params[1] - lr * upd[1])
    if not pair_finite(new):
        return _diverged(obj, state, ev.value)
    state["theta_prev"] = (ev.params[0].copy(), ev.params[1].copy())  # (the net's own arrays)
    state.update(keep)
    state.pop("fun", None)  # the cost at the new weights is not known yet
    obj.set_params(new)
    return rec


def _diverged(obj, state, cost=np.inf):
    """The last fixed-rate step made the weights or the cost non-finite: restore the weights
    it started from and stop."""
    if "theta_prev" in state:
        obj.set_params(state["theta_prev"])
    return dict(cost=cost, grad_norm=np.nan, beta=np.nan, step=0.0, restart=0, rejected=1,
                backtracks=0, success=False,
                stop="the cost became non-finite (learning rate too large?); last good "
                     "weights restored")
