"""Data sets and preprocessing.

Synthetic 2-D classification sets (`spirals`, `circles`, `moons`, `xor`), the inverse problem
`teacher`, scikit-learn's bundled 8x8 `digits`, MNIST from IDX files the user downloaded
(`mnist`), and CSV/NPZ files. Every loader returns float64 inputs X of shape (N, m) and either
integer labels (N,) or real targets (N, k).

Preprocessing: :class:`Scaler` (to a range, by default background 0 and foreground -1 as in the
authors' experiments, or standardisation), :func:`one_hot` targets in the first C components,
and a seeded :func:`train_test_split`.

Rooms: :mod:`.synthetic` (generated sets), :mod:`.files` (readers), :mod:`.preprocessing`.

Examples
--------
>>> import snode
>>> X, y = snode.data.spirals(100, seed=0)
>>> X.shape, y.shape
((100, 2), (100,))
>>> Xtr, Xte, ytr, yte = snode.data.train_test_split(X, y, 0.25, seed=0)
>>> len(Xtr), len(Xte)
(75, 25)
"""
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from .files import csv_columns, load_csv, load_npz, mnist
from .preprocessing import Scaler, one_hot, train_test_split
from .synthetic import circles, digits, moons, spirals, teacher, xor

__all__ = ["spirals", "circles", "moons", "xor", "teacher", "digits", "mnist", "load_csv",
           "csv_columns", "load_npz", "load", "Scaler", "one_hot", "train_test_split", "NAMES"]

#: Names accepted by :func:`load` (besides "mnist:DIR", "csv:FILE" and "npz:FILE").
NAMES = ("spirals", "circles", "moons", "xor", "teacher", "digits")


def load(name: str, n: int = 1000, seed: Any = None,
         **csv_options: Any) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """A data set by name: one of NAMES, "mnist:DIR", "csv:FILE" or "npz:FILE".

    Parameters
    ----------
    name : str
    n : int
        Samples of a generated set.
    seed : int, optional
        Seed of a generated set.
    **csv_options
        For "csv:FILE": `header`, `label_column`, `delimiter`, `target_columns` of
        :func:`load_csv`.

    Returns
    -------
    X : ndarray, shape (N, m)
    y : ndarray, shape (N,) or (N, k)
        Labels, or targets (the teacher's are its outputs).

    Raises
    ------
    ValueError
        For an unknown name, or a file that cannot be read (naming it).

    Examples
    --------
    >>> import snode
    >>> X, y = snode.data.load("moons", n=100, seed=0)
    >>> X.shape
    (100, 2)
    """
    if not isinstance(name, str):
        raise ValueError(f"data set name must be a string, got {name!r}")
    kind, _, arg = name.partition(":")
    if csv_options and kind != "csv":
        given = ", ".join(k.replace("_", " ") for k in sorted(csv_options))
        raise ValueError(f"the options of CSV files ({given}) apply to csv:FILE data sets "
                         f"only, not {name!r}")
    if kind in ("csv", "npz") and not arg:
        raise ValueError(f"{name!r} names no file: give {kind}:FILE")
    if kind == "mnist":
        return mnist(arg or ".")
    if kind == "csv":
        return load_csv(arg, **csv_options)
    if kind == "npz":
        return load_npz(arg)
    if kind == "digits":
        return digits()
    if kind == "teacher":
        X, Y, _ = teacher(n, seed=seed)
        return X, Y
    gens: dict[str, Callable[..., tuple[NDArray[np.float64], NDArray[np.int64]]]] = {
        "spirals": spirals, "circles": circles, "moons": moons, "xor": xor}
    if kind not in gens:
        raise ValueError(f"unknown data set {name!r}; choose one of {NAMES}, 'mnist:DIR', "
                         "'csv:FILE' or 'npz:FILE'")
    return gens[kind](n, seed=seed)
