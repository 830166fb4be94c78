"""The command line."""
import json
import subprocess
import sys

import numpy as np
import pytest

import snode
from snode import cli
from snode.cli import progress as cli_progress


def _train(tmp_path, *extra):
    out = tmp_path / "model.npz"
    metrics = tmp_path / "metrics.json"
    code = cli.main(["train", "--n", "200", "--steps", "10", "--T", "2", "--max-iter", "40",
                     "-o", str(out), "--json", str(metrics), "-q", *extra])
    return code, out, metrics


def test_train_info_evaluate(tmp_path, capsys):
    code, out, metrics = _train(tmp_path, "--dataset", "moons")
    assert code == 0 and out.exists()
    printed = capsys.readouterr().out
    assert "train accuracy" in printed and "test accuracy" in printed
    m = json.loads(metrics.read_text())
    assert m["train_accuracy"] > 0.8 and m["n_train"] == 150 and m["iterations"] <= 40
    assert m["dtype"] == "float64"
    assert isinstance(snode.load(out), snode.SNODEClassifier)
    assert cli.main(["info", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "SNODEClassifier" in shown and "dtype float64" in shown
    assert cli.main(["evaluate", str(out), "--dataset", "moons", "--n", "100"]) == 0
    assert "accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("extra", [["--optimizer", "adam", "--batch-size", "50", "--epochs",
                                    "2"],
                                   ["--no-sobolev", "--beta", "PR+", "--loss", "mse"],
                                   ["--dtype", "float32", "--dataset", "teacher"],
                                   ["--dataset", "teacher", "--scheme", "euler"]])
def test_train_options(tmp_path, extra):
    code, out, metrics = _train(tmp_path, *extra)
    assert code == 0 and out.exists()
    m = json.loads(metrics.read_text())
    assert ("train_accuracy" in m) != ("train_relative_error" in m)


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert cli.main(["train", "--dataset", "iris", "-o", str(tmp_path / "m.npz")]) == 2
    assert "unknown data set" in capsys.readouterr().err
    (tmp_path / "bad.npz").write_bytes(b"junk")
    assert cli.main(["info", str(tmp_path / "bad.npz")]) == 2
    assert "not a readable snode model" in capsys.readouterr().err


def test_ctrl_c_saves_the_last_good_model(tmp_path, monkeypatch):
    calls = []

    def interrupt(self, rec):
        calls.append(rec)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return False

    monkeypatch.setattr(cli_progress.Progress, "__call__", interrupt)
    code, out, metrics = _train(tmp_path)
    assert code == 130
    m = json.loads(metrics.read_text())
    assert m["interrupted"] and m["iterations"] == 5  # the fifth step was completed
    X = np.zeros((1, 2))
    assert snode.load(out).predict_proba(X).shape == (1, 2)


def test_console_entry_point():
    res = subprocess.run([sys.executable, "-m", "snode.cli", "--version"], capture_output=True,
                         text=True, check=True)
    assert res.stdout.strip() == f"snode {snode.__version__}"


def test_train_with_figure(tmp_path):
    pytest.importorskip("matplotlib")
    fig = tmp_path / "fig.png"
    code, out, _ = _train(tmp_path, "--dataset", "circles", "--plot", str(fig))
    assert code == 0 and fig.stat().st_size > 10_000


@pytest.mark.parametrize("optimizer", ["ncg", "adam"])
def test_overflow_is_one_error_line_with_a_hint(tmp_path, capsys, optimizer):
    code = cli.main(["train", "--n", "100", "--activation", "relu", "--T", "30000",
                     "--steps", "60", "--optimizer", optimizer, "--max-iter", "3", "-q",
                     "-o", str(tmp_path / "m.npz")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 2  # (the depth's warning, then the error)
    assert err[0].startswith("snode train: warning: the step T / n_steps = 30000 / 60")
    assert err[1].startswith("snode train: error:") and "bounded activation" in err[1]
    assert not (tmp_path / "m.npz").exists()


def test_damaged_and_foreign_model_files_are_one_error_line(tmp_path, capsys):
    np.save(tmp_path / "array.npy", np.ones(3))
    (tmp_path / "array.npy").rename(tmp_path / "array.npz")
    (tmp_path / "text.npz").write_text("hello\n")
    for args in (["info", str(tmp_path / "array.npz")],
                 ["evaluate", str(tmp_path / "array.npz"), "--dataset", "moons"],
                 ["info", str(tmp_path / "missing.npz")],
                 ["info", str(tmp_path / "text.npz")]):
        assert cli.main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"snode {args[0]}: error:")
        assert "pickle" not in err[0]  # (no advice to load a foreign file unsafely)
    assert "not an .npz archive" in err[0]


def test_images_are_scaled_as_the_methods_authors_scale_them(tmp_path):
    pytest.importorskip("sklearn")
    out = tmp_path / "digits.npz"
    assert cli.main(["train", "--dataset", "digits", "--steps", "3", "--max-iter", "2",
                     "--batch-size", "500", "--epochs", "1", "-q", "-o", str(out)]) == 0
    scaler = snode.load(out).scaler_
    assert (scaler.method, scaler.low, scaler.high, scaler.per_feature) == (
        "range", 0.0, -1.0, False)


@pytest.mark.parametrize("args", [["--memory", "x"], ["--steps", "1.5"], ["--optimizer", "x"]])
def test_a_malformed_option_is_one_error_line(args, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("snode train: error:") and "--help" in err[0]


def test_memory_options_and_info(tmp_path, capsys):
    base = ["train", "--n", "60", "--steps", "4", "--max-iter", "5", "--threads", "1"]
    for extra, msg in ((["--memory", "-1"], "--memory must be >= 0"),
                       (["--beta", "PR+", "--memory", "3"], "give one of them")):
        assert cli.main([*base, *extra, "-o", str(tmp_path / "x.npz")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and msg in err[0]
    out = tmp_path / "m.npz"
    assert cli.main([*base, "-o", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["info", str(out)]) == 0
    assert "memory=auto (40 used)" in capsys.readouterr().out
    assert cli.main([*base, "--beta", "PR+", "-o", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["info", str(out)]) == 0
    assert "beta=PR+, memory=auto (0 used)" in capsys.readouterr().out


def test_options_the_run_does_not_use_are_named_in_one_warning(tmp_path, capsys):
    base = ["train", "--n", "60", "--steps", "4", "--threads", "1", "-q",
            "-o", str(tmp_path / "m.npz")]
    assert cli.main([*base, "--batch-size", "20", "--epochs", "1", "--ftol", "0.5",
                     "--max-iter", "3", "--lr", "0.1"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["snode train: warning: not used by this run: --max-iter (mini-batches of "
                   "20), --ftol (mini-batches of 20), --lr (NCG takes no learning rate)"]
    assert cli.main([*base, "--optimizer", "adam", "--max-iter", "3", "--epochs", "2",
                     "--beta", "PR+"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--epochs (full batch), --beta (--optimizer adam)" in err[0]
    assert cli.main([*base, "--max-iter", "3", "--ftol", "0.1"]) == 0  # all used: no line
    assert capsys.readouterr().err == ""


def test_ftol_and_its_window_from_the_command_line(tmp_path, capsys):
    base = ["train", "--n", "100", "--steps", "4", "--threads", "1", "-q", "--max-iter",
            "200", "--no-early-stopping", "-o", str(tmp_path / "m.npz"),
            "--json", str(tmp_path / "m.json")]
    runs = {}
    for window in ("3", "30"):
        assert cli.main([*base, "--ftol", "0.01", "--n-iter-no-change", window]) == 0
        runs[window] = json.loads((tmp_path / "m.json").read_text())
    assert runs["3"]["message"].startswith("converged") and "last 3 iterations" in \
        runs["3"]["message"]
    assert runs["3"]["iterations"] < runs["30"]["iterations"]
    for extra, msg in ((["--ftol", "-1"], "--ftol must be a finite number >= 0"),
                       (["--n-iter-no-change", "0"], "--n-iter-no-change must be >= 1")):
        assert cli.main([*base, *extra]) == 2
        assert msg in capsys.readouterr().err


def test_options_are_checked_by_their_names_before_any_warning(tmp_path, capsys):
    base = ["train", "--n", "60", "--steps", "4", "--threads", "1", "-q",
            "-o", str(tmp_path / "m.npz")]
    for extra, msg in ((["--max-iter", "3", "--epochs", "0"], "--epochs must be >= 1"),
                       (["--steps", "0"], "--steps must be >= 1"),
                       (["--batch-size", "-5"], "--batch-size must be >= 0"),
                       (["--lr", "-1"], "--lr must be a finite number > 0"),  # (unused: NCG)
                       (["--ftol", "inf"], "--ftol must be a finite number >= 0"),
                       (["--optimizer", "adam", "--alpha", "-1"], "--alpha must be"),
                       (["--T", "nan"], "--T must be"),
                       (["--alpha", "2", "--no-sobolev"], "give one of them"),
                       (["--beta", "FR", "--memory", "4"], "give one of them"),
                       (["--sobolev-weight", "1.5"], "--sobolev-weight must be in [0, 1]"),
                       (["--sobolev-weight", "0.5", "--no-sobolev"], "give one of them")):
        assert cli.main([*base, *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("snode train: error:") and msg in err[0], err


def test_full_batch_over_a_preset_and_the_window_without_ftol(tmp_path, capsys):
    out = tmp_path / "m.json"
    base = ["train", "--n", "300", "--steps", "4", "--threads", "1", "-q", "--json", str(out),
            "-o", str(tmp_path / "m.npz")]
    assert cli.main([*base, "--preset", "baravdish2022", "--epochs", "1", "--max-iter", "5"]) == 0
    err = capsys.readouterr().err
    assert "--max-iter (mini-batches of 100, the preset's; --batch-size 0 for full batch)" in err
    assert cli.main([*base, "--preset", "baravdish2022", "--batch-size", "0",
                     "--max-iter", "5"]) == 0
    assert capsys.readouterr().err == "" and json.loads(out.read_text())["iterations"] == 5
    assert cli.main([*base, "--max-iter", "5", "--ftol", "0", "--n-iter-no-change", "3",
                     "--no-early-stopping"]) == 0
    assert "--n-iter-no-change (--ftol 0 turns the stop off)" in capsys.readouterr().err
    # (early stopping, on by default in full batch, counts its patience in those iterations)
    assert cli.main([*base, "--max-iter", "5", "--ftol", "0", "--n-iter-no-change", "3"]) == 0
    assert capsys.readouterr().err == ""


def test_json_metrics_are_strict_json_after_a_diverged_run(tmp_path):
    out = tmp_path / "m.json"
    assert cli.main(["train", "--n", "200", "--steps", "4", "--optimizer", "gd", "--lr", "1e9",
                     "--activation", "relu", "--max-iter", "20", "--test-size", "0", "-q",
                     "--json", str(out), "-o", str(tmp_path / "m.npz")]) == 0

    def refuse(name):
        raise AssertionError(f"{name} in the JSON file")

    m = json.loads(out.read_text(), parse_constant=refuse)
    assert m["test_accuracy"] is None  # (no test samples)
    assert m["final_cost"] is not None and np.isfinite(m["final_cost"])


def test_info_and_warnings_of_the_sobolev_weight(tmp_path, capsys):
    out = tmp_path / "m.npz"
    base = ["train", "--n", "60", "--steps", "4", "--max-iter", "3", "--threads", "1", "-q",
            "-o", str(out)]
    assert cli.main([*base, "--no-sobolev"]) == 0
    capsys.readouterr()
    assert cli.main(["info", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sobolev_alpha=None" in printed and "sobolev_weight" not in printed
    assert cli.main(base) == 0
    capsys.readouterr()
    assert cli.main(["info", str(out)]) == 0
    assert "sobolev_weight=auto (0.5 used)" in capsys.readouterr().out
    assert cli.main([*base, "--sobolev-weight", "0.3"]) == 0
    capsys.readouterr()
    assert cli.main(["info", str(out)]) == 0
    assert "sobolev_weight=0.3" in capsys.readouterr().out
    assert cli.main([*base, "--sobolev-weight", "0.3", "--alpha", "0"]) == 0
    assert "--sobolev-weight (--alpha 0: the Sobolev gradient is the L2 one)" in \
        capsys.readouterr().err


def test_the_line_search_option_and_info(tmp_path, capsys):
    out = tmp_path / "m.npz"
    base = ["train", "--n", "60", "--steps", "4", "--max-iter", "3", "--threads", "1", "-q",
            "-o", str(out)]
    for extra, shown, rule in (([], "line_search=auto (wolfe used)", "wolfe"),
                               (["--beta", "PR+"], "line_search=auto (sensitivity used)",
                                "sensitivity"),
                               (["--line-search", "sensitivity"], "line_search=sensitivity",
                                "sensitivity"),
                               (["--preset", "baravdish2022", "--batch-size", "0",
                                 "--line-search", "wolfe"], "line_search=wolfe", "wolfe")):
        assert cli.main([*base, *extra]) == 0
        assert snode.load(out).step_rule_ == rule
        capsys.readouterr()
        assert cli.main(["info", str(out)]) == 0
        assert shown in capsys.readouterr().out, extra
    # the preset's other NCG settings stay
    assert snode.load(out).ncg_options["safeguard"] is False
    assert cli.main([*base, "--optimizer", "adam", "--line-search", "wolfe"]) == 0
    assert "--line-search (--optimizer adam)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main([*base, "--line-search", "exact"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_sobolev_weight_auto_on_the_command_line_and_alpha_zero(tmp_path, capsys):
    out = tmp_path / "m.npz"
    base = ["train", "--n", "150", "--steps", "3", "--threads", "1", "-q", "-o", str(out)]
    # the preset's weight (1) back to auto, in full batch: 0.5 used
    assert cli.main([*base, "--preset", "baravdish2022", "--batch-size", "0", "--max-iter",
                     "2", "--sobolev-weight", "auto"]) == 0
    assert snode.load(out).sobolev_weight_ == 0.5
    # at alpha 0 the blend does nothing: the weight used is 1, as under the L2 metric
    assert cli.main([*base, "--max-iter", "2", "--alpha", "0"]) == 0
    assert snode.load(out).sobolev_weight_ == 1.0
    with pytest.raises(SystemExit) as exc:  # (argparse: a malformed value)
        cli.main([*base, "--sobolev-weight", "x"])
    assert exc.value.code == 2 and "a number or auto" in capsys.readouterr().err


def test_regression_reports_r2_in_the_targets_units(tmp_path, capsys):
    """Targets far from 0 (here 1000 +- 250): the regressor standardises them, and the
    command line reports R^2 (scikit-learn's) beside the relative error."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = 1000 + 200 * np.sin(X[:, 0]) + 50 * X[:, 1]
    data = tmp_path / "reg.csv"
    np.savetxt(data, np.c_[X, y], delimiter=",")
    out, metrics = tmp_path / "reg.npz", tmp_path / "m.json"
    assert cli.main(["train", "--dataset", f"csv:{data}", "--max-iter", "60", "--quiet",
                     "-o", str(out), "--json", str(metrics)]) == 0
    assert "test R^2" in capsys.readouterr().out
    m = json.loads(metrics.read_text())
    assert m["train_r2"] > 0.95 and m["test_r2"] > 0.9
    est = snode.load(out)
    assert m["test_r2"] < 1 and est.target_scaler_.shift_[0] == pytest.approx(1000, abs=60)
    assert cli.main(["evaluate", str(out), "--dataset", f"csv:{data}"]) == 0
    assert "R^2 0.9" in capsys.readouterr().out
    assert cli.main(["info", str(out)]) == 0
    assert "target_scale=standard" in capsys.readouterr().out


def test_whole_number_targets_with_many_values_are_fitted_as_numbers(tmp_path, capsys):
    """--task auto: whole numbers of many values (diabetes' targets, counts, prices) are
    targets, not hundreds of classes (a classifier scored 0.0 and reported success before);
    few values are class labels; the choice is printed."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    for y, classify in ((np.round(150 + 60 * X[:, 0] + 20 * X[:, 1]), False),
                        ((X[:, 0] > 0).astype(int) + 3, True)):
        data = tmp_path / "d.csv"
        np.savetxt(data, np.c_[X, y], delimiter=",", fmt="%.10g")
        metrics = tmp_path / "m.json"
        assert cli.main(["train", "--dataset", f"csv:{data}", "--max-iter", "30", "--steps",
                         "5", "-o", str(tmp_path / "m.npz"), "--json", str(metrics)]) == 0
        out = capsys.readouterr()
        said = "class labels" if classify else "fitted as numbers"
        assert "note: the training targets are whole numbers" in out.err and said in out.err
        assert "unique classes" not in out.err
        m = json.loads(metrics.read_text())
        assert ("train_accuracy" in m) == classify
        if not classify:
            assert m["test_r2"] > 0.8
            # a regressor's file evaluated on data with class names: one error line
            names = tmp_path / "names.csv"
            names.write_text("1.0,2.0,cat\n3.0,4.0,dog\n")
            assert cli.main(["evaluate", str(tmp_path / "m.npz"), "--dataset",
                             f"csv:{names}"]) == 2
            assert "has class names, but" in capsys.readouterr().err


def test_n_of_a_data_set_that_is_not_generated_is_named_as_unused(tmp_path, capsys):
    data = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    np.savetxt(data, np.c_[rng.normal(size=(40, 2)), np.arange(40) % 2], delimiter=",",
               fmt="%.6g")
    assert cli.main(["train", "--dataset", f"csv:{data}", "--n", "10", "--max-iter", "2",
                     "--steps", "2", "--quiet", "-o", str(tmp_path / "m.npz")]) == 0
    assert "not used by this run: --n (a generated data set's size)" in capsys.readouterr().err
    assert cli.main(["train", "--dataset", "moons", "--n", "40", "--max-iter", "2", "--steps",
                     "2", "--quiet", "-o", str(tmp_path / "m.npz")]) == 0
    assert "--n" not in capsys.readouterr().err


def test_early_stopping_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert cli.main(["train", "--dataset", "moons", "--n", "200", "--early-stopping",
                     "--validation-fraction", "0.2", "--steps", "5", "--quiet", "-o",
                     str(out)]) == 0
    est = snode.load(out)
    assert est.early_stopping and est.validation_fraction == 0.2
    capsys.readouterr()
    assert cli.main(["info", str(out)]) == 0
    assert "early_stopping=True, validation_fraction=0.2" in capsys.readouterr().out
    assert cli.main(["train", "--dataset", "moons", "--n", "100", "--validation-fraction",
                     "0.2", "--max-iter", "2", "--steps", "2", "--quiet", "-o", str(out)]) == 0
    assert capsys.readouterr().err == ""  # (early stopping "auto": on in full batch)
    assert cli.main(["train", "--dataset", "moons", "--n", "100", "--validation-fraction",
                     "0.2", "--max-iter", "2", "--steps", "2", "--no-early-stopping",
                     "--quiet", "-o", str(out)]) == 0
    assert "--validation-fraction (without early stopping)" in capsys.readouterr().err
    assert not snode.load(out).early_stopping_
    assert cli.main(["train", "--dataset", "moons", "--n", "100", "--batch-size", "10",
                     "--validation-fraction", "0.2", "--max-iter", "2", "--steps", "2",
                     "--quiet", "-o", str(out)]) == 0  # ("auto": off with mini-batches)
    assert "--validation-fraction (without early stopping)" in capsys.readouterr().err
    assert cli.main(["train", "--dataset", "moons", "--early-stopping", "--validation-fraction",
                     "1.5", "--quiet", "-o", str(out)]) == 2
    assert "validation_fraction" in capsys.readouterr().err


def test_flags_of_none_off_and_the_step_given_twice(tmp_path, capsys):
    out = tmp_path / "m.npz"
    base = ["train", "--n", "120", "--steps", "3", "--max-iter", "2", "--threads", "1", "-q",
            "-o", str(out)]
    # None by name, for every parameter that takes it
    assert cli.main([*base, "--alpha", "none", "--block-size", "None", "--width", "none",
                     "--batch-size", "none"]) == 0
    est = snode.load(out)
    assert est.sobolev_alpha is None and est.block_size is None and est.batch_size is None
    assert cli.main([*base, "--threads", "none"]) == 0  # (the flag given twice: the last)
    assert snode.load(out).n_threads is None
    # a preset's True turned off
    assert cli.main([*base, "--preset", "baravdish2022", "--epochs", "1", "--no-drop-last"]) \
        == 0
    assert snode.load(out).drop_last is False
    assert cli.main([*base, "--ncg-option", "safeguard=false", "--beta", "FR"]) == 0
    assert snode.load(out).ncg_options["safeguard"] is False
    capsys.readouterr()
    assert cli.main([*base, "--line-search", "wolfe", "--ncg-option", "step=sensitivity"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "give one" in err[0]


def test_python_m_snode_is_the_command_line():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "snode", "--version"], capture_output=True,
                       text=True, check=True)
    assert r.stdout.strip() == f"snode {snode.__version__}"
    # the parser reads the parameter table without importing scikit-learn
    code = ("import sys, snode.cli.parser as p; p.build_parser(); "
            "print('sklearn' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       check=True)
    assert r.stdout.strip() == "False"


def test_verbose_flag_alone_or_with_a_level(tmp_path, capsys):
    base = ["train", "-q", "--n", "60", "--steps", "3", "--max-iter", "2",
            "-o", str(tmp_path / "m.npz")]
    assert cli.main(base + ["--verbose"]) == 0
    assert "Iteration 2, loss = " in capsys.readouterr().out
    assert cli.main(base + ["--verbose", "0"]) == 0
    assert "Iteration" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(base + ["--verbose", "loud"])
    assert "--verbose" in capsys.readouterr().err


def test_no_test_samples_names_the_split_that_left_none(tmp_path, capsys):
    data = tmp_path / "two.csv"
    data.write_text("1,2,0\n3,4,1\n")
    base = ["train", "--dataset", f"csv:{data}", "-q", "--max-iter", "2", "--steps", "2",
            "-o", str(tmp_path / "m.npz")]
    assert cli.main(base) == 0
    assert "no test samples (--test-size 0.25 of 2 samples)" in capsys.readouterr().out
    assert cli.main([*base, "--test-size", "0"]) == 0
    assert "no test samples (--test-size 0)" in capsys.readouterr().out


def test_outputs_and_matplotlib_are_checked_before_any_training(tmp_path, capsys,
                                                                monkeypatch):
    base = ["train", "--n", "60", "--steps", "2", "--max-iter", "2", "-q"]
    assert cli.main([*base, "-o", ""]) == 2
    assert "--output is empty; give a file name" in capsys.readouterr().err
    pytest.importorskip("matplotlib")
    assert cli.main([*base, "-o", str(tmp_path / "m.npz"), "--plot",
                     str(tmp_path / "f.xyz")]) == 2
    assert "matplotlib cannot write .xyz files" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # (as if it were not installed)
    assert cli.main([*base, "-o", str(tmp_path / "m.npz"), "--plot",
                     str(tmp_path / "f.png")]) == 2
    assert "--plot needs matplotlib" in capsys.readouterr().err
    assert cli.main(["reproduce", "--quick", "--out", str(tmp_path / "r")]) == 2
    assert "snode reproduce needs matplotlib" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists() and not (tmp_path / "r").exists()


def test_sigterm_saves_the_last_good_model_as_ctrl_c_does(tmp_path):
    import signal
    import time

    cmd = [sys.executable, "-m", "snode", "train", "--n", "4000", "--steps", "60", "--ftol",
           "0", "--max-iter", "100000", "--threads", "1", "-q", "-o", "m.npz"]
    p = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        time.sleep(4)  # (training has begun: it would take minutes)
        assert p.poll() is None, p.communicate()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:  # pragma: no cover - a hang: end it, and fail below
            p.kill()
    assert p.returncode == 130, err
    assert "training interrupted: last good weights" in out
    assert np.isfinite(snode.load(str(tmp_path / "m.npz")).net_.W).all()


def test_ctrl_c_before_training_is_one_line_and_status_130(monkeypatch, capsys):
    def interrupted(argv):  # (as while the commands' modules are imported)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_parse", interrupted)
    assert cli.main(["train"]) == 130
    assert capsys.readouterr().err == "snode: interrupted\n"


def test_progress_without_a_terminal_is_a_plain_line_now_and_then(tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.setattr(cli_progress.Progress, "PLAIN_EVERY", 0.0)  # (a line every iteration)
    assert cli.main(["train", "--n", "80", "--steps", "2", "--max-iter", "4",
                     "--no-early-stopping", "-o", str(tmp_path / "m.npz")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err and all(line.startswith("iteration ") for line in err), err
    assert "\r" not in "".join(err) and "cost " in err[0]
    monkeypatch.setattr(cli_progress.Progress, "PLAIN_EVERY", 3600.0)  # (a short run: none)
    assert cli.main(["train", "--n", "80", "--steps", "2", "--max-iter", "4",
                     "-o", str(tmp_path / "m.npz")]) == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(cli_progress.Progress, "PLAIN_EVERY", 0.0)
    assert cli.main(["train", "--n", "80", "--steps", "2", "--max-iter", "4", "--verbose",
                     "--no-early-stopping", "-o", str(tmp_path / "m.npz")]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "Iteration 1, loss = " in captured.out  # (verbose's own)


def _table(path, header, columns):
    path.write_text(",".join(header) + "\n" + "\n".join(
        ",".join(str(v) for v in row) for row in zip(*columns)) + "\n")
    return path


def test_a_csv_header_is_kept_and_columns_are_matched_by_name(tmp_path, capsys):
    """The names of a CSV header go into the model; evaluate and predict match another
    order of the columns by name, and refuse missing or unknown columns by name."""
    X, y = snode.datasets.moons(300, seed=0)
    noise = np.random.default_rng(0).standard_normal(300)
    cols = {"x1": X[:, 0], "x2": X[:, 1], "noise": noise, "label": y}
    train = _table(tmp_path / "train.csv", list(cols), list(cols.values()))
    order = ["noise", "label", "x2", "x1"]
    moved = _table(tmp_path / "moved.csv", order, [cols[c] for c in order])
    other = _table(tmp_path / "other.csv", ["x1", "x3", "noise", "label"],
                   [cols[c] for c in ("x1", "x2", "noise", "label")])
    model = tmp_path / "m.npz"
    assert cli.main(["train", "--dataset", f"csv:{train}", "--max-iter", "30", "-q",
                     "-o", str(model)]) == 0
    est = snode.load(model)
    assert list(est.feature_names_in_) == ["x1", "x2", "noise"]
    capsys.readouterr()
    assert cli.main(["info", str(model)]) == 0
    assert "input columns: x1, x2, noise" in capsys.readouterr().out
    scores = []
    for path in (train, moved):
        assert cli.main(["evaluate", str(model), "--dataset", f"csv:{path}",
                         "--label-column", "label"]) == 0
        out, err = capsys.readouterr()
        scores.append(out.split()[1])
        assert ("matched by name" in err) == (path == moved)
    assert scores[0] == scores[1]  # (the same columns, in another order)
    assert cli.main(["evaluate", str(model), "--dataset", f"csv:{other}"]) == 2
    err = capsys.readouterr().err
    assert "lacks the model's columns: 'x2'" in err
    # a column the model does not know: left out, with a note (as predict does)
    extra = _table(tmp_path / "extra.csv", ["id", "x1", "x2", "noise", "label"],
                   [np.arange(300)] + [cols[c] for c in ("x1", "x2", "noise", "label")])
    assert cli.main(["evaluate", str(model), "--dataset", f"csv:{extra}"]) == 0
    out, err = capsys.readouterr()
    assert out.split()[1] == scores[0] and "not used: id" in err
    assert "another order" not in err
    # no header: by position, and said so
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(",".join(str(v) for v in row) for row in zip(
        *(cols[c] for c in ("x1", "x2", "noise", "label")))) + "\n")
    assert cli.main(["evaluate", str(model), "--dataset", f"csv:{plain}"]) == 0
    out, err = capsys.readouterr()
    assert out.split()[1] == scores[0] and "taken by position as the model's x1, x2" in err
    # predict: by name (the labels' column left out), or by position without a header
    X_ = np.c_[X, noise]
    del est.feature_names_in_  # (arrays below: no warning about the names)
    ref = est.predict_proba(X_)
    bare = tmp_path / "bare.csv"
    np.savetxt(bare, X_, delimiter=",")
    with_labels = tmp_path / "bare_labels.csv"
    np.savetxt(with_labels, np.c_[X_, y], delimiter=",")
    for path in (moved, bare, with_labels):
        out_csv = tmp_path / "p.csv"
        assert cli.main(["predict", str(model), "--dataset", f"csv:{path}",
                         "-o", str(out_csv)]) == 0
        assert "300 predictions written" in capsys.readouterr().err
        got = np.loadtxt(out_csv, delimiter=",", skiprows=1)
        assert out_csv.read_text().startswith("prediction,probability_0,probability_1\n")
        np.testing.assert_allclose(got[:, 1:], ref, rtol=1e-12)
        np.testing.assert_array_equal(got[:, 0], est.predict(X_))
    assert cli.main(["predict", str(model), "--dataset", f"csv:{other}"]) == 2
    assert "lacks the model's columns: 'x2'" in capsys.readouterr().err
    short = tmp_path / "short.csv"
    np.savetxt(short, X, delimiter=",")
    assert cli.main(["predict", str(model), "--dataset", f"csv:{short}"]) == 2
    assert "has 2 columns; " in capsys.readouterr().err
    # to stdout; a folder that is not there is refused before any work
    assert cli.main(["predict", str(model), "--dataset", f"csv:{bare}"]) == 0
    assert capsys.readouterr().out.count("\n") == 301
    assert cli.main(["predict", str(model), "--dataset", f"csv:{bare}",
                     "-o", str(tmp_path / "none" / "p.csv")]) == 2
    assert "no folder" in capsys.readouterr().err


def test_predict_of_a_regressor(tmp_path, capsys):
    model = tmp_path / "t.npz"
    assert cli.main(["train", "--dataset", "teacher", "--n", "200", "--max-iter", "20", "-q",
                     "-o", str(model)]) == 0
    est = snode.load(model)
    X, Y = snode.datasets.load("teacher", n=50, seed=3)
    table = tmp_path / "t.csv"
    np.savetxt(table, np.c_[X, Y], delimiter=",")  # (targets last, as training read them)
    capsys.readouterr()
    assert cli.main(["predict", str(model), "--dataset", f"csv:{table}"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ",".join(f"prediction_{j + 1}" for j in range(Y.shape[1]))
    np.testing.assert_allclose(np.loadtxt(out[1:], delimiter=","), est.predict(X), rtol=1e-12)


def test_a_closed_pipe_ends_quietly_with_the_status_of_sigpipe(tmp_path, monkeypatch, capsys):
    model = tmp_path / "m.npz"
    assert cli.main(["train", "--n", "100", "--max-iter", "2", "-q", "-o", str(model)]) == 0
    capsys.readouterr()

    class Closed:  # (the reader of the pipe has gone: ``snode predict ... | head -1``)
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert cli.main(["predict", str(model), "--dataset", "spirals", "--n", "50"]) == 141
    monkeypatch.undo()
    assert capsys.readouterr().err == ""


def test_outputs_onto_devices_and_pipes_are_written_into_not_replaced(tmp_path, capsys):
    import os
    import threading
    model = tmp_path / "m.npz"
    assert cli.main(["train", "--n", "100", "--max-iter", "2", "-q", "-o", str(model)]) == 0
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    assert cli.main(["predict", str(model), "--dataset", "spirals", "--n", "20",
                     "-o", str(fifo)]) == 0
    reader.join(timeout=30)
    assert got and got[0].startswith("prediction,") and got[0].count("\n") == 21
    assert fifo.is_fifo()  # (still the pipe, not a file in its place)
    target = tmp_path / "target.npz"
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    assert cli.main(["train", "--n", "100", "--max-iter", "2", "-q", "-o", str(link)]) == 0
    assert link.is_symlink() and snode.load(target).n_features_in_ == 2
    if os.path.exists("/dev/null"):
        assert cli.main(["train", "--n", "100", "--max-iter", "2", "-q",
                         "-o", "/dev/null"]) == 0
        assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_the_labels_column_by_its_name_and_columns_predict_does_not_use(tmp_path, capsys):
    X, y = snode.datasets.moons(200, seed=1)
    cols = {"a": X[:, 0], "b": X[:, 1], "label": y}
    train = _table(tmp_path / "train.csv", list(cols), list(cols.values()))
    model = tmp_path / "m.npz"
    assert cli.main(["train", "--dataset", f"csv:{train}", "--max-iter", "20", "-q",
                     "-o", str(model)]) == 0
    assert list(snode.load(model).target_names_in_) == ["label"]
    capsys.readouterr()
    # the labels first: found by the name they had in training, no --label-column needed
    first = _table(tmp_path / "first.csv", ["label", "b", "a"], [y, X[:, 1], X[:, 0]])
    assert cli.main(["evaluate", str(model), "--dataset", f"csv:{train}"]) == 0
    want = capsys.readouterr().out.split()[1]
    assert cli.main(["evaluate", str(model), "--dataset", f"csv:{first}"]) == 0
    assert capsys.readouterr().out.split()[1] == want
    # predict: columns it does not use are named; a column named twice, or a labels'
    # column that is not there, is refused
    extra = _table(tmp_path / "extra.csv", ["id", "a", "b", "label", "zzz"],
                   [np.arange(200), X[:, 0], X[:, 1], y, y])
    assert cli.main(["predict", str(model), "--dataset", f"csv:{extra}", "-o",
                     str(tmp_path / "p.csv")]) == 0
    assert "columns of " in (err := capsys.readouterr().err) and "not used: id, zzz" in err
    twice = _table(tmp_path / "twice.csv", ["a", "a", "b"], [X[:, 0] + 99, X[:, 0], X[:, 1]])
    assert cli.main(["predict", str(model), "--dataset", f"csv:{twice}"]) == 2
    assert "names columns twice: 'a'" in capsys.readouterr().err
    assert cli.main(["predict", str(model), "--dataset", f"csv:{train}",
                     "--label-column", "nosuch"]) == 2
    assert "has no column 'nosuch'" in capsys.readouterr().err
    assert cli.main(["predict", str(model), "--dataset", "csv:"]) == 2
    assert "names no file" in capsys.readouterr().err


def test_a_header_a_model_without_names_cannot_check_is_said(tmp_path, capsys):
    X, y = snode.datasets.moons(100, seed=2)
    bare = tmp_path / "bare.csv"
    np.savetxt(bare, np.c_[X, y], delimiter=",")
    named = _table(tmp_path / "named.csv", ["b", "a", "label"], [X[:, 1], X[:, 0], y])
    model = tmp_path / "m.npz"
    assert cli.main(["train", "--dataset", f"csv:{bare}", "--max-iter", "5", "-q",
                     "-o", str(model)]) == 0
    capsys.readouterr()
    for command in ("evaluate", "predict"):
        assert cli.main([command, str(model), "--dataset", f"csv:{named}"]) == 0
        err = capsys.readouterr().err
        assert f"snode {command}: note: " in err and "taken by position" in err


@pytest.mark.parametrize("value", ["2", "1", "-0.1", "nan", "half"])
def test_a_test_size_out_of_range_is_named_by_its_flag(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--test-size", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("snode train: error: argument --test-size: a number in [0, 1)")
    assert err.count("\n") == 1
