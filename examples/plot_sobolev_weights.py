"""
The Sobolev gradient keeps the weights smooth in depth
======================================================

The weights W(t), b(t) are functions of depth. The L2 gradient changes each step's weights on
their own; the Sobolev gradient (the Riesz map of the discrete H1 inner product in depth,
:func:`snode.sobolev_gradient`) smooths each update over neighbouring steps, so the trained
weights stay smooth functions of t. Here NCG (Fletcher-Reeves) trains the same network under
both metrics, and :func:`snode.plots.weights_over_depth` draws the result;
:func:`snode.analysis.smoothness` measures it.
"""
import matplotlib.pyplot as plt
import numpy as np

import snode
from snode import analysis, data, plots

X, y = data.spirals(400, seed=0)
X = data.Scaler("standard", per_feature=True).fit(X).transform(X)
X0 = np.zeros((len(X), 4))
X0[:, 2:] = X           # x(0): the two class scores' components first, zero at t = 0
cost = snode.Cost(mse=0.0, ce=1.0, n_classes=2, decay=1e-4)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
for ax, metric in zip(axes, ("l2", "sobolev")):
    net = snode.SNODE(width=4, n_steps=30, T=6.0, seed=0)
    snode.NCG(beta="FR", metric=metric, alpha=1.0, max_iter=150).minimize(
        net, cost, X0, labels=y)
    tv = analysis.smoothness(net)["total_variation"]
    plots.weights_over_depth(net, ax=ax)
    ax.set_title(f"{metric} gradient: total variation {tv:.0f}")
    print(f"{metric}: total variation of the weights over depth {tv:.1f}")
