"""The registry of optimisers: what the estimators and the command line offer, by name.

Each entry says which class trains, which of the estimators' settings it reads (beyond the
schedule's, which every optimiser reads), how it is built from them, and what the fitted
estimator reports of it. Adding an optimiser is one entry here (and its class in this
package); the estimators, ``snode train`` and ``snode info`` read the rest from it.
"""
from dataclasses import dataclass
from types import MappingProxyType
from typing import Optional

from .baselines import Adam, GradientDescent
from .ncg import NCG

__all__ = ["OptimizerSpec", "OPTIMIZERS", "NCG_OPTIONS", "optimizer_spec"]

#: The settings of NCG that the estimators' `ncg_options` may hold (the others are the
#: estimators' own parameters).
NCG_OPTIONS = ("step", "safeguard", "beta_inner", "armijo", "max_backtracks", "tol",
               "wolfe_c2")


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimiser of the registry.

    Attributes
    ----------
    name : str
        Its name in the estimators' `optimizer` and ``snode train --optimizer``.
    summary : str
        One line for the command line's help.
    cls : type
        The :class:`~snode.optim.trainer.Trainer` subclass.
    reads : tuple of str
        The estimators' settings it reads, besides the schedule's (``batch_size``,
        ``epochs``, ``max_iter``, ``ftol``, ``n_iter_no_change``, ``drop_last``, the seed).
    build : callable
        ``build(settings, schedule)``: the optimiser from the estimators' settings (a
        mapping with every name of `reads`, "auto" values resolved) and the schedule's keyword
        arguments.
    fitted : callable
        ``fitted(optimizer)``: what a fitted estimator reports of it, ``(memory_,
        sobolev_weight_, step_rule_)``.
    ignores : mapping
        Why it does not read some settings the others do, where saying its name says less
        (for the command line's warning on options a run does not use).
    """

    name: str
    summary: str
    cls: type
    reads: tuple
    build: object
    fitted: object
    ignores: Optional[dict] = None

    def why_unused(self, setting):
        """Why the optimiser does not read `setting`, in a few words."""
        return (self.ignores or {}).get(setting, f"--optimizer {self.name}")

    def uses(self, setting):
        """Whether the optimiser reads the estimators' `setting`."""
        return setting in self.reads


def _ncg(s, schedule):
    alpha = s["sobolev_alpha"]
    metric = "l2" if alpha is None else "sobolev"
    weight = 1.0 if alpha is None or alpha == 0 else s["sobolev_weight"]
    return NCG(beta="FR" if s["beta"] is None else s["beta"], memory=s["memory"],
               metric=metric, alpha="auto" if alpha is None else alpha, sobolev_weight=weight,
               iterations_per_batch=s["iterations_per_batch"], **schedule,
               **s["ncg_options"])


def _gd(momentum):
    def build(s, schedule):
        return GradientDescent(lr=s["lr"], momentum=momentum, **schedule)
    return build


def _fixed_rate(opt):
    return 0, 1.0, None


OPTIMIZERS = MappingProxyType({
    "ncg": OptimizerSpec(
        "ncg", "nonlinear conjugate gradients / L-BFGS with the sensitivity or Wolfe step",
        NCG, ("beta", "memory", "sobolev_alpha", "sobolev_weight", "ncg_options",
              "iterations_per_batch"),
        _ncg, lambda opt: (opt.memory, opt.sobolev_weight, opt.step),
        {"lr": "NCG takes no learning rate"}),
    "adam": OptimizerSpec(
        "adam", "Adam", Adam, ("lr",),
        lambda s, schedule: Adam(lr=s["lr"], **schedule), _fixed_rate),
    "sgd": OptimizerSpec(
        "sgd", "gradient descent with momentum 0.9", GradientDescent, ("lr",), _gd(0.9),
        _fixed_rate),
    "gd": OptimizerSpec(
        "gd", "gradient descent", GradientDescent, ("lr",), _gd(0.0), _fixed_rate),
})


def optimizer_spec(name):
    """The registry's entry for `name`; ValueError naming the choices for an unknown one."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {tuple(OPTIMIZERS)}")
    return OPTIMIZERS[name]
