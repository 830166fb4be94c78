"""The README and the user guide run as printed: their Python examples, and the README's
commands (keeps the pages true to the code)."""
import pathlib
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "guide"
pytestmark = pytest.mark.skipif(not README.exists() or not GUIDE.is_dir(),
                                reason="the pages are not beside the tests")


def _blocks(path, language):
    """The code blocks of a Markdown page fenced as ```language (``""``: plain fences)."""
    blocks, inside, keep, lines = [], False, False, []
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            if inside and keep:
                blocks.append("\n".join(lines) + "\n")
            inside, keep, lines = not inside, line[3:].strip() == language, []
        elif inside:
            lines.append(line)
    return blocks


def _run_page(path):
    """Run a page's Python blocks in order, in one namespace (later blocks use the names of
    earlier ones); return the namespace."""
    blocks = _blocks(path, "python")
    assert blocks, f"{path.name} has lost its Python examples"
    namespace = {}
    for block in blocks:
        exec(compile(block, str(path), "exec"), namespace)
    return namespace


def _commands(path):
    """The shell commands of a page's plain code blocks (``python`` and ``snode`` lines; the
    installs are CI's), with their comments dropped."""
    lines = []
    for block in _blocks(path, ""):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith(("snode ", "python -c ")):
                lines.append(line)
    return lines


def test_readme_quick_start_and_commands_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write files
    commands = _commands(README)
    assert commands[0].startswith("python -c ") and "data.csv" in commands[0]
    assert {c.split()[1] for c in commands[1:]} >= {"train", "evaluate", "predict", "info"}
    subprocess.run([sys.executable] + shlex.split(commands[0])[1:], check=True, timeout=60)
    namespace = _run_page(README)  # the quick start reads the file the first command wrote
    assert namespace["clf"].score(namespace["Xte"], namespace["yte"]) > 0.9
    assert (tmp_path / "model.npz").exists()
    snode = [sys.executable, "-m", "snode"]
    for command in commands[1:]:
        r = subprocess.run(snode + shlex.split(command)[1:], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, f"{command}\n{r.stderr}"
    assert (tmp_path / "predictions.csv").read_text().startswith("prediction,probability_")


def test_readme_is_short_and_leads_with_the_estimator():
    text = README.read_text()
    assert len(text.encode()) <= 8 * 1024
    first_screen = "\n".join(text.splitlines()[:60])
    assert "load_csv" in first_screen and "SNODEClassifier" in first_screen


def test_guide_network_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = _run_page(GUIDE / "network.md")
    assert ns["out"].shape == (100, 4) and ns["jac"].shape == (100, 4, 4)
    assert ns["gX"].shape == (100, 2) and ns["J"] > 0


def test_guide_estimators_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = _run_page(GUIDE / "estimators.md")
    assert ns["clf"].score(ns["Xte"], ns["yte"]) > 0.95
    assert (tmp_path / "spirals.npz").exists()


def test_guide_optimisers_analysis_and_files_pages_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = _run_page(GUIDE / "optimisers.md")
    assert ns["result"].n_iter > 0
    ns = _run_page(GUIDE / "analysis.md")
    assert ns["std"].shape == (10, 4) and ns["attack"].success.any()
    ns = _run_page(GUIDE / "files.md")
    assert (tmp_path / "net.npz").exists()


def test_guide_clusters_page_runs_on_one_process(tmp_path, monkeypatch):
    pytest.importorskip("mpi4py")
    monkeypatch.chdir(tmp_path)
    ns = _run_page(GUIDE / "clusters.md")
    assert (tmp_path / "moons.npz").exists() and ns["model"].n_iter_ == 100


def test_guide_sweeps_page_runs(tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    ns = _run_page(GUIDE / "sweeps.md")
    assert set(ns["study"].best_params) == {"T", "decay"}
    assert ns["study"].best_value > 0.8
