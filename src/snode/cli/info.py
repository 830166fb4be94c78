"""``snode info MODEL``: what a model file holds and how it was trained."""
from ..estimators import load
from ..estimators.params import PARAMS, param
from ..io import read_header
from ..optim import OPTIMIZERS, optimizer_spec

__all__ = ["info"]

#: Parameters the first lines show (the network) or that say nothing of the training.
_NOT_LISTED = ("width", "input_offset", "n_steps", "T", "scheme", "activation", "dtype", "init",
               "random_state", "warm_start", "n_threads", "comm", "block_size", "verbose")
#: The settings some optimisers read and others do not (the registry's).
_OPTIMIZER_SETTINGS = {s for spec in OPTIMIZERS.values() for s in spec.reads}


def info(args):
    """The ``info`` command; returns the exit status."""
    model = load(args.model)  # the whole file is checked, not only its header
    h = read_header(args.model)
    meta = h.get("meta", {})
    print(f"{args.model}: snode model (format version {h['version']})")
    print(f"  width {h['width']}, steps {h['n_steps']}, T {h['T']}, scheme {h['scheme']}, "
          f"activation {h['activation']}, dtype {h.get('dtype', 'float64')}")
    if "estimator" not in meta:
        return 0
    print(f"  {meta['estimator']} with {meta['n_features_in']} input features "
          f"(from component {meta.get('input_offset_used', 0)} of the state)"
          + (f" and {meta['n_outputs']} output{'s' if meta['n_outputs'] != 1 else ''}"
             if "n_outputs" in meta else ""))
    if "feature_names_in" in meta:
        names = meta["feature_names_in"]
        shown = names if len(names) <= 20 else names[:10] + ["..."] + names[-5:]
        print(f"  input columns: {', '.join(map(str, shown))}")
    if "classes" in meta:
        print(f"  classes: {meta['classes']}")
    print("  trained with " + ", ".join(f"{k}={v}" for k, v in _training(model, meta)))
    return 0


def _training(model, meta):
    """(name, shown value) of the settings that shaped the training, in the table's order."""
    params = dict(meta.get("params", {}))
    for name, used in (("memory", "memory_used"), ("batch_size", "batch_size_used"),
                       ("epochs", "epochs_used")):
        if used in meta and params.get(name) == "auto":
            params[name] = f"auto ({meta[used]} used)"
    if "sobolev_weight_used" in meta and params.get("sobolev_weight") == "auto":
        params["sobolev_weight"] = f"auto ({meta['sobolev_weight_used']:g} used)"
    if "decay_used" in meta and params.get("decay") == "auto":
        params["decay"] = f"auto ({meta['decay_used']:g} used)"
    auto_early = params.get("early_stopping") == "auto" and "early_stopping_used" in meta
    if auto_early:
        params["early_stopping"] = f"auto ({meta['early_stopping_used']} used)"
    # (the loaded estimator's: a file from before the auto line search has the step)
    options = getattr(model, "ncg_options", None) or {}
    rule = getattr(model, "step_rule_", None)
    if params.get("sobolev_alpha", "auto") is None:  # (the L2 metric: no blend)
        params.pop("sobolev_weight", None)
    spec = optimizer_spec(params.get("optimizer", param("optimizer").default))
    used_batch = meta.get("batch_size_used", params.get("batch_size"))
    mode = "full" if used_batch is None else "minibatch"
    early = meta.get("early_stopping_used", params.get("early_stopping") is True)
    shown = []
    for p in PARAMS:
        name = p.name
        if name in _NOT_LISTED or (name in _OPTIMIZER_SETTINGS and not spec.uses(name)):
            continue
        if p.mode is not None and p.mode != mode and not (
                early and name in ("ftol", "n_iter_no_change")):  # (early stopping's too)
            continue
        if name == "validation_fraction" and not early or \
                name == "early_stopping" and not (early or auto_early):
            continue
        if name == "ncg_options":
            if rule is not None:
                step = options.get("step", "auto")
                shown.append(("line_search", f"auto ({rule} used)" if step == "auto"
                              else step))
                rest = {k: v for k, v in options.items() if k != "step"} or None
                shown.append(("ncg_options", rest))
            continue
        if name in params:
            shown.append((name, params[name]))
    return shown
