"""The activations and their derivatives, at every instruction-set level (docs/method.md,
section 1)."""
import numpy as np
import pytest
from scipy.special import expit

from snode import ACTIVATIONS, _kernels

REFERENCE = {
    "tanh": (np.tanh, lambda z: 1 / np.cosh(z) ** 2),
    "sigmoid": (expit, lambda z: expit(z) * expit(-z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1, 0.01)),
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
            lambda z: np.where(z > 0, 1, np.exp(np.minimum(z, 0)))),
    "softplus": (lambda z: np.logaddexp(0, z), expit),
    "identity": (lambda z: z, np.ones_like),
}


def _grid():
    rng = np.random.default_rng(0)
    tiny = np.geomspace(1e-300, 1.0, 2001)
    return np.concatenate([np.linspace(-40, 40, 40001), tiny, -tiny, rng.normal(size=1001) * 5,
                           [0.0, -0.0, 19.99, 20.0, 20.01, 700.0, -700.0, 710.0, -710.0, 1e300,
                            -1e300]])


def _levels():
    levels = []
    current = _kernels.isa()
    for level in ("baseline", "avx2", "avx512"):
        try:
            _kernels.set_isa(level)
            levels.append(level)
        except ValueError:
            pass
    _kernels.set_isa(current)
    return levels


@pytest.mark.parametrize("level", _levels())
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_reference(name, level):
    z = _grid()
    current = _kernels.isa()
    try:
        _kernels.set_isa(level)
        k, sp = _kernels.activation(ACTIVATIONS[name], z)
    finally:
        _kernels.set_isa(current)
    f, fp = REFERENCE[name]
    with np.errstate(over="ignore"):
        ref_k, ref_sp = f(z), fp(z)
    # a few ulp, relative where the value is normal
    for got, ref in ((k, ref_k), (sp, ref_sp)):
        assert np.all(np.isfinite(got))
        err = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)
        assert err[np.abs(ref) > 1e-290].max() < 2e-15, name
        assert np.abs(got - ref).max() <= 1e-290 + 2e-15 * np.abs(ref).max()


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus", "elu"])
def test_derivative_matches_finite_differences(name):
    z = np.linspace(-6, 6, 1201) + 1e-3  # avoids the kink of elu at 0
    eps = 1e-4
    act = ACTIVATIONS[name]
    fd = (-_kernels.activation(act, z + 2 * eps)[0] + 8 * _kernels.activation(act, z + eps)[0]
          - 8 * _kernels.activation(act, z - eps)[0]
          + _kernels.activation(act, z - 2 * eps)[0]) / (12 * eps)
    np.testing.assert_allclose(_kernels.activation(act, z)[1], fd, rtol=1e-9, atol=1e-11)
