"""
The objective inside scipy.optimize.minimize
============================================

:func:`snode.scipy_objective` turns a network, a cost and data into ``(fun, x0)``: ``fun(x)``
returns the cost and its exact gradient at a flat weight vector, as
:func:`scipy.optimize.minimize` wants with ``jac=True``. Any of scipy's gradient methods can
then train the network, and the same objective can sit inside a larger code.
"""
import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize

import snode
from snode import data

X, Y, _ = data.teacher(300, seed=0)
net = snode.SNODE(width=4, n_steps=20, T=1.0, seed=1)
fun, x0 = snode.scipy_objective(net, snode.Cost(mse=1.0), X, Y)

costs = []
res = minimize(fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": 200},
               callback=lambda xk: costs.append(fun(xk)[0]))
net.set_params((res.x[:net.W.size].reshape(net.W.shape), res.x[net.W.size:].reshape(net.b.shape)))
print(res.message, f"cost {res.fun:.2e} after {res.nit} iterations")
print("the network holds the minimiser:", np.isclose(snode.Cost(mse=1.0)(net, X, Y), res.fun))

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.semilogy(costs)
ax.set_xlabel("L-BFGS-B iteration")
ax.set_ylabel("cost")
