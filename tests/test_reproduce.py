"""snode reproduce --quick: the report, its figures and its numbers."""
import json
import math

import pytest

from snode import cli

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield float(obj)


def test_quick_report(tmp_path, capsys):
    out = tmp_path / "report"
    assert cli.main(["reproduce", "--quick", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("[") for line in lines) >= 6  # a line per section, and the end
    numbers = json.loads((out / "report.json").read_text())
    for section in ("teacher", "synthetic", "metric", "sensitivity", "robustness_digits",
                    "meta"):
        assert section in numbers
    values = list(_numbers({k: v for k, v in numbers.items() if k != "sensitivity"}))
    values += [v for v in numbers["sensitivity"]["error"] + numbers["sensitivity"]["discrepancy"]]
    assert values and all(math.isfinite(v) for v in values)
    assert 1.8 < numbers["sensitivity"]["slope"] < 2.2
    models = numbers["robustness_digits"]["models"]
    assert len(models) == 3 and all(m["noise_spread"] > 0 for m in models.values())
    report = (out / "report.md").read_text()
    for name in numbers["meta"]["figures"]:
        assert (out / name).stat().st_size > 1000 and f"]({name})" in report
    assert len(numbers["meta"]["figures"]) == 5


def test_reproduce_errors_are_one_line(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    for args in (["--out", str(f)], ["--out", str(tmp_path / "a" / "b")],
                 ["--mnist", str(tmp_path / "none")]):
        assert cli.main(["reproduce", "--quick", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("snode reproduce: error:")


def test_reproduce_checks_its_arguments_before_any_work(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["--threads", "0"], ["--seed", "-1"], ["--out", ""],
                 ["--mnist", str(empty)], ["--mnist-epochs", "2"],
                 ["--mnist", str(empty), "--mnist-train", "0"]):
        assert cli.main(["reproduce", "--quick", "--out", str(tmp_path / "r"), *args]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""  # no section started
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("snode reproduce: error:")
    assert not (tmp_path / "r").exists()


def test_reproduce_refuses_an_mnist_subset_that_lacks_classes(tmp_path, capsys):
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    header = "label," + ",".join(f"p{i}" for i in range(784))
    for name, labels in (("mnist_train.csv", [3, 3, 1, 0, 2]), ("mnist_test.csv", [0, 1, 2, 3])):
        rows = [",".join([str(lab)] + ["0"] * 784) for lab in labels]
        (mnist / name).write_text(header + "\n" + "\n".join(rows) + "\n")
    out = tmp_path / "r"
    assert cli.main(["reproduce", "--quick", "--out", str(out), "--mnist", str(mnist),
                     "--mnist-train", "2"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "lack the class(es) [0, 1, 2]" in err[0]
