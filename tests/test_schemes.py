"""Runge-Kutta tableaux: order conditions and observed convergence order (docs/method.md,
section 2)."""
import numpy as np
import pytest
from scipy.linalg import expm

import snode
from snode.schemes import Tableau


def _order_conditions(t):
    a, b, c = t.a, t.b, t.c
    conds = {1: [b.sum() - 1]}
    conds[2] = [b @ c - 1 / 2]
    conds[3] = [b @ c**2 - 1 / 3, b @ a @ c - 1 / 6]
    conds[4] = [b @ c**3 - 1 / 4, b @ (c * (a @ c)) - 1 / 8, b @ a @ c**2 - 1 / 12,
                b @ a @ a @ c - 1 / 24]
    return conds


@pytest.mark.parametrize("name", sorted(snode.SCHEMES))
def test_builtin_tableaux_satisfy_their_order_conditions(name):
    t = snode.SCHEMES[name]
    conds = _order_conditions(t)
    for p in range(1, t.order + 1):
        np.testing.assert_allclose(conds[p], 0.0, atol=1e-15)
    if t.order < 4:  # and no more than that
        assert np.max(np.abs(conds[t.order + 1])) > 1e-3
    np.testing.assert_allclose(t.c, t.a.sum(axis=1), atol=1e-15)


def _linear_problem(K, scheme):
    """x' = A x + c with constant A, c: identity activation and equal weights on every step."""
    rng = np.random.default_rng(7)
    d, T = 3, 1.0
    A = rng.normal(size=(d, d)) * 0.8
    c = rng.normal(size=d)
    x0 = rng.normal(size=(2, d))
    net = snode.SNODE(d, K, T=T, scheme=scheme, activation="identity", init="zeros")
    net.W = np.broadcast_to(A, (K, d, d))
    net.b = np.broadcast_to(c, (K, d))
    M = np.zeros((d + 1, d + 1))
    M[:d, :d], M[:d, d] = A, c
    E = expm(M * T)
    exact = x0 @ E[:d, :d].T + E[:d, d]
    return np.abs(net.forward(x0) - exact).max()


@pytest.mark.parametrize("scheme,order", [("euler", 1), ("heun", 2), ("midpoint", 2),
                                          ("rk4", 4)])
def test_observed_convergence_order(scheme, order):
    Ks = [8, 16, 32]
    errs = [_linear_problem(K, scheme) for K in Ks]
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(rates - order) < 0.25), rates


def test_custom_tableau_order():
    # Kutta's third-order method
    t = Tableau([[0, 0, 0], [0.5, 0, 0], [-1, 2, 0]], [1 / 6, 2 / 3, 1 / 6])
    errs = [_linear_problem(K, t) for K in (8, 16, 32)]
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(rates - 3) < 0.25), rates


def test_scheme_forms_agree():
    a = snode.SCHEMES["rk4"].a
    b = snode.SCHEMES["rk4"].b
    X = np.random.default_rng(0).normal(size=(4, 3))
    outs = []
    for scheme in ("rk4", (a, b), Tableau(a, b)):
        net = snode.SNODE(3, 5, scheme=scheme, seed=2)
        outs.append(net.forward(X))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


def test_implicit_tableau_is_rejected():
    with pytest.raises(ValueError, match="implicit"):
        Tableau([[0.5]], [1.0])  # implicit midpoint
    with pytest.raises(ValueError, match="implicit"):
        snode.SNODE(2, 3, scheme=([[0, 0.5], [0.5, 0]], [0.5, 0.5]))


@pytest.mark.parametrize("bad,match", [
    (([[0, 0], [1, 0]], [0.5, 0.4]), "sum to 1"),
    (([[0, 0], [1, 0]], [1.0]), "shape"),
    (([[0, 0], [np.nan, 0]], [0.5, 0.5]), "NaN"),
    ("rk45", "unknown scheme"),
    (42, "scheme must be"),
])
def test_bad_tableaux(bad, match):
    with pytest.raises(ValueError, match=match):
        snode.SNODE(2, 3, scheme=bad)
