"""Nonlinear conjugate gradients with a sensitivity step and Sobolev gradients
(docs/method.md, the NCG iteration)."""
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_bool, check_choice, check_int, check_real
from ..exceptions import LineSearchWarning, NonFiniteError
from . import linesearch
from .lbfgs import LBFGS
from .metric import METRICS, DepthMetric
from .trainer import Step, Trainer, pair_axpy, pair_dot, pair_finite

__all__ = ["NCG", "BETA_RULES", "STEP_RULES", "BETA_INNER"]

BETA_RULES = ("FR", "PR+", "HS", "DY", "FR-PR", "sd")
STEP_RULES = ("sensitivity", "wolfe")
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
        (:func:`snode.optim.auto_alpha`; measurements: docs/decisions.md).
    sobolev_weight : float in [0, 1], default 1
        Under the "sobolev" metric, the hybrid gradient ``w g_S + (1 - w) G / h`` of the
        Sobolev gradient g_S and the L2 one: the Riesz representer in the metric whose
        inverse is the same blend of the two inverses (:func:`snode.sobolev_gradient`;
        docs/method.md); the direction, the L-BFGS initial inverse Hessian and the gradient
        norms all use it. 1: the Sobolev metric, 0: the L2 metric. The estimators use 0.5 in
        full-batch mode and 1 with mini-batches (docs/decisions.md).
    step : {"sensitivity", "wolfe"}, default "sensitivity"
        "sensitivity": minimise the cost with x(T) replaced by its linearisation along the
        direction (closed form for the quadratic terms; a safeguarded Newton/bisection root of
        phi' when ce > 0). "wolfe": a strong-Wolfe line search (scipy's) from the step 1,
        each trial with its gradient; where it finds no step, backtracking (Armijo, with the
        rounding allowance of the sensitivity step's safeguard) from 1. The estimators take
        "wolfe" for the L-BFGS direction (docs/decisions.md).
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
    runs on the same batch (most trials are accepted: docs/decisions.md).

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

    Examples
    --------
    >>> import snode
    >>> X, Y, _ = snode.data.teacher(200, seed=0)
    >>> net = snode.SNODE(width=4, n_steps=20, seed=1)
    >>> result = snode.NCG(memory=10, max_iter=30).minimize(net, snode.Cost(), X, Y)
    >>> result.n_iter, bool(result.cost < result.history["cost"][0] / 10)
    (30, True)
    """

    beta: str = "FR"
    metric: str = "sobolev"
    alpha: "float | str" = "auto"
    sobolev_weight: float = 1.0
    step: str = "sensitivity"
    safeguard: bool = True
    armijo: float = 1e-4
    max_backtracks: int = 30
    beta_inner: str = "metric"
    memory: int = 0
    wolfe_c2: "float | str" = "auto"
    iterations_per_batch: int = field(default=6, kw_only=True)

    def __post_init__(self):
        for name, what, choices in (("beta_inner", "beta_inner", BETA_INNER),
                                    ("beta", "beta rule", BETA_RULES),
                                    ("metric", "metric", METRICS),
                                    ("step", "step rule", STEP_RULES)):
            # (a numpy string as a plain one)
            object.__setattr__(self, name, check_choice(getattr(self, name), name, choices,
                                                        what))
        depth = DepthMetric(self.metric, self.alpha, self.sobolev_weight)
        object.__setattr__(self, "alpha", depth.alpha)
        object.__setattr__(self, "sobolev_weight", depth.weight)
        object.__setattr__(self, "safeguard", check_bool(self.safeguard, "safeguard"))
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
        self.check_schedule()

    @property
    def depth_metric(self):
        """The metric in depth (:class:`snode.optim.DepthMetric`) of `metric`, `alpha` and
        `sobolev_weight`."""
        return DepthMetric(self.metric, self.alpha, self.sobolev_weight)

    def init_state(self, objective):
        return _NCGState()

    # --- one iteration ----------------------------------------------------------------------
    def iterate(self, obj, state, loop):
        if loop.first:  # a new batch: an evaluation made on the last one does not count
            state.next = None
        ev, state.next = state.next, None
        loop.pending = 0  # gradient evaluations made for the next iteration
        if ev is None:
            try:
                ev = obj.evaluate(grad=True, keep=None if self.step == "sensitivity" else False)
            except NonFiniteError:
                if not state.started:  # at the starting weights: bad input, raise
                    raise
                # the weights accepted so far overflow on this batch: stop, keep them
                return Step(cost=np.inf, grad_norm=np.nan, beta=np.nan, step=0.0, restart=0,
                            rejected=0, backtracks=0, success=False,
                            stop="the cost is not finite at the current weights on this batch")
        state.started = True
        theta, J, G = ev.params, ev.value, ev.grad
        metric = self.depth_metric.at(obj.net.h, obj.net.T)
        g = metric.gradient(G)
        gg = pair_dot(G, g)
        grad_norm = np.sqrt(max(gg, 0.0))
        loop.fun = J
        if self.batch_size is None and grad_norm <= self.tol:
            state.next = ev
            return Step(cost=J, grad_norm=grad_norm, beta=0.0, step=0.0, restart=0, rejected=0,
                        backtracks=0, stop="gradient norm below tol")
        if gg == 0.0:  # a stationary point of this batch: nothing to do on it
            state.force_restart, state.next = True, ev
            return Step(cost=J, grad_norm=grad_norm, beta=0.0, step=0.0, restart=1, rejected=0,
                        backtracks=0)

        # beta's inner products: <u, v> in the metric is pair_dot(u's Euclidean gradient, v);
        # with beta_inner="euclidean", plain sums of the metric's gradients (the prototype's)
        dual = G if self.beta_inner == "metric" else g
        restart = loop.first or self.beta == "sd" or state.force_restart
        gg_beta = gg if dual is G else pair_dot(dual, g)
        if self.memory:  # the quasi-Newton direction: no beta (NaN), 0 for steepest descent
            if state.lbfgs is None:
                state.lbfgs = LBFGS(self.memory)
            n_pairs, d = state.lbfgs.direction(theta, G, g, restart, metric)
            beta = np.nan if n_pairs else 0.0
        else:
            beta = 0.0 if restart else self._beta(dual, g, gg_beta, state)
            d = (-g[0], -g[1]) if beta == 0.0 else pair_axpy(beta, state.d, (-g[0], -g[1]))
        slope = pair_dot(G, d)
        if beta != 0.0 and not slope < 0.0:  # not a descent direction
            beta, d, slope, restart = 0.0, (-g[0], -g[1]), -gg, True
            if state.lbfgs is not None:
                state.lbfgs.forget()
        # a truncated beta (PR+, HS, ...) restarts the direction as well
        restarted = int(restart or beta == 0.0)
        state.dual, state.g, state.gg, state.d = dual, g, gg_beta, d
        state.force_restart = False

        # the trials with their gradients when the next iteration runs on this batch
        trials = _Trials(obj, theta, d, want_grad=loop.more, keep=self.step == "sensitivity")
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
                allowance = linesearch.rounding(obj.eps) * (abs(J) + obj.output_scale(ev))
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
                max_step = state.radius / line.output_rate
            eta0 = linesearch.sensitivity_step(line, max_step)
            # the cost's rounding: relative to the terms it sums, not to itself (a cost near
            # zero is the small difference of outputs that carry rounding)
            allowance = linesearch.rounding(obj.eps) * (abs(J) + line.output_scale)
            if not (np.isfinite(eta0) and eta0 > 0.0):
                eta = None
            elif self.safeguard:
                eta, n_back, rejected, flat = linesearch.backtrack(
                    trials.phi, J, slope, eta0, self.armijo, self.max_backtracks,
                    allowance=allowance)
                state.radius = _radius(state.radius, line, eta0, max_step, eta,
                                       trials.value(eta), J)
            else:  # the authors' rule, but a step to a non-finite cost is refused and halved
                eta, rejected = linesearch.first_finite(trials.phi, eta0, self.max_backtracks)
                n_back = rejected
        out = Step(cost=J, grad_norm=grad_norm, beta=beta, step=0.0, restart=restarted,
                   rejected=rejected, backtracks=n_back)
        if eta is None:  # no acceptable step: keep the weights, restart next time
            trials.release_all(obj)
            state.force_restart = True
            state.next = ev  # still the gradient at the (unchanged) weights
            if restart:
                self._no_descent(flat, out)
            return out
        accepted = trials.take(eta, obj)
        obj.release(ev)
        obj.set_params(accepted.params)
        loop.fun = accepted.value
        if accepted.grad is not None and loop.more:
            state.next, loop.pending = accepted, 1
        else:
            obj.release(accepted)
        out.step = eta
        return out

    def _c1(self):
        """The sufficient-decrease constant of the "wolfe" search (scipy's needs c1 > 0)."""
        return max(self.armijo, 1e-8)

    def c2(self):
        """The curvature constant of the "wolfe" search (`wolfe_c2`, "auto" resolved)."""
        if self.wolfe_c2 == "auto":
            return 0.9 if self.memory else 0.1
        return self.wolfe_c2

    def _no_descent(self, flat, out):
        """What ends a search along steepest descent that found no step, set on the step
        `out`: the stop (full batch) or the move to the next batch (mini-batch)."""
        if flat:  # no decrease the cost can resolve: a minimiser, to within rounding
            if self.batch_size is None:
                out.stop = ("converged: no step along steepest descent decreases the cost "
                            "beyond its rounding")
            else:
                out.next_batch = True
            return
        warnings.warn("no step along steepest descent decreases the cost"
                      + ("; stopping" if self.batch_size is None else
                         " on this batch; going on with the next"),
                      LineSearchWarning, stacklevel=5)
        if self.batch_size is None:
            out.stop, out.success = "line search failed along steepest descent", False
        else:
            out.next_batch = True

    def _beta(self, G, g, gg, state):
        # G: the Euclidean form of this iteration's gradient in beta's inner product
        Gp, gp, ggp, dp = state.dual, state.g, state.gg, state.d
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


#: The trust radius of the safeguarded sensitivity step, in the root mean square change of x(T)
#: over samples: none at first (the linearised model's minimiser is taken as it is, which
#: keeps exact line searches on quadratics); set by the first step that over-reaches.
RADIUS = np.inf
RADIUS_BOUNDS = (1e-12, np.inf)


@dataclass
class _NCGState:
    """NCG's state between iterations."""

    next: object = None          # a gradient evaluation at the current weights, for the next
    started: bool = False        # an iteration has evaluated the cost
    force_restart: bool = False  # the next direction restarts (a failed search, no descent)
    radius: float = RADIUS       # the sensitivity step's trust radius
    lbfgs: object = None         # L-BFGS's memory (with memory > 0)
    dual: object = None          # beta's inputs from the last iteration: the gradient in its
    g: object = None             # inner product, the metric's gradient, their product and
    gg: float = math.nan         # the direction
    d: object = None


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
#: weight (or than this, for weights below 1 in size): where the cost is flat along some
#: weights the L-BFGS direction can be long along them (docs/decisions.md).
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
