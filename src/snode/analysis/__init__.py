"""What the sensitivity problem tells about a trained network: how its output moves when the
weights or the inputs are perturbed.

Rooms: :mod:`.sensitivity` (the linearised response to weight perturbations, the output's
uncertainty under weight noise, smoothness in depth), :mod:`.attacks` (DeepFool, projected
gradient descent, robust accuracy, the masking check; one result builder), :mod:`.common`
(the checks they share). Every function runs the network's sweeps and never forms the
Jacobian of the output with respect to all the weights. The formulas are in the repository's
docs/method.md (section 10).
"""
from .attacks import (ATTACKED, FAILED, MISCLASSIFIED, AttackResult, deepfool,  # noqa: F401
                      masking_check, pgd, robust_accuracy)
from .sensitivity import (NoiseSweep, PerturbationResponse, monte_carlo_covariance,
                          noise_sweep, output_covariance, perturbation_response, smoothness)

__all__ = ["PerturbationResponse", "perturbation_response", "output_covariance",
           "monte_carlo_covariance", "NoiseSweep", "noise_sweep", "smoothness",
           "AttackResult", "deepfool", "robust_accuracy", "pgd", "masking_check"]
