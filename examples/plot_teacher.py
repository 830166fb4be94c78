"""
The inverse problem: recovering a teacher network
=================================================

A random smooth sNODE (the *teacher*) maps random inputs to outputs; a student of the same
shape, trained by NCG on the pairs (X, Y), should reproduce the teacher's map. This is the
method's first test problem (Baravdish et al., 2022): smooth data without noise, where the
exact gradient and the line search decide how far training gets.
"""
import matplotlib.pyplot as plt
import numpy as np

import snode
from snode import data

# %%
# The teacher (width 4, 20 RK4 steps over T = 1) and its data; a fresh sample to test on.
X, Y, teacher = data.teacher(500, seed=0)
Xte, Yte, _ = data.teacher(500, seed=1)

# %%
# The student: same shape, its own smooth initial weights, trained by NCG with the
# limited-memory BFGS direction (the defaults of :class:`snode.NCG` with ``memory=20``).
student = snode.SNODE(width=4, n_steps=20, T=1.0, seed=1)
cost = snode.Cost(mse=1.0)
result = snode.NCG(memory=20, max_iter=300).minimize(student, cost, X, Y)
error = np.linalg.norm(student.forward(Xte) - Yte) / np.linalg.norm(Yte)
print(f"{result.n_iter} iterations, final cost {result.cost:.2e}, "
      f"relative test error {error:.2e}")

# %%
# The training cost per iteration.
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.semilogy(result.history["cost"])
ax.set_xlabel("iteration")
ax.set_ylabel("cost")
ax.set_title("NCG on the teacher problem")
