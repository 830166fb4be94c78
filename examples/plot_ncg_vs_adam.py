"""
NCG against Adam
================

The same network, cost and data, trained from the same initial weights by nonlinear
conjugate gradients (:class:`snode.NCG`, here with the limited-memory BFGS direction and the
strong-Wolfe line search) and by :class:`snode.Adam`; the training cost against the
gradient evaluations each used. Every optimiser's ``minimize`` returns a
:class:`snode.TrainResult` whose ``history`` holds the cost and the evaluations so far per
iteration.
"""
import matplotlib.pyplot as plt
import numpy as np

import snode
from snode import data

X, y = data.spirals(500, seed=0)
X = data.Scaler("standard", per_feature=True).fit(X).transform(X)
X0 = np.zeros((len(X), 4))
X0[:, 2:] = X           # x(0): the two class scores' components first, zero at t = 0
cost = snode.Cost(mse=0.0, ce=1.0, n_classes=2, decay=1e-4)
start = snode.SNODE(width=4, n_steps=10, T=6.0, seed=0)

runs = {
    "NCG (L-BFGS, Wolfe)": snode.NCG(memory=40, step="wolfe", sobolev_weight=0.5,
                                     max_iter=300),
    "Adam, lr 0.03": snode.Adam(lr=0.03, max_iter=600),
}
fig, ax = plt.subplots(figsize=(5, 3.5))
for label, optimizer in runs.items():
    net = snode.SNODE(width=4, n_steps=10, T=6.0, seed=0)  # the same initial weights
    result = optimizer.minimize(net, cost, X0, labels=y)
    ax.semilogy(result.history["evaluations"], result.history["cost"], label=label)
    print(f"{label}: cost {result.cost:.4f} after {result.evaluations} gradient evaluations")
ax.set_xlabel("gradient evaluations")
ax.set_ylabel("training cost")
ax.legend()
