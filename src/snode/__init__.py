"""snode: standalone neural ODEs with depth-varying weights.

The network is one ODE ``x' = s(W(t) x + b(t))`` on ``[0, T]``; its compiled core runs the
forward, adjoint (gradient) and sensitivity (tangent) sweeps of any explicit Runge-Kutta scheme
with exact discrete gradients, split over threads. The method and its formulas are in the
repository's docs/method.md.

Layers, bottom up: the compiled core (``snode._kernels``), the model (:class:`SNODE`, the one
caller of the sweeps) and the depth operator (:mod:`snode.sobolev`); the cost
(:class:`Cost`); the objective (:class:`Objective`, with a :mod:`reducer <snode.reduce>`), the
one thing the optimisers (:mod:`snode.optim`) see; then the data sets (:mod:`snode.data`), the
estimators, persistence (:mod:`snode.io`), the command line and the figures.
"""
from . import analysis, data, datasets
from .cost import Cost
from .estimators import SNODEClassifier, SNODERegressor, load
from .exceptions import LineSearchWarning, NonFiniteError
from .model import ACTIVATIONS, INITS, SNODE, isa, release_scratch
from .objective import Evaluation, LinearizedCost, Objective
from .optim import NCG, Adam, GradientDescent, TrainResult, scipy_objective
from .presets import PRESETS, Preset, preset
from .reduce import LocalReducer, Reducer, shard
from .schemes import SCHEMES, Tableau
from .sobolev import sobolev_gradient, sobolev_inner

__version__ = "0.1.0"

__all__ = [
    "SNODE", "Cost", "Objective", "Evaluation", "LinearizedCost", "Reducer", "LocalReducer",
    "shard",
    "Tableau", "SCHEMES", "ACTIVATIONS", "INITS", "NonFiniteError", "sobolev_gradient",
    "sobolev_inner", "isa", "release_scratch", "NCG", "GradientDescent", "Adam",
    "TrainResult", "LineSearchWarning", "scipy_objective", "SNODEClassifier",
    "SNODERegressor", "load", "data", "datasets", "analysis", "preset", "Preset", "PRESETS",
    "__version__",
]
