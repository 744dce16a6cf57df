"""rgg_fit_dask against the same pipeline computed locally with public functions."""

import numpy as np
import pytest

from manigeo.datasets import sample_rgg
from manigeo.embedding import landmark_mds
from manigeo.geodesics import landmark_shortest_paths
from manigeo.graphs import common_neighbors
from manigeo.rgg import edge_moments, invert_lens, rgg_fit_dask

dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")


def _local_pipeline(A, d, landmarks, radius):
    C = common_neighbors(A)  # on A's pattern, aligned with A.data
    k = np.diff(A.indptr).astype(float)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    s = C.data / np.sqrt((k[rows] - 1) * (k[A.indices] - 1))
    q = min(np.mean(s) / edge_moments(d), 1.0)
    u = np.maximum(invert_lens(np.minimum(s / q, 1.0), d), 1e-12)
    W = A.copy()
    W.data = u
    _, D = landmark_shortest_paths(W, landmarks)
    D = D * radius
    return q, W, D, landmark_mds(D, landmarks, 2)


@pytest.fixture
def sync():
    import dask

    with dask.config.set(scheduler="sync"):
        yield


@pytest.mark.parametrize("strategy", ["local", "blockwise"])
def test_rgg_fit_dask_equals_local(sync, strategy):
    rng = np.random.default_rng(5)
    X = rng.uniform(size=(250, 2))
    A = sample_rgg(X, 0.16, boxsize=1.0)
    r, c = A.nonzero()
    df = pd.DataFrame({"src": r, "dst": c}).sample(frac=1.0, random_state=1)
    edges = dd.from_pandas(df.reset_index(drop=True), npartitions=3, sort=False)
    landmarks = np.array([3, 50, 120, 199, 240])
    res = rgg_fit_dask(
        edges,
        dimension=2,
        n_landmarks=landmarks,
        radius=0.16,
        strategy=strategy,
        chunk_size=70,
    )
    q, W, D, Y = _local_pipeline(A, 2, landmarks, 0.16)
    assert res.keep_rate == pytest.approx(q, rel=1e-13)
    with pytest.warns(DeprecationWarning, match="renamed 'keep_rate'"):
        assert res.edge_keep_rate == res.keep_rate
    local = res.local_distances.compute()
    expected = np.asarray(W[local.src.to_numpy(), local.dst.to_numpy()]).ravel()
    np.testing.assert_allclose(local.distance.to_numpy(), expected * 0.16, rtol=1e-11)
    np.testing.assert_array_equal(res.landmarks, landmarks)
    np.testing.assert_allclose(res.geodesic_distances.compute(), D, rtol=1e-11)
    np.testing.assert_allclose(res.embedding.compute(), Y, rtol=1e-9, atol=1e-12)


def test_rgg_fit_dask_bad_input():
    df = pd.DataFrame({"src": [0, 1], "dst": [1, 0]})
    edges = dd.from_pandas(df, npartitions=1)
    with pytest.raises(TypeError, match="dimension"):
        rgg_fit_dask(edges, dimension="2")
    with pytest.raises(ValueError, match="radius"):
        rgg_fit_dask(edges, dimension=2, radius=-1.0)


def test_rggmetric_fit_dispatches_dask_edge_lists(sync):
    """RGGMetric.fit(dask edges) is rgg_fit_dask, with the estimator's attributes."""
    from manigeo import RGGMetric

    rng = np.random.default_rng(7)
    A = sample_rgg(rng.uniform(size=(200, 2)), 0.18, boxsize=1.0)
    r, c = A.nonzero()
    edges = dd.from_pandas(pd.DataFrame({"src": r, "dst": c}), npartitions=2)
    est = RGGMetric(dimension=2, radius=0.18, n_landmarks=5, random_state=0)
    est.fit(edges)
    res = rgg_fit_dask(edges, dimension=2, n_landmarks=5, radius=0.18, random_state=0)
    np.testing.assert_array_equal(est.landmarks_, res.landmarks)
    lm = [int(v) for v in res.landmarks]
    np.testing.assert_allclose(
        est.embedding_.compute(), res.embedding.compute(), rtol=1e-12, atol=1e-12
    )
    rows = est.geodesic_distances([lm[1], lm[3]]).compute()
    np.testing.assert_allclose(rows, res.geodesic_distances.compute()[[1, 3]])
    other = next(v for v in range(200) if v not in lm)
    with pytest.raises(ValueError, match="landmarks"):
        est.geodesic_distances([other])
    with pytest.raises(ValueError, match="integer dimension"):
        RGGMetric(dimension="auto").fit(edges)
