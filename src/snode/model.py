"""The standalone neural ODE: x' = s(W(t) x + b(t)) on [0, T] (shared MATH.md sections 1-2, 5)."""
import math

import numpy as np

from . import _kernels
from ._validate import as_float_array, check_int, check_real, check_threads
from .schemes import get_tableau

__all__ = ["SNODE", "ACTIVATIONS", "INITS"]

#: Activation names and their codes in the C core.
ACTIVATIONS = {"tanh": 0, "sigmoid": 1, "relu": 2, "leaky_relu": 3, "elu": 4, "softplus": 5,
               "identity": 6}
#: Initialisations of the weights.
INITS = ("smooth", "normal", "zeros")
_MEMORY = ("store", "recompute")


class SNODE:
    """A standalone neural ODE with depth-varying weights.

    The network is the ODE ``x'(t) = s(W(t) x(t) + b(t))`` on ``[0, T]``, its input the initial
    state (zero-padded to `width`) and its output ``x(T)``. Depth is cut into `n_steps` equal
    steps of length ``h = T / n_steps``; the weights are constant on each step and the ODE is
    integrated by an explicit Runge-Kutta scheme.

    Parameters
    ----------
    width : int
        Dimension d of the state.
    n_steps : int
        Number of depth steps K.
    T : float, default 1.0
        Final time (depth).
    scheme : str, Tableau or (a, b), default "rk4"
        "euler", "heun", "midpoint", "rk4", or any explicit Butcher tableau.
    activation : str, default "tanh"
        One of ``ACTIVATIONS``: tanh, sigmoid, relu, leaky_relu (slope 0.01), elu, softplus,
        identity.
    init : {"smooth", "normal", "zeros"}, default "smooth"
        "smooth": normal draws (standard deviation 1/d) at the integer times 0..ceil(T),
        interpolated to the step times by a cubic spline (the authors' initialisation);
        "normal": independent draws with standard deviation 1/d at every step; "zeros".
    seed : int, numpy Generator or None
        Seed of the initialisation.
    n_threads : int or None, keyword-only
        Threads the sweeps split a batch over; None uses every CPU this process may run on.
        Results do not depend on it beyond rounding.
    memory : {"store", "recompute"}, keyword-only, default "store"
        "store" keeps the state and the stage values of every step for the adjoint
        ((S + 1) K N d numbers for S stages); "recompute" keeps only the states (K N d) and
        recomputes each step's stages going back, at the price of one more forward sweep.

    Attributes
    ----------
    W : ndarray, shape (n_steps, width, width)
        Weights, float64, writable.
    b : ndarray, shape (n_steps, width)
        Biases, float64, writable.
    h : float
        Step length T / n_steps.
    tableau : Tableau
        The Runge-Kutta scheme.
    """

    def __init__(self, width, n_steps, T=1.0, scheme="rk4", activation="tanh", init="smooth",
                 seed=None, *, n_threads=None, memory="store"):
        self._width = check_int(width, "width", minimum=1)
        self._n_steps = check_int(n_steps, "n_steps", minimum=1)
        self._T = check_real(T, "T", minimum=0.0, strict=True)
        self.tableau = get_tableau(scheme)
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of "
                             f"{sorted(ACTIVATIONS)}")
        self._activation = activation
        self.n_threads = n_threads
        self.memory = memory
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
        self._W, self._b = _initial_weights(self._width, self._n_steps, self._T, init, seed)

    # --- configuration -----------------------------------------------------------------------
    @property
    def width(self):
        return self._width

    @property
    def n_steps(self):
        return self._n_steps

    @property
    def T(self):
        return self._T

    @property
    def h(self):
        return self._T / self._n_steps

    @property
    def scheme(self):
        return self.tableau.name

    @property
    def activation(self):
        return self._activation

    @property
    def n_threads(self):
        return self._n_threads

    @n_threads.setter
    def n_threads(self, value):
        self._n_threads = None if value is None else check_threads(value)

    @property
    def memory(self):
        return self._memory

    @memory.setter
    def memory(self, value):
        if value not in _MEMORY:
            raise ValueError(f"memory must be one of {_MEMORY}, got {value!r}")
        self._memory = value

    @property
    def W(self):
        return self._W

    @W.setter
    def W(self, value):
        self._W = self._check_param(value, "W", (self._n_steps, self._width, self._width),
                                    allow_nonfinite=False)

    @property
    def b(self):
        return self._b

    @b.setter
    def b(self, value):
        self._b = self._check_param(value, "b", (self._n_steps, self._width),
                                    allow_nonfinite=False)

    def _check_param(self, value, name, shape, allow_nonfinite=True):
        arr = as_float_array(value, name, allow_nonfinite=allow_nonfinite)
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        if arr is value:  # keep the caller's array out of our state
            arr = arr.copy()
        return arr

    def __repr__(self):
        return (f"SNODE(width={self._width}, n_steps={self._n_steps}, T={self._T}, "
                f"scheme={self.scheme!r}, activation={self._activation!r})")

    def copy(self):
        """An independent copy (weights included)."""
        new = object.__new__(SNODE)
        new.__dict__.update(self.__dict__)
        new._W = self._W.copy()
        new._b = self._b.copy()
        return new

    def save(self, path, meta=None):
        """Write the network (and a JSON-serialisable `meta` dict) to `path`, atomically.

        Read it back with ``snode.load(path)``.
        """
        from . import io

        io.save(self, path, meta)

    # --- kernel plumbing ---------------------------------------------------------------------
    def _threads(self):
        return self._n_threads if self._n_threads is not None else check_threads(None)

    def _net_args(self):
        """(W, b, a, bw, act, h) for the kernels, after checking the weights."""
        W, b = self._W, self._b
        shape_W = (self._n_steps, self._width, self._width)
        if (not isinstance(W, np.ndarray) or W.shape != shape_W or W.dtype != np.float64
                or not W.flags.c_contiguous):
            W = self._check_param(W, "W", shape_W)
        if (not isinstance(b, np.ndarray) or b.shape != shape_W[:2] or b.dtype != np.float64
                or not b.flags.c_contiguous):
            b = self._check_param(b, "b", shape_W[:2])
        if not _kernels.all_finite(W, self._threads()):
            raise ValueError("the weights W contain NaN or Inf")
        if not _kernels.all_finite(b):
            raise ValueError("the biases b contain NaN or Inf")
        t = self.tableau
        return (W, b, t.a, t.b, ACTIVATIONS[self._activation], self.h)

    def _inputs(self, X, name="X"):
        X = as_float_array(X, name, ndim=2)
        if X.shape[0] < 1:
            raise ValueError(f"{name} is empty (no samples)")
        if X.shape[1] < 1 or X.shape[1] > self._width:
            raise ValueError(f"{name} has {X.shape[1]} features; it needs between 1 and the "
                             f"width {self._width} (inputs are zero-padded to the width)")
        return X

    def _direction(self, dW, db):
        d, K = self._width, self._n_steps
        dW = None if dW is None else self._check_param(dW, "dW", (K, d, d), allow_nonfinite=False)
        db = None if db is None else self._check_param(db, "db", (K, d), allow_nonfinite=False)
        return dW, db

    # --- sweeps ------------------------------------------------------------------------------
    def forward(self, X):
        """The output x(T).

        Parameters
        ----------
        X : array_like, shape (N, m), m <= width
            Inputs, zero-padded to the width.

        Returns
        -------
        ndarray, shape (N, width)
        """
        X = self._inputs(X)
        return _kernels.forward(*self._net_args(), X, self._threads())

    def trajectory(self, X):
        """The states at the step times t_i = i h, i = 0..n_steps.

        Returns
        -------
        ndarray, shape (n_steps + 1, N, width)
        """
        X = self._inputs(X)
        return _kernels.forward(*self._net_args(), X, self._threads(), True)

    def sensitivity(self, X, dW=None, db=None):
        """The linearised response xi(T) of the output to the weight direction (dW, db).

        ``forward(X)`` with weights ``(W + eps dW, b + eps db)`` equals
        ``forward(X) + eps * sensitivity(X, dW, db) + O(eps^2)``, exactly for the discrete
        scheme (MATH.md section 5).

        Parameters
        ----------
        X : array_like, shape (N, m)
        dW : array_like, shape (n_steps, width, width), or None for zero
        db : array_like, shape (n_steps, width), or None for zero

        Returns
        -------
        ndarray, shape (N, width)
        """
        X = self._inputs(X)
        dW, db = self._direction(dW, db)
        _, xi = _kernels.tangent(*self._net_args(), X, dW, db, 1, None, False, self._threads())
        return xi[:, 0, :]

    def input_jacobian(self, X):
        """The Jacobian dx(T)/dx(0) of the output with respect to the (padded) input.

        Returns
        -------
        ndarray, shape (N, width, width)
            ``J[n, i, j] = d x_i(T) / d x_j(0)`` for sample n.
        """
        X = self._inputs(X)
        d = self._width
        _, xi = _kernels.tangent(*self._net_args(), X, None, None, d, None, True,
                                 self._threads())
        return np.ascontiguousarray(xi.transpose(0, 2, 1))

    def adjoint(self, X, lam_T):
        """Back-propagate a given dJ/dx(T): returns (gW, gb, lam_0).

        For any cost J of the outputs with gradient ``lam_T = dJ/dx(T)``, this gives the exact
        gradient of J with respect to W (n_steps, width, width) and b (n_steps, width) and the
        gradient ``lam_0 = dJ/dx(0)`` (N, width) with respect to the padded inputs.
        """
        X = self._inputs(X)
        lam_T = as_float_array(lam_T, "lam_T", ndim=2)
        if lam_T.shape != (X.shape[0], self._width):
            raise ValueError(f"lam_T must have shape {(X.shape[0], self._width)}, "
                             f"got {lam_T.shape}")
        _, gW, gb, lam0, _, _ = _kernels.value_grad(
            *self._net_args(), X, None, None, lam_T, 0.0, 0.0, 0.0, 0, 1.0, self._threads(),
            self._memory == "recompute", True)
        return gW, gb, lam0


def _initial_weights(d, K, T, init, seed):
    rng = np.random.default_rng(seed)
    if init == "zeros":
        return np.zeros((K, d, d)), np.zeros((K, d))
    if init == "normal":
        return rng.normal(0.0, 1.0 / d, (K, d, d)), rng.normal(0.0, 1.0 / d, (K, d))
    # "smooth": draws at the integer times 0..ceil(T), cubic spline to the step times
    # (imported here: scipy.interpolate brings scipy's BLAS and its threads along)
    from scipy.interpolate import CubicSpline

    knots = np.arange(math.ceil(T) + 1, dtype=np.float64)
    Wk = rng.normal(0.0, 1.0 / d, (knots.size, d, d))
    bk = rng.normal(0.0, 1.0 / d, (knots.size, d))
    t = np.arange(K) * (T / K)
    W = CubicSpline(knots, Wk, axis=0)(t)
    b = CubicSpline(knots, bk, axis=0)(t)
    return np.ascontiguousarray(W), np.ascontiguousarray(b)
