"""Data sets, file loaders and preprocessing."""
import gzip
import struct
import sys

import numpy as np
import pytest

import snode
from snode import datasets as ds


@pytest.mark.parametrize("gen", [ds.spirals, ds.circles, ds.moons, ds.xor])
def test_two_dimensional_sets(gen):
    X, y = gen(301, seed=3)
    assert X.shape == (301, 2) and y.shape == (301,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert abs(np.mean(y) - 0.5) < 0.1
    assert np.abs(X).max() < 3
    X2, y2 = gen(301, seed=3)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, gen(301, seed=4)[0])


def test_generators_are_what_they_say():
    X, y = ds.circles(400, noise=0.0, factor=0.4, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.4)
    X, y = ds.xor(400, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    X, y = ds.spirals(400, noise=0.0, seed=0)
    # the two arms are point reflections of each other: the same radii occur in both
    assert np.hypot(*X[y == 0].T).max() == pytest.approx(np.hypot(*X[y == 1].T).max(), 0.05)


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="n must be >= 2"):
        ds.spirals(1)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        ds.moons(10, noise=-1)
    with pytest.raises(ValueError, match="factor must be < 1"):
        ds.circles(10, factor=1.5)


def test_teacher():
    X, Y, net = ds.teacher(50, width=3, n_steps=8, seed=2)
    assert X.shape == (50, 3) and Y.shape == (50, 3)
    np.testing.assert_array_equal(net.forward(X), Y)
    assert np.abs(Y - X).max() > 0.05  # the flow does something
    # another seed: fresh inputs for the same teacher
    X2, Y2, net2 = ds.teacher(50, width=3, n_steps=8, seed=3)
    np.testing.assert_array_equal(net2.W, net.W)
    assert not np.array_equal(X2, X)
    assert not np.array_equal(ds.teacher(5, width=3, n_steps=8, teacher_seed=1)[2].W, net.W)


def test_digits():
    pytest.importorskip("sklearn")
    X, y = ds.digits()
    assert X.shape == (1797, 64) and set(np.unique(y)) == set(range(10))


def test_digits_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        ds.digits()


def _write_idx(path, arr, gz=False):
    header = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(">" + "I" * arr.ndim,
                                                                  *arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reader(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28))
    labels = np.array([3, 1, 4, 1, 5])
    suffix = ".gz" if gz else ""
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images, gz)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", labels, gz)
    X, y = ds.mnist(str(tmp_path), kind="test")
    assert X.shape == (5, 196)
    np.testing.assert_array_equal(y, labels)
    expected = images[2].reshape(14, 2, 14, 2).mean(axis=(1, 3)) / 255
    np.testing.assert_allclose(X[2].reshape(14, 14), expected)
    X7, _ = ds.mnist(str(tmp_path), kind="test", size=7)
    assert X7.shape == (5, 49)
    with pytest.raises(ValueError, match="no train-images"):
        ds.mnist(str(tmp_path), kind="train")
    with pytest.raises(ValueError, match="size must divide 28"):
        ds.mnist(str(tmp_path), kind="test", size=5)


def test_mnist_rejects_corrupt_files(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 5)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([1, 2]))
    with pytest.raises(ValueError, match="truncated|expected"):
        ds.mnist(str(tmp_path), kind="test")
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match="not an IDX file"):
        ds.mnist(str(tmp_path), kind="test")


def test_csv_and_npz(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))
    y = rng.integers(0, 3, 20)
    path = tmp_path / "d.csv"
    with open(path, "w") as f:
        f.write("a,b,c,label\n")
        for row, lab in zip(X, y):
            f.write(",".join(f"{v:.17g}" for v in row) + f",{lab}\n")
    X2, y2 = ds.load_csv(str(path))
    np.testing.assert_allclose(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert y2.dtype == np.int64
    Xr, Yr = ds.load_csv(str(path), target_columns=2)
    assert Xr.shape == (20, 2) and Yr.shape == (20, 2)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    X3, y3 = ds.load(f"npz:{tmp_path / 'd.npz'}")
    np.testing.assert_array_equal(X3, X)
    with pytest.raises(ValueError, match="arrays 'X' and 'y'"):
        np.savez(tmp_path / "e.npz", A=X)
        ds.load_npz(str(tmp_path / "e.npz"))
    (tmp_path / "bad.csv").write_text("1,2,3\n4,x,6\n")
    with pytest.raises(ValueError, match="not a CSV file of numbers"):
        ds.load_csv(str(tmp_path / "bad.csv"))
    with pytest.raises(ValueError, match="cannot read"):
        ds.load_csv(str(tmp_path / "missing.csv"))


def test_load_by_name():
    X, y = ds.load("moons", n=50, seed=0)
    assert X.shape == (50, 2)
    X, Y = ds.load("teacher", n=30, seed=0)
    assert Y.shape == X.shape
    with pytest.raises(ValueError, match="unknown data set"):
        ds.load("iris")


def test_scaler():
    X = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    s = ds.Scaler().fit(X)  # authors' default: smallest 0, largest -1, all values together
    np.testing.assert_allclose(s.transform(X), -X / 30.0)
    pf = ds.Scaler("range", low=-1, high=1, per_feature=True).fit(X)
    np.testing.assert_allclose(pf.transform(X), [[-1, -1], [0, 1], [1, 0]])
    st = ds.Scaler("standard", per_feature=True).fit(X)
    Z = st.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-15)
    np.testing.assert_allclose(Z.std(axis=0), 1)
    back = ds.Scaler.from_dict(st.to_dict())
    np.testing.assert_array_equal(back.transform(X), Z)
    np.testing.assert_allclose(st.inverse_transform(Z), X, rtol=1e-15)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X, atol=1e-14)
    with pytest.raises(ValueError, match="Z has 3 features"):
        st.inverse_transform(np.ones((2, 3)))
    # which features were constant (only shifted) is part of the fit, and of the file
    const = ds.Scaler("standard", per_feature=True).fit(np.c_[X, np.full(3, 2.0)])
    assert const.constant_.tolist() == [False, False, True]
    assert ds.Scaler.from_dict(const.to_dict()).constant_.tolist() == [False, False, True]
    old = {k: v for k, v in const.to_dict().items() if k != "constant"}  # (older files)
    assert ds.Scaler.from_dict(old).constant_.tolist() == [False, False, False]
    with pytest.raises(ValueError, match="one boolean a feature"):
        ds.Scaler.from_dict(dict(const.to_dict(), constant=[True]))
    with pytest.raises(ValueError, match="not fitted"):
        ds.Scaler().transform(X)
    with pytest.raises(ValueError, match="3 features"):
        st.transform(np.ones((2, 3)))
    with pytest.raises(ValueError, match="unknown scaling"):
        ds.Scaler("minmax")


def test_one_hot_and_split():
    Y = ds.one_hot([2, 0, 1], 3, width=5, levels=(-1.0, 1.0))
    np.testing.assert_array_equal(Y, [[-1, -1, 1, 0, 0], [1, -1, -1, 0, 0], [-1, 1, -1, 0, 0]])
    with pytest.raises(ValueError, match="labels must be"):
        ds.one_hot([3], 3)
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    a = ds.train_test_split(X, y, 0.3, seed=1)
    b = ds.train_test_split(X, y, 0.3, seed=1)
    assert a[0].shape == (7, 2) and a[1].shape == (3, 2)
    np.testing.assert_array_equal(a[1], b[1])
    assert sorted(np.concatenate([a[2], a[3]])) == list(range(10))
    assert snode.datasets is ds


@pytest.mark.parametrize("method", ["standard", "range"])
def test_constant_and_nearly_constant_features_keep_scale_one(method):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=50), np.full(50, 0.3),
                         0.3 + 1e-17 * rng.normal(size=50),  # rounding noise only
                         1e5 + 1e-12 * rng.normal(size=50)])
    scaler = ds.Scaler(method, low=-1.0, high=1.0, per_feature=True).fit(X)
    assert scaler.scale_[0] != 1.0
    np.testing.assert_array_equal(scaler.scale_[1:], 1.0)
    # float32 rounding of the inputs does not move the scaled values by more than it is
    Xs = scaler.transform(X)
    X32 = scaler.transform(X.astype(np.float32).astype(np.float64))
    assert np.abs(Xs[:, 1:] - X32[:, 1:]).max() < 1e-2


def test_image_scaling_maps_background_to_zero_and_strokes_to_minus_one():
    X = np.array([[0.0, 16.0, 8.0], [0.0, 0.0, 16.0]])
    clf = snode.SNODEClassifier(n_steps=3, max_iter=2, scale="image", random_state=0)
    clf.fit(np.vstack([X] * 5), np.array([0, 1] * 5))
    np.testing.assert_allclose(clf.scaler_.transform(X), [[0.0, -1.0, -0.5], [0.0, 0.0, -1.0]])
    with pytest.raises(ValueError, match="unknown scale"):
        snode.SNODEClassifier(scale="minmax").fit(X, [0, 1])
