"""Checks at the boundary of the package: every public entry point converts and validates
its inputs here, once, so that the kernels never see a bad array."""
import numbers
from typing import Any, Collection, Optional

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .threads import available_cpus, default_threads


def as_float_array(x: Any, name: str, ndim: Optional[int] = None, allow_nonfinite: bool = False,
                   dtype: DTypeLike = np.float64) -> NDArray[Any]:
    """Return `x` as a C-contiguous array of the float `dtype` (float64, or float32),
    checking dimensions and finiteness (also after rounding to float32: a number beyond its
    range is refused by name)."""
    if (type(x) is np.ndarray and x.dtype == dtype and x.flags.c_contiguous
            and (ndim is None or x.ndim == ndim)):
        if not allow_nonfinite and not np.isfinite(x).all():
            raise ValueError(f"{name} contains NaN or Inf")
        return x
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{name} must be real, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if not allow_nonfinite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or Inf")
    if dtype != np.float64:
        # (also where non-finite entries are allowed: a finite number that would round to
        # Inf is the caller's mistake, not an Inf the sweeps are to report)
        check_range(arr, name, dtype, "the network's dtype")
        arr = arr.astype(dtype)
    return arr


def check_range(a: Optional[NDArray[Any]], name: str, dtype: DTypeLike,
                what: str = "this network's dtype") -> None:
    """ValueError naming `name` when a float64 array `a` holds finite numbers beyond the
    range of the float `dtype` (nothing to check for float64)."""
    if a is not None and np.dtype(dtype) != np.float64:
        top = float(np.finfo(dtype).max)
        if np.any(np.isfinite(a) & (np.abs(a) > top)):
            raise ValueError(f"{name} has numbers beyond the range of {np.dtype(dtype).name} "
                             f"(|x| > {top:.3g}), {what}")


def as_labels(labels: Any, n: int, n_classes: int, name: str = "labels",
              check_range: bool = True) -> NDArray[np.int64]:
    """Integer class labels in [0, n_classes) as a C-contiguous int64 array of length n
    (`check_range=False`: integers of any value, for labels checked already)."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    if not check_range and np.issubdtype(arr.dtype, np.integer):
        return np.ascontiguousarray(arr, dtype=np.int64)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must be integers, got non-integral values")
    # the range first, in the labels' own type (a cast of a huge value would wrap or warn)
    if n and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name} must lie in [0, {n_classes}), got values in "
                         f"[{arr.min()}, {arr.max()}]")
    return np.ascontiguousarray(arr, dtype=np.int64)


def check_int(value: Any, name: str, minimum: Optional[int] = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    number = int(value)
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {number}")
    return number


def check_real(value: Any, name: str, minimum: Optional[float] = None,
               strict: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # (an int past float64's range)
        raise ValueError(f"{name} must be finite, got an integer of {len(str(value))} "
                         "digits") from None
    if not np.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    if minimum is not None and (number < minimum or (strict and number == minimum)):
        op = ">" if strict else ">="
        raise ValueError(f"{name} must be {op} {minimum}, got {number}")
    return number


def check_fraction(value: Any, name: str) -> float:
    """`value` as a float in [0, 1]; ValueError naming `name` otherwise."""
    number = check_real(value, name)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {number}")
    return number


def check_choice(value: Any, name: str, choices: Collection[str],
                 what: Optional[str] = None) -> str:
    """`value` as a plain str among `choices`; ValueError naming `what` (default `name`)
    and the choices otherwise."""
    if not (isinstance(value, str) and value in choices):
        raise ValueError(f"unknown {what or name} {value!r}; choose one of {tuple(choices)}")
    return str(value)


def check_seed(value: Any, name: str) -> Any:
    """A seed for numpy's random generators: None, an integer >= 0 or a numpy Generator,
    RandomState, BitGenerator or SeedSequence (returned as it is); ValueError naming `name`
    otherwise."""
    if value is None or isinstance(value, (np.random.Generator, np.random.RandomState,
                                           np.random.BitGenerator, np.random.SeedSequence)):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or value < 0:
        raise ValueError(f"{name} must be None, an integer >= 0 or a numpy random generator, "
                         f"got {value!r}")
    return int(value)


def seed_of(random_state: Any) -> Optional[int]:
    """An integer seed from a checked random state (None stays None): an integer as it is,
    a generator's next draw below 2**31."""
    if random_state is None or isinstance(random_state, int):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    return int(np.random.default_rng(random_state).integers(2**31))


def check_bool(value: Any, name: str) -> bool:
    """`value` as a bool; ValueError for anything but True/False (numpy's included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def max_threads() -> int:
    """The most threads a sweep may be split over: 4 x the CPUs this process may run on, and
    at least 64 (more only oversubscribes the cores, and very many exhaust the system)."""
    return max(64, 4 * int(available_cpus()))


def check_threads(n_threads: Optional[int]) -> int:
    """`n_threads` checked, or for None the default (:func:`snode.threads.default_threads`:
    the CPUs this process may use less those other processes keep busy)."""
    if n_threads is None:
        return int(default_threads())
    n = check_int(n_threads, "n_threads", minimum=1)
    cap = max_threads()
    if n > cap:
        raise ValueError(f"n_threads must be at most {cap} (4 x the {available_cpus()} CPUs "
                         f"this process may use, and at least 64), got {n}")
    return n
