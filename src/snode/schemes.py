"""Explicit Runge-Kutta schemes as data (docs/method.md, section 2).

Examples
--------
The named schemes:

>>> import snode
>>> sorted(snode.SCHEMES)
['euler', 'heun', 'midpoint', 'rk4']
>>> snode.SCHEMES["rk4"].order, snode.SCHEMES["rk4"].stages
(4, 4)
"""
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Tableau", "SCHEMES", "get_tableau"]


@dataclass(frozen=True, eq=False, init=False)
class Tableau:
    """An explicit Butcher tableau.

    Parameters
    ----------
    a : array_like, shape (S, S)
        Strictly lower-triangular Runge-Kutta matrix.
    b : array_like, shape (S,)
        Weights; they must sum to 1 (a consistent scheme).
    c : array_like, shape (S,), optional
        Nodes; default the row sums of `a`. They do not enter the sweeps (the parameters are
        constant over a step) but are kept for the order conditions.
    name : str, optional
    order : int, optional
        The classical order, when known.

    Examples
    --------
    >>> import snode
    >>> heun = snode.Tableau([[0, 0], [1, 0]], [0.5, 0.5], name="my heun", order=2)
    >>> heun.stages
    2
    >>> snode.SNODE(width=2, n_steps=4, scheme=heun).scheme
    'my heun'
    """

    a: NDArray[np.float64]
    b: NDArray[np.float64]
    c: NDArray[np.float64]
    name: str
    order: Optional[int]

    def __init__(self, a: ArrayLike, b: ArrayLike, c: Optional[ArrayLike] = None,
                 name: str = "custom", order: Optional[int] = None) -> None:
        A = np.array(a, dtype=np.float64, copy=True)
        B = np.array(b, dtype=np.float64, copy=True)
        if B.ndim != 1 or B.shape[0] < 1:
            raise ValueError(f"tableau weights b must be a non-empty vector, got shape {B.shape}")
        S = B.shape[0]
        if S > 16:
            raise ValueError(f"at most 16 stages are supported, got {S}")
        if A.shape != (S, S):
            raise ValueError(f"tableau matrix a must have shape ({S}, {S}), got {A.shape}")
        C = A.sum(axis=1) if c is None else np.array(c, dtype=np.float64, copy=True)
        if C.shape != (S,):
            raise ValueError(f"tableau nodes c must have shape ({S},), got {C.shape}")
        if not (np.isfinite(A).all() and np.isfinite(B).all() and np.isfinite(C).all()):
            raise ValueError("tableau contains NaN or Inf")
        if np.any(np.triu(A) != 0.0):
            raise ValueError("the tableau is implicit (a has entries on or above the diagonal); "
                             "only explicit Runge-Kutta schemes are supported")
        if abs(B.sum() - 1.0) > 1e-12:
            raise ValueError(f"tableau weights must sum to 1 for a consistent scheme, "
                             f"got {B.sum()!r}")
        for arr in (A, B, C):
            arr.setflags(write=False)
        for field, value in (("a", A), ("b", B), ("c", C), ("name", name), ("order", order)):
            object.__setattr__(self, field, value)

    @property
    def stages(self) -> int:
        """The number of stages S."""
        return int(self.b.shape[0])

    def __repr__(self) -> str:
        return f"Tableau(name={self.name!r}, stages={self.stages}, order={self.order})"


#: The named explicit Runge-Kutta schemes, by name.
SCHEMES: dict[str, Tableau] = {
    "euler": Tableau([[0.0]], [1.0], [0.0], name="euler", order=1),
    "heun": Tableau([[0.0, 0.0], [1.0, 0.0]], [0.5, 0.5], [0.0, 1.0], name="heun", order=2),
    "midpoint": Tableau([[0.0, 0.0], [0.5, 0.0]], [0.0, 1.0], [0.0, 0.5], name="midpoint",
                        order=2),
    "rk4": Tableau(
        [[0.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0], [0.0, 0.5, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
        [1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0], [0.0, 0.5, 0.5, 1.0], name="rk4", order=4),
}


#: A scheme as the network takes it: a name, a Tableau, or the arrays (a, b[, c]).
Scheme = Union[str, Tableau, tuple[Any, ...], list[Any]]


def get_tableau(scheme: Scheme) -> Tableau:
    """A Tableau from a scheme name, a Tableau, or a pair/triple (a, b[, c])."""
    if isinstance(scheme, Tableau):
        return scheme
    if isinstance(scheme, str):
        try:
            return SCHEMES[scheme]
        except KeyError:
            raise ValueError(f"unknown scheme {scheme!r}; choose one of {sorted(SCHEMES)} "
                             "or pass a Butcher tableau (a, b)") from None
    if isinstance(scheme, (tuple, list)) and len(scheme) in (2, 3):
        return Tableau(*scheme)
    raise ValueError(f"scheme must be a name, a Tableau or a pair (a, b), got {scheme!r}")
