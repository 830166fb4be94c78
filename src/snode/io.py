"""Saving and loading models: a .npz file with the weights and a versioned JSON header.

Files are written atomically (a temporary file in the same folder, then renamed), so an
interrupted save never leaves a half-written model. A corrupt, truncated, foreign or newer
file raises ValueError naming the problem.
"""
import json
import os
import tempfile
import zipfile

import numpy as np

__all__ = ["save", "load", "read_header", "FORMAT", "VERSION"]

FORMAT = "snode-model"
VERSION = 1


def _atomic_savez(path, arrays):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".snode-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
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


def save(net, path, meta=None):
    """Write `net` (an SNODE) and a JSON-serialisable `meta` dict to `path` (.npz)."""
    t = net.tableau
    header = {"format": FORMAT, "version": VERSION, "width": net.width,
              "n_steps": net.n_steps, "T": net.T, "scheme": t.name, "order": t.order,
              "activation": net.activation, "meta": meta or {}}
    try:
        text = json.dumps(header)
    except TypeError as exc:
        raise ValueError(f"the model's metadata is not JSON-serialisable: {exc}") from None
    _atomic_savez(path, {"header": np.array(text), "W": net.W, "b": net.b,
                         "tableau_a": t.a, "tableau_b": t.b, "tableau_c": t.c})


def _open(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ValueError(f"no such model file: {path}")
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable snode model (corrupt or truncated?): "
                         f"{exc}") from None
    if "header" not in arrays:
        raise ValueError(f"{path} is not an snode model: no header")
    try:
        header = json.loads(str(arrays["header"]))
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{path}: the model header is corrupt: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not an snode model file")
    version = header.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(f"{path} was written by a newer snode (format version {version}; "
                         f"this one reads up to {VERSION})")
    return header, arrays


def read_header(path):
    """The header dict of a model file (width, n_steps, T, scheme, activation, meta, ...)."""
    return _open(path)[0]


def load(path):
    """Read a model file: returns (SNODE, meta dict)."""
    from .model import SNODE
    from .schemes import SCHEMES, Tableau

    header, arrays = _open(path)
    try:
        name = header["scheme"]
        if name in SCHEMES:
            scheme = SCHEMES[name]
        else:
            scheme = Tableau(arrays["tableau_a"], arrays["tableau_b"], arrays["tableau_c"],
                             name=name, order=header.get("order"))
        net = SNODE(header["width"], header["n_steps"], T=header["T"], scheme=scheme,
                    activation=header["activation"], init="zeros")
        net.W = arrays["W"]
        net.b = arrays["b"]
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: inconsistent model file: {exc}") from None
    return net, header.get("meta", {})
