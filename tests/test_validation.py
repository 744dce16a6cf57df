import numpy as np
import pytest

from manigeo._validation import check_dense_size, check_int, check_points, check_spd


def test_dense_guard_message():
    with pytest.raises(ValueError, match=r"1000000 x 1000000 .* 7.3 TiB.*n_landmarks"):
        check_dense_size(10**6, 10**6, hint="pass n_landmarks=...")
    assert check_dense_size(10, 10) == 800


def test_check_spd(rng):
    A = rng.normal(size=(3, 4, 4))
    S = A @ np.swapaxes(A, -1, -2) + np.eye(4)
    out = check_spd(S)
    assert out is not S
    with pytest.raises(ValueError, match="not symmetric"):
        check_spd(S + np.triu(np.ones(4), 1))
    with pytest.raises(ValueError, match="not positive definite"):
        check_spd(-S)
    bad = S.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        check_spd(bad)
    with pytest.raises(ValueError, match="square"):
        check_spd(np.ones((2, 3)))


def test_check_points_and_int():
    with pytest.raises(ValueError, match="infinity|NaN"):
        check_points(np.array([[0, np.inf]]))
    with pytest.raises(TypeError, match="integer"):
        check_int(True, "k")


@pytest.mark.parametrize("kind", ["numpy", "sparse"])
def test_complex_input_refused(kind):
    import scipy.sparse as sp

    from manigeo._validation import check_adjacency

    A = np.array([[0, 1 + 1j], [1 - 1j, 0]])
    if kind == "sparse":
        A = sp.csr_array(A)
    with pytest.raises(TypeError, match="complex"):
        check_adjacency(A)
    with pytest.raises(TypeError, match="complex"):
        check_points(np.ones((3, 2)) * 1j)


def test_non_numeric_input_refused():
    from manigeo._validation import check_adjacency

    with pytest.raises(TypeError, match="numeric"):
        check_adjacency(np.array([[0, "a"], ["a", 0]], dtype=object))
    with pytest.raises(TypeError, match="numeric"):
        check_points([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="rectangular"):
        check_points([[1.0, 2.0], [3.0]])


def test_numeric_object_and_pandas_input_accepted():
    pd = pytest.importorskip("pandas")
    from manigeo._validation import check_adjacency

    X = np.array([[1, 2.0], [3, 4]], dtype=object)
    np.testing.assert_array_equal(check_points(X), [[1.0, 2.0], [3.0, 4.0]])
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [True, False]})
    np.testing.assert_array_equal(check_points(df), [[1.0, 1.0], [2.0, 0.0]])
    A = np.array([[0, 1], [1, 0]], dtype=object)
    assert check_adjacency(A).nnz == 2
    with pytest.raises(TypeError, match="complex"):
        check_points(pd.DataFrame({"a": [1 + 1j, 2.0]}))
