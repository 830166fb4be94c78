"""Data and model files as people have them: damaged, foreign or unusual files give the right
data or a ValueError naming the file (issue: real data and files, kinds 1-3)."""
import gzip
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
