"""What SNODEClassifier and SNODERegressor share: the parameters (from the table of
:mod:`.params`), scikit-learn's conventions, the checks of ``fit`` and the training of the
network.

They follow scikit-learn's conventions (fit / predict / score, get_params / set_params,
warm_start, random_state, fitted attributes ending in ``_``) and derive from its base classes
when scikit-learn is installed; without it they work the same on their own.
"""
import contextlib
import dataclasses
import difflib
import inspect
import logging
import os
import sys
from typing import Any, Callable, Optional, TypeVar, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import as_float_array, seed_of
from ..data import Scaler
from ..model import SNODE, depth_warning, place_inputs
from ..objective import Objective
from ..optim import OPTIMIZERS
from ..progress import Progress
from ..reduce import agree
from . import auto, distributed, persistence
from .early_stopping import BrierScore, EarlyStopping, validation_split
from .training import Stages, chained, fold_split, warned_once
from .params import param, params_of, validate

__all__ = ["SNODEEstimator", "SkClassifier", "SkRegressor", "SkBase", "not_fitted",
           "input_scaler"]

_log = logging.getLogger("snode.estimators")
_E = TypeVar("_E", bound="SNODEEstimator")

try:  # scikit-learn is optional: with it, its own input validation (and messages) is used
    from sklearn.base import BaseEstimator as SkBase
    from sklearn.base import ClassifierMixin as SkClassifier
    from sklearn.base import RegressorMixin as SkRegressor
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted

    try:
        from sklearn.utils.validation import validate_data as _sk_validate
    except ImportError:  # scikit-learn < 1.6
        def _sk_validate(est, *args, **kwargs):
            return est._validate_data(*args, **kwargs)
except ImportError:  # pragma: no cover - exercised where scikit-learn is absent
    SkBase = object
    _sk_validate = check_classification_targets = check_is_fitted = None

    class SkClassifier:  # type: ignore[no-redef]
        pass

    class SkRegressor:  # type: ignore[no-redef]
        pass


def _init_for(kind):
    """The ``__init__`` of the estimator `kind`: every parameter of the table, in order, with
    its default, stored as given (scikit-learn's rule: checked in ``fit``)."""
    table = params_of(kind)
    sig = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                             default=p.default_for(kind)) for p in table])

    def __init__(self, *args, **kwargs):
        try:
            bound = sig.bind(self, *args, **kwargs)
        except TypeError as exc:  # (named by the class, with the nearest parameter's name)
            near = [m for k in kwargs if k not in sig.parameters
                    for m in difflib.get_close_matches(k, sig.parameters, n=1)]
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise TypeError(f"{type(self).__name__}(): {exc}{hint}") from None
        bound.apply_defaults()
        for p in table:
            setattr(self, p.name, bound.arguments[p.name])

    __init__.__signature__ = sig
    __init__.__doc__ = "See the class's docstring for the parameters."
    return __init__


def _parameters_doc(kind):
    """The numpydoc Parameters section of the estimator `kind`, from the table."""
    import textwrap

    lines = ["Parameters", "----------"]
    for p in params_of(kind):
        lines.append(f"{p.name} : {p.type}")
        lines += textwrap.wrap(p.doc, 88, initial_indent="    ", subsequent_indent="    ")
    return textwrap.indent("\n".join(lines), "    ")


def input_scaler(scale):
    """The input scaling of an estimator's checked `scale`: "standard" (per feature),
    "range" (each feature to [-1, 1]), "image" (all values together, the smallest to 0 and the
    largest to -1: background 0, strokes -1, as the method's authors scale images), "none"."""
    if scale == "image":
        return Scaler("range", low=0.0, high=-1.0, per_feature=False)
    return Scaler(scale, low=-1.0, high=1.0, per_feature=True)


def not_fitted(est):
    """The error of a method that needs a fitted estimator."""
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:  # pragma: no cover
        NotFittedError = ValueError
    return NotFittedError(f"this {type(est).__name__} is not fitted yet: call fit first")


class SNODEEstimator:
    """The estimators' base class; a subclass names its kind (``class C(SNODEEstimator,
    kind="classifier")``) and gets the ``__init__`` and the Parameters section of its
    docstring (the placeholder ``<parameters>``) from the parameter table."""

    _kind = None

    # the fitted attributes, for type checkers (set by fit; the docstrings say what each is)
    net_: SNODE
    scaler_: Scaler
    input_offset_: int
    n_features_in_: int
    n_iter_: int
    loss_curve_: list[float]
    history_: dict[str, Any]
    decay_: float
    early_stopping_: bool

    def __init_subclass__(cls, kind=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if kind is not None:
            cls._kind = kind
            cls.__init__ = _init_for(kind)
            if cls.__doc__:
                cls.__doc__ = cls.__doc__.replace("    <parameters>", _parameters_doc(kind))

    # --- parameters (scikit-learn's get_params / set_params) ---------------------------------
    @classmethod
    def _param_names(cls):
        return [p.name for p in params_of(cls._kind)]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters, a dict (scikit-learn's convention)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self: _E, **params: Any) -> _E:
        """Set parameters by name; ValueError for a name the estimator does not have."""
        names = self._param_names()
        for key, value in params.items():
            if key not in names:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}; "
                                 f"valid ones: {names}")
            setattr(self, key, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @classmethod
    def from_preset(cls, name, **params):
        """The estimator with a named configuration's settings (``snode.preset(name)``;
        "baravdish2022" is the method's authors' prototype); `params` change some of them.

        Raises
        ------
        ValueError
            For an unknown preset or parameter.
        """
        from ..presets import preset

        names = set(cls._param_names())
        settings = {k: v for k, v in preset(name).estimator_params().items() if k in names}
        est = cls()
        est.set_params(**{**settings, **params})
        return est

    def fit(self: _E, X: ArrayLike, y: ArrayLike,
            callback: Optional[Callable[[dict[str, Any]], Any]] = None) -> _E:
        """Train on inputs X (N, m) and y: the classifier's class labels (N,) of any comparable
        type, the regressor's targets (N,) or (N, k).

        `callback(record)` is called after every iteration with its history record; returning
        True stops training. A fit that raises leaves the estimator as it was.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For malformed data, fewer than 2 classes (the classifier) or parameters out of
            range.
        NonFiniteError
            If the cost is not finite at the starting weights.
        KeyboardInterrupt
            On Ctrl-C (or a callback that raises it): raised again once training has
            stopped, the estimator holding the weights of the last completed iteration (with
            early stopping, the best ones so far), so that a loop of fits, a grid search or a
            cross-validation stops too. Before training starts, the estimator is left as it
            was.
        """
        with self._transaction():
            self._fit(X, y, callback)
        if self.result_.interrupted:
            raise KeyboardInterrupt(f"training interrupted after {self.n_iter_} iterations; "
                                    "the estimator holds the last good weights")
        return self

    def _fit(self, X, y, callback):
        """The kind's fit: its targets and cost, then :meth:`_fit_net`."""
        raise NotImplementedError

    # --- checks ------------------------------------------------------------------------------
    def _checked_params(self):
        """Every parameter checked (the table's constraints): a dict of normalised values."""
        return validate(self.get_params(), self._kind)

    @contextlib.contextmanager
    def _transaction(self):
        """Restore the estimator's attributes if the block raises (scikit-learn's rule: a
        failed fit leaves a fitted estimator usable). Training changes the network only after
        every check has passed."""
        saved = dict(self.__dict__)
        net = saved.get("net_")
        # (a warm start trains the network and applies the run's threads to it)
        kept = (net.get_params(), net.n_threads) if net is not None else None
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if net is not None:
                net.set_params(kept[0])
                net.n_threads = kept[1]
            raise

    def _check_X(self, X, fitting=False):
        if _sk_validate is not None:
            if not fitting:
                check_is_fitted(self, "net_")
            return _sk_validate(self, X, reset=fitting, dtype=np.float64)
        X = as_float_array(X, "X", ndim=2)
        if X.shape[0] < 1:
            raise ValueError("X has no samples")
        if X.shape[1] < 1:
            raise ValueError("X has no features")
        if fitting:
            self.n_features_in_ = X.shape[1]
        else:
            if not hasattr(self, "net_"):
                raise not_fitted(self)
            if X.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} "
                                 f"was fitted with {self.n_features_in_}")
        return X

    def _check_Xy(self, X, y, classification):
        """(X, y) for fit: y as a vector (classification) or (N,) / (N, k) targets."""
        if _sk_validate is not None:
            X, y = _sk_validate(self, X, y, reset=True, dtype=np.float64,
                                multi_output=not classification, y_numeric=not classification)
            if classification:
                check_classification_targets(y)
            return X, y
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None")
        X = self._check_X(X, fitting=True)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1 and classification:
            y = y[:, 0]
        if y.shape[0] != X.shape[0] or (classification and y.ndim != 1):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        if y.dtype.kind in "fc" and not np.isfinite(y).all():
            raise ValueError("y contains NaN or Inf")
        return X, y

    def _start(self, X, y, classification):
        """The checks at the start of ``fit``: (checked parameters, reducer, X, y) for this
        process's share of the training data (with several processes a share may be empty,
        and a malformed one, or malformed settings, stop every process)."""
        red = self._reducer()
        error = p = None
        try:
            p = self._checked_params()
        except ValueError as exc:
            error = exc
        agree(red, error, "the estimator's settings on another process are malformed; see its "
                          "message")
        settings = {k: v for k, v in self.get_params().items()
                    if k not in ("comm", "random_state", "n_threads", "verbose")}
        X, y = distributed.checked_share(
            red, lambda X, y: self._check_Xy(X, y, classification), X, y, settings)
        self.n_features_in_ = X.shape[1]
        return p, red, X, y

    def _reducer(self):
        """The reducer of the estimator's `comm` (checked)."""
        return distributed.reducer_of(param("comm").constraint.check(self.comm, "comm"))

    # --- the network -------------------------------------------------------------------------
    def _outputs(self, X):
        # (X checked once here; the scaling and the sweep trust it)
        X = self._check_X(X)
        x0 = place_inputs(self.scaler_.transform(X, check_input=False),
                          getattr(self, "input_offset_", 0))
        return self.net_.forward(x0, check_input=False)

    def initial_state(self, X: ArrayLike) -> NDArray[np.float64]:
        """The network's initial states x(0) of the samples X (N, m): the scaled inputs at
        components ``input_offset_`` to ``input_offset_ + m - 1``, zeros before them; shape
        ``(N, input_offset_ + m)`` (the network pads the rest of its width with zeros). Pass it
        to ``net_``'s methods and to :mod:`snode.analysis`.

        Raises
        ------
        NotFittedError, ValueError
            Before ``fit``; for malformed X.
        """
        X = self._check_X(X)
        return place_inputs(self.scaler_.transform(X, check_input=False),
                            getattr(self, "input_offset_", 0))

    def _fit_net(self, p, red, X, n_out, Y=None, labels=None, cost=None, callback=None,
                 attrs=()):
        """Resolve the "auto" settings, check what depends on the data and the fitted state,
        then set the fitted attributes (`attrs` among them) and train. `p`: the checked
        parameters."""
        # (every process starts from rank 0's seed)
        seed = distributed.shared_seed(red, seed_of(p["random_state"]))
        n_total = int(distributed.global_sums(red, float(len(X)))[0])
        batch_size, epochs = auto.schedule(p["batch_size"], p["epochs"], n_total)
        block = auto.block_size(p["block_size"], n_total)
        early = auto.early_stopping(p["early_stopping"], batch_size,
                                    distributed.can_gather(red))
        if early and not distributed.can_gather(red):
            raise ValueError("early_stopping with several processes needs a reducer that "
                             "implements allgather (snode.mpi.MPIReducer does): the "
                             "held-out samples are drawn from all of them")
        # (several processes under early stopping: every one gathers the whole data set, draws
        # the held-out samples as one process would, and keeps its blocks of each share)
        whole = early and red.size > 1
        if whole:
            X, Y, labels = distributed.gathered(red, X, Y, labels)
        warm = p["warm_start"] and getattr(self, "decay_", None) is not None
        fitted_decay = self.decay_ if warm and p["decay"] == "auto" else None
        paths = auto.decays(p["decay"], self._kind, early, batch_size, fitted=fitted_decay)
        width, offset = auto.layout(p["width"], p["input_offset"], X.shape[1], n_out)
        n_steps = auto.n_steps(p["n_steps"], n_total, width)
        n_folds = auto.folds(X.shape[0], p["validation_fraction"], paths,
                             X.shape[0] * width * width * n_steps) if early else 0
        held = None
        if early and not n_folds:
            try:
                if n_folds is None and p["early_stopping"] == "auto":
                    raise ValueError  # (too few to hold out, too costly to fold)
                held = validation_split(X.shape[0], p["validation_fraction"], seed, labels)
                n_folds = 0
            except ValueError:
                if p["early_stopping"] != "auto":
                    raise
                # ("auto": trained on every sample at the fixed decay)
                early, n_folds = False, 0
                paths = auto.decays(p["decay"], self._kind, early, batch_size,
                                    fitted=fitted_decay)
        threads = distributed.threads(red, p["n_threads"])
        if p["warm_start"] and hasattr(self, "net_"):
            net = self.net_
            if X.shape[1] != self.scaler_.shift_.shape[0]:
                raise ValueError(f"X has {X.shape[1]} features, but the fitted network was "
                                 f"trained on {self.scaler_.shift_.shape[0]}; warm_start "
                                 "goes on with it (set warm_start=False to start afresh)")
            now = {"n_steps": net.n_steps, "T": net.T, "activation": net.activation,
                   "width": net.width, "input_offset": self.input_offset_,
                   "dtype": net.dtype.name}
            asked = {"n_steps": net.n_steps if p["n_steps"] == "auto" else n_steps,
                     "T": p["T"], "activation": p["activation"], "width": width,
                     "input_offset": offset, "dtype": p["dtype"]}
            if isinstance(p["scheme"], str):
                now["scheme"], asked["scheme"] = net.scheme, p["scheme"]
            changed = [k for k in now if now[k] != asked[k]]
            if changed:
                raise ValueError("warm_start goes on with the fitted network: "
                                 + ", ".join(changed) + " must stay as "
                                 + ("it was" if len(changed) == 1 else "they were") + " ("
                                 + ", ".join(f"{k} {now[k]!r}, asked {asked[k]!r}"
                                             for k in changed)
                                 + "); set warm_start=False to start afresh")
            scaler = self.scaler_
            if persistence.scaler_settings(input_scaler(p["scale"])) != \
                    persistence.scaler_settings(scaler):
                raise ValueError("warm_start goes on with the fitted input scaling: scale "
                                 "must stay as it was; set warm_start=False to start afresh")
        else:
            net = SNODE(width, n_steps, T=p["T"], scheme=p["scheme"],
                        activation=p["activation"], init=p["init"], seed=seed,
                        dtype=p["dtype"])
            scaler = input_scaler(p["scale"]).fit(X, reducer=None if whole else red,
                                                  block_size=block, check_input=False)
        optimizer, fitted = self._optimizer(p, net.W.size + net.b.size, batch_size, epochs,
                                            seed)
        # (every setting checked: from here on the estimator holds the new network)
        net.n_threads = threads  # (the run's threads, also for a warm start)
        self.net_, self.scaler_, self.input_offset_ = net, scaler, offset
        if red.rank == 0:
            depth_warning(net.T, net.n_steps, stacklevel=4)  # (at the user's call of fit)
        for k, v in dict(attrs).items():
            setattr(self, k, v)
        self.memory_, self.sobolev_weight_, self.step_rule_ = fitted
        self.batch_size_ = batch_size
        self.epochs_ = None if batch_size is None else epochs
        self.optimizer_ = optimizer
        self.early_stopping_ = bool(early)
        data = (place_inputs(scaler.transform(X, check_input=False), offset), Y, labels)

        def objective(rows=None, cost=cost, reducer=red):  # (data checked on the way in)
            if whole and reducer is red:  # (this process's blocks of the samples `rows`)
                rows = distributed.own_rows(red, n_total if rows is None else rows, block)
            return Objective(net, cost, *_rows(data, rows), reducer=reducer, block_size=block,
                             check_input=False)

        def measure(rows):  # (what validation watches: the data terms, or the Brier score)
            # (several processes each watch every held-out sample, as one process would)
            watched = objective(rows, dataclasses.replace(cost, decay=0.0, smooth=0.0),
                                None if whole else red)
            return watched if labels is None else BrierScore(watched)

        report = _Report(p["verbose"], p["max_iter"] if batch_size is None else None)
        callback = report.callback(callback)
        single = paths == ((paths[0][0],),)
        stages = Stages(optimizer, objective, cost, p["max_iter"],
                        auto.stage_iterations(p["max_iter"], paths),
                        say=None if single else report.message)
        watch = None
        with warned_once(stacklevel=3), report:  # (each warning once, at the user's fit)
            if n_folds:  # (a stage chosen by folds, then trained to on all samples)
                k, j, costs = stages.folds(net, paths, fold_split(X.shape[0], n_folds, seed,
                                                                  labels), measure)
                stages.to_stage(paths[k][:j + 1], n_folds, callback)
                reached = sum(len(path) for path in paths[:k]) + len(stages.runs) - 1
                self.validation_costs_ = costs
                self.best_validation_cost_ = float(costs[reached])
            elif held is not None:  # train on the rest, watch the held-out samples
                train_rows, val = held
                # (along decay paths the stages run whole; their ends decide)
                watch = EarlyStopping(measure(val), p["n_iter_no_change"] if single else None,
                                      p["ftol"], callback, per_epoch=batch_size is not None,
                                      say=report.message)
                watch.check()  # (the starting weights are a candidate: warm_start's too)
                if single:
                    stages.run(paths[0][0], p["max_iter"], train_rows, watch)
                else:
                    stages.paths(net, paths, train_rows, watch, p["n_iter_no_change"])
            else:
                stages.run(paths[0][0], p["max_iter"], None, callback)
                for name in ("validation_costs_", "best_validation_cost_"):  # (a former's)
                    self.__dict__.pop(name, None)
        result = chained([r for _, r in stages.runs])
        self.decay_ = stages.runs[-1][0]
        if watch is not None:
            result = watch.finish(result, stages.training)
            ends = np.cumsum([r.n_iter for _, r in stages.runs])
            self.decay_ = stages.runs[min(int(np.searchsorted(ends, watch.best_iter)),
                                          len(stages.runs) - 1)][0]
            if stages.ended:
                result.message = (
                    f"early stopping: the validation cost did not fall over the last stages "
                    f"of the weight-decay path; the weights of iteration {watch.best_iter} "
                    f"(weight decay {self.decay_:g}) kept")
                result.success = True
            self.validation_costs_ = np.asarray(watch.costs)
            self.best_validation_cost_ = watch.best
        self.result_ = result
        self.history_ = self.result_.history
        self.n_iter_ = self.result_.n_iter
        self.loss_curve_ = loss_curve(self.history_, per_epoch=batch_size is not None)
        report.message(f"Training ended after {self.n_iter_} iterations: "
                       f"{self.result_.message}")
        return self

    @staticmethod
    def _optimizer(p, n_weights, batch_size, epochs, seed):
        """The optimiser of the checked parameters `p` (the "auto" rules resolved) and what the
        fitted estimator reports of it (memory_, sobolev_weight_, step_rule_). Every
        registered optimiser is built from the settings, so that a mistake in any of them is
        reported, not kept in the parameters and the saved file."""
        memory = auto.memory(p["memory"], p["beta"], batch_size, n_weights)
        settings = dict(p, memory=memory,
                        sobolev_weight=auto.sobolev_weight(p["sobolev_weight"], batch_size),
                        ncg_options=dict(p["ncg_options"] or {},
                                         step=auto.step_rule(p["ncg_options"], memory)))
        schedule = dict(batch_size=batch_size, epochs=epochs, max_iter=p["max_iter"],
                        seed=seed, drop_last=p["drop_last"], ftol=p["ftol"],
                        n_iter_no_change=p["n_iter_no_change"])
        built = {name: spec.build(settings, schedule) for name, spec in OPTIMIZERS.items()}
        optimizer = built[p["optimizer"]]
        return optimizer, OPTIMIZERS[p["optimizer"]].fitted(optimizer)

    # --- persistence -------------------------------------------------------------------------
    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the fitted estimator to `path` (.npz, atomically); read it with snode.load.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError, OSError
            If the file cannot be written (an existing file is then left as it was).
        """
        if not hasattr(self, "net_"):
            raise not_fitted(self)
        self.net_.save(path, persistence.meta_of(self, self._extra_meta()))

    @classmethod
    def _from_file(cls, net, meta):
        """The fitted estimator of a model file's network and metadata, checked as ``fit``
        checks its settings (an edited file fails here, not at the next fit)."""
        params = persistence.migrated_params(meta, cls._kind)
        if params.get("scheme", "") is None:  # (a tableau of its own: the file's network's)
            params["scheme"] = net.tableau
        est = cls(**params)
        p = est._checked_params()
        batch_size, epochs = auto.schedule(p["batch_size"], p["epochs"], 0)
        _, fitted = est._optimizer(p, net.W.size + net.b.size, batch_size, epochs, None)
        persistence.restore_common(est, net, meta, step_rule=fitted[2])
        est._restore_meta(meta)
        net.n_threads = p["n_threads"]  # (the run settings stored, as a fit applies them)
        return est

    def _extra_meta(self):
        """What this kind of estimator writes in its file beside the common metadata."""
        raise NotImplementedError

    def _restore_meta(self, meta):
        """Set this kind's fitted attributes from a file's metadata (checked)."""
        raise NotImplementedError


class _Report:
    """What a fit tells: with ``verbose`` (scikit-learn's meaning) shown on stdout through a
    :class:`~snode.progress.Progress` (a line per iteration with its number and the training
    cost, or a bar where tqdm is installed and stdout is a terminal, the messages between);
    without it sent to the ``snode.estimators`` logger (INFO; each iteration's cost at
    DEBUG), for an application that configures logging. One or the other, never both."""

    def __init__(self, verbose, total):
        self.verbose = bool(verbose)
        self.progress = Progress(total, "training", stream=sys.stdout, every=0,
                                 line=lambda n, status: f"Iteration {n}, {status}",
                                 disable=not verbose)

    def message(self, text):
        if self.verbose:
            self.progress.write(text)
        else:
            _log.info(text)

    def callback(self, user):
        """The callback of every iteration: the report, then the user's callback."""

        def call(rec):
            if self.verbose:
                self.progress.update(status=f"loss = {rec['cost']:.8f}")
            else:
                self.progress.update()  # (counted, not shown)
                _log.debug("Iteration %d, loss = %.8f", self.progress.count, rec["cost"])
            return bool(user(rec)) if user is not None else False

        return call

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.progress.close()
        return False


def loss_curve(history, per_epoch):
    """The training cost of every iteration (full batch), or its mean over each epoch's
    batches (mini-batches), as a list of floats: scikit-learn's MLP's ``loss_curve_``."""
    cost = np.asarray(history["cost"], dtype=float)
    if not per_epoch or cost.size == 0:
        return [float(c) for c in cost]
    epochs = np.asarray(history["epoch"]).astype(np.int64)
    sums = np.bincount(epochs, weights=cost)
    counts = np.bincount(epochs)
    return [float(s / c) for s, c in zip(sums, counts) if c]


def _rows(data, rows):
    """The arrays of `data` (X, Y, labels; None kept), at `rows` (None: all)."""
    if rows is None:
        return data
    return tuple(None if a is None else a[rows] for a in data)
