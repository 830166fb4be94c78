"""Figures (matplotlib is in the test extra; skipped where it is missing)."""
import pytest

import snode
from snode import datasets as ds


def test_training_figure(tmp_path):
    pytest.importorskip("matplotlib")
    from snode import plots

    X, y = ds.circles(200, seed=0)
    clf = snode.SNODEClassifier(n_steps=8, T=2.0, max_iter=10, random_state=0).fit(X, y)
    path = tmp_path / "fig.png"
    plots.training_figure(clf, X, y, path)
    assert path.stat().st_size > 10_000
    with pytest.raises(ValueError, match="2-D inputs"):
        plots.decision_regions(clf, X[:, :1], y)
