"""Early stopping: a held-out share of the training samples, watched while training, the best
weights kept (scikit-learn's MLP's rule on the validation cost)."""
import numpy as np

from ..exceptions import NonFiniteError
from ..loss import softmax

__all__ = ["validation_split", "EarlyStopping", "BrierScore"]


def validation_split(n, fraction, seed, labels=None):
    """(train, validation) indices of n samples, drawn from `seed`: `fraction` of each class of
    `labels` (every class keeps a training sample), or of all samples without labels.

    Raises
    ------
    ValueError
        When the split leaves no validation or no training samples.
    """
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if labels is None else \
        [np.flatnonzero(labels == c) for c in np.unique(labels)]
    train, val = [], []
    for g in groups:
        g = rng.permutation(g)
        k = int(round(fraction * g.size))
        if labels is not None:  # (every class keeps a training sample)
            k = min(k, g.size - 1)
        val.append(g[:k])
        train.append(g[k:])
    train, val = np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
    if val.size < 1 or train.size < 1:
        raise ValueError(f"validation_fraction={fraction:g} of {n} samples leaves no "
                         "validation or no training samples")
    return train, val


class BrierScore:
    """The validation measure of classification: the Brier score, the mean over samples of
    the squared distance between the predicted class probabilities (the softmax of the first
    C outputs) and the one-hot label (Brier 1950). Unlike the cross-entropy it stays bounded
    for a confident mistake, so a few such samples do not stop training before the accuracy
    is reached.

    Parameters
    ----------
    objective : Objective
        The held-out samples with their labels (its network is the one trained).
    """

    def __init__(self, objective):
        self.objective = objective

    def value(self):
        obj = self.objective
        C = obj.cost.n_classes
        try:
            P = softmax(obj.net.forward(obj.X, check_input=False), C)
        except NonFiniteError:  # (weights a diverging step left: no candidate)
            return np.inf
        P[np.arange(P.shape[0]), obj.labels] -= 1.0
        return float(np.einsum("ij,ij->", P, P) / max(1, P.shape[0]))

    def params(self):
        return self.objective.params()


class EarlyStopping:
    """The callback of early stopping: the validation cost (the data terms, no penalty) after
    every iteration (mini-batch mode: at every epoch's end); True (stop) when it has not
    fallen below (1 - ftol) times its best for `patience` checks; the best weights are kept.

    Parameters
    ----------
    validation : Objective
        The cost on the held-out samples (its network is the one trained).
    patience : int or None
        None: never stop (the best weights are still kept).
    ftol : float
    user : callable or None
        The user's callback, called first at every iteration; its True stops training too.
    per_epoch : bool
        Mini-batch mode: check at an epoch's last iteration only (the records' "epoch_end").
    say : callable, optional
        ``say(text)``: each check's validation cost as a message.
    """

    def __init__(self, validation, patience, ftol, user, per_epoch, say=None):
        self.val, self.patience, self.ftol, self.user = validation, patience, ftol, user
        self.per_epoch, self.say = per_epoch, say
        self.costs, self.best, self.best_params, self.best_iter = [], np.inf, None, 0
        self.since, self.n, self.stopped, self.checked = 0, 0, False, -1
        self.asked = False  # (the user's callback asked to stop)

    def new_stage(self):
        """Patience afresh: a new stage of training (a lower decay of the path) begins."""
        self.since, self.stopped = 0, False

    def check(self):
        """One check of the validation cost at the current weights; True when patience ran
        out."""
        cost = float(self.val.value())
        self.costs.append(cost)
        if self.say:
            self.say(f"Validation cost = {cost:.8f}"
                     + (" (the starting weights)" if not self.costs[:-1] else ""))
        self.checked = self.n
        if cost < self.best - self.ftol * abs(self.best) or self.best_params is None:
            self.best, self.best_params, self.best_iter, self.since = \
                cost, self.val.params(), self.n, 0
        else:
            self.since += 1
        return self.patience is not None and self.since >= self.patience

    def __call__(self, rec):
        self.n += 1
        asked = bool(self.user(rec)) if self.user is not None else False
        self.asked = self.asked or asked
        if self.per_epoch and not rec.get("epoch_end"):  # (mini-batches: an epoch's last)
            return asked
        self.stopped = self.check()
        return asked or self.stopped

    def finish(self, result, objective):
        """The result with the best weights (checked once more at the end)."""
        if self.checked != self.n and not result.interrupted:
            self.check()  # (where training ended, if not checked there)
        if self.best_params is not None:
            objective.set_params(self.best_params)
            result.x = objective.params()
            result.fun = float(objective.value())
        if self.stopped:
            result.message = (f"early stopping: the validation cost fell by at most "
                              f"ftol={self.ftol:g} of itself over {self.patience} checks; "
                              f"the weights of iteration {self.best_iter} kept")
            result.success = True
        return result
