"""Nonlinear conjugate gradients with a sensitivity step and Sobolev gradients
(docs/method.md, the NCG iteration)."""
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dtrtrs

from .._validate import check_int, check_real
from ..exceptions import LineSearchWarning, NonFiniteError
from ..sobolev import _check_weight, _hybrid
from . import linesearch
from .trainer import Trainer, pair_axpy, pair_dot, pair_finite

__all__ = ["NCG", "BETA_RULES", "STEP_RULES", "METRICS", "auto_alpha"]

BETA_RULES = ("FR", "PR+", "HS", "DY", "FR-PR", "sd")
STEP_RULES = ("sensitivity", "wolfe")
METRICS = ("l2", "sobolev")
BETA_INNER = ("metric", "euclidean")


@dataclass(frozen=True)
class NCG(Trainer):
    """Nonlinear conjugate gradients with a sensitivity step length and Sobolev gradients.

    Parameters
    ----------
    beta : {"FR", "PR+", "HS", "DY", "FR-PR", "sd"}, default "FR"
        Conjugacy rule; "sd" is steepest descent.
    metric : {"sobolev", "l2"}, default "sobolev"
        Inner product in depth used for the gradient, the direction and beta: "l2" the
        L2(0, T) product of the weights as functions of depth (``h sum_i u_i v_i``, whose
        gradient is G / h for G = dJ/dtheta and h the depth step), "sobolev" the discrete H1
        product (docs/method.md), which is the L2 one at ``alpha = 0``. Gradient norms (and
        `tol`) are in this metric.
    alpha : float >= 0 or "auto", default "auto"
        Weight of the derivative term of the Sobolev metric; sqrt(alpha) is the length in
        depth over which the metric smooths. "auto": ``(T / 6)^2``, a sixth of the depth
        (:func:`auto_alpha`; chosen by measurement, bench/bench_metric.py).
    sobolev_weight : float in [0, 1], default 1
        Under the "sobolev" metric, the hybrid gradient ``w g_S + (1 - w) G / h`` of the
        Sobolev gradient g_S and the L2 one: the Riesz representer in the metric whose
        inverse is the same blend of the two inverses (:func:`snode.sobolev_gradient`;
        docs/method.md); the direction, the L-BFGS initial inverse Hessian and the gradient
        norms all use it. 1: the Sobolev metric, 0: the L2 metric. The estimators use 0.5 in
        full-batch mode and 1 with mini-batches (measured: bench/bench_metric.py,
        bench/bench_quality.py, docs/method.md).
    step : {"sensitivity", "wolfe"}, default "sensitivity"
        "sensitivity": minimise the cost with x(T) replaced by its linearisation along the
        direction (closed form for the quadratic terms; a safeguarded Newton/bisection root of
        phi' when ce > 0). "wolfe": a strong-Wolfe line search (scipy's) from the step 1,
        each trial with its gradient; where it finds no step, backtracking (Armijo, with the
        rounding allowance of the sensitivity step's safeguard) from 1. The estimators take
        "wolfe" for the L-BFGS direction (measured: docs/method.md, the line searches).
    wolfe_c2 : float in (0, 1) or "auto", default "auto"
        The curvature constant c2 of the strong Wolfe conditions
        ``|phi'(eta)| <= c2 |phi'(0)|``. "auto": 0.9 for the L-BFGS direction (``memory >
        0``), whose natural step is 1, and 0.1 for the conjugate directions, which need
        nearly exact searches (Nocedal and Wright [3], section 3.1). With ``step="wolfe"``
        it must exceed the search's sufficient-decrease constant ``max(armijo, 1e-8)``.
    safeguard : bool, default True
        Check the sensitivity step against the true cost and backtrack (Armijo) when it
        over-reaches. False gives the authors' unguarded rule (a step whose cost is not finite
        is still refused). Not used by the "wolfe" search, which checks its steps itself.
    batch_size, iterations_per_batch, epochs
        Mini-batch mode: every epoch, batches of `batch_size` shuffled samples with
        `iterations_per_batch` (default 6) iterations each, starting from steepest descent.
    max_iter, tol
        Full-batch mode (``batch_size=None``): at most `max_iter` iterations, stopping when
        the gradient norm in the metric is at most `tol`.
    ftol : float >= 0, default 0
        Full-batch mode: also stop (converged, ``success=True``) when the cost fell by at
        most ``ftol |J|`` over the last `n_iter_no_change` iterations and is the lowest of
        them (a cost that rose is no stall; 0: never; the estimators use 1e-4, as
        scikit-learn's MLP uses its `tol`).
    n_iter_no_change : int >= 1, default 10
    armijo : float, default 1e-4
        Sufficient-decrease constant.
    max_backtracks : int, default 30
    seed : int or None
        Seed of the shuffling (over several processes: rank 0's, drawn there when None).
    beta_inner : {"metric", "euclidean"}, default "metric"
        The inner product of the beta rules: the metric's, or the plain sum over entries of
        the metric's gradients (the authors' prototype, which forms the Sobolev gradient but
        takes Euclidean sums in beta).
    drop_last : bool, default False
        Mini-batch mode: leave out the last batch of an epoch when it is smaller than
        `batch_size` (as the authors' prototype does). With fewer samples than `batch_size`
        the one batch is all of them.
    memory : int >= 0, default 0
        0: the conjugate direction of `beta`. m > 0: the limited-memory BFGS direction from
        the last m steps and gradient changes, with the metric's gradient as its initial
        inverse Hessian, so it stays in the metric's space (smooth in depth under the Sobolev
        metric); `beta` (which must then be left at "FR") and `beta_inner` are not used and
        the history's beta is NaN. It generalises the conjugate directions: with m = 1 and
        exact line searches it is the Hestenes-Stiefel direction (Shanno's memoryless
        quasi-Newton method) [4]_. The memory is forgotten where the direction restarts (a
        new batch, a failed search, a direction that does not descend). It stores 2 m
        vectors of the weights' size.

    Raises
    ------
    ValueError
        For an unknown rule or metric, or a parameter out of range.

    Notes
    -----
    One iteration costs a gradient evaluation and a sensitivity sweep: the sensitivity sweep
    reads the forward states the gradient evaluation kept, and the trial points of the
    safeguard are evaluated with their gradient, which the next iteration then uses when it
    runs on the same batch (on the synthetic sets about 85 % of the trials are accepted, and
    80-98 % of those after a refused one: the adjoint sweep spent on a refused trial costs
    less than the second forward sweep a cost-only trial would need once accepted).

    References
    ----------
    .. [1] G. Baravdish et al., "Learning via nonlinear conjugate gradients and depth-varying
       neural ODEs", arXiv:2202.05766, 2022.
    .. [2] W. W. Hager, H. Zhang, "A survey of nonlinear conjugate gradient methods", Pacific
       Journal of Optimization 2(1), 35-58, 2006 (the beta rules).
    .. [3] J. Nocedal, S. J. Wright, "Numerical Optimization", 2nd ed., Springer, 2006.
    .. [4] J. Nocedal, "Updating quasi-Newton matrices with limited storage", Mathematics of
       Computation 35, 773-782, 1980; D. F. Shanno, "Conjugate gradient methods with inexact
       searches", Mathematics of Operations Research 3, 244-256, 1978.
    """

    beta: str = "FR"
    metric: str = "sobolev"
    alpha: "float | str" = "auto"
    sobolev_weight: float = 1.0
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
    beta_inner: str = "metric"
    drop_last: bool = False
    memory: int = 0
    ftol: float = 0.0
    n_iter_no_change: int = 10
    wolfe_c2: "float | str" = "auto"

    def __post_init__(self):
        for name, what, choices in (("beta_inner", "beta_inner", BETA_INNER),
                                    ("beta", "beta rule", BETA_RULES),
                                    ("metric", "metric", METRICS),
                                    ("step", "step rule", STEP_RULES)):
            value = getattr(self, name)
            if not (isinstance(value, str) and value in choices):
                raise ValueError(f"unknown {what} {value!r}; choose one of {choices}")
            object.__setattr__(self, name, str(value))  # (a numpy string as a plain one)
        _check_alpha(self)
        object.__setattr__(self, "sobolev_weight", _check_weight(self.sobolev_weight))
        object.__setattr__(self, "armijo", check_real(self.armijo, "armijo", minimum=0.0))
        if not self.armijo < 0.5:
            raise ValueError(f"armijo must be < 0.5, got {self.armijo}")
        if not (isinstance(self.wolfe_c2, str) and self.wolfe_c2 == "auto"):
            if isinstance(self.wolfe_c2, str):
                raise ValueError(f"wolfe_c2 must be a number in (0, 1) or 'auto', got "
                                 f"{self.wolfe_c2!r}")
            c2 = check_real(self.wolfe_c2, "wolfe_c2")
            if not 0.0 < c2 < 1.0:
                raise ValueError(f"wolfe_c2 must be in (0, 1), got {c2}")
            object.__setattr__(self, "wolfe_c2", c2)
        c1, c2 = self._c1(), self.c2()
        if self.step == "wolfe" and not c1 < c2:
            raise ValueError(f"wolfe_c2 must exceed the Wolfe search's c1 = max(armijo, 1e-8) "
                             f"= {c1:g}, got {c2:g}"
                             + (" (auto: give wolfe_c2)" if self.wolfe_c2 == "auto" else ""))
        object.__setattr__(self, "max_backtracks",
                           check_int(self.max_backtracks, "max_backtracks", 0))
        object.__setattr__(self, "memory", check_int(self.memory, "memory", 0))
        if self.memory and self.beta != "FR":
            raise ValueError(f"beta={self.beta!r} chooses a conjugate direction, which "
                             f"memory={self.memory} replaces by L-BFGS; use memory=0 for it")
        self._check_common()

    # --- one iteration ----------------------------------------------------------------------
    def _iterate(self, obj, state):
        if state["first"]:  # a new batch: an evaluation made on the last one does not count
            state.pop("next", None)
        ev = state.pop("next", None)
        state["pending"] = 0  # gradient evaluations made for the next iteration
        if ev is None:
            try:
                ev = obj.evaluate(grad=True, keep=None if self.step == "sensitivity" else False)
            except NonFiniteError:
                if not state.get("started"):  # at the starting weights: bad input, raise
                    raise
                # the weights accepted so far overflow on this batch: stop, keep them
                return dict(cost=np.inf, grad_norm=np.nan, beta=np.nan, step=0.0, restart=0,
                            rejected=0, backtracks=0, success=False,
                            stop="the cost is not finite at the current weights on this batch")
        state["started"] = True
        theta, J, G = ev.params, ev.value, ev.grad
        a, w = metric_alpha(self, obj), self.sobolev_weight
        g = _hybrid(G, obj.h, a, w)
        gg = pair_dot(G, g)
        rec = dict(cost=J, grad_norm=np.sqrt(max(gg, 0.0)), rejected=0, backtracks=0)
        state["fun"] = J
        if self.batch_size is None and rec["grad_norm"] <= self.tol:
            rec.update(step=0.0, beta=0.0, restart=0, stop="gradient norm below tol")
            state["next"] = ev
            return rec
        if gg == 0.0:  # a stationary point of this batch: nothing to do on it
            rec.update(step=0.0, beta=0.0, restart=1)
            state.update(force_restart=True, next=ev)
            return rec

        # beta's inner products: <u, v> in the metric is pair_dot(u's Euclidean gradient, v);
        # with beta_inner="euclidean", plain sums of the metric's gradients (the prototype's)
        dual = G if self.beta_inner == "metric" else g
        restart = state["first"] or self.beta == "sd" or state.get("force_restart", False)
        gg_beta = gg if dual is G else pair_dot(dual, g)
        if self.memory:  # the quasi-Newton direction: no beta (NaN), 0 for steepest descent
            n_pairs, d = self._quasi_newton(theta, G, g, restart, state, obj.h, a, w)
            beta = np.nan if n_pairs else 0.0
        else:
            beta = 0.0 if restart else self._beta(dual, g, gg_beta, state)
            d = (-g[0], -g[1]) if beta == 0.0 else pair_axpy(beta, state["d"], (-g[0], -g[1]))
        slope = pair_dot(G, d)
        if beta != 0.0 and not slope < 0.0:  # not a descent direction
            beta, d, slope, restart = 0.0, (-g[0], -g[1]), -gg, True
            if "pairs" in state:
                state["pairs"].clear()
        # a truncated beta (PR+, HS, ...) restarts the direction as well
        rec.update(beta=beta, restart=int(restart or beta == 0.0))
        state.update(dual=dual, g=g, gg=gg_beta, d=d, force_restart=False)

        # the trials with their gradients when the next iteration runs on this batch
        trials = _Trials(obj, theta, d, want_grad=state["more"],
                         keep=self.step == "sensitivity")
        rejected = n_back = 0
        flat = False
        if not (np.isfinite(slope) and slope < 0.0):
            eta = None  # the gradient overflowed: no line to search along
        elif self.step == "wolfe":
            max_step = _weight_step_bound(theta, d)
            eta, n_eval = linesearch.wolfe(trials.phi_dphi, J, slope, c1=self._c1(),
                                           c2=self.c2(), max_step=max_step)
            n_back = max(n_eval - 1, 0)
            rejected = trials.nonfinite
            if eta is None:  # backtracking, which knows the cost's rounding, from the step 1
                allowance = linesearch.ROUNDING * (abs(J) + obj.output_scale(ev))
                eta, k, nonfinite, flat = linesearch.backtrack(
                    trials.phi, J, slope, min(1.0, max_step), self.armijo,
                    self.max_backtracks, allowance=allowance)
                n_back += k
                rejected += nonfinite
                if eta is not None and not trials.value(eta) < J - allowance:
                    # a decrease within the cost's rounding: no progress along this line
                    # (along steepest descent, a minimiser to within rounding)
                    eta, flat = None, True
        else:
            line = obj.linearize(ev, d)
            max_step = np.inf
            if self.safeguard and line.output_rate > 0.0:
                max_step = state.setdefault("radius", RADIUS) / line.output_rate
            eta0 = linesearch.sensitivity_step(line, max_step)
            # the cost's rounding: relative to the terms it sums, not to itself (a cost near
            # zero is the small difference of outputs that carry rounding)
            allowance = linesearch.ROUNDING * (abs(J) + line.output_scale)
            if not (np.isfinite(eta0) and eta0 > 0.0):
                eta = None
            elif self.safeguard:
                eta, n_back, rejected, flat = linesearch.backtrack(
                    trials.phi, J, slope, eta0, self.armijo, self.max_backtracks,
                    allowance=allowance)
                state["radius"] = _radius(state["radius"], line, eta0, max_step, eta,
                                          trials.value(eta), J)
            else:  # the authors' rule, but a step to a non-finite cost is refused and halved
                eta, rejected = linesearch.first_finite(trials.phi, eta0, self.max_backtracks)
                n_back = rejected
        rec["rejected"] = rejected
        rec["backtracks"] = n_back
        if eta is None:  # no acceptable step: keep the weights, restart next time
            trials.release_all(obj)
            rec["step"] = 0.0
            state["force_restart"] = True
            state["next"] = ev  # still the gradient at the (unchanged) weights
            if restart:
                rec.update(self._no_descent(flat))
            return rec
        accepted = trials.take(eta, obj)
        obj.release(ev)
        obj.set_params(accepted.params)
        state["fun"] = accepted.value
        if accepted.grad is not None and state["more"]:
            state.update(next=accepted, pending=1)
        else:
            obj.release(accepted)
        rec["step"] = eta
        return rec

    def _c1(self):
        """The sufficient-decrease constant of the "wolfe" search (scipy's needs c1 > 0)."""
        return max(self.armijo, 1e-8)

    def c2(self):
        """The curvature constant of the "wolfe" search (`wolfe_c2`, "auto" resolved)."""
        if self.wolfe_c2 == "auto":
            return 0.9 if self.memory else 0.1
        return self.wolfe_c2

    def _no_descent(self, flat):
        """What ends a search along steepest descent that found no step: the record's
        stop (full batch) or the move to the next batch (mini-batch)."""
        if flat:  # no decrease the cost can resolve: a minimiser, to within rounding
            if self.batch_size is None:
                return dict(stop="converged: no step along steepest descent decreases the "
                                 "cost beyond its rounding", success=True)
            return dict(next_batch=True)
        warnings.warn("no step along steepest descent decreases the cost"
                      + ("; stopping" if self.batch_size is None else
                         " on this batch; going on with the next"),
                      LineSearchWarning, stacklevel=5)
        if self.batch_size is None:
            return dict(stop="line search failed along steepest descent", success=False)
        return dict(next_batch=True)

    def _quasi_newton(self, theta, G, g, restart, state, h, a, w):
        """The limited-memory BFGS direction (docs/method.md): -H G for the inverse-Hessian
        estimate that the BFGS updates with the last `memory` pairs (s, y) of steps and
        gradient changes make of the scaled metric H0 = gamma A^-1 (A^-1 G = g the metric's
        gradient; gamma = <s, y> / <y, A^-1 y> of the newest pair), in the compact form of
        Byrd, Nocedal and Schnabel: a few products with the stored pairs and m x m triangular
        solves instead of the two-loop recursion's 4 m vector operations. Pairs with no
        positive curvature <s, y> are skipped; a restart forgets them all. Returns (number of
        pairs used, direction)."""
        x, gx = _flat(theta), _flat(G)
        shapes = (G[0].shape, G[1].shape)

        def riesz(v):  # A^-1 v for a flat v (the metric's, hybrid or not)
            return _flat(_hybrid(_unflat(v, shapes), h, a, w))

        qn = state.get("pairs")
        if qn is None or qn.S.shape[1] != x.size:
            qn = state["pairs"] = _Pairs(self.memory, x.size)
        prev = state.get("prev")
        state["prev"] = (x, gx)
        if restart or prev is None:
            qn.clear()
        else:
            qn.add(x - prev[0], gx - prev[1], riesz)
        if not qn.order:
            return 0.0, (-g[0], -g[1])
        r = qn.apply(gx, _flat(g), riesz)
        np.negative(r, out=r)
        return float(len(qn.order)), _unflat(r, shapes)

    def _beta(self, G, g, gg, state):
        # G: the Euclidean form of this iteration's gradient in beta's inner product
        Gp, gp, ggp, dp = state["dual"], state["g"], state["gg"], state["d"]
        if ggp <= 0.0:
            return 0.0
        fr = gg / ggp
        if self.beta == "FR":
            return fr
        pr = (gg - pair_dot(G, gp)) / ggp  # <g_k, g_k - g_{k-1}> / |g_{k-1}|^2
        if self.beta == "PR+":
            return max(0.0, pr)
        if self.beta == "FR-PR":
            return max(-fr, min(fr, pr))
        dy = pair_dot(dp, G) - pair_dot(dp, Gp)  # <d_{k-1}, y_k> in the metric
        if dy == 0.0:
            return 0.0
        if self.beta == "HS":
            return (gg - pair_dot(G, gp)) / dy
        return gg / dy  # DY


#: Vectors from this many entries on are combined by einsum's own loops, not BLAS (see _dot).
_BLAS_MAX = 8192


def _dot(n):
    """The dot product for vectors of n entries: BLAS's for short ones, einsum's own loop for
    long ones (a threaded BLAS woken between the sweeps' OpenMP regions competes with their
    idle threads; see trainer.pair_dot)."""
    return _blas_dot if n < _BLAS_MAX else _einsum_dot


def _blas_dot(u, v):
    return float(np.dot(u, v))


def _einsum_dot(u, v):
    return float(np.einsum("i,i->", u, v))


def _flat(p):
    return np.concatenate((p[0].ravel(), p[1].ravel()))


def _unflat(v, shapes):
    n = int(np.prod(shapes[0]))
    return v[:n].reshape(shapes[0]), v[n:].reshape(shapes[1])


class _Pairs:
    """The last m pairs (s, y) of L-BFGS in rows of two (m, n) arrays, with the products the
    compact form needs: SY[i, j] = <s_i, y_j> and YAY[i, j] = <y_i, A^-1 y_j> over the rows
    (slots), and the slots' order from oldest to newest. Adding a pair overwrites the oldest
    slot and updates one row and column of each product (three products with the rows)."""

    def __init__(self, m, n):
        self.S, self.Y = np.zeros((m, n)), np.zeros((m, n))
        self.SY, self.YAY = np.zeros((m, m)), np.zeros((m, m))
        self.order = []

    def clear(self):
        self.order.clear()

    def add(self, s, y, riesz):
        """Store the pair (s, y) when <s, y> > 0 (relative to |s| |y|); riesz(y) = A^-1 y."""
        dot = _dot(s.size)
        sy = dot(s, y)
        if not sy > 1e-12 * np.sqrt(dot(s, s) * dot(y, y)):
            return
        m = self.S.shape[0]
        slot = len(self.order) if len(self.order) < m else self.order.pop(0)
        self.order.append(slot)
        self.S[slot], self.Y[slot] = s, y
        self.SY[slot, :] = _matvec(self.Y, s)  # <s_new, y_j>
        self.SY[:, slot] = _matvec(self.S, y)  # <s_i, y_new>
        self.YAY[slot, :] = self.YAY[:, slot] = _matvec(self.Y, riesz(y))

    def apply(self, G, g, riesz):
        """``H G = gamma g + S u - gamma A^-1 (Y w)`` for G (Euclidean gradient) and
        g = A^-1 G, with ``w = R^-1 S^T G`` and
        ``u = R^-T ((D + gamma Y^T A^-1 Y) w - gamma Y^T g)``, R the upper triangle of S^T Y
        in the pairs' order and D its diagonal; riesz(v) = A^-1 v."""
        idx = np.array(self.order)
        new = idx[-1]
        gamma = self.SY[new, new] / self.YAY[new, new]
        # S^T Y in the pairs' order: R is its upper triangle, the only one the triangular
        # solves read (LAPACK's, called as it is: R's diagonal, <s_i, y_i>, is positive by
        # the pairs' admission test, and scipy's checking wrapper costs 30 times the solve)
        R = self.SY.take(idx, 0).take(idx, 1)
        p1 = _matvec(self.S, G)[idx]
        p2 = _matvec(self.Y, g)[idx]
        w = dtrtrs(R, p1, lower=0, trans=0)[0]
        yay = self.YAY.take(idx, 0).take(idx, 1)
        rhs = np.diag(R) * w + gamma * (yay @ w) - gamma * p2
        u = dtrtrs(R, rhs, lower=0, trans=1)[0]
        m = self.S.shape[0]
        uu, ww = np.zeros(m), np.zeros(m)  # (the coefficients by slot)
        uu[idx], ww[idx] = u, w
        r = gamma * g + _rmatvec(self.S, uu)
        r -= gamma * riesz(_rmatvec(self.Y, ww))
        return r


def _matvec(M, v):
    """M @ v for the stored pairs (rows of M); BLAS for short rows, einsum's own loop for long
    ones (see _dot)."""
    return M @ v if M.shape[1] < _BLAS_MAX else np.einsum("ij,j->i", M, v)


def _rmatvec(M, c):
    """M^T @ c, the combination of M's rows with coefficients c."""
    return c @ M if M.shape[1] < _BLAS_MAX else np.einsum("i,ij->j", c, M)


def auto_alpha(T):
    """The Sobolev weight alpha = (T / 6)^2 of ``alpha="auto"``: the metric smooths over a
    sixth of the depth [0, T] whatever T is.

    Measured (bench/bench_metric.py): at alpha = 1 and T = 6 (the estimators' defaults) the
    Sobolev metric trains the synthetic classification sets faster than the L2 metric, with
    weights several times smoother over depth; at T = 1 (the teacher problem) alpha = 1
    smooths over the whole depth and NCG needs 5-10 times the L2 metric's iterations, while
    (T/6)^2 keeps the Sobolev run's smoothness at a fraction of that cost.
    """
    return (float(T) / 6.0) ** 2


def _check_alpha(opt):
    if not (isinstance(opt.alpha, str) and opt.alpha == "auto"):
        object.__setattr__(opt, "alpha", check_real(opt.alpha, "alpha", minimum=0.0))


def metric_alpha(opt, obj):
    """The alpha of an optimiser's metric on this objective: 0 for the L2 metric."""
    if opt.metric != "sobolev":
        return 0.0
    return auto_alpha(obj.net.T) if opt.alpha == "auto" else opt.alpha


#: The trust radius of the safeguarded sensitivity step, in the root mean square change of x(T)
#: over samples: none at first (the linearised model's minimiser is taken as it is, which
#: keeps exact line searches on quadratics); set by the first step that over-reaches.
RADIUS = np.inf
RADIUS_BOUNDS = (1e-12, np.inf)


def _radius(radius, line, eta0, max_step, eta, value, J):
    """The trust radius after a safeguarded step (the classical update of a trust region on
    the linearisation, in the outputs' units; Nocedal & Wright, algorithm 4.1): the change of
    the accepted step after a backtrack (a quarter of the first trial's after a failed
    search); half the step's change when the model predicted the decrease poorly (ratio of
    actual to predicted decrease below 1/4); doubled when a step at the radius was predicted
    well (ratio above 3/4)."""
    rate = line.output_rate
    if not rate > 0.0:  # the direction does not move the outputs: nothing to learn
        return radius
    if eta is None:
        radius = 0.25 * eta0 * rate
    elif eta < eta0:
        radius = eta * rate
    else:
        predicted = J - line(eta)[0]
        ratio = (J - value) / predicted if predicted > 0.0 else 1.0
        if ratio < 0.25:
            radius = 0.5 * eta * rate
        elif ratio > 0.75 and eta >= max_step * (1.0 - 1e-12):
            radius = 2.0 * radius
    lo, hi = RADIUS_BOUNDS
    return min(max(radius, lo), hi) if np.isfinite(radius) else radius


#: The "wolfe" search's bound: a step changes no weight by more than this times the largest
#: weight (or than this, for weights below 1 in size). Where the cost is flat along some
#: weights (saturated units; the cross-entropy of separable data without decay) the L-BFGS
#: direction can be long along them, and its step 1 threw the weights from 1e3 to 2e5; in
#: training on the synthetic sets, 99.9 % of the accepted steps changed the weights by less
#: than 0.7 times the largest (the largest by 3.3).
MAX_WEIGHT_STEP = 1.0


def _weight_step_bound(theta, d):
    """The longest step eta along d that the "wolfe" search tries (MAX_WEIGHT_STEP)."""
    size = max(float(np.abs(theta[0]).max(initial=0.0)), float(np.abs(theta[1]).max(initial=0.0)),
               1.0)
    dmax = max(float(np.abs(d[0]).max(initial=0.0)), float(np.abs(d[1]).max(initial=0.0)))
    return MAX_WEIGHT_STEP * size / dmax if dmax > 0.0 else np.inf


class _Trials:
    """The trial points theta + eta d of one line search, as the scalar phi the searches see.

    With want_grad, every trial is evaluated with its gradient (and kept forward states):
    accepted, it is the next iteration's gradient evaluation. `phi` serves the backtracking
    searches, which accept only their last trial: it releases the earlier trials' states
    (at most one set of kept states at a time).
    """

    def __init__(self, obj, theta, d, want_grad, keep):
        self.obj, self.theta, self.d = obj, theta, d
        self.want_grad, self.keep = want_grad, keep
        self.evals = {}
        self.nonfinite = 0  # trial steps whose cost was not finite

    def _params(self, eta):
        return (self.theta[0] + eta * self.d[0], self.theta[1] + eta * self.d[1])

    def _evaluate(self, eta, grad):
        p = self._params(eta)
        if not pair_finite(p):
            return None
        try:
            ev = self.obj.evaluate(p, grad=grad, keep=None if (self.keep and grad) else False)
        except NonFiniteError:
            return None
        self.evals[eta] = ev
        return ev

    def phi(self, eta):
        self.release_all(self.obj)
        ev = self._evaluate(eta, grad=self.want_grad)
        return np.inf if ev is None else ev.value

    def phi_dphi(self, eta):
        ev = self._evaluate(eta, grad=True)
        if ev is None:
            self.nonfinite += 1
            return np.inf, np.nan
        return ev.value, pair_dot(ev.grad, self.d)

    def value(self, eta):
        """The cost at an evaluated trial step (None for None)."""
        return None if eta is None else self.evals[eta].value

    def take(self, eta, obj):
        """The evaluation at the accepted eta; the other trials' states are released."""
        accepted = self.evals.pop(eta, None)
        self.release_all(obj)
        if accepted is None:  # (a search that returned a step it did not evaluate)
            accepted = self.obj.evaluate(self._params(eta), grad=False)
        return accepted

    def release_all(self, obj):
        for ev in self.evals.values():
            obj.release(ev)
        self.evals.clear()
