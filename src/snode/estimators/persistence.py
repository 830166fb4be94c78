"""The estimators' model files: what a fitted estimator writes beside its network, and how a
file is read back, checked and, when written by an earlier snode, migrated (a setting that came
in after the file was written takes the value that reproduces how it was trained, not today's
default). The file format itself is :mod:`snode.io`'s.
"""
import numpy as np

from .._validate import check_bool, check_fraction, check_real
from ..data import Scaler
from ..optim import STEP_RULES
from .params import CLASSIFIER, REGRESSOR

__all__ = ["meta_of", "migrated_params", "restore_common", "stored_scaler", "scaler_settings",
           "jsonable", "PARAMS_BEFORE", "STEP_BEFORE"]

#: The settings that files written before them lack, with the values those files were trained
#: with (no stop on a stalled cost; the Sobolev gradient; the inputs from the first component;
#: the regressor's targets as they are; no weight decay and no early stopping).
PARAMS_BEFORE = {
    CLASSIFIER: dict(ftol=0.0, sobolev_weight=1.0, input_offset=0, decay=0.0,
                     early_stopping=False),
    REGRESSOR: dict(ftol=0.0, sobolev_weight=1.0, input_offset=0, target_scale="none",
                    decay=0.0, early_stopping=False),
}
#: The line search of files written before ncg_options' step "auto" (which such files lack,
#: with their meta's "step_rule_used").
STEP_BEFORE = "sensitivity"


def meta_of(est, extra):
    """The metadata a fitted estimator writes beside its network (`extra`: its kind's)."""
    params = est.get_params()
    params.pop("comm")  # (the processes are this run's, not the model's)
    params["dtype"] = est.net_.dtype.name  # (by name, however it was given: np.float32, "f4")
    meta = {"estimator": type(est).__name__, "params": jsonable(params),
            "scaler": est.scaler_.to_dict(), "n_features_in": int(est.n_features_in_)}
    if hasattr(est, "memory_"):
        meta["memory_used"] = int(est.memory_)
    if hasattr(est, "sobolev_weight_"):
        meta["sobolev_weight_used"] = float(est.sobolev_weight_)
    if hasattr(est, "step_rule_"):
        meta["step_rule_used"] = est.step_rule_
    if hasattr(est, "batch_size_"):
        meta["batch_size_used"] = None if est.batch_size_ is None else int(est.batch_size_)
        meta["epochs_used"] = None if est.epochs_ is None else int(est.epochs_)
    meta["input_offset_used"] = int(getattr(est, "input_offset_", 0))
    if hasattr(est, "early_stopping_"):
        meta["early_stopping_used"] = bool(est.early_stopping_)
    if hasattr(est, "decay_"):
        meta["decay_used"] = float(est.decay_)
    if hasattr(est, "feature_names_in_"):  # (fitted on a table with column names)
        meta["feature_names_in"] = [str(name) for name in est.feature_names_in_]
    if hasattr(est, "target_names_in_"):  # (the command line's: a CSV header's labels)
        meta["target_names_in"] = [str(name) for name in est.target_names_in_]
    meta.update(extra)
    return meta


def migrated_params(meta, kind):
    """The estimator's parameters of a file, with the settings it lacks at the values it was
    trained with."""
    params = {**(PARAMS_BEFORE[kind] if "params" in meta else {}), **meta.get("params", {})}
    options = params.get("ncg_options")
    if "params" in meta and "step_rule_used" not in meta and (
            options is None or isinstance(options, dict) and "step" not in options):
        params["ncg_options"] = dict(options or {}, step=STEP_BEFORE)
    return params


def restore_common(est, net, meta, step_rule):
    """Set the fitted attributes every estimator's file holds (checked); `step_rule`: the
    line search of the stored settings, for files from before "step_rule_used"."""
    est.net_ = net
    n = meta["n_features_in"]
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= net.width:
        raise ValueError(f"n_features_in must be an integer in [1, {net.width}], got {n!r}")
    est.scaler_ = stored_scaler(meta["scaler"], n, "input")
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
    if "target_names_in" in meta:
        names = meta["target_names_in"]
        if not isinstance(names, list) or not names or \
                not all(isinstance(name, str) for name in names):
            raise ValueError("target_names_in must be a list of strings")
        est.target_names_in_ = np.asarray(names, dtype=object)
    if "memory_used" in meta:
        m = meta["memory_used"]
        if isinstance(m, bool) or not isinstance(m, int) or m < 0:
            raise ValueError(f"memory_used must be an integer >= 0, got {m!r}")
        est.memory_ = m
    if "sobolev_weight_used" in meta:
        est.sobolev_weight_ = check_fraction(meta["sobolev_weight_used"],
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
        est.step_rule_ = step_rule
    if "early_stopping_used" in meta:
        est.early_stopping_ = check_bool(meta["early_stopping_used"], "early_stopping_used")
    if "decay_used" in meta:
        est.decay_ = check_real(meta["decay_used"], "decay_used", minimum=0.0)
    if "batch_size_used" in meta:  # (files from before the auto schedule: the settings)
        b, e = meta["batch_size_used"], meta.get("epochs_used")

        def count(v):
            return isinstance(v, int) and not isinstance(v, bool) and v >= 1

        if not ((b is None and e is None) or (count(b) and count(e))):
            raise ValueError(f"batch_size_used and epochs_used must both be null (full batch) "
                             f"or integers >= 1, got {b!r} and {e!r}")
        est.batch_size_, est.epochs_ = b, e


def stored_scaler(d, n, what, positive=False):
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


def scaler_settings(scaler):
    """A Scaler's settings (not what it fitted)."""
    return (scaler.method, scaler.low, scaler.high, scaler.per_feature)


def jsonable(params):
    """The parameters as JSON values (numpy scalars as Python's; objects that JSON cannot
    hold, a Generator as random_state or a Tableau as scheme, as None: not stored)."""
    out = {}
    for k, v in params.items():
        if isinstance(v, np.bool_):
            v = bool(v)
        elif isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating,)):
            v = float(v)
        elif isinstance(v, dict):  # ncg_options
            v = jsonable(v)
        elif not isinstance(v, (int, float, str, bool, type(None))):
            v = None
        out[k] = v
    return out
