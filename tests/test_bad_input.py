"""A standing bad-input suite (issue 13).

One table, :data:`TABLE`, of ``(public callable, bad input class, expected
exception, message fragment)``.  Each row builds a fresh input, calls the
callable, checks the exception type and message, and checks that the input
was not modified.  ``expected=None`` rows document input that is *accepted*
by design (self-loops are dropped, a disconnected graph gives ``inf`` when
asked to, ...).  Rows for behaviour being fixed on another branch are
``xfail(strict=True)`` with the branch named, so they flip at merge.

Hypothesis tests at the end feed generated adjacency matrices and point clouds
to the shared checks.

``docs/user_guide/bad_input.rst`` lists this table; ``test_user_guide_lists_table``
keeps the two consistent.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import manigeo
from manigeo import (
    datasets,
    embedding,
    geodesics,
    graphs,
    heat,
    metrics,
    rgg,
    sheaf,
    spd,
)

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_GEOMSTATS = importlib.util.find_spec("geomstats") is not None


# ---------------------------------------------------------------- inputs
def path_graph(n=5, w=1.0):
    """Weighted path 0 - 1 - ... - n-1 (dense, symmetric, connected)."""
    return np.diag(np.full(n - 1, w), 1) + np.diag(np.full(n - 1, w), -1)


def _with(A, i, j, value, symmetric=True):
    A = np.array(A, dtype=np.result_type(A, type(value)))
    A[i, j] = value
    if symmetric:
        A[j, i] = value
    return A


def graph_nan():
    return _with(path_graph(), 0, 1, np.nan)


def graph_inf():
    return _with(path_graph(), 0, 1, np.inf)


def graph_negative():
    return _with(path_graph(), 0, 1, -1.0)


def graph_asymmetric():
    return _with(path_graph(), 0, 1, 2.0, symmetric=False)


def graph_self_loops():
    return path_graph() + np.eye(5)


def graph_disconnected():
    A = path_graph(6)
    A[2, 3] = A[3, 2] = 0.0
    return A


def graph_complex():
    return path_graph().astype(complex) * (1 + 1j)


def graph_object():
    A = path_graph().astype(object)
    A[0, 1] = A[1, 0] = "x"
    return A


def graph_mixed():
    return [[0, 1, 0], [1, 0, "1"], [0, "1", 0]]


def star_graph(n=100_000):
    rows = np.r_[np.zeros(n - 1, dtype=int), np.arange(1, n)]
    cols = np.r_[np.arange(1, n), np.zeros(n - 1, dtype=int)]
    return sp.csr_array((np.ones(2 * (n - 1)), (rows, cols)), shape=(n, n))


def sparse_path(n=200_000):
    return (
        sp.csr_array(path_graph(3))
        if n < 3
        else sp.diags_array(
            [np.ones(n - 1), np.ones(n - 1)], offsets=[1, -1], format="csr"
        )
    )


def points(n=30, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def points_nan():
    X = points()
    X[3, 1] = np.nan
    return X


def points_inf():
    X = points()
    X[3, 1] = np.inf
    return X


def points_complex():
    return points() * (1 + 1j)


def points_object():
    X = points().astype(object)
    X[0, 0] = "x"
    return X


def points_mixed():
    return [[0.0, 1.0, "a"], [1.0, 2.0, "b"]] * 10


def spd_batch(n=4, p=3, seed=0):
    A = np.random.default_rng(seed).normal(size=(n, p, p))
    return A @ np.swapaxes(A, -1, -2) + p * np.eye(p)


def spd_nan():
    X = spd_batch()
    X[0, 0, 0] = np.nan
    return X


def spd_inf():
    X = spd_batch()
    X[0, 0, 0] = np.inf
    return X


def spd_nonsym():
    X = spd_batch()
    X[0, 0, 1] += 1.0
    return X


def spd_nonspd():
    X = spd_batch()
    X[0] = -X[0]
    return X


def spd_singular():
    X = spd_batch()
    X[0] = np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    return X


def spd_complex():
    return spd_batch().astype(complex)


def spd_object():
    X = spd_batch().astype(object)
    X[0, 0, 0] = "x"
    return X


def rotations(n=4, seed=0):
    from scipy.spatial.transform import Rotation

    return Rotation.random(n, random_state=seed).as_matrix()


def distances(n=6, seed=0):
    X = points(n, 2, seed)
    return np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))


def distances_nan():
    D = distances()
    D[0, 1] = D[1, 0] = np.nan
    return D


def distances_asym():
    D = distances()
    D[0, 1] += 1.0
    return D


def distances_object():
    D = distances().astype(object)
    D[0, 1] = "x"
    return D


def distances_negative():
    D = distances()
    D[0, 1] = D[1, 0] = -1.0
    return D


def edge_index_ring(n=6):
    src = np.arange(n)
    dst = (src + 1) % n
    return np.vstack([np.r_[src, dst], np.r_[dst, src]])


def transports_identity(E, d=2):
    return np.tile(np.eye(d), (E, 1, 1))


# ------------------------------------------------------------------ table
@dataclass
class Row:
    """One row: ``func(*make())`` with the bad input class ``case``."""

    name: str  # public callable, as a user writes it
    case: str  # bad input class
    func: Callable[..., Any]
    make: Callable[[], tuple]  # fresh positional arguments
    expected: type[BaseException] | None  # None: accepted by design
    match: str = ""  # regex searched in the message
    xfail: str | None = None  # "fixed on branch <name>" (strict)
    kwargs: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        opts = ",".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.name}-{self.case}" + (f"[{opts}]" if opts else "")


def fit(cls, **params):
    """``cls(**params).fit`` as a callable of the input (an estimator row)."""

    def call(*args, **kwargs):
        return cls(**params).fit(*args, **kwargs)

    call.__name__ = f"{cls.__name__}.fit"
    return call


def _graph_rows(name, func, *, skip=(), override=None, xfail=None, **kw):
    """The adjacency classes that apply to every function taking a graph.

    ``override``: case -> (exception, match) where a function answers another
    way (scikit-learn's own checks); ``xfail``: case -> reason.
    """
    cases = {
        "NaN": (lambda: (graph_nan(),), ValueError, "NaN"),
        "inf": (lambda: (graph_inf(),), ValueError, "inf"),
        "empty": (lambda: (np.zeros((0, 0)),), ValueError, "at least|0 sample"),
        "wrong ndim": (lambda: (np.ones(5),), ValueError, "2-D|2D"),
        "non-square": (lambda: (np.ones((3, 4)),), ValueError, "square"),
        "asymmetric": (lambda: (graph_asymmetric(),), ValueError, "not symmetric"),
        "negative weights": (lambda: (graph_negative(),), ValueError, "negative"),
        "complex": (lambda: (graph_complex(),), TypeError, "complex"),
        "object dtype": (lambda: (graph_object(),), TypeError, "numeric"),
        "mixed dtypes": (lambda: (graph_mixed(),), TypeError, "numeric"),
    }
    return _rows(name, func, cases, skip, override, xfail, kw)


def _rows(name, func, cases, skip, override, xfail, kw):
    rows = []
    for case, (make, exc, match) in cases.items():
        if case in skip:
            continue
        if override and case in override:
            exc, match = override[case]
        reason = (xfail or {}).get(case)
        rows.append(Row(name, case, func, make, exc, match, reason, kwargs=dict(kw)))
    return rows


#: scikit-learn's ``validate_data`` answers complex / non-numeric input with a
#: ValueError naming it; manigeo's shared check with a TypeError.
SKLEARN_CHECKS = {
    "complex": (ValueError, "complex"),
    "object dtype": (ValueError, "convert string"),
    "mixed dtypes": (ValueError, "convert string"),
}


def _points_rows(
    name, func, *, min_samples=2, skip=(), override=None, xfail=None, **kw
):
    cases = {
        "NaN": (lambda: (points_nan(),), ValueError, "NaN"),
        "inf": (lambda: (points_inf(),), ValueError, "inf"),
        "empty": (lambda: (np.zeros((0, 3)),), ValueError, "0 sample"),
        "wrong ndim": (lambda: (np.ones(5),), ValueError, "2D array"),
        "complex": (lambda: (points_complex(),), TypeError, "complex"),
        "object dtype": (lambda: (points_object(),), TypeError, "numeric"),
        "mixed dtypes": (lambda: (points_mixed(),), TypeError, "numeric"),
    }
    if min_samples >= 2:
        cases["1 sample"] = (lambda: (points(1),), ValueError, "sample")
    return _rows(name, func, cases, skip, override, xfail, kw)


SPD_BRANCH = None  # fixed on branch backend (SPD validation, issue 13)
RGG_TODO = "rgg: RGGMetric passes it to scipy.sparse before the shared check"
HEAT_TODO = None  # fixed on branch heatfix (heat / embedding validation)
SHEAF_TODO = "sheafnets: sheaf helpers do not validate it yet"
_MATFUN = {
    "complex": SPD_BRANCH,
    "empty": SPD_BRANCH,
    "non-symmetric": SPD_BRANCH,
}
_ELEMENTWISE = ("spd.logm", "spd.sqrtm", "spd.invsqrtm")
SPD_XFAIL = {
    "spd.logm": _MATFUN,
    "spd.sqrtm": _MATFUN,
    "spd.invsqrtm": _MATFUN,
    "spd.powm": _MATFUN,
    "spd.mean": {"complex": SPD_BRANCH},
    "spd.dispersion": {"complex": SPD_BRANCH},
    "spd.distance": {"complex": SPD_BRANCH},
    "spd.log": {"complex": SPD_BRANCH},
    "SPDStandardScaler.fit": {"complex": SPD_BRANCH},
    "SPDRecenter.fit": {"complex": SPD_BRANCH},
}


def _spd_rows(name, func, *, n_args=1, skip=(), override=None, xfail=None, **kw):
    """SPD classes; ``n_args`` copies of the batch are passed (distance(A, B))."""

    def mk(builder):
        return lambda: tuple(builder() for _ in range(n_args))

    cases = {
        "NaN": (mk(spd_nan), ValueError, "NaN"),
        "inf": (mk(spd_inf), ValueError, "inf"),
        "empty": (
            lambda: (np.zeros((0, 3, 3)),) * n_args,
            ValueError,
            "empty|0 sample",
        ),
        "wrong ndim": (lambda: (np.ones(3),) * n_args, ValueError, "ndim|shape"),
        "non-square": (lambda: (np.ones((2, 3, 4)),) * n_args, ValueError, "square"),
        "non-symmetric": (mk(spd_nonsym), ValueError, "symmetric"),
        "non-SPD": (mk(spd_nonspd), ValueError, "positive definite"),
        "singular": (mk(spd_singular), ValueError, "positive definite"),
        "complex": (mk(spd_complex), TypeError, "complex"),
        "object dtype": (mk(spd_object), TypeError, "convert string|numeric"),
    }
    return _rows(name, func, cases, skip, override, xfail, kw)


def _unknown(name, func, make, **bad):
    key = next(iter(bad))
    return Row(name, "unknown option", func, make, ValueError, key, kwargs=bad)


def _build_table() -> list[Row]:
    T: list[Row] = []
    g = graphs
    # ---- graphs ------------------------------------------------------------
    for name, func in [
        ("graphs.to_adjacency", g.to_adjacency),
        ("graphs.laplacian", g.laplacian),
        ("graphs.connected_components", g.connected_components),
        ("graphs.common_neighbors", g.common_neighbors),
        ("graphs.neighbor_similarity", g.neighbor_similarity),
        ("geodesics.shortest_paths", geodesics.shortest_paths),
        ("embedding.rgg_laplacian", embedding.rgg_laplacian),
    ]:
        T += _graph_rows(
            name,
            func,
            override={"asymmetric": (None, "")}
            if name == "graphs.connected_components"  # weak components
            else None,
        )
    T += _graph_rows(
        "geodesics.select_landmarks",
        lambda W: geodesics.select_landmarks(W, 2, random_state=0),
    )
    T += _graph_rows(
        "geodesics.landmark_shortest_paths",
        lambda W: geodesics.landmark_shortest_paths(W, 2, random_state=0),
    )
    T += _graph_rows(
        "RGGMetric.fit",
        fit(manigeo.RGGMetric, radius=0.3, calibrate=False),
        skip=("asymmetric",),
        override=SKLEARN_CHECKS,
        xfail={
            "mixed dtypes": RGG_TODO,
        },
    )
    T += [
        # self-loops: dropped by default, refused on request
        Row(
            "graphs.common_neighbors",
            "self-loops",
            g.common_neighbors,
            lambda: (graph_self_loops(),),
            None,
        ),
        Row(
            "graphs.common_neighbors",
            "self-loops",
            g.common_neighbors,
            lambda: (graph_self_loops(),),
            ValueError,
            "self-loops",
            kwargs={"self_loops": "raise"},
        ),
        Row(
            "graphs.to_adjacency",
            "self-loops",
            g.to_adjacency,
            lambda: (graph_self_loops(),),
            ValueError,
            "self-loops",
            kwargs={"self_loops": "raise"},
        ),
        Row(
            "geodesics.shortest_paths",
            "self-loops",
            geodesics.shortest_paths,
            lambda: (graph_self_loops(),),
            None,
        ),
        # asymmetric graphs are accepted when asked for
        Row(
            "graphs.common_neighbors",
            "asymmetric",
            g.common_neighbors,
            lambda: (graph_asymmetric(),),
            None,
            kwargs={"symmetric": "max"},
        ),
        Row(
            "geodesics.shortest_paths",
            "asymmetric",
            geodesics.shortest_paths,
            lambda: (graph_asymmetric(),),
            None,
            kwargs={"directed": True},
        ),
        # disconnected
        Row(
            "geodesics.shortest_paths",
            "disconnected",
            geodesics.shortest_paths,
            lambda: (graph_disconnected(),),
            ValueError,
            "disconnected",
        ),
        Row(
            "geodesics.shortest_paths",
            "disconnected",
            geodesics.shortest_paths,
            lambda: (graph_disconnected(),),
            None,
            kwargs={"on_disconnected": "inf"},
        ),
        Row(
            "geodesics.select_landmarks",
            "disconnected",
            lambda W: geodesics.select_landmarks(W, 2),
            lambda: (graph_disconnected(),),
            ValueError,
            "disconnected",
        ),
        Row(
            "RGGMetric.fit",
            "disconnected",
            fit(manigeo.RGGMetric, radius=0.3, calibrate=False),
            lambda: (graph_disconnected(),),
            ValueError,
            "disconnected|degree",
        ),
        Row(
            "graphs.connected_components",
            "disconnected",
            g.connected_components,
            lambda: (graph_disconnected(),),
            None,
        ),
        # too large for dense
        Row(
            "geodesics.shortest_paths",
            "too large for dense",
            geodesics.shortest_paths,
            lambda: (sparse_path(),),
            ValueError,
            "landmark_shortest_paths",
        ),
        Row(
            "graphs.common_neighbors",
            "too large for dense",
            lambda A: g.common_neighbors(A, mask=None),
            lambda: (star_graph(),),
            ValueError,
            "mask='edges'",
        ),
        Row(
            "graphs.neighbor_similarity",
            "too large for dense",
            lambda A: g.neighbor_similarity(A, mask=None),
            lambda: (star_graph(),),
            ValueError,
            "mask='edges'",
        ),
        # 1 node
        Row(
            "geodesics.shortest_paths",
            "1 sample",
            geodesics.shortest_paths,
            lambda: (np.zeros((1, 1)),),
            None,
        ),
        Row(
            "RGGMetric.fit",
            "1 sample",
            fit(manigeo.RGGMetric, radius=0.3, calibrate=False),
            lambda: (np.zeros((1, 1)),),
            ValueError,
            "sample|nodes|degree",
        ),
        # unknown options
        _unknown(
            "graphs.laplacian", g.laplacian, lambda: (path_graph(),), kind="bogus"
        ),
        _unknown(
            "graphs.common_neighbors",
            g.common_neighbors,
            lambda: (path_graph(),),
            backend="bogus",
        ),
        _unknown(
            "graphs.common_neighbors",
            g.common_neighbors,
            lambda: (path_graph(),),
            mask="bogus",
        ),
        _unknown(
            "graphs.neighbor_similarity",
            g.neighbor_similarity,
            lambda: (path_graph(),),
            kind="bogus",
        ),
        _unknown(
            "graphs.to_adjacency",
            g.to_adjacency,
            lambda: (path_graph(),),
            symmetric="bogus",
        ),
        _unknown(
            "geodesics.shortest_paths",
            geodesics.shortest_paths,
            lambda: (path_graph(),),
            on_disconnected="bogus",
        ),
        _unknown(
            "geodesics.select_landmarks",
            lambda W, **k: geodesics.select_landmarks(W, 2, **k),
            lambda: (path_graph(),),
            method="bogus",
        ),
        Row(
            "RGGMetric.fit",
            "unknown option",
            fit(manigeo.RGGMetric, local_rule="bogus"),
            lambda: (path_graph(),),
            ValueError,
            "local_rule",
        ),
    ]
    # ---- point clouds --------------------------------------------------------
    T += _points_rows("graphs.knn_graph", lambda X: g.knn_graph(X, 3))
    T += _points_rows(
        "graphs.radius_graph", lambda X: g.radius_graph(X, 0.5), min_samples=1
    )
    T += _points_rows("graphs.alpha_decay_kernel", lambda X: g.alpha_decay_kernel(X, 3))
    T += _points_rows(
        "datasets.sample_rgg", lambda X: datasets.sample_rgg(X, 0.5), min_samples=1
    )
    T += _points_rows(
        "HeatGeodesicEmbedding.fit",
        fit(manigeo.HeatGeodesicEmbedding, n_neighbors=3, max_iter=5),
        override=SKLEARN_CHECKS,
    )
    T += _points_rows(
        "HeatGeodesicDistance.fit",
        fit(manigeo.HeatGeodesicDistance, n_neighbors=3),
        override=SKLEARN_CHECKS,
    )
    T += _points_rows(
        "ConnectionLaplacian.fit",
        fit(manigeo.ConnectionLaplacian, n_neighbors=5, dimension=2),
        override=SKLEARN_CHECKS,
    )
    T += [
        _unknown(
            "graphs.knn_graph",
            lambda X, **k: g.knn_graph(X, 3, **k),
            lambda: (points(),),
            mode="bogus",
        ),
        Row(
            "graphs.knn_graph",
            "too many neighbours",
            lambda X: g.knn_graph(X, 30),
            lambda: (points(10),),
            ValueError,
            "n_neighbors",
        ),
        Row(
            "HeatGeodesicEmbedding.fit",
            "unknown option",
            fit(manigeo.HeatGeodesicEmbedding, mds="bogus"),
            lambda: (points(),),
            ValueError,
            "mds",
        ),
        Row(
            "HeatGeodesicEmbedding.fit",
            "identical points",
            fit(manigeo.HeatGeodesicEmbedding, n_neighbors=3, max_iter=5),
            lambda: (np.ones((20, 3)),),
            ValueError,
            "identical|duplicate|distinct",
            xfail=None,
        ),
        Row(
            "HeatGeodesicEmbedding.fit",
            "t=0",
            fit(manigeo.HeatGeodesicEmbedding, t=0),
            lambda: (points(),),
            ValueError,
            "t",
            xfail=None,
        ),
        Row(
            "ConnectionLaplacian.fit",
            "unknown option",
            fit(manigeo.ConnectionLaplacian, normalization="bogus"),
            lambda: (points(),),
            ValueError,
            "normalization",
        ),
        Row(
            "ConnectionLaplacian.fit",
            "too many neighbours",
            fit(manigeo.ConnectionLaplacian, n_neighbors=50),
            lambda: (points(10),),
            ValueError,
            "n_neighbors",
        ),
    ]
    # ---- distance matrices ------------------------------------------------------
    for name, func in [
        ("embedding.classical_mds", embedding.classical_mds),
        ("embedding.smacof", lambda D: embedding.smacof(D, max_iter=5)),
        ("graphs.gaussian_kernel", g.gaussian_kernel),
    ]:
        todo = HEAT_TODO if name.startswith("embedding") else None
        T += [
            Row(name, "NaN", func, lambda: (distances_nan(),), ValueError, "NaN"),
            Row(
                name,
                "asymmetric",
                func,
                lambda: (distances_asym(),),
                ValueError,
                "symmetric",
                xfail=todo if "classical" in name else None,
            ),
            Row(
                name,
                "non-square",
                func,
                lambda: (np.ones((3, 4)),),
                ValueError,
                "square",
            ),
            Row(
                name,
                "wrong ndim",
                func,
                lambda: (np.ones(4),),
                ValueError,
                "2-D|2D|square|ndim",
            ),
            Row(
                name,
                "complex",
                func,
                lambda: (distances() * 1j,),
                TypeError,
                "complex",
                xfail=todo,
            ),
            Row(
                name,
                "empty",
                func,
                lambda: (np.zeros((0, 0)),),
                ValueError,
                "empty|at least|0 sample",
                xfail=todo if "classical" in name else None,
            ),
        ]
    T += [
        Row(
            "embedding.smacof",
            "too large for dense",
            lambda D: embedding.smacof(D, max_dense_bytes=100),
            lambda: (distances(),),
            ValueError,
            "max_dense_bytes",
        ),
        Row(
            "embedding.smacof",
            "negative weights",
            lambda D: embedding.smacof(D, max_iter=5),
            lambda: (distances_negative(),),
            ValueError,
            "negative",
        ),
        Row(
            "embedding.classical_mds",
            "negative weights",
            embedding.classical_mds,
            lambda: (distances_negative(),),
            ValueError,
            "negative",
        ),
    ]
    # ---- scores (mine: metrics.py) ------------------------------------------
    for name, func in [
        ("metrics.geodesic_correlation", metrics.geodesic_correlation),
        ("metrics.error_summary", metrics.error_summary),
        ("metrics.distortion", metrics.distortion),
        ("metrics.fit_scale", metrics.fit_scale),
    ]:
        T += [
            Row(
                name,
                "NaN",
                func,
                lambda: (distances(), distances_nan()),
                ValueError,
                "NaN",
            ),
            Row(
                name,
                "inf",
                func,
                lambda: (distances(), _with(distances(), 0, 1, np.inf)),
                ValueError,
                "NaN or infinite",
            ),
            Row(
                name,
                "empty",
                func,
                lambda: (np.zeros(0), np.zeros(0)),
                ValueError,
                "no pairs",
            ),
            Row(
                name,
                "non-square",
                func,
                lambda: (np.ones((3, 4)), np.ones((3, 5))),
                ValueError,
                "shape",
            ),
            Row(
                name,
                "complex",
                func,
                lambda: (distances(), distances() * 1j),
                TypeError,
                "complex",
            ),
            Row(
                name,
                "object dtype",
                func,
                lambda: (distances(), distances_object()),
                TypeError,
                "numeric",
            ),
            Row(
                name,
                "wrong ndim",
                func,
                lambda: (np.ones((2, 2, 2)), np.ones((2, 2, 2))),
                ValueError,
                "1-D or 2-D",
            ),
        ]
    T += [
        _unknown(
            "metrics.geodesic_correlation",
            metrics.geodesic_correlation,
            lambda: (distances(), distances()),
            method="bogus",
        ),
        Row(
            "metrics.fit_scale",
            "singular",
            metrics.fit_scale,
            lambda: (distances(), np.zeros((6, 6))),
            ValueError,
            "zero",
        ),
    ]
    # ---- datasets (mine) -------------------------------------------------------
    for name, func in [
        ("datasets.make_sphere", datasets.make_sphere),
        ("datasets.make_torus", datasets.make_torus),
        ("datasets.make_swiss_roll", datasets.make_swiss_roll),
        ("datasets.make_tree", datasets.make_tree),
    ]:
        T += [
            Row(name, "empty", func, lambda: (0,), ValueError, "n_samples"),
            Row(name, "wrong type", func, lambda: (2.5,), TypeError, "n_samples"),
            Row(
                name,
                "NaN",
                func,
                lambda: (10,),
                ValueError,
                "noise",
                kwargs={"noise": np.nan},
            ),
            Row(
                name,
                "negative weights",
                func,
                lambda: (10,),
                ValueError,
                "noise",
                kwargs={"noise": -1.0},
            ),
        ]
    T += [
        _unknown(
            "datasets.make_torus", datasets.make_torus, lambda: (10,), kind="bogus"
        ),
        Row(
            "datasets.make_sphere",
            "unknown option",
            datasets.make_sphere,
            lambda: (10,),
            ValueError,
            "radius",
            kwargs={"radius": -1.0},
        ),
        Row(
            "datasets.sample_rgg",
            "NaN",
            datasets.sample_rgg,
            lambda: (points(), np.nan),
            ValueError,
            "radius",
        ),
        Row(
            "datasets.sample_rgg",
            "unknown option",
            datasets.sample_rgg,
            lambda: (points(), 0.5),
            ValueError,
            "keep",
            kwargs={"keep": 2.0},
        ),
    ]
    # ---- rgg lens model ----------------------------------------------------------
    T += [
        Row(
            "rgg.ball_volume",
            "unknown option",
            rgg.ball_volume,
            lambda: (0,),
            ValueError,
            "d",
            xfail="rgg: lens helpers accept d=0",
        ),
        Row(
            "rgg.invert_lens",
            "NaN",
            rgg.invert_lens,
            lambda: (np.nan, 2),
            ValueError,
            "NaN|finite",
            xfail="rgg: lens helpers accept NaN",
        ),
        Row(
            "rgg.lens_fraction",
            "unknown option",
            rgg.lens_fraction,
            lambda: (0.5, 0),
            ValueError,
            "d",
            xfail="rgg: lens helpers accept d=0",
        ),
    ]
    # ---- heat ------------------------------------------------------------------
    L = lambda: (g.laplacian(path_graph()),)  # noqa: E731
    T += [
        Row(
            "heat.heat_kernel",
            "NaN",
            lambda L: heat.heat_kernel(L, np.nan),
            L,
            ValueError,
            "t",
        ),
        Row(
            "heat.heat_kernel",
            "negative weights",
            lambda L: heat.heat_kernel(L, -1.0),
            L,
            ValueError,
            "t",
        ),
        Row(
            "heat.heat_kernel",
            "too large for dense",
            lambda L: heat.heat_kernel(L, 1.0, max_dense_bytes=10),
            L,
            ValueError,
            "max_dense_bytes",
        ),
        Row(
            "heat.heat_kernel_exact",
            "too large for dense",
            lambda L: heat.heat_kernel_exact(L, 1.0, max_dense_bytes=10),
            L,
            ValueError,
            "max_dense_bytes",
        ),
        Row(
            "heat.heat_kernel",
            "non-square",
            lambda L: heat.heat_kernel(L, 1.0),
            lambda: (np.ones((3, 4)),),
            ValueError,
            "square",
        ),
        Row(
            "heat.heat_kernel",
            "complex",
            lambda L: heat.heat_kernel(L, 1.0),
            lambda: (graph_complex(),),
            TypeError,
            "complex",
        ),
        Row(
            "heat.chebyshev_coefficients",
            "negative weights",
            heat.chebyshev_coefficients,
            lambda: (-1.0, 10, 2.0),
            ValueError,
            "t",
            xfail=HEAT_TODO,
        ),
        _unknown(
            "heat.spectrum_bound",
            heat.spectrum_bound,
            lambda: (g.laplacian(path_graph()),),
            method="bogus",
        ),
        Row(
            "heat.spectrum_bound",
            "NaN",
            heat.spectrum_bound,
            lambda: (_with(g.laplacian(path_graph()).toarray(), 0, 1, np.nan),),
            ValueError,
            "NaN",
            xfail=HEAT_TODO,
        ),
        Row(
            "heat.spectrum_bound",
            "non-square",
            heat.spectrum_bound,
            lambda: (np.ones((3, 4)),),
            ValueError,
            "square",
            xfail=HEAT_TODO,
        ),
        Row(
            "heat.spectrum_bound",
            "complex",
            heat.spectrum_bound,
            lambda: (graph_complex(),),
            TypeError,
            "complex",
            xfail=HEAT_TODO,
        ),
    ]

    # ---- heat: series, Varadhan distances, affinity --------------------------------
    def kernel_block(n=5):
        H = np.exp(-(np.subtract.outer(np.arange(n), np.arange(n)) ** 2) / 4.0)
        return H, np.diag(H).copy(), np.diag(H).copy()

    def with_nan(args):
        K, dr, dc = args
        K[0, 1] = np.nan
        return K, dr, dc

    one_source = lambda: (g.laplacian(path_graph()), np.eye(5)[:, :1])  # noqa: E731
    T += [
        Row(
            "heat.heat_columns",
            "NaN",
            lambda L, B: list(heat.heat_columns(L, B, [0.5])),
            lambda: (g.laplacian(path_graph()), _with(np.eye(5)[:, :1], 0, 0, np.nan)),
            ValueError,
            "block.*NaN",
        ),
        Row(
            "heat.heat_columns",
            "wrong shape",
            lambda L, B: list(heat.heat_columns(L, B, [0.5])),
            lambda: (g.laplacian(path_graph()), np.eye(4)[:, :1]),
            ValueError,
            "block must have shape",
        ),
        Row(
            "heat.heat_columns",
            "non-square",
            lambda L, B: list(heat.heat_columns(L, B, [0.5])),
            lambda: (np.ones((3, 4)), np.eye(3)[:, :1]),
            ValueError,
            "square",
        ),
        Row(
            "heat.heat_columns",
            "not a Laplacian",
            lambda L, B: list(heat.heat_columns(L, B, [0.5])),
            lambda: (path_graph(), np.eye(5)[:, :1]),
            ValueError,
            "Laplacian",
        ),
        Row(
            "heat.heat_columns",
            "negative t",
            lambda L, B: list(heat.heat_columns(L, B, [-0.5])),
            one_source,
            ValueError,
            "times",
        ),
        Row(
            "heat.heat_columns",
            "decreasing times",
            lambda L, B: list(heat.heat_columns(L, B, [2.0, 0.5])),
            one_source,
            ValueError,
            "increasing",
        ),
        Row(
            "heat.heat_columns",
            "wrong type",
            lambda L, B: list(heat.heat_columns(L, B, [0.5], n_terms=[2.5])),
            one_source,
            TypeError,
            "n_terms",
        ),
        Row(
            "heat.heat_columns",
            "too small c",
            lambda L, B: list(heat.heat_columns(L, B, [0.5], c=0.1)),
            one_source,
            ValueError,
            "c must be at least",
        ),
        Row(
            "heat.heat_doubling",
            "not a Laplacian",
            lambda L: list(heat.heat_doubling(L, 1.0, 3)),
            lambda: (path_graph(),),
            ValueError,
            "Laplacian",
        ),
        Row(
            "heat.heat_doubling",
            "too large for dense",
            lambda L: list(heat.heat_doubling(L, 1.0, 3, max_dense_bytes=10)),
            L,
            ValueError,
            "max_dense_bytes",
        ),
        Row(
            "heat.poisson_terms",
            "negative t",
            heat.poisson_terms,
            lambda: (-1.0,),
            ValueError,
            "t",
        ),
        Row(
            "heat.poisson_terms",
            "NaN",
            heat.poisson_terms,
            lambda: (np.nan,),
            ValueError,
            "t",
        ),
        Row(
            "heat.poisson_terms",
            "wrong type",
            heat.poisson_terms,
            lambda: ("1.0",),
            TypeError,
            "t",
        ),
        Row(
            "heat.varadhan_distance",
            "NaN",
            lambda K, dr, dc: heat.varadhan_distance(K, dr, dc, 0.5),
            lambda: with_nan(kernel_block()),
            ValueError,
            "NaN",
        ),
        Row(
            "heat.varadhan_distance",
            "wrong shape",
            lambda K, dr, dc: heat.varadhan_distance(K, dr[:3], dc, 0.5),
            kernel_block,
            ValueError,
            "diag_rows",
        ),
        Row(
            "heat.varadhan_distance",
            "negative t",
            lambda K, dr, dc: heat.varadhan_distance(K, dr, dc, -0.5),
            kernel_block,
            ValueError,
            "t",
        ),
        Row(
            "heat.varadhan_distance",
            "complex",
            lambda K, dr, dc: heat.varadhan_distance(K * 1j, dr, dc, 0.5),
            kernel_block,
            TypeError,
            "complex",
        ),
        Row(
            "heat.farthest_points",
            "NaN",
            heat.farthest_points,
            lambda: (points_nan(), 3),
            ValueError,
            "NaN",
        ),
        Row(
            "heat.farthest_points",
            "too many points",
            heat.farthest_points,
            lambda: (points(5), 10),
            ValueError,
            "m must be <= 5",
        ),
        Row(
            "heat.farthest_points",
            "wrong type",
            heat.farthest_points,
            lambda: (points(), 2.5),
            TypeError,
            "integer",
        ),
        Row(
            "heat.farthest_points",
            "complex",
            heat.farthest_points,
            lambda: (points_complex(), 3),
            TypeError,
            "complex",
        ),
    ]
    T += _points_rows(
        "heat.heat_affinity",
        lambda X: heat.heat_affinity(X, 3),
    )
    T += [
        _unknown(
            "heat.heat_affinity",
            heat.heat_affinity,
            lambda: (points(),),
            kernel="bogus",
        ),
        _unknown(
            "heat.heat_affinity",
            heat.heat_affinity,
            lambda: (points(),),
            density="bogus",
        ),
        Row(
            "heat.heat_affinity",
            "too many neighbours",
            lambda X: heat.heat_affinity(X, 10),
            lambda: (points(10),),
            ValueError,
            "n_neighbors",
        ),
    ]
    T += _points_rows(
        "heat.heat_geodesic_distances",
        heat.heat_geodesic_distances,
    )
    T += [
        _unknown(
            "heat.heat_geodesic_distances",
            heat.heat_geodesic_distances,
            lambda: (points(),),
            density="bogus",
        ),
        Row(
            "heat.heat_geodesic_distances",
            "negative t",
            heat.heat_geodesic_distances,
            lambda: (points(),),
            ValueError,
            "t must be",
            kwargs={"t": -1.0},
        ),
        Row(
            "heat.heat_geodesic_distances",
            "out-of-range node",
            heat.heat_geodesic_distances,
            lambda: (points(),),
            ValueError,
            "sources",
            kwargs={"sources": [0, 99]},
        ),
        Row(
            "heat.heat_geodesic_distances",
            "wrong type",
            heat.heat_geodesic_distances,
            lambda: (points(),),
            TypeError,
            "sources",
            kwargs={"sources": [0.5]},
        ),
    ]
    # ---- SPD ----------------------------------------------------------------------
    for name, func, n_args in [
        ("spd.logm", spd.logm, 1),
        ("spd.sqrtm", spd.sqrtm, 1),
        ("spd.invsqrtm", spd.invsqrtm, 1),
        ("spd.mean", spd.mean, 1),
        ("spd.dispersion", spd.dispersion, 1),
        ("spd.distance", spd.distance, 2),
        ("spd.log", spd.log, 2),
        ("SPDStandardScaler.fit", fit(manigeo.SPDStandardScaler), 1),
        ("SPDRecenter.fit", fit(manigeo.SPDRecenter), 1),
    ]:
        T += _spd_rows(
            name,
            func,
            n_args=n_args,
            # an empty batch of matrices is a valid input to a matrix function
            skip=("empty",) if name in _ELEMENTWISE else (),
            # the estimators validate through scikit-learn's validate_data
            override=SKLEARN_CHECKS if name.endswith(".fit") else None,
            xfail=SPD_XFAIL.get(name, {}),
        )
    T += _spd_rows(
        "spd.powm",
        lambda X: spd.powm(X, 0.5),
        skip=("empty",),
        xfail=SPD_XFAIL["spd.powm"],
    )
    T += [
        Row(
            "spd.logm",
            "non-symmetric (issue 13)",
            spd.logm,
            lambda: (np.array([[2.0, 1.0], [0.0, 3.0]]),),
            ValueError,
            "symmetric",
            xfail=SPD_BRANCH,
        ),
        Row(
            "spd.exp",
            "overflow",
            lambda P, V: spd.exp(P, V),
            lambda: (np.eye(2), 1e3 * np.eye(2)),
            ValueError,
            "overflow|finite",
            xfail=SPD_BRANCH,
        ),
        Row(
            "spd.distance",
            "mixed dtypes",
            spd.distance,
            lambda: (spd_batch().astype(np.float32), spd_batch()),
            None,
        ),
        Row(
            "spd.distance",
            "mismatched batch",
            spd.distance,
            lambda: (spd_batch(4), spd_batch(3)),
            ValueError,
            "batch|matrices",
            xfail=SPD_BRANCH,
        ),
        _unknown(
            "spd.distance",
            spd.distance,
            lambda: (spd_batch(), spd_batch()),
            metric="bogus",
        ),
        _unknown("spd.mean", spd.mean, lambda: (spd_batch(),), metric="bogus"),
        Row(
            "SPDStandardScaler.fit",
            "unknown option",
            fit(manigeo.SPDStandardScaler, metric="bogus"),
            lambda: (spd_batch(),),
            ValueError,
            "metric",
        ),
        Row(
            "SPDStandardScaler.fit",
            "1 sample (zero dispersion)",
            lambda X: manigeo.SPDStandardScaler().fit(X).transform(X),
            lambda: (np.tile(np.diag([1.0, 2.0, 3.0]), (5, 1, 1)),),
            ValueError,
            "dispersion",
        ),
        Row(
            "SPDRecenter.fit",
            "NaN groups",
            lambda X: manigeo.SPDRecenter().fit(X, groups=[0, np.nan, 0, 1]),
            lambda: (spd_batch(),),
            ValueError,
            "groups",
        ),
    ]
    # ---- Lie groups ---------------------------------------------------------------
    if HAS_GEOMSTATS:
        scaler = fit(manigeo.LieGroupStandardScaler)
        T += [
            Row(
                "LieGroupStandardScaler.fit",
                "NaN",
                scaler,
                lambda: (_with3(rotations(), np.nan),),
                ValueError,
                "NaN|finite",
            ),
            Row(
                "LieGroupStandardScaler.fit",
                "non-SPD (not a rotation)",
                scaler,
                lambda: (2 * rotations(),),
                ValueError,
                "SO|rotation|orthogonal",
            ),
            Row(
                "LieGroupStandardScaler.fit",
                "wrong ndim",
                scaler,
                lambda: (np.ones(3),),
                ValueError,
                "ndim|shape",
            ),
            Row(
                "LieGroupStandardScaler.fit",
                "empty",
                scaler,
                lambda: (np.zeros((0, 3, 3)),),
                ValueError,
                "empty|0|at least",
            ),
            Row(
                "LieGroupStandardScaler.fit",
                "complex",
                scaler,
                lambda: (rotations().astype(complex),),
                TypeError,
                "complex",
                xfail="fixed on branch spdmeans (Lie scaler input check)",
            ),
            Row(
                "LieGroupStandardScaler.fit",
                "unknown option",
                fit(manigeo.LieGroupStandardScaler, group="bogus"),
                lambda: (rotations(),),
                ValueError,
                "group",
            ),
        ]
    # ---- sheaves ------------------------------------------------------------------
    ei = edge_index_ring
    T += [
        Row(
            "sheaf.sheaf_laplacian",
            "NaN",
            lambda e, m: sheaf.sheaf_laplacian(e, m, 6),
            lambda: (ei(), _with3(transports_identity(12), np.nan)),
            ValueError,
            "NaN|finite",
        ),
        Row(
            "sheaf.sheaf_laplacian",
            "wrong ndim",
            lambda e, m: sheaf.sheaf_laplacian(e, m, 6),
            lambda: (ei()[0], transports_identity(12)),
            ValueError,
            "edge_index|shape",
        ),
        Row(
            "sheaf.sheaf_laplacian",
            "out-of-range node",
            lambda e, m: sheaf.sheaf_laplacian(e, m, 3),
            lambda: (ei(), transports_identity(12)),
            ValueError,
            "node|range",
        ),
        _unknown(
            "sheaf.sheaf_laplacian",
            lambda e, m, **k: sheaf.sheaf_laplacian(e, m, 6, **k),
            lambda: (ei(), transports_identity(12)),
            normalization="bogus",
        ),
        Row(
            "sheaf.orientability",
            "NaN",
            lambda e, t: sheaf.orientability(e, t, 6),
            lambda: (ei(), _with3(transports_identity(12), np.nan)),
            ValueError,
            "NaN|finite",
            xfail=SHEAF_TODO,
        ),
        Row(
            "sheaf.transport_maps",
            "non-square",
            sheaf.transport_maps,
            lambda: (ei(), np.ones((12, 2, 3))),
            ValueError,
            "square|shape",
            xfail=SHEAF_TODO,
        ),
        Row(
            "sheaf.polar_factor",
            "NaN",
            sheaf.polar_factor,
            lambda: (np.full((1, 2, 2), np.nan),),
            ValueError,
            "NaN|finite",
            xfail=SHEAF_TODO,
        ),
        Row(
            "sheaf.estimate_dimension",
            "unknown option",
            lambda v: sheaf.estimate_dimension(v, threshold=2.0),
            lambda: (np.array([[0.5, 0.3, 0.2]]),),
            ValueError,
            "threshold",
        ),
    ]
    # ---- the remaining public callables ------------------------------------------
    lap = lambda: (g.laplacian(path_graph()),)  # noqa: E731
    frames = lambda: (np.tile(np.eye(3)[:, :2], (6, 1, 1)),)  # noqa: E731
    T += [
        Row(
            "graphs.as_sparse_matrix",
            "wrong ndim",
            g.as_sparse_matrix,
            lambda: (np.ones(3),),
            ValueError,
            "2-D",
        ),
        Row(
            "graphs.as_sparse_matrix",
            "complex",
            g.as_sparse_matrix,
            lambda: (graph_complex(),),
            TypeError,
            "complex",
        ),
        Row(
            "graphs.as_sparse_matrix",
            "object dtype",
            g.as_sparse_matrix,
            lambda: (graph_object(),),
            TypeError,
            "numeric",
        ),
        Row(
            "rgg.edge_moments",
            "unknown option",
            rgg.edge_moments,
            lambda: (0,),
            ValueError,
            "dimension",
        ),
        Row(
            "heat.chebyshev_order",
            "negative weights",
            heat.chebyshev_order,
            lambda: (-1.0, 2.0),
            ValueError,
            "t",
            xfail=HEAT_TODO,
        ),
        Row(
            "heat.chebyshev_order",
            "NaN",
            heat.chebyshev_order,
            lambda: (np.nan, 2.0),
            ValueError,
            "t",
            xfail=HEAT_TODO,
        ),
        Row(
            "heat.heat_doubling",
            "non-square",
            lambda L: list(heat.heat_doubling(L, 1.0, 3)),
            lambda: (np.ones((3, 4)),),
            ValueError,
            "square",
            xfail=HEAT_TODO,
        ),
        Row(
            "heat.heat_doubling",
            "negative weights",
            lambda L: list(heat.heat_doubling(L, -1.0, 3)),
            lap,
            ValueError,
            "t_min",
            xfail=HEAT_TODO,
        ),
        Row(
            "embedding.landmark_mds",
            "NaN",
            embedding.landmark_mds,
            lambda: (distances_nan()[:3], np.arange(3)),
            ValueError,
            "NaN",
        ),
        Row(
            "embedding.landmark_mds",
            "out-of-range node",
            embedding.landmark_mds,
            lambda: (distances()[:3], np.array([0, 1, 9])),
            ValueError,
            "landmarks|range",
            xfail=HEAT_TODO,
        ),
        Row(
            "embedding.riemann_metric",
            "NaN",
            embedding.riemann_metric,
            lambda: (g.laplacian(path_graph()), points_nan()[:5]),
            ValueError,
            "NaN",
        ),
        Row(
            "embedding.riemann_metric",
            "non-square",
            embedding.riemann_metric,
            lambda: (g.laplacian(path_graph()), points(4)),
            ValueError,
            "rows|points",
        ),
        Row(
            "spd.expm",
            "NaN",
            spd.expm,
            lambda: (np.full((2, 2), np.nan),),
            ValueError,
            "NaN",
        ),
        Row(
            "spd.expm",
            "non-symmetric",
            spd.expm,
            lambda: (np.array([[0.0, 1.0], [0.0, 0.0]]),),
            ValueError,
            "symmetric",
            xfail=SPD_BRANCH,
        ),
        Row(
            "spd.geodesic",
            "NaN",
            spd.geodesic,
            lambda: (np.eye(2), 2 * np.eye(2), np.nan),
            ValueError,
            "t",
        ),
        Row(
            "spd.geodesic",
            "non-SPD",
            spd.geodesic,
            lambda: (-np.eye(2), 2 * np.eye(2), 0.5),
            ValueError,
            "positive definite",
        ),
        _unknown("spd.get_metric", spd.get_metric, lambda: (), metric="bogus"),
        Row(
            "sheaf.local_pca",
            "NaN",
            sheaf.local_pca,
            lambda: (points_nan()[:20], np.tile(np.arange(5), (20, 1))),
            ValueError,
            "NaN",
        ),
        Row(
            "sheaf.local_pca",
            "out-of-range node",
            sheaf.local_pca,
            lambda: (points(20), np.full((20, 5), 99)),
            ValueError,
            "neighbor",
        ),
        Row(
            "sheaf.procrustes_transports",
            "out-of-range node",
            sheaf.procrustes_transports,
            lambda: (frames()[0][:3], np.array([[0, 1, 2], [1, 2, 3]])),
            ValueError,
            "outside",
        ),
        Row(
            "sheaf.procrustes_transports",
            "NaN",
            sheaf.procrustes_transports,
            lambda: (_with3(frames()[0], np.nan), np.array([[0, 1], [1, 2]])),
            ValueError,
            "NaN|finite",
            xfail=SHEAF_TODO,
        ),
        Row(
            "datasets.Geodesic",
            "out-of-range node",
            lambda i: datasets.make_sphere(10, random_state=0)[1](i),
            lambda: ([0, 99],),
            ValueError,
            "outside",
        ),
        Row(
            "datasets.Geodesic",
            "wrong type",
            lambda i: datasets.make_sphere(10, random_state=0)[1](i),
            lambda: ([0.5],),
            TypeError,
            "integer",
        ),
    ]

    # ---- functional RGG core -------------------------------------------------------
    def rgg_fn(A):
        return manigeo.rgg.rgg_geodesics(A, dimension=1, calibrate=False)

    T += [
        Row(
            "rgg.rgg_geodesics",
            "NaN",
            rgg_fn,
            lambda: (graph_nan(),),
            ValueError,
            "NaN",
        ),
        Row(
            "rgg.rgg_geodesics",
            "negative weights",
            rgg_fn,
            lambda: (graph_negative(),),
            ValueError,
            "negative",
        ),
        Row(
            "rgg.rgg_geodesics",
            "disconnected",
            rgg_fn,
            lambda: (graph_disconnected(),),
            ValueError,
            "disconnected",
        ),
        Row(
            "rgg.rgg_geodesics",
            "complex",
            rgg_fn,
            lambda: (graph_complex(),),
            TypeError,
            "complex",
        ),
    ]
    # ---- sliced-Wasserstein between SPD distributions -------------------------------
    sw = spd.sliced_wasserstein
    T += _spd_rows(
        "spd.sliced_wasserstein",
        lambda X, Y: sw(X, Y, n_projections=8, random_state=0),
        n_args=2,
        skip=("empty",),
    )
    T += [
        _unknown(
            "spd.sliced_wasserstein",
            sw,
            lambda: (spd_batch(), spd_batch()),
            metric="bogus",
        ),
        Row(
            "spd.sliced_wasserstein",
            "mismatched sizes",
            sw,
            lambda: (spd_batch(p=3), spd_batch(p=2)),
            ValueError,
            "different sizes",
        ),
        Row(
            "spd.sliced_wasserstein_kernel",
            "NaN",
            lambda Xs: spd.sliced_wasserstein_kernel(Xs, n_projections=8),
            lambda: ([spd_nan(), spd_batch()],),
            ValueError,
            "NaN",
        ),
        Row(
            "spd.sliced_wasserstein_kernel",
            "negative gamma",
            lambda Xs: spd.sliced_wasserstein_kernel(Xs, gamma=-1.0),
            lambda: ([spd_batch(), spd_batch(seed=1)],),
            ValueError,
            "gamma",
        ),
    ]

    # ---- Geom-GCN loader -------------------------------------------------------------
    def tiny_bunch():
        return datasets.GeomGCNBunch(
            adjacency=sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]])),
            X=np.ones((2, 3), np.float32),
            y=np.array([0, 1]),
            train_masks=np.ones((10, 2), bool),
            val_masks=np.zeros((10, 2), bool),
            test_masks=np.zeros((10, 2), bool),
            DESCR="",
            name="tiny",
        )

    def empty_home():
        import tempfile

        return tempfile.mkdtemp(prefix="manigeo_missing_")

    T += [
        Row(
            "datasets.fetch_geom_gcn",
            "unknown option",
            datasets.fetch_geom_gcn,
            lambda: ("bogus", empty_home()),
            ValueError,
            "name",
        ),
        Row(
            "datasets.fetch_geom_gcn",
            "missing offline",
            lambda n, h: datasets.fetch_geom_gcn(n, h, download_if_missing=False),
            lambda: ("texas", empty_home()),
            FileNotFoundError,
            "not found",
        ),
        Row(
            "datasets.get_data_home",
            "wrong type",
            datasets.get_data_home,
            lambda: (3.5,),
            TypeError,
            "",
        ),
        Row(
            "datasets.to_pyg",
            "out-of-range split",
            lambda: datasets.to_pyg(tiny_bunch(), 10),
            lambda: (),
            ValueError,
            "split",
        ),
        Row(
            "datasets.GeomGCNBunch",
            "out-of-range split",
            lambda: tiny_bunch().to_pyg(-11),
            lambda: (),
            ValueError,
            "split",
        ),
    ]
    # ---- Dask edge lists (in-memory input is refused by type) ---------------------
    sparse_graph = lambda: (sp.csr_array(path_graph()),)  # noqa: E731
    T += [
        Row(name, "wrong type", func, sparse_graph, TypeError, "dask.dataframe")
        for name, func in [
            ("graphs.edge_blocks", graphs.edge_blocks),
            ("graphs.EdgeBlocks", graphs.edge_blocks),
            (
                "geodesics.dask_landmark_paths",
                lambda E: geodesics.dask_landmark_paths(E, 1),
            ),
            ("rgg.rgg_fit_dask", lambda E: manigeo.rgg.rgg_fit_dask(E, dimension=2)),
        ]
    ]
    T += [
        Row(
            "graphs.knn_recall",
            "NaN",
            lambda X: graphs.knn_recall(X, graphs.knn_graph(points(), 3)),
            lambda: (points_nan(),),
            ValueError,
            "NaN",
        )
    ]
    # ---- torch layers -------------------------------------------------------------
    if HAS_TORCH:
        T += _liebn_rows()
        T += _spdnet_rows()
    return T


def _spdnet_rows():
    import torch

    from manigeo.nn import (
        AddConnectionLaplacian,
        BiMap,
        ConnectionSheafConv,
        ExpEig,
        LogEig,
        ReEig,
        SheafConv,
        StiefelSGD,
        connection_maps,
        orthogonal_from_params,
    )

    def t(builder):
        return lambda: (torch.from_numpy(builder()),)

    f64 = torch.float64
    return [
        Row(
            "nn.BiMap",
            "NaN",
            lambda X: BiMap(3, 2, dtype=f64)(X),
            t(spd_nan),
            ValueError,
            "NaN",
        ),
        Row(
            "nn.ReEig",
            "non-symmetric",
            lambda X: ReEig()(X),
            t(spd_nonsym),
            ValueError,
            "symmetric",
        ),
        Row(
            "nn.LogEig",
            "non-SPD",
            lambda X: LogEig()(X),
            t(spd_nonspd),
            ValueError,
            "positive definite",
        ),
        Row("nn.ExpEig", "NaN", lambda X: ExpEig()(X), t(spd_nan), ValueError, "NaN"),
        Row(
            "nn.SheafConv",
            "empty",
            lambda: SheafConv(0, 2),
            lambda: (),
            ValueError,
            "channels",
        ),
        Row(
            "nn.SheafConv",
            "unknown option",
            lambda: SheafConv(4, 2, maps="bogus"),
            lambda: (),
            ValueError,
            "maps",
        ),
        Row(
            "nn.ConnectionSheafConv",
            "empty",
            lambda: ConnectionSheafConv(0, 2),
            lambda: (),
            ValueError,
            "channels",
        ),
        Row(
            "nn.AddConnectionLaplacian",
            "unknown option",
            lambda: AddConnectionLaplacian(normalization="bogus"),
            lambda: (),
            ValueError,
            "normalization",
        ),
        Row(
            "nn.connection_maps",
            "out-of-range node",
            lambda x: connection_maps(x, torch.tensor([[0, 5], [5, 0]]), 2),
            lambda: (torch.ones(3, 4, dtype=f64),),
            ValueError,
            "outside",
        ),
        Row(
            "nn.orthogonal_from_params",
            "unknown option",
            lambda p: orthogonal_from_params(p, 2, "bogus"),
            lambda: (torch.zeros(2, 1),),
            ValueError,
            "method",
        ),
        Row(
            "sheaf.SheafLaplacianBuilder",
            "out-of-range node",
            lambda: manigeo.sheaf.SheafLaplacianBuilder(
                torch.tensor([[0, 5], [5, 0]]), 3, 2
            ),
            lambda: (),
            ValueError,
            "outside",
        ),
        Row(
            "nn.StiefelSGD",
            "non-orthonormal weights",
            lambda W: StiefelSGD([torch.nn.Parameter(W)], lr=0.1),
            lambda: (torch.ones(3, 2, dtype=f64),),
            ValueError,
            "orthonormal",
        ),
    ]


def _with3(X, value):
    X = np.array(X)
    X[0, 0, 0] = value
    return X


def _liebn_rows():
    import torch

    from manigeo.nn import LieBatchNormSPD, SheafDiffusion

    def bn(X):
        return LieBatchNormSPD(3, dtype=torch.float64).train()(X)

    def t(builder):
        return lambda: (torch.from_numpy(builder()),)

    branch = None  # fixed on branch backend (LieBatchNormSPD validation)
    return [
        Row(
            "nn.LieBatchNormSPD",
            "non-SPD",
            bn,
            t(spd_nonspd),
            ValueError,
            "positive definite",
            xfail=branch,
        ),
        Row(
            "nn.LieBatchNormSPD", "NaN", bn, t(spd_nan), ValueError, "NaN", xfail=branch
        ),
        Row(
            "nn.LieBatchNormSPD",
            "empty",
            bn,
            lambda: (torch.zeros((0, 3, 3), dtype=torch.float64),),
            ValueError,
            "empty",
            xfail=branch,
        ),
        Row(
            "nn.LieBatchNormSPD",
            "wrong ndim",
            bn,
            lambda: (torch.ones(3, dtype=torch.float64),),
            ValueError,
            "shape|ndim",
        ),
        Row(
            "nn.SheafDiffusion",
            "unknown option",
            lambda x: SheafDiffusion(2, 4, normalization="bogus"),
            t(spd_batch),
            ValueError,
            "normalization",
        ),
        Row(
            "nn.SheafDiffusion",
            "empty",
            lambda x: SheafDiffusion(0, 4),
            t(spd_batch),
            ValueError,
            "in_channels",
        ),
        Row(
            "nn.LieBatchNormSPD",
            "unknown option",
            lambda X: LieBatchNormSPD(3, metric="bogus"),
            t(spd_batch),
            ValueError,
            "metric",
        ),
    ]


TABLE = _build_table()


# ------------------------------------------------------------------ runner
def _snapshot(args):
    return copy.deepcopy(args)


def _same(a, b) -> bool:
    if sp.issparse(a):
        return (
            sp.issparse(b)
            and a.shape == b.shape
            and a.format == b.format
            and a.nnz == b.nnz
            and all(
                _same(getattr(a, k), getattr(b, k))
                for k in ("data", "indices", "indptr", "row", "col")
                if hasattr(a, k)
            )
        )
    if hasattr(a, "detach"):  # torch
        return bool(a.shape == b.shape) and _same(
            a.detach().numpy(), b.detach().numpy()
        )
    if isinstance(a, np.ndarray):
        if not (
            isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype
        ):
            return False
        if a.dtype == object:
            return all(_same(x, y) for x, y in zip(a.flat, b.flat, strict=True))
        return a.tobytes() == b.tobytes()  # bit for bit (NaN, NaT included)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)  # NaN scalars


def _param(row: Row):
    marks = []
    if row.xfail:
        marks.append(pytest.mark.xfail(strict=True, reason=row.xfail))
    return pytest.param(row, id=row.id, marks=marks)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("row", [_param(r) for r in TABLE])
def test_bad_input(row: Row):
    args = row.make()
    before = _snapshot(args)
    if row.expected is None:
        row.func(*args, **row.kwargs)
    else:
        with pytest.raises(row.expected) as info:
            row.func(*args, **row.kwargs)
        assert re.search(row.match, str(info.value), re.IGNORECASE), (
            f"message {str(info.value)!r} does not match {row.match!r}"
        )
    assert _same(args, before), "the input was modified"


# -------------------------------------------------------------- hypothesis

_FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
_weights = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 0.0, 1.0, -1.0]),
)


@_FUZZ
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6),
        elements=_weights,
    )
)
def test_fuzz_adjacency(A):
    """Any float array: a canonical graph or a named ValueError, input untouched."""
    from manigeo._validation import check_adjacency

    before = A.copy()
    try:
        G = check_adjacency(A)
    except ValueError as exc:
        assert re.search("NaN|negative|symmetric|square|2-D|at least", str(exc)), str(
            exc
        )
    else:
        assert sp.issparse(G) and G.shape == A.shape
        assert np.all(np.isfinite(G.data)) and np.all(G.data > 0)
        assert not np.any(G.diagonal())
        assert (G != G.T).nnz == 0
    np.testing.assert_array_equal(A, before)


@_FUZZ
@given(
    st.integers(2, 7).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(
                    st.integers(0, n - 1),
                    st.integers(0, n - 1),
                    st.sampled_from([0.0, 0.5, 1.0, 2.0]),
                ),
                max_size=12,
            ),
        )
    )
)
def test_fuzz_shortest_paths_match_scipy(graph):
    """Weighted graphs with explicit zero-length edges: the same as SciPy."""
    from scipy.sparse import csgraph

    n, edges = graph
    edges = {(min(i, j), max(i, j)): w for i, j, w in edges if i != j}
    rows = [i for i, j in edges] + [j for i, j in edges]
    cols = [j for i, j in edges] + [i for i, j in edges]
    data = list(edges.values()) * 2
    W = sp.csr_array((data, (rows, cols)), shape=(n, n))
    before = W.copy()
    expected = csgraph.dijkstra(W, directed=False)
    got = geodesics.shortest_paths(W, on_disconnected="inf")
    np.testing.assert_array_equal(got, expected)
    assert _same(W, before)


@settings(_FUZZ, max_examples=15)
@given(
    hnp.arrays(
        hnp.scalar_dtypes(),
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5),
    )
)
def test_fuzz_points(X):
    """Arrays of any dtype (complex, strings, datetimes...) given as points."""
    before = copy.deepcopy(X)
    try:
        out = graphs.knn_graph(X, 1)
    except (ValueError, TypeError) as exc:
        assert str(exc), "an error must say what is wrong"
    else:
        assert out.shape == (len(X), len(X))
    assert _same(X, before)


def test_table_covers_every_public_callable():
    """A row for every public function and estimator of every subpackage."""
    import importlib

    covered = {row.name.removesuffix(".fit") for row in TABLE}
    missing = []
    for sub in (
        "graphs",
        "geodesics",
        "rgg",
        "heat",
        "embedding",
        "spd",
        "lie",
        "sheaf",
        "datasets",
        "metrics",
        "nn",
    ):
        if (sub == "nn" and not HAS_TORCH) or (sub == "lie" and not HAS_GEOMSTATS):
            continue  # their rows need the optional dependency
        module = importlib.import_module(f"manigeo.{sub}")
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj) or name in NOT_CALLABLE_API:
                continue
            top_level = name[0].isupper() and hasattr(manigeo, name)
            key = name if top_level else f"{sub}.{name}"
            if key not in covered:
                missing.append(key)
    assert not missing, f"no bad-input row for {missing}"


#: public names that take no user input to validate
NOT_CALLABLE_API = {"Orientability"}  # a result named tuple


# ---------------------------------------------------------- user-guide page
PAGE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "bad_input.rst"
BEGIN, END = ".. begin-table (generated by tests/test_bad_input.py)", ".. end-table"


def _label(row: Row) -> str:
    opts = ", ".join(f"{k}={v!r}" for k, v in row.kwargs.items())
    return f"{row.case} ({opts})" if opts else row.case


def render_table(table: list[Row] = TABLE) -> str:
    """The table as reST: one line per callable, its cases grouped by outcome."""
    groups: dict[str, dict[str, list[str]]] = {}
    for row in table:
        cols = groups.setdefault(
            row.name, {"ValueError": [], "TypeError": [], "accepted": [], "pending": []}
        )
        if row.xfail:
            cols["pending"].append(_label(row))
        elif row.expected is None:
            cols["accepted"].append(_label(row))
        elif row.expected.__name__ in cols:
            cols[row.expected.__name__].append(_label(row))
        else:  # e.g. FileNotFoundError, listed with the ValueErrors, named
            cols["ValueError"].append(f"{_label(row)} ({row.expected.__name__})")
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 18 30 16 18 18",
        "",
        "   * - callable",
        "     - ValueError",
        "     - TypeError",
        "     - accepted by design",
        "     - pending (fix on another branch)",
    ]
    for name in sorted(groups):
        cols = groups[name]
        lines.append(f"   * - ``{name}``")
        for key in ("ValueError", "TypeError", "accepted", "pending"):
            lines.append("     - " + (", ".join(cols[key]) or "\u2013"))
    return "\n".join(lines)


def _page_table(text: str) -> str:
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


@pytest.mark.skipif(
    not (HAS_TORCH and HAS_GEOMSTATS), reason="the page lists the rows of [all]"
)
def test_user_guide_lists_table():
    text = PAGE.read_text(encoding="utf-8")
    assert _page_table(text) == render_table(), (
        "docs/user_guide/bad_input.rst is out of date: run "
        "`python tests/test_bad_input.py` to regenerate its table"
    )


if __name__ == "__main__":  # regenerate the user-guide table
    text = PAGE.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    PAGE.write_text(f"{head}{BEGIN}\n\n{render_table()}\n\n{END}{tail}", "utf-8")
    print(f"wrote {PAGE}")
