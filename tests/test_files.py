"""Data and model files as people have them: damaged, foreign or unusual files give the right
data or a ValueError naming the file (issue: real data and files, kinds 1-3)."""
import gzip
import os
import struct

import numpy as np
import pytest

import snode
from snode import datasets


def _idx(path, arr, gz=False):
    data = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(">" + "I" * arr.ndim,
                                                                 *arr.shape)
    data += arr.astype(np.uint8).tobytes()
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(data)


def _mnist_folder(tmp_path, n=6, gz=True):
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    for prefix in ("train", "t10k"):
        _idx(tmp_path / f"{prefix}-images-idx3-ubyte{suffix}",
             rng.integers(0, 256, (n, 28, 28)), gz)
        _idx(tmp_path / f"{prefix}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n), gz)
    return tmp_path


def test_truncated_and_damaged_gzip_files_name_the_file(tmp_path):
    folder = _mnist_folder(tmp_path)
    X, y = datasets.mnist(str(folder))
    assert X.shape == (6, 196) and y.shape == (6,)
    images = folder / "train-images-idx3-ubyte.gz"
    data = images.read_bytes()
    images.write_bytes(data[:len(data) // 2])  # an interrupted download
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz.*truncated or damaged"):
        datasets.mnist(str(folder))
    images.write_bytes(b"\x1f\x8b" + b"not gzip at all")  # a gzip header, then garbage
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        datasets.mnist(str(folder))


def test_an_npy_file_where_an_npz_is_expected(tmp_path):
    path = tmp_path / "data.npz"
    with open(path, "wb") as f:
        np.save(f, np.ones((4, 3)))
    with pytest.raises(ValueError, match="one array.*np.savez"):
        datasets.load_npz(path)
    with pytest.raises(ValueError, match="not an snode model: it holds one array"):
        snode.load(path)
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 a zip header and nothing else")
    with pytest.raises(ValueError, match="junk.npz"):
        datasets.load_npz(tmp_path / "junk.npz")


@pytest.mark.parametrize("labels", [np.array(["cat", "dog", "cat", "dog"]),
                                    np.array([b"no", b"yes", b"no", b"yes"]),
                                    np.array([True, False, True, False])])
def test_npz_labels_of_any_kind_are_labels(tmp_path, labels):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(8.0).reshape(4, 2), y=labels)
    X, y = datasets.load_npz(path)
    assert y.shape == (4,) and len(np.unique(y)) == 2
    clf = snode.SNODEClassifier(n_steps=4, max_iter=3, random_state=0).fit(X, y)
    assert set(clf.predict(X)) <= set(y)


def test_a_model_header_is_checked_before_anything_is_allocated(tmp_path):
    import json

    net = snode.SNODE(3, 4, seed=0)
    path = tmp_path / "m.npz"
    net.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["header"]))
    for change, match in ((dict(width=100000, n_steps=1000), "W has shape"),
                          (dict(width="3"), "width must be a positive integer"),
                          (dict(T=-1.0), "T must be a positive number"),
                          (dict(n_steps=True), "n_steps must be a positive integer")):
        bad = dict(header, **change)
        np.savez(tmp_path / "bad.npz", **dict(arrays, header=np.array(json.dumps(bad))))
        with pytest.raises(ValueError, match=match):
            snode.load(tmp_path / "bad.npz")


def test_a_custom_tableau_named_like_a_built_in_survives_a_round_trip(tmp_path):
    ralston = snode.Tableau([[0, 0], [2 / 3, 0]], [0.25, 0.75], name="heun")
    net = snode.SNODE(3, 5, scheme=ralston, seed=1)
    net.save(tmp_path / "r.npz")
    back = snode.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.tableau.a, ralston.a)
    X = np.ones((2, 3))
    np.testing.assert_array_equal(back.forward(X), net.forward(X))


# --- CSV dialects -------------------------------------------------------------------------

ROWS = [[0.25, -1.5, 0], [1.0, 2.0, 1], [3.0, 4.0, 0], [-0.5, 0.5, 1]]


def _write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def _rows_text(sep=",", label=lambda v: str(int(v))):
    return "".join(f"{r[0]}{sep}{r[1]}{sep}{label(r[2])}\n" for r in ROWS)


@pytest.mark.parametrize("text, encoding, kwargs", [
    (_rows_text(), "utf-8-sig", {}),                                   # Excel's byte-order mark
    ("x1,x2,label\n" + _rows_text(), "utf-8-sig", {}),                 # BOM and a header
    ("0,1,2\n" + _rows_text(), "utf-8", {}),                           # pandas' column numbers
    (",0,1,2\n" + "".join(f"{k},{r[0]},{r[1]},{int(r[2])}\n" for k, r in enumerate(ROWS)),
     "utf-8", {}),                                                     # pandas' index column
    (_rows_text(";"), "utf-8", {}),                                    # semicolons
    (_rows_text("\t"), "utf-8", {}),                                   # tabs
    ('"x1","x2","label"\n' + "".join(f'"{r[0]}","{r[1]}","{int(r[2])}"\n' for r in ROWS)
     + "\n\n", "utf-8", {}),                                           # quotes, blank lines
    ("label,x1,x2\n" + "".join(f"{int(r[2])},{r[0]},{r[1]}\n" for r in ROWS), "utf-8",
     dict(label_column=0)),                                            # labels first
    ("label,x1,x2\n" + "".join(f"{int(r[2])},{r[0]},{r[1]}\n" for r in ROWS), "utf-8",
     dict(label_column="label")),                                      # ... by name
    (_rows_text(), "utf-8", dict(header="no", delimiter=",")),
])
def test_csv_dialects_give_the_rows(tmp_path, text, encoding, kwargs):
    X, y = datasets.load_csv(_write(tmp_path / "d.csv", text, encoding), **kwargs)
    np.testing.assert_array_equal(X, np.array(ROWS)[:, :2])
    np.testing.assert_array_equal(y, np.array(ROWS)[:, 2].astype(int))


def test_csv_class_names_are_labels(tmp_path):
    X, y = datasets.load_csv(_write(tmp_path / "d.csv", _rows_text(
        label=lambda v: "yes" if v else "no")))
    assert list(y) == ["no", "yes", "no", "yes"]


@pytest.mark.parametrize("text, match", [
    ("a,b,y\n1,2,0\n3,,1\n", r"line 3, column 2 \('b'\): the value is missing"),
    ("a,b,y\n1,2,0\n3,NA,1\n", r"line 3, column 2 \('b'\): the value is missing"),
    ("1,2,0\n3,4,nan\n", r"line 2, column 3: 'nan' is not finite"),
    ("1,2,0\n3,4,inf\n", r"line 2, column 3: 'inf' is not finite"),
    ("1,2,0\n3,x,1\n", r"line 2, column 2: 'x' is not a number"),
    ("1,2,cat\n3,4,\n", r"line 2, column 3: the label is missing"),
    ("1,2,0\n3,4\n", r"line 2: 2 fields, the first row has 3"),
    ("1\n2\n", r"at least one input column"),
    ("a,b\n", r"header but no data rows"),
    ("", r"is empty"),
])
def test_csv_problems_name_the_file_row_and_column(tmp_path, text, match):
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError, match=match) as info:
        datasets.load_csv(path)
    assert "bad.csv" in str(info.value)


def test_csv_options_are_checked(tmp_path):
    path = _write(tmp_path / "d.csv", "a,b,y\n" + _rows_text())
    with pytest.raises(ValueError, match="no column 'z'"):
        datasets.load_csv(path, label_column="z")
    with pytest.raises(ValueError, match="outside the 3 columns"):
        datasets.load_csv(path, label_column=5)
    with pytest.raises(ValueError, match="header must be one of"):
        datasets.load_csv(path, header="maybe")
    with pytest.raises(ValueError, match="apply to csv:FILE"):
        datasets.load("moons", header="yes")


def test_command_line_reads_a_csv_with_its_options(tmp_path, capsys):
    from snode import cli

    rng = np.random.default_rng(0)
    lines = ["y;a;b"] + [f"{'cat' if k % 2 else 'dog'};{rng.normal() + 3 * (k % 2):.3f};"
                         f"{rng.normal():.3f}" for k in range(40)]
    path = _write(tmp_path / "t.csv", "\n".join(lines) + "\n")
    out = tmp_path / "m.npz"
    assert cli.main(["train", "--dataset", f"csv:{path}", "--label-column", "y",
                     "--delimiter", ";", "--max-iter", "10", "-q", "-o", str(out)]) == 0
    assert cli.main(["evaluate", str(out), "--dataset", f"csv:{path}",
                     "--label-column", "y"]) == 0
    assert "accuracy" in capsys.readouterr().out
    assert cli.main(["train", "--dataset", f"csv:{path}", "-q", "-o", str(out)]) == 2
    assert "'dog' is not a number" in capsys.readouterr().err  # (the labels are not last)


# --- MNIST as people have it ----------------------------------------------------------------


def _mnist_csv(path, n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    pixels = rng.integers(0, 256, (n, 784))
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    rows = "\n".join(",".join(map(str, [lab, *px])) for lab, px in zip(labels, pixels))
    path.write_text(header + "\n" + rows + "\n")
    return labels, pixels


def test_mnist_from_csv_files(tmp_path):
    labels, pixels = _mnist_csv(tmp_path / "mnist_train.csv", 5, 0)
    _mnist_csv(tmp_path / "mnist_test.csv", 3, 1)
    X, y = datasets.mnist(str(tmp_path), "train", size=28)
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(X * 255.0, pixels)
    X, y = datasets.mnist(str(tmp_path), "test", size=7)
    assert X.shape == (3, 49) and 0.0 <= X.min() and X.max() <= 1.0
    with pytest.raises(ValueError, match=r"size must divide 28 \(1, 2, 4, 7, 14 or 28\)"):
        datasets.mnist(str(tmp_path), size=5)
    (tmp_path / "mnist_test.csv").write_text("label,a,b\n1,2,3\n")
    with pytest.raises(ValueError, match="mnist_test.csv has 3 columns"):
        datasets.mnist(str(tmp_path), "test")


def test_command_line_trains_on_mnist_train_and_tests_on_t10k(tmp_path, capsys):
    import json

    from snode import cli

    (tmp_path / "m").mkdir()
    folder = _mnist_folder(tmp_path / "m", n=12)
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    rng = np.random.default_rng(5)
    _idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (7, 28, 28)), True)
    _idx(folder / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 7), True)
    out, metrics = tmp_path / "m.npz", tmp_path / "m.json"
    assert cli.main(["train", "--dataset", f"mnist:{folder}", "--steps", "2", "--max-iter",
                     "2", "-q", "-o", str(out), "--json", str(metrics)]) == 0
    m = json.loads(metrics.read_text())
    assert m["n_train"] == 12 and m["n_test"] == 7
    assert "test accuracy" in capsys.readouterr().out


def test_command_line_trains_large_data_in_mini_batches(tmp_path, capsys):
    from snode import cli

    rng = np.random.default_rng(0)
    X = rng.normal(size=(14000, 2))
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path / "big.csv"
    path.write_text("".join(f"{a:.4f},{b:.4f},{c}\n" for (a, b), c in zip(X, y)))
    out = tmp_path / "big.npz"
    assert cli.main(["train", "--dataset", f"csv:{path}", "--steps", "2", "--T", "1",
                     "--iterations-per-batch", "1", "-o", str(out)]) == 0
    printed = capsys.readouterr().err  # (a note: on stderr)
    assert "mini-batches of 100, 1 epoch" in printed
    # (the estimator's batch_size "auto" chose them; the file keeps the schedule used)
    est = snode.load(out)
    assert est.get_params()["batch_size"] == "auto" and est.batch_size_ == 100
    assert est.epochs_ == 1


@pytest.mark.parametrize("with_tqdm", [True, False])
def test_progress_line_shows_epoch_cost_accuracy_and_time_left(monkeypatch, with_tqdm):
    import io as _io

    from snode import progress as library_progress
    from snode.cli import progress as cli_progress

    if with_tqdm:
        pytest.importorskip("tqdm")
    else:  # a terminal without tqdm: plain lines every few seconds
        monkeypatch.setattr(library_progress, "_tqdm", lambda: None)
        monkeypatch.setattr(cli_progress.Progress, "TERMINAL_EVERY", 0.0)
    X, y = datasets.moons(3000, seed=0)
    clf = snode.SNODEClassifier(n_steps=2, batch_size=500, epochs=2, iterations_per_batch=1,
                                random_state=0)
    fake = _io.StringIO()
    fake.isatty = lambda: True
    monkeypatch.setattr(cli_progress.sys, "stderr", fake)
    progress = cli_progress.Progress(12, clf, X, y, quiet=False, epochs=2)
    clf.fit(X, y, callback=progress)
    progress.close()
    line = fake.getvalue().strip().replace("\r", "\n").splitlines()[-1]
    assert "epoch 2/2" in line and "cost" in line and "train acc" in line
    if with_tqdm:  # (tqdm's bar: the count and the time left as tqdm shows them)
        assert "12/12" in line and "<" in line
    else:  # (the last line before the result: iteration 11)
        assert line.startswith("iteration 11/12") and "left" in line
    assert len(progress.X) == 1000  # the accuracy of a sample, not of all 3000


# --- found by trying real files as a user ---------------------------------------------------


@pytest.mark.parametrize("text, match", [
    ("1,NA,0\n3,4,1\n5,6,0\n", r"line 1, column 2: the value is missing"),   # not a header
    (",2,3,0\n1,2,3,1\n4,5,6,0\n", r"line 1, column 1: the value is missing"),
    ("0,1,label\n0.5,1.5,1\n2.5,3.5,0\n", r"line 1, column 3: the label 'label' is text.*"
                                           r"header"),
    ("x;y;l\n1,5;2,5;1\n", r"'1,5' is not a number"),                         # decimal comma
    ("a,b,c\n" + "x" * 200000 + ",1,0\n", r"this reader takes"),               # a huge field
])
def test_a_bad_first_row_is_named_not_dropped(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        datasets.load_csv(_write(tmp_path / "f.csv", text))


def test_whole_numbers_of_any_sign_are_class_labels(tmp_path):
    X, y = datasets.load_csv(_write(tmp_path / "s.csv", "1,2,-1\n3,4,1\n5,6,-1\n"))
    assert y.dtype == np.int64 and list(y) == [-1, 1, -1]
    for labels in (np.array([[-1], [1]]), np.array([-1.0, 1.0])):
        np.savez(tmp_path / "s.npz", X=np.ones((2, 2)), y=labels)
        assert datasets.load_npz(tmp_path / "s.npz")[1].tolist() == [-1, 1]
    np.savez(tmp_path / "z.npz", X=np.ones((2, 2)), y=np.array(3))
    with pytest.raises(ValueError, match="have 2 and no rows"):
        datasets.load_npz(tmp_path / "z.npz")
    with pytest.raises(ValueError, match="no such file"):
        datasets.load_npz(tmp_path / "missing.npz")


def test_mnist_files_are_checked(tmp_path):
    _mnist_folder(tmp_path)
    _idx(tmp_path / "train-labels-idx1-ubyte.gz", np.full(6, 199), True)
    with pytest.raises(ValueError, match="MNIST labels lie in 0..9"):
        datasets.mnist(str(tmp_path))
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ValueError, match="train labels file .* is missing"):
        datasets.mnist(str(tmp_path))
    other = tmp_path / "csv"
    other.mkdir()
    labels, pixels = _mnist_csv(other / "mnist_train.csv", 4, 0)
    text = (other / "mnist_train.csv").read_text().split("\n", 1)[1]  # without the header
    (other / "mnist_train.csv").write_text(text)
    X, y = datasets.mnist(str(other), size=28)
    np.testing.assert_array_equal(y, labels)


def test_a_scale_that_overflows_is_a_clear_error():
    with pytest.raises(ValueError, match="too large"):
        datasets.Scaler("range").fit(np.array([[1e308], [-1e308]]))


@pytest.mark.parametrize("size", [1e-300, 1e-170, 1e-5, 1.0, 1e170, 1e300])
def test_standardisation_at_any_scale(size):
    """Features of any magnitude standardise to the same values (the statistics are taken
    after an exact division by a power of two: no square underflows or overflows); tiny
    features are not taken for constants, huge ones are no error."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    ref = datasets.Scaler("standard", per_feature=True).fit(X)
    big = datasets.Scaler("standard", per_feature=True).fit(X * size)
    assert not big.constant_.any()
    np.testing.assert_allclose(big.transform(X * size), ref.transform(X), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(big.scale_ * size, ref.scale_, rtol=1e-12)


def test_command_line_checks_its_files_first_and_matches_class_types(tmp_path, capsys):
    from snode import cli

    assert cli.main(["train", "--output", str(tmp_path / "no" / "m.npz")]) == 2
    assert "no folder" in capsys.readouterr().err
    assert cli.main(["train", "--output", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert cli.main(["train", "--epochs", "0", "--batch-size", "50"]) == 2
    assert "epochs must be >= 1" in capsys.readouterr().err
    rng = np.random.default_rng(0)
    rows = [(rng.normal() + 2 * (k % 2), rng.normal(), ("1", "2")[k % 2]) for k in range(60)]
    train = _write(tmp_path / "tr.csv", "".join(f"{a},{b},{c}\n" for a, b, c in rows[:40])
                   + "0.1,0.2,other\n")  # class names: "1", "2", "other"
    test = _write(tmp_path / "te.csv", "".join(f"{a},{b},{c}\n" for a, b, c in rows[40:]))
    out = tmp_path / "m.npz"
    assert cli.main(["train", "--dataset", f"csv:{train}", "--max-iter", "20", "-q",
                     "-o", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--dataset", f"csv:{test}"]) == 0  # 1, 2 -> "1", "2"
    assert float(capsys.readouterr().out.split()[1]) > 0.5
    assert cli.main(["evaluate", str(out), "--dataset", "spirals"]) == 2
    assert "labels the model was not trained on" in capsys.readouterr().err
    reg = tmp_path / "reg.npz"
    assert cli.main(["train", "--dataset", f"csv:{test}", "--task", "regress", "--max-iter",
                     "3", "-q", "-o", str(reg)]) == 0
    assert isinstance(snode.load(reg), snode.SNODERegressor)


def test_info_checks_the_whole_model_file(tmp_path, capsys):
    import json

    from snode import cli

    net = snode.SNODE(3, 4, seed=0)
    path = tmp_path / "m.npz"
    net.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["W"] = np.full_like(arrays["W"], np.nan)
    np.savez(tmp_path / "nan.npz", **arrays)
    assert cli.main(["info", str(tmp_path / "nan.npz")]) == 2
    assert "NaN" in capsys.readouterr().err
    clf = snode.SNODEClassifier(n_steps=3, max_iter=2, random_state=0)
    clf.fit(*datasets.moons(40, seed=0)).save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["header"]))
    header["meta"]["classes"] = None
    np.savez(tmp_path / "cls.npz", **dict(arrays, header=np.array(json.dumps(header))))
    with pytest.raises(ValueError, match="classes must be a list"):
        snode.load(tmp_path / "cls.npz")


def test_csv_comment_lines_blank_separated_fields_and_a_header_hint(tmp_path):
    rows = [[1.5, 2.0, 0], [3.0, -4.0, 1], [5.0, 6.25, 0], [-7.0, 8.0, 1]]
    expected_X = np.array([r[:2] for r in rows])
    commented = tmp_path / "c.csv"
    commented.write_text("# made by hand\n" + "\n".join(
        ",".join(str(v) for v in r) for r in rows[:2]) + "\n# a note between rows\n" +
        "\n".join(",".join(str(v) for v in r) for r in rows[2:]) + "\n")
    X, y = snode.data.load_csv(commented)
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, [0, 1, 0, 1])
    spaced = tmp_path / "s.txt"
    spaced.write_text("\n".join("  ".join(str(v) for v in r) + " " for r in rows) + "\n")
    X, y = snode.data.load_csv(spaced)
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, [0, 1, 0, 1])
    named = tmp_path / "h.csv"
    named.write_text("a,2,label\n1,2,0\n3,4,1\n")  # (one name is a number: not "auto")
    with pytest.raises(ValueError, match="--header yes"):
        snode.data.load_csv(named)
    X, _ = snode.data.load_csv(named, header="yes")
    assert X.shape == (2, 2)


def test_npz_of_a_text_file_points_to_csv(tmp_path):
    text = tmp_path / "d.csv"
    text.write_text("1,2,0\n3,4,1\n")
    with pytest.raises(ValueError, match="not an .npz archive .*csv:PATH"):
        snode.data.load_npz(text)


def test_devices_folders_and_files_without_line_ends_are_refused_by_name(tmp_path,
                                                                         monkeypatch):
    # (/dev/zero has no end: read whole it would fill the memory)
    zeros = "/dev/zero" if os.path.exists("/dev/zero") else None
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"1,2,0\n\0\0\0\n")
    for path in filter(None, (zeros, binary)):
        with pytest.raises(ValueError, match="not a text file: line [12] holds NUL bytes"):
            snode.data.load_csv(path)
    monkeypatch.setattr(snode.data.files, "MAX_LINE", 64)
    long = tmp_path / "l.csv"
    long.write_text("1," * 40 + "0\n")
    with pytest.raises(ValueError, match="line 1 is longer than 64 characters"):
        snode.data.load_csv(long)
    for path in filter(None, (zeros, tmp_path)):
        with pytest.raises(ValueError, match="is not a regular file"):
            snode.data.load_npz(path)
    with pytest.raises(ValueError, match="no such file"):
        snode.data.load_npz(tmp_path / "none.npz")


def test_csv_columns_by_name_no_labels_and_the_header_alone(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("# a comment\nb,a,label\n1,2,x\n3,4,y\n")
    X, y, names = snode.data.load_csv(path, return_names=True)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert names == ["b", "a"] and list(y) == ["x", "y"]
    X, y = snode.data.load_csv(path, columns=["a", "b"])
    np.testing.assert_array_equal(X, [[2, 1], [4, 3]])
    X, y, names = snode.data.load_csv(path, columns=[1], label_column=None,
                                      return_names=True)
    np.testing.assert_array_equal(X, [[2], [4]])
    assert y is None and names == ["a"]
    assert snode.data.csv_columns(path) == (["b", "a", "label"], 3)
    bare = tmp_path / "bare.csv"
    bare.write_text("1;2\n3;4\n")
    X, y = snode.data.load_csv(bare, label_column=None)
    assert X.shape == (2, 2) and y is None
    assert snode.data.csv_columns(bare) == (None, 2)
    for columns, match in ((["c"], "has no column 'c'"), (["a", "a"], "twice"),
                           (["label"], "twice or the labels' column"), ([], "at least one"),
                           ([5], "column 5 is outside the 3 columns")):
        with pytest.raises(ValueError, match=match):
            snode.data.load_csv(path, columns=columns)
    with pytest.raises(ValueError, match="has no header: give column as a number"):
        snode.data.load_csv(bare, columns=["a"], label_column=None)
