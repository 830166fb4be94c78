"""scikit-learn-style estimators: SNODEClassifier and SNODERegressor, and ``load``.

Rooms: :mod:`.params` (every parameter declared once: default, constraint, doc, command-line
flag), :mod:`.auto` (the "auto" rules), :mod:`.base` (what the two share: scikit-learn's
conventions, the checks of ``fit``, the training), :mod:`.classifier`, :mod:`.regressor`,
:mod:`.early_stopping`, :mod:`.distributed` (several processes), :mod:`.persistence` (model
files and their migration).
"""
import importlib
import os
from typing import TYPE_CHECKING, Any, Union

from .. import io
from ..model import SNODE
from ..optim import OPTIMIZERS as _REGISTRY
# (the auto rules' constants under the names earlier versions gave them here)
from .auto import (AUTO_MEMORY, AUTO_MEMORY_BYTES, AUTO_SOBOLEV_WEIGHT,  # noqa: F401
                   AUTO_STEP, AUTO_STEPS, AUTO_STEPS_MIN, AUTO_STEPS_WORK)
from ..optim import NCG_OPTIONS  # noqa: F401
from .params import PARAMS, SCALES, TARGET_SCALES  # noqa: F401

if TYPE_CHECKING:  # (the classes for type checkers; at run time imported on first use)
    from .classifier import SNODEClassifier
    from .regressor import SNODERegressor

__all__ = ["SNODEClassifier", "SNODERegressor", "load", "OPTIMIZERS", "PARAMS", "ESTIMATORS"]

#: The optimisers' names (:data:`snode.optim.OPTIMIZERS` holds them with their settings).
OPTIMIZERS = tuple(_REGISTRY)
#: The estimator classes' modules (imported on first use: scikit-learn, which they derive
#: from, is slow to import; the parameter table is not).
_CLASSES = {"SNODEClassifier": ".classifier", "SNODERegressor": ".regressor"}


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        value = getattr(importlib.import_module(_CLASSES[name], __name__), name)
    elif name == "ESTIMATORS":  # (the estimator classes by the name a model file gives them)
        value = {cls: getattr(importlib.import_module(mod, __name__), cls)
                 for cls, mod in _CLASSES.items()}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def load(path: Union[str, "os.PathLike[str]"]) -> "Union[SNODE, SNODEClassifier, SNODERegressor]":
    """Read a model file written by ``SNODE.save`` or an estimator's ``save``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    SNODE, or the fitted estimator when the file holds one.

    Raises
    ------
    ValueError
        If the file is missing, not an snode model, corrupt, from a newer snode, or
        inconsistent; naming the file.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import snode
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> snode.SNODE(width=3, n_steps=5, seed=0).save(path)
    >>> snode.load(path).W.shape
    (5, 3, 3)
    """
    desc, meta = io.read_model(path)
    try:
        net: SNODE = SNODE.from_description(desc)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: inconsistent model file: {exc}") from None
    kind = meta.get("estimator")
    if kind is None:
        return net
    cls: Any = __getattr__("ESTIMATORS").get(kind)
    if cls is None:
        raise ValueError(f"{path}: unknown estimator {kind!r}")
    try:
        est: Union[SNODEClassifier, SNODERegressor] = cls._from_file(net, meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: inconsistent estimator metadata: {exc}") from None
    return est
