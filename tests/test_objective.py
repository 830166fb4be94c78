"""The objective: values, gradients (weights and inputs), the linearised cost, kept states,
subsets, accuracy and the reducer's contract (docs/method.md, sections 3-5, 7-8)."""
import numpy as np
import pytest
from _helpers import fd4, make_net, rel_err

import snode
from snode.reduce import LocalReducer, Reducer

FULL = dict(mse=0.7, ce=0.5, out=0.3, decay=0.2, smooth=0.1, n_classes=3)


def _data(rng, N=23, m=3, d=4, C=3):
    return rng.normal(size=(N, m)), rng.normal(size=(N, d)), rng.integers(0, C, size=N)


def test_value_and_gradient_match_the_cost_and_finite_differences(rng):
    net = make_net(width=4, n_steps=5, T=1.3)
    X, Y, labels = _data(rng)
    cost = snode.Cost(**FULL)
    obj = snode.Objective(net, cost, X, Y, labels)
    J, gW, gb = obj.value_and_grad()
    assert J == cost(net, X, Y, labels) == obj.value()
    dW, db = rng.normal(size=gW.shape), rng.normal(size=gb.shape)
    W0, b0 = net.get_params()
    fd = fd4(lambda t: obj.value((W0 + t * dW, b0 + t * db)), 0.0, 1.0, 1e-3)
    assert np.sum(gW * dW) + np.sum(gb * db) == pytest.approx(fd, rel=1e-8)


@pytest.mark.parametrize("width, threads", [(4, 1), (12, 2), (16, 2), (21, 3)])
def test_cost_only_evaluation_is_the_gradient_evaluations_value(width, threads, rng):
    # the line searches compare trial costs with the gradient's cost: the same number
    net = make_net(width=width, n_steps=4, seed=width, n_threads=threads)
    X, Y = rng.normal(size=(203, width)), rng.normal(size=(203, width))
    labels = rng.integers(0, 3, size=203)
    obj = snode.Objective(net, snode.Cost(**FULL), X, Y, labels)
    W, b = net.get_params()
    params = (1.1 * W, b - 0.1)
    assert obj.evaluate(params, grad=False).value == obj.evaluate(params).value


@pytest.mark.parametrize("m", [2, 4])
def test_input_gradient_matches_finite_differences(m, rng):
    net = make_net(width=4, n_steps=6)
    X, Y, labels = _data(rng, N=5, m=m)
    cost = snode.Cost(**FULL)
    J, gW, gb, gX = cost.value_and_grad(net, X, Y, labels, input_grad=True)
    assert gX.shape == X.shape
    fd = np.empty_like(X)
    for n in range(X.shape[0]):
        for j in range(m):
            E = np.zeros_like(X)
            E[n, j] = 1.0
            fd[n, j] = fd4(lambda t: cost(net, X + t * E, Y, labels), 0.0, 1.0, 1e-3)
    assert rel_err(gX, fd) <= 1e-8
    # the same backward sweep: the weight gradient is the one without input_grad
    J2, gW2, gb2 = cost.value_and_grad(net, X, Y, labels)
    assert J == J2 and np.array_equal(gW, gW2) and np.array_equal(gb, gb2)


def test_evaluating_elsewhere_leaves_the_network_and_bad_params_are_refused(rng):
    net = make_net(width=3, n_steps=4)
    X, Y, _ = _data(rng, d=3)
    obj = snode.Objective(net, snode.Cost(), X, Y)
    W, b = net.get_params()
    obj.evaluate((W + 1.0, b))
    assert np.array_equal(net.W, W)
    bad = W.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        obj.set_params((bad, b))
    with pytest.raises(ValueError, match="shape"):
        obj.set_params((W[:2], b))
    assert np.array_equal(net.W, W)  # a failed call changes nothing
    obj.set_params((W + 1.0, b))
    assert np.array_equal(net.W, W + 1.0)


def test_non_finite_penalty_raises():
    # a cost that overflows in the penalty alone is not finite: NonFiniteError, not Inf
    net = snode.SNODE(2, 3, init="zeros")
    net.b = np.full((3, 2), 1e300)
    net.W = np.zeros((3, 2, 2))
    X, Y = np.zeros((4, 2)), np.zeros((4, 2))
    obj = snode.Objective(net, snode.Cost(mse=0.0, out=0.0, decay=1.0), X, Y)
    with pytest.raises(snode.NonFiniteError):
        obj.value()
    with pytest.raises(snode.NonFiniteError):
        obj.value_and_grad()


@pytest.mark.parametrize("terms", [dict(mse=1.0, out=0.2, decay=0.1, smooth=0.3),
                                   dict(mse=0.0, ce=1.0, n_classes=3, smooth=0.2),
                                   FULL])
def test_linearized_cost_is_exact_for_a_network_linear_in_its_weights(terms, rng):
    # identity activation, one Euler step: x(T) is linear in (W, b), so the linearised cost
    # along a line is the cost itself, with its slope and curvature
    net = snode.SNODE(3, 1, scheme="euler", activation="identity", init="zeros")
    net.W = 0.3 * rng.normal(size=net.W.shape)
    X, Y, labels = _data(rng, d=3)
    obj = snode.Objective(net, snode.Cost(**terms), X, Y, labels)
    ev = obj.evaluate()
    d = (rng.normal(size=net.W.shape), rng.normal(size=net.b.shape))
    line = obj.linearize(ev, d)
    W, b = ev.params
    assert line.value == ev.value and line.quadratic == ("ce" not in terms)
    assert line.slope == pytest.approx(np.sum(ev.grad[0] * d[0]) + np.sum(ev.grad[1] * d[1]),
                                       rel=1e-14)
    for eta in (0.0, 0.3, -0.7):
        phi, dphi, d2phi = line(eta)
        along = lambda t: obj.value((W + t * d[0], b + t * d[1]))  # noqa: E731
        assert phi == pytest.approx(along(eta), rel=1e-12)
        assert dphi == pytest.approx(fd4(along, eta, 1.0, 1e-3), rel=1e-8)
        h = 1e-3
        fd2 = (along(eta + h) - 2 * along(eta) + along(eta - h)) / h ** 2
        assert d2phi == pytest.approx(fd2, rel=1e-5)


def test_linearized_cost_of_a_nonlinear_network_is_the_sensitivity_model(rng):
    net = make_net(width=5, n_steps=6, T=2.0)
    X, Y, labels = _data(rng, d=5)
    cost = snode.Cost(**FULL)
    obj = snode.Objective(net, cost, X, Y, labels)
    ev = obj.evaluate()
    d = (rng.normal(size=net.W.shape), rng.normal(size=net.b.shape))
    line = obj.linearize(ev, d)
    xi = net.sensitivity(X, *d)
    W, b = ev.params
    for eta in (0.05, 0.4):
        out = net.forward(X) + eta * xi
        p = (W + eta * d[0], b + eta * d[1])
        expected = cost.data_cost(out, Y, labels) + cost.penalty(net, p)
        assert line(eta)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("width, activation, scheme", [
    (3, "tanh", "rk4"), (12, "sigmoid", "heun"), (16, "tanh", "rk4"), (16, "sigmoid", "euler"),
    (21, "softplus", "midpoint"), (40, "relu", "rk4"),
    (5, "tanh", ([[0, 0, 0], [0.5, 0, 0], [-1, 2, 0]], [1 / 6, 2 / 3, 1 / 6]))])
def test_sensitivity_on_kept_states_is_the_sensitivity(width, activation, scheme, rng):
    net = make_net(width=width, n_steps=5, scheme=scheme, activation=activation, seed=width,
                   n_threads=2)
    X, Y = rng.normal(size=(77, width)), rng.normal(size=(77, width))
    r = net.data_gradient(X, snode.Cost(), Y, keep=True)
    dW, db = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    for direction in ((dW, db), (dW, None), (None, db)):
        kept = net.sensitivity(None, *direction, states=r.states)
        np.testing.assert_allclose(kept, net.sensitivity(X, *direction), rtol=1e-12,
                                   atol=1e-13 * np.abs(kept).max())
    with pytest.raises(ValueError, match="pass X=None"):
        net.sensitivity(X, dW, db, states=r.states)
    with pytest.raises(ValueError, match="this network's"):
        net.copy().sensitivity(None, states=r.states)
    # the states own their weights: changing the network's does not change them
    before = net.sensitivity(None, dW, db, states=r.states)
    net.set_params((2 * net.W, net.b))
    np.testing.assert_array_equal(net.sensitivity(None, dW, db, states=r.states), before)
    snode.model.release_states(r.states)
    with pytest.raises(ValueError, match="released"):
        net.sensitivity(None, dW, db, states=r.states)


def test_kept_states_need_the_store_memory_mode(rng):
    net = make_net(width=4, n_steps=3, memory="recompute")
    X, Y = rng.normal(size=(9, 4)), rng.normal(size=(9, 4))
    with pytest.raises(ValueError, match="memory='store'"):
        net.data_gradient(X, snode.Cost(), Y, keep=True)
    obj = snode.Objective(net, snode.Cost(), X, Y)
    assert obj.evaluate().states is None  # "auto" keeps nothing here


def test_subset_and_accuracy(rng):
    net = make_net(width=4, n_steps=4)
    X, Y, labels = _data(rng, N=40)
    cost = snode.Cost(**FULL)
    obj = snode.Objective(net, cost, X, Y, labels)
    idx = np.array([3, 1, 30, 7, 22])
    sub = obj.subset(idx)
    assert sub.n_total == 5 and sub.counts is obj.counts
    direct = snode.Objective(net, cost, X[idx], Y[idx], labels[idx])
    assert sub.value() == direct.value()
    pred = net.forward(X)[:, :3].argmax(axis=1)
    assert obj.accuracy() == np.mean(pred == labels)
    with pytest.raises(ValueError, match="needs labels"):
        snode.Objective(net, snode.Cost(), X, Y).accuracy()


def test_counts_and_scipy_style_result(rng):
    X, Y, _ = _data(rng, N=60, d=4)
    net = make_net(width=4, n_steps=6, seed=3)
    res = snode.NCG(max_iter=15).minimize(net, snode.Cost(), X, Y)
    assert res.nit == res.n_iter == 15 and res.njev == res.evaluations
    assert res.nfev >= res.njev
    # one gradient evaluation an iteration (the accepted trial's is the next iteration's)
    assert res.evaluations <= res.n_iter + 1 + res.history["backtracks"].sum()
    assert np.all(np.diff(res.history["evaluations"]) >= 1)
    np.testing.assert_array_equal(res.x[0], net.W)
    assert res.fun == pytest.approx(snode.Cost()(net, X, Y), rel=1e-14)


def test_keeping_states_does_not_change_training(rng):
    X, Y, _ = _data(rng, N=60, d=4)
    out = []
    for keep in ("auto", False):
        net = make_net(width=4, n_steps=6, seed=3)
        obj = snode.Objective(net, snode.Cost(), X, Y, keep_states=keep)
        snode.NCG(max_iter=10).minimize(obj)
        out.append(net.W.copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9, atol=1e-12)


def test_bad_objective_arguments(rng):
    net = make_net(width=3, n_steps=2)
    X, Y, _ = _data(rng, d=3)
    with pytest.raises(ValueError, match="keep_states"):
        snode.Objective(net, snode.Cost(), X, Y, keep_states="yes")
    with pytest.raises(ValueError, match="allreduce"):
        snode.Objective(net, snode.Cost(), X, Y, reducer=object())
    obj = snode.Objective(net, snode.Cost(), X, Y)
    with pytest.raises(ValueError, match="gradient evaluation"):
        obj.linearize(obj.evaluate(grad=False), net.get_params())
    with pytest.raises(ValueError, match="nonzero"):
        obj.linearize(obj.evaluate(), (np.zeros_like(net.W), np.zeros_like(net.b)))
    with pytest.raises(ValueError, match="either an Objective"):
        snode.NCG().minimize(obj, snode.Cost())


# --- the reducer's contract --------------------------------------------------------------


class CountingReducer(LocalReducer):
    def __init__(self):
        self.calls = 0

    def allreduce(self, *parts):
        self.calls += 1
        return parts

    def reduce_tree(self, nodes, n_blocks):
        self.calls += 1
        return super().reduce_tree(nodes, n_blocks)


def test_every_sum_goes_through_the_reducer(rng):
    net = make_net(width=4, n_steps=3)
    X, Y, labels = _data(rng, N=30)
    red = CountingReducer()
    obj = snode.Objective(net, snode.Cost(**FULL), X, Y, labels, reducer=red)
    for call in (obj.value, obj.value_and_grad, obj.accuracy):
        before = red.calls
        call()
        assert red.calls == before + 1
    ev = obj.evaluate()
    before = red.calls
    line = obj.linearize(ev, (np.ones_like(net.W), np.ones_like(net.b)))
    line(0.1)
    assert red.calls == before + 2  # the line's value at 0 and at 0.1


@pytest.mark.parametrize("make_opt", [lambda: snode.NCG(max_iter=8),
                                      lambda: snode.NCG(beta="PR+", metric="l2", max_iter=8),
                                      lambda: snode.Adam(lr=0.02, max_iter=8),
                                      lambda: snode.GradientDescent(lr=0.2, max_iter=8)])
@pytest.mark.parametrize("cost", [snode.Cost(mse=1.0, decay=0.01, smooth=0.01), snode.Cost(**FULL)])
def test_sharded_training_through_a_reducer_matches_one_process(make_opt, cost, rng):
    """Two 'ranks' with half the samples each, their sums met by a plain reducer (each rank's
    blocks folded, then an all-reduce in rank order): the same weights as one process with
    all of them (up to the order of the sums)."""
    from _helpers import ThreadGroup
    X, Y, labels = _data(rng, N=64, m=4, d=5)
    net0 = make_net(width=5, n_steps=6, seed=11, n_threads=1)
    ref = net0.copy()
    make_opt().minimize(ref, cost, X, Y, labels)
    shards = [slice(0, 29), slice(29, 64)]  # uneven

    def run(rank, red):
        s = shards[rank]
        net = net0.copy()
        make_opt().minimize(snode.Objective(net, cost, X[s], Y[s], labels[s], reducer=red))
        return net.W

    W0, W1 = ThreadGroup(2, exact=False).run(run)
    np.testing.assert_array_equal(W0, W1)  # every rank took the same steps
    np.testing.assert_allclose(W0, ref.W, rtol=1e-8, atol=1e-11)
    assert not np.allclose(W0, net0.W)  # it trained


# --- misuse: clear errors, nothing changed, no crash ----------------------------------------


def test_labels_changed_after_the_objective_was_built_do_not_reach_the_core(rng):
    net = make_net(width=4, n_steps=3)
    X, _, labels = _data(rng)
    cost = snode.Cost(mse=1.0, ce=1.0, n_classes=3)
    obj = snode.Objective(net, cost, X, labels=labels.astype(np.int64))
    J = obj.value()
    labels[:] = 100000  # the caller's array; the objective holds its own copy
    assert obj.value() == J
    # and the core refuses out-of-range labels instead of reading out of bounds
    bad = np.full(X.shape[0], 100000, dtype=np.int64)
    with pytest.raises(ValueError, match=r"outside \[0, n_classes\)"):
        net.data_gradient(X, cost, labels=bad, check_input=False)
    with pytest.raises(ValueError, match=r"outside \[0, n_classes\)"):
        net.data_cost(X, cost, labels=bad, check_input=False)


@pytest.mark.parametrize("labels, match", [
    (np.array([2 ** 63 + 5, 0], dtype=np.uint64), r"\[0, 9223372036854775813\]"),
    (np.array([1e20, 0.0]), "must lie in"),
])
def test_huge_labels_give_a_clear_error(labels, match):
    net = snode.SNODE(3, 2, init="zeros")
    with pytest.raises(ValueError, match=match):
        snode.Objective(net, snode.Cost(mse=0.0, ce=1.0, n_classes=2), np.ones((2, 3)),
                        labels=labels)


def test_reducers_that_break_the_contract(rng):
    net = make_net(width=3, n_steps=2)
    X, Y, _ = _data(rng, d=3)

    class Scalar(LocalReducer):
        def reduce_tree(self, nodes, n_blocks):
            return tuple(np.sum(p) for p in super().reduce_tree(nodes, n_blocks))

    class Fractional(LocalReducer):
        def total(self, n):
            return n + 0.7

    class Nothing(Reducer):
        pass

    obj = snode.Objective(net, snode.Cost(), X, Y, reducer=Scalar())
    with pytest.raises(ValueError, match="reducer returned arrays of shapes"):
        obj.value_and_grad()
    with pytest.raises(ValueError, match="must be an integer"):
        snode.Objective(net, snode.Cost(), X, Y, reducer=Fractional())
    with pytest.raises(NotImplementedError, match="must implement total"):
        snode.Objective(net, snode.Cost(), X, Y, reducer=Nothing())


def test_optimiser_arguments_are_checked_before_anything_changes(rng):
    net = make_net(width=3, n_steps=2)
    X, Y, _ = _data(rng, d=3)
    W = net.W.copy()
    obj = snode.Objective(net, snode.Cost(), X, Y)
    with pytest.raises(ValueError, match="either an Objective"):
        snode.NCG().minimize(obj, reducer=LocalReducer())
    with pytest.raises(ValueError, match="either an Objective"):
        snode.scipy_objective(obj, snode.Cost())
    with pytest.raises(ValueError, match="callback must be callable"):
        snode.NCG(max_iter=3).minimize(net, snode.Cost(), X, Y, callback=3)
    assert np.array_equal(net.W, W)


@pytest.mark.parametrize("opt", [snode.NCG(max_iter=3), snode.Adam(max_iter=3),
                                 snode.GradientDescent(max_iter=3)])
def test_starting_weights_that_overflow_raise_and_change_nothing(opt):
    net = snode.SNODE(3, 60, T=30000.0, activation="relu", seed=0)
    W = net.W.copy()
    X, Y = np.ones((5, 3)), np.zeros((5, 3))
    with pytest.raises(snode.NonFiniteError):
        opt.minimize(net, snode.Cost(), X, Y)
    assert np.array_equal(net.W, W)


def test_interrupted_baseline_reports_the_cost_at_its_weights(rng):
    X, Y, _ = _data(rng, d=4)
    net = make_net(width=4, n_steps=3)

    def stop(rec):
        if rec["evaluations"] == 3:
            raise KeyboardInterrupt

    res = snode.GradientDescent(lr=0.05, max_iter=20).minimize(net, snode.Cost(), X, Y,
                                                               callback=stop)
    assert res.interrupted and res.fun == snode.Cost()(net, X, Y)


def test_linearize_takes_any_direction_pair_and_checks_its_evaluation(rng):
    net = make_net(width=3, n_steps=2)
    X, Y, labels = _data(rng, d=3)
    obj = snode.Objective(net, snode.Cost(mse=0.0, ce=1.0, n_classes=3), X, labels=labels)
    ev = obj.evaluate()
    dW = rng.normal(size=net.W.shape)
    a = obj.linearize(ev, (dW.tolist(), None))
    b = obj.linearize(ev, (dW, np.zeros_like(net.b)))
    assert a(0.3) == b(0.3)
    assert a.minimizer() is None  # not a quadratic: see the sensitivity step
    other = snode.Objective(net, obj.cost, X[:5], labels=labels[:5])
    with pytest.raises(ValueError, match="another objective"):
        other.linearize(ev, (dW, None))
    with pytest.raises(ValueError, match="dW must have shape"):
        obj.linearize(ev, (dW[0], None))
    with pytest.raises(ValueError, match="input_grad needs grad"):
        obj.evaluate(grad=False, input_grad=True)
    # a long or a short direction gives the same step (the model is scaled, not overflowed)
    q = snode.Objective(net, snode.Cost(), X, Y)
    e = q.evaluate()
    g = (-e.grad[0], -e.grad[1])
    base = q.linearize(e, g).minimizer()
    for s in (1e300, 1e-300):
        eta = q.linearize(e, (s * g[0], s * g[1])).minimizer()
        assert eta * s == pytest.approx(base, rel=1e-12)


# --- sums that do not depend on the number of processes ------------------------------------


def test_the_tree_over_blocks():
    from snode.reduce import tree_nodes, tree_root
    for n in (1, 2, 3, 5, 8, 13, 64, 100):
        assert tree_nodes(0, n, n) == [(0, n)]
        for lo in range(n):
            for hi in range(lo + 1, n + 1):
                nodes = tree_nodes(lo, hi, n)
                covered = [k for a, b in nodes for k in range(a, b)]
                assert covered == list(range(lo, hi))  # exactly, in order
                assert len(nodes) <= 2 * max(1, n.bit_length())
        # any split into consecutive ranges gives the same root, bit for bit
        rng = np.random.default_rng(n)
        leaves = rng.normal(size=(n, 5)) * 10.0 ** rng.integers(-8, 8, size=(n, 1))
        ref = snode.reduce.tree_sum(0, n, lambda k: (leaves[k].copy(), float(leaves[k, 0])))
        for cuts in ([0, n], [0, n // 2, n], [0, n // 3, 2 * n // 3, n]):
            nodes = [((a, b), snode.reduce.tree_sum(a, b, lambda k: (leaves[k].copy(),
                                                                     float(leaves[k, 0]))))
                     for lo, hi in zip(cuts, cuts[1:]) for a, b in tree_nodes(lo, hi, n)]
            root = tree_root(nodes[::-1], n)
            np.testing.assert_array_equal(root[0], ref[0])
            assert root[1] == ref[1]
    with pytest.raises(ValueError, match="do not cover block"):
        tree_root([((0, 2), (1.0,))], 3)


def _trained(make_opt, cost, X, Y, labels, net0, size, block_size, exact=True):
    """The weights NCG/Adam/... reach with the samples sharded over `size` simulated ranks."""
    from _helpers import ThreadGroup
    if size == 0:  # one process, no reducer at all
        net = net0.copy()
        make_opt().minimize(snode.Objective(net, cost, X, Y, labels, block_size=block_size))
        return net.W, net.b

    def run(rank, red):
        s = snode.shard(X.shape[0], red, block_size)
        net = net0.copy()
        obj = snode.Objective(net, cost, X[s], Y[s], labels[s], reducer=red,
                              block_size=block_size)
        res = make_opt().minimize(obj)
        return net.W, net.b, res.n_iter

    out = ThreadGroup(size, exact).run(run)
    for W, b, _ in out[1:]:  # every rank took the same steps
        np.testing.assert_array_equal(W, out[0][0])
        np.testing.assert_array_equal(b, out[0][1])
    return out[0][0], out[0][1]


@pytest.mark.parametrize("make_opt", [
    lambda: snode.NCG(max_iter=6),
    lambda: snode.NCG(memory=3, max_iter=6),
    lambda: snode.NCG(beta="PR+", metric="l2", max_iter=6),
    lambda: snode.NCG(batch_size=20, epochs=2, iterations_per_batch=2, seed=4),
    lambda: snode.Adam(lr=0.02, max_iter=6),
    lambda: snode.Adam(lr=0.02, batch_size=16, epochs=2, seed=5),
    lambda: snode.GradientDescent(lr=0.2, max_iter=6)],
    ids=["ncg", "lbfgs", "pr+", "ncg-minibatch", "adam", "adam-minibatch", "gd"])
def test_training_is_bit_for_bit_the_same_on_any_number_of_processes(make_opt, rng):
    # 70 samples in blocks of 8 (9 blocks, the last short) over 1, 2 and 3 simulated ranks
    # (uneven shares), and without any reducer: the same weights, bit for bit
    X, Y, labels = _data(rng, N=70, m=4, d=5)
    net0 = make_net(width=5, n_steps=6, seed=11, n_threads=2)
    cost = snode.Cost(**FULL)
    ref = _trained(make_opt, cost, X, Y, labels, net0, 0, 8)
    assert not np.array_equal(ref[0], net0.W)  # it trained
    for size in (1, 2, 3):
        W, b = _trained(make_opt, cost, X, Y, labels, net0, size, 8)
        np.testing.assert_array_equal(W, ref[0], err_msg=f"{size} ranks")
        np.testing.assert_array_equal(b, ref[1], err_msg=f"{size} ranks")
    # blocks change the rounding, not the result
    one = _trained(make_opt, cost, X, Y, labels, net0, 0, 4096)
    np.testing.assert_allclose(one[0], ref[0], rtol=1e-7, atol=1e-10)


def test_blocks_give_the_gradient(rng):
    # several blocks in one process: the cost and gradient of the whole batch (to rounding),
    # the linearised cost, the input gradient and outputs in sample order
    net = make_net(width=4, n_steps=5)
    X, Y, labels = _data(rng, N=45)
    cost = snode.Cost(**FULL)
    one = snode.Objective(net, cost, X, Y, labels)
    many = snode.Objective(net, cost, X, Y, labels, block_size=7)
    a, b = one.evaluate(input_grad=True), many.evaluate(input_grad=True)
    assert isinstance(b.states, tuple) and len(b.states) == 7
    assert b.value == pytest.approx(a.value, rel=1e-13)
    for x, y in zip(a.grad + (a.input_grad, a.outputs), b.grad + (b.input_grad, b.outputs)):
        np.testing.assert_allclose(y, x, rtol=1e-11, atol=1e-14)
    d = (rng.normal(size=net.W.shape), rng.normal(size=net.b.shape))
    la, lb = one.linearize(a, d), many.linearize(b, d)
    for eta in (0.0, 0.01, 0.3):
        np.testing.assert_allclose(lb(eta), la(eta), rtol=1e-10)
    assert lb.output_rate == pytest.approx(la.output_rate, rel=1e-12)
    many.release(b)
    assert b.states is None


def test_shards_that_cut_a_block_are_refused(rng):
    from _helpers import ThreadGroup
    X, Y, labels = _data(rng, N=30, m=4, d=5)
    net = make_net(width=5, n_steps=2)

    def run(rank, red):
        s = slice(0, 13) if rank == 0 else slice(13, 30)
        with pytest.raises(ValueError, match="must be whole blocks of block_size=8"):
            snode.Objective(net, snode.Cost(), X[s], Y[s], reducer=red, block_size=8)
        return True

    assert all(ThreadGroup(2).run(run))
    assert snode.shard(30, None, 8) == slice(0, 30)
    assert [snode.shard(30, type("G", (), {"rank": r, "size": 3})(), 8) for r in range(3)] \
        == [slice(0, 16), slice(16, 24), slice(24, 30)]
    assert [snode.shard(5, type("G", (), {"rank": r, "size": 3})(), 8) for r in range(3)] \
        == [slice(0, 5), slice(5, 5), slice(5, 5)]


def test_an_overflow_on_one_process_is_an_overflow_on_every_process(rng):
    # the samples of the last blocks overflow at large weights: the process that holds them
    # raises, and so must the others (else they would wait in, or pair up wrong, collective
    # calls); training then stops the same way as in one process
    from _helpers import ThreadGroup
    X = rng.normal(size=(64, 3))
    X[48:] *= 1e152
    Y = rng.normal(size=(64, 3))
    net0 = snode.SNODE(3, 4, activation="identity", seed=1, n_threads=1)
    cost = snode.Cost(mse=1.0)

    def run(rank, red):
        s = snode.shard(64, red, 16)
        net = net0.copy()
        obj = snode.Objective(net, cost, X[s], Y[s], reducer=red, block_size=16)
        with pytest.raises(snode.NonFiniteError):
            obj.value((net.W * 30, net.b))
        with pytest.raises(snode.NonFiniteError):
            obj.value_and_grad((net.W * 30, net.b))
        res = snode.GradientDescent(lr=1e-295, max_iter=30).minimize(obj)
        return obj.value(), net.W, res.message

    net = net0.copy()
    obj = snode.Objective(net, cost, X, Y, block_size=16)
    ref = (obj.value(), None, snode.GradientDescent(lr=1e-295, max_iter=30).minimize(obj)
           .message)
    for size in (2, 3):
        for value, W, message in ThreadGroup(size).run(run):
            assert message == ref[2]
            np.testing.assert_array_equal(W, net.W)


def test_a_bad_share_stops_every_process(rng):
    # a process whose data are malformed raises, and so do the others (none goes on alone)
    from _helpers import ThreadGroup
    X, Y, _ = _data(rng, N=32, m=3, d=4)
    net = make_net(width=4, n_steps=2)

    def run(rank, red):
        s = snode.shard(32, red, 8)
        Xr = X[s].copy()
        if rank == 1:
            Xr[0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN" if rank == 1 else "another process"):
            snode.Objective(net, snode.Cost(), Xr, Y[s], reducer=red, block_size=8)
        return True

    assert all(ThreadGroup(3).run(run))


def test_a_process_without_samples_takes_part(rng):
    # 2 blocks on 4 processes: two hold none, and training is the one process's
    from _helpers import ThreadGroup
    X, Y, labels = _data(rng, N=20, m=3, d=4)
    net0 = make_net(width=4, n_steps=3, seed=2)
    cost = snode.Cost(**FULL)
    ref = net0.copy()
    snode.NCG(max_iter=4).minimize(snode.Objective(ref, cost, X, Y, labels, block_size=16))

    def run(rank, red):
        s = snode.shard(20, red, 16)
        net = net0.copy()
        obj = snode.Objective(net, cost, X[s], Y[s], labels[s], reducer=red, block_size=16)
        snode.NCG(max_iter=4).minimize(obj)
        return s.stop - s.start, net.W, obj.accuracy()

    out = ThreadGroup(4).run(run)
    assert sorted(n for n, _, _ in out) == [0, 0, 4, 16]
    for _, W, acc in out:
        np.testing.assert_array_equal(W, ref.W)
        assert acc == snode.Objective(ref, cost, X, Y, labels).accuracy()


def test_minibatches_without_a_seed_are_rank_0s(rng):
    # seed=None: each process would draw its own batches; they take rank 0's draw
    from _helpers import ThreadGroup
    X, Y, labels = _data(rng, N=48, m=3, d=4)
    net0 = make_net(width=4, n_steps=3, seed=5)

    def run(rank, red):
        s = snode.shard(48, red, 8)
        net = net0.copy()
        obj = snode.Objective(net, snode.Cost(**FULL), X[s], Y[s], labels[s], reducer=red,
                              block_size=8)
        snode.Adam(lr=0.05, batch_size=10, epochs=2).minimize(obj)
        return net.W

    out = ThreadGroup(3).run(run)
    assert not np.array_equal(out[0], net0.W)
    for W in out[1:]:
        np.testing.assert_array_equal(W, out[0])


def test_every_process_starts_from_rank_0s_weights(rng):
    from _helpers import ThreadGroup
    X, Y, _ = _data(rng, N=32, m=3, d=4)

    def run(rank, red):
        s = snode.shard(32, red, 8)
        net = snode.SNODE(4, 3, seed=None)  # different weights on every process
        start = net.get_params()
        obj = snode.Objective(net, snode.Cost(), X[s], Y[s], reducer=red, block_size=8)
        snode.NCG(max_iter=2).minimize(obj)
        return start, net.W

    out = ThreadGroup(3).run(run)
    assert not np.array_equal(out[0][0][0], out[1][0][0])  # they began apart
    ref = snode.SNODE(4, 3)
    ref.set_params(out[0][0])  # one process from rank 0's weights
    snode.NCG(max_iter=2).minimize(snode.Objective(ref, snode.Cost(), X, Y, block_size=8))
    for _, W in out:
        np.testing.assert_array_equal(W, ref.W)


def test_subset_by_mask_and_settings_that_differ_between_processes(rng):
    from _helpers import ThreadGroup
    X, Y, labels = _data(rng, N=32, m=3, d=4)
    net = make_net(width=4, n_steps=2)
    mask = np.zeros(32, dtype=bool)
    mask[::3] = True
    one = snode.Objective(net, snode.Cost(), X, Y, block_size=8).subset(mask)
    assert one.n_total == mask.sum()

    def run(rank, red):
        s = snode.shard(32, red, 8)
        obj = snode.Objective(net, snode.Cost(), X[s], Y[s], reducer=red, block_size=8)
        sub = obj.subset(mask)
        assert sub.n_total == mask.sum() and sub.value() == one.value()
        with pytest.raises(ValueError, match=r"the processes differ in the cost: rank\(s\) "
                                             r"\[1\] from rank 0"):
            snode.Objective(net, snode.Cost(mse=1.0 + rank), X[s], Y[s], reducer=red,
                            block_size=8)
        with pytest.raises(ValueError, match="the processes differ in the block size"):
            snode.Objective(net, snode.Cost(), X[s], Y[s], reducer=red, block_size=8 + rank)
        return True

    assert all(ThreadGroup(2).run(run))


def test_a_duck_typed_reducer_of_the_first_contract(rng):
    # an object with only allreduce and total (and rank, size), no Reducer base class: the
    # plain reduction, full batch
    from _helpers import ThreadGroup
    X, Y, labels = _data(rng, N=40, m=4, d=5)
    net0 = make_net(width=5, n_steps=4, seed=3, n_threads=1)
    ref = net0.copy()
    snode.NCG(max_iter=5).minimize(ref, snode.Cost(**FULL), X, Y, labels)

    def run(rank, red):
        class Duck:
            def __init__(self):
                self.rank, self.size = red.rank, red.size

            def allreduce(self, *parts):
                return red.allreduce(*parts)

            def total(self, n):
                return red.total(n)

        s = slice(0, 17) if rank == 0 else slice(17, 40)
        net = net0.copy()
        snode.NCG(max_iter=5).minimize(snode.Objective(net, snode.Cost(**FULL), X[s], Y[s],
                                                       labels[s], reducer=Duck()))
        return net.W

    for W in ThreadGroup(2, exact=False).run(run):
        np.testing.assert_allclose(W, ref.W, rtol=1e-8, atol=1e-11)


def test_the_default_block_size_depends_on_the_number_of_samples_alone():
    from _helpers import ThreadGroup
    from snode.reduce import BLOCK_COUNT, BLOCK_MAX, BLOCK_MIN, block_size_for
    # the smallest power of two that makes at most 16 blocks, kept within [256, 4096]
    cases = {0: 256, 1: 256, 750: 256, 4096: 256, 4097: 512, 10000: 1024, 16384: 1024,
             60000: 4096, 65537: 4096}
    for n, B in cases.items():
        assert block_size_for(n) == B, n
    for n in range(1, 70000, 997):
        B = block_size_for(n)
        assert B & (B - 1) == 0 and BLOCK_MIN <= B <= BLOCK_MAX
        assert -(-n // B) <= BLOCK_COUNT or B == BLOCK_MAX
        assert B == BLOCK_MIN or -(-n // (B // 2)) > BLOCK_COUNT  # (the smallest such)
    with pytest.raises(ValueError, match="n_samples"):
        block_size_for(-1)
    # shard and the objective take it from all processes' samples: 3 processes share the 3
    # blocks of 750 samples, and their sums are one process's
    assert snode.shard(750, block_size=None) == slice(0, 750)
    net = snode.SNODE(3, 4, seed=1)
    rng = np.random.default_rng(0)
    X, labels = rng.standard_normal((750, 3)), rng.integers(0, 2, 750)
    cost = snode.Cost(mse=0.0, ce=1.0, n_classes=2)
    one = snode.Objective(net, cost, X, labels=labels)
    assert one.block_size == 256
    J1, gW1, _ = one.value_and_grad()

    def run(rank, red):
        s = snode.shard(750, red)
        assert s.stop - s.start == 256 or (rank == 2 and s.stop - s.start == 238)
        obj = snode.Objective(net, cost, X[s], labels=labels[s], reducer=red)
        J, gW, _ = obj.value_and_grad()
        return obj.block_size, J, gW

    for B, J, gW in ThreadGroup(3).run(run):
        assert B == 256 and J == J1
        np.testing.assert_array_equal(gW, gW1)


def test_a_cost_that_is_no_cost_is_refused_by_name():
    net = snode.SNODE(2, 3, seed=0)
    for cost in ("mse", None, 1.0):
        with pytest.raises(ValueError, match="cost must be an snode.Cost"):
            snode.Objective(net, cost, np.ones((4, 2)))
