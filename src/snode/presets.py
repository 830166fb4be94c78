"""Named configurations: a network, a cost, an input scaling and an optimiser together.

``snode.preset("baravdish2022")`` is the configuration of the method's authors' MATLAB
prototype (docs/method.md, the authors' reference configuration), so that their experiments
can be rerun as they ran them::

    p = snode.preset("baravdish2022")
    net = p.network(width=196, seed=0)
    p.optimizer.minimize(net, p.cost(n_classes=10), X, labels=labels)

The estimators take it with ``SNODEClassifier.from_preset(name)`` and the command line with
``snode train --preset NAME``.

Examples
--------
>>> import snode
>>> sorted(snode.PRESETS)
['baravdish2022']
"""
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional

from .cost import Cost
from .model import SNODE
from .optim import NCG

__all__ = ["Preset", "PRESETS", "preset"]


@dataclass(frozen=True)
class Preset:
    """A named configuration.

    Attributes
    ----------
    name : str
    description : str
    net : mapping
        Keyword arguments of :class:`snode.SNODE` (all but the width); read-only.
    loss : {"mse", "ce"}
        The classifier's loss ("mse": squared error to one-hot targets in R^width).
    scale : str
        The input scaling, as the estimators' `scale`.
    optimizer : NCG
        The optimiser with every setting.
    width : str
        "inputs": the width is the number of features (the largest of features and
        classes), with no extra dimensions.
    reference : str

    Examples
    --------
    >>> import snode
    >>> p = snode.preset("baravdish2022")
    >>> isinstance(p, snode.Preset), p.loss
    (True, 'mse')
    """

    name: str
    description: str
    net: Mapping[str, Any] = field(default_factory=dict)
    loss: str = "mse"
    scale: str = "image"
    optimizer: NCG = field(default_factory=NCG)
    width: str = "inputs"
    reference: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "net", MappingProxyType(dict(self.net)))

    def network(self, width: int, seed: Optional[int] = None, **kwargs: Any) -> SNODE:
        """The preset's network of the given width (an :class:`snode.SNODE`)."""
        return SNODE(width, **{**self.net, "seed": seed, **kwargs})

    def cost(self, n_classes: int) -> Cost:
        """The preset's cost for `n_classes` classes (a :class:`snode.Cost`)."""
        if self.loss == "mse":
            return Cost(mse=1.0, n_classes=n_classes)
        return Cost(mse=0.0, ce=1.0, n_classes=n_classes)

    def estimator_params(self) -> dict[str, Any]:
        """The parameters of SNODEClassifier / SNODERegressor that give this preset."""
        opt = self.optimizer
        return dict(width=self.width, n_steps=self.net["n_steps"], T=self.net["T"],
                    scheme=self.net["scheme"], activation=self.net["activation"],
                    init=self.net.get("init", "smooth"), loss=self.loss, optimizer="ncg",
                    beta=opt.beta, memory=opt.memory,
                    sobolev_alpha=opt.alpha if opt.metric == "sobolev" else None,
                    sobolev_weight=opt.sobolev_weight,
                    batch_size=opt.batch_size, iterations_per_batch=opt.iterations_per_batch,
                    epochs=opt.epochs, drop_last=opt.drop_last, scale=self.scale, decay=0.0,
                    early_stopping=False,
                    input_offset=0,
                    ncg_options=dict(safeguard=opt.safeguard, beta_inner=opt.beta_inner))


#: The named configurations, by name (:func:`preset` gives one).
PRESETS: dict[str, Preset] = {
    "baravdish2022": Preset(
        name="baravdish2022",
        description="the authors' prototype: explicit Euler, T = 3, 150 steps, tanh; FR with "
                    "the Sobolev gradient (alpha = 1) and plain sums in beta; the sensitivity "
                    "step unguarded; squared error to one-hot targets; batches of 100 with 6 "
                    "iterations each, the last partial batch dropped, 10 epochs; inputs with "
                    "background 0 and strokes -1",
        net=dict(n_steps=150, T=3.0, scheme="euler", activation="tanh"),
        loss="mse",
        scale="image",
        optimizer=NCG(beta="FR", metric="sobolev", alpha=1.0, beta_inner="euclidean",
                      step="sensitivity", safeguard=False, batch_size=100,
                      iterations_per_batch=6, epochs=10, drop_last=True),
        reference="G. Baravdish, G. Eilertsen, R. Jaroudi, B. T. Johansson, L. Maly, J. Unger, "
                  "\"Learning via nonlinear conjugate gradients and depth-varying neural "
                  "ODEs\", arXiv:2202.05766, 2022"),
}


def preset(name: str) -> Preset:
    """The named configuration (a :class:`Preset`).

    Parameters
    ----------
    name : str
        One of ``snode.PRESETS``: "baravdish2022" (the method's authors' prototype).

    Raises
    ------
    ValueError
        For an unknown name.

    Examples
    --------
    >>> import snode
    >>> p = snode.preset("baravdish2022")
    >>> net = p.network(196)                    # 14 x 14 images
    >>> net.scheme, net.n_steps, net.T
    ('euler', 150, 3.0)
    """
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown preset {name!r}; choose one of {tuple(PRESETS)}") from None
