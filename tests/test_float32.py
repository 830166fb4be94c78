"""float32 networks: the same sweeps and gradients as float64's to float32's rounding, the
same bit-for-bit invariance to threads, and the dtype kept by the model file and the
estimators (docs/decisions.md, "float32").

The tolerance of a float32 result against the float64 one at the same (float32-rounded)
weights and inputs: every one of the K S stage evaluations of a sweep rounds its product of
d terms and its activation, and a block's gradient adds up to N samples in float32, so the
relative error (to the largest entry) is bounded by a small multiple of
eps32 (K S + d + N), eps32 = 2^-24 the unit roundoff; the tests use 4 eps32 (K S + d + N).
The float64 sweeps themselves are checked against finite differences (test_gradient.py);
here the float32 gradient is also checked against finite differences of the float64 cost.
"""
import warnings

import numpy as np
import pytest
from _helpers import fd_gradient, make_net, rel_err

import snode
from snode import _kernels
from snode.model import release_states

EPS32 = 2.0 ** -24


def _tol(net, N):
    return 4 * EPS32 * (net.n_steps * net.tableau.stages + net.width + N)


def _pair(width, n_steps, activation="tanh", scheme="rk4", seed=0, **kw):
    """A float64 network and its float32 twin with the same (float32-representable)
    weights."""
    net64 = make_net(width=width, n_steps=n_steps, T=1.5, scheme=scheme,
                     activation=activation, seed=seed, **kw)
    net64.W = net64.W.astype(np.float32).astype(np.float64)
    net64.b = net64.b.astype(np.float32).astype(np.float64)
    net32 = snode.SNODE(width, n_steps, T=1.5, scheme=scheme, activation=activation,
                        dtype="float32", **kw)
    net32.W, net32.b = net64.W, net64.b
    assert net32.W.dtype == np.float32 and np.array_equal(net32.W, net64.W)
    return net64, net32


def _inputs(rng, N, m):
    return rng.normal(size=(N, m)).astype(np.float32).astype(np.float64)


def _max_rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("activation", sorted(snode.ACTIVATIONS))
@pytest.mark.parametrize("width", [3, 12, 16, 33])
def test_sweeps_match_float64(width, activation, rng):
    # widths up to 12 run the fused kernels, 16 and 33 the general ones (packed from 16 on)
    N = 70
    net64, net32 = _pair(width, 5, activation)
    X = _inputs(rng, N, width)
    Y = rng.normal(size=(N, width))
    tol = _tol(net64, N)
    out32 = net32.forward(X)
    assert out32.dtype == np.float32
    assert _max_rel(out32, net64.forward(X)) <= tol
    loss = snode.loss.Loss(mse=1.0)
    g64 = net64.data_gradient(X, loss, Y, input_grad=True)
    g32 = net32.data_gradient(X, loss, Y, input_grad=True)
    assert g32.gW.dtype == np.float32 and g32.input_grad.dtype == np.float32
    assert g32.value == pytest.approx(g64.value, rel=tol)
    assert _max_rel(g32.gW, g64.gW) <= tol and _max_rel(g32.gb, g64.gb) <= tol
    assert _max_rel(g32.input_grad, g64.input_grad) <= tol
    dW, db = rng.normal(size=net64.W.shape), rng.normal(size=net64.b.shape)
    assert _max_rel(net32.sensitivity(X, dW, db), net64.sensitivity(X, dW, db)) <= tol
    assert _max_rel(net32.input_jacobian(X[:9]), net64.input_jacobian(X[:9])) <= tol


@pytest.mark.parametrize("scheme", ["euler", "heun", "rk4"])
def test_cross_entropy_gradient_and_kept_states(scheme, rng):
    N, C = 50, 3
    net64, net32 = _pair(7, 6, scheme=scheme)
    X, labels = _inputs(rng, N, 4), rng.integers(0, C, size=N)
    loss = snode.loss.Loss(mse=0.0, ce=1.0, n_classes=C)
    tol = _tol(net64, N)
    g64 = net64.data_gradient(X, loss, labels=labels, keep=True)
    g32 = net32.data_gradient(X, loss, labels=labels, keep=True)
    assert g32.value == pytest.approx(g64.value, rel=tol)
    assert rel_err((g32.gW, g32.gb), (g64.gW, g64.gb)) <= tol
    dW, db = rng.normal(size=net64.W.shape), rng.normal(size=net64.b.shape)
    kept = net32.sensitivity(None, dW, db, states=g32.states)
    assert kept.dtype == np.float32
    assert _max_rel(kept, net32.sensitivity(X, dW, db)) <= tol
    assert _max_rel(kept, net64.sensitivity(X, dW, db)) <= tol
    release_states(g32.states)
    release_states(g64.states)


def test_float32_gradient_against_finite_differences_of_the_float64_cost(rng):
    net64, net32 = _pair(3, 3)
    X, Y = _inputs(rng, 8, 3), rng.normal(size=(8, 3))
    cost = snode.Cost(mse=1.0, decay=0.1)
    _, gW, gb = cost.value_and_grad(net32, X, Y)

    def J_of(W, b):
        trial = net64.copy()
        trial.W, trial.b = W, b
        return cost(trial, X, Y)

    fW, fb = fd_gradient(J_of, net64.W, net64.b, eps=1e-3)
    assert rel_err((gW, gb), (fW, fb)) <= _tol(net64, 8)


def test_results_do_not_depend_on_the_threads(rng):
    # (the sums over samples are formed chunk by chunk in a fixed order in float32 too)
    net = snode.SNODE(16, 6, seed=1, dtype="float32")
    X, Y = rng.normal(size=(900, 16)), rng.normal(size=(900, 16))
    loss = snode.loss.Loss(mse=1.0)
    ref = None
    for threads in (1, 2, 3):
        net.n_threads = threads
        g = net.data_gradient(X, loss, Y, outputs=True)
        got = (g.value, g.gW.tobytes(), g.gb.tobytes(), g.outputs.tobytes(),
               net.data_cost(X, loss, Y)[0])
        ref = ref or got
        assert got == ref


@pytest.mark.parametrize("activation", sorted(snode.ACTIVATIONS))
def test_activations_in_float32(activation):
    code = snode.ACTIVATIONS[activation]
    z = np.concatenate([np.linspace(-60, 60, 24001), [-3e38, -1e4, -100, 100, 1e4, 3e38],
                        np.geomspace(1e-30, 1e-3, 50), -np.geomspace(1e-30, 1e-3, 50)])
    z = z.astype(np.float32)
    k32, s32 = _kernels.activation_f32(code, z)
    k64, s64 = _kernels.activation(code, z.astype(np.float64))
    assert k32.dtype == np.float32 and np.isfinite(k32).all() and np.isfinite(s32).all()
    # a few float32 ulp of the value (relative, or absolute near 0) and of the derivative
    scale = np.maximum(np.abs(k64), 2.0 ** -20)
    assert np.max(np.abs(k32 - k64) / scale) <= 8 * EPS32
    assert np.max(np.abs(s32 - s64) / np.maximum(np.abs(s64), 2.0 ** -20)) <= 8 * EPS32 or \
        np.max(np.abs(s32 - s64)) <= 8 * EPS32


def test_dtype_is_checked_and_kept(tmp_path):
    for bad in ("float16", "int32", None, True, "double precision"):
        with pytest.raises(ValueError, match="dtype"):
            snode.SNODE(3, 2, dtype=bad)
    net = snode.SNODE(3, 2, seed=0, dtype=np.float32)
    assert net.dtype == np.float32 and "float32" in repr(net)
    net.W = np.ones((2, 3, 3))  # given in float64: converted
    assert net.W.dtype == np.float32
    with pytest.raises(ValueError, match="range of float32"):
        net.b = np.full((2, 3), 1e300)
    with pytest.raises(ValueError, match="range of float32"):
        net.forward(np.full((2, 3), 1e39))
    assert net.b.dtype == np.float32
    net.save(tmp_path / "m.npz")
    back = snode.load(tmp_path / "m.npz")
    assert back.dtype == np.float32 and np.array_equal(back.W, net.W)
    assert snode.io.read_header(tmp_path / "m.npz")["dtype"] == "float32"


def test_estimators_train_in_float32(tmp_path):
    from sklearn.datasets import make_moons
    X, y = make_moons(200, noise=0.1, random_state=0)
    fits = {}
    for dtype in ("float64", "float32"):
        clf = snode.SNODEClassifier(dtype=dtype, max_iter=60, random_state=0, n_threads=1)
        clf.fit(X, y)
        assert clf.net_.dtype == dtype and clf.predict_proba(X).dtype == np.float64
        fits[dtype] = clf
    assert fits["float32"].score(X, y) >= fits["float64"].score(X, y) - 0.02
    clf = fits["float32"]
    clf2 = snode.SNODEClassifier(dtype="float32", max_iter=60, random_state=0, n_threads=2)
    assert np.array_equal(clf2.fit(X, y).net_.W, clf.net_.W)  # threads change nothing
    path = tmp_path / "clf.npz"
    clf.save(path)
    back = snode.load(path)
    assert back.net_.dtype == np.float32
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    clf.set_params(warm_start=True, dtype="float64")
    with pytest.raises(ValueError, match="dtype must stay as it was"):
        clf.fit(X, y)
    reg = snode.SNODERegressor(dtype="float32", max_iter=30, random_state=0).fit(X, X[:, 0])
    assert reg.net_.dtype == np.float32 and reg.predict(X).dtype == np.float64


def test_the_line_searches_allow_for_float32_rounding(rng):
    # the rounding allowance of the searches scales with the outputs' rounding: float32's
    # machine epsilon for a float32 network
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    objs = {dt: snode.Objective(snode.SNODE(3, 2, seed=0, dtype=dt), snode.Cost(mse=1.0),
                                X, Y) for dt in ("float64", "float32")}
    assert objs["float64"].eps == np.finfo(np.float64).eps
    assert objs["float32"].eps == np.finfo(np.float32).eps
    with warnings.catch_warnings():
        warnings.simplefilter("error", snode.LineSearchWarning)
        est = snode.SNODERegressor(random_state=0, max_iter=300, ftol=0, dtype="float32",
                                   ncg_options={"tol": 0.0}).fit([[1.0, 2.0], [0.0, 1.0]],
                                                                 [0.5, -0.3])
    assert est.result_.success, est.result_.message
    assert est.history_["cost"][-1] < 1e-12  # (float32's outputs: residuals of 1e-7)


def test_float32_mistakes_are_named():
    with pytest.raises(ValueError, match="dtype"):
        snode.SNODE(3, 2, dtype=np.float32(0.0))  # (a number, not a dtype)
    with pytest.raises(ValueError, match="dtype"):
        snode.SNODE(3, 2, dtype={"names": ["a"], "formats": ["f4", "f8"]})
    net = snode.SNODE(3, 2, seed=0, dtype="float32")
    X = np.ones((4, 3))
    for call in (lambda: snode.Cost(mse=1.0)(net, X, np.full((4, 3), 1e39)),
                 lambda: snode.Cost(mse=1.0).value_and_grad(net, X, np.full((4, 3), 1e39)),
                 lambda: snode.Objective(net, snode.Cost(mse=1.0), X, np.full((4, 3), 1e39))):
        with pytest.raises(ValueError, match="Y has numbers beyond the range of float32"):
            call()
    with pytest.raises(ValueError, match="beyond the range of float32"):
        net.forward(np.full((2, 3), 1e39), check_input=False)  # (not scanned, still refused)
    back = net.astype("float64")
    assert back.dtype == np.float64 and np.array_equal(back.W, net.W) and net.dtype == np.float32


def test_estimators_with_a_numpy_dtype_and_huge_inputs(tmp_path):
    X, y = snode.datasets.moons(300, seed=0)
    est = snode.SNODEClassifier(dtype=np.float32, max_iter=20, random_state=0).fit(X, y)
    est.save(tmp_path / "m.npz")  # (the dtype stored by name, however it was given)
    back = snode.load(tmp_path / "m.npz")
    assert back.get_params()["dtype"] == "float32" and back.net_.dtype == np.float32
    bad = X.copy()
    bad[0, 0] = 1e39
    with pytest.raises(ValueError, match="beyond the range of float32"):
        est.predict(bad)
    # inputs near float32's limit: outputs and line searches in float32's range (a failed
    # search once accepted a trial it had not kept)
    est = snode.SNODEClassifier(dtype="float32", random_state=0, max_iter=30, scale="none",
                                activation="identity").fit(X * 1e38, y)
    assert np.isfinite(est.net_.W).all()


def test_sensitivity_tools_analyse_float32_networks_in_float64(rng):
    net = snode.SNODE(4, 5, seed=0, dtype="float32")
    X = rng.normal(size=(5, 4))
    sweep = snode.analysis.noise_sweep(net, X, [1e-9, 1e-6, 1e-3], seed=0)
    ref = snode.analysis.noise_sweep(net.astype("float64"), X, [1e-9, 1e-6, 1e-3], seed=0)
    assert sweep.limit == ref.limit == np.inf
    np.testing.assert_array_equal(sweep.monte_carlo, ref.monte_carlo)
