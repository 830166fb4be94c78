"""Adversarial attacks through the input Jacobian and the input gradient of the sensitivity
and adjoint sweeps: DeepFool (the minimal perturbation), projected gradient descent (the
iterative attack at a budget), the robust accuracy they give, and the check that the
gradients are not masked; docs/method.md, section 10.

References
----------
.. [3] S.-M. Moosavi-Dezfooli, A. Fawzi, P. Frossard, "DeepFool: a simple and accurate method
   to fool deep neural networks", CVPR 2016, arXiv:1511.04599.
.. [4] A. Madry, A. Makelov, L. Schmidt, D. Tsipras, A. Vladu, "Towards deep learning models
   resistant to adversarial attacks", ICLR 2018, arXiv:1706.06083 (projected gradient
   descent).
.. [5] A. Athalye, N. Carlini, D. Wagner, "Obfuscated gradients give a false sense of
   security", ICML 2018, arXiv:1802.00420 (checks for masked gradients).
"""
from dataclasses import dataclass

from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike

from .._validate import as_float_array, check_bool, check_int, check_real
from ..loss import Loss
from ..model import place_inputs
from .common import checked_net, input_box, seeded_rng

__all__ = ["AttackResult", "deepfool", "robust_accuracy", "pgd", "masking_check",
           "attack_result", "input_grad", "InputPlacement", "attack_args", "int_labels",
           "classes_of", "ATTACKED", "MISCLASSIFIED", "FAILED"]


#: Status of each sample of an attack.
ATTACKED, MISCLASSIFIED, FAILED = "fooled", "misclassified", "failed"


@dataclass(frozen=True)
class AttackResult:
    """The outcome of an attack, per sample.

    Attributes
    ----------
    x_adv : ndarray, shape (N, m)
        The adversarial inputs (the inputs themselves where the attack did not run or failed).
    norm : ndarray, shape (N,)
        ``|x_adv - x|`` in the attack's norm (0 where nothing changed).
    success : ndarray of bool, shape (N,)
        The attack changed the class of a sample classified correctly: the class of x_adv
        (re-checked by a forward sweep) is not the label (untargeted) or is the target
        (targeted). False for samples not attacked (misclassified ones, or a target equal to
        the label).
    original, final : ndarray of int, shape (N,)
        The class the network gives x and x_adv.
    status : ndarray of str, shape (N,)
        "fooled" (success), "misclassified" (x itself is misclassified: not attacked) or
        "failed" (no success within max_iter, or the box stopped it).
    norm_kind : {2, inf}
    """

    x_adv: np.ndarray
    norm: np.ndarray
    success: np.ndarray
    original: np.ndarray
    final: np.ndarray
    status: np.ndarray
    norm_kind: float


def attack_result(X, x_adv, original, final, attacked, success, norm):
    """The AttackResult of an attack's points: x_adv and the final classes where it succeeded,
    X and the original classes elsewhere (changed in place), the distances in `norm` and
    every sample's status."""
    x_adv[~success] = X[~success]
    final[~success] = original[~success]
    diff = x_adv - X
    dist = np.abs(diff).max(axis=1) if norm == np.inf else np.linalg.norm(diff, axis=1)
    status = np.where(~attacked, MISCLASSIFIED, np.where(success, ATTACKED, FAILED))
    return AttackResult(x_adv=x_adv, norm=dist, success=success, original=original,
                        final=final, status=status, norm_kind=float(norm))


def classes_of(net, X, C):
    """The class (the largest of the first C outputs) of each of the inputs X."""
    return net.forward(X)[:, :C].argmax(axis=1)


def deepfool(net: Any, X: Any, labels: Any, n_classes: Optional[int] = None,
             targeted: Optional[ArrayLike] = None, kappa: float = 0.975, step: float = 1.0,
             max_iter: int = 30, bounds: Any = None, norm: float = 2,
             input_offset: Optional[int] = None, refine: int = 20) -> "AttackResult":
    """DeepFool: the smallest input perturbation that changes the class, found by linearising
    the network at the current point (the input Jacobian from sensitivity sweeps) and
    stepping to the nearest linearised class boundary [3].

    Each iteration, for sample n at x with current class c and every other class k, the
    linearised boundary between k and c lies at distance ``|f_k - f_c| / |w_k|_*`` with
    ``w_k = grad f_k - grad f_c`` (scores f: the first `n_classes` outputs), ``|.|_*`` the
    dual norm (2 for L2, 1 for L-infinity). The step goes to the nearest one (to the
    target's, when targeted): ``r = (|f_l - f_c| + 1e-4) w_l / |w_l|_2^2`` (L2) or
    ``(|f_l - f_c| + 1e-4) sign(w_l) / |w_l|_1`` (L-infinity), times `step`. The total
    perturbation is divided by `kappa` (an overshoot of 1/kappa - 1, 2.6 % by default) and the
    point kept inside `bounds`. Samples leave the loop when their class changes (reaches the
    target). Where the tanh saturates the linearised boundary can lie far beyond the true one
    (a step of ``gap / |w|^2`` with a small w): each perturbation found is then shortened
    along itself by bisection to the class boundary (`refine` halvings; the point kept is
    always on the changed side, re-checked by a forward sweep).

    Parameters
    ----------
    net : SNODE or fitted SNODEClassifier
        The network, or a classifier: then its network, its classes and its layout
        (``input_offset_``) are used.
    X : array_like, shape (N, m)
        Inputs, as the network sees them (scaled: a classifier's ``scaler_.transform(X)``).
    labels : array_like, shape (N,)
        True classes: integers in [0, n_classes) with a network; the classifier's class
        labels (as ``predict`` gives them) with a classifier.
    n_classes : int, optional
        C; the scores are the first C outputs. Required with a network; a classifier's is
        its number of classes (a different one is refused).
    targeted : array_like, shape (N,), or None
        Target classes, as `labels` (None: untargeted). A sample whose label is its
        target is not attacked (status "failed" unless misclassified).
    kappa : float in (0, 1]
        The total perturbation is divided by kappa.
    step : float in (0, 1]
        Fraction of each linearised step taken.
    max_iter : int >= 1
    bounds : (float, float) or None
        The box of valid inputs; x_adv stays inside it.
    norm : {2, inf}
    input_offset : int >= 0, optional
        The state's component where the inputs begin: x(0) is zero before it. Default: a
        classifier's ``input_offset_``, 0 for a network (the method's authors' layout; pass
        the classifier, or its ``input_offset_``, for a network an estimator trained).
        Only the inputs are perturbed.
    refine : int in [0, 64]
        Bisection halvings that shorten each perturbation found (0: DeepFool's own).

    Returns
    -------
    AttackResult

    Raises
    ------
    ValueError
        For malformed inputs, labels or targets out of range, or parameters out of range.

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> attack = snode.analysis.deepfool(clf, clf.scaler_.transform(X), y)
    >>> attack.x_adv.shape, bool(attack.success.any())
    ((100, 2), True)
    """
    if targeted is not None and hasattr(net, "classes_"):  # (a classifier's class labels)
        targeted = class_indices(targeted, np.asarray(net.classes_), np.shape(X)[0],
                                 "targeted")
    net, X, labels, C, place = attack_args(net, X, labels, n_classes, input_offset)
    N, m = X.shape
    target = None if targeted is None else int_labels(targeted, N, C, "targeted")
    kappa = check_real(kappa, "kappa", minimum=0.0, strict=True)
    step = check_real(step, "step", minimum=0.0, strict=True)
    if kappa > 1.0 or step > 1.0:
        raise ValueError(f"kappa and step must be in (0, 1], got {kappa} and {step}")
    max_iter = check_int(max_iter, "max_iter", 1)
    if norm not in (2, np.inf):
        raise ValueError(f"norm must be 2 or np.inf, got {norm!r}")
    refine = check_int(refine, "refine", 0)
    if refine > 64:  # (a float64's 53 bits are resolved long before)
        raise ValueError(f"refine must be at most 64 halvings, got {refine}")
    lo, hi = input_box(bounds, X)

    original = classes_of(net, place(X), C)
    active = original == labels
    if target is not None:
        active &= target != labels
    r_tot = np.zeros_like(X)
    x_adv = X.copy()
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        xa = x_adv[idx]
        f = net.forward(place(xa))[:, :C]
        cols = slice(place.offset, place.offset + m)  # (the inputs' components)
        grad = net.input_jacobian(place(xa))[:, :C, cols]  # (n, C, m)
        cur = f.argmax(axis=1)
        rows = np.arange(idx.size)
        w = grad - grad[rows, cur][:, None, :]  # (n, C, m)
        gap = np.abs(f - f[rows, cur][:, None])  # (n, C)
        dual = np.linalg.norm(w, ord=1 if norm == np.inf else 2, axis=2)
        if target is None:
            dist = np.where(np.arange(C)[None] == cur[:, None], np.inf,
                            gap / np.where(dual > 0, dual, np.nan))
            dist = np.where(np.isnan(dist), np.inf, dist)
            best = dist.argmin(axis=1)
        else:
            best = target[idx]
        wl, gl, dl = w[rows, best], gap[rows, best], dual[rows, best]
        ok = dl > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            if norm == 2:
                r = ((gl + 1e-4) / np.where(ok, dl * dl, 1.0))[:, None] * wl
            else:
                r = ((gl + 1e-4) / np.where(ok, dl, 1.0))[:, None] * np.sign(wl)
        r[~ok] = 0.0
        r_tot[idx] += step * r
        x_adv[idx] = np.clip(X[idx] + r_tot[idx] / kappa, lo, hi)
        now = classes_of(net, place(x_adv[idx]), C)
        done = now == best if target is not None else now != labels[idx]
        active[idx[done | ~ok]] = False

    final = classes_of(net, place(x_adv), C)  # every success is re-checked here
    attacked = original == labels
    if target is None:
        success = attacked & (final != labels)
    else:  # (a sample whose target is its label is not attacked)
        success = attacked & (target != labels) & (final == target)
    idx = np.flatnonzero(success)
    if refine and idx.size:  # shorten x_adv - x along itself to the class boundary
        d = x_adv[idx] - X[idx]
        t_in, t_out = np.zeros(idx.size), np.ones(idx.size)  # (class kept / changed)

        def changed(t):
            c = classes_of(net, place(X[idx] + t[:, None] * d), C)
            return (c != labels[idx] if target is None else c == target[idx]), c

        for _ in range(refine):
            mid = 0.5 * (t_in + t_out)
            ok, _ = changed(mid)
            t_out, t_in = np.where(ok, mid, t_out), np.where(ok, t_in, mid)
        ok, c = changed(t_out)  # (re-checked at the point kept)
        keep = idx[ok]
        x_adv[keep] = X[keep] + t_out[ok, None] * d[ok]
        final[keep] = c[ok]
    return attack_result(X, x_adv, original, final, attacked, success, norm)


def robust_accuracy(result: "AttackResult", epsilons: ArrayLike) -> dict[str, Any]:
    """Accuracy against perturbations of size at most epsilon, from one minimal-perturbation
    attack: a sample counts as robust at epsilon when it was classified correctly and the
    attack needed more than epsilon (or failed).

    Parameters
    ----------
    result : AttackResult
    epsilons : array_like of float >= 0, shape (E,)

    Returns
    -------
    dict
        ``over_all``: robust samples / all samples (E,); ``over_correct``: robust samples /
        samples classified correctly before the attack (E,); ``clean``: the accuracy before.

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> attack = snode.analysis.deepfool(clf, clf.scaler_.transform(X), y)
    >>> curve = snode.analysis.robust_accuracy(attack, [0.0, 0.5])
    >>> bool(curve["over_all"][0] >= curve["over_all"][1])  # fewer robust at a larger budget
    True
    """
    if not isinstance(result, AttackResult):
        raise ValueError("result must be an AttackResult (from deepfool)")
    eps = as_float_array(np.atleast_1d(np.asarray(epsilons, dtype=float)), "epsilons", ndim=1)
    if (eps < 0).any():
        raise ValueError("epsilons must be >= 0")
    correct = result.status != MISCLASSIFIED
    broken = result.success[None, :] & (result.norm[None, :] <= eps[:, None])
    robust = (correct[None, :] & ~broken).sum(axis=1)
    n_correct = int(correct.sum())
    return {"epsilons": eps, "over_all": robust / correct.size,
            "over_correct": robust / n_correct if n_correct else np.full(eps.size, np.nan),
            "clean": n_correct / correct.size}


def input_grad(net, X, labels, C, place):
    """d CE / d x(0) per sample at the inputs' components (N, m): one forward and one adjoint
    sweep."""
    x0 = place(X)
    out = net.forward(x0)
    _, lam = Loss(mse=0.0, ce=1.0, n_classes=C).value(out, labels=labels, scale=1.0,
                                                      grad=True)
    return net.adjoint(x0, lam)[2][:, place.offset:place.offset + X.shape[1]]


def pgd(net: Any, X: Any, labels: Any, n_classes: Optional[int] = None,
        epsilon: Optional[float] = None, *, norm: float = np.inf, steps: int = 40,
        step_size: Optional[float] = None, bounds: Any = None, random_start: bool = True,
        seed: Any = None, input_offset: Optional[int] = None) -> "AttackResult":
    """Projected gradient ascent on the cross-entropy within an epsilon-ball: the iterative
    attack of [4], stronger than one linearisation at a fixed budget.

    Each step moves every sample along the sign of its input gradient (L-infinity) or the
    normalised gradient (L2) by `step_size`, then projects back onto the epsilon-ball around
    the input and into `bounds`. The input gradient comes from a forward and an adjoint sweep.

    Parameters
    ----------
    net, X, labels, n_classes
        As for :func:`deepfool` (a fitted SNODEClassifier, or a network with `n_classes`).
    epsilon : float >= 0
        Radius of the ball, in `norm` (required).
    norm : {inf, 2}
    steps : int >= 1
    step_size : float > 0, optional
        Default 2.5 epsilon / steps.
    bounds : (float, float), optional
    random_start : bool
        Start at a uniform point of the L-infinity ball (L2: of the L2 ball's cube, projected).
    seed : int or None
    input_offset : int >= 0, optional
        As for :func:`deepfool`.

    Returns
    -------
    AttackResult
        As for :func:`deepfool`; successes re-checked by a forward sweep.

    Raises
    ------
    ValueError
        For malformed inputs or parameters out of range.

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> result = snode.analysis.pgd(clf, clf.scaler_.transform(X), y, epsilon=0.3, seed=0)
    >>> result.x_adv.shape
    (100, 2)
    """
    net, X, labels, C, place = attack_args(net, X, labels, n_classes, input_offset)
    if epsilon is None:
        raise ValueError("epsilon is required (the radius of the ball)")
    eps = check_real(epsilon, "epsilon", minimum=0.0)
    if norm not in (2, np.inf):
        raise ValueError(f"norm must be 2 or np.inf, got {norm!r}")
    steps = check_int(steps, "steps", 1)
    alpha = 2.5 * eps / steps if step_size is None else check_real(
        step_size, "step_size", minimum=0.0, strict=True)
    lo, hi = input_box(bounds, X)
    random_start = check_bool(random_start, "random_start")
    rng = seeded_rng(seed)

    def project(x):
        delta = x - X
        if norm == np.inf:
            delta = np.clip(delta, -eps, eps)
        else:
            n = np.linalg.norm(delta, axis=1, keepdims=True)
            delta = delta * np.minimum(1.0, eps / np.where(n > 0, n, 1.0))
        return np.clip(X + delta, lo, hi)

    original = classes_of(net, place(X), C)
    x = project(X + rng.uniform(-eps, eps, X.shape)) if (random_start and eps > 0) else X.copy()
    if eps > 0:
        for _ in range(steps):
            g = input_grad(net, x, labels, C, place)
            if norm == np.inf:
                move = np.sign(g)
            else:
                n = np.linalg.norm(g, axis=1, keepdims=True)
                move = g / np.where(n > 0, n, 1.0)
            x = project(x + alpha * move)
    final = classes_of(net, place(x), C)
    attacked = original == labels
    success = attacked & (final != labels)
    return attack_result(X, x, original, final, attacked, success, norm)


def masking_check(net: Any, X: ArrayLike, labels: ArrayLike, n_classes: Optional[int] = None,
                  epsilon: Optional[float] = None, *, norm: float = np.inf, steps: int = 100,
                  bounds: Any = None, seed: Any = None,
                  input_offset: Optional[int] = None) -> dict[str, Any]:
    """A sanity check against masked gradients [5]: at a large epsilon an iterative attack must
    bring the accuracy down to chance (1 / n_classes) or below; if it does not, the gradients
    the attacks follow are not telling the truth, and robustness figures built on them are
    not to be trusted.

    Parameters
    ----------
    net, X, labels, n_classes, epsilon, norm, steps, bounds, seed, input_offset
        As for :func:`pgd` (epsilon: the largest of the budgets studied, or more).

    Returns
    -------
    dict
        ``accuracy`` under :func:`pgd` at `epsilon`, ``chance``, ``passed`` (accuracy <=
        chance), ``result`` (the AttackResult).

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> check = snode.analysis.masking_check(clf, clf.scaler_.transform(X), y, epsilon=3.0,
    ...                                      norm=2, seed=0)
    >>> check["passed"]
    True
    """
    C = attack_args(net, X, labels, n_classes, input_offset)[3]
    res = pgd(net, X, labels, n_classes, epsilon, norm=norm, steps=steps, bounds=bounds,
              seed=seed, input_offset=input_offset)
    accuracy = float(np.mean((res.status != MISCLASSIFIED) & ~res.success))
    chance = 1.0 / C
    return {"accuracy": accuracy, "chance": chance, "passed": accuracy <= chance,
            "result": res}


class InputPlacement:
    """The initial states of inputs X (N, m) that begin at component `offset` (zeros before
    them)."""

    def __init__(self, offset):
        self.offset = offset

    def __call__(self, X):
        return place_inputs(X, self.offset)


def attack_args(net, X, labels, n_classes, input_offset=None):
    """(net, X, labels, C, place) of an attack, checked (place: X's initial states): from a
    network with `n_classes`, or from a fitted classifier (its network, classes and layout;
    `labels` its class labels)."""
    classes = None
    if hasattr(net, "net_") and hasattr(net, "input_offset_"):  # (a fitted estimator)
        if not hasattr(net, "classes_"):
            raise ValueError("the attacks need a classifier; got a regressor")
        classes = np.asarray(net.classes_)
        if n_classes is not None and check_int(n_classes, "n_classes", 2) != len(classes):
            raise ValueError(f"n_classes = {n_classes} does not fit the classifier's "
                             f"{len(classes)} classes")
        n_classes = len(classes)
        input_offset = net.input_offset_ if input_offset is None else input_offset
        net = net.net_
    net = checked_net(net)
    if n_classes is None:
        raise ValueError("n_classes is required with a network (a fitted SNODEClassifier "
                         "gives its own)")
    offset = check_int(0 if input_offset is None else input_offset, "input_offset", 0)
    if offset >= net.width:
        raise ValueError(f"input_offset {offset} must be below the width {net.width}")
    X = net.check_inputs(X)
    if X.shape[1] > net.width - offset:
        raise ValueError(f"X has {X.shape[1]} columns: from input_offset {offset} they pass "
                         f"the width {net.width}")
    C = check_int(n_classes, "n_classes", 2)
    if C > net.width:
        raise ValueError(f"n_classes = {C} exceeds the width {net.width}")
    if classes is not None:
        labels = class_indices(labels, classes, X.shape[0])
    return net, X, int_labels(labels, X.shape[0], C, "labels"), C, InputPlacement(offset)


def class_indices(labels, classes, N, name="labels"):
    """The indices in `classes` (sorted, a classifier's ``classes_``) of class labels (N,)."""
    a = np.asarray(labels)
    if a.shape != (N,):
        raise ValueError(f"{name} must have shape ({N},), got {a.shape}")
    try:
        idx = np.searchsorted(classes, a)
        found = (idx < len(classes)) & (classes[np.minimum(idx, len(classes) - 1)] == a)
    except TypeError:
        found = np.zeros(N, dtype=bool)
    if not found.all():
        raise ValueError(f"{name} hold values that are not the classifier's classes "
                         f"{classes.tolist()}: {np.unique(a[~found])[:5].tolist()}")
    return idx.astype(np.int64)


def int_labels(values, N, C, name):
    """Integer labels (N,) in [0, C), checked: int64."""
    a = np.asarray(values)
    if a.shape != (N,) or a.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integers of shape ({N},), got {a.dtype} {a.shape}")
    if N and (a.min() < 0 or a.max() >= C):
        raise ValueError(f"{name} must lie in [0, {C}), got values from {a.min()} to "
                         f"{a.max()}")
    return a.astype(np.int64)
