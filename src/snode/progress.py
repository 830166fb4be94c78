"""Messages and progress of long work.

snode's messages go to the :mod:`logging` logger ``"snode"`` (and its children,
``"snode.estimators"``, ``"snode.cli"``), which has a :class:`logging.NullHandler` only: the
application decides what is shown (``logging.basicConfig(level=logging.INFO)`` shows
training's stages). Warnings that ask for action stay :mod:`warnings`.

:class:`Progress` shows how far long work has come: a `tqdm <https://tqdm.github.io>`_ bar
where tqdm is installed and the stream is a terminal, plain lines otherwise (a log file, a
batch job, a notebook's captured output), at most one every `every` seconds. The estimators'
``verbose`` and the command line's progress line both use it.
"""
import logging
import sys
import time
from typing import Any, Callable, Optional, TextIO

from ._validate import check_int, check_real

__all__ = ["Progress", "logger"]

#: The package's logger: the parent of every snode logger.
logger = logging.getLogger("snode")


def _tqdm() -> Any:
    """tqdm's bar class, or None where tqdm is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """How far long work has come, on a terminal or in plain lines.

    Parameters
    ----------
    total : int >= 0 or None
        The number of steps expected (None: unknown).
    desc : str, default ""
        What the work is, shown before the bar.
    stream : file, optional
        Where to write; default ``sys.stderr``.
    every : float >= 0, default 30.0
        Seconds between plain lines (0: a line at every update); a bar redraws as tqdm
        decides.
    line : callable, optional
        ``line(count, status)`` -> the plain line of an update (default ``"{desc} count/total
        status"``).
    bar : bool or None, default None
        Draw a tqdm bar: None where tqdm is installed and `stream` is a terminal.
    disable : bool, default False
        Show nothing (the updates still count).
    final : bool, default True
        In plain lines, a line when the count reaches `total` (False: where the caller prints
        its own result line).

    Raises
    ------
    ValueError
        If `total` or `every` is out of range.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with Progress(3, "steps", stream=out, every=0) as p:
    ...     for k in range(3):
    ...         p.update(status=f"cost {1.0 / (k + 1):.2f}")
    >>> print(out.getvalue().strip())
    steps 1/3 cost 1.00
    steps 2/3 cost 0.50
    steps 3/3 cost 0.33
    """

    def __init__(self, total: Optional[int], desc: str = "", *, stream: Optional[TextIO] = None,
                 every: float = 30.0, line: Optional[Callable[[int, str], str]] = None,
                 bar: Optional[bool] = None, disable: bool = False,
                 final: bool = True) -> None:
        self.total = None if total is None else check_int(total, "total", minimum=0)
        self.every = check_real(every, "every", minimum=0.0)
        self.desc, self.disable, self.final = str(desc), bool(disable), bool(final)
        self._final_shown = False
        self.stream = sys.stderr if stream is None else stream
        self.count, self.status = 0, ""
        self._line = line
        self._last = time.perf_counter()
        tqdm = _tqdm()
        if bar is None:
            bar = tqdm is not None and is_terminal(self.stream)
        self._bar: Any = None
        if bar and tqdm is not None and not disable:
            self._bar = tqdm(total=total, desc=desc or None, file=self.stream, leave=True,
                             dynamic_ncols=True)

    def update(self, n: int = 1, status: Optional[str] = "") -> None:
        """Count `n` more steps (an integer >= 0); `status` (a short text: the cost, the
        accuracy) is shown beside them. Plain lines come at most every `every` seconds, and
        once when the count reaches `total` (with `final`); none after that.

        Raises
        ------
        ValueError
            If `n` is not an integer >= 0.
        """
        self.count += check_int(n, "n", minimum=0)
        self.status = "" if status is None else str(status)
        if self.disable:
            return
        if self._bar is not None:
            if self.status:
                self._bar.set_postfix_str(self.status, refresh=False)
            self._bar.update(n)
            return
        now = time.perf_counter()
        if self.total is not None and self.count >= self.total:
            show = self.final and not self._final_shown
            self._final_shown = self._final_shown or show
        else:
            show = now - self._last >= self.every
        if show:
            self._last = now
            self._write(self.line())

    def line(self) -> str:
        """The plain line of the current state."""
        if self._line is not None:
            return self._line(self.count, self.status)
        total = f"/{self.total}" if self.total is not None else ""
        head = f"{self.desc} " if self.desc else ""
        return f"{head}{self.count}{total} {self.status}".rstrip()

    def write(self, text: str) -> None:
        """Write a line of text without breaking the bar."""
        if self.disable:
            return
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self._write(text)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        flush = getattr(self.stream, "flush", None)
        if flush is not None:
            flush()

    def close(self) -> None:
        """End the bar (plain lines need no ending); later updates and messages come as
        plain lines."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_terminal(stream: Any) -> bool:
    """Whether `stream` is a terminal (False for a closed stream or one without isatty)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # (a closed stream, or one without isatty)
        return False
