"""
Training over MPI
=================

Data-parallel training: each process (MPI rank) holds a share of the samples, and the sums
over samples meet in :class:`snode.mpi.MPIReducer`. The trained weights are bit for bit those
of one process with all the samples, on any number of ranks. Run it with, for example::

    mpiexec -n 2 python -m mpi4py mpi_training.py

(``-m mpi4py`` ends the whole job when one rank raises). Not run when the documentation is
built; the test suite runs it under ``mpiexec -n 2``.
"""
from mpi4py import MPI

import snode

comm = MPI.COMM_WORLD
X, y = snode.data.moons(2000, seed=0)
share = snode.shard(len(X), comm, block_size=500)   # whole blocks of 500, in rank order
model = snode.SNODEClassifier(max_iter=50, random_state=0, block_size=500, comm=comm)
model.fit(X[share], y[share])
accuracy = model.score(X[share], y[share])          # collective: over all ranks' samples
if comm.Get_rank() == 0:
    print(f"{comm.Get_size()} ranks: training accuracy {accuracy:.3f}")
    model.save("moons-mpi.npz")
