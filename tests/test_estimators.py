"""The scikit-learn-style estimators."""
import numpy as np
import pytest

import snode
from snode import datasets as ds
from snode.model import softmax


def _moons():
    X, y = ds.moons(300, noise=0.05, seed=0)
    return ds.train_test_split(X, y, 0.25, seed=0)


def test_classifier_fit_predict_score():
    Xtr, Xte, ytr, yte = _moons()
    names = np.array(["left", "right"])
    clf = snode.SNODEClassifier(n_steps=20, T=2.0, max_iter=150, random_state=0)
    assert clf.fit(Xtr, names[ytr]) is clf
    assert list(clf.classes_) == ["left", "right"] and clf.n_features_in_ == 2
    assert clf.score(Xte, names[yte]) > 0.9
    proba = clf.predict_proba(Xte)
    assert proba.shape == (len(Xte), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(Xte), names[proba.argmax(axis=1)])
    assert clf.decision_function(Xte).shape == (len(Xte),)
    assert clf.history_["cost"][-1] < clf.history_["cost"][0]


def test_params_clone_and_warm_start():
    Xtr, _, ytr, _ = _moons()
    clf = snode.SNODEClassifier(n_steps=10, max_iter=5, random_state=1, early_stopping=False)
    params = clf.get_params()
    assert params["n_steps"] == 10 and params["optimizer"] == "ncg"
    clf.set_params(max_iter=10, beta="PR+")
    assert clf.max_iter == 10 and clf.beta == "PR+"
    with pytest.raises(ValueError, match="invalid parameter"):
        clf.set_params(learning_rate=1)
    clf.fit(Xtr, ytr)
    first, W_end, J_start = clf.net_, clf.net_.W.copy(), clf.history_["cost"][0]
    clf.set_params(warm_start=True, max_iter=1).fit(Xtr, ytr)
    assert clf.net_ is first and clf.history_["cost"][0] < J_start
    assert not np.array_equal(clf.net_.W, W_end)  # it went on from where it stopped
    clf.set_params(warm_start=False).fit(Xtr, ytr)
    assert clf.net_ is not first
    again = snode.SNODEClassifier(**clf.get_params()).fit(Xtr, ytr)
    np.testing.assert_array_equal(again.net_.W, clf.net_.W)  # same random_state, same fit


@pytest.mark.parametrize("optimizer,lr", [("ncg", None), ("adam", 0.05), ("sgd", 0.2),
                                          ("gd", 1.0)])
def test_every_optimizer_learns(optimizer, lr):
    Xtr, Xte, ytr, yte = _moons()
    clf = snode.SNODEClassifier(n_steps=10, T=2.0, optimizer=optimizer, lr=lr or 0.01,
                                batch_size=None if optimizer == "ncg" else 32,
                                epochs=30, max_iter=100, random_state=0).fit(Xtr, ytr)
    assert clf.score(Xte, yte) > 0.8


def test_regressor_on_teacher():
    X, Y, _ = ds.teacher(300, width=3, n_steps=10, seed=0)
    reg = snode.SNODERegressor(width=3, n_steps=10, T=1.0, max_iter=200, scale="none",
                               random_state=0).fit(X, Y)
    assert reg.score(X, Y) > 0.99
    assert reg.predict(X).shape == Y.shape
    reg1 = snode.SNODERegressor(n_steps=5, max_iter=20, random_state=0).fit(X, Y[:, 0])
    assert reg1.predict(X).shape == (300,)


def test_estimator_save_load(tmp_path):
    Xtr, Xte, ytr, _ = _moons()
    clf = snode.SNODEClassifier(n_steps=10, max_iter=20, random_state=0).fit(Xtr, ytr + 5)
    clf.save(tmp_path / "clf.npz")
    back = snode.load(tmp_path / "clf.npz")
    assert isinstance(back, snode.SNODEClassifier)
    np.testing.assert_array_equal(back.predict(Xte), clf.predict(Xte))
    np.testing.assert_array_equal(back.predict_proba(Xte), clf.predict_proba(Xte))
    assert back.get_params() == clf.get_params()
    reg = snode.SNODERegressor(n_steps=5, max_iter=5, random_state=0).fit(Xtr, Xtr[:, 0])
    reg.save(tmp_path / "reg.npz")
    np.testing.assert_array_equal(snode.load(tmp_path / "reg.npz").predict(Xte),
                                  reg.predict(Xte))


def test_estimator_errors():
    Xtr, Xte, ytr, _ = _moons()
    clf = snode.SNODEClassifier(n_steps=5, max_iter=5)
    with pytest.raises(Exception, match="not fitted"):
        clf.predict(Xte)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(Xtr, np.zeros(len(Xtr)))
    with pytest.raises(ValueError, match="y must have shape|inconsistent numbers of samples"):
        clf.fit(Xtr, ytr[:-1])
    with pytest.raises(ValueError, match="X contains NaN"):
        clf.fit(np.full_like(Xtr, np.nan), ytr)
    with pytest.raises(ValueError, match="unknown loss"):
        snode.SNODEClassifier(loss="hinge").fit(Xtr, ytr)
    with pytest.raises(ValueError, match="unknown optimizer"):
        snode.SNODEClassifier(optimizer="lbfgs").fit(Xtr, ytr)
    with pytest.raises(ValueError, match="width 1 is below"):
        snode.SNODEClassifier(width=1).fit(Xtr, ytr)
    clf.fit(Xtr, ytr)
    with pytest.raises(ValueError, match="3 features"):
        clf.predict(np.ones((2, 3)))


def test_scikit_learn_compatibility():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    Xtr, _, ytr, _ = _moons()
    clf = snode.SNODEClassifier(n_steps=5, max_iter=20, random_state=0)
    assert clone(clf).get_params() == clf.get_params()
    assert cross_val_score(clf, Xtr, ytr, cv=3).mean() > 0.7
    assert sklearn.__version__


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("cls", [snode.SNODEClassifier, snode.SNODERegressor])
def test_check_estimator(cls):
    pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(cls(n_steps=5, max_iter=20, random_state=0))


@pytest.mark.parametrize("cls", [snode.SNODEClassifier, snode.SNODERegressor])
def test_a_failed_fit_leaves_the_estimator_as_it_was(cls):
    X, y = ds.moons(60, seed=0)
    est = cls(n_steps=4, max_iter=3, random_state=0, warm_start=True).fit(X, y)
    before = est.predict(X), dict(vars(est))
    X3 = np.column_stack([X, X[:, 0]])
    with pytest.raises(ValueError, match="3 features"):
        est.fit(X3, y)  # warm start on other features: refused
    with pytest.raises(ValueError):
        est.fit(X, np.full(len(X), np.nan))  # bad targets: refused
    assert est.n_features_in_ == 2 and est.net_ is before[1]["net_"]
    np.testing.assert_array_equal(est.predict(X), before[0])


def test_a_loaded_estimator_refuses_what_the_fitted_one_refused(tmp_path):
    Xtr, Xte, ytr, _ = _moons()
    names = np.array(["left", "right"])
    clf = snode.SNODEClassifier(n_steps=4, max_iter=3, random_state=0).fit(Xtr, names[ytr])
    clf.save(tmp_path / "c.npz")
    back = snode.load(tmp_path / "c.npz")
    assert list(back.classes_) == ["left", "right"] and back.n_features_in_ == 2
    for est in (clf, back):
        with pytest.raises(ValueError, match="3 features"):
            est.predict(np.column_stack([Xte, Xte[:, 0]]))
    np.testing.assert_array_equal(back.predict(Xte), clf.predict(Xte))


def test_a_learning_rate_that_overflows_leaves_finite_weights():
    X, y = ds.moons(60, seed=0)
    net = snode.SNODE(4, 5, T=1.0, seed=0, activation="identity")
    cost = snode.Cost(mse=0.0, ce=1.0, n_classes=2)
    W0 = net.W.copy()
    res = snode.GradientDescent(lr=1e300, max_iter=20).minimize(net, cost, X, labels=y)
    assert not res.success and "non-finite" in res.message
    assert np.isfinite(net.W).all()
    assert np.isfinite(cost(net, X, labels=y))
    np.testing.assert_array_equal(res.x[0], net.W)
    assert res.n_iter < 20 and (res.n_iter > 1 or np.array_equal(net.W, W0))


def test_warm_start_keeps_its_network_and_a_failed_fit_its_weights():
    X, y = ds.moons(60, seed=0)
    clf = snode.SNODEClassifier(n_steps=4, max_iter=3, random_state=0, warm_start=True)
    clf.fit(X, y)
    W = clf.net_.W.copy()

    def boom(rec):
        raise RuntimeError("a callback that fails")

    with pytest.raises(RuntimeError):
        clf.fit(X, y, callback=boom)
    np.testing.assert_array_equal(clf.net_.W, W)
    with pytest.raises(ValueError, match="warm_start goes on with the fitted network"):
        clf.set_params(n_steps=8).fit(X, y)
    np.testing.assert_array_equal(clf.net_.W, W)


def test_memory_auto_and_its_bounds():
    from snode.estimators import AUTO_MEMORY, AUTO_MEMORY_BYTES, auto

    est = snode.SNODEClassifier()
    assert est.memory == "auto" and auto.memory(est.memory, None, None, 1000) == AUTO_MEMORY
    assert auto.memory("auto", None, 10, 1000) == 0  # mini-batch: FR
    assert auto.memory(5, None, 10, 1000) == 5
    big = AUTO_MEMORY_BYTES // (16 * 3)  # weights for which only 3 pairs fit
    assert auto.memory("auto", None, None, big) == 3
    assert auto.memory(7, None, None, 10**9) == 7  # a number is taken as it is
    Xtr, _, ytr, _ = _moons()
    clf = snode.SNODEClassifier(n_steps=5, max_iter=30, random_state=0).fit(Xtr, ytr)
    h = clf.history_
    assert np.isnan(h["beta"][1:]).any() and h["restart"][0] == 1
    fr = snode.SNODEClassifier(n_steps=5, max_iter=30, random_state=0, memory=0).fit(Xtr, ytr)
    assert np.isfinite(fr.history_["beta"]).all()


@pytest.mark.parametrize("memory", [-1, "many", 2.5, True])
def test_a_bad_memory_is_refused_before_any_change(memory):
    X, y = ds.moons(60, seed=0)
    est = snode.SNODEClassifier(n_steps=4, max_iter=3, random_state=0).fit(X, y)
    before = dict(vars(est))
    est.set_params(memory=memory)
    with pytest.raises(ValueError, match="memory"):
        est.fit(X[:, ::-1], 1 - y)
    for k in ("net_", "scaler_", "classes_", "result_"):
        assert getattr(est, k) is before[k]
    reg = snode.SNODERegressor(n_steps=4, max_iter=3, memory=memory)
    with pytest.raises(ValueError, match="memory"):
        reg.fit(X, y.astype(float))
    assert not hasattr(reg, "net_") and not hasattr(reg, "n_outputs_")


def test_a_chosen_beta_selects_the_conjugate_direction(tmp_path):
    X, y = ds.moons(80, seed=0)
    kw = dict(n_steps=4, max_iter=10, random_state=0, n_threads=1)
    auto = snode.SNODEClassifier(**kw).fit(X, y)
    assert auto.memory_ == 40 and np.isnan(auto.history_["beta"][1:]).any()
    for beta in ("FR", "PR+", "sd"):
        est = snode.SNODEClassifier(beta=beta, **kw).fit(X, y)
        assert est.memory_ == 0 and np.isfinite(est.history_["beta"]).all()
    sd = snode.SNODEClassifier(beta="sd", **kw).fit(X, y)
    assert np.all(sd.history_["beta"] == 0)
    # FR with memory 0 is the conjugate direction whatever beta's default
    fr = snode.SNODEClassifier(memory=0, **kw).fit(X, y)
    explicit = snode.SNODEClassifier(beta="FR", **kw).fit(X, y)
    np.testing.assert_array_equal(fr.net_.W, explicit.net_.W)
    before = dict(vars(auto))
    auto.set_params(beta="PR+", memory=5)
    with pytest.raises(ValueError, match="memory=0"):
        auto.fit(X, y)
    assert auto.net_ is before["net_"] and auto.memory_ == 40
    # the number used is saved and read back
    auto.set_params(beta=None, memory="auto")
    auto.save(tmp_path / "m.npz")
    assert snode.load(tmp_path / "m.npz").memory_ == 40


def test_the_line_search_follows_the_direction(tmp_path):
    """ncg_options' step "auto": the strong-Wolfe search for the L-BFGS direction, the
    sensitivity step for the conjugate ones; a step given is kept; the rule used is saved."""
    X, y = ds.moons(80, seed=0)
    kw = dict(n_steps=4, max_iter=5, random_state=0, n_threads=1)
    cases = [(dict(), "wolfe"), (dict(beta="PR+"), "sensitivity"),
             (dict(memory=0), "sensitivity"), (dict(batch_size=20, epochs=1), "sensitivity"),
             (dict(memory=3, batch_size=20, epochs=1), "wolfe"),
             (dict(ncg_options={"step": "sensitivity"}), "sensitivity"),
             (dict(beta="FR", ncg_options={"step": "wolfe"}), "wolfe"),
             (dict(ncg_options={"step": "auto"}), "wolfe"), (dict(optimizer="adam"), None)]
    for params, rule in cases:
        est = snode.SNODEClassifier(**kw, **params).fit(X, y)
        assert est.step_rule_ == rule, params
    # the sensitivity step given explicitly is the one the run takes
    a = snode.SNODEClassifier(**kw, ncg_options={"step": "sensitivity"}).fit(X, y)
    b = snode.SNODEClassifier(**kw).fit(X, y)
    assert not np.array_equal(a.net_.W, b.net_.W)
    b.save(tmp_path / "m.npz")
    assert snode.load(tmp_path / "m.npz").step_rule_ == "wolfe"
    with pytest.raises(ValueError, match="step"):
        snode.SNODEClassifier(**kw, ncg_options={"step": "newton"}).fit(X, y)


@pytest.mark.parametrize("scale", ["standard", "range"])
@pytest.mark.parametrize("est_cls", ["classifier", "regressor"])
def test_fit_over_processes_is_the_one_process_fit(est_cls, scale):
    # shares of the samples on 2 and 3 simulated processes (the classes of one process need
    # not be all classes; random_state None is drawn on rank 0): the same fitted estimator,
    # bit for bit, as one process fitting all samples with the same random state
    from _helpers import ThreadGroup
    X, y = snode.datasets.spirals(90, seed=3)
    order = np.argsort(y, kind="stable")  # sorted labels: the first share lacks class 1
    X, y = X[order], y[order]
    if est_cls == "regressor":
        y = np.c_[np.sin(X[:, 0]), X[:, 1] ** 2]
        make = lambda **kw: snode.SNODERegressor(n_steps=6, max_iter=5, scale=scale,  # noqa
                                                 block_size=16, **kw)
    else:
        make = lambda **kw: snode.SNODEClassifier(n_steps=6, max_iter=5, scale=scale,  # noqa
                                                  block_size=16, **kw)
    # (early stopping "auto" (on: the processes gather the samples to hold out the one
    # process's) and off)
    for size, early in ((2, "auto"), (3, "auto"), (3, False)):
        ref = make(random_state=7, early_stopping=early).fit(X, y)
        assert ref.early_stopping_ == (early == "auto")

        def run(rank, red):
            s = snode.shard(len(X), red, 16)
            est = make(random_state=7 if rank == 0 else None, comm=red,
                       early_stopping=early).fit(X[s], y[s])
            return est, est.score(X[s], y[s])

        out = ThreadGroup(size).run(run)
        for est, score in out:
            np.testing.assert_array_equal(est.net_.W, ref.net_.W)
            np.testing.assert_array_equal(est.scaler_.shift_, ref.scaler_.shift_)
            np.testing.assert_array_equal(est.scaler_.scale_, ref.scaler_.scale_)
            assert (est.decay_, est.n_iter_, est.early_stopping_) == \
                (ref.decay_, ref.n_iter_, ref.early_stopping_)
            np.testing.assert_array_equal(getattr(est, "validation_costs_", None),
                                          getattr(ref, "validation_costs_", None))
            if est_cls == "regressor":  # (the target scaling of every process's targets)
                np.testing.assert_array_equal(est.target_scaler_.shift_,
                                              ref.target_scaler_.shift_)
                np.testing.assert_array_equal(est.target_scaler_.scale_,
                                              ref.target_scaler_.scale_)
            assert score == pytest.approx(ref.score(X, y), rel=1e-12)
            if est_cls == "classifier":
                np.testing.assert_array_equal(est.classes_, ref.classes_)
    with pytest.raises(ValueError, match="comm must be an mpi4py communicator"):
        make(comm=3).fit(X, y)


def test_fit_over_processes_with_empty_and_bad_shares():
    from _helpers import ThreadGroup
    X, y = snode.datasets.moons(40, seed=1)
    make = lambda **kw: snode.SNODEClassifier(n_steps=4, max_iter=4, random_state=2,  # noqa
                                              block_size=32, **kw)
    ref = make().fit(X, y)

    def run(rank, red):  # 2 blocks on 4 processes: two hold no samples
        s = snode.shard(len(X), red, 32)
        est = make(comm=red).fit(X[s], y[s])
        return s.stop - s.start, est

    out = ThreadGroup(4).run(run)
    assert sorted(n for n, _ in out) == [0, 0, 8, 32]
    for _, est in out:
        np.testing.assert_array_equal(est.net_.W, ref.net_.W)

    def bad(rank, red):  # a NaN in one share: every process raises
        s = snode.shard(len(X), red, 16)
        Xr = X[s].copy()
        if rank == 2:
            Xr[0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN" if rank == 2 else "another process"):
            make(comm=red).fit(Xr, y[s])
        return True

    assert all(ThreadGroup(3).run(bad))


def test_collective_calls_over_processes_agree():
    # a callback that stops one process stops all; score with an empty share; settings that
    # differ between processes are named, on every process
    from _helpers import ThreadGroup
    X, y = snode.datasets.moons(40, seed=1)

    def stop(rank, red):
        s = snode.shard(len(X), red, 8)
        est = snode.SNODEClassifier(n_steps=4, max_iter=50, block_size=8, random_state=0,
                                    comm=red)
        calls = []
        est.fit(X[s], y[s], callback=lambda rec: calls.append(1) or
                (rank == 1 and len(calls) >= 3))
        return est.n_iter_

    assert ThreadGroup(3).run(stop) == [3, 3, 3]

    def score(rank, red):  # 2 blocks on 3 processes: one holds no samples
        s = snode.shard(len(X), red, 32)
        est = snode.SNODEClassifier(n_steps=4, max_iter=3, block_size=32, random_state=0,
                                    comm=red).fit(X[s], y[s])
        reg = snode.SNODERegressor(n_steps=4, max_iter=3, block_size=32, random_state=0,
                                   comm=red).fit(X[s], np.c_[X[s, 0], X[s, 1]])
        return est.score(X[s], y[s]), reg.score(X[s], np.c_[X[s, 0], X[s, 1]])

    ref_c = snode.SNODEClassifier(n_steps=4, max_iter=3, block_size=32,
                                  random_state=0).fit(X, y)
    ref_r = snode.SNODERegressor(n_steps=4, max_iter=3, block_size=32,
                                 random_state=0).fit(X, X)
    for sc, sr in ThreadGroup(3).run(score):
        assert sc == ref_c.score(X, y)
        assert sr == pytest.approx(ref_r.score(X, X), rel=1e-12)

    def differ(rank, red):
        s = snode.shard(len(X), red, 8)
        with pytest.raises(ValueError, match=r"the processes differ in the estimator.s "
                                             r"setting max_iter: rank\(s\) \[1\] from"):
            snode.SNODEClassifier(max_iter=3 + (rank == 1), block_size=8,
                                  comm=red).fit(X[s], y[s])
        with pytest.raises(ValueError, match=r"differ in the number of features: rank\(s\) "
                                             r"\[1\]"):
            snode.SNODEClassifier(max_iter=3, block_size=8, comm=red).fit(
                X[s] if rank == 0 else np.c_[X[s], X[s]], y[s])
        return True

    assert all(ThreadGroup(2).run(differ))


@pytest.mark.parametrize("cls", [snode.SNODEClassifier, snode.SNODERegressor])
def test_ftol_reaches_the_optimiser(cls):
    Xtr, _, ytr, _ = _moons()
    assert cls().ftol == 1e-4 and cls().n_iter_no_change == 10
    kw = dict(n_steps=10, T=2.0, max_iter=60, random_state=0, early_stopping=False)
    early = cls(ftol=0.5, n_iter_no_change=3, **kw).fit(Xtr, ytr)
    assert early.result_.message.startswith("converged: the cost fell by at most ftol=0.5")
    assert early.result_.n_iter < 60
    full = cls(ftol=0.0, **kw).fit(Xtr, ytr)
    assert full.result_.n_iter == 60
    with pytest.raises(ValueError, match="ftol"):
        cls(ftol=-1.0, **kw).fit(Xtr, ytr)


def test_n_steps_auto_follows_the_work_of_a_sweep():
    from snode.estimators import AUTO_STEPS, AUTO_STEPS_MIN, AUTO_STEPS_WORK, auto

    est = snode.SNODEClassifier()
    assert est.n_steps == "auto"
    assert auto.n_steps(est.n_steps, 750, 4) == AUTO_STEPS == 10  # the small sets: all 10
    assert auto.n_steps("auto", 1257, 66) == 6  # digits (70 % of it)
    assert auto.n_steps("auto", 10**6, 100) == AUTO_STEPS_MIN == 4
    n = 1000  # in between: the work of a sweep at its bound
    assert auto.n_steps("auto", n, 70) == int(AUTO_STEPS_WORK // (n * 70**2)) == 7
    assert auto.n_steps(snode.SNODEClassifier(n_steps=7).n_steps, 10**6, 100) == 7
    for bad in ("many", 0, 2.5):
        with pytest.raises(ValueError, match="n_steps"):
            snode.SNODEClassifier(n_steps=bad, max_iter=2).fit(*_moons()[::2])
    # the fitted network has the steps the rule gives, and a warm start keeps them
    Xtr, _, ytr, _ = _moons()
    clf = snode.SNODEClassifier(max_iter=2, random_state=0, warm_start=True).fit(Xtr, ytr)
    assert clf.net_.n_steps == AUTO_STEPS
    clf.fit(Xtr[:50], ytr[:50])
    assert clf.net_.n_steps == AUTO_STEPS


def test_sobolev_weight_reaches_ncg_and_the_preset_keeps_the_sobolev_gradient():
    X, y = ds.moons(40, seed=0)

    def optimizer(est):  # (the optimiser a fit runs, every setting resolved)
        est.set_params(n_steps=2, max_iter=1, epochs=1, random_state=0)
        if isinstance(est, snode.SNODERegressor):
            return est.fit(X, X[:, 0]).optimizer_
        return est.fit(X, y).optimizer_

    assert optimizer(snode.SNODEClassifier()).sobolev_weight == 0.5  # ("auto", full batch)
    assert optimizer(snode.SNODEClassifier(batch_size=10)).sobolev_weight == 1.0  # mini-batch
    assert optimizer(snode.SNODEClassifier(batch_size=10, sobolev_weight=0.3)).sobolev_weight \
        == 0.3
    opt = optimizer(snode.SNODERegressor(sobolev_weight=0.8))
    assert (opt.metric, opt.sobolev_weight) == ("sobolev", 0.8)
    opt = optimizer(snode.SNODEClassifier(sobolev_alpha=None))
    assert (opt.metric, opt.sobolev_weight) == ("l2", 1.0)
    clf = snode.SNODEClassifier.from_preset("baravdish2022")
    assert clf.sobolev_weight == 1.0 and optimizer(clf).sobolev_weight == 1.0
    for bad in (-0.5, 2.0, "half", None):
        with pytest.raises(ValueError, match="sobolev_weight"):
            snode.SNODEClassifier(sobolev_weight=bad, max_iter=2).fit(*_moons()[::2])


def _edited_model(tmp_path, change, regressor=False):
    """A fitted classifier (regressor: fitted to the first input plus 100) saved, and a copy
    whose header change(header) edited: the paths."""
    import json

    Xtr, _, ytr, _ = _moons()
    path = tmp_path / "m.npz"
    if regressor:
        est = snode.SNODERegressor(n_steps=3, max_iter=3, random_state=0)
        est.fit(Xtr, Xtr[:, 0] + 100.0)
    else:
        est = snode.SNODEClassifier(n_steps=3, max_iter=3, random_state=0).fit(Xtr, ytr)
    est.save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    header = json.loads(str(arrays["header"]))
    change(header)
    arrays["header"] = np.array(json.dumps(header))
    edited = tmp_path / "edited.npz"
    np.savez(edited, **arrays)
    return path, edited


def test_a_file_from_before_a_setting_loads_with_the_value_it_was_trained_with(tmp_path):
    """Files written before ftol and sobolev_weight existed were trained without the stop and
    with the Sobolev gradient: they load so, not with today's defaults."""
    def forget(header):
        for key in ("ftol", "sobolev_weight"):
            del header["meta"]["params"][key]
        del header["meta"]["sobolev_weight_used"]

    path, old = _edited_model(tmp_path, forget)
    est = snode.load(old)
    assert (est.ftol, est.sobolev_weight, est.sobolev_weight_) == (0.0, 1.0, 1.0)
    now = snode.load(path)  # (a file that has them keeps its own)
    assert (now.ftol, now.sobolev_weight, now.sobolev_weight_) == (1e-4, "auto", 0.5)


@pytest.mark.parametrize("options", [None, {"safeguard": False}, {"step": "wolfe"}])
def test_a_file_from_before_the_auto_line_search_keeps_the_sensitivity_step(tmp_path, options,
                                                                           capsys):
    """Files written before ncg_options' step "auto" (without step_rule_used) were trained
    with the sensitivity step unless they chose one: they load so."""
    def forget(header):
        header["meta"]["params"]["ncg_options"] = options
        del header["meta"]["step_rule_used"]

    path, old = _edited_model(tmp_path, forget)
    est = snode.load(old)
    assert est.ncg_options == dict(options or {}, step=(options or {}).get("step",
                                                                        "sensitivity"))
    assert est.step_rule_ == est.ncg_options["step"]
    from snode import cli

    assert cli.main(["info", str(old)]) == 0
    assert f"line_search={est.step_rule_}" in capsys.readouterr().out
    now = snode.load(path)
    assert now.ncg_options is None and now.step_rule_ == "wolfe"


@pytest.mark.parametrize("params", [dict(sobolev_alpha=None, sobolev_weight="x"),
                                    dict(optimizer="adam", sobolev_weight=5.0),
                                    dict(optimizer="adam", beta="bogus"),
                                    dict(optimizer="gd", sobolev_alpha=-1.0)])
def test_settings_of_ncg_are_checked_whichever_optimizer_runs(params):
    clf = snode.SNODEClassifier(n_steps=3, max_iter=2, **params)
    with pytest.raises(ValueError):
        clf.fit(*_moons()[::2])
    assert not hasattr(clf, "net_")  # (a failed fit leaves the estimator as it was)


@pytest.mark.parametrize("key, value", [("sobolev_weight", 7), ("optimizer", "bogus"),
                                        ("memory", -1), ("ftol", -1.0), ("scale", "pixels"),
                                        ("ncg_options", {"wolfe_c2": 2.0})])
def test_a_file_with_a_bad_setting_fails_to_load(tmp_path, key, value):
    _, edited = _edited_model(tmp_path, lambda h: h["meta"]["params"].update({key: value}))
    with pytest.raises(ValueError, match="inconsistent estimator metadata"):
        snode.load(edited)
    _, edited = _edited_model(tmp_path, lambda h: h["meta"].update(step_rule_used="newton"))
    with pytest.raises(ValueError, match="inconsistent estimator metadata"):
        snode.load(edited)


def test_the_regressor_fits_targets_in_any_units():
    """Targets are standardised (target_scale="standard"): targets far outside the outputs'
    reach (about T from the scaled inputs) are fitted as well as the same targets in units
    near 1, and the predictions are in the targets' units; "none" leaves them out of reach."""
    X, _ = ds.moons(200, seed=1)
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    make = lambda **kw: snode.SNODERegressor(n_steps=10, max_iter=60, random_state=0, **kw)  # noqa
    base = make().fit(X, y)
    assert base.score(X, y) > 0.95
    a, b = 3e6, -4e7
    big = make().fit(X, a * y + b)
    assert big.score(X, a * y + b) == pytest.approx(base.score(X, y), abs=1e-6)
    np.testing.assert_allclose(big.predict(X), a * base.predict(X) + b, rtol=1e-6)
    np.testing.assert_allclose(big.target_scaler_.shift_, [np.mean(a * y + b)])
    np.testing.assert_allclose(big.target_scaler_.scale_, [1 / np.std(a * y + b)])
    assert make(target_scale="none").fit(X, a * y + b).score(X, a * y + b) < 0.01


@pytest.mark.parametrize("value", [12.5, 3e-9, -4e7])
def test_a_constant_target_column_is_predicted_as_that_constant(value, tmp_path):
    """A target column constant in training is only shifted (scale 1): its prediction is the
    constant itself, not the constant plus the network's error in the target's units (-0.05
    to 0.09 for a constant 3e-9 before)."""
    X, _ = ds.moons(100, seed=2)
    Y = np.c_[X[:, 0] * 50 + 7, np.full(100, value)]
    reg = snode.SNODERegressor(n_steps=5, max_iter=30, random_state=0).fit(X, Y)
    assert reg.target_scaler_.constant_.tolist() == [False, True]
    Xt = ds.moons(50, seed=3)[0]
    np.testing.assert_allclose(reg.predict(Xt)[:, 1], value, rtol=1e-14)  # (its mean)
    r2_score = pytest.importorskip("sklearn.metrics").r2_score  # (a constant column: 1)

    assert reg.score(X, Y) == pytest.approx(r2_score(Y, reg.predict(X)), rel=1e-12)
    assert reg.score(X[:10], np.c_[Y[:10, 0], np.full(10, 9.0)]) == pytest.approx(
        r2_score(np.c_[Y[:10, 0], np.full(10, 9.0)], reg.predict(X[:10])), rel=1e-12)
    reg.save(tmp_path / "r.npz")
    np.testing.assert_array_equal(snode.load(tmp_path / "r.npz").predict(Xt), reg.predict(Xt))
    one = snode.SNODERegressor(n_steps=5, max_iter=5, random_state=0).fit(X, Y[:, 1])
    np.testing.assert_allclose(one.predict(Xt), value, rtol=1e-14)


def test_score_takes_n_by_1_targets_as_n_and_refuses_other_shapes():
    """(N, 1) against predictions (N,) (and the reverse) broadcast to (N, N) in numpy: the
    scores were wrong (R^2 -0.999 for 0.9999) before."""
    X, yc = ds.moons(80, seed=0)
    y = X[:, 0] * 3 + 1
    reg = snode.SNODERegressor(n_steps=5, max_iter=40, random_state=0).fit(X, y)
    assert reg.score(X, y[:, None]) == reg.score(X, y) > 0.9
    reg2 = snode.SNODERegressor(n_steps=5, max_iter=40, random_state=0).fit(X, y[:, None])
    assert reg2.score(X, y) == reg2.score(X, y[:, None]) == reg.score(X, y)
    clf = snode.SNODEClassifier(n_steps=5, max_iter=20, random_state=0).fit(X, yc)
    assert clf.score(X, yc[:, None]) == clf.score(X, yc) > 0.8
    for est, bad in ((reg, y[:-1]), (reg, np.c_[y, y]), (clf, yc[:-1]), (clf, np.c_[yc, yc])):
        with pytest.raises(ValueError, match="must have shape"):
            est.score(X, bad)


def test_warm_start_refuses_a_changed_scaling():
    X, y = ds.moons(60, seed=0)
    clf = snode.SNODEClassifier(n_steps=3, max_iter=2, random_state=0, warm_start=True)
    clf.fit(X, y)
    clf.set_params(scale="range")
    with pytest.raises(ValueError, match="scale must stay"):
        clf.fit(X, y)
    reg = snode.SNODERegressor(n_steps=3, max_iter=2, random_state=0, warm_start=True)
    reg.fit(X, X[:, 0])
    reg.set_params(target_scale="none")
    with pytest.raises(ValueError, match="target_scale must stay 'standard'"):
        reg.fit(X, X[:, 0])
    assert reg.target_scaler_.method == "standard"


def test_feature_names_are_kept_in_the_file(tmp_path):
    X, y = ds.moons(60, seed=0)
    clf = snode.SNODEClassifier(n_steps=3, max_iter=2, random_state=0).fit(X, y)
    clf.feature_names_in_ = np.array(["x", "y"], dtype=object)  # (as a DataFrame's fit sets)
    clf.save(tmp_path / "m.npz")
    back = snode.load(tmp_path / "m.npz")
    assert back.feature_names_in_.tolist() == ["x", "y"]
    del clf.feature_names_in_
    clf.save(tmp_path / "n.npz")
    assert not hasattr(snode.load(tmp_path / "n.npz"), "feature_names_in_")
    _, edited = _edited_model(tmp_path, lambda h: h["meta"].update(feature_names_in=["a"]))
    with pytest.raises(ValueError, match="inconsistent estimator metadata"):
        snode.load(edited)


def test_target_scaling_errors():
    X, _ = ds.moons(40, seed=0)
    huge = snode.SNODERegressor(n_steps=3, max_iter=2, early_stopping=False).fit(
        X, np.r_[1e300, -1e300, np.zeros(38)])  # (standardised at any scale)
    assert np.isfinite(huge.predict(X)).all()
    reg = snode.SNODERegressor(n_steps=3, max_iter=2, target_scale="range")
    with pytest.raises(ValueError, match="unknown target_scale"):
        reg.fit(X, X[:, 0])
    assert not hasattr(reg, "net_")
    reg = snode.SNODERegressor(n_steps=3, max_iter=2, random_state=0).fit(X, X[:, 0] + 9)
    reg.set_params(warm_start=True)
    with pytest.raises(ValueError, match="2 target columns"):
        reg.fit(X, X)
    assert reg.n_outputs_ == 1


def test_warm_start_keeps_the_target_scaling():
    X, _ = ds.moons(80, seed=0)
    y = X[:, 0] * 10 + 3
    reg = snode.SNODERegressor(n_steps=5, max_iter=20, random_state=0, warm_start=True)
    first = reg.fit(X, y).target_scaler_
    reg.fit(X, 2 * y)  # (the network goes on in the units it was trained in)
    assert reg.target_scaler_ is first


def test_regressor_files_keep_the_target_scaling(tmp_path):
    path, old = _edited_model(tmp_path, lambda h: (h["meta"].pop("target_scaler"),
                                                   h["meta"]["params"].pop("target_scale")),
                              regressor=True)
    now = snode.load(path)
    X = _moons()[1]
    assert now.target_scale == "standard"
    assert abs(now.predict(X).mean() - 100.0) < 5.0  # (in the targets' units)
    # a file from before the target scaling was trained on the targets as they are
    before = snode.load(old)
    assert before.target_scale == "none"
    np.testing.assert_array_equal(before.predict(X),
                                  now.net_.forward(now.initial_state(X))[:, 0])
    for bad in ({"method": "standard", "low": -1, "high": 1, "per_feature": True,
                 "shift": [0.0], "scale": [-1.0]},
                {"method": "standard", "low": -1, "high": 1, "per_feature": True,
                 "shift": [0.0, 1.0], "scale": [1.0, 1.0]}, "standard"):
        _, edited = _edited_model(tmp_path, lambda h: h["meta"].update(target_scaler=bad),
                                  regressor=True)
        with pytest.raises(ValueError, match="inconsistent estimator metadata"):
            snode.load(edited)
    _, edited = _edited_model(
        tmp_path, lambda h: h["meta"]["params"].update(target_scale="log"), regressor=True)
    with pytest.raises(ValueError, match="inconsistent estimator metadata"):
        snode.load(edited)


@pytest.mark.parametrize("m, C, width, offset, want", [
    (2, 2, None, "auto", (4, 2)), (4, 3, None, "auto", (7, 3)), (1, 2, None, "auto", (4, 2)),
    (4, 3, 5, "auto", (5, 1)), (4, 3, "inputs", "auto", (4, 0)), (2, 3, "inputs", "auto", (3, 1)),
    (4, 3, None, 0, (6, 0)), (4, 3, None, 5, (9, 5)), (4, 3, "inputs", 1, (5, 1))])
def test_width_and_input_offset(m, C, width, offset, want):
    """The outputs' components come first, zero at t = 0, then the inputs ("auto"), as far as
    the width lets them; x(0) holds the scaled inputs there."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, m)), np.arange(30) % C
    clf = snode.SNODEClassifier(width=width, input_offset=offset, n_steps=3, max_iter=2,
                                random_state=0).fit(X, y)
    assert (clf.net_.width, clf.input_offset_) == want
    x0 = clf.initial_state(X[:5])
    np.testing.assert_array_equal(x0[:, :want[1]], 0.0)
    np.testing.assert_array_equal(x0[:, want[1]:], clf.scaler_.transform(X[:5]))
    np.testing.assert_array_equal(clf.predict_proba(X[:5]),
                                  softmax(clf.net_.forward(x0), C))


def test_input_offset_errors():
    X, y = _moons()[::2]
    for params, match in ((dict(input_offset=-1), "input_offset"),
                          (dict(input_offset="first"), "input_offset"),
                          (dict(width=4, input_offset=3), "past the width")):
        clf = snode.SNODEClassifier(n_steps=3, max_iter=2, **params)
        with pytest.raises(ValueError, match=match):
            clf.fit(X, y)
        assert not hasattr(clf, "net_")
    clf = snode.SNODEClassifier(n_steps=3, max_iter=2, random_state=0, warm_start=True)
    clf.fit(X, y)
    clf.set_params(input_offset=0, width=4)
    with pytest.raises(ValueError, match="input_offset must stay"):
        clf.fit(X, y)
    assert clf.input_offset_ == 2
    assert snode.SNODEClassifier.from_preset("baravdish2022").input_offset == 0


def test_a_file_from_before_the_input_offset_loads_with_the_inputs_first(tmp_path):
    def forget(header):
        header["meta"]["params"].pop("input_offset")
        header["meta"].pop("input_offset_used")

    path, old = _edited_model(tmp_path, forget)
    now, before = snode.load(path), snode.load(old)
    assert (now.input_offset, now.input_offset_) == ("auto", 2)
    assert (before.input_offset, before.input_offset_) == (0, 0)
    X = _moons()[1]
    np.testing.assert_array_equal(before.predict_proba(X),
                                  softmax(now.net_.forward(now.scaler_.transform(X)), 2))
    for bad in (-1, 3, "2", True):
        _, edited = _edited_model(tmp_path, lambda h: h["meta"].update(input_offset_used=bad))
        with pytest.raises(ValueError, match="inconsistent estimator metadata"):
            snode.load(edited)


@pytest.mark.parametrize("params", [dict(width=10**9), dict(input_offset=10**9),
                                    dict(input_offset=10**5)])
def test_a_network_larger_than_the_memory_is_refused_by_name(params):
    X, y = _moons()[::2]
    with pytest.raises(ValueError, match="GiB for its weights alone"):
        snode.SNODEClassifier(n_steps=3, max_iter=2, **params).fit(X, y)


@pytest.mark.parametrize("change", [
    lambda h: h["meta"].update(classes=[1, 1]),
    lambda h: h["meta"]["scaler"].update(scale=[float("nan"), 1.0]),
    lambda h: h["meta"]["scaler"].update(scale=[0.0, 1.0]),
    lambda h: h["meta"]["scaler"].update(shift=[1.0])])
def test_an_edited_file_with_inconsistent_classes_or_scaling_fails_to_load(tmp_path, change):
    """Repeated classes made every prediction the same class, and a NaN scale failed only at
    predict time, blaming the data."""
    _, edited = _edited_model(tmp_path, change)
    with pytest.raises(ValueError, match="inconsistent estimator metadata"):
        snode.load(edited)


def _noisy_regression(n=160, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    return X, 50 + 10 * X[:, 0] + 20 * rng.normal(size=n)  # (mostly noise: easy to overfit)


def test_early_stopping_keeps_the_weights_of_the_best_validation_cost():
    X, y = _noisy_regression()
    Xt, yt = _noisy_regression(400, seed=1)
    plain = snode.SNODERegressor(random_state=0, n_steps=10, max_iter=300, ftol=0).fit(X, y)
    early = snode.SNODERegressor(random_state=0, n_steps=10, max_iter=300, ftol=1e-4,
                                 early_stopping=True, decay=0.0).fit(X, y)
    assert early.result_.message.startswith("early stopping"), early.result_.message
    assert early.n_iter_ < 300 and early.result_.success
    costs = early.validation_costs_
    # (the starting weights are checked too)
    assert early.best_validation_cost_ == costs.min() and costs.size == early.n_iter_ + 1
    np.testing.assert_array_equal(early.result_.x[0], early.net_.W)
    assert early.score(Xt, yt) > plain.score(Xt, yt) + 0.1
    # mini-batch mode checks once an epoch (and after the last)
    mb = snode.SNODERegressor(random_state=0, n_steps=5, batch_size=32, epochs=4,
                              early_stopping=True, n_iter_no_change=10,
                              optimizer="adam").fit(X, y)
    assert mb.validation_costs_.size == 5 and np.isfinite(mb.best_validation_cost_)
    # the checks fall on the epochs' last iterations (144 training samples: 5 batches)
    ends = []
    snode.SNODERegressor(random_state=0, n_steps=5, batch_size=32, epochs=4, optimizer="adam",
                         early_stopping=True).fit(X, y, callback=lambda r: ends.append(
                             (r["epoch"], r["batch"])) and False)
    assert len(ends) == 20 and ends[4] == (0, 4) and ends[5] == (1, 0)
    # a fit without early stopping drops the former fit's validation figures
    mb.set_params(early_stopping=False, epochs=1).fit(X, y)
    assert not hasattr(mb, "validation_costs_") and not hasattr(mb, "best_validation_cost_")


def test_early_stopping_keeps_every_class_in_training_and_the_start_as_a_candidate():
    """The split is stratified (a class of one sample stays in training: the training part
    had one class before); the starting weights (warm_start's) are a candidate, so a second
    fit never ends worse on the validation samples."""
    X, y = np.arange(10.0)[:, None], np.array([0] * 9 + [1])
    clf = snode.SNODEClassifier(n_steps=10, max_iter=40, early_stopping=True, random_state=3,
                                validation_fraction=0.2).fit(X, y)
    assert clf.score(X, y) >= 0.9
    X, y = _moons()[::2]
    est = snode.SNODEClassifier(n_steps=5, max_iter=30, early_stopping=True, random_state=0,
                                optimizer="adam", lr=0.05, warm_start=True)
    first = est.fit(X, y).best_validation_cost_
    again = est.fit(X, y)
    assert again.best_validation_cost_ <= first and again.validation_costs_[0] <= first + 1e-12


@pytest.mark.parametrize("params, match", [
    (dict(early_stopping="yes"), "early_stopping"),
    (dict(early_stopping=True, validation_fraction=0.0), "validation_fraction"),
    (dict(early_stopping=True, validation_fraction=1.0), "validation_fraction"),
    (dict(early_stopping=True, validation_fraction="0.1"), "validation_fraction"),
    (dict(early_stopping=True, validation_fraction=0.01, decay=0.0), "no validation")])
def test_early_stopping_errors(params, match):
    X, y = _moons()[::2]
    clf = snode.SNODEClassifier(n_steps=3, max_iter=2, **params)
    with pytest.raises(ValueError, match=match):
        clf.fit(X[:20], y[:20])
    assert not hasattr(clf, "net_")


def test_early_stopping_over_several_processes_is_the_one_process_fit():
    """The processes gather the samples to hold out the one process's share (also with
    mini-batches); a reducer that cannot gather refuses early_stopping=True by name, and
    "auto" then trains without it."""
    from _helpers import ThreadGroup
    X, y = _noisy_regression()
    make = lambda **kw: snode.SNODERegressor(n_steps=5, max_iter=20, block_size=16,  # noqa
                                             random_state=4, **kw)
    for kw in ({"early_stopping": True}, {"early_stopping": True, "batch_size": 24}):
        ref = make(**kw).fit(X, y)

        def run(rank, red):
            s = snode.shard(len(X), red, 16)
            return make(comm=red, **kw).fit(X[s], y[s])

        for est in ThreadGroup(2).run(run):
            np.testing.assert_array_equal(est.net_.W, ref.net_.W)
            np.testing.assert_array_equal(est.validation_costs_, ref.validation_costs_)
            assert est.n_iter_ == ref.n_iter_

    class NoGather(snode.Reducer):  # (allreduce and total only)
        def __init__(self, red):
            self.red, self.rank, self.size = red, red.rank, red.size

        def allreduce(self, *parts):
            return self.red.allreduce(*parts)

        def total(self, n):
            return self.red.total(n)

    def plain(rank, red):
        s = snode.shard(len(X), red, 16)
        with pytest.raises(ValueError, match="early_stopping with several processes needs a "
                                             "reducer that implements allgather"):
            make(comm=NoGather(red), early_stopping=True).fit(X[s], y[s])
        return make(comm=NoGather(red)).fit(X[s], y[s]).early_stopping_

    assert ThreadGroup(2, exact=False).run(plain) == [False, False]


def test_a_tableau_of_its_own_is_saved_and_loaded(tmp_path):
    X, y = ds.moons(80, seed=0)
    heun = snode.Tableau([[0.0, 0.0], [1.0, 0.0]], [0.5, 0.5])
    for scheme in (heun, ([[0.0, 0.0], [1.0, 0.0]], [0.5, 0.5])):
        est = snode.SNODEClassifier(n_steps=4, max_iter=3, random_state=0,
                                    scheme=scheme).fit(X, y)
        est.save(tmp_path / "m.npz")
        back = snode.load(tmp_path / "m.npz")
        np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
        np.testing.assert_array_equal(back.scheme.a, est.net_.tableau.a)
        back.set_params(warm_start=True, max_iter=2).fit(X, y)  # (goes on with the same scheme)


@pytest.mark.parametrize("bad", ["x", 2.5, -1, True, [1, -2]])
def test_a_bad_random_state_or_seed_is_named(bad):
    X, y = ds.moons(40, seed=0)
    with pytest.raises(ValueError, match="random_state"):
        snode.SNODEClassifier(n_steps=2, max_iter=2, random_state=bad).fit(X, y)
    with pytest.raises(ValueError, match="seed"):
        snode.NCG(seed=bad)


def test_random_states_of_numpy_are_taken():
    X, y = ds.moons(60, seed=0)
    kw = dict(n_steps=3, max_iter=3, batch_size=20, epochs=1)
    a = snode.SNODEClassifier(random_state=np.random.default_rng(5), **kw).fit(X, y)
    b = snode.SNODEClassifier(random_state=np.random.default_rng(5), **kw).fit(X, y)
    np.testing.assert_array_equal(a.net_.W, b.net_.W)
    snode.SNODEClassifier(random_state=np.random.RandomState(0), **kw).fit(X, y)
    net = snode.SNODE(4, 3, seed=0)
    snode.NCG(seed=np.random.RandomState(1), batch_size=20, epochs=1).minimize(
        net, snode.Cost(mse=0.0, ce=1.0, n_classes=2), X, labels=y)


def test_a_loaded_estimator_runs_on_its_stored_threads_and_schedule(tmp_path):
    X, y = ds.moons(60, seed=0)
    est = snode.SNODEClassifier(n_steps=3, max_iter=3, n_threads=1).fit(X, y)
    assert (est.batch_size_, est.epochs_) == (None, None)  # (full batch)
    est.save(tmp_path / "m.npz")
    back = snode.load(tmp_path / "m.npz")
    assert back.net_.n_threads == 1 and (back.batch_size_, back.epochs_) == (None, None)
    mb = snode.SNODEClassifier(n_steps=3, batch_size=20, epochs=2).fit(X, y)
    mb.save(tmp_path / "mb.npz")
    assert (snode.load(tmp_path / "mb.npz").batch_size_,
            snode.load(tmp_path / "mb.npz").epochs_) == (20, 2)


def test_verbose_prints_a_line_per_iteration(capsys):
    X, y = ds.moons(60, seed=0)
    est = snode.SNODEClassifier(n_steps=3, max_iter=4, random_state=0, verbose=True).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    iters = [line for line in out if line.startswith("Iteration ")]
    assert len(iters) == est.n_iter_
    assert float(iters[0].split("loss = ")[1]) == pytest.approx(est.loss_curve_[0], rel=1e-7)
    assert out[-1].startswith(f"Training ended after {est.n_iter_} iterations")
    snode.SNODEClassifier(n_steps=3, max_iter=4, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""                      # quiet by default
    snode.SNODERegressor(n_steps=3, max_iter=3, random_state=0, verbose=2,
                         early_stopping=True, decay=0.0).fit(X, y.astype(float))
    out = capsys.readouterr().out
    assert "Validation cost = " in out and "Iteration 3, loss = " in out
    # decay "auto": each stage of the path named (60 samples: chosen by folds)
    snode.SNODERegressor(n_steps=3, max_iter=14, random_state=0, verbose=True).fit(
        X, y.astype(float))
    out = capsys.readouterr().out.splitlines()
    assert "Fold 1 of 5: the decay path on 48 samples" in out
    assert sum(line.endswith("(mean of 5 folds)") for line in out) == 7


@pytest.mark.parametrize("bad", [-1, 1.5, "yes", None])
def test_verbose_is_checked(bad):
    X, y = ds.moons(30, seed=0)
    with pytest.raises(ValueError, match="verbose"):
        snode.SNODEClassifier(n_steps=2, max_iter=2, verbose=bad).fit(X, y)


def test_loss_curve_is_the_cost_per_iteration_or_the_epochs_mean():
    X, y = ds.moons(60, seed=0)
    full = snode.SNODEClassifier(n_steps=3, max_iter=5, random_state=0).fit(X, y)
    assert isinstance(full.loss_curve_, list) and len(full.loss_curve_) == full.n_iter_
    np.testing.assert_array_equal(full.loss_curve_, full.history_["cost"])
    mb = snode.SNODEClassifier(n_steps=3, batch_size=20, epochs=3, random_state=0).fit(X, y)
    assert len(mb.loss_curve_) == 3
    h = mb.history_
    for e in range(3):
        assert mb.loss_curve_[e] == pytest.approx(h["cost"][h["epoch"] == e].mean(), rel=1e-12)
    assert mb.loss_curve_[-1] < mb.loss_curve_[0]


def test_ctrl_c_stops_a_loop_of_fits_and_leaves_the_last_good_weights():
    X, y = ds.moons(80, seed=0)
    seen = []

    def interrupt(rec):
        seen.append(rec["cost"])
        if len(seen) == 3:
            raise KeyboardInterrupt
        return False

    est = snode.SNODEClassifier(n_steps=3, max_iter=20, random_state=0, early_stopping=False)
    fits = 0
    with pytest.raises(KeyboardInterrupt, match="after 3 iterations"):
        for seed in range(3):  # (a user's loop: the first Ctrl-C ends it)
            est.set_params(random_state=seed).fit(X, y, callback=interrupt)
            fits += 1
    assert fits == 0 and est.result_.interrupted and est.n_iter_ == 3
    assert est.predict(X).shape == (80,) and np.isfinite(est.net_.W).all()
    # with early stopping too: the best weights so far, then the interrupt
    seen.clear()
    es = snode.SNODEClassifier(n_steps=3, max_iter=20, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        es.fit(X, y, callback=interrupt)
    assert es.result_.interrupted and es.early_stopping_ and es.predict(X).shape == (80,)


def test_a_misspelt_parameter_is_named_with_the_class_and_the_nearest_name():
    with pytest.raises(TypeError, match=r"SNODEClassifier\(\): .*'max_iterr'.*max_iter\?"):
        snode.SNODEClassifier(max_iterr=3)
    with pytest.raises(TypeError, match=r"SNODERegressor\(\): .*'bogus'\)?$"):
        snode.SNODERegressor(bogus=1)
