"""Resources follow the work: construction cost, scratch memory, threads, fork (issue: real
data and files, kind 7)."""
import multiprocessing
import time

import numpy as np
import pytest

import snode


@pytest.mark.parametrize("T", [1e5, 1e8])
def test_a_long_depth_with_few_steps_costs_what_the_steps_cost(T):
    t0 = time.perf_counter()
    net = snode.SNODE(4, 10, T=T, seed=0)
    assert time.perf_counter() - t0 < 1.0
    assert net.W.shape == (10, 4, 4) and np.isfinite(net.W).all()
    assert 0.1 / 4 < net.W.std() < 10 / 4  # draws of standard deviation 1/d, interpolated


def test_local_splines_of_a_long_depth_agree_with_the_global_spline(monkeypatch):
    from snode import model

    ref = snode.SNODE(3, 40, T=300.0, seed=3).W  # 301 knots: one spline through them all
    monkeypatch.setattr(model, "_LOCAL_SPLINE_KNOTS", 0)
    local = snode.SNODE(3, 40, T=300.0, seed=3)
    # other draws (only the knots near the steps), the same distribution and smoothness
    assert 0.5 < local.W.std() / ref.std() < 2.0


def test_too_many_threads_is_refused():
    with pytest.raises(ValueError, match="n_threads must be at most"):
        snode.SNODE(3, 2, n_threads=100000)
    net = snode.SNODE(3, 2)
    with pytest.raises(ValueError, match="n_threads must be at most"):
        net.n_threads = 10 ** 6


def test_scratch_beyond_the_machine_raises_memory_error_naming_the_way_out(monkeypatch):
    from snode import _kernels

    monkeypatch.setattr(_kernels, "_MEMORY_LIMIT", 1 << 16)  # a machine of 128 KiB
    net = snode.SNODE(16, 50, init="zeros", n_threads=1)
    X, Y = np.zeros((500, 16)), np.zeros((500, 16))
    with pytest.raises(MemoryError, match=r"gradient sweep needs .* MiB .*width 16, 50 steps, "
                                          r"4 stages.*memory='recompute'"):
        snode.Cost().value_and_grad(net, X, Y)
    with pytest.raises(MemoryError, match="forward states"):
        net.data_gradient(X[:8], snode.Cost(), Y[:8], keep=True)


def test_the_gradient_sweeps_scratch_is_bounded_for_deep_wide_networks():
    from snode import _kernels

    # width 512 and 200 rk4 steps keep 4 MB a sample; a panel of the products' preferred
    # width (1024 samples) would keep 4 GB a thread
    net = snode.SNODE(512, 200, init="zeros")
    fused, panel = _kernels.kernel_info(*net._args(None), 4096, False)
    assert panel * 200 * 5 * 512 * 8 <= 256 * 2 ** 20


def _child(conn):
    net = snode.SNODE(8, 10, seed=0, n_threads=2)
    conn.send(float(net.forward(np.ones((300, 8))).sum()))


def test_sweeps_in_a_forked_child_do_not_hang():
    net = snode.SNODE(8, 10, seed=0, n_threads=2)
    expected = float(net.forward(np.ones((300, 8))).sum())  # the parent's threads are up
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_child, args=(child,))
    p.start()
    p.join(timeout=30)
    if p.is_alive():  # pragma: no cover - the failure this test is about
        p.kill()
        pytest.fail("a sweep in a forked child hung")
    assert p.exitcode == 0 and parent.recv() == expected
