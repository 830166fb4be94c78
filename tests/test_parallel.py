"""Sweeps through scikit-learn's n_jobs (joblib): a grid search over SNODEClassifier gives the
same results on one process, on two loky processes (each capped to its share of the cores by
OMP_NUM_THREADS, which loky sets) and on a Dask LocalCluster (joblib's dask backend)."""
import numpy as np
import pytest

import snode

sklearn = pytest.importorskip("sklearn")
from sklearn.model_selection import GridSearchCV  # noqa: E402

GRID = {"decay": [1e-4, 1e-3], "T": [3.0, 6.0]}


def _search(**kwargs):
    X, y = snode.data.moons(200, seed=0)
    gs = GridSearchCV(snode.SNODEClassifier(random_state=0, max_iter=30), GRID, cv=2, **kwargs)
    return gs.fit(X, y)


def test_grid_search_on_two_processes_is_the_one_process_search():
    one, two = _search(n_jobs=1), _search(n_jobs=2)
    np.testing.assert_array_equal(one.cv_results_["mean_test_score"],
                                  two.cv_results_["mean_test_score"])
    assert one.best_params_ == two.best_params_
    np.testing.assert_array_equal(one.best_estimator_.net_.W, two.best_estimator_.net_.W)


def test_grid_search_on_a_dask_cluster_is_the_one_process_search():
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_backend

    one = _search(n_jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), parallel_backend("dask"):
        on_dask = _search()
    np.testing.assert_array_equal(one.cv_results_["mean_test_score"],
                                  on_dask.cv_results_["mean_test_score"])
    assert one.best_params_ == on_dask.best_params_
