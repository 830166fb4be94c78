"""The standalone neural ODE x' = s(W(t) x + b(t)) on [0, T], and its sweeps.

This module is the one caller of the compiled sweeps (forward, gradient, sensitivity):
everything above it (the cost, the objective, the optimisers, and any analysis built on the
sweeps) reaches them through :class:`SNODE`'s methods. The loss on the outputs, which the
gradient sweep evaluates inside the core, is :mod:`snode.loss`. The formulas are in the
repository's docs/method.md.

Examples
--------
The activations and initialisations by name:

>>> import snode
>>> sorted(snode.ACTIVATIONS)
['elu', 'identity', 'leaky_relu', 'relu', 'sigmoid', 'softplus', 'tanh']
>>> snode.INITS
('smooth', 'normal', 'zeros')
>>> snode.SNODE(width=3, n_steps=4, activation="relu", init="normal", seed=0).activation
'relu'
"""
import contextlib
import math
import os
import warnings
from collections import namedtuple
from typing import Any, Callable, Iterator, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from . import _kernels
from . import io
from ._validate import as_float_array, check_int, check_range, check_real, check_threads
from .loss import OutputLine, as_loss, output_loss, output_loss_along, softmax  # noqa: F401
from .schemes import Scheme, Tableau, get_tableau
from .threads import sweeping

__all__ = ["SNODE", "ACTIVATIONS", "INITS", "DTYPES", "ForwardStates", "DataGradient",
           "all_finite", "isa", "release_scratch", "release_states", "place_inputs",
           "check_dtype"]
# (output_loss, output_loss_along, OutputLine and softmax live in snode.loss; their names here
# are kept for code written before it)

#: Activation names and their codes in the C core.
ACTIVATIONS = {"tanh": 0, "sigmoid": 1, "relu": 2, "leaky_relu": 3, "elu": 4, "softplus": 5,
               "identity": 6}
#: Initialisations of the weights.
INITS = ("smooth", "normal", "zeros")
_MEMORY = ("store", "recompute")
#: The dtypes of the network's weights and sweeps, by name.
DTYPES = ("float64", "float32")


class _Sweeps:
    """The compiled sweeps of one dtype (_kernels' functions without or with the suffix _f32)."""

    forward: Callable[..., Any]
    data_cost: Callable[..., Any]
    value_grad: Callable[..., Any]
    tangent: Callable[..., Any]
    tangent_kept: Callable[..., Any]

    def __init__(self, suffix: str) -> None:
        for name in ("forward", "data_cost", "value_grad", "tangent", "tangent_kept"):
            setattr(self, name, getattr(_kernels, name + suffix))


_SWEEPS = {np.dtype(np.float64): _Sweeps(""), np.dtype(np.float32): _Sweeps("_f32")}


def check_dtype(value, name="dtype"):
    """`value` (a name, numpy dtype or type) as the numpy dtype float64 or float32.

    Raises
    ------
    ValueError
        For anything else.
    """
    dt = None
    if isinstance(value, (str, type, np.dtype)):  # (not a number, None, a dict, ...)
        try:
            dt = np.dtype(value)
        except (TypeError, ValueError):
            pass
    if dt not in _SWEEPS:
        raise ValueError(f"{name} must be one of {DTYPES}, got {value!r}")
    return dt
#: "smooth" initialisation: up to this many knots (or 4 a step) one spline through all of them
_LOCAL_SPLINE_KNOTS = 256

#: What :meth:`SNODE.data_gradient` returns.
DataGradient = namedtuple("DataGradient", "value gW gb input_grad outputs states")
DataGradient.__doc__ = """The data terms of the cost and their exact gradient (a named tuple).

Attributes
----------
value : float
    The data terms' sum over the samples, times `scale`.
gW : ndarray, shape (n_steps, width, width)
gb : ndarray, shape (n_steps, width)
    Their gradient with respect to W and b.
input_grad : ndarray, shape (N, m), or None
    Their gradient with respect to the inputs X (as given, before zero-padding).
outputs : ndarray, shape (N, width), or None
    The outputs x(T).
states : ForwardStates or None
    The kept forward states.
"""


class ForwardStates:
    """The forward states a gradient sweep kept, for a sensitivity sweep at the same point.

    Every step's state and stage values of the sweep's samples, at the weights it ran with
    (:meth:`SNODE.data_gradient` with ``keep=True``). ``SNODE.sensitivity(states=...)`` reads
    them instead of recomputing the forward sweep. They take ``K (S + 1) width N`` numbers
    of the network's dtype (`nbytes`); :func:`release_states` gives the memory back for
    reuse.

    Attributes
    ----------
    params : (ndarray, ndarray)
        The weights (W, b) of the sweep: copies of the network's, or the arrays passed as
        ``params`` (references: do not change them while the states are in use).
    n_samples : int
    nbytes : int
    """

    __slots__ = ("params", "n_samples", "nbytes", "_buffer", "_threads", "_config")

    def __init__(self, params, n_samples, buffer, threads, config):
        self.params = params
        self.n_samples = n_samples
        self.nbytes = buffer.nbytes
        self._buffer = buffer
        self._threads = threads
        self._config = config

    def __repr__(self):
        return f"ForwardStates(n_samples={self.n_samples}, nbytes={self.nbytes})"


class SNODE:
    """A standalone neural ODE with depth-varying weights.

    The network is the ODE ``x'(t) = s(W(t) x(t) + b(t))`` on ``[0, T]``, its input the initial
    state (zero-padded to `width`) and its output ``x(T)``. Depth is cut into `n_steps` equal
    steps of length ``h = T / n_steps``; the weights are constant on each step and the ODE is
    integrated by an explicit Runge-Kutta scheme (docs/method.md, sections 1-2).

    Parameters
    ----------
    width : int
        Dimension d of the state.
    n_steps : int
        Number of depth steps K.
    T : float, default 1.0
        Final time (depth), > 0.
    scheme : str, Tableau or (a, b), default "rk4"
        "euler", "heun", "midpoint", "rk4", or any explicit Butcher tableau.
    activation : str, default "tanh"
        One of ``ACTIVATIONS``: tanh, sigmoid, relu, leaky_relu (slope 0.01), elu, softplus,
        identity.
    init : {"smooth", "normal", "zeros"}, default "smooth"
        "smooth": normal draws (standard deviation 1/d) at the integer times 0..ceil(T),
        interpolated to the step times by a cubic spline (the authors' initialisation; when
        there are more than max(256, 4 n_steps) knots, only those near the step times are
        drawn and splined, so that the cost follows the steps);
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
    dtype : {"float64", "float32"}, keyword-only, default "float64"
        The dtype of the weights and of the sweeps: their states, tangents, adjoints,
        outputs and gradients. float32 runs about twice as fast (half the memory traffic,
        twice the numbers a vector) to float32's precision (gradients agree with
        float64's to a few 1e-7 relative; docs/decisions.md); the cost and its sums over
        samples are formed in float64 in both. Inputs and weights given in another dtype
        are converted.

    Attributes
    ----------
    W : ndarray, shape (n_steps, width, width)
        Weights, of `dtype`, writable.
    b : ndarray, shape (n_steps, width)
        Biases, of `dtype`, writable.
    h : float
        Step length T / n_steps.
    tableau : Tableau
        The Runge-Kutta scheme.

    Raises
    ------
    ValueError
        For arguments out of range (width, n_steps or threads below 1, T not positive and
        finite, an unknown scheme, activation, init or memory mode, an implicit tableau).

    Notes
    -----
    Every method that runs a sweep takes the keyword ``params=(W, b)`` to run at other weights
    than the network's own, which stay as they are. A sweep that overflows raises
    :class:`snode.NonFiniteError` instead of returning Inf or NaN.

    References
    ----------
    .. [1] G. Baravdish, G. Eilertsen, R. Jaroudi, B. T. Johansson, L. Malý, J. Unger,
       "Learning via nonlinear conjugate gradients and depth-varying neural ODEs",
       arXiv:2202.05766, 2022.
    .. [2] G. Baravdish, G. Eilertsen, R. Jaroudi, B. T. Johansson, L. Malý, J. Unger,
       "A hybrid Sobolev gradient method for learning NODEs", Operations Research Forum 5(4),
       2024, doi:10.1007/s43069-024-00377-x.

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=4, n_steps=10, T=1.0, seed=0)
    >>> X = np.random.default_rng(0).normal(size=(5, 2))   # 2 features, zero-padded to 4
    >>> net.forward(X).shape                                 # x(T)
    (5, 4)
    >>> net.trajectory(X).shape                              # x at the 11 step times
    (11, 5, 4)
    >>> net.W.shape, net.b.shape
    ((10, 4, 4), (10, 4))
    >>> net.input_jacobian(X).shape                          # dx(T)/dx(0) per sample
    (5, 4, 4)
    """

    def __init__(self, width: int, n_steps: int, T: float = 1.0, scheme: Scheme = "rk4",
                 activation: str = "tanh", init: str = "smooth", seed: Any = None, *,
                 n_threads: Optional[int] = None, memory: str = "store",
                 dtype: DTypeLike = "float64") -> None:
        self._width = check_int(width, "width", minimum=1)
        self._n_steps = check_int(n_steps, "n_steps", minimum=1)
        self._T = check_real(T, "T", minimum=0.0, strict=True)
        check_step(self._T, self._n_steps)
        self.tableau = get_tableau(scheme)
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of "
                             f"{sorted(ACTIVATIONS)}")
        self._activation = activation
        self.n_threads = n_threads
        self.memory = memory
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
        _check_size(self._width, self._n_steps)
        self._dtype = check_dtype(dtype)
        self._sweeps = _SWEEPS[self._dtype]
        W, b = _initial_weights(self._width, self._n_steps, self._T, init, seed)
        self._W, self._b = W.astype(self._dtype, copy=False), b.astype(self._dtype, copy=False)

    # --- configuration -----------------------------------------------------------------------
    @property
    def width(self) -> int:
        """The state's dimension d."""
        return self._width

    @property
    def n_steps(self) -> int:
        """The depth steps K."""
        return self._n_steps

    @property
    def T(self) -> float:
        """The final time (depth)."""
        return self._T

    @property
    def activation(self) -> str:
        """The activation's name."""
        return self._activation

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the weights and sweeps (float64 or float32)."""
        return self._dtype

    @property
    def h(self) -> float:
        """The step length T / n_steps."""
        return self._T / self._n_steps

    @property
    def scheme(self) -> str:
        """The Runge-Kutta scheme's name."""
        return self.tableau.name

    @property
    def n_threads(self) -> Optional[int]:
        """The threads the sweeps split a batch over (None: the CPUs this process may use less
        those other processes keep busy, measured as it runs; :mod:`snode.threads`)."""
        return self._n_threads

    @n_threads.setter
    def n_threads(self, value: Optional[int]) -> None:
        self._n_threads = None if value is None else check_threads(value)

    @property
    def threads(self) -> int:
        """The number of threads the next sweep runs on (`n_threads`, or the default now)."""
        return self._n_threads if self._n_threads is not None else check_threads(None)

    @contextlib.contextmanager
    def _team(self) -> Iterator[int]:
        """The threads of a sweep that runs inside the block: `n_threads`, or the default
        shared with the sweeps that other Python threads of this process run at the same
        time (:func:`snode.threads.sweeping`; the results do not depend on it)."""
        with sweeping() as count:
            yield (self._n_threads if self._n_threads is not None
                   else max(1, check_threads(None) // count))

    @property
    def memory(self) -> str:
        """How the gradient sweep keeps its states: "store" or "recompute"."""
        return self._memory

    @memory.setter
    def memory(self, value: str) -> None:
        if value not in _MEMORY:
            raise ValueError(f"memory must be one of {_MEMORY}, got {value!r}")
        self._memory = value

    @property
    def W(self) -> NDArray[Any]:
        """The weights, (n_steps, width, width) of `dtype` (writable; set: checked)."""
        return self._W

    @W.setter
    def W(self, value: ArrayLike) -> None:
        self._W = self._check_param(value, "W", (self._n_steps, self._width, self._width))

    @property
    def b(self) -> NDArray[Any]:
        """The biases, (n_steps, width) of `dtype` (writable; set: checked)."""
        return self._b

    @b.setter
    def b(self, value: ArrayLike) -> None:
        self._b = self._check_param(value, "b", (self._n_steps, self._width))

    def _check_param(self, value, name, shape, allow_nonfinite=False, copy=True):
        arr = as_float_array(value, name, allow_nonfinite=allow_nonfinite, dtype=self._dtype)
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        if copy and arr is value:  # keep the caller's array out of our state
            arr = arr.copy()
        return arr

    def __repr__(self):
        dtype = "" if self._dtype == np.float64 else f", dtype={self._dtype.name!r}"
        return (f"SNODE(width={self._width}, n_steps={self._n_steps}, T={self._T}, "
                f"scheme={self.scheme!r}, activation={self._activation!r}{dtype})")

    def copy(self) -> "SNODE":
        """An independent copy (weights included)."""
        new = object.__new__(SNODE)
        new.__dict__.update(self.__dict__)
        new._W = self._W.copy()
        new._b = self._b.copy()
        return new

    def astype(self, dtype: DTypeLike) -> "SNODE":
        """A copy of the network in another dtype (its weights converted; rounded to the
        nearest for float32), or a plain copy in its own.

        Raises
        ------
        ValueError
            For a dtype other than float64 and float32.
        """
        dtype = check_dtype(dtype)
        new = self.copy()
        new._dtype, new._sweeps = dtype, _SWEEPS[dtype]
        new._W = self._W.astype(dtype)
        new._b = self._b.astype(dtype)
        return new

    def get_params(self) -> tuple[NDArray[Any], NDArray[Any]]:
        """Copies of the weights, ``(W, b)``."""
        return self._W.copy(), self._b.copy()

    def set_params(self, params: tuple[ArrayLike, ArrayLike]) -> None:
        """Set the weights from ``(W, b)`` (copied in; checked before anything changes).

        Raises
        ------
        ValueError
            If a shape is wrong or an entry is NaN or Inf; the weights are then unchanged.
        """
        W, b = self.check_params(params)
        self._W[...] = W
        self._b[...] = b

    def check_params(self, params, name="params"):
        """``params = (W, b)`` as arrays of the network's dtype and shapes, all finite.

        Returns the arrays themselves when they already are (no copy).

        Raises
        ------
        ValueError
            If `params` is not a pair, a shape is wrong or an entry is NaN or Inf.
        """
        try:
            W, b = params
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a pair (W, b), got {type(params).__name__}") \
                from None
        K, d = self._n_steps, self._width
        W = self._ready(W, "W", (K, d, d), "the weights W")
        b = self._ready(b, "b", (K, d), "the biases b")
        return W, b

    def _ready(self, a, name, shape, what):
        """`a` as a finite array of the network's dtype and `shape`: itself when it is one, a
        float64 array of a float32 network rounded (the optimisers' points), else converted
        by :meth:`_check_param`."""
        if isinstance(a, np.ndarray) and a.shape == shape and a.flags.c_contiguous and \
                a.dtype in _SWEEPS:
            if a.dtype != self._dtype:  # (float64 to float32: Inf beyond its range)
                with np.errstate(over="ignore"):
                    a = a.astype(self._dtype)
            if not _kernels.all_finite(a, self.threads):
                raise ValueError(f"{what} contain NaN or Inf" + (
                    "" if self._dtype == np.float64 else
                    f" (or numbers beyond the range of {self._dtype.name})"))
            return a
        return self._check_param(a, name, shape)

    def check_inputs(self, X, name="X", *, check_finite=True):
        """`X` as an array of the network's dtype and shape (N, m), 1 <= N, 1 <= m <= width,
        all finite (`check_finite=False`: not scanned, for inputs checked already).

        Raises
        ------
        ValueError
            Naming what is wrong.
        """
        X = as_float_array(X, name, ndim=2, allow_nonfinite=not check_finite, dtype=self._dtype)
        if X.shape[0] < 1:
            raise ValueError(f"{name} is empty (no samples)")
        if X.shape[1] < 1 or X.shape[1] > self._width:
            raise ValueError(f"{name} has {X.shape[1]} features; it needs between 1 and the "
                             f"width {self._width} (inputs are zero-padded to the width)")
        return X

    def check_targets(self, loss, N, Y=None, labels=None):
        """Targets for the data terms of `loss` on N samples, checked: returns (Y, labels).

        Y : (N, m) floats, 1 <= m <= width, or None; labels : (N,) integers in
        [0, loss.n_classes), or None.

        Raises
        ------
        ValueError
            If a term lacks what it needs (the cross-entropy needs labels; the squared error
            needs Y or labels), an array is malformed, or Y holds numbers beyond the range of
            the network's dtype.
        """
        Y, labels = as_loss(loss).check_targets(N, self._width, Y, labels)
        # (the loss is formed in float64, but its gradient reaches the sweeps in the
        # network's dtype)
        check_range(Y, "Y", self._dtype)
        return Y, labels

    def save(self, path: Union[str, "os.PathLike[str]"],
             meta: Optional[dict[str, Any]] = None) -> None:
        """Write the network (and a JSON-serialisable `meta` dict) to `path`, atomically.

        Read it back with ``snode.load(path)``.

        Raises
        ------
        ValueError
            If `meta` is not JSON-serialisable; OSError if the file cannot be written. An
            existing file at `path` is then left as it was.
        """
        io.save_model(path, self.describe(), meta)

    def describe(self):
        """What defines the network, for persistence: a dict of its configuration (width,
        n_steps, T, activation, dtype, the tableau's arrays, name and order) and weights."""
        t = self.tableau
        return {"width": self._width, "n_steps": self._n_steps, "T": self._T,
                "activation": self._activation, "dtype": self._dtype.name, "scheme": t.name,
                "order": t.order, "tableau_a": t.a, "tableau_b": t.b, "tableau_c": t.c,
                "W": self._W, "b": self._b}

    @classmethod
    def from_description(cls, desc):
        """The network `describe()` gave (as read back by ``snode.io.read_model``)."""
        tableau = Tableau(desc["tableau_a"], desc["tableau_b"], desc["tableau_c"],
                          name=desc["scheme"], order=desc["order"])
        net = cls(desc["width"], desc["n_steps"], T=desc["T"], scheme=tableau,
                  activation=desc["activation"], init="zeros",
                  dtype=desc.get("dtype", "float64"))
        net.W = desc["W"]
        net.b = desc["b"]
        return net

    # --- the sweeps --------------------------------------------------------------------------
    def _args(self, params, check=True):
        if params is None:
            params = (self._W, self._b)
        W, b = self.check_params(params) if check else params
        if W.dtype != self._dtype or b.dtype != self._dtype:  # (unchecked: converted only)
            W, b = W.astype(self._dtype), b.astype(self._dtype)
        t = self.tableau
        return (W, b, t.a, t.b, ACTIVATIONS[self._activation], self.h)

    def _config(self):
        # kept states belong to one network (they run at their own weights, but its
        # configuration and scheme must be theirs)
        return (id(self), self._width, self._n_steps, self.h, self._activation,
                id(self.tableau), self._dtype)

    def forward(self, X: ArrayLike, *, params: Optional[tuple[ArrayLike, ArrayLike]] = None,
                check_input: bool = True) -> NDArray[Any]:
        """The output x(T).

        Parameters
        ----------
        X : array_like, shape (N, m), m <= width
            Inputs, zero-padded to the width.
        params : (W, b), optional
            Weights to run with instead of the network's.
        check_input : bool, default True
            False: X is not scanned for NaN or Inf (for inputs checked already; a non-finite
            input then makes the sweep raise NonFiniteError).

        Returns
        -------
        ndarray, shape (N, width)

        Raises
        ------
        ValueError
            For malformed inputs or weights.
        NonFiniteError
            If the sweep overflows.
        """
        X = self.check_inputs(X, check_finite=check_input)
        with self._team() as threads:
            return self._sweeps.forward(*self._args(params), X, threads)

    def trajectory(self, X: ArrayLike, *,
                   params: Optional[tuple[ArrayLike, ArrayLike]] = None) -> NDArray[Any]:
        """The states at the step times t_i = i h, i = 0..n_steps.

        Parameters
        ----------
        X : array_like, shape (N, m), m <= width
        params : (W, b), optional

        Returns
        -------
        ndarray, shape (n_steps + 1, N, width)

        Raises
        ------
        ValueError, NonFiniteError
            As :meth:`forward`: malformed inputs or weights; a sweep that overflows.
        """
        X = self.check_inputs(X)
        with self._team() as threads:
            return self._sweeps.forward(*self._args(params), X, threads, True)

    def sensitivity(self, X: Optional[ArrayLike], dW: Optional[ArrayLike] = None,
                    db: Optional[ArrayLike] = None, *,
                    params: Optional[tuple[ArrayLike, ArrayLike]] = None,
                    states: Any = None) -> NDArray[Any]:
        """The linearised response xi(T) of the output to the weight direction (dW, db).

        ``forward(X)`` with weights ``(W + eps dW, b + eps db)`` equals
        ``forward(X) + eps * sensitivity(X, dW, db) + O(eps^2)``, exactly for the discrete
        scheme (docs/method.md, the sensitivity problem).

        Parameters
        ----------
        X : array_like, shape (N, m); None with `states`
        dW : array_like, shape (n_steps, width, width), or None for zero
        db : array_like, shape (n_steps, width), or None for zero
        params : (W, b), optional
            Weights to linearise at instead of the network's.
        states : ForwardStates, optional
            The states a gradient sweep kept (``data_gradient(..., keep=True)``): the sweep
            then runs at their weights and samples without recomputing the forward sweep.

        Returns
        -------
        ndarray, shape (N, width)
            xi(T) of each sample.

        Raises
        ------
        ValueError
            For malformed inputs, weights or directions (shapes, NaN or Inf), or states that
            are not this network's.
        NonFiniteError
            If the sweep overflows.
        """
        dW, db = self._direction(dW, db)
        if states is not None:
            if not isinstance(states, ForwardStates) or states._config != self._config():
                raise ValueError("states must come from this network's "
                                 "data_gradient(..., keep=True)")
            if states._buffer is None:
                raise ValueError("these forward states were released")
            if params is not None or X is not None:
                raise ValueError("states carry their own weights and samples: pass X=None "
                                 "and no params with them")
            return self._sweeps.tangent_kept(*self._args(states.params), states.n_samples,
                                             states._buffer, dW, db, states._threads)
        if X is None:
            raise ValueError("X is needed (None only with states)")
        X = self.check_inputs(X)
        with self._team() as threads:
            _, xi = self._sweeps.tangent(*self._args(params), X, dW, db, 1, None, False,
                                         threads)
        return xi[:, 0, :]

    def input_jacobian(self, X: ArrayLike, *,
                       params: Optional[tuple[ArrayLike, ArrayLike]] = None) -> NDArray[Any]:
        """The Jacobian dx(T)/dx(0) of the output with respect to the (padded) input.

        Parameters
        ----------
        X : array_like, shape (N, m)
        params : (W, b), optional

        Returns
        -------
        ndarray, shape (N, width, width)
            ``J[n, i, j] = d x_i(T) / d x_j(0)`` for sample n.

        Raises
        ------
        ValueError, NonFiniteError
            As :meth:`sensitivity`.
        """
        X = self.check_inputs(X)
        d = self._width
        with self._team() as threads:
            _, xi = self._sweeps.tangent(*self._args(params), X, None, None, d, None, True,
                                         threads)
        return np.ascontiguousarray(xi.transpose(0, 2, 1))

    def adjoint(self, X: ArrayLike, lam_T: ArrayLike, *,
                params: Optional[tuple[ArrayLike, ArrayLike]] = None
                ) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        """Back-propagate a given dJ/dx(T): returns (gW, gb, lam_0).

        For any cost J of the outputs with gradient ``lam_T = dJ/dx(T)``, this gives the exact
        gradient of J with respect to W (n_steps, width, width) and b (n_steps, width) and the
        gradient ``lam_0 = dJ/dx(0)`` (N, width) with respect to the padded inputs
        (docs/method.md, the adjoint sweep).

        Parameters
        ----------
        X : array_like, shape (N, m)
        lam_T : array_like, shape (N, width)
        params : (W, b), optional

        Returns
        -------
        gW : ndarray, shape (n_steps, width, width)
        gb : ndarray, shape (n_steps, width)
        lam_0 : ndarray, shape (N, width)

        Raises
        ------
        ValueError
            For malformed inputs, weights or lam_T (shapes, NaN or Inf).
        NonFiniteError
            If the sweep overflows.
        """
        X0 = self.check_inputs(X)
        lam = as_float_array(lam_T, "lam_T", ndim=2, dtype=self._dtype)
        if lam.shape != (X0.shape[0], self._width):
            raise ValueError(f"lam_T must have shape {(X0.shape[0], self._width)}, "
                             f"got {lam.shape}")
        with self._team() as threads:
            _, gW, gb, lam0, _, _ = self._sweeps.value_grad(
                *self._args(params), X0, None, None, lam, 0.0, 0.0, 0.0, 0, 1.0, threads,
                self._memory == "recompute", True)
        return gW, gb, lam0

    def data_gradient(self, X, loss, Y=None, labels=None, *, scale=None, params=None,
                      input_grad=False, outputs=False, keep=False, check_input=True):
        """The data terms of a cost and their exact gradient, in one forward and one adjoint
        sweep (docs/method.md, the cost functional and the adjoint sweep).

        Parameters
        ----------
        X : array_like, shape (N, m)
        loss : Loss or Cost
            The data terms (:class:`snode.loss.Loss`; a :class:`snode.Cost` gives its own).
        Y : array_like, shape (N, m'), optional
            Targets of the squared error (zero-padded); without them, the one-hot vectors of
            `labels` in the first n_classes components.
        labels : array_like of int, shape (N,), optional
        scale : float, optional
            The factor of the sums over samples: 1/N_total for the number of samples of the
            whole batch (over all processes). Default 1/N.
        params : (W, b), optional
        input_grad : bool
            Also return dJ/dX (N, m), from the same adjoint sweep.
        outputs : bool
            Also return x(T).
        keep : bool
            Keep the forward states for :meth:`sensitivity` (``memory="store"`` only;
            :func:`release_states` gives their memory back for reuse).
        check_input : bool, default True
            False skips the checks of X, Y, labels and params, for a caller that made them
            already (as :class:`snode.Objective` does: the data once, a point per
            evaluation); a label out of range still raises ValueError, other unchecked bad
            input gives undefined results.

        Returns
        -------
        DataGradient

        Raises
        ------
        ValueError
            For malformed data or weights, or a term that lacks what it needs.
        NonFiniteError
            If a sweep overflows.
        """
        loss = as_loss(loss)
        X, Y, labels, scale = self._data(X, loss, Y, labels, scale, check_input)
        if keep and self._memory == "recompute":
            raise ValueError("forward states are kept with memory='store' only")
        if keep and params is None:  # the states must not follow later changes of the weights
            params = (self._W.copy(), self._b.copy())
        args = self._args(params, check_input)
        with self._team() as threads:
            J, gW, gb, lam0, xT, kept = self._sweeps.value_grad(
                *args, X, Y, labels, None, *loss.terms, scale, threads,
                self._memory == "recompute", bool(input_grad), bool(outputs), bool(keep))
        states = None
        if keep:
            states = ForwardStates((args[0], args[1]), X.shape[0], kept, threads,
                                   self._config())
        gX = np.ascontiguousarray(lam0[:, :X.shape[1]]) if input_grad else None
        return DataGradient(J, gW, gb, gX, xT, states)

    def data_cost(self, X, loss, Y=None, labels=None, *, scale=None, params=None,
                  outputs=False, check_input=True):
        """The data terms of a cost from one forward sweep (no gradient): the value
        :meth:`data_gradient` gives at the same weights, for trial points of line searches.

        Parameters as for :meth:`data_gradient`.

        Returns
        -------
        value : float
        outputs : ndarray, shape (N, width), or None
        """
        loss = as_loss(loss)
        X, Y, labels, scale = self._data(X, loss, Y, labels, scale, check_input)
        with self._team() as threads:
            return self._sweeps.data_cost(*self._args(params, check_input), X, Y, labels,
                                          *loss.terms, scale, threads, bool(outputs))

    def _data(self, X, loss, Y, labels, scale, check_input):
        if check_input:
            X = self.check_inputs(X)
            Y, labels = self.check_targets(loss, X.shape[0], Y, labels)
        elif X.dtype != self._dtype:  # (checked inputs of another dtype: samples gathered
            X = np.ascontiguousarray(X, dtype=self._dtype)  # from other processes)
        if scale is None:
            return X, Y, labels, 1.0 / X.shape[0]
        return X, Y, labels, check_real(scale, "scale", 0.0)

    def states_nbytes(self, n_samples):
        """Bytes the forward states of `n_samples` samples take when kept
        (:meth:`data_gradient` with ``keep=True``)."""
        n = check_int(n_samples, "n_samples", minimum=0)
        return (self._dtype.itemsize * (self.tableau.stages + 1) * self._n_steps * self._width
                * n)

    def _direction(self, dW, db, copy=False):
        # (a sweep only reads the direction: no copy of the caller's arrays)
        d, K = self._width, self._n_steps
        dW = None if dW is None else self._check_param(dW, "dW", (K, d, d), copy=copy)
        db = None if db is None else self._check_param(db, "db", (K, d), copy=copy)
        return dW, db

    def check_direction(self, direction):
        """A weight direction ``(dW, db)`` as two arrays of the weights' dtype and shapes
        (None for zeros), all finite.

        Raises
        ------
        ValueError
            If it is not a pair, a shape is wrong or an entry is NaN or Inf.
        """
        try:
            dW, db = direction
        except (TypeError, ValueError):
            raise ValueError("the direction must be a pair (dW, db)") from None
        dW, db = self._direction(dW, db, copy=True)
        return (np.zeros_like(self._W) if dW is None else dW,
                np.zeros_like(self._b) if db is None else db)


def isa() -> str:
    """Name of the instruction-set level the sweeps run with ("baseline", "avx2", "avx512");
    ``SNODE_ISA=baseline`` (or avx2) in the environment forces a narrower one.

    Examples
    --------
    >>> import snode
    >>> snode.isa() in ("baseline", "avx2", "avx512")
    True
    """
    return _kernels.isa()


def release_scratch() -> None:
    """Free the calling thread's cached scratch memory of the sweeps.

    Examples
    --------
    >>> import numpy as np
    >>> import snode
    >>> net = snode.SNODE(width=8, n_steps=10, seed=0)
    >>> _ = net.forward(np.ones((1000, 8)))   # the sweep keeps its scratch for the next call
    >>> snode.release_scratch()               # and gives it back here
    """
    _kernels.release_scratch()


def release_states(states):
    """Give the memory of kept forward states back to the calling thread's pool, for the next
    gradient evaluation that keeps states; `states` cannot be used afterwards."""
    if isinstance(states, ForwardStates) and states._buffer is not None:
        buf, states._buffer = states._buffer, None
        _kernels.recycle_kept(buf)


def all_finite(a):
    """Whether every entry of the array `a` is finite (float64 and float32 arrays without
    temporaries)."""
    return _kernels.all_finite(a)


def place_inputs(X, offset):
    """Initial states of inputs X (N, m) that begin at component `offset`: (N, offset + m),
    zeros before the inputs (the network pads the rest of its width with zeros)."""
    if not offset:
        return X
    return np.concatenate([np.zeros((X.shape[0], offset)), X], axis=1)


def _check_size(width, n_steps):
    """Refuse a network whose weights alone (n_steps (width^2 + width) float64 numbers, as
    they are drawn) exceed the machine's memory, before numpy tries to allocate them."""
    need = 8.0 * n_steps * (float(width) * width + width)
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # (no sysconf: numpy's own error then)
        return
    if need > have:
        raise ValueError(f"a network of width {width} and {n_steps} steps needs "
                         f"{need / 2**30:.3g} GiB for its weights alone, more than this "
                         f"machine's {have / 2**30:.3g} GiB")


#: The step h = T / n_steps float64 can take: below H_MIN (its machine epsilon) a step adds
#: nothing to states of order 1 (the network is the identity on its inputs); above H_MAX
#: (1 / epsilon) the states of order 1 are lost next to a step's increments.
H_MIN = float(np.finfo(np.float64).eps)
H_MAX = 1.0 / H_MIN


def check_step(T, n_steps):
    """ValueError unless the step T / n_steps lies in [H_MIN, H_MAX] (what float64 can
    represent next to states of order 1)."""
    h = T / n_steps
    if not H_MIN <= h <= H_MAX:
        raise ValueError(
            f"the step T / n_steps = {T:g} / {n_steps} = {h:.3g} is outside what float64 "
            f"can represent next to states of order 1 ([{H_MIN:.3g}, {H_MAX:.3g}]: "
            + ("a step adds nothing to them" if h < H_MIN else
               "they are lost next to a step's increments") + "); choose T of order 1")


#: Where training rarely gets anywhere (DepthWarning): T below DEPTH_T_LOW (the outputs move
#: at most about T from their start, so a classifier's cost can hardly change) or a step
#: T / n_steps above DEPTH_H_HIGH (explicit steps that long make the outputs swing wildly
#: with the weights). Measured on four data sets in docs/decisions.md.
DEPTH_T_LOW = 1e-3
DEPTH_H_HIGH = 5.0


def depth_warning(T, n_steps, stacklevel=2):
    """A :class:`~snode.DepthWarning` where T or the step T / n_steps is where training rarely
    gets anywhere (:data:`DEPTH_T_LOW`, :data:`DEPTH_H_HIGH`), attributed to the caller
    `stacklevel` frames up; nothing otherwise."""
    from .exceptions import DepthWarning

    h = T / n_steps
    if T < DEPTH_T_LOW:
        warnings.warn(f"T = {T:g}: the outputs move at most about T from where they start "
                      "(the activation is bounded), so the cost hardly depends on the "
                      "weights and training ends near where it began; choose T of order 1",
                      DepthWarning, stacklevel=stacklevel + 1)
    elif h > DEPTH_H_HIGH:
        warnings.warn(f"the step T / n_steps = {T:g} / {n_steps} = {h:g}: explicit steps this "
                      "long make the outputs swing wildly with the weights and training "
                      f"rarely gets anywhere; keep it at most about 1 (more steps or a "
                      "smaller T)", DepthWarning, stacklevel=stacklevel + 1)


def _initial_weights(d, K, T, init, seed):
    rng = np.random.default_rng(seed)
    if init == "zeros":
        return np.zeros((K, d, d)), np.zeros((K, d))
    if init == "normal":
        return rng.normal(0.0, 1.0 / d, (K, d, d)), rng.normal(0.0, 1.0 / d, (K, d))
    # "smooth": draws at the integer times 0..ceil(T), cubic spline to the step times
    # (imported here: scipy.interpolate brings scipy's BLAS and its threads along)
    from scipy.interpolate import CubicSpline

    n_knots = math.ceil(T) + 1
    t = np.arange(K) * (T / K)
    if n_knots <= max(_LOCAL_SPLINE_KNOTS, 4 * K):
        knots = np.arange(n_knots, dtype=np.float64)
        Wk = rng.normal(0.0, 1.0 / d, (n_knots, d, d))
        bk = rng.normal(0.0, 1.0 / d, (n_knots, d))
        W = CubicSpline(knots, Wk, axis=0)(t)
        b = CubicSpline(knots, bk, axis=0)(t)
        return np.ascontiguousarray(W), np.ascontiguousarray(b)
    # A long depth with few steps (several knots a step): only the knots around the step times
    # are drawn, and each step's weights are the cubic spline through the 8 knots around it,
    # so that the cost follows the steps, not T. (A spline's value depends on a knot less by a
    # factor of about 0.27 a knot away: the local splines agree with the global one to about
    # 1e-3 of the weights' size.)
    # (knot numbers as Python integers and each spline in its window's own coordinates: exact
    # at any T, where float64 no longer tells consecutive integers apart above 2**53)
    floors = [int(math.floor(ti)) for ti in t.tolist()]
    lo = [min(max(f - 3, 0), n_knots - 8) for f in floors]
    idx = sorted({k + j for k in lo for j in range(8)})
    where = {k: n for n, k in enumerate(idx)}
    Wk = rng.normal(0.0, 1.0 / d, (len(idx), d, d))
    bk = rng.normal(0.0, 1.0 / d, (len(idx), d))
    W, b = np.empty((K, d, d)), np.empty((K, d))
    window = np.arange(8, dtype=np.float64)
    for i in range(K):
        j = where[lo[i]]
        x = (t[i] - floors[i]) + (floors[i] - lo[i])  # (t[i] - lo[i], in the window)
        W[i] = CubicSpline(window, Wk[j:j + 8], axis=0)(x)
        b[i] = CubicSpline(window, bk[j:j + 8], axis=0)(x)
    return W, b
