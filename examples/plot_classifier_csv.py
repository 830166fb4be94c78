"""
A classifier trained on a CSV file
==================================

The estimator on a user's own data: a CSV file with a header, the labels in its last column.
:func:`snode.data.load_csv` reads it (the header's names come back too), and
:class:`snode.SNODEClassifier` is a scikit-learn estimator: ``fit``, ``predict``,
``predict_proba``, ``score``, ``save``. The same file trains from the command line with
``snode train --dataset csv:moons.csv``.
"""
import matplotlib.pyplot as plt
import numpy as np

import snode
from snode import data, plots

# %%
# A CSV file to train on (in practice, your own): two features and a class label.
X, y = data.moons(600, noise=0.2, seed=0)
np.savetxt("moons.csv", np.column_stack([X, y]), delimiter=",", fmt="%.6f",
           header="x1,x2,label", comments="")

# %%
# Read it back, split it, train with the defaults and score on the held-out quarter.
X, y, names = data.load_csv("moons.csv", return_names=True)
print("columns:", names)
Xtr, Xte, ytr, yte = data.train_test_split(X, y, 0.25, seed=0)

clf = snode.SNODEClassifier(random_state=0)
clf.fit(Xtr, ytr)
print(f"held-out accuracy {clf.score(Xte, yte):.3f} after {clf.n_iter_} iterations")
print("class probabilities of the first three test samples:\n", clf.predict_proba(Xte[:3]))

# %%
# The decision regions, and the fitted model saved and read back.
fig, ax = plt.subplots(figsize=(5, 4))
plots.decision_regions(clf, Xte, yte, ax=ax)
ax.set_title("SNODEClassifier on moons.csv (test samples)")

clf.save("moons-model.npz")
again = snode.load("moons-model.npz")
assert (again.predict(Xte) == clf.predict(Xte)).all()
