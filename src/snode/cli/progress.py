"""The progress line of ``snode train``."""
import sys
import time

import numpy as np

from ..cost import Cost
from ..estimators import SNODEClassifier
from ..objective import Objective
from ..progress import Progress as LineProgress
from ..progress import is_terminal

__all__ = ["Progress", "duration"]


class Progress:
    """The progress of ``snode train`` on stderr: iterations (and the epoch), the live cost,
    the training accuracy (on at most 1000 training samples, refreshed every few seconds) and
    the time left; a tqdm bar where tqdm is installed and stderr is a terminal, else a plain
    line every few seconds on a terminal and every PLAIN_EVERY seconds elsewhere (a log
    file, nohup, a batch job); with `record`, the accuracy after every iteration is kept for
    the figure."""

    SAMPLE = 1000
    REFRESH = 3.0  # seconds between accuracy updates
    TERMINAL_EVERY = 2.0  # seconds between plain lines on a terminal without tqdm
    PLAIN_EVERY = 30.0  # seconds between lines where stderr is not a terminal

    def __init__(self, total, est, X, y, quiet, record=False, epochs=None):
        if len(X) > self.SAMPLE:
            keep = np.random.default_rng(0).choice(len(X), self.SAMPLE, replace=False)
            X, y = X[np.sort(keep)], y[np.sort(keep)]
        self.total, self.est, self.X, self.y, self.epochs = total, est, X, y, epochs
        self.quiet = quiet
        self.record = record and isinstance(est, SNODEClassifier)
        self.accuracy = ([], [])
        self.objective = None
        self.n = 0
        self.t0 = time.perf_counter()
        self.acc, self.acc_time = None, -np.inf
        tty = is_terminal(sys.stderr)
        self.bar = LineProgress(total, stream=sys.stderr, line=self._line, disable=quiet,
                                every=self.TERMINAL_EVERY if tty else self.PLAIN_EVERY,
                                final=False)  # (the result line follows)

    def _train_accuracy(self):
        if self.objective is None:  # the estimator's network exists once training has begun
            classes = self.est.classes_
            self.objective = Objective(self.est.net_, Cost(mse=0.0, n_classes=len(classes)),
                                       self.est.initial_state(self.X),
                                       labels=np.searchsorted(classes, self.y))
        return self.objective.accuracy()

    def __call__(self, rec):
        self.n += 1
        now = time.perf_counter()
        if self.record:
            self.acc, self.acc_time = self._train_accuracy(), now
            self.accuracy[0].append(self.n)
            self.accuracy[1].append(self.acc)
        if self.quiet:
            return False
        text = ""
        if self.epochs and self.epochs > 1:
            text += f"epoch {int(rec.get('epoch', 0)) + 1}/{self.epochs}  "
        text += f"cost {rec['cost']:.4g}"
        if isinstance(self.est, SNODEClassifier):
            if now - self.acc_time > self.REFRESH or self.n >= self.total:
                self.acc, self.acc_time = self._train_accuracy(), now
            text += f"  train acc {self.acc:.3f}"
        self.bar.update(status=text)
        return False

    def _line(self, n, status):
        elapsed = time.perf_counter() - self.t0
        frac = min(1.0, n / self.total)
        left = elapsed / frac - elapsed if frac > 0 else 0.0
        return (f"iteration {n}/{self.total}  {status}  {elapsed:.0f}s, {duration(left)} "
                "left")

    def close(self):
        self.bar.close()


def duration(seconds):
    """A duration in words: seconds, minutes or hours."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
