"""
Adversarial attacks: DeepFool, PGD and the masking check
========================================================

The input Jacobian of x(T) comes from the same sweeps as the gradient, so the attacks of
:mod:`snode.analysis` are exact and batched. DeepFool finds each sample's smallest L2
perturbation that changes its class; PGD is the stronger iterative attack at a fixed budget;
the masking check makes sure that at a large budget PGD brings the accuracy to chance, or
the gradients the attacks follow would be hiding something.
"""
import matplotlib.pyplot as plt
import numpy as np

import snode
from snode import analysis, data

X, y = data.moons(600, noise=0.15, seed=0)
Xtr, Xte, ytr, yte = data.train_test_split(X, y, 0.25, seed=0)
clf = snode.SNODEClassifier(random_state=0).fit(Xtr, ytr)
Xs = clf.scaler_.transform(Xte)          # the attacks perturb the scaled inputs

attack = analysis.deepfool(clf, Xs, yte)
print(f"DeepFool fooled {attack.success.mean():.2f} of the test samples, "
      f"median L2 perturbation {np.median(attack.norm[attack.success]):.3f}")

epsilons = np.linspace(0, 1.0, 11)
curve = analysis.robust_accuracy(attack, epsilons)["over_all"]
pgd_acc = [(analysis.pgd(clf, Xs, yte, epsilon=e, norm=2, seed=0).final == 
            np.searchsorted(clf.classes_, yte)).mean() for e in epsilons[1::2]]
check = analysis.masking_check(clf, Xs, yte, epsilon=3.0, norm=2, seed=0)
print("masking check passed:", check["passed"], f"(accuracy {check['accuracy']:.2f})")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(epsilons, curve, "o-", label="DeepFool (minimal perturbations)")
ax.plot(epsilons[1::2], pgd_acc, "s--", label="PGD at each budget")
ax.set_xlabel("L2 budget epsilon (scaled inputs)")
ax.set_ylabel("robust accuracy")
ax.legend()
