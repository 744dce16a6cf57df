"""scikit-learn API compliance of every public manigeo estimator.

Estimators are discovered automatically (``manigeo.utils.all_estimators``), so a
new estimator is checked as soon as it is exported.  Checks that cannot apply
live in ONE place, ``EXPECTED_FAILED_CHECKS``, each with its reason; the run is
``xfail_strict`` so a check that starts passing must be removed from the list.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from manigeo.utils import all_estimators

# constructor arguments that keep sklearn's small test data (about 30 x 3)
# within each estimator's valid range
TEST_PARAMS = {
    "ConnectionLaplacian": {"n_neighbors": 5, "dimension": 2},
}

# estimator name -> {check name: reason}
EXPECTED_FAILED_CHECKS = {}


def _instances():
    return [cls(**TEST_PARAMS.get(name, {})) for name, cls in all_estimators()]


def _expected_failed(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(
    _instances(), expected_failed_checks=_expected_failed, xfail_strict=True
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
