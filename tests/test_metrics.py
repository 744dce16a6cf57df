import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import cdist, pdist

from manigeo.metrics import distortion, error_summary, fit_scale, geodesic_correlation


def test_correlations_match_scipy_on_condensed_pairs(rng):
    X = rng.normal(size=(40, 3))
    D = cdist(X, X)
    E = D * (1 + 0.1 * rng.normal(size=D.shape))
    E = (E + E.T) / 2
    np.fill_diagonal(E, 0)
    iu = np.triu_indices(40, 1)
    assert geodesic_correlation(D, E) == pytest.approx(
        stats.spearmanr(D[iu], E[iu]).statistic
    )
    assert geodesic_correlation(D, E, "pearson") == pytest.approx(
        stats.pearsonr(pdist(X), E[iu]).statistic
    )


def test_scale_and_errors():
    D = np.array([1.0, 2.0, 4.0])
    assert fit_scale(D, D / 3) == pytest.approx(3.0)
    s = error_summary(D, D * 1.1)
    assert s["mean_signed_rel"] == pytest.approx(0.1)
    assert s["max_abs"] == pytest.approx(0.4)
    assert distortion(D, D * [1, 2, 1]) == pytest.approx(2.0)
    assert distortion(D, 5 * D) == pytest.approx(1.0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="same shape"):
        error_summary(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        geodesic_correlation(np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(ValueError, match="method"):
        geodesic_correlation(np.ones(3), np.ones(3), method="kendall")
