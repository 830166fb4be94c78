"""The discrete Sobolev inner product and Riesz map in depth, and the depth operator they share
with the weight penalty (docs/method.md, section 6)."""
import numpy as np
import pytest

import snode


def _random_pair(rng, K=9, d=3):
    return rng.normal(size=(K, d, d)), rng.normal(size=(K, d))


def _dense_matrix(K, h, alpha):
    L = np.zeros((K, K))
    for i in range(K - 1):
        L[i, i] += 1
        L[i + 1, i + 1] += 1
        L[i, i + 1] -= 1
        L[i + 1, i] -= 1
    return h * np.eye(K) + alpha / h * L


@pytest.mark.parametrize("K", [1, 2, 7, 50])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0, 10.0])
def test_riesz_identity(K, alpha, rng):
    """<g_S, v>_S = sum G v for every v."""
    h = 0.37
    G = _random_pair(rng, K)
    gS = snode.sobolev_gradient(*G, h, alpha)
    for _ in range(3):
        v = _random_pair(rng, K)
        lhs = snode.sobolev_inner(*gS, *v, h, alpha)
        rhs = np.sum(G[0] * v[0]) + np.sum(G[1] * v[1])
        assert lhs == pytest.approx(rhs, rel=1e-11, abs=1e-12)


def test_matches_dense_solve(rng):
    K, h, alpha = 12, 0.25, 1.0
    G = _random_pair(rng, K)
    gW, gb = snode.sobolev_gradient(*G, h, alpha)
    M = _dense_matrix(K, h, alpha)
    np.testing.assert_allclose(gW, np.linalg.solve(M, G[0].reshape(K, -1)).reshape(G[0].shape),
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gb, np.linalg.solve(M, G[1]), rtol=1e-12, atol=1e-13)


def test_inner_product_is_symmetric_positive_definite(rng):
    K, h, alpha = 10, 0.1, 1.0
    u, v = _random_pair(rng, K), _random_pair(rng, K)
    assert snode.sobolev_inner(*u, *v, h, alpha) == pytest.approx(
        snode.sobolev_inner(*v, *u, h, alpha), rel=1e-14)
    assert snode.sobolev_inner(*u, *u, h, alpha) > 0
    # the Gram matrix of the inner product is the dense matrix, which is SPD
    M = _dense_matrix(K, h, alpha)
    np.testing.assert_allclose(M, M.T)
    assert np.linalg.eigvalsh(M).min() > 0
    e = np.eye(K)
    gram = np.array([[snode.sobolev_inner(np.zeros((K, 1, 1)), e[i][:, None],
                                          np.zeros((K, 1, 1)), e[j][:, None], h, alpha)
                      for j in range(K)] for i in range(K)])
    np.testing.assert_allclose(gram, M, rtol=1e-13, atol=1e-14)
    # the map is the inverse of that matrix: SPD too
    inv = np.array([snode.sobolev_gradient(np.zeros((K, 1, 1)), e[:, [i]], h, alpha)[1][:, 0]
                    for i in range(K)]).T
    np.testing.assert_allclose(inv, inv.T, rtol=1e-12, atol=1e-14)
    assert np.linalg.eigvalsh(inv).min() > 0


def test_alpha_zero_is_l2_gradient(rng):
    G = _random_pair(rng)
    gW, gb = snode.sobolev_gradient(*G, 0.2, alpha=0.0)
    np.testing.assert_allclose(gW, G[0] / 0.2, rtol=1e-15)
    np.testing.assert_allclose(gb, G[1] / 0.2, rtol=1e-15)
    u, v = _random_pair(rng), _random_pair(rng)
    assert snode.sobolev_inner(*u, *v, 0.2, alpha=0.0) == pytest.approx(
        0.2 * (np.sum(u[0] * v[0]) + np.sum(u[1] * v[1])), rel=1e-13)


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_hybrid_gradient_is_the_riesz_map_of_the_blended_inverse(weight, rng):
    """weight g_S + (1 - weight) G / h: the dense blend of the two inverses applied to G, and
    an inner product's Riesz map (symmetric positive definite); weight 1 is the Sobolev
    gradient to the last bit."""
    K, h, alpha = 9, 0.3, 0.8
    G = _random_pair(rng, K)
    gW, gb = snode.sobolev_gradient(*G, h, alpha, weight=weight)
    B = weight * np.linalg.inv(_dense_matrix(K, h, alpha)) + (1.0 - weight) / h * np.eye(K)
    np.testing.assert_allclose(gW, (B @ G[0].reshape(K, -1)).reshape(G[0].shape), rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(gb, B @ G[1], rtol=1e-12, atol=1e-13)
    assert np.linalg.eigvalsh(B).min() > 0 and np.allclose(B, B.T)
    if weight == 1.0:
        sW, sb = snode.sobolev_gradient(*G, h, alpha)
        assert np.array_equal(gW, sW) and np.array_equal(gb, sb)
    for bad in (-0.1, 1.5, np.nan, "half", True):
        with pytest.raises(ValueError, match="weight"):
            snode.sobolev_gradient(*G, h, alpha, weight=bad)


def test_sobolev_gradient_is_smoother(rng):
    K, h = 100, 0.03
    G = _random_pair(rng, K)  # white noise in depth
    l2 = snode.sobolev_gradient(*G, h, alpha=0.0)
    sob = snode.sobolev_gradient(*G, h, alpha=1.0)

    def roughness(p):
        return np.sum(np.diff(p, axis=0) ** 2) / np.sum(p ** 2)

    for a, b in zip(sob, l2):
        assert roughness(a) < 0.05 * roughness(b)
    # constants in depth are in the kernel of L: they pass through as G / h
    c = np.ones((K, 2, 2)), np.ones((K, 2))
    cW, cb = snode.sobolev_gradient(*c, h, alpha=1.0)
    np.testing.assert_allclose(cW, 1 / h, rtol=1e-10)
    np.testing.assert_allclose(cb, 1 / h, rtol=1e-10)


def test_bad_arguments(rng):
    G = _random_pair(rng)
    with pytest.raises(ValueError, match="h must be > 0"):
        snode.sobolev_gradient(*G, 0.0)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        snode.sobolev_gradient(*G, 0.1, alpha=-1.0)
    with pytest.raises(ValueError, match="shape"):
        snode.sobolev_gradient(G[0], G[1][:, :2], 0.1)
    with pytest.raises(ValueError, match="NaN"):
        snode.sobolev_gradient(G[0] * np.nan, G[1], 0.1)
    with pytest.raises(ValueError, match="different shapes"):
        snode.sobolev_inner(*G, *_random_pair(rng, K=3), 0.1)


@pytest.mark.parametrize("K", [1, 2, 9])
@pytest.mark.parametrize("mass, stiff", [(1.0, 0.0), (0.3, 2.0), (0.0, 1.0)])
def test_depth_operator_apply_and_inner_match_the_dense_matrix(K, mass, stiff, rng):
    """h1_apply and h1_inner are A = mass h I + (stiff/h) L, the operator of the Sobolev product
    and of the weight penalty; sobolev_gradient solves with it."""
    from snode.sobolev import h1_apply, h1_inner

    h = 0.3
    A = mass * h * np.eye(K) + (_dense_matrix(K, 1.0, 1.0) - np.eye(K)) * stiff / h
    u, v = _random_pair(rng, K), _random_pair(rng, K)
    Au = h1_apply(u, h, mass, stiff)
    np.testing.assert_allclose(Au[0], np.einsum("ij,jkl->ikl", A, u[0]), rtol=1e-13,
                               atol=1e-13)
    np.testing.assert_allclose(Au[1], A @ u[1], rtol=1e-13, atol=1e-13)
    expected = np.sum(u[0] * np.einsum("ij,jkl->ikl", A, v[0])) + np.sum(u[1] * (A @ v[1]))
    assert h1_inner(u, v, h, mass, stiff) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    if mass > 0:
        g = snode.sobolev_gradient(*h1_apply(u, h, 1.0, stiff), h, stiff)
        np.testing.assert_allclose(g[0], u[0], rtol=1e-10, atol=1e-12)


def test_penalty_is_the_depth_operator(rng):
    """Cost's decay and smooth terms, their gradient and their values along a line."""
    net = snode.SNODE(3, 7, T=2.0, seed=0)
    net.W, net.b = _random_pair(rng, 7)
    cost = snode.Cost(mse=0.0, decay=0.4, smooth=0.7)
    W, b, h = net.W, net.b, net.h
    expected = (0.2 * h * (np.sum(W ** 2) + np.sum(b ** 2))
                + 0.35 / h * (np.sum(np.diff(W, axis=0) ** 2) + np.sum(np.diff(b, axis=0) ** 2)))
    assert cost.penalty(net) == pytest.approx(expected, rel=1e-13)
    gW, gb = np.zeros_like(W), np.zeros_like(b)
    cost.penalty_grad(net, gW, gb)
    d = _random_pair(rng, 7)
    eps = 1e-4
    fd = (cost.penalty(net, (W + eps * d[0], b + eps * d[1]))
          - cost.penalty(net, (W - eps * d[0], b - eps * d[1]))) / (2 * eps)
    assert np.sum(gW * d[0]) + np.sum(gb * d[1]) == pytest.approx(fd, rel=1e-9)
    p0, p1, p2 = cost.penalty_along(net, (W, b), d)
    for eta in (0.5, -1.3):
        assert p0 + p1 * eta + 0.5 * p2 * eta ** 2 == pytest.approx(
            cost.penalty(net, (W + eta * d[0], b + eta * d[1])), rel=1e-12)


def test_extreme_parameters_raise_instead_of_returning_nan(rng):
    G = _random_pair(rng, 5)
    for h, alpha in ((1e-310, 1.0), (0.1, 1e308)):
        with pytest.raises(ValueError, match="out of range"):
            snode.sobolev_gradient(*G, h, alpha)
        with pytest.raises(ValueError, match="out of range"):
            snode.sobolev_inner(*G, *G, h, alpha)
    with pytest.raises(ValueError, match="alpha must be finite"):
        snode.sobolev_gradient(*G, 0.1, np.inf)
    with pytest.raises(snode.NonFiniteError):
        snode.sobolev_inner(1e200 * G[0], G[1], 1e200 * G[0], G[1], 0.1, 1.0)
