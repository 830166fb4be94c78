"""The SNODE model: shapes, initialisation, padding, threads, instruction sets, array flavours."""
import numpy as np
import pytest
from _helpers import make_net

import snode
from snode import _kernels


def test_shapes_and_attributes():
    net = snode.SNODE(5, 12, T=3.0, seed=0)
    assert net.W.shape == (12, 5, 5) and net.b.shape == (12, 5)
    assert net.W.dtype == np.float64 and net.b.dtype == np.float64
    assert net.W.flags.writeable and net.b.flags.writeable
    assert net.h == pytest.approx(0.25)
    assert net.scheme == "rk4" and net.activation == "tanh"
    X = np.ones((7, 3))
    assert net.forward(X).shape == (7, 5)
    assert net.trajectory(X).shape == (13, 7, 5)
    assert net.sensitivity(X, net.W, net.b).shape == (7, 5)
    assert net.input_jacobian(X).shape == (7, 5, 5)
    assert "SNODE(width=5" in repr(net)


def test_weights_are_writable_in_place(rng):
    net = snode.SNODE(3, 4, seed=0)
    X = rng.normal(size=(5, 3))
    before = net.forward(X)
    net.W[2] += 0.5
    assert not np.allclose(net.forward(X), before)
    net.W = np.zeros((4, 3, 3))
    net.b[:] = 0.0
    np.testing.assert_array_equal(net.forward(X), X)  # zero field: the identity map


def test_trajectory_matches_forward_and_input(rng):
    net = make_net(width=4, n_steps=6)
    X = rng.normal(size=(9, 2))
    traj = net.trajectory(X)
    np.testing.assert_array_equal(traj[0, :, :2], X)
    np.testing.assert_array_equal(traj[0, :, 2:], 0.0)
    np.testing.assert_array_equal(traj[-1], net.forward(X))
    # every step is the forward map of a one-step network with that step's weights
    for i in (0, 3, 5):
        one = snode.SNODE(4, 1, T=net.h, init="zeros")
        one.W, one.b = net.W[i:i + 1], net.b[i:i + 1]
        np.testing.assert_allclose(one.forward(traj[i]), traj[i + 1], rtol=1e-14, atol=1e-15)


def test_zero_padding(rng):
    net = make_net(width=5, n_steps=3)
    X = rng.normal(size=(4, 2))
    Xp = np.hstack([X, np.zeros((4, 3))])
    np.testing.assert_array_equal(net.forward(X), net.forward(Xp))


def test_smooth_initialisation_interpolates_knots():
    d, T, K, seed = 3, 3.0, 150, 11
    net = snode.SNODE(d, K, T=T, init="smooth", seed=seed)
    rng = np.random.default_rng(seed)
    Wk = rng.normal(0.0, 1.0 / d, (4, d, d))
    bk = rng.normal(0.0, 1.0 / d, (4, d))
    for knot, step in enumerate((0, 50, 100)):  # t = 0, 1, 2 are step times
        np.testing.assert_allclose(net.W[step], Wk[knot], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(net.b[step], bk[knot], rtol=1e-13, atol=1e-15)
    # smooth in depth: second differences are O(h^2) of the values
    assert np.abs(np.diff(net.W, 2, axis=0)).max() < 10 * net.h ** 2 * np.abs(Wk).max()


def test_initialisations_and_seeds():
    a = snode.SNODE(4, 10, seed=1)
    b = snode.SNODE(4, 10, seed=1)
    c = snode.SNODE(4, 10, seed=2)
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.array_equal(a.W, c.W)
    z = snode.SNODE(4, 10, init="zeros")
    assert not z.W.any() and not z.b.any()
    n = snode.SNODE(40, 50, init="normal", seed=0)
    assert abs(n.W.std() - 1 / 40) < 0.002
    assert np.abs(np.diff(n.W, axis=0)).mean() > 0.5 / 40  # independent draws: rough


@pytest.mark.parametrize("n_threads", [1, 2, 3, 5])
def test_thread_count_invariance(n_threads, rng):
    net = make_net(width=7, n_steps=5, seed=4)
    X, Y = rng.normal(size=(203, 6)), rng.normal(size=(203, 7))
    labels = rng.integers(0, 4, size=203)
    cost = snode.Cost(mse=1.0, ce=0.5, n_classes=4, smooth=0.1)
    net.n_threads = 1
    ref = (net.forward(X), cost.value_and_grad(net, X, Y, labels),
           net.input_jacobian(X), net.sensitivity(X, net.W, net.b))
    net.n_threads = n_threads
    out = (net.forward(X), cost.value_and_grad(net, X, Y, labels),
           net.input_jacobian(X), net.sensitivity(X, net.W, net.b))
    np.testing.assert_allclose(out[0], ref[0], rtol=1e-14, atol=1e-15)
    assert out[1][0] == pytest.approx(ref[1][0], rel=1e-13)
    np.testing.assert_allclose(out[1][1], ref[1][1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out[1][2], ref[1][2], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out[2], ref[2], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(out[3], ref[3], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("width", [3, 40])
def test_chunks_that_add_their_gradients_in_turn(width, rng):
    # 25 samples on 3 threads: chunks of 16, 9 and none; every order of arrival gives the
    # same sum (chunk order), and the same as one thread up to rounding
    net = make_net(width=width, n_steps=6, seed=5)
    X, Y = rng.normal(size=(25, width)), rng.normal(size=(25, width))
    cost = snode.Cost(mse=1.0)
    net.n_threads = 1
    ref = cost.value_and_grad(net, X, Y)
    net.n_threads = 3
    runs = [cost.value_and_grad(net, X, Y) for _ in range(5)]
    for J, gW, gb in runs:
        assert J == runs[0][0]
        assert np.array_equal(gW, runs[0][1]) and np.array_equal(gb, runs[0][2])
    assert runs[0][0] == pytest.approx(ref[0], rel=1e-13)
    np.testing.assert_allclose(runs[0][1], ref[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(runs[0][2], ref[2], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("width", [5, 19])  # fused and general kernels
def test_instruction_set_levels_agree(width, rng):
    net = make_net(width=width, n_steps=4, seed=8)
    X, Y = rng.normal(size=(45, width)), rng.normal(size=(45, width))
    cost = snode.Cost(mse=1.0, out=0.1)
    default = _kernels.isa()
    results = {}
    try:
        for level in ("baseline", "avx2", "avx512"):
            try:
                _kernels.set_isa(level)
            except ValueError:
                continue
            results[level] = (net.forward(X), *cost.value_and_grad(net, X, Y)[1:])
    finally:
        _kernels.set_isa(default)
    assert "baseline" in results
    ref = results["baseline"]
    for level, res in results.items():
        for a, b in zip(res, ref):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=level)


def test_unknown_isa():
    with pytest.raises(ValueError, match="not available"):
        _kernels.set_isa("sse9")


def test_read_only_and_non_contiguous_inputs(rng):
    net = make_net(width=6, n_steps=4)
    base = rng.normal(size=(30, 10))
    X = base[::2, 1::2]  # non-contiguous, shape (15, 5)
    assert not X.flags.c_contiguous
    Xc = np.ascontiguousarray(X)
    Xf = np.asfortranarray(X)
    Xr = Xc.copy()
    Xr.setflags(write=False)
    Y = np.asfortranarray(rng.normal(size=(15, 6)))
    Y.setflags(write=False)
    cost = snode.Cost(mse=1.0)
    ref = net.forward(Xc), cost.value_and_grad(net, Xc, np.ascontiguousarray(Y))
    for Xv in (X, Xf, Xr, Xc.astype(np.float32), Xc.tolist()):
        np.testing.assert_allclose(net.forward(Xv), ref[0], rtol=1e-6 if Xv is not X else 0)
        J, gW, gb = cost.value_and_grad(net, Xv, Y)
        np.testing.assert_allclose(gW, ref[1][1], rtol=1e-5, atol=1e-12)
    # read-only weights: assigning them copies
    W = net.W.copy()
    W.setflags(write=False)
    net.W = W
    assert net.W.flags.writeable
    dW = np.asfortranarray(rng.normal(size=net.W.shape))
    dW.setflags(write=False)
    assert net.sensitivity(Xr, dW).shape == (15, 6)


def test_copy_is_independent():
    net = snode.SNODE(3, 4, seed=0)
    other = net.copy()
    other.W[0] += 1
    assert not np.array_equal(net.W, other.W)
    assert other.width == 3 and other.scheme == "rk4"


def test_large_batch_many_chunks(rng):
    net = make_net(width=3, n_steps=2, n_threads=4)
    X = rng.normal(size=(1001, 3))
    np.testing.assert_allclose(net.forward(X)[500:510], net.forward(X[500:510]), rtol=1e-14,
                               atol=1e-15)


def test_concurrent_calls_from_python_threads(rng):
    """Each Python thread has its own scratch memory: concurrent sweeps do not interfere."""
    from concurrent.futures import ThreadPoolExecutor

    nets = [make_net(width=w, n_steps=6, seed=w, n_threads=2) for w in (3, 8, 17, 8)]
    data = [(rng.normal(size=(150, net.width)), rng.normal(size=(150, net.width)))
            for net in nets]
    cost = snode.Cost(mse=1.0)
    expected = [cost.value_and_grad(net, X, Y) for net, (X, Y) in zip(nets, data)]

    def work(k):
        net, (X, Y) = nets[k % 4], data[k % 4]
        return k % 4, cost.value_and_grad(net, X, Y)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for k, (J, gW, gb) in pool.map(work, range(24)):
            assert J == pytest.approx(expected[k][0], rel=1e-13)
            np.testing.assert_allclose(gW, expected[k][1], rtol=1e-12, atol=1e-15)


def test_the_local_splines_of_a_long_depth_at_any_T():
    # a long depth with few steps draws only the knots around the step times; each step's
    # weights are the spline through its 8 knots: at a step time on a knot, that knot's
    # draw, and the same for any T (float64 has no consecutive integers above 2**53)
    d, K, seed = 2, 4, 5
    for T in (4000.0, 1.6e16):  # (the latter: h = 4e15, knots above 2**53)
        net = snode.SNODE(d, K, T=T, seed=seed)
        rng = np.random.default_rng(seed)
        Wk = rng.normal(0.0, 1.0 / d, (8 * K, d, d))  # (8 knots a step, none shared)
        np.testing.assert_allclose(net.W[0], Wk[0], rtol=1e-13, atol=1e-15)
        for i in range(1, K):  # (step i's knot is the 4th of its window)
            np.testing.assert_allclose(net.W[i], Wk[8 * i + 3], rtol=1e-13, atol=1e-15)
    # between knots: the cubic spline through the window, in the window's coordinates
    from scipy.interpolate import CubicSpline
    net = snode.SNODE(d, 3, T=3000.0 + 1.5, seed=seed)
    rng = np.random.default_rng(seed)
    Wk = rng.normal(0.0, 1.0 / d, (8 * 3, d, d))
    t1 = (3000.0 + 1.5) / 3  # (1000.5: the window 997..1004, draws 8..15)
    want = CubicSpline(np.arange(997, 1005, dtype=float), Wk[8:16], axis=0)(t1)
    np.testing.assert_allclose(net.W[1], want, rtol=1e-12, atol=1e-14)


def test_the_step_must_be_what_float64_can_represent():
    eps = np.finfo(np.float64).eps
    snode.SNODE(2, 10, T=10 * eps)
    snode.SNODE(2, 10, T=10 / eps)
    for T, why in ((1e-17, "a step adds nothing"), (9e-16, "a step adds nothing"),
                   (1e17, "lost next to a step's increments"),
                   (1e300, "lost next to a step's increments")):
        with pytest.raises(ValueError, match=f"T / n_steps = .* outside what float64 .*{why}"):
            snode.SNODE(2, 10, T=T)


@pytest.mark.parametrize("T, steps, match", [(1e-4, 10, "T = 0.0001: the outputs move"),
                                              (100.0, 10, "the step T / n_steps = 100 / 10"),
                                              (30.0, 4, "the step T / n_steps = 30 / 4")])
def test_a_depth_where_training_rarely_gets_anywhere_is_a_warning(T, steps, match):
    X, y = snode.datasets.moons(60, seed=0)
    est = snode.SNODEClassifier(T=T, n_steps=steps, max_iter=2, early_stopping=False)
    with pytest.warns(snode.DepthWarning, match=match) as got:
        est.fit(X, y)
    assert got[0].filename == __file__  # (at the caller's fit)
    with pytest.raises(ValueError, match="outside what float64"):  # (before training)
        snode.SNODERegressor(T=1e300).fit(X, X)
    import warnings
    with warnings.catch_warnings():  # (none for T of order 1)
        warnings.simplefilter("error")
        snode.SNODEClassifier(T=6.0, n_steps=4, max_iter=2).fit(X, y)


def test_integers_beyond_float64_are_refused_by_name():
    X, y = snode.datasets.moons(40, seed=0)
    for make in (lambda: snode.SNODE(2, 3, T=10**400),
                 lambda: snode.SNODEClassifier(T=10**400).fit(X, y)):
        with pytest.raises(ValueError, match="T must be"):
            make()
    with pytest.raises(ValueError, match="outside what float64"):
        snode.SNODEClassifier(T=10**30).fit(X, y)
