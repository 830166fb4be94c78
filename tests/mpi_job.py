"""Training on MPI ranks, for tests/test_mpi.py: run as ``python mpi_job.py OUT`` (one process,
no MPI) or ``mpiexec -n R python -m mpi4py mpi_job.py OUT``; rank 0 writes the trained weights
of every case to OUT (.npz)."""
import sys

import numpy as np

import snode
from snode.mpi import MPIReducer, launched_by_mpi

BLOCK = 16


def main(out):
    red = MPIReducer() if launched_by_mpi() else None
    exact = len(sys.argv) < 3 or sys.argv[2] != "plain"
    if red is not None and not exact:
        red = MPIReducer(exact=False)
    rng = np.random.default_rng(0)
    N = 150
    X, Y = rng.normal(size=(N, 3)), rng.normal(size=(N, 5))
    labels = rng.integers(0, 3, size=N)
    cost = snode.Cost(mse=0.7, ce=0.5, decay=0.01, n_classes=3)
    cases = {
        "ncg": lambda: snode.NCG(max_iter=6),
        "lbfgs": lambda: snode.NCG(memory=4, max_iter=6),
        "ncg_minibatch": lambda: snode.NCG(batch_size=40, epochs=2, iterations_per_batch=2,
                                           seed=3),
        "adam": lambda: snode.Adam(lr=0.02, max_iter=6),
        "adam_minibatch": lambda: snode.Adam(lr=0.02, batch_size=32, epochs=2, seed=4),
    }
    s = snode.shard(N, red, BLOCK)
    res = {}
    for name, make in cases.items():
        net = snode.SNODE(5, 8, seed=3, n_threads=1)
        obj = snode.Objective(net, cost, X[s], Y[s], labels[s], reducer=red, block_size=BLOCK)
        make().minimize(obj)
        res[name + "_W"], res[name + "_b"] = net.W, net.b
    Xc, yc = snode.datasets.moons(150, seed=2)
    s = snode.shard(len(Xc), red, BLOCK)
    # (early stopping "auto" holds samples out with one process only: off for both)
    est = snode.SNODEClassifier(n_steps=8, max_iter=6, random_state=5, n_threads=1,
                                block_size=BLOCK, early_stopping=False,
                                comm=None if red is None else red.comm)
    est.fit(Xc[s], yc[s])
    res["estimator_W"] = est.net_.W
    res["estimator_score"] = est.score(Xc[s], yc[s])
    res["shard"] = np.array([s.start, s.stop])
    if red is None or red.rank == 0:
        np.savez(out, **res)


if __name__ == "__main__":
    main(sys.argv[1])
