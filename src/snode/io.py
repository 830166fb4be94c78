"""Persistence: model files (.npz with the arrays and a versioned JSON header).

A model file holds what defines a network (its configuration, the arrays of its Runge-Kutta
tableau and its weights, from :meth:`SNODE.describe`) and a JSON ``meta`` dict (an estimator's
parameters and fitted state). Files are written atomically (a temporary file in the same
folder, then renamed), so an interrupted save never leaves a half-written model. A corrupt,
truncated, foreign or newer file raises ValueError naming the file and the problem; the header
is checked before any array is read.

This module knows the file format, not the classes: :class:`snode.SNODE` and the estimators
turn themselves into a description and back (``snode.load`` reads any model file).
"""
import json
import numbers
import os
import struct
import tempfile
import tokenize
import zipfile
import zlib

import numpy as np

__all__ = ["save_model", "read_model", "read_header", "FORMAT", "VERSION"]

FORMAT = "snode-model"
VERSION = 1

_ARRAYS = ("W", "b", "tableau_a", "tableau_b", "tableau_c")


def atomic_write(path, write, what="the model"):
    """Write a file by ``write(f)`` (`f` a binary file object) to a temporary file beside
    `path`, then move it onto `path`: a failed or interrupted write leaves `path` as it was.
    A symbolic link is followed (its target is written, the link kept); a device or a named
    pipe (``/dev/null``, ``/dev/stdout``, a FIFO) is written into directly, never replaced.
    `what` names the file in errors."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {what} to {path}: it is a folder")
    if os.path.exists(path) and not os.path.isfile(path):  # (a device, a pipe, a socket)
        with open(path, "wb") as f:
            write(f)
        return
    path = os.path.realpath(path)  # (a link to a file: the file)
    folder = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".snode-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise type(exc)(f"cannot write {what} to {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it a new file's mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_model(path, desc, meta=None):
    """Write a network's description (``SNODE.describe()``) and a JSON-serialisable `meta`
    dict to `path` (.npz), atomically.

    Raises
    ------
    ValueError
        If `meta` is not JSON-serialisable (nothing is written then).
    """
    header = {"format": FORMAT, "version": VERSION, "width": desc["width"],
              "n_steps": desc["n_steps"], "T": desc["T"], "scheme": desc["scheme"],
              "order": desc["order"], "activation": desc["activation"],
              "dtype": desc.get("dtype", "float64"), "meta": meta or {}}
    try:
        text = json.dumps(header)
    except TypeError as exc:
        raise ValueError(f"the model's metadata is not JSON-serialisable: {exc}") from None
    arrays = {"header": np.array(text), **{k: desc[k] for k in _ARRAYS}}
    atomic_write(path, lambda f: np.savez(f, **arrays))


def _open(path, arrays=True):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ValueError(f"no such model file: {path}")
    try:
        with open(path, "rb") as fh, _npz(path, np.load(fh, allow_pickle=False)) as data:
            if "header" not in data.files:
                raise ValueError(f"{path} is not an snode model: no header")
            header = _check_header(path, data["header"])
            out = {}
            if arrays:
                for k in _ARRAYS:
                    if k not in data.files:
                        raise ValueError(f"{path}: inconsistent model file: no array {k!r}")
                    out[k] = data[k]
    except (OSError, EOFError, zipfile.BadZipFile, TypeError, RuntimeError,
            NotImplementedError, zlib.error, struct.error, OverflowError, KeyError,
            IndexError, MemoryError, SyntaxError, tokenize.TokenError) as exc:
        # (zipfile's reading of a damaged archive: "encrypted", an unknown compression, a bad
        # deflate stream or size field, ...; numpy's parsing of a damaged array header)
        raise ValueError(f"{path} is not a readable snode model (corrupt or truncated?): "
                         f"{type(exc).__name__}: {exc}") from None
    except ValueError as exc:
        if str(exc).startswith(path):
            raise
        if "pickle" in str(exc):  # numpy's reading of a file that is no .npz/.npy at all
            raise ValueError(f"{path} is not a readable snode model (not an .npz archive)") \
                from None
        raise ValueError(f"{path} is not a readable snode model (corrupt or truncated?): "
                         f"{exc}") from None
    return header, out


def _npz(path, loaded):
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not an snode model: it holds one array (as np.save "
                         "writes), not a model's arrays and header")
    return loaded


def _check_header(path, raw):
    try:
        header = json.loads(str(raw))
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{path}: the model header is corrupt: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not an snode model file")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
        raise ValueError(f"{path} was written by a newer snode (format version {version}; "
                         f"this one reads up to {VERSION})")
    for key in ("width", "n_steps"):
        v = header.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{path}: inconsistent model file: {key} must be a positive "
                             f"integer, got {v!r}")
    T = header.get("T")
    if isinstance(T, bool) or not isinstance(T, numbers.Real) or not 0 < T < np.inf:
        raise ValueError(f"{path}: inconsistent model file: T must be a positive number, "
                         f"got {T!r}")
    for key in ("scheme", "activation"):
        if not isinstance(header.get(key), str):
            raise ValueError(f"{path}: inconsistent model file: {key} must be a string")
    if header.get("dtype", "float64") not in ("float64", "float32"):
        raise ValueError(f"{path}: inconsistent model file: dtype must be float64 or float32, "
                         f"got {header.get('dtype')!r}")
    if not isinstance(header.get("meta", {}), dict):
        raise ValueError(f"{path}: inconsistent model file: meta must be a dict")
    return header


def read_header(path):
    """The header dict of a model file (width, n_steps, T, scheme, activation, dtype, meta,
    ...).

    Raises
    ------
    ValueError
        If the file is missing, not a model file, corrupt, or from a newer snode.
    """
    return _open(path, arrays=False)[0]


def read_model(path):
    """Read a model file: ``(desc, meta)``, the network's description (for
    ``SNODE.from_description``) and the meta dict.

    Raises
    ------
    ValueError
        If the file is missing, not a model file, corrupt, from a newer snode, or its arrays
        do not match its header.
    """
    header, arrays = _open(path)
    K, d = header["n_steps"], header["width"]
    shapes = {"W": (K, d, d), "b": (K, d)}
    for key, shape in shapes.items():
        if arrays[key].shape != shape:
            raise ValueError(f"{path}: inconsistent model file: {key} has shape "
                             f"{arrays[key].shape}, the header says {shape}")
    desc = {k: header[k] for k in ("width", "n_steps", "T", "scheme", "activation")}
    desc["order"] = header.get("order")
    desc["dtype"] = header.get("dtype", "float64")  # (files from before float32: float64)
    desc.update(arrays)
    return desc, header.get("meta", {})
