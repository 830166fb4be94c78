"""snode: standalone neural ODEs with depth-varying weights.

The network is one ODE ``x' = s(W(t) x + b(t))`` on ``[0, T]``; its compiled core runs the
forward, adjoint (gradient) and sensitivity (tangent) sweeps of any explicit Runge-Kutta scheme
with exact discrete gradients, split over threads.
"""
from ._kernels import NonFiniteError, isa, release_scratch
from . import datasets
from .cost import Cost
from .estimators import SNODEClassifier, SNODERegressor, load
from .model import ACTIVATIONS, INITS, SNODE
from .optim import (NCG, Adam, GradientDescent, LineSearchWarning, TrainResult,
                    scipy_objective)
from .schemes import SCHEMES, Tableau
from .sobolev import sobolev_gradient, sobolev_inner

__version__ = "0.1.0"

__all__ = [
    "SNODE", "Cost", "Tableau", "SCHEMES", "ACTIVATIONS", "INITS", "NonFiniteError",
    "sobolev_gradient", "sobolev_inner", "isa", "release_scratch", "NCG", "GradientDescent",
    "Adam", "TrainResult", "LineSearchWarning", "scipy_objective", "SNODEClassifier",
    "SNODERegressor", "load", "datasets", "__version__",
]
