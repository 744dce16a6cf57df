"""scikit-learn API compliance of every public manigeo estimator.

Estimators are discovered automatically (``manigeo.utils.all_estimators``), so a
new estimator is checked as soon as it is exported.  Checks that cannot apply
live in ONE place, ``EXPECTED_FAILED_CHECKS``, each with its reason; the run is
``xfail_strict`` so a check that starts passing must be removed from the list.
"""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from manigeo.utils import all_estimators

# constructor arguments that keep sklearn's small test data (about 30 x 3)
# within each estimator's valid range
TEST_PARAMS = {
    # sklearn feeds points, not adjacency matrices: build a kNN graph from them
    # (blobs give a disconnected kNN graph: fit its largest component)
    "RGGMetric": {
        "adjacency": "knn",
        "n_neighbors": 6,
        "min_mean_degree": 4,
        "dimension": 2,
        "on_disconnected": "largest",
        # tiny random blobs are no random geometric graph: fit them anyway
        "on_misfit": "ignore",
    },
    "HeatGeodesicEmbedding": {"n_neighbors": 5, "random_state": 0},
    "HeatGeodesicDistance": {"n_neighbors": 5, "random_state": 0},
    "ConnectionLaplacian": {"n_neighbors": 5, "dimension": 2},
}

# estimator name -> {check name: reason}
EXPECTED_FAILED_CHECKS = {}

# --- SPD / Lie-group transformers (manigeo.spd, manigeo.lie) -----------------
# Their input is a 3-D stack of matrices, (n_matrices, p, p), SPD for the SPD
# scalers and SO(n)/SE(n) for the Lie scaler.  Every check below builds 2-D
# (n_samples, n_features) data (random, not SPD), so fit raises the named
# ValueError "X must have ndim in (3,)" / "(n_samples, d, d)" before the
# property under test is reached.  The properties themselves (no input
# mutation, idempotent fit, pickling, sample-order invariance, n_features_in_,
# NaN rejection, dtype handling) are tested on 3-D data in tests/spd and
# tests/lie.
_2D = (
    "sklearn feeds 2-D (n_samples, n_features) data; "
    "the estimator needs a 3-D stack of matrices (n, p, p)"
)
_MATRIX_CHECKS = {
    "check_dict_unchanged": _2D,
    "check_dont_overwrite_parameters": _2D,
    "check_dtype_object": _2D + " (object dtype 2-D array)",
    "check_estimators_dtypes": _2D + " (float32/int 2-D arrays)",
    "check_estimators_fit_returns_self": _2D,
    "check_estimators_nan_inf": _2D
    + "; NaN/inf 3-D input raises 'contains NaN' (tested in tests/spd)",
    "check_estimators_overwrite_params": _2D,
    "check_estimators_pickle": _2D,
    "check_estimators_pickle(readonly_memmap=True)": _2D,
    "check_f_contiguous_array_estimator": _2D,
    "check_fit2d_1feature": "2-D input with one feature is not a stack of matrices",
    "check_fit2d_1sample": "2-D input with one sample is not a stack of matrices",
    "check_fit2d_predict1d": _2D,
    "check_fit_check_is_fitted": _2D,
    "check_fit_idempotent": _2D,
    "check_fit_score_takes_y": _2D,
    "check_methods_sample_order_invariance": _2D,
    "check_methods_subset_invariance": _2D,
    "check_n_features_in": _2D,
    "check_n_features_in_after_fitting": _2D,
    "check_pipeline_consistency": _2D,
    "check_positive_only_tag_during_fit": _2D
    + " (positivity is not the constraint: SPD is)",
    "check_readonly_memmap_input": _2D,
    "check_transformer_data_not_an_array": _2D,
    "check_transformer_general": _2D,
    "check_transformer_general(readonly_memmap=True)": _2D,
    "check_transformer_n_iter": _2D,
    "check_transformer_preserve_dtypes": _2D + " (float32 2-D arrays)",
}
for _name in ("SPDStandardScaler", "SPDRecenter", "LieGroupStandardScaler"):
    EXPECTED_FAILED_CHECKS[_name] = dict(_MATRIX_CHECKS)


def _instances():
    return [cls(**TEST_PARAMS.get(name, {})) for name, cls in all_estimators()]


def _expected_failed(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(
    _instances(), expected_failed_checks=_expected_failed, xfail_strict=True
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# --- scikit-learn conveniences (issue 13): feature names and pandas output ----


def _matrix_input(name):
    """A valid 3-D stack for the matrix-input estimators, else None."""
    rng = np.random.default_rng(0)
    if name.startswith("SPD"):
        A = rng.normal(size=(8, 3, 3))
        return A @ np.swapaxes(A, -1, -2) + 3 * np.eye(3)
    if name.startswith("Lie"):
        from scipy.spatial.transform import Rotation

        return Rotation.random(8, random_state=0).as_matrix()
    return None


@pytest.mark.parametrize(("name", "cls"), all_estimators())
def test_feature_names_and_pandas_output(name, cls):
    pd = pytest.importorskip("pandas")
    params = dict(TEST_PARAMS.get(name, {}))
    matrices = _matrix_input(name)
    if matrices is not None:
        if name.startswith("Lie"):
            pytest.importorskip("geomstats")
        est = cls(**params).fit(matrices)
        assert est.n_features_in_ == 3  # matrix size p of (n, p, p) input
        assert not hasattr(est, "feature_names_in_")
        return
    X = np.random.default_rng(0).normal(size=(40, 3))
    df = pd.DataFrame(X, columns=["x", "y", "z"], index=np.arange(100, 140))
    est = cls(**params)
    has_output = hasattr(est, "get_feature_names_out")
    if has_output:
        est.set_output(transform="pandas")
    Y = est.fit_transform(df) if hasattr(est, "fit_transform") else est.fit(df)
    assert est.n_features_in_ == 3
    np.testing.assert_array_equal(est.feature_names_in_, ["x", "y", "z"])
    if not hasattr(est, "transform") and not hasattr(est, "fit_transform"):
        return
    # every 2-D transformer: names "<classname><i>" and a DataFrame out
    assert has_output, f"{name} has no get_feature_names_out"
    names = est.get_feature_names_out()
    assert list(names) == [f"{name.lower()}{i}" for i in range(len(names))]
    assert isinstance(Y, pd.DataFrame)
    assert list(Y.columns) == list(names)
    np.testing.assert_array_equal(Y.index, df.index)
    if hasattr(est, "transform"):
        Z = est.transform(df.iloc[:5])
        assert isinstance(Z, pd.DataFrame) and list(Z.columns) == list(names)
