"""The named configurations: the authors' prototype as snode.preset("baravdish2022"), in the
API, the estimators and the command line; the settings it needs (plain sums in beta, the
last partial batch dropped)."""
import json

import numpy as np
import pytest

import snode
from snode import cli
from snode.sobolev import sobolev_gradient


def test_the_authors_configuration():
    p = snode.preset("baravdish2022")
    net = p.network(5, seed=0)
    assert (net.scheme, net.T, net.n_steps, net.activation, net.width) == (
        "euler", 3.0, 150, "tanh", 5)
    opt = p.optimizer
    assert (opt.beta, opt.metric, opt.alpha, opt.beta_inner, opt.step, opt.safeguard) == (
        "FR", "sobolev", 1.0, "euclidean", "sensitivity", False)
    assert opt.memory == 0
    assert (opt.batch_size, opt.iterations_per_batch, opt.epochs, opt.drop_last) == (
        100, 6, 10, True)
    cost = p.cost(n_classes=10)
    assert (cost.mse, cost.ce, cost.out, cost.decay, cost.smooth, cost.n_classes) == (
        1.0, 0.0, 0.0, 0.0, 0.0, 10)
    assert (p.scale, p.width) == ("image", "inputs")
    with pytest.raises(ValueError, match="unknown preset 'matlab'"):
        snode.preset("matlab")


def test_the_last_partial_batch_is_dropped():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(250, 3)), rng.normal(size=(250, 3))
    for drop, n_batches in ((True, 2), (False, 3)):
        net = snode.SNODE(3, 4, T=1.0, seed=1)
        res = snode.NCG(batch_size=100, iterations_per_batch=2, epochs=3, seed=0,
                        drop_last=drop).minimize(net, snode.Cost(mse=1.0), X, Y)
        assert res.n_iter == 3 * n_batches * 2
        assert res.history["batch"].max() == n_batches - 1


@pytest.mark.parametrize("inner", ["euclidean", "metric"])
def test_fletcher_reeves_beta_in_either_inner_product(inner):
    """beta = |g_k|^2 / |g_{k-1}|^2 for the Sobolev gradients g, in plain sums (the
    prototype) or in the Sobolev product (<g, g>_H1 = sum G g); checked against gradients
    computed afresh at the weights of each iteration."""
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(60, 3)), rng.normal(size=(60, 3))
    cost = snode.Cost(mse=1.0)
    net = snode.SNODE(3, 8, T=1.0, seed=3)
    weights = [net.get_params()]
    res = snode.NCG(beta="FR", alpha=1.0, beta_inner=inner, max_iter=3).minimize(
        net, cost, X, Y, callback=lambda r: weights.append(net.get_params()) and False)

    def sq(params):
        at = net.copy()
        at.set_params(params)
        _, GW, Gb = cost.value_and_grad(at, X, Y)
        g = sobolev_gradient(GW, Gb, net.h, 1.0)
        if inner == "euclidean":
            return np.sum(g[0] ** 2) + np.sum(g[1] ** 2)
        return np.sum(GW * g[0]) + np.sum(Gb * g[1])

    beta = res.history["beta"]
    for k in (1, 2):
        assert beta[k] == pytest.approx(sq(weights[k]) / sq(weights[k - 1]), rel=1e-10)


def test_estimator_from_preset(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 16, size=(230, 8))
    y = (X[:, 0] > 8).astype(int)
    est = snode.SNODEClassifier.from_preset("baravdish2022", epochs=2, n_steps=10,
                                            random_state=0)
    p = est.get_params()
    assert (p["scheme"], p["T"], p["loss"], p["scale"], p["drop_last"], p["width"]) == (
        "euler", 3.0, "mse", "image", True, "inputs")
    assert p["ncg_options"] == {"safeguard": False, "beta_inner": "euclidean"}
    assert (p["beta"], p["memory"]) == ("FR", 0)  # the conjugate direction, not L-BFGS
    est.fit(X, y)
    assert np.isfinite(est.history_["beta"]).all()
    assert est.net_.width == 8 and est.n_iter_ == 2 * 2 * 6  # 230 samples: 2 full batches
    assert est.scaler_.low == 0.0 and est.scaler_.high == -1.0
    est.save(tmp_path / "m.npz")
    assert snode.load(tmp_path / "m.npz").get_params()["ncg_options"] == p["ncg_options"]
    with pytest.raises(ValueError, match="ncg_options"):
        snode.SNODEClassifier(ncg_options={"beta": "PR+"}, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="invalid parameter"):
        snode.SNODEClassifier.from_preset("baravdish2022", epoch=2)


def test_command_line_preset(tmp_path):
    pytest.importorskip("sklearn")
    out, metrics = tmp_path / "m.npz", tmp_path / "m.json"
    assert cli.main(["train", "--dataset", "digits", "--preset", "baravdish2022",
                     "--epochs", "1", "--steps", "15", "-q", "-o", str(out),
                     "--json", str(metrics)]) == 0
    est = snode.load(out)
    assert (est.net_.scheme, est.net_.n_steps, est.net_.T, est.net_.width) == (
        "euler", 15, 3.0, 64)
    assert est.loss == "mse" and est.drop_last and est.batch_size == 100
    # digits: 1347 training samples, 13 full batches of 100, 6 iterations each
    assert json.loads(metrics.read_text())["iterations"] == 13 * 6


def test_settings_are_checked_and_kept():
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    for bad in (dict(width="input"), dict(width="4"), dict(drop_last="no"),
                dict(ncg_options={"safeguard": "no"}), dict(ncg_options={"safeguard": None}),
                dict(optimizer="adam", ncg_options={"foo": 1})):
        with pytest.raises(ValueError, match="width|drop_last|safeguard|ncg_options"):
            snode.SNODEClassifier(max_iter=2, n_steps=4, **bad).fit(X, y)
    for opt in (lambda: snode.NCG(safeguard="x"), lambda: snode.Adam(drop_last=2),
                lambda: snode.GradientDescent(nesterov="yes")):
        with pytest.raises(ValueError, match="must be True or False"):
            opt()
    # a preset cannot be changed for the whole process
    with pytest.raises(TypeError):
        snode.preset("baravdish2022").net["T"] = 99.0
    assert snode.preset("baravdish2022").net["T"] == 3.0


def test_numpy_bools_survive_a_save(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    est = snode.SNODEClassifier(ncg_options={"safeguard": np.True_}, drop_last=np.True_,
                                max_iter=3, n_steps=4).fit(X, y)
    est.save(tmp_path / "m.npz")
    p = snode.load(tmp_path / "m.npz").get_params()
    assert p["ncg_options"] == {"safeguard": True} and p["drop_last"] is True
    assert p["warm_start"] is False


def test_warm_start_checks_the_width_it_would_build():
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    est = snode.SNODEClassifier(width="inputs", warm_start=True, max_iter=2, n_steps=4)
    est.fit(X, y)
    assert est.net_.width == 2
    est.set_params(width=None)  # a fresh fit would build width 4
    with pytest.raises(ValueError, match="warm_start"):
        est.fit(X, y)


def test_command_line_alpha_auto_and_info(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert cli.main(["train", "--dataset", "moons", "--n", "120", "--preset", "baravdish2022",
                     "--alpha", "auto", "--steps", "6", "--epochs", "1", "-q",
                     "-o", str(out)]) == 0
    assert snode.load(out).sobolev_alpha == "auto"
    capsys.readouterr()
    assert cli.main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "loss=mse" in info and "drop_last=True" in info and "'safeguard': False" in info
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--alpha", "smooth", "-o", str(out)])
    assert exit_.value.code == 2 and "a number or auto" in capsys.readouterr().err
