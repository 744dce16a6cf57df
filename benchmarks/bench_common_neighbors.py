"""Benchmark: common-neighbour counts on the edges of a kNN graph.

Times ``manigeo.graphs.common_neighbors(A, mask="edges")`` with each backend
against two peers run on the same graph:

* ``scipy_peer``: plain SciPy ``(A @ A.T).multiply(A)`` (forms the full A A^T;
  note that it also drops the edges with zero count),
* ``graphblas_peer``: hand-written python-graphblas masked SpGEMM
  ``G.mxm(G.T, plus_pair).new(mask=G.S)`` (only the ``mxm`` is timed, not the
  conversion from SciPy, which favours the peer).

Graphs: ``n`` points uniform on the sphere S^3 in R^4, symmetrized (union) kNN
graph with ``k`` neighbours (k=16 gives a mean degree of about 18).  Each method
runs in its own subprocess so that its peak resident memory (which sees the
C/C++ allocations tracemalloc misses) can be measured: the reported peak is the
growth of the resident set over its level after loading the graph (the
kernel's peak counter VmHWM is reset first through /proc/self/clear_refs).  On
CUDA the peak is ``torch.cuda.max_memory_allocated``.  The minimum wall time
over ``--repeat`` runs is reported, with ratios against both peers (ratio > 1:
manigeo is faster).

Usage::

    python benchmarks/bench_common_neighbors.py                    # n = 1e5, 1e6
    python benchmarks/bench_common_neighbors.py --sizes 200000 --repeat 3
    python benchmarks/bench_common_neighbors.py --sizes 1000000 10000000 \\
        --device cuda --methods torch graphblas graphblas_peer     # on a GPU

``--sizes 10000000`` is meant for a GPU machine (the kNN graph alone takes
minutes to build and ~3 GB; the CPU backends need minutes).  Methods whose
subprocess exceeds ``--timeout`` seconds are reported as such.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

METHODS = ("auto", "graphblas", "scipy", "torch", "graphblas_peer", "scipy_peer")


def knn_sphere_graph(n, k, seed, cache_dir):
    """Symmetric 0/1 kNN graph of n uniform points on S^3 (cached as .npz)."""
    path = os.path.join(cache_dir, f"knn_s3_n{n}_k{k}_seed{seed}.npz")
    if os.path.exists(path):
        return sp.csr_array(sp.load_npz(path)), path
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    _, ind = cKDTree(X).query(X, k + 1, workers=-1)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    cols = ind[:, 1:].ravel()
    A = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n, n))
    A = sp.csr_array(A.maximum(A.T))
    A.sort_indices()
    sp.save_npz(path, A)
    return A, path


def _status_bytes(field):
    """A ``Vm*`` line of /proc/self/status in bytes (Linux), or None."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover
        return None
    return None


def _reset_peak():
    """Reset the kernel's peak-RSS counter (VmHWM); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:  # pragma: no cover
        return False


def _peak_since(base_rss, reset):
    """Peak resident memory above ``base_rss`` since the last reset."""
    if reset:
        peak = _status_bytes("VmHWM")
    else:  # ru_maxrss: peak over the process life (KiB on Linux)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return max(peak - base_rss, 0)


def worker(method, path, repeat, device, chunk_size):
    """Run one method in this process; print a JSON line with the figures."""
    sys.path.insert(0, ROOT)
    A = sp.csr_array(sp.load_npz(path))
    A.sort_indices()
    import graphblas as gb

    from manigeo.graphs import common_neighbors

    use_cuda = device is not None and device.startswith("cuda")
    if use_cuda:
        import torch

    if method == "scipy_peer":

        def run():
            return sp.csr_array((A @ A.T).multiply(A))
    elif method == "graphblas_peer":
        G = gb.io.from_scipy_sparse(A)

        def run():
            return G.mxm(G.T, gb.semiring.plus_pair).new(mask=G.S)
    else:

        def run():
            C = common_neighbors(
                A, mask="edges", backend=method, device=device, chunk_size=chunk_size
            )
            if use_cuda:
                torch.cuda.synchronize()
            return C

    reset = _reset_peak()
    base = _status_bytes("VmRSS") or 0
    if use_cuda:
        torch.cuda.reset_peak_memory_stats()
        gpu_base = torch.cuda.memory_allocated()
    times = []
    out = None
    for _ in range(repeat):
        out = None
        t0 = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t0)
    peak = _peak_since(base, reset)
    if isinstance(out, gb.Matrix):
        total, nnz = float(out.reduce_scalar().value or 0), out.nvals
    else:
        total, nnz = float(out.sum()), int(out.nnz)
    res = {
        "method": method,
        "time": min(times),
        "times": times,
        "peak": peak,
        "checksum": total,
        "out_nnz": nnz,
    }
    if use_cuda:
        res["gpu_peak"] = torch.cuda.max_memory_allocated() - gpu_base
    print("RESULT " + json.dumps(res))


def run_method(method, path, args):
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        method,
        "--graph",
        path,
        "--repeat",
        str(args.repeat),
    ]
    if args.device:
        cmd += ["--device", args.device]
    if args.chunk_size:
        cmd += ["--chunk-size", str(args.chunk_size)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=args.timeout, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"method": method, "error": f"timeout > {args.timeout} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    err = (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return {"method": method, "error": err[:100]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=["auto", "graphblas", "scipy", "torch", "graphblas_peer", "scipy_peer"],
    )
    parser.add_argument(
        "--device", default=None, help="device for the torch backend (cpu, cuda)"
    )
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds per method and size"
    )
    parser.add_argument(
        "--scipy-peer-max-n",
        type=int,
        default=2_000_000,
        help="skip plain SciPy above this n (it forms A A^T: about 4 GB at n=1e6)",
    )
    parser.add_argument(
        "--cache-dir", default=os.path.join(tempfile.gettempdir(), "manigeo_bench")
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--graph", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        worker(args.worker, args.graph, args.repeat, args.device, args.chunk_size)
        return

    os.makedirs(args.cache_dir, exist_ok=True)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} (timings are wall clock)"
    )
    for n in args.sizes:
        t0 = time.perf_counter()
        A, path = knn_sphere_graph(n, args.k, args.seed, args.cache_dir)
        print(
            f"\nn = {n:,}, k = {args.k}: {A.nnz:,} stored edges, mean degree "
            f"{A.nnz / n:.1f} (graph ready in {time.perf_counter() - t0:.1f} s)"
        )
        results = []
        for method in args.methods:
            if method == "scipy_peer" and n > args.scipy_peer_max_n:
                results.append(
                    {"method": method, "error": "skipped (--scipy-peer-max-n)"}
                )
                continue
            results.append(run_method(method, path, args))
        ref = {r["method"]: r for r in results if "error" not in r}
        print(
            f"{'method':<16}{'time [s]':>10}{'peak [MB]':>11}{'vs GB peer':>12}"
            f"{'vs SciPy':>10}{'checksum':>14}{'out nnz':>12}"
        )
        for r in results:
            if "error" in r:
                print(f"{r['method']:<16}  {r['error']}")
                continue
            ratios = []
            for peer in ("graphblas_peer", "scipy_peer"):
                ratios.append(
                    f"{ref[peer]['time'] / r['time']:.2f}x" if peer in ref else "-"
                )
            peak = r["peak"] / 2**20
            if "gpu_peak" in r:
                peak = r["gpu_peak"] / 2**20
            print(
                f"{r['method']:<16}{r['time']:>10.3f}{peak:>11.0f}{ratios[0]:>12}"
                f"{ratios[1]:>10}{r['checksum']:>14.0f}{r['out_nnz']:>12,}"
            )
        print(
            "(ratios: peer time / method time; > 1 means faster than the peer. "
            "scipy_peer drops zero counts, hence its smaller out nnz)"
        )


if __name__ == "__main__":
    main()
