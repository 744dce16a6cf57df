"""Scale-out benchmark: Dask edge lists and HNSW kNN graphs.

Runs on ``LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=...)``
(worker processes) and prints ratios measured in one process:

(a) exact equality of ``common_neighbors`` / ``neighbor_similarity`` on a Dask
    edge list with the local (single-process GraphBLAS) result, n = 1e5;
(b) a graph whose single-process peak memory exceeds one worker's memory
    limit completes on the cluster; peak memory per worker;
(c) time with 1 vs 2 workers;
(d) ``knn_graph(method="hnsw")`` vs exact ``sklearn.neighbors.NearestNeighbors``
    on points in 50-D: time ratio and recall@k.

The graphs of (a)-(c) are random geometric graphs on the flat torus
``[0, 1)^2`` generated *per partition* (slab ``p`` of the x axis, its points
drawn from a seed, edges to the points of slabs ``p - 1, p, p + 1``), so no
process ever holds the whole edge list except the local reference run, which
runs in a subprocess to measure its peak.

Usage::

    python benchmarks/bench_dask.py                      # all parts, defaults
    python benchmarks/bench_dask.py --parts b --n-b 1000000 --memory-limit 600MB
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

SEED = 20261130


# ------------------------------------------------------------------ graphs
def slab_points(p, m, n_slabs, seed=SEED):
    """The ``m`` points of slab ``p`` (x in [p, p + 1) / n_slabs)."""
    rng = np.random.default_rng([seed, p % n_slabs])
    x = ((p % n_slabs) + rng.random(m)) / n_slabs
    return np.column_stack([x, rng.random(m)])


def slab_edges(p, m, n_slabs, radius, seed=SEED):
    """Edges ``src -> dst`` of the nodes of slab ``p`` (ids ``slab * m + i``)."""
    from scipy.spatial import cKDTree

    own = slab_points(p, m, n_slabs, seed)
    nbr = [(p + s) % n_slabs for s in (-1, 0, 1)]
    pts = np.vstack([slab_points(q, m, n_slabs, seed) for q in nbr])
    ids = np.concatenate([q * m + np.arange(m) for q in nbr])
    S = cKDTree(own, boxsize=1.0).sparse_distance_matrix(
        cKDTree(pts, boxsize=1.0), radius, output_type="coo_matrix"
    )
    src = p * m + S.row.astype(np.int64)
    dst = ids[S.col]
    keep = src != dst
    order = np.lexsort((dst[keep], src[keep]))
    return pd.DataFrame({"src": src[keep][order], "dst": dst[keep][order]})


def graph_params(n, mean_degree=10.0, n_slabs=40):
    radius = float(np.sqrt(mean_degree / (np.pi * n)))
    if radius > 1.0 / n_slabs:
        raise ValueError("too few nodes for this many slabs")
    return n // n_slabs, n_slabs, radius


def dask_edges(n, n_slabs):
    import dask
    import dask.dataframe as dd

    m, n_slabs, radius = graph_params(n, n_slabs=n_slabs)
    meta = pd.DataFrame({"src": np.zeros(0, np.int64), "dst": np.zeros(0, np.int64)})
    parts = [dask.delayed(slab_edges)(p, m, n_slabs, radius) for p in range(n_slabs)]
    return dd.from_delayed(parts, meta=meta)


def local_adjacency(n, n_slabs):
    import scipy.sparse as sp

    m, n_slabs, radius = graph_params(n, n_slabs=n_slabs)
    df = pd.concat([slab_edges(p, m, n_slabs, radius) for p in range(n_slabs)])
    N = m * n_slabs
    A = sp.csr_array(
        (np.ones(len(df)), (df.src.to_numpy(), df.dst.to_numpy())), shape=(N, N)
    )
    A.sort_indices()
    return df.reset_index(drop=True), A


def checksum(df, column="count"):
    c = df[column].to_numpy()
    return [float(c.sum()), float((c * (df["src"].to_numpy() % 7 + 1)).sum())]


def _partition_checksum(df):
    return pd.DataFrame([checksum(df)], columns=["a", "b"])


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds():
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cluster_cpu(client):
    """CPU seconds used so far by all workers (load-independent cost)."""
    return sum(client.run(_cpu_seconds).values())


# ----------------------------------------------------------- local (child)
def local_child(n, n_slabs):
    """Run in a subprocess: local common_neighbors, peak memory, checksum."""
    from manigeo.graphs import common_neighbors

    df, A = local_adjacency(n, n_slabs)
    before = peak_rss_mb()
    t = time.perf_counter()
    c0 = time.process_time()
    C = common_neighbors(A)
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - c0
    vals = np.asarray(C[df.src.to_numpy(), df.dst.to_numpy()]).ravel()
    out = {
        "n": int(A.shape[0]),
        "edges": int(A.nnz),
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "peak_mb": peak_rss_mb(),
        "peak_before_mb": before,
        "checksum": checksum(df.assign(count=vals)),
    }
    print(json.dumps(out))


def run_local_child(n, n_slabs):
    res = subprocess.run(
        [sys.executable, __file__, "--local-child", str(n), str(n_slabs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------- parts
def make_cluster(n_workers, memory_limit):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        memory_limit=memory_limit,
        processes=True,
        dashboard_address=None,
    )
    return cluster, Client(cluster)


def worker_peaks_mb(client):
    def peak():
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    return {k.split(":")[-1]: round(v) for k, v in client.run(peak).items()}


def part_a(client, n):
    from manigeo.graphs import common_neighbors, neighbor_similarity

    df, A = local_adjacency(n, 40)
    import dask.dataframe as dd

    edges = dd.from_pandas(df, npartitions=16).persist()
    cpu0 = cluster_cpu(client)
    t = time.perf_counter()
    got = common_neighbors(edges).compute()
    t_dask = time.perf_counter() - t
    cpu_dask = cluster_cpu(client) - cpu0
    t = time.perf_counter()
    c0 = time.process_time()
    C = common_neighbors(A)
    t_local = time.perf_counter() - t
    cpu_local = time.process_time() - c0
    ref = np.asarray(C[df.src.to_numpy(), df.dst.to_numpy()]).ravel()
    equal = np.array_equal(got["count"].to_numpy(), ref)
    S = neighbor_similarity(edges, "cosine").compute()
    Sref = neighbor_similarity(A, "cosine")
    ref_s = np.asarray(Sref[df.src.to_numpy(), df.dst.to_numpy()]).ravel()
    equal_s = np.array_equal(S["similarity"].to_numpy(), ref_s)
    print(
        f"(a) n={A.shape[0]} edges={A.nnz}: counts equal to local: {equal}; "
        f"cosine equal: {equal_s}; wall dask/local = {t_dask / t_local:.2f} "
        f"({t_dask:.2f} s / {t_local:.2f} s), CPU dask workers/local = "
        f"{cpu_dask / cpu_local:.2f} ({cpu_dask:.2f} s / {cpu_local:.2f} s)"
    )
    return equal and equal_s


def part_b(n, memory_limit, n_slabs):
    from manigeo.graphs import common_neighbors

    local = run_local_child(n, n_slabs)
    cluster, client = make_cluster(2, memory_limit)
    try:
        limit_mb = cluster.workers[0].memory_manager.memory_limit / 2**20
    except AttributeError:  # pragma: no cover - older distributed
        limit_mb = float("nan")
    try:
        edges = dask_edges(n, n_slabs).persist()
        from distributed import wait

        wait(edges)
        cpu0 = cluster_cpu(client)
        t = time.perf_counter()
        out = common_neighbors(edges)
        sums = out.map_partitions(
            _partition_checksum, meta={"a": float, "b": float}
        ).compute()
        elapsed = time.perf_counter() - t
        cpu = cluster_cpu(client) - cpu0
        peaks = worker_peaks_mb(client)
    finally:
        client.close()
        cluster.close()
    got = [float(sums["a"].sum()), float(sums["b"].sum())]
    print(
        f"(b) n={local['n']} edges={local['edges']}: local single-process peak "
        f"{local['peak_mb']:.0f} MB (graph built: {local['peak_before_mb']:.0f} MB)"
        f", {local['seconds']:.1f} s wall / {local['cpu_seconds']:.1f} s CPU; "
        f"worker memory limit {limit_mb:.0f} MB; Dask completed in "
        f"{elapsed:.1f} s wall / {cpu:.1f} s worker CPU, worker peaks {peaks} MB; "
        f"checksums equal: {got == local['checksum']}; "
        f"local peak / worker limit = {local['peak_mb'] / limit_mb:.2f}"
    )
    return got == local["checksum"]


def part_c(n, memory_limit, n_slabs):
    from manigeo.graphs import common_neighbors

    times, cpus = {}, {}
    for workers in (1, 2):
        cluster, client = make_cluster(workers, memory_limit)
        try:
            edges = dask_edges(n, n_slabs).persist()
            from distributed import wait

            wait(edges)
            cpu0 = cluster_cpu(client)
            t = time.perf_counter()
            common_neighbors(edges).map_partitions(
                _partition_checksum, meta={"a": float, "b": float}
            ).compute()
            times[workers] = time.perf_counter() - t
            cpus[workers] = cluster_cpu(client) - cpu0
        finally:
            client.close()
            cluster.close()
    print(
        f"(c) n={n}: 1 worker {times[1]:.1f} s ({cpus[1]:.1f} s CPU), "
        f"2 workers {times[2]:.1f} s ({cpus[2]:.1f} s CPU), "
        f"speed-up {times[1] / times[2]:.2f}"
    )


def part_d(n, dim, k, intrinsic, M=16, ef_construction=200):
    from sklearn.neighbors import NearestNeighbors

    from manigeo.graphs import knn_graph, knn_recall

    rng = np.random.default_rng(SEED)
    # points near a random `intrinsic`-dimensional subspace of R^dim
    Z = rng.normal(size=(n, intrinsic))
    X = Z @ rng.normal(size=(intrinsic, dim)) + 0.05 * rng.normal(size=(n, dim))
    t = time.perf_counter()
    nn = NearestNeighbors(n_neighbors=k + 1, n_jobs=2).fit(X)
    _, ind_exact = nn.kneighbors(X)
    t_exact = time.perf_counter() - t
    t = time.perf_counter()
    G = knn_graph(
        X,
        k,
        method="hnsw",
        symmetrize="none",
        M=M,
        ef_construction=ef_construction,
        random_state=0,
        n_jobs=2,
    )
    t_hnsw = time.perf_counter() - t
    ind = G.indices.reshape(n, k)  # the directed lists (k per row)
    recall = knn_recall(X, ind, n_queries=2000, random_state=0)
    exact_recall = knn_recall(X, ind_exact[:, 1:], n_queries=200, random_state=0)
    print(
        f"(d) n={n} points in {dim}-D (intrinsic dimension {intrinsic}), k={k}: "
        f"exact NearestNeighbors {t_exact:.1f} s, HNSW (M={M}, ef=max(2k, 50), "
        f"ef_construction={ef_construction}) {t_hnsw:.1f} s, exact/HNSW = "
        f"{t_exact / t_hnsw:.2f};"
        f" recall@{k} = {recall:.4f} (2000 queries; exact self-check "
        f"{exact_recall:.3f})"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="abcd")
    ap.add_argument("--n-a", type=int, default=100_000)
    ap.add_argument("--n-b", type=int, default=1_000_000)
    ap.add_argument("--memory-limit", default="600MB")
    ap.add_argument("--slabs", type=int, default=40)
    ap.add_argument("--n-c", type=int, default=400_000)
    ap.add_argument("--n-d", type=int, default=100_000)
    ap.add_argument("--dim-d", type=int, default=50)
    ap.add_argument("--intrinsic-d", type=int, default=10)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--M-d", type=int, default=16)
    ap.add_argument("--ef-construction-d", type=int, default=200)
    ap.add_argument("--local-child", nargs=2, type=int)
    args = ap.parse_args()
    if args.local_child:
        local_child(*args.local_child)
        return
    if "a" in args.parts:
        cluster, client = make_cluster(2, args.memory_limit)
        try:
            part_a(client, args.n_a)
        finally:
            client.close()
            cluster.close()
    if "b" in args.parts:
        part_b(args.n_b, args.memory_limit, args.slabs)
    if "c" in args.parts:
        part_c(args.n_c, "2GB", args.slabs)
    if "d" in args.parts:
        part_d(
            args.n_d,
            args.dim_d,
            args.k,
            args.intrinsic_d,
            M=args.M_d,
            ef_construction=args.ef_construction_d,
        )


if __name__ == "__main__":
    main()
