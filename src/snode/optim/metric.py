"""The metric in depth: the inner product the optimisers take gradients, directions and norms
in (docs/method.md, the Sobolev gradient and the hybrid gradient).

"l2" is the L2(0, T) product of the weights as functions of depth, whose gradient is G / h for
G = dJ/dtheta and h the depth step; "sobolev" is the discrete H1 product of
:mod:`snode.sobolev` with weight alpha on its derivative term (the L2 one at alpha = 0); the
hybrid gradient ``w g_S + (1 - w) G / h`` blends the two (the Riesz map of the metric whose
inverse is the same blend of the two inverses).
"""
from dataclasses import dataclass

from .._validate import check_choice, check_fraction, check_real
from ..sobolev import DepthOperator

__all__ = ["DepthMetric", "BoundMetric", "METRICS", "auto_alpha"]

METRICS = ("l2", "sobolev")


def auto_alpha(T):
    """The Sobolev weight alpha = (T / 6)^2 of ``alpha="auto"``: the metric smooths over a
    sixth of the depth [0, T] whatever T is (chosen by measurement: docs/decisions.md)."""
    return (float(T) / 6.0) ** 2


@dataclass(frozen=True)
class DepthMetric:
    """A metric in depth.

    Parameters
    ----------
    kind : {"sobolev", "l2"}, default "sobolev"
    alpha : float >= 0 or "auto", default "auto"
        The weight of the Sobolev product's derivative term; sqrt(alpha) is the length in depth
        over which it smooths. "auto": :func:`auto_alpha` of the network's T.
    weight : float in [0, 1], default 1
        The Sobolev gradient's share of the hybrid gradient (1: the Sobolev gradient).

    Raises
    ------
    ValueError
        For an unknown kind or a parameter out of range.
    """

    kind: str = "sobolev"
    alpha: "float | str" = "auto"
    weight: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "kind", check_choice(self.kind, "metric", METRICS))
        if not (isinstance(self.alpha, str) and self.alpha == "auto"):
            object.__setattr__(self, "alpha", check_real(self.alpha, "alpha", minimum=0.0))
        object.__setattr__(self, "weight", check_fraction(self.weight, "sobolev_weight"))

    def alpha_for(self, T):
        """The alpha of this metric on a network of final time T (0 for the L2 metric)."""
        if self.kind != "sobolev":
            return 0.0
        return auto_alpha(T) if self.alpha == "auto" else self.alpha

    def at(self, h, T):
        """The metric on a network of depth step h and final time T: a
        :class:`BoundMetric`."""
        return BoundMetric(DepthOperator(h, 1.0, self.alpha_for(T)), self.weight)


class BoundMetric:
    """A :class:`DepthMetric` on one network: ``gradient(G)`` is the (hybrid) gradient in the
    metric of the Euclidean gradient G = dJ/dtheta, a parameter pair; ``<G, gradient(G)>`` is
    the squared norm of the gradient in the metric."""

    __slots__ = ("operator", "weight")

    def __init__(self, operator, weight):
        self.operator, self.weight = operator, weight

    def gradient(self, G):
        """The Riesz representer of the pair G in the metric (a pair)."""
        return self.operator.hybrid(G, self.weight)
