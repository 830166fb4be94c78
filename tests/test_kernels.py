"""The two kernel families (fused small-width, general) and the panels of the gradient sweep."""
import numpy as np
import pytest
from _helpers import make_net

import snode
from snode import _kernels

RALSTON3 = ([[0, 0, 0], [0.5, 0, 0], [0, 0.75, 0]], [2 / 9, 1 / 3, 4 / 9])  # a_31 = 0


def _info(net, n, recompute=False):
    return _kernels.kernel_info(*net._args(None), n, recompute)


def _everything(net, X, Y, labels, cost):
    lam_T = np.linspace(-1, 1, X.shape[0] * net.width).reshape(X.shape[0], net.width)
    dW = np.cos(np.arange(net.W.size)).reshape(net.W.shape)
    db = np.sin(np.arange(net.b.size)).reshape(net.b.shape)
    return (net.forward(X), net.trajectory(X), *cost.value_and_grad(net, X, Y, labels),
            *net.adjoint(X, lam_T), net.sensitivity(X, dW, db), net.sensitivity(X, dW),
            net.sensitivity(X, None, db), net.input_jacobian(X))


def test_which_kernels():
    assert _info(snode.SNODE(4, 3), 10)[0]
    assert _info(snode.SNODE(12, 3, activation="sigmoid"), 10)[0]
    assert not _info(snode.SNODE(13, 3), 10)[0]
    assert not _info(snode.SNODE(4, 3, activation="relu"), 10)[0]
    old = _kernels.use_general_kernels(True)
    try:
        assert not _info(snode.SNODE(4, 3), 10)[0]
    finally:
        _kernels.use_general_kernels(old)


@pytest.mark.parametrize("memory", ["store", "recompute"])
@pytest.mark.parametrize("scheme", ["rk4", "euler", RALSTON3])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("width", [1, 2, 3, 4, 5, 8, 11, 12])
def test_fused_and_general_kernels_agree(width, activation, scheme, memory, rng):
    net = make_net(width=width, n_steps=5, scheme=scheme, activation=activation, memory=memory,
                   seed=width)
    N = 45  # not a multiple of any column group
    X, Y = rng.normal(size=(N, width)), rng.normal(size=(N, width))
    labels = rng.integers(0, width, size=N)
    cost = snode.Cost(mse=1.0, ce=0.5 if width > 1 else 0.0, out=0.2, n_classes=width)
    assert _info(net, N)[0]
    fused = _everything(net, X, Y, labels, cost)
    old = _kernels.use_general_kernels(True)
    try:
        assert not _info(net, N)[0]
        general = _everything(net, X, Y, labels, cost)
    finally:
        _kernels.use_general_kernels(old)
    for a, b in zip(fused, general):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def _pieces_sum(net, cost, X, Y, size):
    """Cost and gradient of the whole batch from sub-batches of `size` (each one panel)."""
    N = X.shape[0]
    J, gW, gb = 0.0, 0.0, 0.0
    for lo in range(0, N, size):
        n = min(size, N - lo)
        j, w, b = cost.value_and_grad(net, X[lo:lo + n], Y[lo:lo + n])
        J, gW, gb = J + j * n / N, gW + w * n / N, gb + b * n / N
    return J, gW, gb


@pytest.mark.parametrize("general", [False, True])
@pytest.mark.parametrize("memory", ["store", "recompute"])
@pytest.mark.parametrize("width", [2, 20])
def test_gradient_over_many_panels(width, memory, general, rng):
    n_steps = 400 if width == 2 else 60
    net = make_net(width=width, n_steps=n_steps, T=2.0, memory=memory, n_threads=1, seed=3)
    N = 301
    X, Y = rng.normal(size=(N, width)), rng.normal(size=(N, width))
    lam_T = rng.normal(size=(N, width))
    cost = snode.Cost(mse=1.0, out=0.1)
    old = _kernels.use_general_kernels(general)
    try:
        fused, panel = _info(net, N, memory == "recompute")
        assert fused == (width <= 12 and not general)
        assert N > 3 * panel  # several panels and a partial last one
        J, gW, gb = cost.value_and_grad(net, X, Y)
        ref = _pieces_sum(net, cost, X, Y, 8)
        gWa, gba, lam0 = net.adjoint(X, lam_T)
        lam0_ref = np.concatenate([net.adjoint(X[lo:lo + 8], lam_T[lo:lo + 8])[2]
                                   for lo in range(0, N, 8)])
    finally:
        _kernels.use_general_kernels(old)
    assert J == pytest.approx(ref[0], rel=1e-13)
    np.testing.assert_allclose(gW, ref[1], rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(gb, ref[2], rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(lam0, lam0_ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("general", [False, True])
def test_forward_and_tangent_over_many_panels(general, rng):
    # 700 samples on one thread: the forward and tangent sweeps take several panels of samples
    # through all steps; every output row must match the same sample computed alone
    net = make_net(width=2, n_steps=7, n_threads=1, seed=9)
    X = rng.normal(size=(700, 2))
    dW, db = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    old = _kernels.use_general_kernels(general)
    try:
        whole = (net.forward(X), net.trajectory(X), net.sensitivity(X, dW, db),
                 net.input_jacobian(X))
        pieces = [(net.forward(X[lo:lo + 50]), net.trajectory(X[lo:lo + 50]),
                   net.sensitivity(X[lo:lo + 50], dW, db), net.input_jacobian(X[lo:lo + 50]))
                  for lo in range(0, 700, 50)]
    finally:
        _kernels.use_general_kernels(old)
    for k, out in enumerate(whole):
        ref = np.concatenate([p[k] for p in pieces], axis=1 if k == 1 else 0)
        np.testing.assert_allclose(out, ref, rtol=1e-14, atol=1e-15)


def test_scratch_is_cache_line_aligned():
    # the kernels' vector loads straddle two cache lines on a misaligned workspace (numpy
    # aligns to 16 bytes); every size, and after growing
    for name, size in [("t1", 1), ("t1", 1000), ("t2", 12345), ("t1", 100000)]:
        buf = _kernels._scratch(name, size)
        assert buf.shape == (size,) and buf.ctypes.data % 64 == 0
    _kernels.release_scratch()


def _sums(net, X, labels, cost, dW, db):
    r = net.data_gradient(X, cost, labels=labels, keep=net.memory == "store", outputs=True)
    J, _ = net.data_cost(X, cost, labels=labels)
    xi = net.sensitivity(None, dW, db, states=r.states) if r.states is not None else None
    return r.value, J, r.gW.copy(), r.gb.copy(), r.outputs, xi


@pytest.mark.parametrize("case", ["copies", "in-place", "one chunk"])
def test_sums_are_the_same_on_any_number_of_threads(case, rng):
    # the cost and the gradient are summed chunk by chunk in chunk order, the chunks a
    # function of the network and the batch size alone: bit for bit the same sums (and the
    # same kept states) on 1, 2, 3 or 5 threads
    if case == "copies":  # chunks of several panels, each summed in its thread's copy
        net, N = make_net(width=4, n_steps=60, T=3.0, seed=1), 750
    elif case == "in-place":  # a gradient of 17 MB: chunks of one panel, summed in place
        net, N = make_net(width=130, n_steps=125, scheme="euler", seed=2), 300
    else:
        net, N = make_net(width=3, n_steps=4, seed=3), 20
    chunk = _kernels.sum_chunk(*net._args(None), N)
    panel = _info(net, N)[1]
    assert {"copies": chunk > panel, "in-place": chunk <= panel < N,
            "one chunk": chunk >= N}[case]
    X = rng.normal(size=(N, net.width))
    labels = rng.integers(0, 3, size=N)
    cost = snode.Cost(mse=1.0, ce=0.5, n_classes=3)
    dW, db = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    results = {}
    for threads in (1, 2, 3, 5):
        net.n_threads = threads
        results[threads] = _sums(net, X, labels, cost, dW, db)
    ref = results[1]
    assert ref[0] == ref[1]  # the cost sweep's sum is the gradient sweep's
    for threads, res in results.items():
        for a, b in zip(res, ref):
            np.testing.assert_array_equal(a, b, err_msg=f"{threads} threads")
    # and it is the gradient (not only a reproducible number): against the sum of
    # separately computed pieces
    net.n_threads = 2
    J, gW, gb = cost.value_and_grad(net, X, None, labels)
    parts = [cost.value_and_grad(net, X[lo:lo + 37], None, labels[lo:lo + 37])
             for lo in range(0, N, 37)]
    w = [min(37, N - lo) / N for lo in range(0, N, 37)]
    assert J == pytest.approx(sum(p[0] * s for p, s in zip(parts, w)), rel=1e-12)
    np.testing.assert_allclose(gW, sum(p[1] * s for p, s in zip(parts, w)), rtol=1e-9,
                               atol=1e-14)
