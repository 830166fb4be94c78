"""Saving and loading models: round trips, atomic writes, corrupt and foreign files."""
import json
import os
import zipfile

import numpy as np
import pytest

import snode
from snode import io


def test_round_trip(tmp_path):
    net = snode.SNODE(5, 7, T=2.5, scheme="heun", activation="softplus", seed=3)
    path = tmp_path / "m.npz"
    net.save(path, meta={"note": "x"})
    back = snode.load(path)
    assert isinstance(back, snode.SNODE)
    assert (back.width, back.n_steps, back.T, back.scheme, back.activation) == (
        5, 7, 2.5, "heun", "softplus")
    np.testing.assert_array_equal(back.W, net.W)
    X = np.random.default_rng(0).normal(size=(4, 5))
    np.testing.assert_array_equal(back.forward(X), net.forward(X))
    assert io.read_header(path)["meta"] == {"note": "x"}
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_custom_tableau_round_trip(tmp_path):
    t = snode.Tableau([[0, 0, 0], [0.5, 0, 0], [-1, 2, 0]], [1 / 6, 2 / 3, 1 / 6], name="kutta3")
    net = snode.SNODE(3, 4, scheme=t, seed=1)
    net.save(tmp_path / "k.npz")
    back = snode.load(tmp_path / "k.npz")
    np.testing.assert_array_equal(back.tableau.a, t.a)
    X = np.ones((2, 3))
    np.testing.assert_array_equal(back.forward(X), net.forward(X))


def test_save_is_atomic(tmp_path):
    net = snode.SNODE(3, 4, seed=1)
    path = tmp_path / "m.npz"
    net.save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="JSON"):
        net.save(path, meta={"bad": object()})
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]  # no temporary file left behind


def test_corrupt_and_foreign_files(tmp_path):
    net = snode.SNODE(3, 4, seed=1)
    good = tmp_path / "good.npz"
    net.save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a readable snode model"):
        snode.load(truncated)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"definitely not a zip file")
    with pytest.raises(ValueError, match="not a readable snode model"):
        snode.load(garbage)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, W=np.ones(3))
    with pytest.raises(ValueError, match="no header"):
        snode.load(foreign)
    with pytest.raises(ValueError, match="no such model file"):
        snode.load(tmp_path / "missing.npz")

    def rewrite(name, change):
        with np.load(good) as data:
            arrays = {k: data[k] for k in data.files}
        header = json.loads(str(arrays["header"]))
        change(header, arrays)
        arrays["header"] = np.array(json.dumps(header))
        path = tmp_path / name
        np.savez(path, **arrays)
        return path

    newer = rewrite("newer.npz", lambda h, a: h.update(version=99))
    with pytest.raises(ValueError, match="newer snode"):
        snode.load(newer)
    other = rewrite("other.npz", lambda h, a: h.update(format="something-else"))
    with pytest.raises(ValueError, match="not an snode model file"):
        snode.load(other)
    bad_shape = rewrite("shape.npz", lambda h, a: a.update(W=np.ones((4, 2, 2))))
    with pytest.raises(ValueError, match="inconsistent model file"):
        snode.load(bad_shape)
    nan = rewrite("nan.npz", lambda h, a: a.update(W=np.full((4, 3, 3), np.nan)))
    with pytest.raises(ValueError, match="inconsistent model file"):
        snode.load(nan)
    assert zipfile.is_zipfile(good)


def test_every_single_byte_damage_of_a_model_file_is_one_value_error_naming_it(tmp_path):
    """Each byte of a saved estimator flipped in turn: the load either succeeds (a byte the
    reader does not use) or raises ValueError naming the file, whatever part of the zip
    structure, the array headers or the JSON header the byte was in."""
    X, y = snode.datasets.moons(60, seed=0)
    est = snode.SNODEClassifier(n_steps=2, max_iter=2, random_state=0).fit(X, y)
    est.save(tmp_path / "m.npz")
    raw = (tmp_path / "m.npz").read_bytes()
    bad = tmp_path / "bad.npz"
    refused = 0
    # (every byte of the zip structure at both ends, every 4th in between: the arrays)
    positions = sorted({*range(600), *range(len(raw) - 600, len(raw)),
                        *range(600, len(raw), 4)})
    for i in positions:
        damaged = bytearray(raw)
        damaged[i] ^= 0xFF
        bad.write_bytes(bytes(damaged))
        try:
            snode.load(bad)
        except ValueError as exc:
            assert str(bad) in str(exc), (i, exc)
            refused += 1
    assert refused > 0.8 * len(positions)  # (most bytes matter: CRCs, sizes, headers)
