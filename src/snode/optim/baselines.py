"""The standard gradient methods the NCG is compared with, on the same network and gradient:
gradient descent (SGD with a batch size), with momentum or Nesterov's, and Adam."""
import math
from dataclasses import dataclass

import numpy as np

from .._validate import check_bool, check_real
from ..exceptions import NonFiniteError
from .metric import DepthMetric
from .trainer import Step, Trainer, pair_axpy, pair_dot, pair_finite

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

    Examples
    --------
    >>> import snode
    >>> X, Y, _ = snode.data.teacher(200, seed=0)
    >>> net = snode.SNODE(width=4, n_steps=20, seed=1)
    >>> result = snode.GradientDescent(lr=0.5, momentum=0.9, max_iter=30).minimize(
    ...     net, snode.Cost(), X, Y)
    >>> result.n_iter, bool(result.cost < result.history["cost"][0])
    (30, True)
    """

    lr: float = 0.1
    momentum: float = 0.0
    nesterov: bool = False
    metric: str = "l2"
    alpha: "float | str" = "auto"

    def __post_init__(self):
        object.__setattr__(self, "lr", check_real(self.lr, "lr", minimum=0.0, strict=True))
        object.__setattr__(self, "momentum", check_real(self.momentum, "momentum", minimum=0.0))
        if not self.momentum < 1.0:
            raise ValueError(f"momentum must be < 1, got {self.momentum}")
        depth = DepthMetric(self.metric, self.alpha)
        object.__setattr__(self, "metric", depth.kind)
        object.__setattr__(self, "alpha", depth.alpha)
        object.__setattr__(self, "nesterov", check_bool(self.nesterov, "nesterov"))
        self.check_schedule()

    def init_state(self, objective):
        return _State()

    def iterate(self, obj, state, loop):
        metric = DepthMetric(self.metric, self.alpha).at(obj.net.h, obj.net.T)
        ev, g, out = _begin(self, obj, state, loop, metric.gradient, beta=self.momentum)
        if out.stop:
            return out
        v = g if state.v is None else pair_axpy(self.momentum, state.v, g)
        upd = pair_axpy(self.momentum, v, g) if self.nesterov else v
        stop = _step(obj, state, loop, ev, upd, self.lr)
        if stop is not None:
            return stop
        state.v = v
        return out


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

    Examples
    --------
    >>> import snode
    >>> X, Y, _ = snode.data.teacher(200, seed=0)
    >>> net = snode.SNODE(width=4, n_steps=20, seed=1)
    >>> result = snode.Adam(lr=0.01, max_iter=30).minimize(net, snode.Cost(), X, Y)
    >>> result.n_iter, bool(result.cost < result.history["cost"][0])
    (30, True)
    """

    lr: float = 1e-2
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        object.__setattr__(self, "lr", check_real(self.lr, "lr", minimum=0.0, strict=True))
        for name in ("beta1", "beta2"):
            v = check_real(getattr(self, name), name, minimum=0.0)
            if not v < 1.0:
                raise ValueError(f"{name} must be < 1, got {v}")
        object.__setattr__(self, "eps", check_real(self.eps, "eps", minimum=0.0, strict=True))
        self.check_schedule()

    def init_state(self, objective):
        return _State()

    def iterate(self, obj, state, loop):
        h = obj.h
        ev, _, out = _begin(self, obj, state, loop, lambda G: (G[0] / h, G[1] / h),
                            beta=np.nan)
        if out.stop:
            return out
        GW, Gb = ev.grad
        t = state.t + 1
        m = state.m if state.m is not None else (np.zeros_like(GW), np.zeros_like(Gb))
        v = state.v if state.v is not None else (np.zeros_like(GW), np.zeros_like(Gb))
        m = tuple(self.beta1 * mi + (1 - self.beta1) * gi for mi, gi in zip(m, (GW, Gb)))
        v = tuple(self.beta2 * vi + (1 - self.beta2) * gi * gi for vi, gi in zip(v, (GW, Gb)))
        c1, c2 = 1 - self.beta1 ** t, 1 - self.beta2 ** t
        upd = tuple((mi / c1) / (np.sqrt(vi / c2) + self.eps) for mi, vi in zip(m, v))
        stop = _step(obj, state, loop, ev, upd, self.lr)
        if stop is not None:
            return stop
        state.t, state.m, state.v = t, m, v
        return out


class _State:
    """The state of the fixed-rate methods: the weights before the last step (to go back to)
    and the moments (momentum's v; Adam's t, m, v)."""

    __slots__ = ("theta_prev", "v", "t", "m")

    def __init__(self):
        self.theta_prev = self.v = self.m = None
        self.t = 0


def _begin(opt, obj, state, loop, direction, beta):
    """An iteration's gradient at the current weights: (evaluation, the direction of the
    step (the gradient in the metric), Step); the Step has `stop` when training ends here.
    The step length recorded is the learning rate."""
    try:
        ev = obj.evaluate(grad=True, keep=False)
    except NonFiniteError:
        if state.theta_prev is None:  # at the starting weights: nothing to go back to
            raise
        return None, None, _diverged(obj, state)
    g = direction(ev.grad)
    gn = np.sqrt(max(pair_dot(ev.grad, g), 0.0))
    out = Step(cost=ev.value, grad_norm=gn, beta=beta, step=opt.lr, restart=0, rejected=0,
               backtracks=0)
    if opt.batch_size is None and gn <= opt.tol:
        out.step, out.stop = 0.0, "gradient norm below tol"
        loop.fun = ev.value
    return ev, g, out


def _step(obj, state, loop, ev, upd, lr):
    """theta <- theta - lr upd (None), unless that is not finite: then the stop of
    :func:`_diverged`."""
    new = (ev.params[0] - lr * upd[0], ev.params[1] - lr * upd[1])
    if not pair_finite(new):
        return _diverged(obj, state, ev.value)
    state.theta_prev = (ev.params[0].copy(), ev.params[1].copy())  # (the net's own arrays)
    loop.fun = math.nan  # the cost at the new weights is not known yet
    obj.set_params(new)
    return None


def _diverged(obj, state, cost=np.inf):
    """The last fixed-rate step made the weights or the cost non-finite: restore the weights
    it started from and stop."""
    if state.theta_prev is not None:
        obj.set_params(state.theta_prev)
    return Step(cost=cost, grad_norm=np.nan, beta=np.nan, step=0.0, restart=0, rejected=1,
                backtracks=0, success=False,
                stop="the cost became non-finite (learning rate too large?); last good "
                     "weights restored")
