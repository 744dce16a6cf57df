"""torch backend: the masked product by wedge enumeration, on CPU or CUDA.

For a block of rows ``i``, every wedge ``i - z - j`` (``L[i, z] != 0``,
``R[j, z] != 0``) is expanded with ``repeat_interleave``; its key
``(i - start) * n + j`` is looked up by ``searchsorted`` among the sorted keys of
the mask's entries of those rows, and the hits are summed into the output with
``index_add_``.  Blocks are sized so that their wedges fit in a quarter of the
free device memory (see :mod:`._chunks`), so graphs far larger than the device
memory's share of ``n * k^2`` stay bounded.  When the product is symmetric and
the mask's pattern is too, wedges with ``j < i`` are dropped and the lower
triangle is filled from the upper one.

Integer counts are exact (float64 sums of ones); weighted sums are reduced with
``index_add_``, whose order on CUDA is not fixed, so they agree with the other
backends to rounding.
"""

import numpy as np

from ..._backend import import_torch


def _tensor(torch, a, device, dtype=None):
    return torch.as_tensor(np.ascontiguousarray(a), device=device, dtype=dtype)


class _Operands:
    """L (CSR) and R transposed (CSR) on the device."""

    def __init__(self, torch, L, RT, device, pair):
        i64, f64 = torch.int64, torch.float64
        self.n_cols = RT.shape[1]
        self.l_ptr = _tensor(torch, L.indptr, device, i64)
        self.l_idx = _tensor(torch, L.indices, device, i64)
        self.rt_ptr = _tensor(torch, RT.indptr, device, i64)
        self.rt_idx = _tensor(torch, RT.indices, device, i64)
        self._rt_keys = None
        self.pair = pair
        if not pair:
            self.l_val = _tensor(torch, L.data, device, f64)
            self.rt_val = _tensor(torch, RT.data, device, f64)
        self.device = device

    def rt_keys(self, torch):
        """Sorted keys ``z * n_cols + j`` of the entries of R^T (built once)."""
        if self._rt_keys is None:
            counts = self.rt_ptr[1:] - self.rt_ptr[:-1]
            rows = torch.repeat_interleave(
                torch.arange(len(counts), device=self.device),
                counts,
                output_size=len(self.rt_idx),
            )
            self._rt_keys = rows * self.n_cols + self.rt_idx
        return self._rt_keys

    def wedge_keys(self, torch, start, stop, upper_only):
        """Keys ``(i - start) * n_cols + j`` and values of the wedges of rows
        start:stop (values None for 0/1 counts).

        With ``upper_only`` only wedges with ``j >= i`` are generated: the
        columns of each row of R^T are sorted, so they form a suffix found by
        one binary search per ``(i, z)`` pair.
        """
        a0 = int(self.l_ptr[start])
        a1 = int(self.l_ptr[stop])
        dev = self.device
        n_cols = self.n_cols
        counts_l = self.l_ptr[start + 1 : stop + 1] - self.l_ptr[start:stop]
        rows_l = torch.repeat_interleave(
            torch.arange(start, stop, device=dev), counts_l, output_size=a1 - a0
        )
        z = self.l_idx[a0:a1]
        z_stop = self.rt_ptr[z + 1]
        if upper_only:
            z_start = torch.searchsorted(self.rt_keys(torch), z * n_cols + rows_l)
        else:
            z_start = self.rt_ptr[z]
        cnt = z_stop - z_start
        del z_stop
        total = int(cnt.sum()) if len(cnt) else 0
        if total == 0:
            return None, None
        first = torch.cumsum(cnt, 0) - cnt
        # position of each wedge in R^T: arange + (start of its run - its offset)
        jpos = torch.repeat_interleave(z_start - first, cnt, output_size=total)
        jpos += torch.arange(total, device=dev)
        del first, z_start
        keys = torch.repeat_interleave(
            (rows_l - start) * n_cols, cnt, output_size=total
        )
        keys += self.rt_idx[jpos]
        if self.pair:
            vals = None
        else:
            vals = torch.repeat_interleave(self.l_val[a0:a1], cnt, output_size=total)
            vals *= self.rt_val[jpos]
        return keys, vals


def _mask_keys(torch, m_ptr, m_idx, start, stop, n_cols, device):
    lo, hi = int(m_ptr[start]), int(m_ptr[stop])
    counts = m_ptr[start + 1 : stop + 1] - m_ptr[start:stop]
    rows = torch.repeat_interleave(
        torch.arange(stop - start, device=device), counts, output_size=hi - lo
    )
    return lo, hi, rows * n_cols + m_idx[lo:hi]


def masked_values(L, RT, M, blocks, *, device, pair, symmetric, transpose_perm=None):
    """Values of ``L @ RT`` at the entries of ``M``, as a float64 tensor on device.

    ``transpose_perm`` maps each entry of ``M`` to the position of its mirror
    (used when ``symmetric``; None: computed on the device by a sort).
    """
    torch = import_torch()
    ops = _Operands(torch, L, RT, device, pair)
    m_ptr = _tensor(torch, M.indptr, device, torch.int64)
    m_idx = _tensor(torch, M.indices, device, torch.int64)
    n_cols = M.shape[1]
    out = torch.zeros(M.nnz, dtype=torch.float64, device=device)
    for start, stop in blocks:
        lo, hi, keys_m = _mask_keys(torch, m_ptr, m_idx, start, stop, n_cols, device)
        if hi == lo:
            continue
        keys, vals = ops.wedge_keys(torch, start, stop, symmetric)
        if keys is None:
            continue
        pos = torch.searchsorted(keys_m, keys)
        pos.clamp_(max=hi - lo - 1)
        hit = keys_m[pos] == keys
        del keys
        pos = pos[hit] + lo
        if vals is None:
            vals = torch.ones(len(pos), dtype=torch.float64, device=device)
        else:
            vals = vals[hit]
        out.index_add_(0, pos, vals)
        del pos, vals, hit
    if symmetric:
        rows = torch.repeat_interleave(
            torch.arange(M.shape[0], device=device),
            m_ptr[1:] - m_ptr[:-1],
            output_size=M.nnz,
        )
        if transpose_perm is None:
            # symmetric pattern: sorting the entries by (col, row) lists them
            # in M's own order, so entry k's mirror is the k-th of that sort
            perm = torch.argsort(m_idx * M.shape[0] + rows)
        else:
            perm = _tensor(torch, transpose_perm, device, torch.int64)
        lower = rows > m_idx
        out[lower] = out[perm[lower]]
    return out


def full_product(L, RT, blocks, *, device, pair):
    """The whole ``L @ RT`` as ``(crow, col, values)`` int64/float64 tensors."""
    torch = import_torch()
    ops = _Operands(torch, L, RT, device, pair)
    n_rows, n_cols = L.shape[0], RT.shape[1]
    rows_all, cols_all, vals_all = [], [], []
    for start, stop in blocks:
        keys, vals = ops.wedge_keys(torch, start, stop, False)
        if keys is None:
            continue
        uniq, inverse = torch.unique(keys, sorted=True, return_inverse=True)
        del keys
        summed = torch.zeros(len(uniq), dtype=torch.float64, device=device)
        if vals is None:
            vals = torch.ones(len(inverse), dtype=torch.float64, device=device)
        summed.index_add_(0, inverse, vals)
        rows_all.append(uniq // n_cols + start)
        cols_all.append(uniq % n_cols)
        vals_all.append(summed)
    if rows_all:
        rows = torch.cat(rows_all)
        cols = torch.cat(cols_all)
        vals = torch.cat(vals_all)
    else:
        rows = cols = torch.empty(0, dtype=torch.int64, device=device)
        vals = torch.empty(0, dtype=torch.float64, device=device)
    crow = torch.zeros(n_rows + 1, dtype=torch.int64, device=device)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=n_rows), 0)
    return crow, cols, vals
