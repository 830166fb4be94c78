"""Training: nonlinear conjugate gradients with a sensitivity step (MATH.md section 7), and
the standard gradient methods it is compared with, on the same network and gradient.

Every optimiser has ``minimize(net, cost, X, Y=None, labels=None, callback=None)``: it updates
``net.W`` and ``net.b`` in place and returns a :class:`TrainResult` with the per-iteration
history. Mini-batch mode (``batch_size`` set) shuffles the data every epoch and runs
``iterations_per_batch`` iterations on each batch; full-batch mode (``batch_size=None``)
iterates on all the data until the gradient norm falls below ``tol`` or ``max_iter``.
Ctrl-C stops training with the last accepted weights in place (``result.interrupted``).
"""
import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeResult, line_search

from . import _kernels
from ._kernels import NonFiniteError
from ._validate import check_int, check_real
from .sobolev import sobolev_gradient

__all__ = ["NCG", "GradientDescent", "Adam", "TrainResult", "LineSearchWarning",
           "scipy_objective", "BETA_RULES", "STEP_RULES", "METRICS"]

BETA_RULES = ("FR", "PR+", "HS", "DY", "FR-PR", "sd")
STEP_RULES = ("sensitivity", "wolfe")
METRICS = ("l2", "sobolev")

_HISTORY_FIELDS = ("epoch", "batch", "cost", "grad_norm", "beta", "step", "restart",
                   "rejected", "backtracks", "evaluations", "time")


class LineSearchWarning(UserWarning):
    """A line search found no acceptable step; training kept the last good weights."""


class TrainResult(OptimizeResult):
    """Outcome of training (a dict with attribute access).

    Attributes
    ----------
    cost : float
        Cost at the start of the last iteration (on its batch), before that iteration's step.
    n_iter : int
    evaluations : int
        Gradient evaluations (forward + adjoint sweeps); sensitivity sweeps and cost-only
        evaluations are counted in ``sweeps``.
    sweeps : int
        All sweeps over depth: gradient evaluations count 2, sensitivity and cost 1 each.
    history : dict of ndarray
        Per iteration: epoch, batch, cost (before the step), grad_norm (in the metric), beta,
        step, restart, rejected (trial steps refused because the cost there was not finite),
        backtracks, evaluations (cumulative), time (seconds since the start).
    success : bool
    message : str
    interrupted : bool
        True when stopped by Ctrl-C (the weights are the last accepted ones).
    """


# --- pairs (W, b) ----------------------------------------------------------------------------
def _vdot(a, b):
    # einsum's own loop, not BLAS: a threaded BLAS dot woken between OpenMP sweeps competes
    # with the sweeps' idle threads for the cores (measured: 1 ms instead of 20 us)
    return float(np.einsum("i,i->", a.ravel(), b.ravel()))


def _dot(u, v):
    return _vdot(u[0], v[0]) + _vdot(u[1], v[1])


def _axpy(a, x, y):
    """a x + y for pairs."""
    return (a * x[0] + y[0], a * x[1] + y[1])


def _diff_dot(u, v):
    """sum_i (u_{i+1} - u_i) . (v_{i+1} - v_i) over depth, for pairs."""
    return sum(_vdot(np.diff(a, axis=0), np.diff(b, axis=0)) for a, b in zip(u, v))


class _Trainer:
    """Batching, history, callback and interruption shared by the optimisers."""

    def _check_common(self):
        if self.batch_size is not None:
            object.__setattr__(self, "batch_size", check_int(self.batch_size, "batch_size", 1))
        for name in ("iterations_per_batch", "epochs", "max_iter"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, 1))
        object.__setattr__(self, "tol", check_real(self.tol, "tol", minimum=0.0))

    def minimize(self, net, cost, X, Y=None, labels=None, callback=None):
        """Train `net` on the data; returns a TrainResult. See the class docstring."""
        X, Y, labels = cost.prepare(net, X, Y, labels)
        N = X.shape[0]
        rng = np.random.default_rng(self.seed)
        hist = {k: [] for k in _HISTORY_FIELDS}
        counts = {"evaluations": 0, "sweeps": 0}
        t0 = time.perf_counter()
        state = {"counts": counts}
        message, success = "maximum number of iterations reached", True
        interrupted = stop = False
        last_cost = np.nan
        good = (net.W.copy(), net.b.copy())
        try:
            if self.batch_size is None:
                schedule = (((0, 0, None),), self.max_iter)
            else:
                schedule = (self._minibatches(N, rng), self.iterations_per_batch)
            batches, n_it = schedule
            for epoch, bi, idx in batches:
                data = (X, Y, labels) if idx is None else (
                    X[idx], None if Y is None else Y[idx], None if labels is None else labels[idx])
                state["first"] = True
                for _ in range(n_it):
                    rec = self._iterate(net, cost, data, state)
                    good = (net.W.copy(), net.b.copy())
                    rec.update(epoch=epoch, batch=bi, evaluations=counts["evaluations"],
                               time=time.perf_counter() - t0)
                    for k in _HISTORY_FIELDS:
                        hist[k].append(rec.get(k, np.nan))
                    last_cost = rec["cost"]
                    state["first"] = False
                    if rec.get("stop"):
                        message, success, stop = rec["stop"], rec.get("success", True), True
                        break
                    if callback is not None and callback(dict(rec)):
                        message, stop = "stopped by the callback", True
                        break
                if stop:
                    break
        except KeyboardInterrupt:
            net.W, net.b = good
            message, interrupted = "interrupted", True
        history = {k: np.asarray(v, dtype=float) for k, v in hist.items()}
        return TrainResult(cost=float(last_cost), n_iter=len(hist["cost"]),
                           evaluations=counts["evaluations"], sweeps=counts["sweeps"],
                           history=history, success=success,
                           message=message, interrupted=interrupted)

    def _minibatches(self, N, rng):
        B = min(self.batch_size, N)
        for epoch in range(self.epochs):
            perm = rng.permutation(N)
            for bi, start in enumerate(range(0, N, B)):
                yield epoch, bi, perm[start:start + B]

    @staticmethod
    def _grad(net, cost, data, state):
        state["counts"]["evaluations"] += 1
        state["counts"]["sweeps"] += 2
        return cost._value_and_grad(net, *data)

    @staticmethod
    def _value_at(net, cost, data, W, b, state):
        """Cost at weights (W, b), or inf when they or a sweep overflow; net keeps (W, b)."""
        if not (_kernels.all_finite(W) and _kernels.all_finite(b)):
            return np.inf
        net.W[...] = W
        net.b[...] = b
        state["counts"]["sweeps"] += 1
        try:
            J = cost._value(net, *data)
        except NonFiniteError:
            return np.inf
        return J if np.isfinite(J) else np.inf


@dataclass(frozen=True)
class NCG(_Trainer):
    """Nonlinear conjugate gradients with a sensitivity step length and Sobolev gradients.

    Parameters
    ----------
    beta : {"FR", "PR+", "HS", "DY", "FR-PR", "sd"}, default "FR"
        Conjugacy rule; "sd" is steepest descent.
    metric : {"sobolev", "l2"}, default "sobolev"
        Inner product in depth used for the gradient, the direction and beta.
    alpha : float, default 1.0
        Weight of the derivative term of the Sobolev metric.
    step : {"sensitivity", "wolfe"}, default "sensitivity"
        "sensitivity": minimise the cost with x(T) replaced by its linearisation along the
        direction (closed form for the quadratic terms; a safeguarded Newton/bisection root of
        phi' when ce > 0). "wolfe": scipy's strong-Wolfe line search.
    safeguard : bool, default True
        Check the sensitivity step against the true cost and backtrack (Armijo) when it
        over-reaches. False gives the authors' unguarded rule (a step whose cost is not finite
        is still refused).
    batch_size, iterations_per_batch, epochs
        Mini-batch mode: every epoch, batches of `batch_size` shuffled samples with
        `iterations_per_batch` (default 6) iterations each, starting from steepest descent.
    max_iter, tol
        Full-batch mode (``batch_size=None``): at most `max_iter` iterations, stopping when
        the gradient norm in the metric is at most `tol`.
    armijo : float, default 1e-4
        Sufficient-decrease constant.
    max_backtracks : int, default 30
    seed : int or None
        Seed of the shuffling.
    """

    beta: str = "FR"
    metric: str = "sobolev"
    alpha: float = 1.0
    step: str = "sensitivity"
    safeguard: bool = True
    batch_size: int = None
    iterations_per_batch: int = 6
    epochs: int = 10
    max_iter: int = 200
    tol: float = 1e-8
    armijo: float = 1e-4
    max_backtracks: int = 30
    seed: int = None

    def __post_init__(self):
        if self.beta not in BETA_RULES:
            raise ValueError(f"unknown beta rule {self.beta!r}; choose one of {BETA_RULES}")
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; choose one of {METRICS}")
        if self.step not in STEP_RULES:
            raise ValueError(f"unknown step rule {self.step!r}; choose one of {STEP_RULES}")
        object.__setattr__(self, "alpha", check_real(self.alpha, "alpha", minimum=0.0))
        object.__setattr__(self, "armijo", check_real(self.armijo, "armijo", minimum=0.0))
        if not self.armijo < 0.5:
            raise ValueError(f"armijo must be < 0.5, got {self.armijo}")
        object.__setattr__(self, "max_backtracks",
                           check_int(self.max_backtracks, "max_backtracks", 0))
        self._check_common()

    # --- one iteration ----------------------------------------------------------------------
    def _iterate(self, net, cost, data, state):
        X = data[0]
        theta = (net.W.copy(), net.b.copy())
        J, GW, Gb, xT = self._grad(net, cost, data, state)
        G = (GW, Gb)
        a = self.alpha if self.metric == "sobolev" else 0.0
        g = sobolev_gradient(GW, Gb, net.h, a)
        gg = _dot(G, g)
        rec = dict(cost=J, grad_norm=np.sqrt(max(gg, 0.0)), rejected=0, backtracks=0)
        if self.batch_size is None and rec["grad_norm"] <= self.tol:
            rec.update(step=0.0, beta=0.0, restart=0, stop="gradient norm below tol")
            return rec

        restart = state["first"] or self.beta == "sd" or state.get("force_restart", False)
        beta = 0.0 if restart else self._beta(G, g, gg, state)
        d = (-g[0], -g[1]) if beta == 0.0 else _axpy(beta, state["d"], (-g[0], -g[1]))
        slope = _dot(G, d)
        if beta != 0.0 and not slope < 0.0:  # not a descent direction
            beta, d, slope, restart = 0.0, (-g[0], -g[1]), -gg, True
        rec.update(beta=beta, restart=int(restart))
        state.update(G=G, g=g, gg=gg, d=d, force_restart=False)

        rejected = 0
        if self.step == "wolfe":
            eta, n_back = self._wolfe(net, cost, data, theta, J, G, d, state)
        else:
            eta = self._sensitivity_step(net, cost, X, data, xT, d, slope, state)
            if self.safeguard:
                eta, n_back, rejected = self._armijo(net, cost, data, theta, J, d, slope, eta,
                                                     state)
            else:  # the authors' rule, but a step to a non-finite cost is refused and halved
                eta, rejected = self._finite(net, cost, data, theta, d, eta, state)
                n_back = rejected
        rec["rejected"] = rejected
        rec["backtracks"] = n_back
        if eta is None:  # no acceptable step: keep the weights, restart next time
            net.W[...], net.b[...] = theta
            rec["step"] = 0.0
            if restart:
                warnings.warn("no step along steepest descent decreases the cost; stopping",
                              LineSearchWarning, stacklevel=3)
                rec.update(stop="line search failed along steepest descent", success=False)
            state["force_restart"] = True
            return rec
        net.W[...] = theta[0] + eta * d[0]
        net.b[...] = theta[1] + eta * d[1]
        rec["step"] = eta
        return rec

    def _beta(self, G, g, gg, state):
        Gp, gp, ggp, dp = state["G"], state["g"], state["gg"], state["d"]
        if ggp <= 0.0:
            return 0.0
        fr = gg / ggp
        if self.beta == "FR":
            return fr
        pr = (gg - _dot(G, gp)) / ggp  # <g_k, g_k - g_{k-1}> / |g_{k-1}|^2
        if self.beta == "PR+":
            return max(0.0, pr)
        if self.beta == "FR-PR":
            return max(-fr, min(fr, pr))
        dy = _dot(dp, G) - _dot(dp, Gp)  # <d_{k-1}, y_k> in the metric
        if dy == 0.0:
            return 0.0
        if self.beta == "HS":
            return (gg - _dot(G, gp)) / dy
        return gg / dy  # DY

    # --- step lengths -----------------------------------------------------------------------
    def _sensitivity_step(self, net, cost, X, data, xT, d, slope, state):
        """Minimiser of the cost with x(T) linearised along d (MATH.md section 7)."""
        labels = data[2]
        N = X.shape[0]
        # along the direction scaled to unit max-norm (the sensitivity is linear in it), so
        # that a long direction cannot overflow the tangent sweep; the step scales back
        scale = max(float(np.abs(d[0]).max()), float(np.abs(d[1]).max()))
        if not scale > 0.0:
            return 0.0
        d = (d[0] / scale, d[1] / scale)
        slope = slope / scale
        xi = net.sensitivity(X, d[0], d[1])
        state["counts"]["sweeps"] += 1
        h = net.h
        den = (cost.mse + cost.out) / N * _vdot(xi, xi)
        if cost.decay:
            den += cost.decay * h * _dot(d, d)
        if cost.smooth:
            den += cost.smooth / h * _diff_dot(d, d)
        # phi'(0) of the linearised cost equals the exact slope <G, d> (the dot-product
        # identity of the adjoint and the sensitivity), so it need not be recomputed
        if cost.ce == 0.0:
            if not den > 0.0:
                return 1.0 / scale  # no curvature information: let the safeguard find it
            return -slope / den / scale
        C = cost.n_classes
        z, zeta = xT[:, :C], xi[:, :C]
        onehot = np.zeros_like(z)
        onehot[np.arange(N), labels] = 1.0
        cce = cost.ce / N
        lin0 = np.sum((_softmax(z) - onehot) * zeta)  # the same at every eta

        def dphi(eta):
            u = z + eta * zeta
            p = np.exp(u - u.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            lin = np.sum((p - onehot) * zeta) - lin0
            first = slope + eta * den + cce * lin
            pz = p * zeta
            curv = den + cce * np.sum(pz * zeta - pz * pz.sum(axis=1, keepdims=True))
            return first, curv

        return _newton_bisect(dphi, slope) / scale

    def _armijo(self, net, cost, data, theta, J, d, slope, eta, state):
        """Backtrack from eta until sufficient decrease: (eta or None, backtracks, how many
        trial points had a non-finite cost)."""
        nonfinite = 0
        for k in range(self.max_backtracks + 1):
            Jt = self._value_at(net, cost, data, theta[0] + eta * d[0], theta[1] + eta * d[1],
                                state)
            nonfinite += not np.isfinite(Jt)
            if Jt <= J + self.armijo * eta * slope:
                return eta, k, nonfinite
            eta *= 0.5
        return None, self.max_backtracks, nonfinite

    def _finite(self, net, cost, data, theta, d, eta, state):
        for k in range(self.max_backtracks + 1):
            Jt = self._value_at(net, cost, data, theta[0] + eta * d[0], theta[1] + eta * d[1],
                                state)
            if np.isfinite(Jt):
                return eta, k
            eta *= 0.5
        return None, self.max_backtracks

    def _wolfe(self, net, cost, data, theta, J, G, d, state):
        shapes = (theta[0].shape, theta[1].shape)
        nW = theta[0].size

        def unflat(v):
            return v[:nW].reshape(shapes[0]), v[nW:].reshape(shapes[1])

        cache = {}

        def fg(v):
            key = v.tobytes()
            if key not in cache:
                W, b = unflat(v)
                net.W[...], net.b[...] = W, b
                try:
                    Jv, GWv, Gbv, _ = self._grad(net, cost, data, state)
                    cache[key] = (Jv, np.concatenate([GWv.ravel(), Gbv.ravel()]))
                except NonFiniteError:
                    cache[key] = (np.inf, np.full(v.size, np.nan))
            return cache[key]

        x0 = np.concatenate([theta[0].ravel(), theta[1].ravel()])
        p = np.concatenate([d[0].ravel(), d[1].ravel()])
        g0 = np.concatenate([G[0].ravel(), G[1].ravel()])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = line_search(lambda v: fg(v)[0], lambda v: fg(v)[1], x0, p, gfk=g0,
                              old_fval=J, c1=max(self.armijo, 1e-8), c2=0.1)
        eta = res[0]
        if eta is None or not np.isfinite(eta):
            return None, 0
        return float(eta), 0


def _softmax(z):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _newton_bisect(dphi, slope0, max_iter=60):
    """Root of an increasing phi' with phi'(0) = slope0 < 0: bracket by doubling, then Newton
    steps kept inside the bracket (bisection when one would leave it)."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        f, _ = dphi(hi)
        if f > 0.0:
            break
        lo, hi = hi, 2.0 * hi
    else:
        return hi  # phi' stays negative: the linearised cost decreases without bound
    eta = 0.5 * (lo + hi)
    for _ in range(max_iter):
        f, c = dphi(eta)
        if f > 0.0:
            hi = eta
        else:
            lo = eta
        if abs(f) <= 1e-14 * abs(slope0) or hi - lo <= 1e-15 * hi:
            break
        newton = eta - f / c if c > 0.0 else np.nan
        eta = newton if lo < newton < hi else 0.5 * (lo + hi)
    return eta


@dataclass(frozen=True)
class GradientDescent(_Trainer):
    """Gradient descent with a fixed learning rate, optionally with (Nesterov) momentum:
    with `batch_size` set this is SGD with momentum. The gradient is the L2 gradient dJ/dtheta
    (``metric="sobolev"`` uses the Sobolev gradient instead)."""

    lr: float = 0.1
    momentum: float = 0.0
    nesterov: bool = False
    metric: str = "l2"
    alpha: float = 1.0
    batch_size: int = None
    iterations_per_batch: int = 1
    epochs: int = 10
    max_iter: int = 200
    tol: float = 1e-8
    seed: int = None

    def __post_init__(self):
        object.__setattr__(self, "lr", check_real(self.lr, "lr", minimum=0.0, strict=True))
        object.__setattr__(self, "momentum", check_real(self.momentum, "momentum", minimum=0.0))
        if not self.momentum < 1.0:
            raise ValueError(f"momentum must be < 1, got {self.momentum}")
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; choose one of {METRICS}")
        self._check_common()

    def _direction(self, net, G):
        if self.metric == "sobolev":
            return sobolev_gradient(G[0], G[1], net.h, self.alpha)
        return G

    def _iterate(self, net, cost, data, state):
        try:
            J, GW, Gb, _ = self._grad(net, cost, data, state)
        except NonFiniteError:
            return _diverged(net, state)
        g = self._direction(net, (GW, Gb))
        gn = np.sqrt(max(_dot((GW, Gb), g), 0.0))
        rec = dict(cost=J, grad_norm=gn, beta=self.momentum, step=self.lr, restart=0,
                   rejected=0, backtracks=0)
        if self.batch_size is None and gn <= self.tol:
            rec.update(step=0.0, stop="gradient norm below tol")
            return rec
        v = state.get("v")
        v = g if v is None else _axpy(self.momentum, v, g)
        state["v"] = v
        upd = _axpy(self.momentum, v, g) if self.nesterov else v
        state["theta_prev"] = (net.W.copy(), net.b.copy())
        net.W -= self.lr * upd[0]
        net.b -= self.lr * upd[1]
        return rec


@dataclass(frozen=True)
class Adam(_Trainer):
    """Adam (Kingma and Ba) on the L2 gradient dJ/dtheta."""

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

    def __post_init__(self):
        object.__setattr__(self, "lr", check_real(self.lr, "lr", minimum=0.0, strict=True))
        for name in ("beta1", "beta2"):
            v = check_real(getattr(self, name), name, minimum=0.0)
            if not v < 1.0:
                raise ValueError(f"{name} must be < 1, got {v}")
        object.__setattr__(self, "eps", check_real(self.eps, "eps", minimum=0.0, strict=True))
        self._check_common()

    def _iterate(self, net, cost, data, state):
        try:
            J, GW, Gb, _ = self._grad(net, cost, data, state)
        except NonFiniteError:
            return _diverged(net, state)
        gn = np.sqrt(_dot((GW, Gb), (GW, Gb)))
        rec = dict(cost=J, grad_norm=gn, beta=np.nan, step=self.lr, restart=0, rejected=0,
                   backtracks=0)
        if self.batch_size is None and gn <= self.tol:
            rec.update(step=0.0, stop="gradient norm below tol")
            return rec
        t = state.get("t", 0) + 1
        m = state.get("m", (np.zeros_like(GW), np.zeros_like(Gb)))
        v = state.get("v", (np.zeros_like(GW), np.zeros_like(Gb)))
        m = tuple(self.beta1 * mi + (1 - self.beta1) * gi for mi, gi in zip(m, (GW, Gb)))
        v = tuple(self.beta2 * vi + (1 - self.beta2) * gi * gi for vi, gi in zip(v, (GW, Gb)))
        state.update(t=t, m=m, v=v, theta_prev=(net.W.copy(), net.b.copy()))
        c1, c2 = 1 - self.beta1 ** t, 1 - self.beta2 ** t
        net.W -= self.lr * (m[0] / c1) / (np.sqrt(v[0] / c2) + self.eps)
        net.b -= self.lr * (m[1] / c1) / (np.sqrt(v[1] / c2) + self.eps)
        return rec


def _diverged(net, state):
    """The last fixed-rate step made the cost non-finite: restore the weights and stop."""
    if "theta_prev" in state:
        net.W[...], net.b[...] = state["theta_prev"]
    return dict(cost=np.inf, grad_norm=np.nan, beta=np.nan, step=0.0, restart=0, rejected=1,
                backtracks=0, success=False,
                stop="the cost became non-finite (learning rate too large?); last good "
                     "weights restored")


def scipy_objective(net, cost, X, Y=None, labels=None):
    """The cost as a function of a flat parameter vector, for ``scipy.optimize.minimize``.

    Returns ``(fun, x0)``: ``fun(x)`` gives ``(J, dJ/dx)`` (use ``jac=True``) and sets the
    network's weights to ``x``; ``x0`` holds the current weights. After minimising, call
    ``fun(result.x)`` once more to leave the network at the optimum. A point where a sweep
    overflows gives ``(inf, nan...)``, which scipy's line searches step back from.
    """
    X, Y, labels = cost.prepare(net, X, Y, labels)
    nW = net.W.size

    def fun(x):
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (nW + net.b.size,):
            raise ValueError(f"x must have shape ({nW + net.b.size},), got {x.shape}")
        net.W[...] = x[:nW].reshape(net.W.shape)
        net.b[...] = x[nW:].reshape(net.b.shape)
        try:
            J, GW, Gb, _ = cost._value_and_grad(net, X, Y, labels)
        except (NonFiniteError, ValueError):
            return np.inf, np.full(x.shape, np.nan)
        return J, np.concatenate([GW.ravel(), Gb.ravel()])

    return fun, np.concatenate([net.W.ravel(), net.b.ravel()])
