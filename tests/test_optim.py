"""Training: NCG (every beta rule, metric and step rule), the baselines, scipy's optimisers."""
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

import snode
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
    assert res.success and res.message == "gradient norm below tol"
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
        snode.NCG(metric=metric, max_iter=30).minimize(net, cost, X, Y)
        rough[metric] = np.sum(np.diff(net.W, axis=0) ** 2) / np.sum(net.W ** 2)
    assert rough["sobolev"] < 0.5 * rough["l2"]


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
