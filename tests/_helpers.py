"""Shared test helpers (imported by the test modules; tests/ is on pythonpath)."""
import numpy as np
import snode


def make_net(width=3, n_steps=4, T=1.0, scheme="rk4", activation="tanh", seed=0, scale=1.5,
             **kw):
    """A small network with O(1) weights, so that the nonlinearity matters."""
    net = snode.SNODE(width, n_steps, T=T, scheme=scheme, activation=activation, init="normal",
                      seed=seed, **kw)
    rng = np.random.default_rng(seed + 1000)
    net.W = scale * rng.normal(size=net.W.shape) / np.sqrt(width)
    net.b = 0.5 * rng.normal(size=net.b.shape)
    return net


def fd4(f, x0, direction, eps):
    """4th-order central difference of the scalar or array function f(x0 + t direction) at 0."""
    fp2, fp1 = f(x0 + 2 * eps * direction), f(x0 + eps * direction)
    fm1, fm2 = f(x0 - eps * direction), f(x0 - 2 * eps * direction)
    return (fm2 - 8 * fm1 + 8 * fp1 - fp2) / (12 * eps)


def fd_gradient(cost_of_params, W, b, eps=1e-3):
    """Full gradient of a cost by 4th-order central differences, entry by entry."""
    theta = np.concatenate([W.ravel(), b.ravel()])
    g = np.empty_like(theta)
    e = np.zeros_like(theta)
    nW = W.size

    def f(t):
        return cost_of_params(t[:nW].reshape(W.shape), t[nW:].reshape(b.shape))

    for k in range(theta.size):
        e[k] = 1.0
        g[k] = fd4(f, theta, e, eps)
        e[k] = 0.0
    return g[:nW].reshape(W.shape), g[nW:].reshape(b.shape)


def rel_err(a, b):
    a = np.concatenate([np.ravel(x) for x in a]) if isinstance(a, tuple) else np.ravel(a)
    b = np.concatenate([np.ravel(x) for x in b]) if isinstance(b, tuple) else np.ravel(b)
    return np.linalg.norm(a - b) / np.linalg.norm(b)
