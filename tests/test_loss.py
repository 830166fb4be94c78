"""The loss on given outputs, its gradient and its values along a line, and the softmax: the
compiled core's one implementation (docs/method.md, sections 3 and 7)."""
import numpy as np
import pytest
from _helpers import fd4, make_net

import snode
from snode import _kernels
from snode.model import output_loss, output_loss_along, softmax


def _outputs(rng, N=13, d=5, C=3):
    return (3 * rng.normal(size=(N, d)), rng.normal(size=(N, d - 1)),
            rng.integers(0, C, size=N))


def _reference(x, Y, labels, w, C):
    N = x.shape[0]
    T = np.zeros_like(x)
    if Y is not None:
        T[:, :Y.shape[1]] = Y
    else:
        T[np.arange(N), labels] = 1.0
    z = x[:, :C]
    lse = np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)) + z.max(axis=1)
    return (w["mse"] / (2 * N) * np.sum((x - T) ** 2) + w["out"] / (2 * N) * np.sum(x ** 2)
            + w["ce"] / N * np.sum(lse - z[np.arange(N), labels]))


@pytest.mark.parametrize("with_Y", [True, False])
def test_value_and_gradient(with_Y, rng):
    x, Y, labels = _outputs(rng)
    w = dict(mse=0.7, ce=1.3, out=0.2)
    cost = snode.Cost(**w, n_classes=3)
    Yg = Y if with_Y else None
    J, g = output_loss(x, cost, Yg, labels, grad=True)
    assert J == pytest.approx(_reference(x, Yg, labels, w, 3), rel=1e-13)
    assert cost.data_cost(x, Yg, labels) == J
    d = rng.normal(size=x.shape)
    fd = fd4(lambda t: output_loss(x + t * d, cost, Yg, labels), 0.0, 1.0, 1e-3)
    assert np.sum(g * d) == pytest.approx(fd, rel=1e-9)


def test_line_values_and_derivatives(rng):
    x, Y, labels = _outputs(rng)
    xi = rng.normal(size=x.shape)
    cost = snode.Cost(mse=0.4, ce=1.0, out=0.1, n_classes=3)
    for eta in (0.0, 0.7, -2.0):
        phi, d1, d2 = output_loss_along(x, xi, cost, Y, labels, scale=1 / 13, eta=eta)
        f = lambda t: output_loss(x + t * xi, cost, Y, labels)  # noqa: E731
        assert phi == pytest.approx(f(eta), rel=1e-13)
        assert d1 == pytest.approx(fd4(f, eta, 1.0, 1e-3), rel=1e-8)
        h = 1e-3
        assert d2 == pytest.approx((f(eta + h) - 2 * f(eta) + f(eta - h)) / h ** 2, rel=1e-5)
        assert d2 > 0  # the linearised cost is convex


def test_large_scores_stay_finite_and_softmax(rng):
    z = np.array([[1000.0, 0.0, -1000.0, 5.0], [-3.0, -3.0, -3.0, 0.0]])
    p = softmax(z, 3)
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-300)
    q = np.exp(z[:, :3] - z[:, :3].max(axis=1, keepdims=True))
    np.testing.assert_allclose(p, q / q.sum(axis=1, keepdims=True), rtol=1e-15)
    cost = snode.Cost(mse=0.0, ce=1.0, n_classes=3)
    assert output_loss(z, cost, labels=[2, 0]) == pytest.approx((2000.0 + np.log(3)) / 2)
    with pytest.raises(ValueError, match="labels must lie"):
        output_loss(z, cost, labels=[3, 0])


@pytest.mark.parametrize("labels, n_classes", [(None, 3), ([0, 1, 2, 1], 4), ([0, 1, 2, 1], 0)])
def test_the_core_never_reads_a_missing_label(labels, n_classes, rng):
    # which targets each term needs is the Python layer's rule (checked above the wrappers);
    # the core itself refuses a cross-entropy without labels, or with classes beyond the
    # width, as an internal error rather than read out of bounds
    net = make_net(width=3)
    X = rng.normal(size=(4, 3))
    lab = None if labels is None else np.asarray(labels, dtype=np.int64)
    terms = (0.0, 1.0, 0.0, n_classes, 0.25)  # mse, ce, out, n_classes, scale
    calls = [
        lambda: _kernels.value_grad(*net._args(None), X, None, lab, None, *terms, 1),
        lambda: _kernels.data_cost(*net._args(None), X, None, lab, *terms, 1),
        lambda: _kernels.loss(X, None, lab, *terms),
        lambda: _kernels.loss_line(X, X, None, lab, *terms, 0.5),
    ]
    for call in calls:
        with pytest.raises(RuntimeError, match="internal error"):
            call()
