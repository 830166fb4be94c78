"""The tangent-linear sweep and the input Jacobian (docs/method.md, section 5)."""
import numpy as np
import pytest
from _helpers import fd4, make_net, rel_err


@pytest.mark.parametrize("scheme", ["euler", "heun", "midpoint", "rk4"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
def test_sensitivity_matches_finite_differences(scheme, activation, rng):
    net = make_net(width=5, n_steps=6, T=2.0, scheme=scheme, activation=activation)
    X = rng.normal(size=(9, 4))
    dW, db = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    xi = net.sensitivity(X, dW, db)
    W0, b0 = net.W.copy(), net.b.copy()

    def out(t):
        trial = net.copy()
        trial.W, trial.b = W0 + t * dW, b0 + t * db
        return trial.forward(X)

    fd = fd4(out, 0.0, 1.0, 1e-3)
    assert xi.shape == (9, 5)
    assert rel_err(xi, fd) <= 1e-7


def test_sensitivity_is_linear_in_the_direction(rng):
    net = make_net(width=4, n_steps=5)
    X = rng.normal(size=(7, 4))
    d1 = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    d2 = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    xi1, xi2 = net.sensitivity(X, *d1), net.sensitivity(X, *d2)
    xi12 = net.sensitivity(X, 2 * d1[0] - 3 * d2[0], 2 * d1[1] - 3 * d2[1])
    np.testing.assert_allclose(xi12, 2 * xi1 - 3 * xi2, rtol=1e-12, atol=1e-13)
    # a direction in W alone plus one in b alone adds up to both
    np.testing.assert_allclose(net.sensitivity(X, d1[0]) + net.sensitivity(X, db=d1[1]), xi1,
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(net.sensitivity(X), np.zeros((7, 4)))


@pytest.mark.parametrize("scheme", ["euler", "rk4"])
def test_input_jacobian_matches_finite_differences(scheme, rng):
    net = make_net(width=6, n_steps=8, scheme=scheme)
    X = rng.normal(size=(5, 4))  # padded to width 6
    jac = net.input_jacobian(X)
    assert jac.shape == (5, 6, 6)
    Xp = np.zeros((5, 6))
    Xp[:, :4] = X
    for j in range(6):
        e = np.zeros(6)
        e[j] = 1.0
        fd = fd4(net.forward, Xp, e, 1e-3)
        assert rel_err(jac[:, :, j], fd) <= 1e-8


def test_input_jacobian_of_linear_flow_is_matrix_exponential():
    from scipy.linalg import expm

    rng = np.random.default_rng(4)
    d, K, T = 4, 200, 1.0
    net = make_net(width=d, n_steps=K, T=T, activation="identity")
    A = rng.normal(size=(d, d)) / 2
    net.W = np.broadcast_to(A, (K, d, d))
    net.b = np.zeros((K, d))
    jac = net.input_jacobian(rng.normal(size=(3, d)))
    for n in range(3):
        np.testing.assert_allclose(jac[n], expm(A * T), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_sensitivity_and_input_jacobian_of_wide_network(activation, rng):
    """Width 21: the general products with packed weights, and a part of a row tile left over."""
    net = make_net(width=21, n_steps=5, T=1.5, activation=activation, seed=8)
    X = rng.normal(size=(13, 21))
    dW, db = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    xi = net.sensitivity(X, dW, db)
    W0, b0 = net.W.copy(), net.b.copy()

    def out(t, with_b=True):
        trial = net.copy()
        trial.W, trial.b = W0 + t * dW, b0 + t * db * with_b
        return trial.forward(X)

    assert rel_err(xi, fd4(out, 0.0, 1.0, 1e-3)) <= 1e-7
    # a direction in W alone
    xiW = net.sensitivity(X, dW)
    assert rel_err(xiW, fd4(lambda t: out(t, with_b=False), 0.0, 1.0, 1e-3)) <= 1e-7
    jac = net.input_jacobian(X)
    for j in (0, 7, 20):
        e = np.zeros(21)
        e[j] = 1.0
        assert rel_err(jac[:, :, j], fd4(net.forward, X, e, 1e-3)) <= 1e-8
