"""snode.analysis: the linearised response to weight perturbations and its error, the output
covariance under weight noise (against finite differences and Monte Carlo), smoothness."""
import numpy as np
import pytest

import snode
from snode import analysis
from _helpers import make_net


def _fd_jacobian(net, X, eps=1e-6):
    """dx(T)/dtheta for every sample, (N, width, P), by central differences of forward."""
    W, b = net.get_params()
    theta = np.concatenate([W.ravel(), b.ravel()])
    cols = []
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = eps

        def at(t):
            return net.forward(X, params=(t[:W.size].reshape(W.shape),
                                          t[W.size:].reshape(b.shape)))

        cols.append((at(theta + e) - at(theta - e)) / (2 * eps))
    return np.stack(cols, axis=-1)


def test_perturbation_response_error_falls_like_the_square_of_the_size():
    net = make_net(width=3, n_steps=5, seed=1)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 3))
    dW, db = rng.normal(size=net.W.shape), rng.normal(size=net.b.shape)
    sizes = np.array([1e-1, 3e-2, 1e-2, 3e-3, 1e-3])
    r = analysis.perturbation_response(net, X, dW, db, sizes)
    assert r.actual.shape == r.predicted.shape == (5, 20, 3)
    slope = np.polyfit(np.log(sizes), np.log(r.error), 1)[0]
    assert 1.9 < slope < 2.1
    # the prediction is the derivative: against central differences of the forward sweep
    s = 1e-5
    W, b = net.get_params()
    fd = (net.forward(X, params=(W + s * dW, b + s * db))
          - net.forward(X, params=(W - s * dW, b - s * db))) / (2 * s)
    np.testing.assert_allclose(r.predicted[2] / sizes[2], fd, rtol=1e-7, atol=1e-9)
    assert np.all(analysis.perturbation_response(net, X, dW, db, [0.0]).actual == 0.0)


def test_output_covariance_against_finite_differences_and_monte_carlo():
    net = make_net(width=3, n_steps=3, seed=4)
    X = np.random.default_rng(5).normal(size=(4, 3))
    sigma = 1e-3
    J = _fd_jacobian(net, X)
    expected = sigma ** 2 * np.einsum("nip,njp->nij", J, J)
    cov = analysis.output_covariance(net, X, sigma)
    np.testing.assert_allclose(cov, expected, rtol=1e-6, atol=1e-14)
    std = analysis.output_covariance(net, X, sigma, diagonal=True)
    np.testing.assert_allclose(std, np.sqrt(np.einsum("nii->ni", expected)), rtol=1e-6)
    # random probes: unbiased, converging like 1/sqrt(M)
    approx = analysis.output_covariance(net, X, sigma, probes=4000, seed=0, diagonal=True)
    np.testing.assert_allclose(approx, std, rtol=0.08)
    # Monte Carlo at small noise agrees within its sampling error; at large noise it parts
    mc = analysis.monte_carlo_covariance(net, X, sigma, samples=3000, seed=1, diagonal=True)
    np.testing.assert_allclose(mc, std, rtol=0.08)
    big = 2.0
    mc_big = analysis.monte_carlo_covariance(net, X, big, samples=500, seed=1, diagonal=True)
    lin_big = analysis.output_covariance(net, X, big, diagonal=True)
    assert np.median(np.abs(mc_big / lin_big - 1)) > 0.2


def test_smoothness_measures():
    net = snode.SNODE(2, 4, T=2.0, init="zeros")
    net.W[:, 0, 0] = [0.0, 1.0, 3.0, 2.0]
    net.b[:, 1] = [1.0, 1.0, 0.0, 0.0]
    s = analysis.smoothness(net)
    assert s["total_variation"] == pytest.approx(1 + 2 + 1 + 1)
    assert s["h1_seminorm"] == pytest.approx(np.sqrt((1 + 4 + 1 + 1) / 0.5))
    assert "step_sensitivity" not in s


def test_step_sensitivity_against_per_sample_adjoints():
    net = make_net(width=3, n_steps=4, seed=6)
    X = np.random.default_rng(7).normal(size=(5, 3))
    exact = np.zeros(net.n_steps)
    for n in range(5):  # |dx_n(T)/d(W_i, b_i)|_F^2, one output component at a time
        for k in range(3):
            lam = np.zeros((5, 3))
            lam[n, k] = 1.0
            gW, gb, _ = net.adjoint(X, lam)
            exact += np.einsum("kij,kij->k", gW, gW) + np.einsum("ki,ki->k", gb, gb)
    exact = np.sqrt(exact / 5)
    est = analysis.smoothness(net, X, probes=3000, seed=0)["step_sensitivity"]
    np.testing.assert_allclose(est, exact, rtol=0.06)


def test_bad_input():
    net = make_net(width=3, n_steps=2)
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="sigma"):
        analysis.output_covariance(net, X, -1.0)
    with pytest.raises(ValueError, match="probes"):
        analysis.output_covariance(net, X, 0.1, probes=0)
    with pytest.raises(ValueError, match="samples"):
        analysis.monte_carlo_covariance(net, X, 0.1, samples=1)
    with pytest.raises(ValueError, match="sizes"):
        analysis.perturbation_response(net, X, None, None, [np.nan])
    with pytest.raises(ValueError, match="SNODE"):
        analysis.smoothness("net")
    with pytest.raises(ValueError):
        analysis.perturbation_response(net, X, np.zeros((1, 3, 3)), None, [0.1])


def test_noise_sweep_finds_where_linearisation_and_monte_carlo_part():
    net = make_net(width=3, n_steps=3, seed=4)
    X = np.random.default_rng(5).normal(size=(6, 3))
    r = analysis.noise_sweep(net, X, [1e-3, 1e-2, 1e-1, 1.0, 3.0], samples=800, tol=0.2,
                             seed=0)
    assert r.linearized.shape == r.monte_carlo.shape == (5, 6, 3)
    assert r.discrepancy[0] < 0.1 and r.discrepancy[-1] > 0.2
    assert r.limit in r.sigmas and r.discrepancy[list(r.sigmas).index(r.limit)] > 0.2
    assert np.all(r.discrepancy[r.sigmas < r.limit] <= 0.2)
    with pytest.raises(ValueError, match="ascending"):
        analysis.noise_sweep(net, X, [0.1, 0.01])


def _linear_classifier(seed=0, d=3):
    """x(T) = x + (W x + b) (one explicit Euler step, identity): affine scores, whose class
    boundaries are hyperplanes with known distances."""
    net = snode.SNODE(d, 1, T=1.0, scheme="euler", activation="identity", init="zeros")
    rng = np.random.default_rng(seed)
    net.W[0] = rng.normal(size=(d, d))
    net.b[0] = rng.normal(size=d)
    return net


@pytest.mark.parametrize("norm", [2, np.inf])
def test_deepfool_finds_the_exact_distance_for_affine_scores(norm):
    net = _linear_classifier()
    X = np.random.default_rng(1).normal(size=(30, 3))
    A = np.eye(3) + net.W[0]
    labels = net.forward(X)[:, :2].argmax(axis=1)  # all correct
    res = analysis.deepfool(net, X, labels, 2, kappa=1.0, norm=norm)
    w = A[1] - A[0]
    gap = np.abs(X @ w + net.b[0, 1] - net.b[0, 0])
    dual = np.linalg.norm(w, 1 if norm == np.inf else 2)
    assert res.success.all() and (res.status == "fooled").all()
    np.testing.assert_allclose(res.norm, gap / dual, atol=2e-4 / dual)
    # every success re-checked independently
    assert (net.forward(res.x_adv)[:, :2].argmax(axis=1) != labels).all()
    diff = res.x_adv - X
    expected = np.abs(diff).max(axis=1) if norm == np.inf else np.linalg.norm(diff, axis=1)
    np.testing.assert_allclose(res.norm, expected)


def test_deepfool_on_a_trained_network_targeted_and_in_a_box():
    rng = np.random.default_rng(0)
    centres = np.eye(3) * 1.5
    y = rng.integers(3, size=90)
    X = centres[y] + 0.3 * rng.normal(size=(90, 3))
    est = snode.SNODEClassifier(n_steps=8, T=2.0, max_iter=60, random_state=0,
                                scale="none").fit(X, y)
    net = est.net_
    res = analysis.deepfool(net, X, y, 3)
    pred = net.forward(X)[:, :3].argmax(axis=1)
    assert (res.status[pred != y] == "misclassified").all()
    assert res.success[pred == y].mean() > 0.9
    fooled = res.success
    assert (net.forward(res.x_adv[fooled])[:, :3].argmax(axis=1) != y[fooled]).all()
    target = (y + 1) % 3
    t = analysis.deepfool(net, X, y, 3, targeted=target, bounds=(-3.0, 3.0), norm=np.inf)
    assert t.success.mean() > 0.8
    assert (net.forward(t.x_adv[t.success])[:, :3].argmax(axis=1) == target[t.success]).all()
    assert t.x_adv.min() >= -3.0 and t.x_adv.max() <= 3.0
    # targeted attacks need at least the untargeted (nearest boundary) perturbation, roughly
    both = res.success & t.success
    assert np.median(t.norm[both] / np.abs(res.x_adv - X)[both].max(axis=1)) >= 0.9
    ra = analysis.robust_accuracy(res, [0.0, 0.5, 1e9])
    clean = (pred == y).mean()
    assert ra["clean"] == pytest.approx(clean)
    assert ra["over_all"][0] == pytest.approx(clean)
    manual = ((pred == y) & ~(res.success & (res.norm <= 0.5))).sum()
    assert ra["over_all"][1] == pytest.approx(manual / 90)
    assert ra["over_correct"][1] == pytest.approx(manual / (pred == y).sum())
    assert ra["over_all"][2] == pytest.approx(((pred == y) & ~res.success).mean())


def test_deepfool_bad_input():
    net = _linear_classifier()
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="labels"):
        analysis.deepfool(net, X, [0, 5], 2)
    with pytest.raises(ValueError, match="norm"):
        analysis.deepfool(net, X, [0, 1], 2, norm=1)
    with pytest.raises(ValueError, match="bounds"):
        analysis.deepfool(net, X, [0, 1], 2, bounds=(1.0, 2.0))
    with pytest.raises(ValueError, match="kappa"):
        analysis.deepfool(net, X, [0, 1], 2, kappa=1.5)
    with pytest.raises(ValueError, match="n_classes"):
        analysis.deepfool(net, X, [0, 1], 4)


def test_pgd_and_the_masking_check():
    rng = np.random.default_rng(0)
    y = rng.integers(3, size=60)
    X = np.eye(3)[y] * 1.5 + 0.3 * rng.normal(size=(60, 3))
    net = snode.SNODEClassifier(n_steps=8, T=2.0, max_iter=60, random_state=0,
                                scale="none").fit(X, y).net_
    pred = net.forward(X)[:, :3].argmax(axis=1)
    none = analysis.pgd(net, X, y, 3, 0.0)
    assert not none.success.any() and np.all(none.x_adv == X)
    for norm, eps in ((np.inf, 0.3), (2, 0.5)):
        r = analysis.pgd(net, X, y, 3, eps, norm=norm, seed=0)
        assert np.all(r.norm <= eps * (1 + 1e-12))
        assert (net.forward(r.x_adv[r.success])[:, :3].argmax(axis=1) != y[r.success]).all()
        # at least as strong as one DeepFool run at the same budget, roughly
        df = analysis.deepfool(net, X, y, 3, norm=norm)
        df_acc = analysis.robust_accuracy(df, [eps])["over_all"][0]
        assert np.mean((pred == y) & ~r.success) <= df_acc + 0.05
    check = analysis.masking_check(net, X, y, 3, 3.0, seed=0)
    assert check["passed"] and check["accuracy"] <= 1 / 3


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_the_attacks_input_gradient_against_finite_differences(offset):
    """The gradient with respect to the inputs where they sit in the state (input_offset:
    zeros before them)."""
    net = make_net(width=4, n_steps=4, seed=9)
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(4, 2)), rng.integers(2, size=4)
    cost = snode.Cost(mse=0.0, ce=1.0, n_classes=2)
    state = lambda A: np.c_[np.zeros((4, offset)), A]  # noqa: E731
    g = analysis.attacks.input_grad(net, X, y, 2, analysis.attacks.InputPlacement(offset))
    for n in range(4):
        for j in range(2):
            e = np.zeros_like(X)
            e[n, j] = 1e-6
            fd = (cost(net, state(X + e), labels=y) - cost(net, state(X - e), labels=y)) \
                / 2e-6 * 4
            assert g[n, j] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_attacks_perturb_only_the_inputs_after_the_offset():
    """An estimator's state holds its outputs' components (zero at t = 0) before the inputs:
    the attacks move the inputs only, and their results hold for the states of x_adv."""
    X, y = snode.datasets.moons(120, seed=0)
    clf = snode.SNODEClassifier(n_steps=10, max_iter=60, random_state=0).fit(X, y)
    assert clf.input_offset_ == 2 and clf.net_.width == 4
    Xs = clf.scaler_.transform(X)
    for attack in (lambda **kw: analysis.deepfool(clf.net_, Xs, y, 2, **kw),
                   lambda **kw: analysis.pgd(clf.net_, Xs, y, 2, 0.5, seed=0, **kw)):
        res = attack(input_offset=2)
        assert res.x_adv.shape == Xs.shape and res.success.sum() > 10
        states = np.c_[np.zeros((len(X), 2)), res.x_adv]
        np.testing.assert_array_equal(clf.net_.forward(states)[:, :2].argmax(axis=1),
                                      res.final)
        assert (res.final[res.success] != y[res.success]).all()
    with pytest.raises(ValueError, match="pass the width"):
        analysis.deepfool(clf.net_, Xs, y, 2, input_offset=3)
    with pytest.raises(ValueError, match="input_offset"):
        analysis.pgd(clf.net_, Xs, y, 2, 0.1, input_offset=-1)



def test_the_attacks_take_a_classifier_with_its_classes_and_layout():
    """Given the classifier, the attacks use its network, its layout (input_offset_) and its
    class labels: the same results as the network with the offset and class indices; a
    network without the offset is the authors' layout (input_offset 0); a n_classes that
    does not fit the classifier is refused."""
    X, y = snode.datasets.moons(120, seed=0)
    names = np.array(["left", "right"])
    clf = snode.SNODEClassifier(n_steps=10, max_iter=60, random_state=0).fit(X, names[y])
    Xs = clf.scaler_.transform(X)
    by_clf = analysis.deepfool(clf, Xs, names[y])
    by_net = analysis.deepfool(clf.net_, Xs, y, 2, input_offset=clf.input_offset_)
    np.testing.assert_array_equal(by_clf.x_adv, by_net.x_adv)
    assert by_clf.success.sum() > 10
    p_clf = analysis.pgd(clf, Xs, names[y], epsilon=0.5, seed=0)
    p_net = analysis.pgd(clf.net_, Xs, y, 2, 0.5, seed=0, input_offset=clf.input_offset_)
    np.testing.assert_array_equal(p_clf.x_adv, p_net.x_adv)
    target = np.where(y == 0, "right", "left")
    assert analysis.deepfool(clf, Xs, names[y], targeted=target).success.sum() > 10
    assert analysis.masking_check(clf, Xs, names[y], epsilon=3.0, steps=20,
                                  seed=0)["chance"] == 0.5
    for bad, match in ((dict(n_classes=3), "does not fit the classifier's 2 classes"),):
        with pytest.raises(ValueError, match=match):
            analysis.deepfool(clf, Xs, names[y], **bad)
    with pytest.raises(ValueError, match="not the classifier's classes"):
        analysis.deepfool(clf, Xs, y)  # (indices, not the class labels)
    with pytest.raises(ValueError, match="n_classes is required with a network"):
        analysis.deepfool(clf.net_, Xs, y)
    with pytest.raises(ValueError, match="epsilon is required"):
        analysis.pgd(clf, Xs, names[y])
    reg = snode.SNODERegressor(n_steps=3, max_iter=3, random_state=0).fit(X, y * 1.0)
    with pytest.raises(ValueError, match="need a classifier"):
        analysis.pgd(reg, Xs, y, epsilon=0.1)


def test_attacks_and_analyses_refuse_what_they_cannot_do():
    net = _linear_classifier()
    X = np.random.default_rng(1).normal(size=(6, 3)) * 0.5
    labels = net.forward(X)[:, :2].argmax(axis=1)
    # a target equal to the label: not attacked, not a success, robust at every epsilon
    r = analysis.deepfool(net, X, labels, 2, targeted=labels)
    assert not r.success.any() and (r.status == "failed").all() and np.all(r.x_adv == X)
    assert analysis.robust_accuracy(r, [0.0, 10.0])["over_all"].tolist() == [1.0, 1.0]
    for bad in ((1.0, -1.0), (-0.1, 0.1), (-1.0,)):
        with pytest.raises(ValueError, match="bounds"):
            analysis.pgd(net, X, labels, 2, 0.3, bounds=bad)
    with pytest.raises(ValueError, match="random_start"):
        analysis.pgd(net, X, labels, 2, 0.3, random_start="no")
    with pytest.raises(ValueError, match="diagonal"):
        analysis.output_covariance(net, X, 0.1, diagonal="yes")
    with pytest.raises(ValueError, match="seed"):
        analysis.output_covariance(net, X, 0.1, probes=3, seed=-1)
    with pytest.raises(ValueError, match="probes"):
        analysis.smoothness(net, probes=0)
    with pytest.raises(ValueError, match="sizes"):
        analysis.perturbation_response(net, X, None, None, [])
    with pytest.raises(snode.NonFiniteError):
        analysis.output_covariance(net, X, 1e300)
    with pytest.raises(snode.NonFiniteError):
        analysis.noise_sweep(make_net(width=3, n_steps=2), X, [1e-2, 1e200], samples=4)
    with pytest.raises(snode.NonFiniteError):
        analysis.perturbation_response(net, X, np.full_like(net.W, 10.0), None, [1e308])


def test_deepfool_shortens_its_perturbations_to_the_class_boundary():
    """Where tanh saturates, DeepFool's linearised boundary lies far beyond the true one: the
    refined perturbations are never longer, still change the class, and sit at the boundary
    (their last halving's other side keeps the class)."""
    X, y = snode.datasets.moons(200, seed=0)
    clf = snode.SNODEClassifier(max_iter=200, random_state=0).fit(X, y)
    Xs, off = clf.scaler_.transform(X), clf.input_offset_
    plain = analysis.deepfool(clf.net_, Xs, y, 2, input_offset=off, refine=0)
    short = analysis.deepfool(clf.net_, Xs, y, 2, input_offset=off)
    assert (short.success == plain.success).all() and short.success.sum() > 150
    ok = short.success
    assert (short.norm[ok] <= plain.norm[ok] * (1 + 1e-12)).all()
    assert np.median(short.norm[ok]) < 0.5 * np.median(plain.norm[ok])
    assert (clf.predict(clf.scaler_.inverse_transform(short.x_adv[ok])) != y[ok]).all()
    # one last halving back (2^-20 of DeepFool's own perturbation) the class is kept
    inside = short.x_adv[ok] - 2.0 ** -20 * (plain.x_adv[ok] - Xs[ok])
    kept = clf.net_.forward(np.c_[np.zeros((ok.sum(), 2)), inside])[:, :2].argmax(1) == y[ok]
    assert kept.mean() > 0.95
    with pytest.raises(ValueError, match="refine"):
        analysis.deepfool(clf.net_, Xs, y, 2, refine=-1)


def test_a_classifier_s_targets_are_checked_by_name():
    X, y = snode.datasets.moons(60, seed=0)
    clf = snode.SNODEClassifier(n_steps=3, max_iter=5, random_state=0).fit(X, y)
    Xs = clf.scaler_.transform(X)
    with pytest.raises(ValueError, match=r"targeted must have shape \(60,\)"):
        analysis.deepfool(clf, Xs, y, targeted=1)
    with pytest.raises(ValueError, match="targeted hold values that are not the classifier"):
        analysis.deepfool(clf, Xs, y, targeted=np.full(60, 7))
