"""Bad input raises a clear ValueError naming what is wrong; nothing crashes or returns NaN."""
import numpy as np
import pytest
from _helpers import make_net

import snode


@pytest.mark.parametrize("kwargs,match", [
    (dict(width=0, n_steps=3), "width must be >= 1"),
    (dict(width=2.5, n_steps=3), "width must be an integer"),
    (dict(width=2, n_steps=0), "n_steps must be >= 1"),
    (dict(width=2, n_steps=3, T=0.0), "T must be > 0"),
    (dict(width=2, n_steps=3, T=-1.0), "T must be > 0"),
    (dict(width=2, n_steps=3, T=np.inf), "T must be finite"),
    (dict(width=2, n_steps=3, activation="swish"), "unknown activation"),
    (dict(width=2, n_steps=3, init="xavier"), "unknown init"),
    (dict(width=2, n_steps=3, n_threads=0), "n_threads must be >= 1"),
    (dict(width=2, n_steps=3, memory="disk"), "memory must be one of"),
])
def test_bad_model_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        snode.SNODE(**kwargs)


def test_bad_inputs():
    net = snode.SNODE(3, 4, seed=0)
    with pytest.raises(ValueError, match="4 features"):
        net.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="2-dimensional"):
        net.forward(np.ones(3))
    with pytest.raises(ValueError, match="empty"):
        net.forward(np.ones((0, 3)))
    with pytest.raises(ValueError, match="NaN or Inf"):
        net.forward(np.array([[1.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="NaN or Inf"):
        net.forward(np.array([[1.0, np.inf, 0.0]]))
    with pytest.raises(ValueError, match="numeric"):
        net.forward(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="real"):
        net.forward(np.ones((2, 3)) * 1j)
    with pytest.raises(ValueError, match="converted"):
        net.forward([[1.0, 2.0], [1.0]])


def test_bad_weights():
    net = snode.SNODE(3, 4, seed=0)
    with pytest.raises(ValueError, match=r"W must have shape \(4, 3, 3\)"):
        net.W = np.ones((4, 3, 2))
    with pytest.raises(ValueError, match=r"b must have shape \(4, 3\)"):
        net.b = np.ones(3)
    with pytest.raises(ValueError, match="NaN"):
        net.W = np.full((4, 3, 3), np.nan)
    net.W[1, 1, 1] = np.nan  # in place: caught at the next sweep
    with pytest.raises(ValueError, match="weights W contain NaN"):
        net.forward(np.ones((2, 3)))
    net.W[1, 1, 1] = 0.0
    net.b[0, 0] = np.inf
    with pytest.raises(ValueError, match="biases b contain NaN"):
        net.forward(np.ones((2, 3)))


def test_bad_directions():
    net = snode.SNODE(3, 4, seed=0)
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="dW must have shape"):
        net.sensitivity(X, np.ones((4, 3)))
    with pytest.raises(ValueError, match="db must have shape"):
        net.sensitivity(X, db=np.ones((3, 3)))
    with pytest.raises(ValueError, match="dW contains NaN"):
        net.sensitivity(X, np.full((4, 3, 3), np.nan))
    with pytest.raises(ValueError, match="lam_T must have shape"):
        net.adjoint(X, np.ones((2, 2)))


@pytest.mark.parametrize("kwargs,match", [
    (dict(mse=-1.0), "mse must be >= 0"),
    (dict(decay=np.nan), "decay must be finite"),
    (dict(ce=1.0), "needs n_classes"),
    (dict(n_classes=0), "n_classes must be >= 1"),
    (dict(mse="1"), "mse must be a real number"),
])
def test_bad_cost_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        snode.Cost(**kwargs)


def test_bad_cost_data():
    net = snode.SNODE(3, 4, seed=0)
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="n_classes = 4 exceeds the width 3"):
        snode.Cost(ce=1.0, n_classes=4).value_and_grad(net, X, labels=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="needs targets Y or labels"):
        snode.Cost(mse=1.0)(net, X)
    with pytest.raises(ValueError, match="needs labels"):
        snode.Cost(mse=0.0, ce=1.0, n_classes=2).value_and_grad(net, X)
    with pytest.raises(ValueError, match=r"Y must have shape \(4, m\)"):
        snode.Cost().value_and_grad(net, X, np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"Y must have shape \(4, m\)"):
        snode.Cost().value_and_grad(net, X, np.ones((3, 3)))
    with pytest.raises(ValueError, match="Y contains NaN"):
        snode.Cost().value_and_grad(net, X, np.full((4, 3), np.nan))
    cost = snode.Cost(ce=1.0, n_classes=2)
    with pytest.raises(ValueError, match="must be integers"):
        cost.value_and_grad(net, X, labels=[0, 1, 0.5, 1])
    with pytest.raises(ValueError, match="must be integers"):
        cost.value_and_grad(net, X, labels=["a", "b", "a", "b"])
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\)"):
        cost.value_and_grad(net, X, labels=[0, 1, 2, 1])
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\)"):
        cost.value_and_grad(net, X, labels=[0, -1, 0, 1])
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        cost.value_and_grad(net, X, labels=[0, 1])
    # integral floats are accepted
    cost.value_and_grad(net, X, labels=np.array([0.0, 1.0, 1.0, 0.0]))


@pytest.mark.parametrize("activation", ["identity", "relu", "elu", "softplus"])
def test_overflow_raises_instead_of_returning_nan(activation):
    net = snode.SNODE(2, 50, T=50.0, activation=activation, init="zeros")
    net.W[:] = 1000.0 * np.eye(2)
    X = np.ones((3, 2))
    with pytest.raises(snode.NonFiniteError, match="Inf or NaN"):
        net.forward(X)
    with pytest.raises(snode.NonFiniteError):
        snode.Cost().value_and_grad(net, X, X)
    with pytest.raises(snode.NonFiniteError):
        net.sensitivity(X, net.W)
    assert issubclass(snode.NonFiniteError, FloatingPointError)


@pytest.mark.parametrize("bad_chunk", [0, 1, 2])
def test_overflow_in_one_chunk_of_a_shared_sum(bad_chunk):
    # three chunks add their gradients in turn; the one that overflows must still pass its
    # turns (no hang) and the error must come through
    net = snode.SNODE(2, 30, T=30.0, activation="relu", init="zeros", n_threads=3)
    net.W[:] = 3.0 * np.eye(2)
    X = np.full((30, 2), 1e-3)
    X[10 * bad_chunk + 3] = 1e300
    with pytest.raises(snode.NonFiniteError):
        snode.Cost().value_and_grad(net, X, np.zeros_like(X))


def test_bounded_activation_never_overflows():
    net = make_net(width=3, n_steps=20, scale=1e6)
    out = net.forward(np.ones((2, 3)) * 1e6)
    assert np.isfinite(out).all()
