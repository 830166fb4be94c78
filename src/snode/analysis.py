"""What the sensitivity problem tells about a trained network: how its output moves when the
weights are perturbed (the linearisation and its range of validity, the output's uncertainty
under weight noise) and how smooth the weights are over depth.

Every function here runs the network's sweeps (forward, sensitivity, adjoint) and never forms
the Jacobian of the output with respect to all the weights. The formulas are in the
repository's docs/method.md (section 10, sensitivity analysis).

References
----------
.. [1] G. Baravdish et al., "Learning via nonlinear conjugate gradients and depth-varying
   neural ODEs", arXiv:2202.05766, 2022 (the sensitivity problem).
.. [3] S.-M. Moosavi-Dezfooli, A. Fawzi, P. Frossard, "DeepFool: a simple and accurate method
   to fool deep neural networks", CVPR 2016, arXiv:1511.04599.
.. [4] A. Madry, A. Makelov, L. Schmidt, D. Tsipras, A. Vladu, "Towards deep learning models
   resistant to adversarial attacks", ICLR 2018, arXiv:1706.06083 (projected gradient
   descent).
.. [5] A. Athalye, N. Carlini, D. Wagner, "Obfuscated gradients give a false sense of
   security", ICML 2018, arXiv:1802.00420 (checks for masked gradients).
.. [2] M. F. Hutchinson, "A stochastic estimator of the trace of the influence matrix for
   Laplacian smoothing splines", Communications in Statistics - Simulation and Computation
   19(2), 433-450, 1990 (estimates from random probes).
"""
from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, check_bool, check_int, check_real
from .exceptions import NonFiniteError
from .cost import Cost
from .model import SNODE, output_loss, place_inputs

__all__ = ["PerturbationResponse", "perturbation_response", "output_covariance",
           "monte_carlo_covariance", "NoiseSweep", "noise_sweep", "smoothness",
           "AttackResult", "deepfool", "robust_accuracy", "pgd", "masking_check"]


@dataclass(frozen=True)
class PerturbationResponse:
    """The output's change under scaled weight perturbations, actual and linearised.

    Attributes
    ----------
    sizes : ndarray, shape (S,)
    actual : ndarray, shape (S, N, width)
        ``x(T; W + s dW, b + s db) - x(T; W, b)`` for each size s.
    predicted : ndarray, shape (S, N, width)
        ``s xi(T)``, the sensitivity sweep's prediction.
    error : ndarray, shape (S,)
        The linearisation's error per size, ``|actual - predicted|`` over all samples and
        components (Frobenius norm); it falls like s^2.
    """

    sizes: np.ndarray
    actual: np.ndarray
    predicted: np.ndarray
    error: np.ndarray


def _rng(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise ValueError(f"seed must be None or an integer >= 0, got {seed!r}")
    return np.random.default_rng(seed)


def _bounds(bounds, X):
    """(low, high) of the box of valid inputs, checked, and X inside it."""
    if bounds is None:
        return -np.inf, np.inf
    try:
        lo, hi = bounds
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be (low, high), got {bounds!r}") from None
    lo, hi = check_real(lo, "bounds"), check_real(hi, "bounds")
    if not lo < hi:
        raise ValueError(f"bounds must be (low, high) with low < high, got {bounds}")
    if (X < lo).any() or (X > hi).any():
        raise ValueError(f"X has values outside the bounds {bounds}")
    return lo, hi


def _finite(a, what):
    if not np.isfinite(a).all():
        raise NonFiniteError(f"{what} overflows (not finite); use a smaller noise or size")
    return a


def _check_net(net):
    if not isinstance(net, SNODE):
        raise ValueError(f"net must be an snode.SNODE, got {type(net).__name__}")
    return net


def perturbation_response(net, X, dW, db, sizes):
    """The actual and the predicted change of x(T) under the weight perturbation s (dW, db).

    Parameters
    ----------
    net : SNODE
    X : array_like, shape (N, m)
        Inputs (m <= width; zero-padded).
    dW : array_like, shape (n_steps, width, width), or None for zeros
    db : array_like, shape (n_steps, width), or None for zeros
    sizes : array_like of float, shape (S,)
        The scales s of the perturbation (any sign; 0 gives zero change).

    Returns
    -------
    PerturbationResponse
        ``actual`` and ``predicted``, each (S, N, width).

    Raises
    ------
    ValueError
        For malformed inputs or directions, or sizes that are not finite.
    NonFiniteError
        If a perturbed forward sweep overflows.

    Notes
    -----
    The difference ``actual - predicted`` is O(s^2) (the sensitivity is the exact derivative
    of the discrete output); docs/method.md, section 5.
    """
    net = _check_net(net)
    X = net.check_inputs(X)
    dW, db = net.check_direction((dW, db))
    sizes = as_float_array(np.atleast_1d(np.asarray(sizes, dtype=float)), "sizes", ndim=1)
    if sizes.size == 0:
        raise ValueError("sizes is empty")
    W, b = net.get_params()
    x0 = net.forward(X)
    xi = net.sensitivity(X, dW, db)
    with np.errstate(over="ignore", invalid="ignore"):
        perturbed = [(W + s * dW, b + s * db) for s in sizes]
        _finite(np.array([np.abs(p[0]).max() + np.abs(p[1]).max() for p in perturbed]),
                "the perturbed weights")
        actual = _finite(np.stack([net.forward(X, params=p) - x0 for p in perturbed]),
                         "the change of the output")
        predicted = _finite(sizes[:, None, None] * xi[None], "the predicted change")
        diff = (actual - predicted).reshape(len(sizes), -1)
        top = np.abs(diff).max(axis=1, initial=0.0)
        unit = np.where(top > 0, top, 1.0)
        error = _finite(top * np.linalg.norm(diff / unit[:, None], axis=1),
                        "the linearisation's error")
    return PerturbationResponse(sizes=sizes, actual=actual, predicted=predicted, error=error)


def output_covariance(net, X, sigma, *, probes=None, seed=None, diagonal=False):
    """The linearised covariance of x(T) under independent Gaussian noise on every weight.

    With weights ``theta + sigma eps``, eps ~ N(0, I), the linearised output of sample n is
    ``x_n(T) + sigma J_n eps`` (J_n = dx_n(T)/dtheta), so its covariance is
    ``sigma^2 J_n J_n^T = sigma^2 sum_j xi_n^(j) xi_n^(j)T`` over the unit directions j of
    the weights, xi^(j) the sensitivity sweep along direction j.

    Parameters
    ----------
    net : SNODE
    X : array_like, shape (N, m)
    sigma : float >= 0
        Standard deviation of the noise on each weight (the units of W and b).
    probes : int or None
        None: exact, one sensitivity sweep per weight (n_steps (width^2 + width) sweeps over
        the N inputs). An int M: the unbiased estimate ``sigma^2 / M sum_m xi^(m) xi^(m)T``
        over M random directions with N(0, 1) entries (M sweeps) [2].
    seed : int or None
        Seed of the random directions.
    diagonal : bool
        Return the per-component standard deviations, shape (N, width), instead of the
        covariances, shape (N, width, width).

    Returns
    -------
    ndarray, shape (N, width, width), or (N, width) with `diagonal`

    Raises
    ------
    ValueError
        For malformed inputs, a negative or non-finite sigma, or probes < 1.
    NonFiniteError
        If the covariance overflows (sigma too large).

    See Also
    --------
    monte_carlo_covariance : the same from perturbed forward sweeps, to check where the
        linearisation holds.
    """
    net = _check_net(net)
    X = net.check_inputs(X)
    sigma = check_real(sigma, "sigma", minimum=0.0)
    K, d = net.n_steps, net.width
    N = X.shape[0]
    acc = np.zeros((N, d, d))
    if probes is None:
        dW, db = np.zeros((K, d, d)), np.zeros((K, d))
        for flat in (dW.reshape(-1), db.reshape(-1)):
            for j in range(flat.size):
                flat[j] = 1.0
                xi = net.sensitivity(X, dW, db)
                acc += xi[:, :, None] * xi[:, None, :]
                flat[j] = 0.0
        count = 1
    else:
        count = check_int(probes, "probes", 1)
        rng = _rng(seed)
        for _ in range(count):
            xi = net.sensitivity(X, rng.standard_normal((K, d, d)), rng.standard_normal((K, d)))
            acc += xi[:, :, None] * xi[:, None, :]
    diagonal = check_bool(diagonal, "diagonal")
    with np.errstate(over="ignore", invalid="ignore"):
        cov = _finite((sigma * sigma / count) * acc, "the output covariance")
    if diagonal:
        return np.sqrt(np.einsum("nii->ni", cov))
    return cov


def monte_carlo_covariance(net, X, sigma, samples=200, *, seed=None, diagonal=False):
    """The covariance of x(T) under Gaussian weight noise, from perturbed forward sweeps.

    Parameters
    ----------
    net : SNODE
    X : array_like, shape (N, m)
    sigma : float >= 0
        Standard deviation of the noise on each weight.
    samples : int >= 2
        Noise draws (one forward sweep each).
    seed : int or None
    diagonal : bool
        Per-component standard deviations (N, width) instead of covariances.

    Returns
    -------
    ndarray, shape (N, width, width), or (N, width) with `diagonal`
        The sample covariance (divided by samples - 1) of the outputs.

    Raises
    ------
    ValueError
        For malformed inputs, a negative sigma, or samples < 2.
    NonFiniteError
        If a perturbed forward sweep overflows.
    """
    net = _check_net(net)
    X = net.check_inputs(X)
    sigma = check_real(sigma, "sigma", minimum=0.0)
    samples = check_int(samples, "samples", 2)
    diagonal = check_bool(diagonal, "diagonal")
    rng = _rng(seed)
    W, b = net.get_params()
    N, d = X.shape[0], net.width
    mean, m2 = np.zeros((N, d)), np.zeros((N, d, d))
    for k in range(1, samples + 1):  # Welford's update, one draw at a time
        x = net.forward(X, params=(W + sigma * rng.standard_normal(W.shape),
                                   b + sigma * rng.standard_normal(b.shape)))
        delta = x - mean
        mean += delta / k
        m2 += delta[:, :, None] * (x - mean)[:, None, :]
    cov = m2 / (samples - 1)
    if diagonal:
        return np.sqrt(np.maximum(np.einsum("nii->ni", cov), 0.0))
    return cov


@dataclass(frozen=True)
class NoiseSweep:
    """The linearised and the Monte Carlo output spread over noise levels.

    Attributes
    ----------
    sigmas : ndarray, shape (L,)
    linearized, monte_carlo : ndarray, shape (L, N, width)
        Per-component standard deviations of x(T).
    discrepancy : ndarray, shape (L,)
        ``|monte_carlo - linearized| / |linearized|`` (Frobenius norms over samples and
        components) per level.
    tol : float
    limit : float
        The smallest level whose discrepancy exceeds `tol` (where the two part); inf when none
        does.
    """

    sigmas: np.ndarray
    linearized: np.ndarray
    monte_carlo: np.ndarray
    discrepancy: np.ndarray
    tol: float
    limit: float


def noise_sweep(net, X, sigmas, *, samples=200, tol=0.2, seed=None):
    """Where the linearised uncertainty stops describing the network: the per-component
    standard deviation of x(T) under Gaussian weight noise, linearised (exact, from
    sensitivity sweeps; it scales with sigma) beside Monte Carlo, for each noise level.

    Parameters
    ----------
    net : SNODE
    X : array_like, shape (N, m)
    sigmas : array_like of float > 0, shape (L,)
        Noise levels, ascending.
    samples : int >= 2
        Monte Carlo draws per level. Their sampling error in a standard deviation is about
        1/sqrt(2 samples) relative: keep `tol` well above it.
    tol : float > 0
        The relative discrepancy at which the two are said to part.
    seed : int or None

    Returns
    -------
    NoiseSweep

    Raises
    ------
    ValueError
        For malformed inputs, levels that are not positive and ascending, or tol <= 0.
    NonFiniteError
        If a level is so large that the spreads overflow.
    """
    net = _check_net(net)
    X = net.check_inputs(X)
    sigmas = as_float_array(np.atleast_1d(np.asarray(sigmas, dtype=float)), "sigmas", ndim=1)
    if sigmas.size == 0 or not (sigmas > 0).all() or not (np.diff(sigmas) > 0).all():
        raise ValueError(f"sigmas must be positive and ascending, got {sigmas}")
    tol = check_real(tol, "tol", minimum=0.0, strict=True)
    unit = output_covariance(net, X, 1.0, diagonal=True)
    with np.errstate(over="ignore", invalid="ignore"):
        lin = _finite(sigmas[:, None, None] * unit[None], "the linearised spread")
    rng = _rng(seed)
    mc = np.stack([monte_carlo_covariance(net, X, s, samples, seed=rng.integers(2**63),
                                          diagonal=True) for s in sigmas])
    with np.errstate(over="ignore", invalid="ignore"):
        scale = np.linalg.norm(lin.reshape(len(sigmas), -1), axis=1)
        disc = _finite(np.linalg.norm((mc - lin).reshape(len(sigmas), -1), axis=1)
                       / np.where(scale > 0, scale, 1.0), "the discrepancy")
    over = np.flatnonzero(disc > tol)
    return NoiseSweep(sigmas=sigmas, linearized=lin, monte_carlo=mc, discrepancy=disc,
                      tol=tol, limit=float(sigmas[over[0]]) if over.size else np.inf)


def smoothness(net, X=None, *, probes=16, seed=None):
    """How the weights vary over depth, and (with inputs) how strongly each step's weights
    move the output.

    Parameters
    ----------
    net : SNODE
    X : array_like, shape (N, m), optional
        Inputs for the per-step sensitivity.
    probes : int >= 1
        Random output directions of the per-step sensitivity's estimate.
    seed : int or None

    Returns
    -------
    dict
        ``total_variation``: sum over steps of ``|W_{i+1} - W_i| + |b_{i+1} - b_i|`` (entry
        sums); ``h1_seminorm``: ``sqrt(sum_i (|W_{i+1} - W_i|^2 + |b_{i+1} - b_i|^2) / h)``,
        the discrete H1 seminorm of t -> (W(t), b(t)); with X also ``step_sensitivity``,
        shape (n_steps,): for each step i the root mean square over samples of the Frobenius
        norm of dx_n(T)/d(W_i, b_i), estimated from `probes` adjoint sweeps with random
        output directions v (E |J^T v|^2 = |J|_F^2 [2]).

    Raises
    ------
    ValueError
        For malformed inputs or probes < 1.
    """
    net = _check_net(net)
    probes = check_int(probes, "probes", 1)
    W, b = net.W, net.b
    dW, db = np.diff(W, axis=0), np.diff(b, axis=0)
    out = {"total_variation": float(np.abs(dW).sum() + np.abs(db).sum()),
           "h1_seminorm": float(np.sqrt((np.sum(dW * dW) + np.sum(db * db)) / net.h))}
    if X is not None:
        X = net.check_inputs(X)
        rng = _rng(seed)
        acc = np.zeros(net.n_steps)
        for _ in range(probes):
            gW, gb, _ = net.adjoint(X, rng.standard_normal((X.shape[0], net.width)))
            acc += np.einsum("kij,kij->k", gW, gW) + np.einsum("ki,ki->k", gb, gb)
        out["step_sensitivity"] = np.sqrt(acc / probes / X.shape[0])
    return out


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


def _classes(net, X, C):
    return net.forward(X)[:, :C].argmax(axis=1)


def deepfool(net, X, labels, n_classes, targeted=None, kappa=0.975, step=1.0, max_iter=30,
             bounds=None, norm=2, input_offset=0, refine=20):
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
    always on the changed side, re-checked by a forward sweep). On moons, a trained
    network's class flipped at a median of 10 % of the unrefined perturbation.

    Parameters
    ----------
    net : SNODE
    X : array_like, shape (N, m)
        Inputs, as the network sees them (scaled).
    labels : array_like of int, shape (N,)
        True classes in [0, n_classes).
    n_classes : int
        C; the scores are the first C outputs.
    targeted : array_like of int, shape (N,), or None
        Target classes (None: untargeted). A sample whose label is its target is not
        attacked (status "failed" unless misclassified).
    kappa : float in (0, 1]
        The total perturbation is divided by kappa.
    step : float in (0, 1]
        Fraction of each linearised step taken.
    max_iter : int >= 1
    bounds : (float, float) or None
        The box of valid inputs; x_adv stays inside it.
    norm : {2, inf}
    input_offset : int >= 0
        The state's component where the inputs begin: x(0) is zero before it (an
        estimator's ``input_offset_``; X are then its scaled inputs, ``scaler_.transform``).
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
    """
    net, X, labels, C, place = _attack_args(net, X, labels, n_classes, input_offset)
    N, m = X.shape
    target = None if targeted is None else _int_labels(targeted, N, C, "targeted")
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
    lo, hi = _bounds(bounds, X)

    original = _classes(net, place(X), C)
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
        now = _classes(net, place(x_adv[idx]), C)
        done = now == best if target is not None else now != labels[idx]
        active[idx[done | ~ok]] = False

    final = _classes(net, place(x_adv), C)  # every success is re-checked here
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
            c = _classes(net, place(X[idx] + t[:, None] * d), C)
            return (c != labels[idx] if target is None else c == target[idx]), c

        for _ in range(refine):
            mid = 0.5 * (t_in + t_out)
            ok, _ = changed(mid)
            t_out, t_in = np.where(ok, mid, t_out), np.where(ok, t_in, mid)
        ok, c = changed(t_out)  # (re-checked at the point kept)
        keep = idx[ok]
        x_adv[keep] = X[keep] + t_out[ok, None] * d[ok]
        final[keep] = c[ok]
    x_adv[~success] = X[~success]
    final[~success] = original[~success]
    diff = x_adv - X
    dist = (np.abs(diff).max(axis=1) if norm == np.inf else np.linalg.norm(diff, axis=1))
    status = np.where(~attacked, MISCLASSIFIED, np.where(success, ATTACKED, FAILED))
    return AttackResult(x_adv=x_adv, norm=dist, success=success, original=original,
                        final=final, status=status, norm_kind=float(norm))


def robust_accuracy(result, epsilons):
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


def _input_grad(net, X, labels, C, place):
    """d CE / d x(0) per sample at the inputs' components (N, m): one forward and one adjoint
    sweep."""
    x0 = place(X)
    out = net.forward(x0)
    _, lam = output_loss(out, Cost(mse=0.0, ce=1.0, n_classes=C), labels=labels, scale=1.0,
                         grad=True)
    return net.adjoint(x0, lam)[2][:, place.offset:place.offset + X.shape[1]]


def pgd(net, X, labels, n_classes, epsilon, *, norm=np.inf, steps=40, step_size=None,
        bounds=None, random_start=True, seed=None, input_offset=0):
    """Projected gradient ascent on the cross-entropy within an epsilon-ball: the iterative
    attack of [4], stronger than one linearisation at a fixed budget.

    Each step moves every sample along the sign of its input gradient (L-infinity) or the
    normalised gradient (L2) by `step_size`, then projects back onto the epsilon-ball around
    the input and into `bounds`. The input gradient comes from a forward and an adjoint sweep.

    Parameters
    ----------
    net : SNODE
    X : array_like, shape (N, m)
    labels : array_like of int, shape (N,)
    n_classes : int
    epsilon : float >= 0
        Radius of the ball, in `norm`.
    norm : {inf, 2}
    steps : int >= 1
    step_size : float > 0, optional
        Default 2.5 epsilon / steps.
    bounds : (float, float), optional
    random_start : bool
        Start at a uniform point of the L-infinity ball (L2: of the L2 ball's cube, projected).
    seed : int or None
    input_offset : int >= 0
        As for :func:`deepfool`.

    Returns
    -------
    AttackResult
        As for :func:`deepfool`; successes re-checked by a forward sweep.

    Raises
    ------
    ValueError
        For malformed inputs or parameters out of range.
    """
    net, X, labels, C, place = _attack_args(net, X, labels, n_classes, input_offset)
    eps = check_real(epsilon, "epsilon", minimum=0.0)
    if norm not in (2, np.inf):
        raise ValueError(f"norm must be 2 or np.inf, got {norm!r}")
    steps = check_int(steps, "steps", 1)
    alpha = 2.5 * eps / steps if step_size is None else check_real(
        step_size, "step_size", minimum=0.0, strict=True)
    lo, hi = _bounds(bounds, X)
    random_start = check_bool(random_start, "random_start")
    rng = _rng(seed)

    def project(x):
        delta = x - X
        if norm == np.inf:
            delta = np.clip(delta, -eps, eps)
        else:
            n = np.linalg.norm(delta, axis=1, keepdims=True)
            delta = delta * np.minimum(1.0, eps / np.where(n > 0, n, 1.0))
        return np.clip(X + delta, lo, hi)

    original = _classes(net, place(X), C)
    x = project(X + rng.uniform(-eps, eps, X.shape)) if (random_start and eps > 0) else X.copy()
    if eps > 0:
        for _ in range(steps):
            g = _input_grad(net, x, labels, C, place)
            if norm == np.inf:
                move = np.sign(g)
            else:
                n = np.linalg.norm(g, axis=1, keepdims=True)
                move = g / np.where(n > 0, n, 1.0)
            x = project(x + alpha * move)
    final = _classes(net, place(x), C)
    attacked = original == labels
    success = attacked & (final != labels)
    x[~success] = X[~success]
    final[~success] = original[~success]
    diff = x - X
    dist = np.abs(diff).max(axis=1) if norm == np.inf else np.linalg.norm(diff, axis=1)
    status = np.where(~attacked, MISCLASSIFIED, np.where(success, ATTACKED, FAILED))
    return AttackResult(x_adv=x, norm=dist, success=success, original=original, final=final,
                        status=status, norm_kind=float(norm))


def masking_check(net, X, labels, n_classes, epsilon, *, norm=np.inf, steps=100,
                  bounds=None, seed=None, input_offset=0):
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
    """
    res = pgd(net, X, labels, n_classes, epsilon, norm=norm, steps=steps, bounds=bounds,
              seed=seed, input_offset=input_offset)
    accuracy = float(np.mean((res.status != MISCLASSIFIED) & ~res.success))
    chance = 1.0 / check_int(n_classes, "n_classes", 2)
    return {"accuracy": accuracy, "chance": chance, "passed": accuracy <= chance,
            "result": res}


class _Place:
    """The initial states of inputs X (N, m) that begin at component `offset` (zeros before
    them)."""

    def __init__(self, offset):
        self.offset = offset

    def __call__(self, X):
        return place_inputs(X, self.offset)


def _attack_args(net, X, labels, n_classes, input_offset=0):
    """(net, X, labels, C, place) of an attack, checked (place: X's initial states)."""
    net = _check_net(net)
    offset = check_int(input_offset, "input_offset", 0)
    if offset >= net.width:
        raise ValueError(f"input_offset {offset} must be below the width {net.width}")
    X = net.check_inputs(X)
    if X.shape[1] > net.width - offset:
        raise ValueError(f"X has {X.shape[1]} columns: from input_offset {offset} they pass "
                         f"the width {net.width}")
    C = check_int(n_classes, "n_classes", 2)
    if C > net.width:
        raise ValueError(f"n_classes = {C} exceeds the width {net.width}")
    return net, X, _int_labels(labels, X.shape[0], C, "labels"), C, _Place(offset)


def _int_labels(values, N, C, name):
    a = np.asarray(values)
    if a.shape != (N,) or a.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integers of shape ({N},), got {a.dtype} {a.shape}")
    if N and (a.min() < 0 or a.max() >= C):
        raise ValueError(f"{name} must lie in [0, {C}), got values from {a.min()} to "
                         f"{a.max()}")
    return a.astype(np.int64)
