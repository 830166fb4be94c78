"""The estimators' training in stages: the "auto" rules of early stopping and weight decay,
the folds, the Brier score and the decay path's kept weights (snode.estimators.training)."""
import numpy as np
import pytest
from scipy.special import softmax as sp_softmax

import snode
from snode.estimators import auto
from snode.estimators.early_stopping import BrierScore, validation_split
from snode.estimators.training import fold_split


def test_the_auto_rules_of_early_stopping_decay_folds_and_stages():
    # early stopping: full batch (batch size None), also with several processes that can gather
    assert auto.early_stopping("auto", None) is True
    assert auto.early_stopping("auto", 32) is False
    assert auto.early_stopping("auto", None, can_gather=False) is False
    assert auto.early_stopping(False, None) is False and auto.early_stopping(True, 8)
    # decay: a value alone; "auto" the path where validated in full batch, else fixed
    assert auto.decays(0.5, "classifier", True, None) == ((0.5,),)
    assert auto.decays("auto", "regressor", True, None) == auto.DECAY_PATH["regressor"]
    assert auto.decays("auto", "classifier", False, None) == ((auto.DECAY_FIXED["classifier"],),)
    assert auto.decays("auto", "classifier", True, 32) == ((auto.DECAY_FIXED["classifier"],),)
    assert auto.decays("auto", "regressor", True, None, fitted=0.01) == ((0.01,),)
    for kind, paths in auto.DECAY_PATH.items():  # (each path lowers the decay stage by stage)
        for path in paths:
            assert all(a > b > 0 for a, b in zip(path, path[1:])), kind
    # folds where the held-out share would be too small to choose a stage by
    path = auto.DECAY_PATH["regressor"]
    assert auto.folds(40, 0.1, path) == auto.CV_FOLDS == 5  # (4 held out)
    assert auto.folds(94, 0.1, path) == 5 and auto.folds(96, 0.1, path) == 0  # (10 at 96)
    assert auto.folds(40, 0.5, path) == 0
    assert auto.folds(40, 0.1, ((0.1,),)) == 0  # (one stage: nothing to choose)
    assert auto.folds(4, 0.1, path) is None  # (fewer samples than folds)
    assert auto.folds(40, 0.1, path, work=auto.CV_MAX_WORK) == 5
    assert auto.folds(40, 0.1, path, work=2 * auto.CV_MAX_WORK) is None  # (too costly)
    # a stage's iterations: 25, fewer where max_iter would not reach the last stage
    assert auto.stage_iterations(800, path) == auto.DECAY_PATH_ITER == 25
    assert auto.stage_iterations(70, path) == 10 and auto.stage_iterations(3, path) == 1


@pytest.mark.parametrize("labels", [None, np.array([0] * 23 + [1] * 9 + [2] * 5)])
def test_fold_split_holds_each_sample_out_once_and_spreads_each_class(labels):
    n, k = 37, 5
    folds = fold_split(n, k, seed=4, labels=labels)
    assert len(folds) == k
    held = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(held), np.arange(n))  # each sample once
    for train, val in folds:
        assert np.intersect1d(train, val).size == 0 and train.size + val.size == n
        assert abs(val.size - n / k) < 1
        if labels is not None:  # each class's share of every fold within one sample
            for c in range(3):
                share = np.count_nonzero(labels[val] == c)
                assert abs(share - np.count_nonzero(labels == c) / k) < 1
    again = fold_split(n, k, seed=4, labels=labels)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))  # (seeded)
    with pytest.raises(ValueError, match="5 folds need at least 5 samples"):
        fold_split(4, 5, seed=0)


def test_the_brier_score_is_the_mean_squared_distance_to_the_one_hot_label():
    rng = np.random.default_rng(0)
    net = snode.SNODE(5, 4, T=1.0, activation="relu", seed=2)
    X = rng.normal(size=(30, 5))
    labels = rng.integers(0, 3, size=30)
    obj = snode.Objective(net, snode.Cost(mse=0.0, ce=1.0, n_classes=3), X, labels=labels)
    P = sp_softmax(net.forward(X)[:, :3], axis=1)
    onehot = np.eye(3)[labels]
    expected = np.mean(np.sum((P - onehot) ** 2, axis=1))
    assert BrierScore(obj).value() == pytest.approx(expected, rel=1e-13)
    # weights that overflow the forward sweep are no candidate: an infinite score
    W, b = net.get_params()
    net.set_params((W * 1e300, b))
    assert BrierScore(obj).value() == np.inf


def test_the_decay_path_keeps_the_weights_of_the_lowest_validation_score():
    X, y = snode.datasets.moons(300, seed=5)
    est = snode.SNODEClassifier(n_steps=5, random_state=0).fit(X, y)
    assert est.early_stopping_ and est.decay_ in auto.DECAY_PATH["classifier"][0]
    costs = est.validation_costs_
    assert costs.size == est.n_iter_ + 1 and est.best_validation_cost_ == costs.min()
    # the kept weights' Brier score on the held-out samples, from the predicted probabilities
    _, val = validation_split(len(X), est.validation_fraction, 0, y)
    P = est.predict_proba(X[val])
    brier = np.mean(np.sum((P - np.eye(2)[y[val]]) ** 2, axis=1))
    assert brier == pytest.approx(est.best_validation_cost_, rel=1e-9)
    assert est.score(X, y) > 0.95
    # decay given: one stage at it; "auto" without early stopping: the fixed decay
    fixed = snode.SNODEClassifier(n_steps=5, max_iter=20, random_state=0, decay=0.02).fit(X, y)
    assert fixed.decay_ == 0.02 and fixed.early_stopping_
    plain = snode.SNODEClassifier(n_steps=5, max_iter=20, random_state=0,
                                  early_stopping=False).fit(X, y)
    assert plain.decay_ == auto.DECAY_FIXED["classifier"] and not plain.early_stopping_
    assert not hasattr(plain, "validation_costs_")
    # a warm start goes on at the fitted decay
    est.set_params(warm_start=True, max_iter=5).fit(X, y)
    assert est.decay_ in auto.DECAY_PATH["classifier"][0]


def test_tiny_data_choose_the_stage_by_folds_then_train_on_every_sample():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=40)
    est = snode.SNODERegressor(n_steps=4, max_iter=70, random_state=0).fit(X, y)
    path = auto.DECAY_PATH["regressor"][0]
    assert est.validation_costs_.shape == (len(path),)  # (the folds' mean, stage by stage)
    j = int(np.argmin(est.validation_costs_))
    assert est.decay_ == path[j] and est.best_validation_cost_ == est.validation_costs_[j]
    # then trained on all 40 samples through the path to that stage, 10 iterations a stage
    assert est.n_iter_ == 10 * (j + 1)
    assert est.result_.message.startswith("reached the stage of the weight-decay path that 5 "
                                          "folds chose")
    assert est.score(X, y) > 0.5
    # max_iter too small to reach the stage chosen: the cost is the stage reached's
    short = snode.SNODERegressor(n_steps=4, max_iter=1, random_state=0).fit(X, y)
    assert short.decay_ == path[0] and short.n_iter_ == 1
    assert short.best_validation_cost_ == short.validation_costs_[0]
    # wide data: the folds would cost too much; "auto" trains on every sample instead
    wide = np.random.default_rng(2).normal(size=(40, 200))  # (40 x 202^2 x 4 steps)
    est = snode.SNODERegressor(n_steps=4, max_iter=5, random_state=0).fit(wide, y)
    assert not est.early_stopping_ and est.decay_ == auto.DECAY_FIXED["regressor"]
    assert not hasattr(est, "validation_costs_")


def test_decay_and_early_stopping_used_are_stored_and_checked(tmp_path):
    X, y = snode.datasets.moons(120, seed=0)
    est = snode.SNODEClassifier(n_steps=3, max_iter=10, random_state=0).fit(X, y)
    est.save(tmp_path / "m.npz")
    back = snode.load(tmp_path / "m.npz")
    assert back.decay_ == est.decay_ and back.early_stopping_ is True
    import json

    for key, bad in (("decay_used", -1.0), ("decay_used", "x"), ("decay_used", True),
                     ("early_stopping_used", 1), ("early_stopping_used", "yes")):
        with np.load(tmp_path / "m.npz") as f:
            arrays = {k: f[k] for k in f.files}
        header = json.loads(str(arrays["header"]))
        header["meta"][key] = bad
        arrays["header"] = np.array(json.dumps(header))
        np.savez(tmp_path / "bad.npz", **arrays)
        with pytest.raises(ValueError, match="inconsistent estimator metadata"):
            snode.load(tmp_path / "bad.npz")


def test_a_file_from_before_the_auto_rules_loads_with_what_it_was_trained_with(tmp_path):
    import json

    X, y = snode.datasets.moons(60, seed=0)
    snode.SNODERegressor(n_steps=3, max_iter=3, random_state=0).fit(X, y * 1.0).save(
        tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as f:
        arrays = {k: f[k] for k in f.files}
    header = json.loads(str(arrays["header"]))
    for key in ("decay", "early_stopping"):
        del header["meta"]["params"][key]
    for key in ("decay_used", "early_stopping_used"):
        del header["meta"][key]
    arrays["header"] = np.array(json.dumps(header))
    np.savez(tmp_path / "old.npz", **arrays)
    old = snode.load(tmp_path / "old.npz")
    assert old.decay == 0.0 and old.early_stopping is False
    assert not hasattr(old, "decay_") and old.predict(X).shape == (60,)


def test_info_shows_the_decay_and_early_stopping_used(tmp_path, capsys):
    from snode import cli

    out = tmp_path / "m.npz"
    assert cli.main(["train", "--dataset", "moons", "--n", "200", "--steps", "3", "-q",
                     "--max-iter", "10", "-o", str(out)]) == 0
    decay = snode.load(out).decay_
    capsys.readouterr()
    assert cli.main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"decay=auto ({decay:g} used)" in text and "early_stopping=auto (True used)" in text
    assert cli.main(["train", "--dataset", "moons", "--n", "200", "--steps", "3", "-q",
                     "--batch-size", "50", "--epochs", "1", "-o", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "early_stopping=auto (False used)" in text and "validation_fraction" not in text


def test_a_diverging_step_ends_the_decay_path_with_its_message():
    X, y = snode.datasets.moons(200, seed=0)
    est = snode.SNODEClassifier(optimizer="sgd", lr=10.0, activation="softplus", T=40.0,
                                n_steps=10, batch_size=None, random_state=0).fit(X, y)
    assert est.early_stopping_
    assert "non-finite" in est.result_.message, est.result_.message
    assert est.n_iter_ < 25 and np.isfinite(est.net_.W).all()  # (the first stage only)
    assert est.decay_ == auto.DECAY_PATH["classifier"][0][0]


def test_early_stopping_refuses_a_number_naming_every_choice():
    X, y = snode.datasets.moons(40, seed=0)
    with pytest.raises(ValueError, match="early_stopping must be True or False or 'auto'"):
        snode.SNODEClassifier(early_stopping=1).fit(X, y)


def test_the_json_metrics_say_what_validation_chose(tmp_path, capsys):
    import json

    from snode import cli

    out = tmp_path / "m.json"
    assert cli.main(["train", "--dataset", "moons", "--n", "200", "--steps", "3", "-q",
                     "--max-iter", "60", "-o", str(tmp_path / "m.npz"), "--json",
                     str(out)]) == 0
    m = json.loads(out.read_text())
    est = snode.load(tmp_path / "m.npz")
    assert m["early_stopping"] is True and m["decay"] == est.decay_
    assert m["best_validation_cost"] > 0
    printed = capsys.readouterr().out
    assert "training stopped early: early stopping" not in printed
    assert cli.main(["train", "--dataset", "moons", "--n", "200", "--steps", "3", "-q",
                     "--max-iter", "5", "--no-early-stopping", "-o", str(tmp_path / "m.npz"),
                     "--json", str(out)]) == 0
    m = json.loads(out.read_text())
    assert m["early_stopping"] is False and m["best_validation_cost"] is None


def test_a_fit_gives_each_warning_once_at_the_callers_line():
    # along a decay path every stage's line search fails here (steps of 1e14): one
    # LineSearchWarning for the fit, not one a stage, at the line that called fit
    import warnings
    X, y = snode.datasets.moons(60, seed=0)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        est = snode.SNODEClassifier(T=1e15, random_state=0).fit(X, y)
    assert len(est.validation_costs_) > 1  # (several stages ran)
    searches = [w for w in got if issubclass(w.category, snode.LineSearchWarning)]
    assert len(searches) == 1 and searches[0].filename == __file__
    depth = [w for w in got if issubclass(w.category, snode.DepthWarning)]
    assert len(depth) == 1 and depth[0].filename == __file__
