"""Training: NCG (every beta rule, metric and step rule), the baselines, scipy's optimisers."""
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

import snode
from snode import datasets as ds
from snode.optim import BETA_RULES
from snode.optim.linesearch import newton_bisect as _newton_bisect


def _quadratic_problem(seed=0, d=3, N=40, decay=0.1):
    """K = 1, explicit Euler, identity activation: x(T) = x0 + T (W x0 + b) is linear in the
    weights, so the cost is a strictly convex quadratic with a closed-form minimiser."""
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(N, d)), rng.normal(size=(N, d))
    A = np.hstack([X, np.ones((N, 1))])
    theta = np.linalg.solve(A.T @ A / N + decay * np.eye(d + 1), A.T @ (Y - X) / N)
    cost = snode.Cost(mse=1.0, decay=decay)
    return X, Y, cost, theta[:d].T, theta[d]


def _linear_net(d=3):
    return snode.SNODE(d, 1, T=1.0, scheme="euler", activation="identity", init="zeros")


def _teacher_problem(seed=1, d=3, K=6, N=120):
    rng = np.random.default_rng(seed)
    teacher = snode.SNODE(d, K, T=1.0, seed=seed)
    teacher.W *= 6
    X = rng.normal(size=(N, d))
    return X, teacher.forward(X), snode.Cost(mse=1.0)


@pytest.mark.parametrize("metric", ["sobolev", "l2"])
@pytest.mark.parametrize("beta", BETA_RULES)
def test_ncg_sensitivity_step_finds_the_minimiser_of_a_quadratic(beta, metric):
    X, Y, cost, W, b = _quadratic_problem()
    net = _linear_net()
    res = snode.NCG(beta=beta, metric=metric, max_iter=200, tol=1e-10).minimize(net, cost, X, Y)
    assert res.success and res.message == "gradient norm below tol", res.message
    np.testing.assert_allclose(net.W[0], W, atol=1e-9)
    np.testing.assert_allclose(net.b[0], b, atol=1e-9)
    # with an exact line search on a quadratic, the conjugate rules are linear CG
    assert res.n_iter <= (8 if beta != "sd" else 100)


@pytest.mark.parametrize("beta", BETA_RULES)
def test_ncg_wolfe_step_finds_the_minimiser_of_a_quadratic(beta):
    X, Y, cost, W, b = _quadratic_problem(seed=2)
    net = _linear_net()
    res = snode.NCG(beta=beta, step="wolfe", max_iter=200, tol=1e-6).minimize(net, cost, X, Y)
    assert res.success
    np.testing.assert_allclose(net.W[0], W, atol=1e-5)
    np.testing.assert_allclose(net.b[0], b, atol=1e-5)


def test_lbfgs_with_the_wolfe_search_finds_the_minimiser_of_a_quadratic():
    X, Y, cost, W, b = _quadratic_problem(seed=2)
    net = _linear_net()
    res = snode.NCG(memory=5, step="wolfe", max_iter=200, tol=1e-9).minimize(net, cost, X, Y)
    assert res.success and res.message == "gradient norm below tol", res.message
    np.testing.assert_allclose(net.W[0], W, atol=1e-8)
    np.testing.assert_allclose(net.b[0], b, atol=1e-8)
    # quasi-Newton steps: the first trial, 1, is accepted once the pairs know the curvature
    assert np.mean(res.history["step"][3:-1] == 1.0) > 0.5


def test_the_wolfe_curvature_constant():
    assert snode.NCG(step="wolfe").c2() == 0.1  # conjugate directions: nearly exact
    assert snode.NCG(step="wolfe", memory=3).c2() == 0.9  # quasi-Newton: the step 1
    assert snode.NCG(wolfe_c2=0.5, memory=3).c2() == 0.5
    for bad in (0.0, 1.0, 1.5, -1.0, np.nan, "x", None, True):
        with pytest.raises((ValueError, TypeError), match="wolfe_c2"):
            snode.NCG(wolfe_c2=bad)
    # the Wolfe search needs c2 above its c1 = max(armijo, 1e-8), "auto" resolved too
    for bad in (dict(wolfe_c2=1e-5), dict(armijo=0.0, wolfe_c2=1e-9),
                dict(armijo=0.3), dict(armijo=0.3, memory=3, wolfe_c2=0.2)):
        with pytest.raises(ValueError, match="wolfe_c2 must exceed"):
            snode.NCG(step="wolfe", **bad)
    snode.NCG(armijo=0.3)  # (the sensitivity step: no Wolfe search, no c2)
    snode.NCG(step="wolfe", armijo=0.3, memory=3)
    # the rules are plain strings (a one-element array is not one)
    for name in ("step", "beta", "metric", "beta_inner"):
        with pytest.raises(ValueError, match="unknown"):
            snode.NCG(**{name: np.array([getattr(snode.NCG(), name)])})
    assert type(snode.NCG(step=np.str_("wolfe")).step) is str


def test_the_wolfe_search_returns_only_steps_with_sufficient_decrease():
    from snode.optim.linesearch import wolfe

    # phi decreases with slope -6 up to eta = 1, then jumps up: scipy's search, out of
    # iterations after doubling to 2, ends there unchecked; the wrapper refuses it
    def phi_dphi(eta):
        return (-6.0 * eta, -6.0) if eta <= 1.0 else (100.0, 0.0)

    assert wolfe(phi_dphi, 0.0, -6.0, c2=0.9, max_iter=1)[0] is None
    # a quadratic with its minimiser at 3: the bound is kept
    quad = lambda eta: ((eta - 3.0) ** 2, 2.0 * (eta - 3.0))  # noqa: E731
    eta, _ = wolfe(quad, 9.0, -6.0, c2=0.9, max_step=2.0)
    assert 0.0 < eta <= 2.0 and quad(eta)[0] <= 9.0 - 1e-4 * 6.0 * eta
    assert wolfe(quad, 9.0, -6.0, c2=0.1)[0] == pytest.approx(3.0, rel=0.1)


def test_a_wolfe_step_changes_the_weights_by_at_most_the_bound():
    """Along weights the cost is flat on (separable data, no decay) the L-BFGS direction can
    be long; no step of the "wolfe" search changes a weight by more than MAX_WEIGHT_STEP
    times the largest weight (or 1)."""
    from snode.optim.ncg import MAX_WEIGHT_STEP

    X, y = _blobs(104, 2, 2)
    net = snode.SNODE(4, 20, T=6.0, seed=4)
    cost = snode.Cost(mse=0.0, ce=1.0, n_classes=2)
    seen = [(net.W.copy(), net.b.copy())]
    changes = []

    def record(rec):
        W, b = seen[-1]
        size = max(np.abs(W).max(), np.abs(b).max(), 1.0)
        changes.append(max(np.abs(net.W - W).max(), np.abs(net.b - b).max()) / size)
        seen.append((net.W.copy(), net.b.copy()))

    res = snode.NCG(memory=10, step="wolfe", max_iter=150, tol=1e-12).minimize(
        net, cost, X, labels=y, callback=record)
    assert res.n_iter > 20 and max(changes) <= MAX_WEIGHT_STEP * (1 + 1e-9)
    assert np.isclose(max(changes), MAX_WEIGHT_STEP)  # (the bound is met: it is needed)


def test_safeguarded_ncg_never_increases_the_cost():
    X, Y, cost = _teacher_problem()
    for beta in ("FR", "PR+", "HS"):
        net = snode.SNODE(3, 6, T=1.0, seed=7)
        res = snode.NCG(beta=beta, max_iter=60).minimize(net, cost, X, Y)
        J = res.history["cost"]
        assert np.all(np.diff(J) <= 1e-12 * J[:-1])
        assert cost(net, X, Y) < 0.2 * J[0]


def test_sobolev_metric_keeps_weights_smoother():
    X, Y, cost = _teacher_problem(seed=3, K=30)
    rough = {}
    for metric in ("l2", "sobolev"):
        net = snode.SNODE(3, 30, T=1.0, init="zeros")
        snode.NCG(metric=metric, alpha=1.0, max_iter=30).minimize(net, cost, X, Y)
        rough[metric] = np.sum(np.diff(net.W, axis=0) ** 2) / np.sum(net.W ** 2)
    assert rough["sobolev"] < 0.5 * rough["l2"]


def test_auto_alpha_smooths_over_a_sixth_of_the_depth():
    from snode.optim import auto_alpha
    assert auto_alpha(6.0) == 1.0 and auto_alpha(3.0) == 0.25
    X, Y, cost = _teacher_problem(seed=3, K=12)
    for T in (1.0, 3.0):
        nets = []
        for alpha in ("auto", auto_alpha(T)):
            net = snode.SNODE(3, 12, T=T, init="zeros")
            snode.NCG(alpha=alpha, max_iter=5).minimize(net, cost, X, Y)
            nets.append(net.W.copy())
        np.testing.assert_array_equal(nets[0], nets[1])
    with pytest.raises(ValueError, match="alpha"):
        snode.NCG(alpha="smooth")


def test_cross_entropy_step_is_the_root_of_the_linearised_slope():
    # identity activation with K = 1: x(T) is linear in the weights, so the linearised cost is
    # the true cost along the direction and the step is the exact line minimiser
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 3))
    labels = rng.integers(0, 3, size=60)
    cost = snode.Cost(mse=0.0, ce=1.0, n_classes=3, decay=0.01)
    net = _linear_net()
    net.W[0] = 0.3 * rng.normal(size=(3, 3))
    W0, b0 = net.W.copy(), net.b.copy()
    res = snode.NCG(beta="sd", metric="l2", safeguard=False, max_iter=1).minimize(
        net, cost, X, labels=labels)
    eta = res.history["step"][0]
    dW, db = (net.W - W0) / eta, (net.b - b0) / eta

    def J_along(t):
        trial = net.copy()
        trial.W, trial.b = W0 + t * dW, b0 + t * db
        return cost(trial, X, labels=labels)

    e = 1e-4 * eta
    slope = (J_along(eta + e) - J_along(eta - e)) / (2 * e)
    slope0 = (J_along(e) - J_along(-e)) / (2 * e)
    assert abs(slope) < 1e-6 * abs(slope0)


def test_newton_bisection_root():
    root = _newton_bisect(lambda t: (np.tanh(t - 3.7), 1 - np.tanh(t - 3.7) ** 2),
                          np.tanh(-3.7))
    assert root == pytest.approx(3.7, abs=1e-12)


def test_minibatch_schedule_and_restarts():
    X, Y, cost = _teacher_problem()
    net = snode.SNODE(3, 6, T=1.0, seed=7)
    res = snode.NCG(batch_size=32, iterations_per_batch=4, epochs=3, seed=0).minimize(
        net, cost, X, Y)
    n_batches = int(np.ceil(120 / 32))
    assert res.n_iter == 3 * n_batches * 4
    h = res.history
    starts = np.flatnonzero(np.r_[True, np.diff(h["batch"]) != 0])
    assert len(starts) == 3 * n_batches
    assert np.all(h["restart"][starts] == 1) and np.all(h["beta"][starts] == 0)
    assert np.any(h["beta"] > 0)
    assert np.all(np.diff(h["evaluations"]) > 0)
    assert cost(net, X, Y) < h["cost"][0]


def test_same_seed_same_training():
    X, Y, cost = _teacher_problem()
    out = []
    for _ in range(2):
        net = snode.SNODE(3, 6, T=1.0, seed=7)
        snode.NCG(batch_size=40, epochs=2, seed=5).minimize(net, cost, X, Y)
        out.append(net.W.copy())
    np.testing.assert_array_equal(out[0], out[1])


@pytest.mark.parametrize("opt", [snode.Adam(lr=0.02, max_iter=150),
                                 snode.GradientDescent(lr=0.2, momentum=0.9, max_iter=150),
                                 snode.GradientDescent(lr=0.2, momentum=0.9, nesterov=True,
                                                       batch_size=30, epochs=20, seed=0)])
def test_baselines_decrease_the_cost(opt):
    X, Y, cost = _teacher_problem()
    net = snode.SNODE(3, 6, T=1.0, seed=7)
    J0 = cost(net, X, Y)
    res = opt.minimize(net, cost, X, Y)
    assert res.success
    assert cost(net, X, Y) < 0.5 * J0


def test_gradient_descent_reaches_the_quadratic_minimiser():
    X, Y, cost, W, b = _quadratic_problem()
    net = _linear_net()
    res = snode.GradientDescent(lr=0.5, max_iter=2000, tol=1e-10).minimize(net, cost, X, Y)
    assert res.message == "gradient norm below tol"
    np.testing.assert_allclose(net.W[0], W, atol=1e-8)


def test_divergence_restores_the_last_good_weights():
    X, Y, cost = _teacher_problem()
    net = snode.SNODE(3, 6, T=1.0, seed=7, activation="identity")
    res = snode.GradientDescent(lr=1e8, max_iter=20).minimize(net, cost, X, Y)
    assert not res.success and "non-finite" in res.message
    assert res.history["rejected"][-1] == 1
    assert np.isfinite(cost(net, X, Y))


def test_unguarded_step_to_overflow_is_refused():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(120, 3)), 1e6 * rng.normal(size=(120, 3))
    cost = snode.Cost(mse=1.0)
    net = snode.SNODE(3, 10, T=10.0, activation="identity", init="zeros")
    with pytest.warns(snode.LineSearchWarning, match="no step along steepest descent"):
        res = snode.NCG(safeguard=False, max_iter=5).minimize(net, cost, X, Y)
    assert res.history["rejected"].sum() > 0 and not res.success
    assert np.all(np.isfinite(net.W)) and np.isfinite(cost(net, X, Y))


def test_safeguard_refuses_steps_to_overflow():
    # identity activation over a long depth: the first sensitivity step overshoots into
    # overflow; the safeguard backtracks, and the history counts the refused trial points
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(120, 3)), 1e6 * rng.normal(size=(120, 3))
    cost = snode.Cost(mse=1.0)
    net = snode.SNODE(3, 10, T=10.0, activation="identity", init="zeros")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", snode.LineSearchWarning)
        res = snode.NCG(max_iter=5).minimize(net, cost, X, Y)
    assert res.history["rejected"].sum() > 0
    assert np.all(res.history["backtracks"] >= res.history["rejected"])
    assert np.all(np.isfinite(net.W)) and np.isfinite(cost(net, X, Y))


def test_callback_can_stop_and_ctrl_c_keeps_last_good_weights():
    X, Y, cost = _teacher_problem()
    seen = []
    net = snode.SNODE(3, 6, T=1.0, seed=7)
    res = snode.NCG(max_iter=50).minimize(net, cost, X, Y,
                                          callback=lambda r: seen.append(r) or len(seen) == 3)
    assert res.n_iter == 3 and res.message == "stopped by the callback"
    assert set(seen[0]) >= {"cost", "grad_norm", "beta", "step", "restart", "evaluations"}
    # an optimiser's own stop: the callback saw its last iteration as well
    seen.clear()
    res = snode.NCG(max_iter=500, tol=1e-3).minimize(snode.SNODE(3, 6, T=1.0, seed=7), cost,
                                                     X, Y, callback=seen.append)
    assert res.message == "gradient norm below tol" and len(seen) == res.n_iter
    assert seen[-1]["grad_norm"] <= 1e-3 < seen[-2]["grad_norm"]

    kept = {}

    def interrupt(rec):
        if len(kept) == 0 and rec["evaluations"] == 4:
            kept["W"] = net.W.copy()
            raise KeyboardInterrupt

    res = snode.NCG(max_iter=50).minimize(net, cost, X, Y, callback=interrupt)
    assert res.interrupted and res.message == "interrupted"
    np.testing.assert_array_equal(net.W, kept["W"])


@pytest.mark.parametrize("method", ["L-BFGS-B", "CG"])
def test_scipy_objective(method):
    X, Y, cost, W, b = _quadratic_problem()
    net = _linear_net()
    fun, x0 = snode.scipy_objective(net, cost, X, Y)
    res = minimize(fun, x0, jac=True, method=method, options={"gtol": 1e-10})
    fun(res.x)
    np.testing.assert_allclose(net.W[0], W, atol=1e-6)
    with pytest.raises(ValueError, match="x must have shape"):
        fun(x0[:-1])


@pytest.mark.parametrize("kwargs,match", [
    (dict(beta="CD"), "unknown beta rule"),
    (dict(metric="h2"), "unknown metric"),
    (dict(step="exact"), "unknown step rule"),
    (dict(alpha=-1.0), "alpha must be >= 0"),
    (dict(batch_size=0), "batch_size must be >= 1"),
    (dict(armijo=0.7), "armijo must be < 0.5"),
    (dict(max_iter=0), "max_iter must be >= 1"),
])
def test_bad_ncg_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        snode.NCG(**kwargs)


def test_bad_baseline_arguments():
    with pytest.raises(ValueError, match="lr must be > 0"):
        snode.Adam(lr=0.0)
    with pytest.raises(ValueError, match="momentum must be < 1"):
        snode.GradientDescent(momentum=1.0)
    with pytest.raises(ValueError, match="beta2 must be < 1"):
        snode.Adam(beta2=1.0)


def test_an_infinite_penalty_is_not_a_success():
    """Weights that grow until the weight decay overflows: the step is refused, the last
    good weights stay, and training reports failure."""
    X, Y, _ = _teacher_problem()
    net = snode.SNODE(3, 6, T=1.0, seed=7, activation="tanh")
    cost = snode.Cost(mse=1.0, decay=1e-3)
    res = snode.GradientDescent(lr=1e300, max_iter=200).minimize(net, cost, X, Y)
    assert not res.success and "non-finite" in res.message
    assert np.isfinite(net.W).all() and np.isfinite(cost(net, X, Y))
    assert res.n_iter < 200


def _blobs(seed, n_classes, dim, n=200):
    """Well separated Gaussian blobs: centres at -1 and +1 on the first axis (2 classes) or
    at the unit vectors (more), spread 0.2."""
    rng = np.random.default_rng(seed)
    if n_classes == 2:
        centres = np.zeros((2, dim))
        centres[:, 0] = (-1.0, 1.0)
    else:
        centres = np.eye(n_classes, dim)
    y = rng.integers(n_classes, size=n)
    return centres[y] + 0.2 * rng.normal(size=(n, dim)), y


@pytest.mark.parametrize("n_classes,dim", [(2, 2), (3, 5)])
def test_separable_blobs_train_to_full_accuracy_for_every_seed(n_classes, dim):
    """The cross-entropy of separable data decreases along the whole line of a step: the
    step search stays finite and training ends well for every initialisation."""
    for rs in range(10):
        X, y = _blobs(100 + rs, n_classes, dim)
        # without weight decay (no minimiser: the case of a runaway step), and the default
        for params in (dict(decay=0.0), dict(max_iter=100)):
            with warnings.catch_warnings():
                warnings.simplefilter("error", snode.LineSearchWarning)
                est = snode.SNODEClassifier(random_state=rs, **params).fit(X, y)
            assert est.score(X, y) == 1.0, (rs, params)
            assert est.result_.success, (rs, params, est.result_.message)
            assert np.all(np.isfinite(est.result_.history["step"]))
            # no runaway step (which reached 1e60); without decay the cost has no minimiser
            # and the weights grow along the path (to about 1e3 in one run of the hybrid
            # metric, 40 with the Sobolev metric)
            assert np.abs(est.net_.W).max() < 1e4


def test_sensitivity_step_on_a_line_that_decreases_forever_is_finite():
    from snode.optim.linesearch import SATURATION, sensitivity_step
    # K = 1, identity activation, labels the first output already ranks highest: along the
    # direction that scales the outputs up, the cross-entropy decreases for every step
    X = np.eye(3)[[0, 1, 2, 0, 1, 2]] * 2.0
    labels = np.array([0, 1, 2, 0, 1, 2])
    net = snode.SNODE(3, 1, T=1.0, scheme="euler", activation="identity", init="zeros")
    obj = snode.Objective(net, snode.Cost(mse=0.0, ce=1.0, n_classes=3), X, labels=labels)
    ev = obj.evaluate(grad=True)
    d = (np.eye(3)[None], np.zeros((1, 3)))  # W = eta I: x(T) = (1 + eta) x(0)
    line = obj.linearize(ev, d)
    assert line.slope < 0 and line(10.0)[1] < 0  # no root within reach
    eta = sensitivity_step(line)
    assert np.isfinite(eta)
    assert eta * line.output_rate == pytest.approx(SATURATION, rel=1e-12)
    assert sensitivity_step(line, max_step=0.5) == 0.5
    # the rate: root mean square of |xi(T)| = |x(0)| = 2 per unit step
    assert line.output_rate == pytest.approx(2.0, rel=1e-14)


def test_newton_bisection_stops_at_its_bound():
    root = _newton_bisect(lambda t: (np.tanh(t - 3.7), 1 - np.tanh(t - 3.7) ** 2),
                          np.tanh(-3.7), upper=2.0)
    assert root == 2.0
    root = _newton_bisect(lambda t: (np.tanh(t - 3.7), 1 - np.tanh(t - 3.7) ** 2),
                          np.tanh(-3.7), upper=50.0, start=10.0)
    assert root == pytest.approx(3.7, abs=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_converged_run_says_so(dtype):
    """Near a minimiser that fits the data exactly the cost is the small difference of outputs
    that carry rounding: no step decreases it beyond that, and the run ends as a success
    (converged, at tol, or at max_iter with tol = 0), never as a failed search; in float32
    the rounding is float32's (Objective.eps)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    W, b = 0.3 * rng.normal(size=(3, 3)), rng.normal(size=3)
    Y = X + X @ W.T + b  # explicit Euler, K = 1, T = 1, identity: reachable exactly
    for tol, start in ((0.0, 0.0), (1e-8, 1e-9), (0.0, 1e-9)):
        for options in (dict(), dict(step="wolfe"), dict(step="wolfe", memory=5)):
            net = snode.SNODE(3, 1, T=1.0, scheme="euler", activation="identity",
                              init="zeros", dtype=dtype)
            net.W[0], net.b[0] = W * (1 + start), b * (1 + start)
            with warnings.catch_warnings():
                warnings.simplefilter("error", snode.LineSearchWarning)
                res = snode.NCG(tol=tol, max_iter=300, **options).minimize(
                    net, snode.Cost(mse=1.0), X, Y)
            assert res.success, (options, res.message)
            np.testing.assert_allclose(net.W[0], W, atol=1e-7 if dtype == "float64" else 1e-5)


@pytest.mark.parametrize("step", ["sensitivity", "wolfe"])
def test_an_exact_fit_is_no_failed_search(step):
    """Two samples a tanh network fits exactly: at the end the residuals are at the outputs'
    rounding, where the cost's rounding is their square times the loss's curvature (the
    allowance's second term); no search there fails (the sensitivity step failed along
    steepest descent at a cost of 9e-33 before)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", snode.LineSearchWarning)
        est = snode.SNODERegressor(random_state=0, max_iter=300, ftol=0,
                                   ncg_options={"step": step, "tol": 0.0}).fit(
            [[1.0, 2.0], [0.0, 1.0]], [0.5, -0.3])
    assert est.result_.success, est.result_.message
    assert est.history_["cost"][-1] < 1e-28


def test_the_wolfe_search_ends_at_a_minimiser_as_converged():
    """Where the Wolfe search finds no step and backtracking decreases the cost only within
    its rounding, the run restarts along steepest descent and ends there as converged (it
    took 35 halvings an iteration to the end of max_iter before)."""
    X, y = ds.moons(60, seed=0)
    est = snode.SNODEClassifier(random_state=0, max_iter=3000, decay=0, activation="relu",
                                ncg_options={"tol": 0.0}, ftol=0).fit(X, y)
    assert est.step_rule_ == "wolfe"
    assert est.result_.success and est.result_.message.startswith("converged"), \
        est.result_.message
    assert est.n_iter_ < 1500 and est.score(X, y) == 1.0


def test_a_failed_search_on_a_batch_moves_on_to_the_next(monkeypatch):
    from snode.optim import linesearch
    X, Y, cost = _teacher_problem()
    real = linesearch.backtrack
    calls = []

    def failing_on_the_first_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            return None, 31, 0, False
        return real(*args, **kwargs)

    monkeypatch.setattr(linesearch, "backtrack", failing_on_the_first_batch)
    net = snode.SNODE(3, 6, T=1.0, seed=7)
    with pytest.warns(snode.LineSearchWarning, match="going on with the next"):
        res = snode.NCG(batch_size=40, iterations_per_batch=3, epochs=2, seed=0).minimize(
            net, cost, X, Y)
    h = res.history
    assert res.success and res.n_iter == 1 + 5 * 3  # the failed batch's other 2 skipped
    assert h["batch"][0] == 0 and h["batch"][1] == 1 and h["step"][0] == 0.0


@pytest.mark.parametrize("beta", ["PR+", "HS", "FR-PR"])
def test_restart_flag_marks_every_steepest_descent_step(beta):
    X, Y, cost = _teacher_problem()
    net = snode.SNODE(3, 6, T=1.0, seed=7)
    h = snode.NCG(beta=beta, max_iter=60).minimize(net, cost, X, Y).history
    np.testing.assert_array_equal(h["restart"] == 1, h["beta"] == 0)


def test_learning_rate_and_tol_mean_the_same_under_both_metrics():
    """The Sobolev gradient at alpha = 0 is the L2(0, T) one: gradient descent takes the
    same steps and reports the same norms under both metrics."""
    X, Y, cost = _teacher_problem()
    runs = []
    for metric in ("l2", "sobolev"):
        net = snode.SNODE(3, 6, T=1.0, seed=7)
        res = snode.GradientDescent(lr=0.02, metric=metric, alpha=0.0, max_iter=5).minimize(
            net, cost, X, Y)
        runs.append((net.W.copy(), res.history["grad_norm"]))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-12)
    # the norm is the L2(0, T) one: |G| / sqrt(h)
    net = snode.SNODE(3, 6, T=1.0, seed=7)
    _, GW, Gb = cost.value_and_grad(net, X, Y)
    G = np.sqrt(np.sum(GW ** 2) + np.sum(Gb ** 2))
    assert runs[0][1][0] == pytest.approx(G / np.sqrt(net.h), rel=1e-12)


def test_backtracking_ends_flat_where_the_cost_is_rounding():
    from snode.optim.linesearch import backtrack
    # a cost that is rounding noise around 1 with a tiny slope: no trial passes, and the
    # search ends flat once the predicted decrease is within the allowance
    noise = iter(np.random.default_rng(0).uniform(2e-15, 4e-15, 100))
    eta, k, nonfinite, flat = backtrack(lambda e: 1.0 + next(noise), 1.0, -1e-12, 1.0)
    assert eta is None and flat and nonfinite == 0
    assert 1e-12 * 0.5 ** (k - 1) <= 8 * np.finfo(float).eps  # stopped at the allowance
    # a cost that decreases: the first trial that passes the Armijo test
    assert backtrack(lambda e: 1.0 - e + e * e, 1.0, -1.0, 4.0)[:2] == (0.5, 3)
    # overflow everywhere: not flat, a failed search
    eta, k, nonfinite, flat = backtrack(lambda e: np.inf, 1.0, -1.0, 1.0, max_backtracks=5)
    assert eta is None and not flat and nonfinite == 6 and k == 6


# --- the limited-memory BFGS direction (memory > 0) -----------------------------------------
def _dense_riesz(shapes, h, alpha):
    """The metric's Riesz map A^-1 as a dense matrix (columns: sobolev_gradient of unit
    vectors)."""
    from snode.sobolev import sobolev_gradient

    nW, nb = int(np.prod(shapes[0])), int(np.prod(shapes[1]))
    cols = []
    for j in range(nW + nb):
        e = np.zeros(nW + nb)
        e[j] = 1.0
        gW, gb = sobolev_gradient(e[:nW].reshape(shapes[0]), e[nW:].reshape(shapes[1]), h,
                                  alpha)
        cols.append(np.concatenate([gW.ravel(), gb.ravel()]))
    return np.array(cols).T


@pytest.mark.parametrize("alpha, weight", [(0.0, 1.0), (0.7, 1.0), (0.7, 0.4)])
@pytest.mark.parametrize("memory", [1, 3, 10])
def test_quasi_newton_direction_is_the_bfgs_update_of_the_scaled_metric(memory, alpha, weight):
    """The direction (the compact form) equals the dense BFGS inverse-Hessian updates (oldest
    pair first) of H0 = <s, y> / <y, A^-1 y> A^-1, the newest pair's scaling (Nocedal & Wright,
    algorithm 7.4), also after the memory is full and the oldest pairs are overwritten; A^-1
    the Sobolev metric's Riesz map or, with weight < 1, the hybrid one,
    weight A_S^-1 + (1 - weight) I / h."""
    from snode.optim.lbfgs import LBFGS
    from snode.optim.metric import DepthMetric
    from snode.sobolev import sobolev_gradient

    K, d, h = 4, 2, 0.25
    shapes = ((K, d, d), (K, d))
    P = K * d * (d + 1)
    rng = np.random.default_rng(memory)
    Q = rng.normal(size=(P, P))
    Q = Q @ Q.T + P * np.eye(P)  # the gradients of a convex quadratic: G = Q x
    qn, pairs = LBFGS(memory), []
    metric = DepthMetric("sobolev", alpha, weight).at(h, 1.0)
    x = rng.normal(size=P)
    for k in range(memory + 3):
        G = Q @ x
        theta = (x[:K * d * d].reshape(shapes[0]).copy(), x[K * d * d:].reshape(shapes[1]).copy())
        Gp = (G[:K * d * d].reshape(shapes[0]), G[K * d * d:].reshape(shapes[1]))
        gp = sobolev_gradient(*Gp, h, alpha, weight)  # the metric's gradient A^-1 G
        n, dvec = qn.direction(theta, Gp, gp, k == 0, metric)
        if k > 0:
            pairs.append((x - x_prev, G - G_prev))
        used = pairs[-memory:]
        assert n == len(used)
        if used:
            Ainv = weight * _dense_riesz(shapes, h, alpha) + (1.0 - weight) / h * np.eye(P)
            s, y = used[-1]
            H = (s @ y) / (y @ Ainv @ y) * Ainv
            for s, y in used:
                rho = 1.0 / (s @ y)
                V = np.eye(P) - rho * np.outer(y, s)
                H = V.T @ H @ V + rho * np.outer(s, s)
            got = np.concatenate([dvec[0].ravel(), dvec[1].ravel()])
            np.testing.assert_allclose(got, -H @ G, rtol=1e-10, atol=1e-12 * np.abs(H @ G).max())
        x_prev, G_prev = x, G
        x = x - 0.1 * rng.uniform(0.5, 1.0) * G / np.linalg.norm(G) * np.linalg.norm(x)


@pytest.mark.parametrize("metric", ["sobolev", "l2"])
@pytest.mark.parametrize("memory", [1, 5, 20])
def test_quasi_newton_finds_the_minimiser_of_a_quadratic(memory, metric):
    X, Y, cost, W, b = _quadratic_problem()
    net = _linear_net()
    res = snode.NCG(memory=memory, metric=metric, max_iter=200, tol=1e-10).minimize(
        net, cost, X, Y)
    assert res.success and res.message == "gradient norm below tol", res.message
    np.testing.assert_allclose(net.W[0], W, atol=1e-9)
    np.testing.assert_allclose(net.b[0], b, atol=1e-9)
    # with exact line searches on a quadratic: at most as many iterations as linear CG
    assert res.n_iter <= 8
    h = res.history
    assert h["restart"][0] == 1 and h["beta"][0] == 0 and np.isnan(h["beta"][1:-1]).all()


@pytest.mark.parametrize("metric", ["sobolev", "l2"])
def test_memory_one_with_exact_steps_is_hestenes_stiefel(metric):
    """Shanno: memoryless BFGS with exact line searches is the HS direction (scaled), so on a
    quadratic, where the sensitivity step is exact, the iterates coincide."""
    X, Y, cost, W, b = _quadratic_problem(seed=3)
    runs = []
    for opt in (snode.NCG(memory=1, metric=metric), snode.NCG(beta="HS", metric=metric)):
        net = _linear_net()
        runs.append(opt.__class__(**{**opt.__dict__, "max_iter": 5, "tol": 0.0}).minimize(
            net, cost, X, Y).history["cost"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-9)
    assert runs[0][-1] < 1e-6 * runs[0][0] + cost(_quadratic_solution_net(W, b), X, Y)


def _quadratic_solution_net(W, b):
    net = _linear_net()
    net.W[0], net.b[0] = W, b
    return net


def test_quasi_newton_trains_a_teacher_and_forgets_at_each_batch():
    X, Y, cost = _teacher_problem()
    full = snode.NCG(memory=10, max_iter=150).minimize(snode.SNODE(3, 6, T=1.0, seed=7),
                                                        cost, X, Y)
    fr = snode.NCG(max_iter=150).minimize(snode.SNODE(3, 6, T=1.0, seed=7), cost, X, Y)
    assert full.fun < 0.5 * fr.fun  # (measured: 1.3e-6 against FR's 3.0e-6)
    assert np.all(np.diff(full.history["cost"]) <= 0)
    res = snode.NCG(memory=5, batch_size=32, iterations_per_batch=4, epochs=2,
                    seed=0).minimize(snode.SNODE(3, 6, T=1.0, seed=7), cost, X, Y)
    h = res.history
    starts = np.flatnonzero(np.r_[True, np.diff(h["batch"]) != 0])
    assert np.all(h["restart"][starts] == 1) and np.all(h["beta"][starts] == 0)
    np.testing.assert_array_equal(h["restart"] == 1, h["beta"] == 0)
    assert np.isnan(h["beta"]).sum() > len(h["beta"]) // 2


@pytest.mark.parametrize("memory", [-1, 1.5, True, "5"])
def test_memory_must_be_a_count(memory):
    with pytest.raises(ValueError, match="memory"):
        snode.NCG(memory=memory)


def test_a_conjugate_rule_and_a_memory_exclude_each_other():
    with pytest.raises(ValueError, match="memory=0"):
        snode.NCG(beta="sd", memory=3)
    with pytest.raises(ValueError, match="memory=0"):
        snode.NCG(beta="PR+", memory=1)
    assert snode.NCG(beta="FR", memory=3).memory == 3  # (FR, the default, is not used)


# --- the full-batch stop on a cost that no longer falls (ftol, n_iter_no_change) ------------
def _first_stall(costs, ftol, n):
    """The first iteration k >= n with costs[k - n] - costs[k] <= ftol |costs[k]| where
    costs[k] is the lowest of costs[k - n .. k]."""
    for k in range(n, len(costs)):
        lowest = costs[k] <= min(costs[k - n:k + 1])
        if lowest and costs[k - n] - costs[k] <= ftol * abs(costs[k]):
            return k
    return None


@pytest.mark.parametrize("make", [lambda f, n: snode.NCG(memory=5, tol=0.0, max_iter=400,
                                                         ftol=f, n_iter_no_change=n),
                                  lambda f, n: snode.Adam(lr=0.02, tol=0.0, max_iter=400,
                                                          ftol=f, n_iter_no_change=n)],
                         ids=["ncg", "adam"])
def test_ftol_stops_where_the_cost_stalls_and_not_before(make):
    X, Y, _ = _teacher_problem()
    cost = snode.Cost(mse=1.0, decay=1e-2)  # a minimum with a cost well above zero
    ftol, n = 1e-4, 7
    res = make(ftol, n).minimize(snode.SNODE(3, 6, T=1.0, seed=7), cost, X, Y)
    assert res.success, res.message
    assert res.message.startswith("converged: the cost fell by at most"), res.message
    assert res.n_iter < 400
    # the stop is the criterion's first iteration in the recorded costs (before each step)
    assert _first_stall(res.history["cost"], ftol, n) == res.n_iter - 1
    # without it, the same run goes on through that iteration
    full = make(0.0, n).minimize(snode.SNODE(3, 6, T=1.0, seed=7), cost, X, Y)
    assert full.n_iter == 400 and full.message == "maximum number of iterations reached"
    np.testing.assert_array_equal(full.history["cost"][:res.n_iter], res.history["cost"])


def test_ftol_does_not_stop_mini_batch_training():
    X, Y, cost = _teacher_problem()
    res = snode.Adam(batch_size=32, epochs=3, seed=0, ftol=0.9, n_iter_no_change=1).minimize(
        snode.SNODE(3, 6, T=1.0, seed=7), cost, X, Y)
    assert res.n_iter == 3 * 4 and res.message == "maximum number of iterations reached"


def test_a_rising_cost_is_not_a_stall():
    """Adam at a large rate: its cost rises and falls; the stop comes only where the cost is
    the lowest of the window, and the callback sees the last iteration too."""
    X, Y, _ = _teacher_problem()
    cost = snode.Cost(mse=1.0, decay=1e-2)
    seen = []
    res = snode.Adam(lr=0.5, max_iter=300, ftol=0.05, n_iter_no_change=3).minimize(
        snode.SNODE(3, 6, T=1.0, seed=7), cost, X, Y,
        callback=lambda r: seen.append(r["cost"]))
    c = res.history["cost"]
    assert np.any(np.diff(c) > 0)  # (the cost does rise on the way)
    assert len(seen) == res.n_iter
    if res.message.startswith("converged"):
        k = res.n_iter - 1
        assert c[k] <= c[k - 3:k + 1].min() and _first_stall(c, 0.05, 3) == k
    for k in range(3, res.n_iter - 1):  # no earlier iteration met the rule
        assert not (c[k] <= c[k - 3:k + 1].min() and c[k - 3] - c[k] <= 0.05 * abs(c[k]))


@pytest.mark.parametrize("cls", [snode.NCG, snode.Adam, snode.GradientDescent])
def test_ftol_and_n_iter_no_change_are_checked(cls):
    for bad in (-1e-3, np.nan, "1e-4"):
        with pytest.raises(ValueError, match="ftol"):
            cls(ftol=bad)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_iter_no_change"):
            cls(n_iter_no_change=bad)
