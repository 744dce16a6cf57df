"""Row blocks for the chunked backends, sized from the free memory of a device.

The work of a masked product ``L @ R.T`` is counted in *wedges*: one wedge per
path ``i - z - j`` with ``L[i, z] != 0`` and ``R[j, z] != 0``.  Row ``i`` has
``sum_{z in N_L(i)} deg_R(z)`` wedges, and the memory a backend needs for a row
block is proportional to the wedges of its rows (the SciPy block product has at
most that many entries, the torch backend materializes them).
"""

import numpy as np

#: Bytes per wedge the torch backend holds at its peak (about ten 8-byte arrays).
BYTES_PER_WEDGE = 96
#: Never plan to use more host memory than this for one block on a CPU.
MAX_CPU_BLOCK_BYTES = 1 << 30
#: On a CPU, blocks of at most this many wedges keep the mask keys of a block in
#: cache for the binary searches (bigger blocks were slower, not faster).
MAX_CPU_BLOCK_WEDGES = 1 << 21
#: Fallback when the free memory cannot be read.
DEFAULT_CPU_BLOCK_BYTES = 256 << 20


def wedges_per_row(L, RT):
    """Number of wedges of each row of ``L @ R.T`` (``RT`` is R transposed, CSR)."""
    deg_rt = np.diff(RT.indptr).astype(np.int64)
    if L.nnz == 0:
        return np.zeros(L.shape[0], dtype=np.int64)
    per_entry = deg_rt[L.indices]
    cum = np.concatenate([[0], np.cumsum(per_entry)])
    return cum[L.indptr[1:]] - cum[L.indptr[:-1]]


def available_host_bytes():
    """``MemAvailable`` from /proc/meminfo (Linux), or None when unreadable."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):  # pragma: no cover - non-Linux
        return None
    return None  # pragma: no cover


def block_budget_bytes(device=None):
    """Bytes one row block may use on ``device`` (a torch.device or None = host).

    CUDA: a quarter of the free device memory (``torch.cuda.mem_get_info``).
    Host: an eighth of the available memory, capped at 1 GiB (the machine is
    shared with the caller's other arrays).
    """
    if device is not None and getattr(device, "type", "cpu") == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return max(int(free) // 4, 1 << 20)
    avail = available_host_bytes()
    if avail is None:  # pragma: no cover
        return DEFAULT_CPU_BLOCK_BYTES
    return int(min(max(avail // 8, 16 << 20), MAX_CPU_BLOCK_BYTES))


def max_block_wedges(device=None):
    """Wedges per row block: from the free memory, and cache-sized on a CPU."""
    budget = block_budget_bytes(device) // BYTES_PER_WEDGE
    if device is None or getattr(device, "type", "cpu") != "cuda":
        budget = min(budget, MAX_CPU_BLOCK_WEDGES)
    return max(int(budget), 1)


def row_blocks(work, *, chunk_size=None, max_work=None):
    """Split rows ``0..n`` into consecutive blocks ``[(start, stop), ...]``.

    With ``chunk_size`` every block has that many rows (the last one fewer).
    Otherwise blocks are as long as possible with at most ``max_work`` wedges
    (a single row heavier than that forms its own block).
    """
    n = len(work)
    if n == 0:
        return []
    if chunk_size is not None:
        return [(s, min(n, s + chunk_size)) for s in range(0, n, chunk_size)]
    cum = np.cumsum(work, dtype=np.int64)
    blocks = []
    start = 0
    done = 0
    while start < n:
        stop = int(np.searchsorted(cum, done + max_work, side="right"))
        stop = min(max(stop, start + 1), n)
        blocks.append((start, stop))
        done = int(cum[stop - 1])
        start = stop
    return blocks
