"""Figures (needs matplotlib: ``pip install matplotlib``).

decision_regions: the classes a 2-D classifier predicts over the plane, with the data;
training_curves: cost and gradient norm per iteration; weights_over_depth: every weight as a
heat map over depth (the smoothness the Sobolev gradient buys); trajectories: samples flowing
through depth. training_figure puts the four together and saves them.
"""
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["decision_regions", "training_curves", "weights_over_depth", "trajectories",
           "training_figure"]


def _plt() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install matplotlib") from None
    return plt


def decision_regions(est: Any, X: ArrayLike, y: ArrayLike, ax: Any = None,
                     resolution: int = 200) -> Any:
    """Predicted classes over the bounding box of 2-D inputs X, with the samples on top.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")                 # (needs matplotlib)
    >>> import matplotlib.pyplot as plt
    >>> import snode
    >>> from snode import plots
    >>> fig, ax = plt.subplots()
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=20, random_state=0).fit(X, y)
    >>> ax = plots.decision_regions(clf, X, y, ax=ax, resolution=50)
    >>> plt.close(fig)
    """
    plt = _plt()
    ax = ax or plt.gca()
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision regions need 2-D inputs, got shape {X.shape}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * (hi - lo)
    gx, gy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution))
    pred = est.predict(np.column_stack([gx.ravel(), gy.ravel()]))
    codes = np.searchsorted(est.classes_, pred).reshape(gx.shape)
    ax.contourf(gx, gy, codes, levels=np.arange(len(est.classes_) + 1) - 0.5, alpha=0.3,
                cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=np.searchsorted(est.classes_, y), s=6, cmap="coolwarm")
    ax.set_title("decision regions")
    return ax


def training_curves(history: Any, ax: Any = None, accuracy: Any = None) -> Any:
    """Cost and gradient norm per iteration (log scale), and, if given, the training accuracy
    as ``(iterations, values)`` on a second axis.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")                 # (needs matplotlib)
    >>> import matplotlib.pyplot as plt
    >>> import snode
    >>> from snode import plots
    >>> fig, ax = plt.subplots()
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=20, random_state=0).fit(X, y)
    >>> ax = plots.training_curves(clf.history_, ax=ax)
    >>> plt.close(fig)
    """
    plt = _plt()
    ax = ax or plt.gca()
    ax.semilogy(history["cost"], label="cost")
    ax.semilogy(history["grad_norm"], label="gradient norm", alpha=0.7)
    ax.set_xlabel("iteration")
    ax.legend(loc="lower left")
    ax.set_title("training")
    if accuracy is not None:
        it, acc = accuracy
        ax2 = ax.twinx()
        ax2.plot(it, acc, color="C2", label="train accuracy")
        ax2.set_ylabel("train accuracy")
        ax2.legend(loc="upper right")
    return ax


def weights_over_depth(net: Any, ax: Any = None) -> Any:
    """Every entry of W and b (rows) against the depth step (columns).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")                 # (needs matplotlib)
    >>> import matplotlib.pyplot as plt
    >>> import snode
    >>> from snode import plots
    >>> fig, ax = plt.subplots()
    >>> ax = plots.weights_over_depth(snode.SNODE(width=3, n_steps=10, seed=0), ax=ax)
    >>> plt.close(fig)
    """
    plt = _plt()
    ax = ax or plt.gca()
    P = np.concatenate([net.W.reshape(net.n_steps, -1), net.b], axis=1).T
    im = ax.imshow(P, aspect="auto", cmap="RdBu_r", interpolation="nearest",
                   extent=(0, net.T, P.shape[0], 0))
    ax.set_xlabel("depth t")
    ax.set_ylabel("weight entry")
    ax.yaxis.get_major_locator().set_params(integer=True)  # (entries are whole numbers)
    ax.set_title("weights over depth")
    ax.figure.colorbar(im, ax=ax)
    return ax


def trajectories(net: Any, X: ArrayLike, ax: Any = None,
                 components: tuple[int, int] = (0, 1)) -> Any:
    """Two components of the states of the samples X through depth.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")                 # (needs matplotlib)
    >>> import matplotlib.pyplot as plt
    >>> import snode
    >>> from snode import plots
    >>> fig, ax = plt.subplots()
    >>> import numpy as np
    >>> net = snode.SNODE(width=2, n_steps=10, seed=0)
    >>> ax = plots.trajectories(net, np.random.default_rng(0).normal(size=(5, 2)), ax=ax)
    >>> plt.close(fig)
    """
    plt = _plt()
    ax = ax or plt.gca()
    traj = net.trajectory(X)
    i, j = components
    for n in range(traj.shape[1]):
        ax.plot(traj[:, n, i], traj[:, n, j], lw=0.5, alpha=0.6)
    ax.scatter(traj[-1, :, i], traj[-1, :, j], s=4, c="k")
    ax.set_title(f"trajectories (components {i}, {j})")
    return ax


def training_figure(est: Any, X: ArrayLike, y: ArrayLike, path: Any, n_trajectories: int = 60,
                    accuracy: Any = None) -> None:
    """A 2 x 2 figure of a fitted estimator (decision regions when X is 2-D), saved to path;
    `accuracy` as for training_curves.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")                 # (needs matplotlib)
    >>> import matplotlib.pyplot as plt
    >>> import snode
    >>> from snode import plots
    >>> import os
    >>> import tempfile
    >>> X, y = snode.data.moons(100, seed=0)
    >>> clf = snode.SNODEClassifier(max_iter=20, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "training.png")
    >>> plots.training_figure(clf, X, y, path)
    >>> os.path.exists(path)
    True
    """
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    X = np.asarray(X, dtype=float)
    if hasattr(est, "classes_") and X.shape[1] == 2:
        decision_regions(est, X, y, axes[0, 0])
    else:
        axes[0, 0].axis("off")
    training_curves(est.history_, axes[0, 1], accuracy)
    weights_over_depth(est.net_, axes[1, 0])
    trajectories(est.net_, est.initial_state(X[:n_trajectories]), axes[1, 1])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
