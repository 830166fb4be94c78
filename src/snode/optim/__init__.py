"""Training: nonlinear conjugate gradients with a sensitivity step (the method), the standard
gradient methods it is compared with, and scipy's optimisers, all on an
:class:`snode.Objective`.

Every optimiser has ``minimize(net, cost, X, Y=None, labels=None, callback=None)`` (or
``minimize(objective, callback=None)``): it updates the network's weights in place and returns
a :class:`TrainResult` with the per-iteration history. Mini-batch mode (``batch_size`` set)
shuffles the data every epoch and runs ``iterations_per_batch`` iterations on each batch;
full-batch mode (``batch_size=None``) iterates on all the data until the gradient norm falls
below ``tol`` or ``max_iter``. Ctrl-C stops training with the last accepted weights in place
(``result.interrupted``).

Rooms: :mod:`.trainer` (the loop, the schedule, the typed state and the result),
:mod:`.metric` (the metric in depth), :mod:`.linesearch` (line searches on the scalar phi),
:mod:`.ncg`, :mod:`.baselines` (gradient descent, Adam), :mod:`.registry` (the optimisers by
name, as the estimators and the command line offer them), :mod:`.interop` (scipy).
"""
from ..exceptions import LineSearchWarning
from .baselines import Adam, GradientDescent
from .interop import scipy_objective
from .metric import METRICS, DepthMetric, auto_alpha
from .ncg import BETA_RULES, STEP_RULES, NCG
from .registry import NCG_OPTIONS, OPTIMIZERS, OptimizerSpec, optimizer_spec
from .trainer import Loop, Step, Trainer, TrainResult

__all__ = ["NCG", "GradientDescent", "Adam", "TrainResult", "LineSearchWarning",
           "scipy_objective", "BETA_RULES", "STEP_RULES", "METRICS", "auto_alpha",
           "DepthMetric", "OPTIMIZERS", "OptimizerSpec", "optimizer_spec", "NCG_OPTIONS",
           "Trainer", "Loop", "Step"]
