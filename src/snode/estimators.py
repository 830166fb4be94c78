"""scikit-learn-style estimators: SNODEClassifier and SNODERegressor.

They follow scikit-learn's conventions (fit / predict / score, get_params / set_params,
warm_start, random_state, fitted attributes ending in ``_``) and derive from its base classes
when scikit-learn is installed; without it they work the same on their own.
"""
import contextlib
import dataclasses
import inspect

import numpy as np

from . import io
from ._validate import as_float_array, check_int
from .cost import Cost
from .data import Scaler
from .model import SNODE, place_inputs as _place, softmax
from .objective import Objective
from .reduce import Reducer, agree, check_reducer, reduce_floats, same_everywhere
from ._validate import check_fraction as _check_weight
from .optim import NCG, STEP_RULES, Adam, GradientDescent
from .presets import preset

__all__ = ["SNODEClassifier", "SNODERegressor", "OPTIMIZERS"]

OPTIMIZERS = ("ncg", "adam", "sgd", "gd")
#: The settings of NCG that `ncg_options` may hold (the others are the estimators' own).
NCG_OPTIONS = ("step", "safeguard", "beta_inner", "armijo", "max_backtracks", "tol",
               "wolfe_c2")
#: ncg_options' step "auto" (the default): the line search of each direction. Measured (5
#: seeds each of spirals, moons and xor; L-BFGS, 40 pairs, the hybrid gradient): the
#: strong-Wolfe search from the step 1 reached Adam's best final cost sooner (medians 0.70,
#: 0.58 and 0.84-0.99 s; 15 of 15 seeds before Adam) than the sensitivity step (1.00, 0.64 and
#: 1.01 s; 12 of 15), at a cheaper iteration and with far fewer slow seeds (docs/method.md,
#: section 7).
AUTO_STEP = {"lbfgs": "wolfe", "conjugate": "sensitivity"}
#: memory="auto": this many pairs in full-batch mode (bench/bench_quality.py,
#: bench/bench_metric.py), fewer for large networks (the pairs, two vectors of the weights'
#: size each, take at most AUTO_MEMORY_BYTES); none in mini-batch mode. Measured with the
#: hybrid gradient over 12 seeds of spirals, moons and xor: 40 pairs reached a training cost
#: of 0.005 in 4-15 % fewer gradient evaluations than 20 (medians 438, 210, 234 against 514,
#: 222, 264; 80 pairs: 438, 200, 238; 10 pairs: far worse) at the same time an iteration at
#: width 4.
AUTO_MEMORY = 40
AUTO_MEMORY_BYTES = 256 * 2**20
#: n_steps="auto": AUTO_STEPS depth steps, fewer (down to AUTO_STEPS_MIN) where a sweep over
#: the training set would exceed AUTO_STEPS_WORK = samples x width^2 x steps. Measured (5
#: seeds, bench/bench_quality.py): 60 steps against 20-30 gain a test sample or two on
#: spirals and xor, where a run takes seconds; on digits (1347 samples, width 66) 10 steps
#: give the held-out accuracy of 60 (median 0.964 either way) in a sixth of the time.
AUTO_STEPS = 60
AUTO_STEPS_MIN = 10
AUTO_STEPS_WORK = 6e7
#: sobolev_weight="auto": the hybrid gradient's weight in full-batch mode (the Sobolev
#: gradient, 1, in mini-batch mode; measured: docs/method.md, the hybrid gradient).
AUTO_SOBOLEV_WEIGHT = 0.5
#: The settings that files written before them lack, with the values those files were trained
#: with (no stop on a stalled cost; the Sobolev gradient; the inputs from the first component).
_PARAMS_BEFORE = dict(ftol=0.0, sobolev_weight=1.0, input_offset=0)
#: The line search of files written before ncg_options' step "auto" (which such files lack,
#: with their meta's "step_rule_used").
_STEP_BEFORE = "sensitivity"

try:  # scikit-learn is optional: with it, its own input validation (and messages) is used
    from sklearn.base import BaseEstimator as _SkBase
    from sklearn.base import ClassifierMixin as _SkClassifier
    from sklearn.base import RegressorMixin as _SkRegressor
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted

    try:
        from sklearn.utils.validation import validate_data as _sk_validate
    except ImportError:  # scikit-learn < 1.6
        def _sk_validate(est, *args, **kwargs):
            return est._validate_data(*args, **kwargs)
except ImportError:  # pragma: no cover - exercised where scikit-learn is absent
    _SkBase = object
    _sk_validate = None

    class _SkClassifier:
        pass

    class _SkRegressor:
        pass


class _Params:
    """get_params / set_params from the __init__ signature (scikit-learn's convention)."""

    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
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


class _SNODEEstimator(_Params):
    @contextlib.contextmanager
    def _transaction(self):
        """Restore the estimator's attributes if the block raises (scikit-learn's rule: a
        failed fit leaves a fitted estimator usable). Training changes the network only after
        every check has passed."""
        saved = dict(self.__dict__)
        net = saved.get("net_")
        weights = net.get_params() if net is not None else None  # (warm start trains it)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if net is not None:
                net.set_params(weights)
            raise

    @classmethod
    def from_preset(cls, name, **params):
        """The estimator with a named configuration's settings (``snode.preset(name)``;
        "baravdish2022" is the method's authors' prototype); `params` change some of them.

        Raises
        ------
        ValueError
            For an unknown preset or parameter.
        """
        settings = preset(name).estimator_params()
        if cls is SNODERegressor:
            settings.pop("loss")
        est = cls()
        est.set_params(**{**settings, **params})
        return est

    def _make_optimizer(self, n_weights):
        options = {} if self.ncg_options is None else self.ncg_options
        if not isinstance(options, dict) or not set(options) <= set(NCG_OPTIONS):
            raise ValueError(f"ncg_options must be a dict with keys from {NCG_OPTIONS}, "
                             f"got {options!r}")
        memory = self._memory(n_weights)
        options = dict(options, step=self._step_rule(options, memory))
        metric = "l2" if self.sobolev_alpha is None else "sobolev"
        alpha = "auto" if self.sobolev_alpha is None else self.sobolev_alpha
        weight = self._sobolev_weight()  # (checked also where it is not used)
        common = dict(batch_size=self.batch_size, epochs=self.epochs, max_iter=self.max_iter,
                      seed=self._seed, drop_last=self.drop_last, ftol=self.ftol,
                      n_iter_no_change=self.n_iter_no_change)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of "
                             f"{OPTIMIZERS}")
        # NCG's settings are checked whichever optimizer runs: a mistake in them is reported,
        # not kept in the parameters and the saved file
        ncg = NCG(beta="FR" if self.beta is None else self.beta, memory=memory,
                  metric=metric, alpha=alpha,
                  sobolev_weight=1.0 if self.sobolev_alpha is None or alpha == 0 else weight,
                  iterations_per_batch=self.iterations_per_batch, **common, **options)
        if self.optimizer == "ncg":
            return ncg
        if self.optimizer == "adam":
            return Adam(lr=self.lr, **common)
        momentum = 0.9 if self.optimizer == "sgd" else 0.0
        return GradientDescent(lr=self.lr, momentum=momentum, **common)

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
                raise _not_fitted(self)
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

    def _share(self, X, y, classification):
        """_check_Xy for this process's share of the training data: with several processes
        a share may be empty, and a malformed one stops every process (none goes on alone
        into the calls the others make)."""
        red = self._reducer()
        if red.size == 1:
            return self._check_Xy(X, y, classification)
        error = None
        try:
            if np.ndim(X) == 2 and np.shape(X)[0] == 0 and np.shape(y)[:1] == (0,):
                X, y = np.empty(np.shape(X)), np.asarray(y)  # (no samples here)
                if X.shape[1] < 1:
                    raise ValueError("X has no features")
                self.n_features_in_ = X.shape[1]
            else:
                X, y = self._check_Xy(X, y, classification)
        except ValueError as exc:
            error = exc
        agree(red, error, "the training data of another process are malformed; see its "
                          "message")
        settings = {k: v for k, v in self.get_params().items()
                    if k not in ("comm", "random_state", "n_threads")}
        same_everywhere(red, "the estimator's settings or the data's columns",
                        sorted(settings.items(), key=lambda kv: kv[0]), X.shape[1],
                        np.shape(y)[1:])
        return X, y

    def _outputs(self, X):
        x0 = self.initial_state(X)  # (checks that the estimator is fitted)
        return self.net_.forward(x0)

    def initial_state(self, X):
        """The network's initial states x(0) of the samples X (N, m): the scaled inputs at
        components ``input_offset_`` to ``input_offset_ + m - 1``, zeros before them; shape
        (N, input_offset_ + m) (the network pads the rest of its width with zeros). Pass it
        to ``net_``'s methods and to :mod:`snode.analysis`.

        Raises
        ------
        NotFittedError, ValueError
            Before ``fit``; for malformed X.
        """
        X = self._check_X(X)
        return _place(self.scaler_.transform(X), getattr(self, "input_offset_", 0))

    def _fit_net(self, X, n_out, Y=None, labels=None, cost=None, callback=None, attrs=()):
        """Check every setting, then set the fitted attributes (`attrs` among them) and
        train."""
        red = self._reducer()
        self._seed = None if self.random_state is None else (
            self.random_state if isinstance(self.random_state, (int, np.integer))
            else np.random.default_rng(self.random_state).integers(2**31))
        if red.size > 1:  # every process starts from rank 0's random state
            if self._seed is None:
                self._seed = int(np.random.default_rng().integers(2**31))
            self._seed = red.allgather(self._seed)[0]
        held = self._validation_split(X.shape[0], labels)  # (checked before any change)
        width, offset = self._width(X.shape[1], n_out)
        n_steps = self._n_steps(self._global(float(len(X)))[0], width)
        if self.warm_start and hasattr(self, "net_"):
            net = self.net_
            if X.shape[1] != self.scaler_.shift_.shape[0]:
                raise ValueError(f"X has {X.shape[1]} features, but the fitted network was "
                                 f"trained on {self.scaler_.shift_.shape[0]}; warm_start "
                                 "goes on with it (set warm_start=False to start afresh)")
            now = (net.n_steps, net.T, net.activation, net.width, self.input_offset_)
            asked = (net.n_steps if self.n_steps == "auto" else n_steps, float(self.T),
                     self.activation, width, offset)
            if now != asked or (isinstance(self.scheme, str) and self.scheme != net.scheme):
                raise ValueError("warm_start goes on with the fitted network: n_steps, T, "
                                 "scheme, activation, width and input_offset must stay as "
                                 f"they were ({net!r}, input_offset {self.input_offset_}); "
                                 "set warm_start=False to start afresh")
            scaler = self.scaler_
            if _settings_of(_scaler(self.scale)) != _settings_of(scaler):
                raise ValueError("warm_start goes on with the fitted input scaling: scale "
                                 "must stay as it was; set warm_start=False to start afresh")
        else:
            threads = self.n_threads
            if threads is None and red.size > 1 and hasattr(red, "comm"):
                from .mpi import threads_per_rank  # (ranks on one machine share its cores)

                threads = threads_per_rank(red.comm)
            net = SNODE(width, n_steps, T=self.T, scheme=self.scheme,
                        activation=self.activation, init=self.init, seed=self._seed,
                        n_threads=threads)
            scaler = _scaler(self.scale).fit(X, reducer=red, block_size=self.block_size)
        optimizer = self._make_optimizer(net.W.size + net.b.size)
        # (every setting checked: from here on the estimator holds the new network)
        self.net_, self.scaler_, self.input_offset_ = net, scaler, offset
        for k, v in dict(attrs).items():
            setattr(self, k, v)
        self.memory_ = getattr(optimizer, "memory", 0)  # (0 for adam, sgd and gd)
        self.sobolev_weight_ = getattr(optimizer, "sobolev_weight", 1.0)
        self.step_rule_ = getattr(optimizer, "step", None)  # (None for adam, sgd and gd)
        X0 = _place(self.scaler_.transform(X), offset)
        if held is None:
            objective = Objective(self.net_, cost, X0, Y, labels, reducer=red,
                                  block_size=self.block_size)
            self.result_ = optimizer.minimize(objective, callback=callback)
            for name in ("validation_costs_", "best_validation_cost_"):  # (a former fit's)
                self.__dict__.pop(name, None)
        else:  # early stopping: train on the rest, watch the cost on the held-out samples
            train, val = held
            pick = lambda a, i: None if a is None else a[i]  # noqa: E731
            objective = Objective(self.net_, cost, X0[train], pick(Y, train),
                                  pick(labels, train), reducer=red, block_size=self.block_size)
            watch = _EarlyStop(
                Objective(self.net_, dataclasses.replace(cost, decay=0.0, smooth=0.0), X0[val],
                          pick(Y, val), pick(labels, val), reducer=red,
                          block_size=self.block_size),
                self.n_iter_no_change, self.ftol, callback,
                per_epoch=self.batch_size is not None)
            watch.check()  # (the starting weights are a candidate: warm_start's too)
            self.result_ = watch.finish(optimizer.minimize(objective, callback=watch), objective)
            self.validation_costs_ = np.asarray(watch.costs)
            self.best_validation_cost_ = watch.best
        self.history_ = self.result_.history
        self.n_iter_ = self.result_.n_iter
        return self

    def _validation_split(self, n, labels=None):
        """Early stopping: (train, validation) indices of the n samples, drawn from the
        random state (stratified by the class `labels`, every class kept in training); None
        without early stopping."""
        if not isinstance(self.early_stopping, (bool, np.bool_)):
            raise ValueError(f"early_stopping must be True or False, got "
                             f"{self.early_stopping!r}")
        if not self.early_stopping:
            return None
        frac = self.validation_fraction
        if isinstance(frac, (bool, np.bool_)) or not isinstance(frac, (int, float, np.number)) \
                or not 0.0 < frac < 1.0:
            raise ValueError("validation_fraction must be a number in (0, 1), got "
                             f"{frac!r}")
        if self._reducer().size > 1:
            # (each process's samples must be whole blocks of the sums over samples; a held-out
            # share of them is not)
            raise ValueError("early_stopping is not available with several processes (comm): "
                             "hold out validation samples and watch them with a callback")
        rng = np.random.default_rng(self._seed)
        groups = [np.arange(n)] if labels is None else \
            [np.flatnonzero(labels == c) for c in np.unique(labels)]
        train, val = [], []
        for g in groups:
            g = rng.permutation(g)
            k = int(round(frac * g.size))
            if labels is not None:  # (every class keeps a training sample)
                k = min(k, g.size - 1)
            val.append(g[:k])
            train.append(g[k:])
        train, val = np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
        if val.size < 1 or train.size < 1:
            raise ValueError(f"validation_fraction={frac:g} of {n} samples leaves no "
                             "validation or no training samples")
        return train, val

    def _reducer(self):
        """The reducer of `comm` (checked; a LocalReducer for None)."""
        comm = self.comm
        if comm is None or isinstance(comm, Reducer):
            return check_reducer(comm)
        if hasattr(comm, "Get_rank") and hasattr(comm, "Get_size"):
            from .mpi import MPIReducer

            return MPIReducer(comm)
        raise ValueError(f"comm must be an mpi4py communicator, a snode.Reducer or None, got "
                         f"{comm!r}")

    def _global(self, *values):
        """Sums of floats over the processes of `comm` (the values as they are for one)."""
        red = self._reducer()
        return values if red.size == 1 else reduce_floats(red, *values)

    def _memory(self, n_weights):
        """NCG's memory for a network of `n_weights` weights ("auto": see the docstring)."""
        if not (isinstance(self.memory, str) and self.memory == "auto"):
            if isinstance(self.memory, str):
                raise ValueError("memory (NCG's number of L-BFGS pairs) must be an integer "
                                 f">= 0 or 'auto', got {self.memory!r}")
            return check_int(self.memory, "memory", 0)
        if self.beta is not None:  # a conjugate rule chosen: its direction
            return 0
        if self.batch_size is not None:
            # mini-batch mode: the conjugate direction. The memory would be forgotten at every
            # batch; measured (5 seeds, batches of 100) it gained little on the 2-D sets and
            # lost a seed of spirals, and with a small batch and a wide network its vector
            # work rivals the sweeps' (MNIST width 198: slower than FR by more than 1.8x)
            return 0
        return max(0, min(AUTO_MEMORY, AUTO_MEMORY_BYTES // (16 * n_weights)))

    @staticmethod
    def _step_rule(options, memory):
        """NCG's line search: ncg_options' "step", "auto" (the default) resolved by the
        direction (AUTO_STEP)."""
        step = options.get("step", "auto")
        if isinstance(step, str) and step == "auto":
            return AUTO_STEP["lbfgs" if memory else "conjugate"]
        return step

    def _n_steps(self, n_samples, width):
        """The network's depth steps for n_samples training samples (over all processes) and
        the width ("auto": see AUTO_STEPS)."""
        if isinstance(self.n_steps, str):
            if self.n_steps != "auto":
                raise ValueError(f"n_steps must be an integer >= 1 or 'auto', got "
                                 f"{self.n_steps!r}")
            work = max(1.0, n_samples) * width * width
            return int(min(AUTO_STEPS, max(AUTO_STEPS_MIN, AUTO_STEPS_WORK // work)))
        return check_int(self.n_steps, "n_steps", 1)

    def _sobolev_weight(self):
        """NCG's hybrid-gradient weight ("auto": AUTO_SOBOLEV_WEIGHT in full-batch mode, 1,
        the Sobolev gradient, in mini-batch mode)."""
        if isinstance(self.sobolev_weight, str):
            if self.sobolev_weight != "auto":
                raise ValueError("sobolev_weight must be a number in [0, 1] or 'auto', got "
                                 f"{self.sobolev_weight!r}")
            return 1.0 if self.batch_size is not None else AUTO_SOBOLEV_WEIGHT
        return _check_weight(self.sobolev_weight, "sobolev_weight")

    def _width(self, m, n_out):
        """The network's width and the inputs' first component for m features and n_out
        outputs (see the `width` and `input_offset` parameters)."""
        auto = isinstance(self.input_offset, str)
        if auto and self.input_offset != "auto":
            raise ValueError("input_offset must be an integer >= 0 or 'auto', got "
                             f"{self.input_offset!r}")
        offset = n_out if auto else check_int(self.input_offset, "input_offset", 0)
        if self.width is None:
            width = max(offset + m, max(m, n_out) + 2)
        elif isinstance(self.width, str):
            if self.width != "inputs":
                raise ValueError(f"width must be an integer, None or 'inputs', got "
                                 f"{self.width!r}")
            width = max(m, n_out) if auto else max(offset + m, n_out)
        else:
            width = check_int(self.width, "width", 1)
        if width < max(m, n_out):
            raise ValueError(f"width {width} is below the number of features ({m}) or "
                             f"outputs ({n_out})")
        if auto:  # (the inputs as far from the outputs as the width lets them be)
            offset = min(offset, width - m)
        elif offset + m > width:
            raise ValueError(f"input_offset {offset} puts the last of the {m} inputs past the "
                             f"width {width}")
        return width, offset

    def save(self, path):
        """Write the fitted estimator to `path` (.npz, atomically); read it with snode.load."""
        if not hasattr(self, "net_"):
            raise _not_fitted(self)
        params = self.get_params()
        params.pop("comm")  # (the processes are this run's, not the model's)
        meta = {"estimator": type(self).__name__, "params": _jsonable(params),
                "scaler": self.scaler_.to_dict(), "n_features_in": int(self.n_features_in_)}
        if hasattr(self, "memory_"):
            meta["memory_used"] = int(self.memory_)
        if hasattr(self, "sobolev_weight_"):
            meta["sobolev_weight_used"] = float(self.sobolev_weight_)
        if hasattr(self, "step_rule_"):
            meta["step_rule_used"] = self.step_rule_
        meta["input_offset_used"] = int(getattr(self, "input_offset_", 0))
        if hasattr(self, "feature_names_in_"):  # (fitted on a table with column names)
            meta["feature_names_in"] = [str(name) for name in self.feature_names_in_]
        meta.update(self._extra_meta())
        self.net_.save(path, meta)

    @classmethod
    def _params_before(cls):
        """The settings that files written before them lack, with the values those files were
        trained with."""
        return _PARAMS_BEFORE

    @classmethod
    def _from_file(cls, net, meta):
        # a setting that came in after the file was written takes the value that reproduces
        # how it was trained, not today's default
        params = {**(cls._params_before() if "params" in meta else {}),
                  **meta.get("params", {})}
        options = params.get("ncg_options")
        if "params" in meta and "step_rule_used" not in meta and (
                options is None or isinstance(options, dict) and "step" not in options):
            params["ncg_options"] = dict(options or {}, step=_STEP_BEFORE)
        est = cls(**params)
        # the stored settings checked as fit checks them (an edited file fails here, not at
        # the next fit)
        est._seed = None
        est._make_optimizer(net.W.size + net.b.size)
        _scaler(est.scale)
        est.net_ = net
        n = meta["n_features_in"]
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= net.width:
            raise ValueError(f"n_features_in must be an integer in [1, {net.width}], got {n!r}")
        est.scaler_ = _stored_scaler(meta["scaler"], n, "input")
        est.n_features_in_ = n
        offset = meta.get("input_offset_used", 0)  # (files from before it: the inputs first)
        if isinstance(offset, bool) or not isinstance(offset, int) or \
                not 0 <= offset <= net.width - n:
            raise ValueError(f"input_offset_used must be an integer in [0, {net.width - n}], "
                             f"got {offset!r}")
        est.input_offset_ = offset
        if "feature_names_in" in meta:
            names = meta["feature_names_in"]
            if not isinstance(names, list) or len(names) != n or \
                    not all(isinstance(name, str) for name in names):
                raise ValueError(f"feature_names_in must be a list of {n} strings")
            est.feature_names_in_ = np.asarray(names, dtype=object)
        if "memory_used" in meta:
            m = meta["memory_used"]
            if isinstance(m, bool) or not isinstance(m, int) or m < 0:
                raise ValueError(f"memory_used must be an integer >= 0, got {m!r}")
            est.memory_ = m
        if "sobolev_weight_used" in meta:
            est.sobolev_weight_ = _check_weight(meta["sobolev_weight_used"],
                                                "sobolev_weight_used")
        elif "params" in meta and "sobolev_weight" not in meta["params"]:
            est.sobolev_weight_ = 1.0  # (a file from before the hybrid gradient)
        if "step_rule_used" in meta:
            step = meta["step_rule_used"]
            if step is not None and not (isinstance(step, str) and step in STEP_RULES):
                raise ValueError(f"step_rule_used must be one of {STEP_RULES} or null, got "
                                 f"{step!r}")
            est.step_rule_ = step
        elif "params" in meta:  # (a file from before the auto line search)
            est.step_rule_ = est.ncg_options["step"] if est.optimizer == "ncg" else None
        est._restore_meta(meta)
        return est


class SNODEClassifier(_SNODEEstimator, _SkClassifier, _SkBase):
    """Classification with a standalone neural ODE; the classes are read from the first C
    outputs (softmax for probabilities).

    Parameters
    ----------
    width : int, None or "inputs"
        State dimension; None: room for the classes' components and the features after
        them, and at least the larger of features and classes plus 2
        (``max(m + C, max(m, C) + 2)`` for m features and C classes); "inputs": the larger
        of features and classes (with an integer `input_offset`: room for the features
        after it).
    input_offset : int >= 0 or "auto", default "auto"
        The state's component where the (scaled) inputs begin; x(0) is zero before them and
        after them. The outputs are always the first C components. "auto": C, so that the
        outputs have components of their own, zero at t = 0, or as near to C as the width
        lets the inputs be (``min(C, width - m)``; 0 with ``width="inputs"`` when m >= C).
        0 is the method's authors' layout: the outputs start at the first inputs, so a
        class's score begins at an input's value (rare pixels of digits, standardised,
        reach 40), which the flow moves by at most about ``T max|s|``. Measured (5 seeds,
        held-out medians, against 0): digits 0.971 against 0.967, breast cancer 0.979
        against 0.972 (scikit-learn's MLP: 0.971, 0.979); the 2-D sets, iris and wine
        within a test sample or two (docs/method.md, section 1). The offset used is
        ``input_offset_``.
    n_steps : int >= 1 or "auto", default "auto"
        Depth steps K of the network (:class:`snode.SNODE`). "auto": 60, fewer for large
        problems, down to 10: ``min(60, max(10, 6e7 // (N width^2)))`` for N training samples
        (the work of a sweep grows as N width^2 K). Measured: on the small 2-D sets 60 steps
        gain a test sample or two over 20-30, in seconds; on digits (1347 samples, width 66)
        the 10 steps this gives reach the held-out accuracy of 60 in a sixth of the time.
        ``net_.n_steps`` is the number used.
    T, scheme, activation, init
        As for :class:`snode.SNODE`.
    loss : {"ce", "mse"}, default "ce"
        Softmax cross-entropy of the first C outputs, or squared error to one-hot targets.
    optimizer : {"ncg", "adam", "sgd", "gd"}, default "ncg"
    beta : str or None, default None
        NCG's conjugacy rule ("FR", "PR+", "HS", "DY", "FR-PR", "sd"): choosing one selects
        the conjugate direction (`memory` "auto" is then 0). None: FR when `memory` is 0.
    memory : int >= 0 or "auto", default "auto"
        NCG's direction: 0 the conjugate direction of `beta`; m > 0 the limited-memory BFGS
        direction in the same metric from the last m steps (:class:`snode.NCG`; `beta` must
        then be None or "FR"); the step length is ncg_options' "step". "auto":
        0 when `beta` is given and in mini-batch mode (where the memory is forgotten at
        every batch, and with small batches and wide networks its vector work rivals the
        sweeps'); else 40 pairs (by measurement: bench/bench_quality.py,
        bench/bench_metric.py, docs/method.md), at most what keeps the stored pairs (16 bytes
        per weight each) within 256 MiB. The number used is ``memory_``.
    sobolev_alpha : float, "auto" or None, default "auto"
        Weight of the Sobolev metric's derivative term ("auto": (T/6)^2, smoothing over a
        sixth of the depth; see :func:`snode.optim.auto_alpha`); None for the L2 metric.
    sobolev_weight : float in [0, 1] or "auto", default "auto"
        NCG's hybrid gradient: this share of the Sobolev gradient, the rest the L2 gradient
        (:class:`snode.NCG`; 1: the Sobolev gradient). "auto": 0.5 in full-batch mode, 1 in
        mini-batch mode (where the Sobolev gradient's smoothing of the batches' noisy
        gradients counted: MNIST, one epoch of batches of 100, test accuracy 0.922 with it
        against 0.873 with 0.5; spirals and xor, 20 epochs of batches of 100 over 5 seeds,
        final training costs 0.079 and 0.063 against 0.117 and 0.121 at the same held-out
        accuracy within a test sample). The number used is ``sobolev_weight_``. Measured in full
        batch over 12 seeds of spirals,
        moons and xor (docs/method.md, the hybrid gradient), 0.5 reached a training cost of
        0.005 in 39 and 52 % fewer iterations (medians) than the Sobolev gradient on spirals
        and xor (where 5 and 3 of 12 Sobolev runs stayed above it for 800 iterations), about
        as fast on moons, at lower final costs and the same or better held-out accuracy, with
        weights 1.35-1.4 times as rough over depth (total variation, medians over the 12; as
        rough as with the L2 gradient: smooth weights on such sets need ``1``);
        on the teacher problem its total variation stays within 1.4 times the Sobolev run's
        (bench/bench_metric.py, the README's metric table).
    batch_size, iterations_per_batch, epochs, max_iter
        Mini-batch schedule (batch_size set) or full-batch iterations (batch_size None).
    lr : float
        Learning rate of adam, sgd (momentum 0.9) and gd.
    drop_last : bool, default False
        Mini-batch mode: leave out each epoch's last batch when it is partial.
    ncg_options : dict or None
        More settings of :class:`snode.NCG`: any of "step", "safeguard", "beta_inner",
        "armijo", "max_backtracks", "tol", "wolfe_c2". "step" may also be "auto" (the
        default): the strong-Wolfe search from the step 1 for the limited-memory direction,
        the sensitivity step for the conjugate ones (measured: docs/method.md, section 7);
        the rule used is ``step_rule_``.
    decay : float >= 0, default 1e-4
        Weight decay: the cost's L2(0, T) penalty ``decay/2 int_0^T |W|^2 + |b|^2 dt``
        (:class:`snode.Cost`). Without it the cross-entropy of separable data keeps pulling
        the weights outward. Of 0, 1e-4, 1e-3 and 1e-2, in median held-out accuracy over five
        seeded splits of spirals, circles, moons, xor and scikit-learn's iris, wine and breast
        cancer sets, 1e-4 and 1e-3 did best (each ahead on one set, equal on the others), 0
        and 1e-2 worse; 1e-4 is the smaller of the two.
    scale : {"standard", "range", "image", "none"}, default "standard"
        Input scaling fitted on the training data: "standard" per feature (constant features
        keep scale 1), "range" each feature to [-1, 1], "image" all values together with the
        smallest to 0 and the largest to -1 (background 0, strokes -1, the method's authors'
        scaling of images). For pixel data "image" is the better choice: on scikit-learn's
        digits (5 seeds) it gave a held-out median of 0.971, scikit-learn's MLP's, against
        0.964 with "standard".
    random_state, warm_start, n_threads
    block_size : int or None
        Samples of a block of the sums over samples (:class:`snode.Objective`; default 4096).
    comm : mpi4py communicator, Reducer or None
        Train over several processes (:mod:`snode.mpi`): each process passes its own share of
        the samples to ``fit`` (whole blocks: :func:`snode.shard`) and gets the same fitted
        estimator, bit for bit the one a single process fits to all samples; the classes,
        the input scaling and the initial weights are those of all processes' samples (a
        random_state of None is drawn on rank 0). ``fit`` and ``score`` are then collective
        (every process calls them, with its share, possibly empty) and ``score`` scores
        every process's samples together; with `n_threads` None, the ranks on one machine
        share its CPUs.
        None: one process.
    ftol : float >= 0, default 1e-4
        Full-batch mode: stop (converged) when the training cost fell by at most
        ``ftol |cost|`` over the last `n_iter_no_change` iterations and is the lowest of them
        (a cost that rose is no stall); 0 runs all `max_iter`
        (scikit-learn's MLP stops on the same kind of test with its `tol`). Measured over
        five seeds: 1e-4 ends the digits runs after about 250 of 800 iterations at their
        final cost (to 1e-3) and stops none of spirals, xor or the teacher problem early;
        1e-3 stopped one xor run on a plateau at five times its final cost.
    n_iter_no_change : int >= 1, default 10
    early_stopping : bool, default False
        Hold out `validation_fraction` of the training samples (drawn from the random
        state; the classifier's per class, every class keeping a training sample), train on
        the rest, and watch the validation cost (the loss's data terms, no decay) at the
        start and after every iteration (mini-batch mode: at every epoch's end); stop when
        it has not fallen below ``(1 - ftol)`` times its best for `n_iter_no_change` checks,
        and keep the weights of its best (scikit-learn's MLP's rule, with the best weights
        kept; a warm start's weights are a candidate too).
        Measured on scikit-learn's diabetes (SNODERegressor, 5 seeds, held-out R^2 median):
        0.48 against -0.07 without. Not available with several processes (`comm`).
    validation_fraction : float in (0, 1), default 0.1

    Attributes
    ----------
    net_ : SNODE
        The trained network.
    scaler_ : Scaler
        The input scaling fitted on the training data.
    classes_ : ndarray, shape (C,)
    n_features_in_ : int
    input_offset_ : int
        The state's component where the inputs begin (the resolved `input_offset`; 0 for
        files saved before it).
    result_ : TrainResult
    history_ : dict of ndarray
        The training history (``result_.history``).
    n_iter_ : int
    memory_ : int
        The L-BFGS pairs NCG kept (the resolved `memory`; 0 for the conjugate direction and
        the other optimisers).
    sobolev_weight_ : float
        The hybrid gradient's weight NCG used (the resolved `sobolev_weight`; 1 under the L2
        metric and for the other optimisers).
    step_rule_ : {"sensitivity", "wolfe"} or None
        NCG's line search (ncg_options' "step", "auto" resolved; None for the other
        optimisers).
    validation_costs_ : ndarray, best_validation_cost_ : float
        With `early_stopping`: the validation cost at every check, and its best (whose
        weights the network holds).

    Raises
    ------
    ValueError
        From ``fit`` for malformed data, fewer than 2 classes, or parameters out of range.

    References
    ----------
    docs/method.md; Baravdish et al. (2022), arXiv:2202.05766 (the network and its training).
    """

    def __init__(self, width=None, input_offset="auto", n_steps="auto", T=6.0, scheme="rk4",
                 activation="tanh", init="smooth", loss="ce", optimizer="ncg", beta=None,
                 memory="auto", sobolev_alpha="auto", sobolev_weight="auto",
                 batch_size=None, iterations_per_batch=6, epochs=10, max_iter=800, lr=0.01,
                 scale="standard", random_state=None, warm_start=False, n_threads=None,
                 drop_last=False, ncg_options=None, decay=1e-4, block_size=None, comm=None,
                 ftol=1e-4, n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1):
        self.width = width
        self.input_offset = input_offset
        self.n_steps = n_steps
        self.T = T
        self.scheme = scheme
        self.activation = activation
        self.init = init
        self.loss = loss
        self.optimizer = optimizer
        self.beta = beta
        self.memory = memory
        self.sobolev_alpha = sobolev_alpha
        self.sobolev_weight = sobolev_weight
        self.batch_size = batch_size
        self.iterations_per_batch = iterations_per_batch
        self.epochs = epochs
        self.max_iter = max_iter
        self.lr = lr
        self.scale = scale
        self.random_state = random_state
        self.warm_start = warm_start
        self.n_threads = n_threads
        self.drop_last = drop_last
        self.ncg_options = ncg_options
        self.decay = decay
        self.block_size = block_size
        self.comm = comm
        self.ftol = ftol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction

    def fit(self, X, y, callback=None):
        """Train on inputs X (N, m) and class labels y (N,) of any comparable type.

        `callback(record)` is called after every iteration with its history record; returning
        True stops training. A fit that raises leaves the estimator as it was.
        """
        with self._transaction():
            return self._fit(X, y, callback)

    def _fit(self, X, y, callback):
        X, y = self._share(X, y, classification=True)
        classes, labels = np.unique(y, return_inverse=True)
        red = self._reducer()
        if red.size > 1:  # the classes of every process's samples
            classes = np.unique(np.concatenate(red.allgather(classes)))
            labels = np.searchsorted(classes, y)
        if self.warm_start and hasattr(self, "classes_") and not np.array_equal(classes,
                                                                                 self.classes_):
            raise ValueError("warm_start needs the same classes as the previous fit")
        if classes.shape[0] < 2:
            raise ValueError(f"need at least 2 classes, got {classes.shape[0]} class")
        C = classes.shape[0]
        if self.loss == "ce":
            cost = Cost(mse=0.0, ce=1.0, n_classes=C, decay=self.decay)
        elif self.loss == "mse":
            cost = Cost(mse=1.0, n_classes=C, decay=self.decay)
        else:
            raise ValueError(f"unknown loss {self.loss!r}; choose 'ce' or 'mse'")
        return self._fit_net(X, C, labels=labels, cost=cost, callback=callback,
                             attrs=dict(classes_=classes))

    def decision_function(self, X):
        """The first C outputs, (N, C) (for 2 classes: output 1 minus output 0, (N,))."""
        z = self._outputs(X)[:, :self.classes_.shape[0]]
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X):
        """Softmax of the first C outputs, (N, C)."""
        return softmax(self._outputs(X), self.classes_.shape[0])

    def predict(self, X):
        z = self._outputs(X)[:, :self.classes_.shape[0]]
        return self.classes_[z.argmax(axis=1)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy.

        Raises
        ------
        ValueError
            If y is not one label per sample of X ((N,) or (N, 1)).
        """
        y = np.asarray(y)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if self._reducer().size > 1 and np.shape(X)[:1] == (0,):  # (no samples here)
            hit = np.zeros(0, dtype=bool)
        else:
            pred = self.predict(X)
            hit = pred == _matching(y, pred.shape, "y")
        if self._reducer().size > 1:  # every process's samples
            w = np.ones(hit.shape[0]) if w is None else w
            right, total = self._global(float(np.sum(w * hit)), float(np.sum(w)))
            return right / total
        return float(np.average(hit, weights=w))

    def _extra_meta(self):
        return {"classes": self.classes_.tolist()}

    def _restore_meta(self, meta):
        classes = meta["classes"]
        if not isinstance(classes, list) or len(classes) < 2 or \
                len(classes) > self.net_.width or \
                not all(isinstance(c, (str, int, float, bool)) for c in classes) or \
                len(set(classes)) != len(classes):
            raise ValueError(f"classes must be a list of 2 to {self.net_.width} distinct "
                             f"labels, got {classes!r}")
        self.classes_ = np.asarray(classes)


class SNODERegressor(_SNODEEstimator, _SkRegressor, _SkBase):
    """Regression with a standalone neural ODE: targets (N,) or (N, k) are fitted by the first
    k outputs (squared error).

    Parameters as for :class:`SNODEClassifier` (no `loss`; `decay` defaults to 0, so that
    an exact fit, as in an inverse problem, is not biased; the outputs are the first k
    components, and `input_offset` "auto" puts the inputs after them), and:

    target_scale : {"standard", "none"}, default "standard"
        "standard": the network fits each target column less its mean, divided by its standard
        deviation (over the training samples; a constant column is predicted as that
        constant), and ``predict`` maps its outputs back. The network's outputs move at most
        about ``T max|s|`` from its inputs (T for tanh), so targets far from the scaled
        inputs' range are out of its reach unless scaled: without it, scikit-learn's diabetes
        targets (25-346) gave a held-out R^2 of -3.6. The training cost and ``history_`` are
        in the scaled units. "none": the targets as they are (an inverse problem whose outputs
        are a network's, with ``scale="none"``).

    Attributes as for :class:`SNODEClassifier`, with ``n_outputs_`` (k) instead of
    ``classes_``, and ``target_scaler_`` (:class:`snode.data.Scaler`): the target scaling
    fitted on the training targets (``net_``'s outputs are in its units).

    Raises
    ------
    ValueError
        From ``fit`` for malformed data (targets whose variance overflows among them) or
        parameters out of range.
    """

    def __init__(self, width=None, input_offset="auto", n_steps="auto", T=6.0, scheme="rk4",
                 activation="tanh", init="smooth", optimizer="ncg", beta=None, memory="auto",
                 sobolev_alpha="auto", sobolev_weight="auto",
                 batch_size=None, iterations_per_batch=6, epochs=10, max_iter=800, lr=0.01,
                 scale="standard", target_scale="standard", random_state=None,
                 warm_start=False, n_threads=None, drop_last=False, ncg_options=None,
                 decay=0.0, block_size=None, comm=None, ftol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1):
        self.width = width
        self.input_offset = input_offset
        self.n_steps = n_steps
        self.T = T
        self.scheme = scheme
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.beta = beta
        self.memory = memory
        self.sobolev_alpha = sobolev_alpha
        self.sobolev_weight = sobolev_weight
        self.batch_size = batch_size
        self.iterations_per_batch = iterations_per_batch
        self.epochs = epochs
        self.max_iter = max_iter
        self.lr = lr
        self.scale = scale
        self.target_scale = target_scale
        self.random_state = random_state
        self.warm_start = warm_start
        self.n_threads = n_threads
        self.drop_last = drop_last
        self.ncg_options = ncg_options
        self.decay = decay
        self.block_size = block_size
        self.comm = comm
        self.ftol = ftol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multioutput": True}

    def fit(self, X, y, callback=None):
        """Train on inputs X (N, m) and targets y (N,) or (N, k); `callback` as for
        SNODEClassifier.fit. A fit that raises leaves the estimator as it was."""
        with self._transaction():
            return self._fit(X, y, callback)

    def _fit(self, X, y, callback):
        X, y = self._share(X, y, classification=False)
        y = as_float_array(y, "y")
        Y = y[:, None] if y.ndim == 1 else y
        if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have {X.shape[0]} rows, got shape {y.shape}")
        if self.target_scale not in TARGET_SCALES:
            raise ValueError(f"unknown target_scale {self.target_scale!r}; choose one of "
                             f"{TARGET_SCALES}")
        if self.warm_start and hasattr(self, "target_scaler_"):
            if Y.shape[1] != self.target_scaler_.shift_.shape[0]:
                raise ValueError(f"y has {Y.shape[1]} target columns, but the fitted network "
                                 f"was trained on {self.target_scaler_.shift_.shape[0]}; "
                                 "warm_start goes on with it (set warm_start=False to start "
                                 "afresh)")
            targets = self.target_scaler_  # (the units the network was trained in)
            if self.target_scale != targets.method:
                raise ValueError("warm_start goes on with the fitted target scaling: "
                                 f"target_scale must stay {targets.method!r}; set "
                                 "warm_start=False to start afresh")
        else:
            targets = Scaler(self.target_scale, per_feature=True).fit(
                Y, reducer=self._reducer(), block_size=self.block_size, name="y")
        return self._fit_net(X, Y.shape[1], Y=targets.transform(Y),
                             cost=Cost(mse=1.0, decay=self.decay), callback=callback,
                             attrs=dict(_y_1d=y.ndim == 1, n_outputs_=Y.shape[1],
                                        target_scaler_=targets))

    def predict(self, X):
        out = self._outputs(X)[:, :self.n_outputs_]  # (checks that the estimator is fitted)
        targets = self.target_scaler_
        out = targets.inverse_transform(out)
        # a target that was constant in training is that constant (its column is only
        # shifted, so the network's rounding-level error would be in its units)
        out[:, targets.constant_] = targets.shift_[targets.constant_]
        return out[:, 0] if self._y_1d else out

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 (scikit-learn's: averaged over the targets).

        Raises
        ------
        ValueError
            If y does not have the predictions' shape ((N,) and (N, 1) are taken as the
            same).
        """
        y = as_float_array(y, "y")
        empty = self._reducer().size > 1 and np.shape(X)[:1] == (0,)  # (no samples here)
        p = y.copy() if empty else self.predict(X)
        y = _matching(y, p.shape, "y")
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if self._reducer().size > 1:  # every process's samples: the mean, then the squares
            w = np.ones(y.shape[0]) if w is None else w
            k = 1 if y.ndim == 1 else y.shape[1]
            Y, P = y.reshape(y.shape[0], k), p.reshape(y.shape[0], k)
            n, *s1 = self._global(float(np.sum(w)), *np.sum(w[:, None] * Y, axis=0))
            mean = np.array(s1) / n
            sums = self._global(*np.sum(w[:, None] * (Y - P) ** 2, axis=0),
                                *np.sum(w[:, None] * (Y - mean) ** 2, axis=0))
            ss_res, ss_tot = np.array(sums[:k]) / n, np.array(sums[k:]) / n
            return _r2(ss_res, ss_tot)
        ss_res = np.average((y - p) ** 2, axis=0, weights=w)
        ss_tot = np.average((y - np.average(y, axis=0, weights=w)) ** 2, axis=0, weights=w)
        return _r2(ss_res, ss_tot)

    def _extra_meta(self):
        return {"n_outputs": int(self.n_outputs_), "y_1d": bool(self._y_1d),
                "target_scaler": self.target_scaler_.to_dict()}

    def _restore_meta(self, meta):
        k = meta["n_outputs"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.net_.width:
            raise ValueError(f"n_outputs must be an integer in [1, {self.net_.width}], got {k!r}")
        self.n_outputs_ = k
        self._y_1d = bool(meta["y_1d"])
        if self.target_scale not in TARGET_SCALES:
            raise ValueError(f"unknown target_scale {self.target_scale!r}")
        if "target_scaler" in meta:
            targets = _stored_scaler(meta["target_scaler"], k, "target", positive=True)
        else:  # (a file from before the target scaling: trained on the targets as they are)
            targets = Scaler("none", per_feature=True).fit(np.zeros((1, k)))
        self.target_scaler_ = targets

    @classmethod
    def _params_before(cls):
        return dict(_PARAMS_BEFORE, target_scale="none")


SCALES = ("standard", "range", "image", "none")
#: SNODERegressor's target scalings.
TARGET_SCALES = ("standard", "none")


def _scaler(scale):
    """The input scaling of an estimator's `scale`: "standard" (per feature), "range" (each
    feature to [-1, 1]), "image" (all values together, the smallest to 0 and the largest to
    -1: background 0, strokes -1, as the method's authors scale images), "none"."""
    if scale == "image":
        return Scaler("range", low=0.0, high=-1.0, per_feature=False)
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {SCALES}")
    return Scaler(scale, low=-1.0, high=1.0, per_feature=True)


class _EarlyStop:
    """The callback of early stopping: the validation cost (the data terms, no decay) after
    every iteration (mini-batch mode: at every epoch's end); True (stop) when it has not
    fallen below (1 - ftol) times its best for `patience` checks; the best weights are kept.
    `per_epoch`: mini-batch mode (the records' "epoch_end" marks an epoch's last iteration)."""

    def __init__(self, val, patience, ftol, user, per_epoch):
        self.val, self.patience, self.ftol, self.user = val, patience, ftol, user
        self.per_epoch = per_epoch
        self.costs, self.best, self.best_params, self.best_iter = [], np.inf, None, 0
        self.since, self.n, self.stopped, self.checked = 0, 0, False, -1

    def check(self):
        cost = float(self.val.value())
        self.costs.append(cost)
        self.checked = self.n
        if cost < self.best - self.ftol * abs(self.best) or self.best_params is None:
            self.best, self.best_params, self.best_iter, self.since = \
                cost, self.val.params(), self.n, 0
        else:
            self.since += 1
        return self.since >= self.patience

    def __call__(self, rec):
        self.n += 1
        asked = bool(self.user(rec)) if self.user is not None else False
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


def _stored_scaler(d, n, what, positive=False):
    """The fitted Scaler a file stores as `d`, checked: n finite shifts and nonzero (with
    `positive`: positive) scales."""
    scaler = Scaler.from_dict(d)
    shift, scale = scaler.shift_, scaler.scale_
    if shift is None or shift.shape != (n,) or scale.shape != (n,) or not (
            np.isfinite(shift).all() and np.isfinite(scale).all()
            and ((scale > 0) if positive else (scale != 0)).all()):
        raise ValueError(f"the {what} scaling must hold {n} finite shifts and "
                         f"{'positive' if positive else 'nonzero'} scales")
    return scaler


def _r2(ss_res, ss_tot):
    """R^2 averaged over the targets from their residual and total sums of squares; a target
    constant in y scores 1 when predicted exactly, else 0 (scikit-learn's r2_score)."""
    ss_res, ss_tot = np.atleast_1d(ss_res), np.atleast_1d(ss_tot)
    varies = ss_tot > 0
    r2 = np.where(varies, 1 - ss_res / np.where(varies, ss_tot, 1),
                  np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(r2))


def _settings_of(scaler):
    """A Scaler's settings (not what it fitted)."""
    return (scaler.method, scaler.low, scaler.high, scaler.per_feature)


def _matching(y, shape, name):
    """y with the given shape (N,) or (N, k): one of shape (N, 1) for (N,) or (N,) for
    (N, 1) is reshaped; anything else raises a ValueError (numpy would broadcast it)."""
    if y.shape == shape:
        return y
    if y.size == shape[0] and len(shape) <= 2 and (shape[1:] in ((), (1,))) and \
            y.shape in ((shape[0],), (shape[0], 1)):
        return y.reshape(shape)
    raise ValueError(f"{name} must have shape {shape} (the predictions' shape), got {y.shape}")


def _not_fitted(est):
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:  # pragma: no cover
        NotFittedError = ValueError
    return NotFittedError(f"this {type(est).__name__} is not fitted yet: call fit first")


def _jsonable(params):
    out = {}
    for k, v in params.items():
        if isinstance(v, np.bool_):
            v = bool(v)
        elif isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating,)):
            v = float(v)
        elif isinstance(v, dict):  # ncg_options
            v = _jsonable(v)
        elif not isinstance(v, (int, float, str, bool, type(None))):
            v = None  # e.g. a Generator as random_state or a Tableau: not stored
        out[k] = v
    return out


def load(path):
    """Read a model file written by ``SNODE.save`` or an estimator's ``save``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    SNODE, or the fitted estimator when the file holds one.

    Raises
    ------
    ValueError
        If the file is missing, not an snode model, corrupt, from a newer snode, or
        inconsistent; naming the file.
    """
    desc, meta = io.read_model(path)
    try:
        net = SNODE.from_description(desc)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: inconsistent model file: {exc}") from None
    kind = meta.get("estimator")
    if kind is None:
        return net
    cls = {"SNODEClassifier": SNODEClassifier, "SNODERegressor": SNODERegressor}.get(kind)
    if cls is None:
        raise ValueError(f"{path}: unknown estimator {kind!r}")
    try:
        return cls._from_file(net, meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: inconsistent estimator metadata: {exc}") from None
