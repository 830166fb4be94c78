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

Examples
--------
>>> import snode
>>> major, minor = (int(part) for part in snode.__version__.split(".")[:2])
>>> (major, minor) >= (0, 1)
True
"""
import importlib
import logging
from typing import TYPE_CHECKING, Any

from ._version import __version__

# the library's messages: the application decides where they go (logging's convention)
logging.getLogger(__name__).addHandler(logging.NullHandler())

# The public names and the modules that define them: imported on first use (PEP 562), so that
# ``import snode`` (and the command line's --version and --help) import little.
_NAMES = {
    ".model": ("SNODE", "ACTIVATIONS", "INITS", "isa", "release_scratch"),
    ".cost": ("Cost",),
    ".objective": ("Objective", "Evaluation", "LinearizedCost"),
    ".reduce": ("Reducer", "LocalReducer", "shard"),
    ".schemes": ("Tableau", "SCHEMES"),
    ".exceptions": ("NonFiniteError", "LineSearchWarning", "DepthWarning"),
    ".sobolev": ("sobolev_gradient", "sobolev_inner"),
    ".optim": ("NCG", "GradientDescent", "Adam", "TrainResult", "scipy_objective"),
    ".estimators": ("SNODEClassifier", "SNODERegressor", "load"),
    ".presets": ("preset", "Preset", "PRESETS"),
}
if TYPE_CHECKING:  # (the public names for type checkers; at run time imported on first use)
    from . import analysis, data, datasets
    from .cost import Cost
    from .estimators import SNODEClassifier, SNODERegressor, load
    from .exceptions import DepthWarning, LineSearchWarning, NonFiniteError
    from .model import ACTIVATIONS, INITS, SNODE, isa, release_scratch
    from .objective import Evaluation, LinearizedCost, Objective
    from .optim import NCG, Adam, GradientDescent, TrainResult, scipy_objective
    from .presets import PRESETS, Preset, preset
    from .reduce import LocalReducer, Reducer, shard
    from .schemes import SCHEMES, Tableau
    from .sobolev import sobolev_gradient, sobolev_inner
_WHERE = {name: module for module, names in _NAMES.items() for name in names}
#: The subpackages and modules reachable as attributes (``snode.analysis``, ...).
_MODULES = ("analysis", "data", "datasets", "estimators", "optim", "model", "cost", "loss",
            "objective", "evaluation", "reduce", "mpi", "sobolev", "schemes", "io", "presets",
            "plots", "reproduce", "exceptions", "cli", "progress")

__all__ = [
    "SNODE", "Cost", "Objective", "Evaluation", "LinearizedCost", "Reducer", "LocalReducer",
    "shard",
    "Tableau", "SCHEMES", "ACTIVATIONS", "INITS", "NonFiniteError", "sobolev_gradient",
    "sobolev_inner", "isa", "release_scratch", "NCG", "GradientDescent", "Adam",
    "TrainResult", "LineSearchWarning", "DepthWarning", "scipy_objective", "SNODEClassifier",
    "SNODERegressor", "load", "data", "datasets", "analysis", "preset", "Preset", "PRESETS",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'snode' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_MODULES))
