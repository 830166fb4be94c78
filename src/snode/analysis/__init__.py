"""What the sensitivity problem tells about a trained network: how its output moves when the
weights or the inputs are perturbed.

Rooms: :mod:`.sensitivity` (the linearised response to weight perturbations, the output's
uncertainty under weight noise, smoothness in depth), :mod:`.attacks` (DeepFool, projected
gradient descent, robust accuracy, the masking check; one result builder), :mod:`.common`
(the checks they share). Every function runs the network's sweeps and never forms the
Jacobian of the output with respect to all the weights. The formulas are in the repository's
docs/method.md (section 10).

Examples
--------
>>> import snode
>>> X, y = snode.data.moons(100, seed=0)
>>> clf = snode.SNODEClassifier(max_iter=30, random_state=0).fit(X, y)
>>> attack = snode.analysis.deepfool(clf, clf.scaler_.transform(X), y)
>>> attack.x_adv.shape
(100, 2)
>>> std = snode.analysis.output_covariance(clf.net_, clf.initial_state(X[:5]), sigma=1e-3,
...                                        diagonal=True)
>>> std.shape
(5, 4)
"""
from .attacks import (ATTACKED, FAILED, MISCLASSIFIED, AttackResult, deepfool,  # noqa: F401
                      masking_check, pgd, robust_accuracy)
from .sensitivity import (NoiseSweep, PerturbationResponse, monte_carlo_covariance,
                          noise_sweep, output_covariance, perturbation_response, smoothness)

__all__ = ["PerturbationResponse", "perturbation_response", "output_covariance",
           "monte_carlo_covariance", "NoiseSweep", "noise_sweep", "smoothness",
           "AttackResult", "deepfool", "robust_accuracy", "pgd", "masking_check"]
