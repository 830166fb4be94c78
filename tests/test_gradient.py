"""The adjoint sweep gives the exact gradient of the discrete cost (docs/method.md, sections
3-4)."""
import numpy as np
import pytest
from _helpers import fd_gradient, make_net, rel_err

import snode

SCHEMES = ["euler", "heun", "midpoint", "rk4"]
SMOOTH_ACTIVATIONS = ["tanh", "sigmoid", "softplus", "identity"]
COST_TERMS = {
    "mse": dict(mse=1.0),
    "ce": dict(mse=0.0, ce=1.0, n_classes=3),
    "out": dict(mse=0.0, out=1.0),
    "decay": dict(mse=0.0, decay=1.0),
    "smooth": dict(mse=0.0, smooth=1.0),
    "all": dict(mse=0.7, ce=0.5, out=0.3, decay=0.2, smooth=0.1, n_classes=3),
}


def _data(rng, N=6, m=3, d=4, C=3):
    X = rng.normal(size=(N, m))
    Y = rng.normal(size=(N, d))
    labels = rng.integers(0, C, size=N)
    return X, Y, labels


def _fd_check(net, cost, X, Y, labels, tol=1e-7):
    J, gW, gb = cost.value_and_grad(net, X, Y, labels)

    def J_of(W, b):
        trial = net.copy()
        trial.W, trial.b = W, b
        return cost(trial, X, Y, labels)

    assert J == pytest.approx(J_of(net.W, net.b), rel=1e-13)
    fW, fb = fd_gradient(J_of, net.W, net.b, eps=1e-3)
    err = rel_err((gW, gb), (fW, fb))
    assert err <= tol, err


@pytest.mark.parametrize("term", sorted(COST_TERMS))
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_gradient_matches_finite_differences(scheme, activation, term, rng):
    net = make_net(width=4, n_steps=3, T=1.5, scheme=scheme, activation=activation)
    X, Y, labels = _data(rng)
    cost = snode.Cost(**COST_TERMS[term])
    _fd_check(net, cost, X, Y, labels)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("width", [1, 2, 7, 12, 13])
def test_gradient_across_widths(width, activation, rng):
    # widths up to 12 run the fused kernels (one copy per width), wider ones the general ones
    net = make_net(width=width, n_steps=3, T=1.5, activation=activation, seed=width)
    X, Y = rng.normal(size=(11, width)), rng.normal(size=(11, width))
    labels = rng.integers(0, width, size=11)
    cost = snode.Cost(mse=0.7, ce=0.5 if width > 1 else 0.0, out=0.3, n_classes=width)
    _fd_check(net, cost, X, Y, labels)


def _directional_check(net, cost, X, Y, rng):
    """<gradient, a random direction> against a 4th-order central difference of J along it."""
    J, gW, gb = cost.value_and_grad(net, X, Y)
    dW, db = rng.normal(size=gW.shape), rng.normal(size=gb.shape)

    def J_along(t):
        trial = net.copy()
        trial.W, trial.b = net.W + t * dW, net.b + t * db
        return cost(trial, X, Y)

    eps = 1e-3
    fd = (J_along(-2 * eps) - 8 * J_along(-eps) + 8 * J_along(eps) - J_along(2 * eps)) / (
        12 * eps)
    assert np.sum(gW * dW) + np.sum(gb * db) == pytest.approx(fd, rel=1e-8)


def test_gradient_custom_tableau(rng):
    # Ralston's third-order method, passed as arrays
    a = [[0, 0, 0], [0.5, 0, 0], [0, 0.75, 0]]
    b = [2 / 9, 1 / 3, 4 / 9]
    net = make_net(width=4, n_steps=3, scheme=(a, b))
    X, Y, labels = _data(rng)
    _fd_check(net, snode.Cost(**COST_TERMS["all"]), X, Y, labels)


@pytest.mark.parametrize("width, activation", [(4, "tanh"), (9, "softplus"), (21, "tanh")])
def test_gradient_tableau_whose_stage_has_two_inputs(width, activation, rng):
    # Kutta's third-order method: stage 3 reads stages 1 and 2 (the fused kernels, the general
    # ones with the weight gradient over stages, and with it over samples)
    a = [[0, 0, 0], [0.5, 0, 0], [-1, 2, 0]]
    b = [1 / 6, 2 / 3, 1 / 6]
    net = make_net(width=width, n_steps=4, scheme=(a, b), activation=activation, seed=2)
    X, Y = rng.normal(size=(19, width)), rng.normal(size=(19, width))
    cost = snode.Cost(mse=1.0, out=0.1)
    _directional_check(net, cost, X, Y, rng)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu"])
def test_gradient_piecewise_activations(activation, rng):
    # away from the kinks the cost is smooth; a step of 1e-5 does not cross one here
    net = make_net(width=4, n_steps=3, activation=activation, seed=3)
    X, Y, labels = _data(rng)
    cost = snode.Cost(mse=1.0, out=0.2, decay=0.1)
    J, gW, gb = cost.value_and_grad(net, X, Y)

    def J_of(W, b):
        trial = net.copy()
        trial.W, trial.b = W, b
        return cost(trial, X, Y)

    fW, fb = fd_gradient(J_of, net.W, net.b, eps=1e-5)
    assert rel_err((gW, gb), (fW, fb)) <= 1e-6


def test_mse_targets_from_labels_are_one_hot(rng):
    net = make_net(width=4)
    X, _, labels = _data(rng)
    Y = np.zeros((len(labels), 3))
    Y[np.arange(len(labels)), labels] = 1.0
    cost = snode.Cost(mse=1.0, n_classes=3)
    J1, gW1, gb1 = cost.value_and_grad(net, X, labels=labels)
    J2, gW2, gb2 = cost.value_and_grad(net, X, Y)
    assert J1 == J2
    np.testing.assert_array_equal(gW1, gW2)
    np.testing.assert_array_equal(gb1, gb2)


def test_cost_value_matches_formula(rng):
    net = make_net(width=4, n_steps=5)
    X, Y, labels = _data(rng)
    w = COST_TERMS["all"]
    cost = snode.Cost(**w)
    out = net.forward(X)
    N, h = X.shape[0], net.h
    z = out[:, :3]
    ce = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(N), labels])
    expected = (w["mse"] / (2 * N) * np.sum((out - Y) ** 2) + w["ce"] * ce
                + w["out"] / (2 * N) * np.sum(out ** 2)
                + w["decay"] / 2 * h * (np.sum(net.W ** 2) + np.sum(net.b ** 2))
                + w["smooth"] / 2 * (np.sum(np.diff(net.W, axis=0) ** 2)
                                     + np.sum(np.diff(net.b, axis=0) ** 2)) / h)
    assert cost(net, X, Y, labels) == pytest.approx(expected, rel=1e-13)
    assert cost.value_and_grad(net, X, Y, labels)[0] == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_dot_product_adjoint_tangent(scheme, rng):
    """<lambda_K, xi_K> = <dJ/dtheta, d> and <lambda_0, dx0> = <lambda_K, (dx(T)/dx(0)) dx0>."""
    net = make_net(width=5, n_steps=7, T=2.0, scheme=scheme)
    X = rng.normal(size=(11, 5))
    lamT = rng.normal(size=(11, 5))
    dW, db = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    gW, gb, lam0 = net.adjoint(X, lamT)
    xi = net.sensitivity(X, dW, db)
    lhs = np.sum(lamT * xi)
    rhs = np.sum(gW * dW) + np.sum(gb * db)
    assert lhs == pytest.approx(rhs, rel=1e-12)
    dx0 = rng.normal(size=X.shape)
    jac = net.input_jacobian(X)
    assert np.sum(lam0 * dx0) == pytest.approx(np.einsum("ni,nij,nj->", lamT, jac, dx0),
                                               rel=1e-12)


def test_adjoint_input_gradient_matches_finite_differences(rng):
    net = make_net(width=4, n_steps=6)
    X = rng.normal(size=(5, 4))
    Y = rng.normal(size=(5, 4))
    cost = snode.Cost(mse=1.0)
    lamT = (net.forward(X) - Y) / X.shape[0]
    _, _, lam0 = net.adjoint(X, lamT)
    fd = np.empty_like(X)
    for n in range(X.shape[0]):
        for j in range(X.shape[1]):
            E = np.zeros_like(X)
            E[n, j] = 1.0
            f = [cost(net, X + s * 1e-3 * E, Y) for s in (-2, -1, 1, 2)]
            fd[n, j] = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / 12e-3
    assert rel_err(lam0, fd) <= 1e-7


def test_recompute_memory_mode_gives_same_gradient(rng):
    net = make_net(width=6, n_steps=9, scheme="rk4")
    X, Y = rng.normal(size=(40, 6)), rng.normal(size=(40, 6))
    cost = snode.Cost(mse=1.0, out=0.1)
    J1, gW1, gb1 = cost.value_and_grad(net, X, Y)
    net.memory = "recompute"
    J2, gW2, gb2 = cost.value_and_grad(net, X, Y)
    assert J1 == J2
    np.testing.assert_array_equal(gW1, gW2)
    np.testing.assert_array_equal(gb1, gb2)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", [16, 21, 29, 40, 100, 108])
def test_gradient_of_wide_network_matches_directional_fd(scheme, width, rng):
    """Wider than the register tiles, and not always a multiple of them; the weight gradient
    by dot products along the samples (21, 29) or as a product over the samples, whose last
    column tile is part of a vector (100) or a vector and part of one (108): a directional
    check."""
    net = make_net(width=width, n_steps=5, seed=5, scheme=scheme)
    X, Y = rng.normal(size=(37, 13)), rng.normal(size=(37, width))
    cost = snode.Cost(mse=1.0, out=0.1, smooth=0.1)
    _directional_check(net, cost, X, Y, rng)
