"""The package's layout: the layers' imports, one declaration per setting, inputs checked once,
and the build's list of files."""
import argparse
import ast
import inspect
import pathlib

import numpy as np
import pytest

import snode
from snode.estimators.params import CLASSIFIER, PARAMS, REGRESSOR, params_of

PACKAGE = pathlib.Path(snode.__file__).parent
#: The package's private modules that its own modules may import (the compiled core and the
#: checks at its boundary).
PRIVATE_MODULES = {"_kernels", "_validate", "_version"}


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path):
    """(level, module, name) of every `from ... import name` of a module."""
    tree = ast.parse(path.read_text())
    return [(node.level, node.module or "", alias.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) for alias in node.names]


def test_no_module_imports_a_private_name_of_another():
    bad = [f"{p.relative_to(PACKAGE)}: from {'.' * level}{mod} import {name}"
           for p in _modules() for level, mod, name in _imports(p)
           if name.startswith("_") and not name.startswith("__")
           and name not in PRIVATE_MODULES]
    assert not bad, bad
    # nor reaches into one by attribute (module._name)
    for p in _modules():
        tree = ast.parse(p.read_text())
        names = {a.asname or a.name for n in ast.walk(tree)
                 if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        for n in ast.walk(tree):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and \
                    n.value.id in names and n.attr.startswith("_") and \
                    not n.attr.startswith("__") and n.value.id not in ("np", "sys", "os"):
                bad.append(f"{p.relative_to(PACKAGE)}:{n.lineno}: {n.value.id}.{n.attr}")
    assert not bad, bad


@pytest.mark.parametrize("module, above", [
    ("loss.py", ("cost", "objective", "evaluation", "model", "estimators", "optim")),
    ("model.py", ("cost", "objective", "evaluation", "estimators", "optim")),
    ("cost.py", ("objective", "estimators", "optim")),
    ("evaluation.py", ("cost", "objective", "estimators", "optim")),
    ("objective.py", ("estimators", "optim")),
    ("sobolev.py", ("cost", "objective", "model", "estimators", "optim"))])
def test_the_layers_import_only_below_them(module, above):
    """Network, loss, cost, objective bottom up: the cost imports nothing above it (in
    particular not the objective)."""
    imported = {mod.split(".")[0] for level, mod, name in _imports(PACKAGE / module)}
    imported |= {name for level, mod, name in _imports(PACKAGE / module) if not mod}
    assert not imported & set(above), imported & set(above)


def test_every_module_is_installed_by_the_build():
    """meson installs only what meson.build lists: a module of the source tree missing there
    is missing from every installed package (and from an editable one)."""
    source = pathlib.Path(__file__).resolve().parents[1] / "src" / "snode"
    if not (source / "meson.build").exists():
        pytest.skip("no source tree beside the tests")
    listed = (source / "meson.build").read_text()
    missing = [str(p.relative_to(source)) for p in sorted(source.rglob("*.py"))
               if f"'{p.relative_to(source).as_posix()}'" not in listed]
    assert not missing, missing


@pytest.mark.parametrize("cls, kind", [(snode.SNODEClassifier, CLASSIFIER),
                                       (snode.SNODERegressor, REGRESSOR)])
def test_the_estimators_parameters_are_the_tables(cls, kind):
    sig = inspect.signature(cls)
    assert list(sig.parameters) == [p.name for p in params_of(kind)]
    for p in params_of(kind):
        assert sig.parameters[p.name].default == p.default_for(kind)
        assert f"\n    {p.name} : {p.type}" in cls.__doc__
    est = cls()
    assert est.get_params() == {p.name: p.default_for(kind) for p in params_of(kind)}


def test_the_command_line_offers_the_tables_parameters_with_their_defaults():
    """snode train has a flag for every parameter with a meaning on the command line, and no
    flag that sets one to another default: a flag not given leaves the estimator's (or the
    preset's) setting."""
    from snode.cli.parser import build_parser, table_options

    parser = build_parser()
    train = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)) \
        .choices["train"]
    flags = {o: a for a in train._actions for o in a.option_strings}
    for p in PARAMS:
        if p.cli is None:
            continue
        for flag in p.flags:
            assert flag in flags, flag
            action = flags[flag]
            assert action.default is argparse.SUPPRESS, flag  # (not given: not set)
            assert action.dest == f"param_{p.name}"
    # every parameter without a flag is one that has no meaning there, named
    assert {p.name for p in PARAMS if p.cli is None} == {"random_state", "warm_start", "comm"}
    assert len(table_options()) == len([p for p in PARAMS if p.cli])
    args = parser.parse_args(["train"])
    assert not any(k.startswith("param_") for k in vars(args))


def test_a_command_line_run_leaves_the_estimators_defaults(tmp_path):
    from snode import cli

    out = tmp_path / "m.npz"
    assert cli.main(["train", "--n", "60", "--max-iter", "2", "-q", "-o", str(out)]) == 0
    got = snode.load(out).get_params()
    defaults = snode.SNODEClassifier().get_params()
    changed = {k for k in defaults if got[k] != defaults[k]}
    # the run's seed, and the flag given
    assert changed == {"random_state", "max_iter"}, changed


def test_warm_start_applies_the_run_settings():
    """Run settings live on the estimator, not the model: a warm start takes the threads as
    set now."""
    X, y = snode.datasets.moons(80, seed=0)
    est = snode.SNODEClassifier(n_steps=3, max_iter=2, random_state=0, n_threads=2).fit(X, y)
    assert est.net_.n_threads == 2
    est.set_params(warm_start=True, n_threads=1).fit(X, y)
    assert est.net_.n_threads == 1
    net = est.net_
    est.set_params(n_threads=None).fit(X, y)
    assert est.net_ is net and net.n_threads is None
    # a failed warm start leaves the network's threads as they were
    est.set_params(n_threads=2, max_iter=0)
    with pytest.raises(ValueError, match="max_iter"):
        est.fit(X, y)
    assert est.net_.n_threads is None and est.n_threads == 2


def test_fit_and_predict_scan_the_inputs_once(monkeypatch):
    """X is checked at the estimator's boundary and flows down unchecked: no other full scan
    of an N-row array for NaN or Inf (scikit-learn's own check, when it is installed, is the
    one)."""
    N = 301
    X, y = snode.datasets.moons(N, seed=0)
    scans = []
    isfinite = np.isfinite

    def counting(a, *args, **kwargs):
        if isinstance(a, np.ndarray) and a.ndim == 2 and a.shape[0] == N:
            scans.append(a.shape)
        return isfinite(a, *args, **kwargs)

    monkeypatch.setattr(np, "isfinite", counting)
    clf = snode.SNODEClassifier(n_steps=3, max_iter=3, random_state=0).fit(X, y)
    clf.predict(X)
    clf.decision_function(X)
    reg = snode.SNODERegressor(n_steps=3, max_iter=3, random_state=0).fit(X, X[:, :1])
    reg.predict(X)
    try:
        import sklearn  # noqa: F401
        allowed = 0
    except ImportError:
        allowed = 7  # (one scan at each of the seven boundaries above, by as_float_array)
    assert len(scans) <= allowed, scans


def test_the_presets_settings_are_the_tables():
    """A preset's estimator settings are parameters of the table, each allowed by it."""
    from snode.estimators.params import param, validate

    for name in snode.PRESETS:
        settings = snode.preset(name).estimator_params()
        for key, value in settings.items():
            param(key).constraint.check(value, key)  # (KeyError: not in the table)
        for cls, kind in ((snode.SNODEClassifier, CLASSIFIER), (snode.SNODERegressor, REGRESSOR)):
            est = cls.from_preset(name)
            validate(est.get_params(), kind)
