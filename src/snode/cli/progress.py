"""The progress line of ``snode train``."""
import sys
import time

import numpy as np

from ..cost import Cost
from ..estimators import SNODEClassifier
from ..objective import Objective

__all__ = ["Progress", "duration"]


class Progress:
    """A one-line progress bar on stderr: iterations (and the epoch), the live cost, the
    training accuracy (on at most 1000 training samples, refreshed every few seconds) and an
    estimate of the time left; where stderr is not a terminal (a log file, nohup, a batch
    job), the same as a plain line every PLAIN_EVERY seconds; with `record`, the accuracy
    after every iteration is kept for the figure."""

    SAMPLE = 1000
    REFRESH = 3.0  # seconds between accuracy updates on the bar
    PLAIN_EVERY = 30.0  # seconds between lines where stderr is not a terminal

    def __init__(self, total, est, X, y, quiet, record=False, epochs=None):
        if len(X) > self.SAMPLE:
            keep = np.random.default_rng(0).choice(len(X), self.SAMPLE, replace=False)
            X, y = X[np.sort(keep)], y[np.sort(keep)]
        self.total, self.est, self.X, self.y, self.epochs = total, est, X, y, epochs
        self.quiet, self.tty = quiet, sys.stderr.isatty()
        self.record = record and isinstance(est, SNODEClassifier)
        self.accuracy = ([], [])
        self.objective = None
        self.n = 0
        self.t0 = time.perf_counter()
        self.last = 0.0 if self.tty else self.t0  # (plain lines: the first after PLAIN_EVERY)
        self.acc, self.acc_time = None, -np.inf

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
        if self.quiet or (now - self.last < (0.2 if self.tty else self.PLAIN_EVERY)
                          and self.n < self.total):
            return False
        if not self.tty and self.n >= self.total:  # (the result line follows)
            return False
        self.last = now
        frac = min(1.0, self.n / self.total)
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        text = ""
        if self.epochs and self.epochs > 1:
            text += f"  epoch {int(rec.get('epoch', 0)) + 1}/{self.epochs}"
        text += f"  cost {rec['cost']:.4g}"
        if isinstance(self.est, SNODEClassifier):
            if now - self.acc_time > self.REFRESH or self.n >= self.total:
                self.acc, self.acc_time = self._train_accuracy(), now
            text += f"  train acc {self.acc:.3f}"
        elapsed = now - self.t0
        left = elapsed / frac - elapsed if frac > 0 else 0.0
        if self.tty:
            sys.stderr.write(f"\r[{bar}] {self.n}/{self.total}{text}  {elapsed:.0f}s, "
                             f"{duration(left)} left ")
        else:
            sys.stderr.write(f"iteration {self.n}/{self.total}{text}  {elapsed:.0f}s, "
                             f"{duration(left)} left\n")
        sys.stderr.flush()
        return False

    def close(self):
        if not self.quiet and self.tty and self.n:
            sys.stderr.write("\n")


def duration(seconds):
    """A duration in words: seconds, minutes or hours."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
