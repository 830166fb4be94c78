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

Rooms: :mod:`.trainer` (the loop and the result), :mod:`.linesearch` (line searches on the
scalar phi), :mod:`.ncg`, :mod:`.baselines` (gradient descent, Adam), :mod:`.interop` (scipy).
"""
from ..exceptions import LineSearchWarning
from .baselines import Adam, GradientDescent
from .interop import scipy_objective
from .ncg import BETA_RULES, METRICS, NCG, STEP_RULES, auto_alpha
from .trainer import TrainResult

__all__ = ["NCG", "GradientDescent", "Adam", "TrainResult", "LineSearchWarning",
           "scipy_objective", "BETA_RULES", "STEP_RULES", "METRICS", "auto_alpha"]
