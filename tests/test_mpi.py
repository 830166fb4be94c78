"""Training over MPI ranks is bit for bit training in one process (snode.mpi): the cases of
tests/mpi_job.py on 1 process without MPI, and under mpiexec on 2 and 3 ranks; the command
line under mpiexec writes one model, the single process's. Skipped without mpi4py and an
mpiexec (the test extra installs both)."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("mpi4py")
HERE = os.path.dirname(os.path.abspath(__file__))
MPIEXEC = (shutil.which("mpiexec", path=os.path.dirname(sys.executable))
           or shutil.which("mpiexec"))
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec")
TIMEOUT = 240


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for name in list(env):  # a test run under an MPI launcher must not leak it to the jobs
        if name.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPI_LOCAL")):
            del env[name]
    return env


def _run(ranks, args, cwd):
    cmd = [sys.executable] + args if ranks == 0 else \
        [MPIEXEC, "-n", str(ranks), sys.executable, "-m", "mpi4py"] + args
    r = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}\n{r.stderr}"
    return r


def test_training_over_mpi_ranks_is_bit_for_bit_one_process(tmp_path):
    job = os.path.join(HERE, "mpi_job.py")
    _run(0, [job, str(tmp_path / "one.npz")], tmp_path)
    ref = np.load(tmp_path / "one.npz")
    for ranks in (2, 3):
        _run(ranks, [job, str(tmp_path / f"r{ranks}.npz")], tmp_path)
        got = np.load(tmp_path / f"r{ranks}.npz")
        assert got["shard"][1] < 150  # rank 0 held a share, not everything
        for key in ref.files:
            if key != "shard":
                np.testing.assert_array_equal(got[key], ref[key], err_msg=f"{key}, {ranks}")
    # the plain all-reduce: the same training up to rounding
    _run(3, [job, str(tmp_path / "plain.npz"), "plain"], tmp_path)
    plain = np.load(tmp_path / "plain.npz")
    np.testing.assert_allclose(plain["ncg_W"], ref["ncg_W"], rtol=1e-6, atol=1e-9)


def _snode():
    exe = shutil.which("snode", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "snode.cli"]


@pytest.mark.parametrize("extra", [[], ["--dtype", "float32"],
                                   ["--dtype", "float32", "--batch-size", "100"]])
def test_the_command_line_under_mpiexec_writes_the_one_process_model(tmp_path, extra):
    # no options: the default data (750 training samples), early stopping "auto" on (the
    # ranks hold out the one process's samples) and the default block size from the number
    # of samples alone (3 blocks of 256): 2 and 3 ranks write the one process's file; so
    # do float32 networks (their blocks' sums are float32, the blocks are added in float64),
    # also in mini-batches (each batch's samples gathered from the ranks)
    args = ["train", "-q"] + extra
    one = subprocess.run(_snode() + args + ["-o", "one.npz"], cwd=tmp_path, env=_env(),
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert one.returncode == 0, one.stderr
    for n in (2, 3):
        run = subprocess.run([MPIEXEC, "-n", str(n)] + _snode() + args + ["-o", f"{n}.npz"],
                             cwd=tmp_path, env=_env(), capture_output=True, text=True,
                             timeout=TIMEOUT)
        assert run.returncode == 0, run.stderr
        assert run.stdout.count("model saved") == 1  # rank 0 alone prints and writes
        assert (tmp_path / "one.npz").read_bytes() == (tmp_path / f"{n}.npz").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2.npz", "3.npz", "one.npz"]


def test_an_error_on_a_rank_ends_the_job(tmp_path):
    # too few blocks for the ranks, and a missing file: a clear message and a failed job,
    # not ranks waiting forever for each other
    # (every rank fails alike: rank 0 alone says so, in one line)
    for extra, message in ((["--n", "300"], "225 training samples make 1 of 256 (the "
                                            "default for this many): run at most 1 rank,"),
                           (["--dataset", "csv:missing.csv"], "missing.csv")):
        r = subprocess.run([MPIEXEC, "-n", "2"] + _snode() + ["train", "-q"] + extra,
                           cwd=tmp_path, env=_env(), capture_output=True, text=True,
                           timeout=TIMEOUT)
        assert r.returncode == 2
        assert r.stderr.count("snode train: error: ") == 1 and message in r.stderr, r.stderr
        assert "(rank" not in r.stderr


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_under_mpiexec_stops_every_rank_and_keeps_the_weights(tmp_path, signame):
    import signal
    import time

    cmd = [MPIEXEC, "-n", "2"] + _snode() + ["train", "--n", "4000", "--max-iter", "100000",
                                             "--ftol", "0", "--steps", "60",
                                             "--no-early-stopping", "--block-size", "500",
                                             "-q", "-o", "int.npz"]
    p = subprocess.Popen(cmd, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(5)  # (training has begun: it would take minutes)
        assert p.poll() is None, p.communicate()
        p.send_signal(getattr(signal, signame))  # (SIGTERM: Slurm's scancel, time limit)
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:  # pragma: no cover - a hang: end it, and fail below
            p.kill()
    assert p.returncode == 130, err
    assert "training interrupted: last good weights" in out
    import snode

    net = snode.load(str(tmp_path / "int.npz")).net_
    assert np.isfinite(net.W).all()


def test_rank_0_alone_reads_the_data(tmp_path):
    # an MPMD job whose rank 1 runs where the file is not: rank 0 reads it and sends rank 1
    # its share; the model is the one process's
    rng = np.random.default_rng(0)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    X = rng.normal(size=(300, 2))
    np.savetxt(tmp_path / "a" / "d.csv", np.c_[X, X[:, 0] > 0], delimiter=",", fmt="%.6f")
    args = ["train", "-q", "--dataset", "csv:d.csv", "--block-size", "64", "--max-iter", "3",
            "--no-early-stopping"]
    one = subprocess.run(_snode() + args + ["-o", "one.npz"], cwd=tmp_path / "a", env=_env(),
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert one.returncode == 0, one.stderr
    cmd = [MPIEXEC, "-n", "1", "-wdir", str(tmp_path / "a")] + _snode() + args + \
        [":", "-n", "1", "-wdir", str(tmp_path / "b")] + _snode() + args
    r = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a" / "snode-model.npz").read_bytes() == \
        (tmp_path / "a" / "one.npz").read_bytes()
    assert not (tmp_path / "b" / "snode-model.npz").exists()


EXAMPLES = os.path.join(os.path.dirname(HERE), "examples")


@pytest.mark.skipif(not os.path.isdir(EXAMPLES), reason="the examples are not beside the tests")
def test_gallery_mpi_example_runs_under_mpiexec(tmp_path):
    # the gallery's MPI example (not run by the documentation build): on 2 ranks, its model
    # is the one a single process trains on all the samples
    r = _run(2, [os.path.join(EXAMPLES, "mpi_training.py")], tmp_path)
    assert "2 ranks: training accuracy" in r.stdout
    import snode

    two = snode.load(str(tmp_path / "moons-mpi.npz"))
    X, y = snode.data.moons(2000, seed=0)
    one = snode.SNODEClassifier(max_iter=50, random_state=0, block_size=500).fit(X, y)
    assert np.array_equal(two.net_.W, one.net_.W) and np.array_equal(two.net_.b, one.net_.b)
