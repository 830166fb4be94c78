"""The README's example runs as printed (keeps the README true to the code)."""
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.skipif(not README.exists(), reason="README.md is not beside the tests")
def test_readme_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2, "the README has lost its Python examples"
    monkeypatch.chdir(tmp_path)  # the examples save files
    namespace = {}
    for block in blocks:  # in order: later ones use the names of earlier ones
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["out"].shape == (100, 4)
    assert namespace["jac"].shape == (100, 4, 4)
    assert namespace["gX"].shape == (100, 2)
    assert namespace["J"] > 0
    assert namespace["clf"].score(namespace["Xte"], namespace["yte"]) > 0.95
    assert (tmp_path / "spirals.npz").exists()
    assert (tmp_path / "moons.npz").exists() and namespace["model"].n_iter_ == 100
    assert namespace["std"].shape == (10, 4) and namespace["attack"].success.any()
