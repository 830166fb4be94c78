"""How an estimator's training runs: one stage at a fixed weight decay, or the decay paths of
decay="auto" (:func:`snode.estimators.auto.decays`) watched by a held-out share of the
samples, or, where that share would be too small to choose by, by k folds of them.

A stage is one call of the optimiser's ``minimize`` at one weight decay; a path is a run of
stages, each going on from the last, the decay lowered stage by stage. The rules that set the
numbers are :mod:`snode.estimators.auto`'s; the measurements behind them are in
docs/decisions.md.
"""
import contextlib
import dataclasses
import warnings

import numpy as np

from . import auto

__all__ = ["Stages", "chained", "fold_split", "warned_once"]


class Stages:
    """Training in stages: each stage a call of `optimizer` on the objective of `rows` at one
    weight decay, the iterations of all of them at most `max_iter`.

    Parameters
    ----------
    optimizer : Trainer
    objective : callable
        ``objective(rows, cost) -> Objective`` of the training samples `rows` (None: all).
    cost : Cost
        The cost, its decay replaced stage by stage.
    max_iter : int
    per_stage : int
        The iterations of a stage of a decay path
        (:func:`~snode.estimators.auto.stage_iterations`).
    say : callable or None
        ``say(text)``: a message as each stage of a path begins, and the folds' costs (None:
        none).
    """

    def __init__(self, optimizer, objective, cost, max_iter, per_stage, say=None):
        self.optimizer, self.objective, self.cost = optimizer, objective, cost
        self.max_iter, self.left, self.runs, self.training = max_iter, max_iter, [], None
        self.per_stage, self.say = per_stage, say
        self.ended = False  # (a path ended: its last stages did not lower the validation cost)

    def run(self, decay, n, rows=None, callback=None):
        """One stage: at most `n` iterations (and those left) at weight decay `decay` on the
        samples `rows`; its TrainResult."""
        n = min(n, self.left)
        if self.say:
            self.say(f"Weight decay = {decay:g}" + (f" ({len(rows)} training samples)"
                                                      if rows is not None else ""))
        stage = self.optimizer if n == self.optimizer.max_iter else dataclasses.replace(
            self.optimizer, max_iter=n)
        self.training = self.objective(rows, dataclasses.replace(self.cost, decay=decay))
        result = stage.minimize(self.training, callback=callback)
        self.runs.append((decay, result))
        self.left -= result.n_iter
        return result

    def paths(self, net, paths, rows, watch, patience):
        """The decay `paths` (each from `net`'s weights now), every iteration checked by
        `watch` (an EarlyStopping whose patience is None: it keeps the best weights). A path
        ends after :data:`~snode.estimators.auto.DECAY_PATH_PATIENCE` stages that did not
        lower the validation cost (lower decays would fit the training samples closer
        still); where the last path's last stage still lowered it, training goes on at that
        decay under early stopping's rule, with the patience of `patience` checks or of a
        stage's iterations, whichever is more (at the path's lowest decay the validation cost
        of clean data still falls, slowly: spirals ended at 0.984 accuracy with 10 checks,
        0.992 with 25, medians of 5 seeds)."""
        start, done, idle = net.get_params(), False, 0
        for k, path in enumerate(paths):
            if k:  # (each path from the initial weights)
                net.set_params(start)
                watch.new_stage()
            idle = 0
            for decay in path:
                best = watch.best
                result = self.run(decay, self.per_stage, rows, watch)
                done = self.left < 1 or result.interrupted or watch.asked or \
                    not result.success  # (a step that diverged ends the path: its message)
                idle = 0 if watch.best < best else idle + 1
                if done or idle >= auto.DECAY_PATH_PATIENCE:
                    self.ended = not done
                    break
                watch.new_stage()
            if done:
                break
        if not done and idle == 0:
            watch.patience = max(patience, self.per_stage)
            if self.say:
                self.say(f"Weight decay = {paths[-1][-1]:g} from here on, until the "
                         f"validation cost stops falling")
            say, self.say = self.say, None
            self.run(paths[-1][-1], self.left, rows, watch)
            self.say = say
        elif not done:
            self.ended = True

    def to_stage(self, path, n_folds, callback=None):
        """Train on every sample through the stages of `path` (a decay path's first stages,
        the last of them the one `n_folds` folds chose), `callback` at every iteration; the
        last run's TrainResult, its message saying that the stage was reached where nothing
        ended training before it."""
        for decay in path:
            result = self.run(decay, self.per_stage, None, callback)
            if self.left < 1 or result.interrupted or not result.success or \
                    result.message == "stopped by the callback":
                return result
        result.message = (f"reached the stage of the weight-decay path that {n_folds} folds "
                          f"chose (weight decay {decay:g}), on every sample")
        result.success = True
        return result

    def folds(self, net, paths, folds, measure_of):
        """Choose a stage of the decay `paths` by k folds: for each fold (train rows,
        validation rows) every path runs whole from `net`'s weights now on the fold's
        training rows, and `measure_of(validation rows)`'s value is taken at each stage's end.
        Returns (the path's index, the stage's index, the folds' mean cost of every stage,
        path by path in one array).

        Raises
        ------
        KeyboardInterrupt
            If a fold's training was interrupted (there are no weights to keep).
        """
        start = net.get_params()
        n_stages = sum(len(path) for path in paths)
        costs = np.empty((len(folds), n_stages))
        say, self.say = self.say, None
        for f, (train, val) in enumerate(folds):
            if say:
                say(f"Fold {f + 1} of {len(folds)}: the decay path on {len(train)} samples")
            measure, j = measure_of(val), 0
            for path in paths:
                net.set_params(start)
                for decay in path:
                    self.left = np.inf  # (the folds' iterations are not training's)
                    if self.run(decay, self.per_stage, train).interrupted:
                        raise KeyboardInterrupt
                    costs[f, j] = measure.value()
                    j += 1
        self.runs, self.left, self.say = [], self.max_iter, say
        net.set_params(start)
        mean = costs.mean(axis=0)
        if self.say:
            decays = [d for path in paths for d in path]
            for d, c in zip(decays, mean):
                self.say(f"Weight decay = {d:g}: validation cost = {c:.8f} (mean of "
                         f"{len(folds)} folds)")
        best = int(np.argmin(mean))
        ends = np.cumsum([len(path) for path in paths])
        k = int(np.searchsorted(ends, best, side="right"))
        return k, best - (ends[k - 1] if k else 0), mean


@contextlib.contextmanager
def warned_once(stacklevel):
    """Warnings raised inside the block (a line search's, stage after stage) collected and
    given once each, by category and message, when it ends (also by an exception), attributed
    `stacklevel` frames above the block's frame: the user's call of ``fit``, not a line of
    the stages. (Each stage would otherwise repeat its warning: a `warnings.catch_warnings`
    anywhere resets the registry that shows a warning once.)"""
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        seen = set()
        for w in caught:
            key = (w.category, str(w.message))
            if key not in seen:
                seen.add(key)
                warnings.warn(w.message, w.category, stacklevel=stacklevel + 3)


def chained(results):
    """One TrainResult of training's stages run one after the other: the last one's weights,
    cost and message; the histories joined and the counts added."""
    if len(results) == 1:
        return results[0]
    out = results[-1]
    out.history = {k: np.concatenate([r.history[k] for r in results]) for k in out.history}
    for k in ("n_iter", "nit", "evaluations", "njev", "nfev", "sweeps"):
        if k in out:
            out[k] = sum(r[k] for r in results)
    return out


def fold_split(n, k, seed, labels=None):
    """k (train, validation) index pairs of n samples drawn from `seed`, each sample in one
    validation share; with `labels` each class spread over the folds in turn.

    Raises
    ------
    ValueError
        If n < k.
    """
    if n < k:
        raise ValueError(f"{k} folds need at least {k} samples, got {n}")
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if labels is None else \
        [np.flatnonzero(labels == c) for c in np.unique(labels)]
    fold = np.empty(n, dtype=np.int64)
    offset = 0
    for g in groups:  # (class by class, the folds in turn: each gets its share of each)
        fold[rng.permutation(g)] = (offset + np.arange(g.size)) % k
        offset += g.size
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)]
