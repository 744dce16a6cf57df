"""Dask edge lists: exact equality with the single-machine common_neighbors and
neighbor_similarity, on a 2-worker LocalCluster."""

import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.graphs import common_neighbors, edge_blocks, neighbor_similarity

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")


def _random_graph(rng, n, density, *, weighted=False, isolated=0):
    A = sp.random(n, n, density=density, random_state=rng, format="csr")
    A = sp.csr_array(A + A.T)
    A.setdiag(0)
    A.eliminate_zeros()
    if not weighted:
        A.data[:] = 1.0
    if isolated:  # the last nodes have no edge at all
        keep = np.ones(n)
        keep[-isolated:] = 0
        D = sp.diags_array(keep)
        A = sp.csr_array(D @ A @ D)
        A.eliminate_zeros()
    A.sort_indices()
    return A


def _edge_frame(A, rng, npartitions, *, weighted=False):
    r, c = A.nonzero()
    df = pd.DataFrame({"src": r, "dst": c})
    if weighted:
        df["weight"] = A[r, c]
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    return df, dd.from_pandas(df, npartitions=npartitions, sort=False)


def _at(S, df):
    return np.asarray(S[df["src"].to_numpy(), df["dst"].to_numpy()]).ravel()


@pytest.fixture
def sync():
    """Run the task graph in the test's thread (the plan passes included)."""
    import dask

    with dask.config.set(scheduler="sync"):
        yield


def test_counts_equal_local_on_cluster(dask_client, rng):
    A = _random_graph(rng, 60, 0.08, isolated=4)
    df, edges = _edge_frame(A, rng, 3)
    out = common_neighbors(edges, chunk_size=20)
    assert isinstance(out, dd.DataFrame)
    got = dask_client.compute(out).result()
    pd.testing.assert_frame_equal(got[["src", "dst"]], df)
    np.testing.assert_array_equal(got["count"].to_numpy(), _at(common_neighbors(A), df))


@pytest.mark.parametrize("npartitions, chunk_size", [(1, None), (4, 7), (9, None)])
def test_counts_equal_local(sync, rng, npartitions, chunk_size):
    A = _random_graph(rng, 40, 0.1, isolated=4)
    df, edges = _edge_frame(A, rng, npartitions)
    got = common_neighbors(edges, chunk_size=chunk_size).compute()
    # same rows, same order, one more column
    pd.testing.assert_frame_equal(got[["src", "dst"]], df)
    np.testing.assert_array_equal(got["count"].to_numpy(), _at(common_neighbors(A), df))


@pytest.mark.parametrize("kind", ["cosine", "jaccard", "adamic_adar"])
def test_similarities_equal_local(sync, rng, kind):
    A = _random_graph(rng, 40, 0.1)
    df, edges = _edge_frame(A, rng, 4)
    got = neighbor_similarity(edges, kind, chunk_size=13).compute()
    np.testing.assert_array_equal(
        got["similarity"].to_numpy(), _at(neighbor_similarity(A, kind), df)
    )


def test_weighted_equal_local(sync, rng):
    A = _random_graph(rng, 40, 0.12, weighted=True)
    df, edges = _edge_frame(A, rng, 3, weighted=True)
    got = common_neighbors(edges, chunk_size=6).compute()
    np.testing.assert_allclose(
        got["count"].to_numpy(), _at(common_neighbors(A), df), rtol=1e-13, atol=0
    )
    got = neighbor_similarity(edges, "cosine", chunk_size=6).compute()
    np.testing.assert_allclose(
        got["similarity"].to_numpy(),
        _at(neighbor_similarity(A, "cosine"), df),
        rtol=1e-13,
    )


def test_more_partitions_than_nodes_and_empty_partitions(sync, rng):
    A = _random_graph(rng, 6, 0.5)
    df, _ = _edge_frame(A, rng, 1)
    # 12 partitions over 6 nodes, several of them empty
    parts = [df.iloc[:3], df.iloc[:0], df.iloc[3:5], df.iloc[:0], df.iloc[5:]]
    parts += [df.iloc[:0]] * 7
    edges = dd.from_delayed(
        [_delayed_frame(p.reset_index(drop=True)) for p in parts], meta=df.iloc[:0]
    )
    assert edges.npartitions == 12
    got = common_neighbors(edges).compute()
    np.testing.assert_array_equal(
        got["count"].to_numpy(),
        _at(common_neighbors(A), pd.concat(parts)),
    )


def _delayed_frame(frame):
    import dask

    return dask.delayed(lambda x: x)(frame)


def test_empty_edge_list(sync):
    edges = dd.from_pandas(
        pd.DataFrame({"src": np.zeros(0, int), "dst": np.zeros(0, int)}),
        npartitions=1,
    )
    got = common_neighbors(edges).compute()
    assert len(got) == 0 and list(got.columns) == ["src", "dst", "count"]


def test_self_loops_and_duplicates(sync, rng):
    A = _random_graph(rng, 20, 0.2)
    df, _ = _edge_frame(A, rng, 1)
    loops = pd.DataFrame({"src": [3, 7], "dst": [3, 7]})
    df2 = pd.concat([df, loops], ignore_index=True)
    got = common_neighbors(dd.from_pandas(df2, npartitions=3)).compute()
    C = common_neighbors(A, mask=sp.csr_array(A + sp.eye_array(20)))
    np.testing.assert_array_equal(got["count"].to_numpy(), _at(C, df2))
    with pytest.raises(ValueError, match="self-loops"):
        common_neighbors(
            dd.from_pandas(df2, npartitions=2), self_loops="raise"
        ).compute()


def test_asymmetric_edge_list_raises(sync):
    df = pd.DataFrame({"src": [0, 1, 1, 2], "dst": [1, 0, 2, 0]})
    edges = dd.from_pandas(df, npartitions=2)
    with pytest.raises(ValueError, match="not symmetric"):
        common_neighbors(edges, chunk_size=1).compute()
    with pytest.raises(ValueError, match="not symmetric"):  # within one block
        common_neighbors(edges, chunk_size=10).compute()
    # directed: C counts common out-neighbours, as the local function does
    A = sp.csr_array((np.ones(4), (df.src, df.dst)), shape=(3, 3))
    got = common_neighbors(edges, symmetric="ignore", chunk_size=2).compute()
    np.testing.assert_array_equal(
        got["count"].to_numpy(), _at(common_neighbors(A, symmetric="ignore"), df)
    )


def test_bad_input(sync):
    df = pd.DataFrame({"src": [0.0, 1.0], "dst": [1, 0]})
    with pytest.raises(TypeError, match="integer"):
        common_neighbors(dd.from_pandas(df, npartitions=1))
    df = pd.DataFrame({"a": [0, 1], "dst": [1, 0]})
    with pytest.raises(ValueError, match="'src' and 'dst'"):
        common_neighbors(dd.from_pandas(df, npartitions=1))
    df = pd.DataFrame({"src": [0, 1], "dst": [1, 0]})
    edges = dd.from_pandas(df, npartitions=1)
    with pytest.raises(ValueError, match="mask='edges'"):
        common_neighbors(edges, mask=None)
    with pytest.raises(ValueError, match="backend"):
        common_neighbors(edges, backend="torch")
    with pytest.raises(ValueError, match="non-negative"):
        common_neighbors(dd.from_pandas(df - 1, npartitions=1))


def test_edge_blocks_plan(sync):
    df = pd.DataFrame({"src": [0, 1, 1, 2, 5], "dst": [1, 0, 2, 1, 5]})
    plan = edge_blocks(dd.from_pandas(df, npartitions=2), chunk_size=2)
    assert (plan.n_nodes, plan.block_size, plan.n_blocks) == (6, 2, 3)
    assert plan.pairs.tolist() == [[0, 0], [0, 1], [1, 0], [2, 2]]


#: state of the simulated sources; tasks are serialized even by an in-process
#: cluster, so the state lives in the module, not in the object
_STATE = {}


class _Flaky:
    """A partition source that raises once after being armed, then recovers."""

    def __init__(self, frame, name):
        self.frame, self.name = frame, name
        _STATE[name] = "idle"

    def __call__(self, token):
        if _STATE[self.name] == "armed":
            _STATE[self.name] = "fired"
            raise OSError("worker lost its input (simulated)")
        return self.frame


def _flaky_edges(df, name):
    import dask

    source = _Flaky(df.iloc[5:].reset_index(drop=True), name)
    parts = [
        dask.delayed(lambda x: x)(df.iloc[:5]),
        dask.delayed(source, pure=False)(0),
    ]
    return dd.from_delayed(parts, meta=df.iloc[:0])


def test_failing_task_retried_or_raised(dask_client, rng):
    A = _random_graph(rng, 30, 0.15)
    df, _ = _edge_frame(A, rng, 1)
    ref = _at(common_neighbors(A), df)
    # the plan passes run off the cluster: a key the scheduler still holds from
    # them would keep that submission's retries (none), not the job's
    with dask.config.set(scheduler="sync"):
        out = common_neighbors(_flaky_edges(df, "retried"), chunk_size=10)
    _STATE["retried"] = "armed"  # the plan passes are done: fail in the job
    got = dask_client.compute(out, retries=2).result()
    assert _STATE["retried"] == "fired"
    np.testing.assert_array_equal(got["count"].to_numpy(), ref)
    # without retries: the task's error reaches the caller, no partial frame
    with dask.config.set(scheduler="sync"):
        out = common_neighbors(_flaky_edges(df, "raised"), chunk_size=10)
    _STATE["raised"] = "armed"
    with pytest.raises(OSError, match="simulated"):
        dask_client.compute(out).result()


class _Growing:
    """A partition whose content changes after the plan was made."""

    def __init__(self, first, later):
        self.first, self.later, self.calls = first, later, 0

    def __call__(self, token):
        self.calls += 1
        return self.first if self.calls <= 2 else self.later


def test_input_changed_after_plan_is_an_error_not_a_partial_result(sync, rng):
    import dask

    A = _random_graph(rng, 30, 0.15)
    df, _ = _edge_frame(A, rng, 1)
    small = df[(df.src < 10) & (df.dst < 10)].reset_index(drop=True)
    source = _Growing(small, df)
    edges = dd.from_delayed([dask.delayed(source, pure=False)(0)], meta=df.iloc[:0])
    out = common_neighbors(edges, chunk_size=5, symmetric="ignore")
    with pytest.raises(RuntimeError, match="changed since it was planned"):
        out.compute()
