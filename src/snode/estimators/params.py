"""The estimators' parameters, declared once: name, default, constraint, a one-line doc and the
command line's flag (in the manner of scikit-learn's ``_parameter_constraints``).

The estimators' ``__init__`` signatures and docstrings, the checks of ``fit``, the options of
``snode train``, ``snode info`` and the presets all read :data:`PARAMS`. A constraint checks a
value (returning it normalised, or raising a ValueError that names the parameter) and parses
the command line's text.
"""
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._validate import check_fraction, check_int, check_seed, check_threads
from ..model import ACTIVATIONS, DTYPES, INITS, check_dtype
from ..optim import BETA_RULES, NCG_OPTIONS, OPTIMIZERS
from ..reduce import Reducer
from ..schemes import SCHEMES, get_tableau

__all__ = ["Param", "PARAMS", "param", "params_of", "validate", "SCALES", "TARGET_SCALES",
           "LOSSES", "CLASSIFIER", "REGRESSOR", "Constraint", "Number", "Integer", "Real",
           "Fraction",
           "Options", "Boolean", "Either", "SchemeConstraint", "NCGOptionsConstraint",
           "ThreadsConstraint", "CommConstraint", "Seed", "Verbosity"]

CLASSIFIER, REGRESSOR = "classifier", "regressor"
#: The input scalings (``scale``).
SCALES = ("standard", "range", "image", "none")
#: SNODERegressor's target scalings.
TARGET_SCALES = ("standard", "none")
#: SNODEClassifier's losses.
LOSSES = ("ce", "mse")


# --- constraints ---------------------------------------------------------------------------
class Constraint:
    """What values a parameter takes. `text` says it in words ("an integer >= 1")."""

    text = "a value"

    def check(self, value, name):
        """`value`, normalised; ValueError naming `name` when it is not allowed."""
        return value

    def parse(self, text):
        """The value of the command line's `text` (ValueError when it is none)."""
        return text

    def takes(self, value):
        """Whether `value` is of the kind this constraint checks (a number for a range)."""
        return True


class Number(Constraint):
    """A number: its parsing and the values it checks (`cast`, `abc`)."""

    kind: str = "a number"
    cast: Callable[[str], Any] = float
    abc: type = numbers.Real

    def parse(self, text):
        try:
            return self.cast(text)
        except ValueError:
            raise ValueError(f"{self.kind}, got {text!r}") from None

    def takes(self, value):
        return isinstance(value, self.abc) and not isinstance(value, (bool, np.bool_))


class Integer(Number):
    kind, cast, abc = "an integer", int, numbers.Integral

    def __init__(self, low, high=None):
        self.low, self.high = low, high
        self.text = f"an integer >= {low}" + ("" if high is None else f" and <= {high}")

    def check(self, value, name):
        value = check_int(value, name, self.low)
        if self.high is not None and value > self.high:
            raise ValueError(f"{name} must be <= {self.high}, got {value}")
        return value


class Real(Number):
    def __init__(self, low, strict=False):
        self.low, self.strict = low, strict
        self.text = f"a finite number {'>' if strict else '>='} {low:g}"

    def check(self, value, name):
        try:  # (an int past float64's range, 10**400, is no finite number)
            x = float(value) if self.takes(value) else None
        except OverflowError:
            x = None
        if x is None or not np.isfinite(x) or x < self.low or (self.strict and x == self.low):
            got = repr(value)
            if len(got) > 40:
                got = f"{got[:12]}... ({len(got)} characters)"
            raise ValueError(f"{name} must be {self.text}, got {got}")
        return x


class Fraction(Number):
    def __init__(self, open_ends=False):
        self.open_ends = open_ends
        self.text = "a number in (0, 1)" if open_ends else "a number in [0, 1]"

    def check(self, value, name):
        if self.open_ends:
            if not self.takes(value) or not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be {self.text}, got {value!r}")
            return float(value)
        return check_fraction(value, name)


class Options(Constraint):
    def __init__(self, choices, what=None):
        self.choices, self.what = tuple(choices), what
        self.text = "one of " + ", ".join(repr(c) for c in self.choices)

    def check(self, value, name):
        if not (isinstance(value, str) and value in self.choices):
            raise ValueError(f"unknown {self.what or name} {value!r}; choose one of "
                             f"{self.choices}")
        return str(value)


class Dtype(Constraint):
    """A float dtype of the sweeps, by name or as numpy's (np.float32, "float32"), normalised
    to its name."""

    text = "one of " + ", ".join(repr(d) for d in DTYPES)

    def check(self, value, name):
        return check_dtype(value, name).name


class Boolean(Constraint):
    text = "True or False"

    def check(self, value, name):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")
        return bool(value)


class Verbosity(Constraint):
    """scikit-learn's `verbose`: False/True or an integer >= 0, as an integer."""

    text = "True, False or an integer >= 0"

    def check(self, value, name):
        if isinstance(value, (bool, np.bool_)):
            return int(value)
        return check_int(value, name, 0)

    def parse(self, text):
        word = text.strip().lower()
        if word in ("true", "yes"):
            return 1
        if word in ("false", "no"):
            return 0
        try:
            return int(word)
        except ValueError:
            raise ValueError(f"true, false or an integer, got {text!r}") from None


class Either(Constraint):
    """One of some literal values (None, "auto", ...) or what `inner` allows."""

    def __init__(self, literals, inner, parse_literals=None):
        self.literals, self.inner = tuple(literals), inner
        self.parse_literals = dict(parse_literals or {})
        words = [repr(v) if v is not None else "None" for v in self.literals]
        self.text = " or ".join([self.inner.text] + words) if inner else " or ".join(words)

    def check(self, value, name):
        for lit in self.literals:
            if value is lit or (isinstance(value, str) and isinstance(lit, str)
                                and value == lit):
                return lit
        if self.inner is None:
            raise ValueError(f"{name} must be {self.text}, got {value!r}")
        if isinstance(self.inner, Boolean) and not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be {self.text}, got {value!r}")
        if isinstance(self.inner, Options) or self.inner.takes(value):
            return self.inner.check(value, name)  # (its own message: the range, say)
        raise ValueError(f"{name} must be {self.text}, got {value!r}")

    def parse(self, text):
        if text in self.parse_literals:
            return self.parse_literals[text]
        if None in self.literals and text.lower() == "none":
            return None
        for lit in self.literals:
            if isinstance(lit, str) and text == lit:
                return lit
        try:
            return self.inner.parse(text)
        except ValueError:
            words = [getattr(self.inner, "kind", "a value")]
            words += [lit for lit in self.literals if isinstance(lit, str)]
            words += [w for w in self.parse_literals if not w.isdigit()]
            raise ValueError(f"{' or '.join(words)}, got {text!r}") from None


class SchemeConstraint(Constraint):
    text = f"one of {tuple(SCHEMES)}, a snode.Tableau or Butcher arrays (a, b)"

    def check(self, value, name):
        get_tableau(value)  # (its own messages)
        return value

    def parse(self, text):
        return Options(SCHEMES, "scheme").check(text, "scheme")


class NCGOptionsConstraint(Constraint):
    text = f"None or a dict with keys from {NCG_OPTIONS}"

    def check(self, value, name):
        if value is None:
            return None
        if not isinstance(value, dict) or not set(value) <= set(NCG_OPTIONS):
            raise ValueError(f"{name} must be a dict with keys from {NCG_OPTIONS}, got "
                             f"{value!r}")
        return dict(value)

    def parse(self, text):
        """KEY=VALUE: one option (numbers and True/False as such)."""
        key, sep, raw = text.partition("=")
        if not sep or key not in NCG_OPTIONS:
            raise ValueError(f"KEY=VALUE with KEY one of {NCG_OPTIONS}, got {text!r}")
        for kind in (int, float):
            try:
                return {key: kind(raw)}
            except ValueError:
                pass
        words = {"true": True, "false": False, "yes": True, "no": False}
        return {key: words.get(raw.lower(), raw)}


class ThreadsConstraint(Number):
    text = "None or an integer >= 1"
    kind, cast, abc = "an integer", int, numbers.Integral

    def parse(self, text):
        return None if text.lower() == "none" else super().parse(text)

    def check(self, value, name):
        if value is None:
            return None
        try:
            return check_threads(value)
        except ValueError as exc:
            raise ValueError(str(exc).replace("n_threads", name, 1)) from None


class CommConstraint(Constraint):
    text = "an mpi4py communicator, a snode.Reducer or None"

    def check(self, value, name):
        if value is None or isinstance(value, Reducer) or (
                hasattr(value, "Get_rank") and hasattr(value, "Get_size")):
            return value
        raise ValueError(f"{name} must be {self.text}, got {value!r}")


class Seed(Constraint):
    text = "None, an integer >= 0 or a numpy random generator"

    def check(self, value, name):
        return check_seed(value, name)


AUTO = "auto"


# --- the table -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One parameter of the estimators.

    Attributes
    ----------
    name : str
    default : object
        The default; a dict {kind: default} where the classifier's and the regressor's differ.
    constraint : Constraint
    type : str
        The numpydoc type line.
    doc : str
        What it does, in a sentence or two (the measurements that chose a default are in
        docs/decisions.md).
    cli : str or None
        The flag of ``snode train``; None where the parameter has no meaning on the command
        line (a communicator, a warm start, the run's seed, which ``--seed`` sets).
    kinds : tuple of str
        The estimators that have it ("classifier", "regressor").
    mode : {"full", "minibatch"} or None
        The training mode that uses it (full batch, mini-batches), None for both.
    metavar : str or None
        The command line's name of its value.
    cli_constraint : Constraint or None
        The command line's constraint where it differs (a value with a meaning there only).
    """

    name: str
    default: object
    constraint: Constraint
    type: str
    doc: str
    cli: "str | None" = None
    kinds: tuple = (CLASSIFIER, REGRESSOR)
    mode: "str | None" = None
    metavar: "str | None" = field(default=None, compare=False)
    cli_constraint: "Constraint | None" = field(default=None, compare=False)

    def default_for(self, kind):
        """The default of the estimator `kind`."""
        return self.default[kind] if isinstance(self.default, dict) else self.default

    @property
    def flags(self):
        """The command line's flags: `cli`, and ``--name-with-dashes`` where that differs."""
        if self.cli is None:
            return ()
        own = "--" + self.name.replace("_", "-")
        return (self.cli,) if own == self.cli else (self.cli, own)

    def check_cli(self, value, flag):
        """A value given on the command line by `flag`, checked: ValueError naming the flag
        (and the parameter it sets)."""
        constraint = self.cli_constraint or self.constraint
        try:
            return constraint.check(value, flag)
        except ValueError as exc:
            if flag == "--" + self.name:
                raise
            raise ValueError(f"{exc} (the estimator's {self.name})") from None


def _p(name, default, constraint, type, doc, cli=None, kinds=(CLASSIFIER, REGRESSOR),
       mode=None, metavar=None, cli_constraint=None):
    return Param(name, default, constraint, type, doc, cli, kinds, mode, metavar,
                 cli_constraint)


_INT1, _INT0 = Integer(1), Integer(0)

#: Every parameter of SNODEClassifier and SNODERegressor, in their signatures' order.
PARAMS = (
    _p("width", None, Either((None, "inputs"), _INT1), 'int, None or "inputs"',
       "State dimension. None: room for the outputs' components and the features after them, "
       "and at least the larger of features and outputs plus 2 (``max(m + C, max(m, C) + "
       "2)`` for m features and C outputs); \"inputs\": the larger of features and outputs "
       "(with an integer `input_offset`: room for the features after it).", "--width"),
    _p("input_offset", AUTO, Either((AUTO,), _INT0), 'int >= 0 or "auto", default "auto"',
       "The state's component where the scaled inputs begin; x(0) is zero elsewhere. The "
       "outputs are always the first C components. \"auto\": C, so that the outputs have "
       "components of their own, zero at t = 0 (or as near to C as the width lets the inputs "
       "be); 0 is the method's authors' layout. The offset used is the fitted ``input_offset_``.",
       "--input-offset"),
    _p("n_steps", AUTO, Either((AUTO,), _INT1), 'int >= 1 or "auto", default "auto"',
       "Depth steps K of the network (:class:`snode.SNODE`). \"auto\": 10, down to 4 for "
       "large problems (the work of a sweep grows as N width^2 K; :func:`snode.estimators."
       "auto.n_steps`). ``net_.n_steps`` is the number used.", "--steps"),
    _p("T", 6.0, Real(0.0, strict=True), "float > 0, default 6.0",
       "Final time (depth) of the network. The step T / n_steps must lie within what "
       "float64 holds beside states of order 1 ([2.2e-16, 4.5e15]: ValueError); T below "
       "1e-3 or a step above 5, where training rarely gets anywhere, give a "
       ":class:`snode.DepthWarning`.", "--T"),
    _p("scheme", "rk4", SchemeConstraint(), 'str or Tableau, default "rk4"',
       "The Runge-Kutta scheme, as for :class:`snode.SNODE`.", "--scheme"),
    _p("activation", "tanh", Options(ACTIVATIONS, "activation"), 'str, default "tanh"',
       "The activation, as for :class:`snode.SNODE`.", "--activation"),
    _p("init", "smooth", Options(INITS, "init"), 'str, default "smooth"',
       "The weights' initialisation, as for :class:`snode.SNODE`.", "--init"),
    _p("dtype", "float64", Dtype(), '{"float64", "float32"}, default "float64"',
       "The dtype of the network's weights and sweeps (:class:`snode.SNODE`): float32 runs "
       "the sweeps about twice as fast to float32's precision; the cost, its sums over "
       "samples and the optimiser's arithmetic stay float64 (docs/decisions.md).",
       "--dtype"),
    _p("loss", "ce", Options(LOSSES, "loss"), '{"ce", "mse"}, default "ce"',
       "Softmax cross-entropy of the first C outputs, or squared error to one-hot targets.",
       "--loss", kinds=(CLASSIFIER,)),
    _p("optimizer", "ncg", Options(OPTIMIZERS, "optimizer"),
       "{" + ", ".join(f'"{k}"' for k in OPTIMIZERS) + '}, default "ncg"',
       "The optimiser (:data:`snode.optim.OPTIMIZERS`): NCG, Adam, gradient descent with "
       "momentum 0.9 (sgd) or without (gd).", "--optimizer"),
    _p("beta", None, Either((None,), Options(BETA_RULES, "beta rule")),
       "str or None, default None",
       "NCG's conjugacy rule (" + ", ".join(f'"{b}"' for b in BETA_RULES) + "): choosing "
       "one selects the conjugate direction (`memory` \"auto\" is then 0). None: FR when "
       "`memory` is 0.", "--beta"),
    _p("memory", AUTO, Either((AUTO,), _INT0), 'int >= 0 or "auto", default "auto"',
       "NCG's direction: 0 the conjugate direction of `beta`; m > 0 the limited-memory BFGS "
       "direction in the same metric from the last m steps (`beta` must then be None or "
       "\"FR\"). \"auto\": 0 when `beta` is given and in mini-batch mode, else 40 pairs, at "
       "most 256 MiB of them. The number used is ``memory_``.", "--memory"),
    _p("sobolev_alpha", AUTO, Either((AUTO, None), Real(0.0), {"none": None}),
       'float >= 0, "auto" or None, default "auto"',
       "Weight of the Sobolev metric's derivative term (\"auto\": (T/6)^2, smoothing over a "
       "sixth of the depth; :func:`snode.optim.auto_alpha`); None for the L2 metric.",
       "--alpha"),
    _p("sobolev_weight", AUTO, Either((AUTO,), Fraction()),
       'float in [0, 1] or "auto", default "auto"',
       "NCG's hybrid gradient: this share of the Sobolev gradient, the rest the L2 gradient "
       "(1: the Sobolev gradient). \"auto\": 0.5 in full-batch mode, 1 in mini-batch mode. "
       "The number used is ``sobolev_weight_``.", "--sobolev-weight"),
    _p("batch_size", AUTO, Either((None, AUTO), _INT1, {"0": None, "full": None}),
       'int >= 1, "auto" or None, default "auto"',
       "Mini-batch size; None: full batch. \"auto\": full batch up to 10,000 training "
       "samples, batches of 100 above (:func:`snode.estimators.auto.schedule`). On the "
       "command line 0, full or none is full batch.", "--batch-size",
       cli_constraint=Either((None, AUTO), _INT0)),
    _p("iterations_per_batch", 6, _INT1, "int >= 1, default 6",
       "Mini-batch mode: NCG's iterations on each batch.", "--iterations-per-batch",
       mode="minibatch"),
    _p("epochs", AUTO, Either((AUTO,), _INT1), 'int >= 1 or "auto", default "auto"',
       "Mini-batch mode: passes over the data. \"auto\": 10, or 1 where `batch_size` "
       "\"auto\" chose mini-batches.", "--epochs",
       mode="minibatch"),
    _p("max_iter", 800, _INT1, "int >= 1, default 800",
       "Full-batch mode: the most iterations.", "--max-iter",
       mode="full"),
    _p("lr", 0.01, Real(0.0, strict=True), "float > 0, default 0.01",
       "Learning rate of adam, sgd and gd.", "--lr"),
    _p("scale", "standard", Options(SCALES, "scale"),
       '{"standard", "range", "image", "none"}, default "standard"',
       "Input scaling fitted on the training data: \"standard\" per feature (constant "
       "features keep scale 1), \"range\" each feature to [-1, 1], \"image\" all values "
       "together, the smallest to 0 and the largest to -1 (background 0, strokes -1, the "
       "method's authors' scaling of images; the better choice for pixel data), \"none\".",
       "--scale"),
    _p("target_scale", "standard", Options(TARGET_SCALES, "target_scale"),
       '{"standard", "none"}, default "standard"',
       "\"standard\": the network fits each target column less its mean, divided by its "
       "standard deviation (a constant column is predicted as that constant), and "
       "``predict`` maps its outputs back (the outputs move about T from the scaled inputs: "
       "targets in other units are out of their reach unscaled); the training cost and "
       "``history_`` are in the scaled units. \"none\": the targets as they are (an inverse "
       "problem whose outputs are a network's).", "--target-scale", kinds=(REGRESSOR,)),
    _p("random_state", None, Seed(),
       "int, numpy Generator or RandomState, or None, default None",
       "Seed of the initial weights, the batches and the validation split (over several "
       "processes: rank 0's). On the command line, the run's --seed."),
    _p("warm_start", False, Boolean(), "bool, default False",
       "Go on from the fitted network (its steps, T, scheme, activation, width and scalings "
       "must stay as they were)."),
    _p("n_threads", None, ThreadsConstraint(), "int or None, default None",
       "Threads of the sweeps (None: the CPUs this process may use less those other "
       "processes keep busy, measured as it runs, :mod:`snode.threads`; with `comm`, shared "
       "between the ranks of a machine). Applied at every fit, warm starts included.",
       "--threads"),
    _p("drop_last", False, Boolean(), "bool, default False",
       "Mini-batch mode: leave out each epoch's last batch when it is partial.",
       "--drop-last",
       mode="minibatch"),
    _p("ncg_options", None, NCGOptionsConstraint(), "dict or None, default None",
       "More settings of :class:`snode.NCG`: any of " + ", ".join(f'"{k}"' for k in
                                                                 NCG_OPTIONS)
       + ". \"step\" may also be \"auto\" (the default): the strong-Wolfe search for the "
       "limited-memory direction, the sensitivity step for the conjugate ones; the rule used "
       "is ``step_rule_``.", "--ncg-option", metavar="KEY=VALUE"),
    _p("decay", AUTO, Either((AUTO,), Real(0.0)), 'float >= 0 or "auto", default "auto"',
       "Weight decay: the cost's L2(0, T) penalty ``decay/2 int_0^T |W|^2 + |b|^2 dt`` "
       "(:class:`snode.Cost`). \"auto\": with `early_stopping` in full-batch mode a "
       "regularisation path (the decay lowered every 25 iterations, the classifier's from "
       "0.03, the regressor's from 0.3, to 0.0003; the weights of the lowest validation cost "
       "kept), so that noisy data are not fitted without the user tuning it; otherwise 1e-4 "
       "(classifier) or 0 (regressor); a warm start keeps the fitted decay "
       "(:func:`snode.estimators.auto.decays`). The decay of the weights kept is "
       "``decay_``.", "--decay"),
    _p("block_size", None, Either((None,), _INT1), "int or None, default None",
       "Samples of a block of the sums over samples (:class:`snode.Objective`); None: "
       "from the number of training samples alone (:func:`snode.reduce.block_size_for`).",
       "--block-size"),
    _p("comm", None, CommConstraint(), "mpi4py communicator, Reducer or None, default None",
       "Train over several processes (:mod:`snode.mpi`): each passes its own share of the "
       "samples to ``fit`` (whole blocks: :func:`snode.shard`) and gets the same fitted "
       "estimator, bit for bit the one a single process fits to all samples; ``fit`` and "
       "``score`` are then collective. None: one process."),
    _p("ftol", 1e-4, Real(0.0), "float >= 0, default 1e-4",
       "Full-batch mode: stop (converged) when the training cost fell by at most "
       "``ftol |cost|`` over the last `n_iter_no_change` iterations and is the lowest of them "
       "(scikit-learn's MLP's `tol`); 0 runs all `max_iter` (early stopping may still end "
       "training sooner). With `early_stopping`, the least fall of the validation cost that "
       "counts as progress.", "--ftol",
       mode="full"),
    _p("n_iter_no_change", 10, _INT1, "int >= 1, default 10",
       "The iterations `ftol` looks back over; with `early_stopping`, its checks without "
       "progress (along the decay path of `decay` \"auto\", at least a stage's 25).",
       "--n-iter-no-change",
       mode="full"),
    _p("early_stopping", AUTO, Either((AUTO,), Boolean()), 'bool or "auto", default "auto"',
       "Hold out `validation_fraction` of the training samples (per class for the "
       "classifier), watch their cost after every iteration (every epoch with mini-batches; "
       "the classifier's is the Brier score) and keep the best weights; with a fixed `decay`, "
       "stop after `n_iter_no_change` checks without a fall below (1 - ftol) times the best "
       "(scikit-learn's MLP's rule). Where the held-out share would hold fewer than 10 "
       "samples, 5 folds choose the decay path's stage and training uses every sample. "
       "\"auto\": on in full-batch mode (off with mini-batches, fewer than 5 samples, or "
       "folds that would be costly: :func:`snode.estimators.auto.folds`), as the held-out "
       "samples keep the fit from following label noise. Several processes (`comm`) gather "
       "the samples once to hold out those of one process. The choice used is "
       "``early_stopping_``.", "--early-stopping"),
    _p("validation_fraction", 0.1, Fraction(open_ends=True), "float in (0, 1), default 0.1",
       "The share `early_stopping` holds out.", "--validation-fraction"),
    _p("verbose", False, Verbosity(), "bool or int >= 0, default False",
       "Show training on stdout (scikit-learn's meaning): a line per iteration with the "
       "training cost (a tqdm bar instead where tqdm is installed and stdout is a "
       "terminal), the validation cost with `early_stopping`, each stage of the decay path, "
       "and how training ended. Levels above 1 show the same as 1. Without it (and only "
       "then) the same messages go to the ``snode.estimators`` logger (INFO; the iterations "
       "at DEBUG).",
       "--verbose"),
)

_BY_NAME = {p.name: p for p in PARAMS}


def param(name):
    """The table's entry of `name` (KeyError for none)."""
    return _BY_NAME[name]


def params_of(kind):
    """The parameters of the estimator `kind`, in signature order."""
    return tuple(p for p in PARAMS if kind in p.kinds)


def validate(values, kind):
    """Every parameter of `values` (a dict of the estimator's parameters) checked: a dict of
    the normalised values. ValueError naming the first that is wrong."""
    return {p.name: p.constraint.check(values[p.name], p.name) for p in params_of(kind)}
