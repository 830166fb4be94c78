"""
Uncertainty: the linearised covariance against Monte Carlo
==========================================================

How much do a trained network's outputs move when its weights carry Gaussian noise of size
sigma? The sensitivity problem answers to first order, from sensitivity sweeps
(:func:`snode.analysis.output_covariance`), without sampling; Monte Carlo answers by
sampling perturbed networks. :func:`snode.analysis.noise_sweep` puts the two side by side
over noise levels and finds where they part (where the linearisation stops holding).
"""
import matplotlib.pyplot as plt
import numpy as np

import snode
from snode import analysis, data

X, y = data.moons(400, seed=0)
clf = snode.SNODEClassifier(random_state=0).fit(X, y)
X0 = clf.initial_state(X[:50])          # the network's inputs x(0) of 50 samples

std = analysis.output_covariance(clf.net_, X0, sigma=1e-2, diagonal=True)
print("linearised standard deviation of x(T), first sample:", std[0])

sweep = analysis.noise_sweep(clf.net_, X0, np.logspace(-3, 0, 7), samples=100, seed=0)
print("levels:", sweep.sigmas)
print("discrepancy:", np.round(sweep.discrepancy, 3), "parting at", sweep.limit)

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(sweep.sigmas, np.sqrt((sweep.linearized ** 2).mean(axis=(1, 2))), "o-",
          label="linearised")
ax.loglog(sweep.sigmas, np.sqrt((sweep.monte_carlo ** 2).mean(axis=(1, 2))), "s--",
          label="Monte Carlo")
ax.set_xlabel("weight noise sigma")
ax.set_ylabel("RMS output standard deviation")
ax.legend()
