"""Sensitivity and uncertainty: how a trained network's output moves when its weights are
perturbed (the linearisation and its range of validity, the output's covariance under weight
noise) and how smooth the weights are over depth. Every function runs the network's sweeps
(forward, sensitivity) and never forms the Jacobian of the output with respect to all the
weights; docs/method.md, section 10. A float32 network is analysed as a float64 copy at its
weights: the perturbations these tools compare can be smaller than float32's rounding (a
Monte Carlo estimate at a weight noise of 1e-9 would see none of it).

References
----------
.. [1] G. Baravdish et al., "Learning via nonlinear conjugate gradients and depth-varying
   neural ODEs", arXiv:2202.05766, 2022 (the sensitivity problem).
.. [2] M. F. Hutchinson, "A stochastic estimator of the trace of the influence matrix for
   Laplacian smoothing splines", Communications in Statistics - Simulation and Computation
   19(2), 433-450, 1990 (estimates from random probes).
"""
from dataclasses import dataclass

from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import as_float_array, check_bool, check_int, check_real
from .common import checked_net, finite_or_raise, seeded_rng

__all__ = ["PerturbationResponse", "perturbation_response", "output_covariance",
           "monte_carlo_covariance", "NoiseSweep", "noise_sweep", "smoothness"]


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



def perturbation_response(net: Any, X: ArrayLike, dW: ArrayLike, db: ArrayLike,
                          sizes: ArrayLike) -> "PerturbationResponse":
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

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=3, n_steps=10, seed=0)
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> dW, db = np.ones_like(net.W), np.zeros_like(net.b)
    >>> r = snode.analysis.perturbation_response(net, X, dW, db, [1e-4, 1e-3])
    >>> r.actual.shape, bool(r.error[0] < r.error[1])       # second order: smaller at 1e-4
    ((2, 20, 3), True)
    """
    net = checked_net(net, float64=True)
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
        finite_or_raise(np.array([np.abs(p[0]).max() + np.abs(p[1]).max() for p in perturbed]),
                "the perturbed weights")
        actual = finite_or_raise(np.stack([net.forward(X, params=p) - x0 for p in perturbed]),
                         "the change of the output")
        predicted = finite_or_raise(sizes[:, None, None] * xi[None], "the predicted change")
        diff = (actual - predicted).reshape(len(sizes), -1)
        top = np.abs(diff).max(axis=1, initial=0.0)
        unit = np.where(top > 0, top, 1.0)
        error = finite_or_raise(top * np.linalg.norm(diff / unit[:, None], axis=1),
                        "the linearisation's error")
    return PerturbationResponse(sizes=sizes, actual=actual, predicted=predicted, error=error)


def output_covariance(net: Any, X: Any, sigma: float, *, probes: Optional[int] = None,
                      seed: Any = None, diagonal: bool = False) -> NDArray[np.float64]:
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

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> std = snode.analysis.output_covariance(clf.net_, clf.initial_state(X[:5]), sigma=1e-3,
    ...                                        diagonal=True)
    >>> std.shape
    (5, 4)
    """
    net = checked_net(net, float64=True)
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
        rng = seeded_rng(seed)
        for _ in range(count):
            xi = net.sensitivity(X, rng.standard_normal((K, d, d)), rng.standard_normal((K, d)))
            acc += xi[:, :, None] * xi[:, None, :]
    diagonal = check_bool(diagonal, "diagonal")
    with np.errstate(over="ignore", invalid="ignore"):
        cov: NDArray[np.float64] = finite_or_raise((sigma * sigma / count) * acc,
                                                   "the output covariance")
    if diagonal:
        std: NDArray[np.float64] = np.sqrt(np.einsum("nii->ni", cov))
        return std
    return cov


def monte_carlo_covariance(net: Any, X: Any, sigma: float, samples: int = 200, *,
                           seed: Any = None, diagonal: bool = False) -> NDArray[np.float64]:
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

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> std = snode.analysis.monte_carlo_covariance(clf.net_, clf.initial_state(X[:5]), 1e-3,
    ...                                             samples=50, seed=0, diagonal=True)
    >>> std.shape
    (5, 4)
    """
    net = checked_net(net, float64=True)
    X = net.check_inputs(X)
    sigma = check_real(sigma, "sigma", minimum=0.0)
    samples = check_int(samples, "samples", 2)
    diagonal = check_bool(diagonal, "diagonal")
    rng = seeded_rng(seed)
    W, b = net.get_params()
    N, d = X.shape[0], net.width
    mean, m2 = np.zeros((N, d)), np.zeros((N, d, d))
    for k in range(1, samples + 1):  # Welford's update, one draw at a time
        x = net.forward(X, params=(W + sigma * rng.standard_normal(W.shape),
                                   b + sigma * rng.standard_normal(b.shape)))
        delta = x - mean
        mean += delta / k
        m2 += delta[:, :, None] * (x - mean)[:, None, :]
    cov: NDArray[np.float64] = m2 / (samples - 1)
    if diagonal:
        std: NDArray[np.float64] = np.sqrt(np.maximum(np.einsum("nii->ni", cov), 0.0))
        return std
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


def noise_sweep(net: Any, X: ArrayLike, sigmas: ArrayLike, *, samples: int = 200,
                tol: float = 0.2, seed: Any = None) -> "NoiseSweep":
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

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> sweep = snode.analysis.noise_sweep(clf.net_, clf.initial_state(X[:20]), [1e-3, 1.0],
    ...                                    samples=50, seed=0)
    >>> sweep.linearized.shape, bool(sweep.discrepancy[0] < sweep.discrepancy[1])
    ((2, 20, 4), True)
    """
    net = checked_net(net, float64=True)
    X = net.check_inputs(X)
    sigmas = as_float_array(np.atleast_1d(np.asarray(sigmas, dtype=float)), "sigmas", ndim=1)
    if sigmas.size == 0 or not (sigmas > 0).all() or not (np.diff(sigmas) > 0).all():
        raise ValueError(f"sigmas must be positive and ascending, got {sigmas}")
    tol = check_real(tol, "tol", minimum=0.0, strict=True)
    unit = output_covariance(net, X, 1.0, diagonal=True)
    with np.errstate(over="ignore", invalid="ignore"):
        lin = finite_or_raise(sigmas[:, None, None] * unit[None], "the linearised spread")
    rng = seeded_rng(seed)
    mc = np.stack([monte_carlo_covariance(net, X, s, samples, seed=rng.integers(2**63),
                                          diagonal=True) for s in sigmas])
    with np.errstate(over="ignore", invalid="ignore"):
        scale = np.linalg.norm(lin.reshape(len(sigmas), -1), axis=1)
        disc = finite_or_raise(np.linalg.norm((mc - lin).reshape(len(sigmas), -1), axis=1)
                       / np.where(scale > 0, scale, 1.0), "the discrepancy")
    over = np.flatnonzero(disc > tol)
    return NoiseSweep(sigmas=sigmas, linearized=lin, monte_carlo=mc, discrepancy=disc,
                      tol=tol, limit=float(sigmas[over[0]]) if over.size else np.inf)


def smoothness(net: Any, X: Any = None, *, probes: int = 16,
               seed: Any = None) -> dict[str, Any]:
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
        output directions v (``E |J^T v|^2 = |J|_F^2`` [2]).

    Raises
    ------
    ValueError
        For malformed inputs or probes < 1.

    Examples
    --------
    >>> import snode
    >>> s = snode.analysis.smoothness(snode.SNODE(width=3, n_steps=10, seed=0))
    >>> sorted(s)
    ['h1_seminorm', 'total_variation']
    """
    net = checked_net(net, float64=True)
    probes = check_int(probes, "probes", 1)
    W, b = net.W, net.b
    dW, db = np.diff(W, axis=0), np.diff(b, axis=0)
    out = {"total_variation": float(np.abs(dW).sum() + np.abs(db).sum()),
           "h1_seminorm": float(np.sqrt((np.sum(dW * dW) + np.sum(db * db)) / net.h))}
    if X is not None:
        X = net.check_inputs(X)
        rng = seeded_rng(seed)
        acc = np.zeros(net.n_steps)
        for _ in range(probes):
            gW, gb, _ = net.adjoint(X, rng.standard_normal((X.shape[0], net.width)))
            acc += np.einsum("kij,kij->k", gW, gW) + np.einsum("ki,ki->k", gb, gb)
        out["step_sensitivity"] = np.sqrt(acc / probes / X.shape[0])
    return out
