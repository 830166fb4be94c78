"""The docstrings' examples: every public name of ``snode`` has one, and every example in the
package's docstrings runs as printed (doctest)."""
import doctest
import importlib
import inspect
import pkgutil
import re

import numpy as np
import pytest

import snode

#: Modules whose import needs what the base install lacks, or that are not the library's.
SKIP = ("snode._kernels", "snode.tempita", "snode.__main__", "snode.cli.__main__")
#: The public names that cannot carry a docstring (data), and where their example is.
DATA_HOMES = {"SCHEMES": "snode.schemes", "ACTIVATIONS": "snode.model", "INITS": "snode.model",
              "PRESETS": "snode.presets", "__version__": "snode"}
EXAMPLES = re.compile(r"^\s*Examples\n\s*-{8}\n(.*)", re.S | re.M)


def _modules():
    names = ["snode"] + [m.name for m in pkgutil.walk_packages(snode.__path__, "snode.")]
    return [n for n in names if n not in SKIP]


def _docstring_of(name):
    if name in DATA_HOMES:
        return importlib.import_module(DATA_HOMES[name]).__doc__
    return getattr(snode, name).__doc__


@pytest.mark.parametrize("name", snode.__all__)
def test_every_public_name_has_an_example(name):
    doc = _docstring_of(name) or ""
    found = EXAMPLES.search(doc)
    assert found and ">>> " in found.group(1), f"snode.{name} has no Examples section"
    if name in DATA_HOMES:  # (the module's example shows the name itself)
        assert f"snode.{name}" in found.group(1)


def _doctests():
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests, seen = [], set()
    for module_name in _modules():
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # (an optional dependency; its tests skip elsewhere)
            continue
        for test in finder.find(module, module_name):
            if test.examples and test.name not in seen:
                seen.add(test.name)
                tests.append(test)
    return tests


DOCTESTS = _doctests()


def test_the_docstrings_hold_examples():
    assert len(DOCTESTS) >= len(snode.__all__) - len(DATA_HOMES)


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_example_runs(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # (examples may write files)
    for needs, module in (("matplotlib", "matplotlib"), ("scikit-learn", "sklearn")):
        if f"(needs {needs})" in test.docstring:  # (an example of an optional extra)
            pytest.importorskip(module)
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with np.printoptions(legacy=False):
        result = runner.run(test, out=report.append)
    assert result.attempted == sum(not e.options.get(doctest.SKIP) for e in test.examples)
    assert result.failed == 0, "".join(report)
