"""The command line's parser. ``snode train``'s estimator options are generated from the
estimators' parameter table (:data:`snode.estimators.params.PARAMS`): one flag for every
parameter that has a meaning on the command line, its default the estimator's (a flag not given
leaves the estimator's default, or the preset's setting), its value checked by the table's
constraint. The run's own options (the data, the split, the seed, the outputs) are declared
here."""
import argparse
import re

from .. import data as datasets
from .._version import __version__
from ..estimators.params import (PARAMS, CLASSIFIER, REGRESSOR, Boolean, Either,
                                 NCGOptionsConstraint, Options, SchemeConstraint, Verbosity)
from ..optim import STEP_RULES
from ..presets import PRESETS

__all__ = ["build_parser", "table_options", "IMAGES", "GENERATED", "DESCRIPTION"]

DESCRIPTION = "Standalone neural ODEs trained by nonlinear conjugate gradients"
#: The image data sets, scaled as images ("image") unless --scale says otherwise.
IMAGES = ("digits", "mnist")
#: The generated data sets (the ones --n sizes).
GENERATED = ("spirals", "circles", "moons", "xor", "teacher")


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line (its usage is in --help)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _file_options(p):
    p.add_argument("--header", default=None, choices=["auto", "yes", "no"],
                   help="csv:FILE: whether the first row names the columns (default auto)")
    p.add_argument("--label-column", default=None,
                   help="csv:FILE: the labels' column, a number (negative from the end) or "
                        "a name from the header (default: the last)")
    p.add_argument("--delimiter", default=None,
                   help="csv:FILE: the field separator, or 'tab' (default: the first of , ; "
                        "tab | in the first line)")


def _argtype(constraint):
    """An argparse type from a constraint's parse (a malformed value: argparse's one line)."""
    def parse(text):
        try:
            return constraint.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse


def _test_size(text):
    """--test-size: a share in [0, 1) (argparse's one line, naming the flag, otherwise)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"a number in [0, 1), got {text}")
    return value


def _default_text(p):
    if p.kinds == (CLASSIFIER, REGRESSOR) and isinstance(p.default, dict):
        return (f"{p.default_for(CLASSIFIER):g} for classification, "
                f"{p.default_for(REGRESSOR):g} for regression")
    return repr(p.default_for(p.kinds[0])) if isinstance(p.default_for(p.kinds[0]), str) \
        else str(p.default_for(p.kinds[0]))


def _help(p):
    doc = re.sub(r":\w+:`([^`]*)`", r"\1", p.doc.rstrip("."))
    doc = re.sub(r"``?([^`]*)``?", r"\1", doc)  # (the docs' markup, as plain text)
    only = "" if len(p.kinds) == 2 else f" ({p.kinds[0]}s only)"
    text = f"{doc}{only} (default: {_default_text(p)})"
    return text.replace("%", "%%")


def table_options():
    """(Param, dest) of every estimator option of ``snode train``: its value lands in
    ``args.<dest>``, absent when the option is not given."""
    return [(p, "param_" + p.name) for p in PARAMS if p.cli is not None]


def _add_table_options(t):
    for p, dest in table_options():
        kw = dict(dest=dest, default=argparse.SUPPRESS, help=_help(p))
        c = p.constraint
        if isinstance(c, Boolean) or (isinstance(c, Either) and isinstance(c.inner, Boolean)):
            # (--drop-last and --no-drop-last: a preset's undone too; "auto" is not given)
            t.add_argument(*p.flags, action=argparse.BooleanOptionalAction, **kw)
            continue
        if isinstance(c, NCGOptionsConstraint):
            kw["action"] = "append"
        elif isinstance(c, Options):
            kw["choices"] = c.choices
        elif isinstance(c, SchemeConstraint):
            kw["choices"] = _scheme_names()
        elif isinstance(c, Verbosity):  # (--verbose alone: 1)
            kw.update(nargs="?", const=1)
        elif isinstance(c, Either) and isinstance(c.inner, Options):
            kw["choices"] = c.inner.choices  # (the literals are the defaults)
        kw["type"] = _argtype(c)
        if "choices" not in kw:
            kw["metavar"] = p.metavar or p.name.upper()
        t.add_argument(*p.flags, **kw)


def _scheme_names():
    from ..schemes import SCHEMES

    return tuple(SCHEMES)


def build_parser():
    """The parser of ``snode`` and its commands."""
    p = Parser(prog="snode", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"snode {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and save it",
                       description="Train an SNODEClassifier or SNODERegressor and save it. "
                                   "The estimator's options not given keep its defaults (or "
                                   "the preset's settings).")
    t.add_argument("--dataset", default="spirals",
                   help=", ".join(datasets.NAMES) + ", mnist:DIR, csv:FILE, npz:FILE "
                        "(default spirals)")
    t.add_argument("--n", type=int, default=None,
                   help="samples of a generated data set (default 1000)")
    _file_options(t)
    t.add_argument("--test-size", type=_test_size, default=0.25,
                   help="the held-out share of the data (MNIST: its own 10,000 test images)")
    t.add_argument("--task", default="auto", choices=["auto", "classify", "regress"],
                   help="classification or regression (default auto: class labels are "
                        "strings, booleans or whole numbers of at most 100 values and half "
                        "the samples; anything else is a target)")
    t.add_argument("--preset", default=None, choices=sorted(PRESETS),
                   help="a named configuration (baravdish2022: the method's authors' "
                        "prototype); the estimator's options change single settings of it")
    t.add_argument("--seed", type=int, default=0,
                   help="the run's seed: a generated data set, the split, and the estimator's "
                        "random_state (default 0: a run is repeatable)")
    est = t.add_argument_group(
        "the estimator's parameters",
        "SNODEClassifier / SNODERegressor's parameters by name; the image data sets "
        "(digits, mnist) are scaled as images (--scale image) unless --scale is given")
    _add_table_options(est)
    est.add_argument("--no-sobolev", action="store_true",
                     help="the L2 gradient: --alpha none (sobolev_alpha None)")
    est.add_argument("--line-search", default=None, choices=("auto",) + STEP_RULES,
                     help="NCG's step length (ncg_options' step): the sensitivity step, the "
                          "strong-Wolfe search from the step 1, or auto (the default: wolfe "
                          "for the L-BFGS direction, sensitivity for the conjugate ones)")
    t.add_argument("--output", "-o", default="snode-model.npz",
                   help="the model file to write (default snode-model.npz)")
    t.add_argument("--json", default=None, help="write the metrics to this JSON file")
    t.add_argument("--plot", default=None, help="save a figure (needs matplotlib)")
    t.add_argument("--quiet", "-q", action="store_true",
                   help="no progress line and no notes")

    e = sub.add_parser("evaluate", help="accuracy (or error) of a saved model on a data set")
    e.add_argument("model")
    e.add_argument("--dataset", required=True,
                   help="the data to score the model on (as for snode train)")
    e.add_argument("--n", type=int, default=None,
                   help="samples of a generated data set (default 1000)")
    e.add_argument("--seed", type=int, default=1,
                   help="seed of a synthetic data set (default 1: fresh samples)")
    _file_options(e)

    q = sub.add_parser("predict", help="a saved model's predictions on a data set, as CSV")
    q.add_argument("model")
    q.add_argument("--dataset", required=True,
                   help="the inputs (as for snode train; csv:FILE needs no labels' column)")
    q.add_argument("-o", "--output", default=None,
                   help="the CSV file to write (default: standard output): the predicted "
                        "label and each class's probability, or a regressor's outputs")
    q.add_argument("--n", type=int, default=None,
                   help="samples of a generated data set (default 1000)")
    q.add_argument("--seed", type=int, default=1,
                   help="seed of a synthetic data set (default 1: fresh samples)")
    _file_options(q)

    r = sub.add_parser("reproduce", help="run the method's experiments and write a report")
    r.add_argument("--quick", action="store_true",
                   help="small sizes (about 10 s on 2 cores without --mnist)")
    r.add_argument("--out", default="snode-report",
                   help="the report's folder (created; default snode-report)")
    r.add_argument("--mnist", default=None,
                   help="a folder with the MNIST files (IDX or CSV): adds MNIST 14 x 14")
    r.add_argument("--mnist-train", type=int, default=None, metavar="N",
                   help="train on the first N MNIST training images (default: all 60000, "
                        "2000 with --quick)")
    r.add_argument("--mnist-epochs", type=int, default=None, metavar="E",
                   help="epochs over them (default: the authors' 10, 1 with --quick)")
    r.add_argument("--threads", type=int, default=None,
                   help="threads of the sweeps (default: the CPUs)")
    r.add_argument("--seed", type=int, default=0, help="seed of every experiment (default 0)")

    i = sub.add_parser("info", help="describe a saved model")
    i.add_argument("model")
    p.commands = sub.choices  # (each command's parser, by name: its errors name it)
    return p
