"""Readers of data files: MNIST's IDX files, CSV and NPZ files of numbers.

Every reader returns float64 inputs X of shape (N, m) and either integer labels (N,) or real
targets (N, k), or raises ValueError naming the file and what is wrong with it.
"""
import gzip
import os
import struct
import zipfile
import zlib

import numpy as np

from .._validate import as_float_array, check_int

__all__ = ["mnist", "load_csv", "load_npz"]


def _read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:  # (gzip: a truncated or damaged download)
        raise ValueError(f"cannot read the IDX file {path} (truncated or damaged?): "
                         f"{exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = struct.unpack(">" + "I" * ndim, raw[4:header])
    size = int(np.prod(shape))
    if len(raw) != header + size:
        raise ValueError(f"{path}: expected {size} data bytes for shape {shape}, "
                         f"found {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise ValueError(f"no {stem}[.gz] in {folder}: download the MNIST IDX files there")


def mnist(path, kind="train", size=14):
    """MNIST from the standard IDX files (plain or .gz) in the folder `path`.

    Images are averaged down from 28x28 to `size` x `size` (a divisor of 28; 14 as in the
    authors' experiments) and returned with pixel values in [0, 1].

    Parameters
    ----------
    path : str
        Folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
        t10k-labels-idx1-ubyte (each optionally .gz).
    kind : {"train", "test"}
    size : int, default 14

    Returns
    -------
    X : ndarray, shape (N, size * size)
    labels : ndarray of int, shape (N,)
    """
    if kind not in ("train", "test"):
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    size = check_int(size, "size", minimum=1)
    if 28 % size:
        raise ValueError(f"size must divide 28, got {size}")
    if not os.path.isdir(path):
        raise ValueError(f"{path} is not a folder")
    prefix = "train" if kind == "train" else "t10k"
    images = _read_idx(_find(path, f"{prefix}-images-idx3-ubyte"))
    labels = _read_idx(_find(path, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST files in {path} do not match: images {images.shape}, "
                         f"labels {labels.shape}")
    f = images.shape[1] // size
    X = images.astype(np.float64).reshape(-1, size, f, size, f).mean(axis=(2, 4)) / 255.0
    return X.reshape(len(X), -1), labels.astype(np.int64)


def _labels_or_targets(y):
    """Class labels (N,) or real targets (N, k) from a data file's y: strings and integers are
    labels; floats are labels when all are non-negative integers, else targets."""
    if y.dtype.kind in "USO":  # class names
        if y.ndim != 1:
            raise ValueError(f"string labels must be one column, got shape {y.shape}")
        return y.astype(str)
    if y.dtype.kind == "b":
        return y.astype(np.int64)
    if y.dtype.kind not in "iuf":
        raise ValueError(f"labels or targets must be numbers or strings, got dtype {y.dtype}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("the labels or targets contain NaN or Inf")
    if y.ndim == 1 and y.size and np.all(y == np.round(y)) and y.min() >= 0:
        return y.astype(np.int64)
    return y


def load_csv(path, target_columns=1, delimiter=",", skip_header="auto"):
    """A CSV file of numbers: the last `target_columns` columns are the target.

    With one target column of non-negative integers, it is returned as labels (N,), else as
    targets (N, k). A first line that is not numeric is skipped as a header.
    """
    target_columns = check_int(target_columns, "target_columns", minimum=1)
    try:
        with open(path) as f:
            first = f.readline()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if skip_header == "auto":
        try:
            [float(v) for v in first.strip().split(delimiter)]
            skip_header = 0
        except ValueError:
            skip_header = 1
    try:
        data = np.loadtxt(path, delimiter=delimiter, skiprows=int(skip_header), ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path} is not a CSV file of numbers: {exc}") from None
    if data.shape[1] <= target_columns or data.shape[0] < 1:
        raise ValueError(f"{path} needs at least one row and more than {target_columns} "
                         f"columns, got shape {data.shape}")
    X = as_float_array(data[:, :-target_columns], f"inputs in {path}")
    y = data[:, -target_columns:]
    return X, _labels_or_targets(y[:, 0] if target_columns == 1 else y)


class _Unreadable(Exception):
    """A data file's problem, stated (raised as ValueError)."""


def load_npz(path):
    """An .npz file with arrays X (N, m) and y (labels (N,) or targets (N, k)).

    Labels may be integers or strings (class names); see :func:`load_csv` for how y is read.

    Raises
    ------
    ValueError
        Naming the file: not an .npz archive (a single array saved by ``np.save``, a pickle,
        a damaged file), missing or malformed X or y.
    """
    try:
        with open(path, "rb") as fh:
            try:
                loaded = np.load(fh, allow_pickle=False)
            except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
                raise _Unreadable(f"cannot read {path} as an .npz archive of arrays: {exc}")
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise _Unreadable(f"{path} is not an .npz archive: it holds one array (as "
                                  "np.save writes); save the inputs and labels with "
                                  "np.savez(path, X=X, y=y)")
            with loaded as data:
                if "X" not in data.files or "y" not in data.files:
                    raise _Unreadable(f"{path} must hold arrays 'X' and 'y', has "
                                      f"{sorted(data.files)}")
                X, y = data["X"], data["y"]
    except _Unreadable as exc:
        raise ValueError(str(exc)) from None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"cannot read {path} (truncated or damaged?): {exc}") from None
    X = as_float_array(X, f"X in {path}", ndim=2)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y in {path} have {X.shape[0]} and {y.shape[0]} rows")
    return X, _labels_or_targets(np.asarray(y))
