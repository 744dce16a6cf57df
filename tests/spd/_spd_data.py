"""Shared SPD test data (seeded)."""

import numpy as np


def random_spd(rng, n, p, cond=10.0):
    """n random SPD p x p matrices with eigenvalues in [1, cond]."""
    Q, _ = np.linalg.qr(rng.normal(size=(n, p, p)))
    w = np.exp(rng.uniform(0, np.log(cond), size=(n, p)))
    return (Q * w[:, None, :]) @ np.swapaxes(Q, -1, -2)


def connectomes():
    """The 86 SPD 28 x 28 connectomes shipped in the geomstats wheel."""
    from manigeo.lie._groups import import_geomstats_groups

    import_geomstats_groups()  # numpy>=2.4 shim before importing geomstats
    from geomstats.datasets.utils import load_connectomes

    X, _, labels = load_connectomes()
    return np.asarray(X, dtype=np.float64), np.asarray(labels)


def pyriemann_geometry():
    """pyriemann >= 0.12 moved utils.* to geometry.*; fall back for older."""
    try:
        from pyriemann.geometry import distance, mean, tangentspace
    except ImportError:  # pragma: no cover - pyriemann < 0.12
        from pyriemann.utils import distance, mean, tangentspace
    return mean, distance, tangentspace


def lapack_accepts(X):
    """Per matrix of the stack ``X``, whether ``np.linalg.cholesky`` factors it."""
    ok = []
    for A in X:
        try:
            np.linalg.cholesky(A)
            ok.append(True)
        except np.linalg.LinAlgError:
            ok.append(False)
    return ok


def with_spectra(rng, n, lams):
    """n matrices Q_i diag(lams) Q_iᵀ (Q_i random orthogonal), symmetrised
    exactly."""
    p = len(lams)
    Q, _ = np.linalg.qr(rng.normal(size=(n, p, p)))
    X = (Q * np.asarray(lams)) @ np.swapaxes(Q, -1, -2)
    return 0.5 * (X + np.swapaxes(X, -1, -2))
