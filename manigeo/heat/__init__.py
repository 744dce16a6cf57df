"""Heat kernel operators on sparse graph Laplacians.

:func:`heat_kernel` applies ``exp(-t L)`` to indicator vectors or a block by
Chebyshev polynomial filtering (several times in one sweep, with an a-priori
truncation bound); :func:`heat_kernel_exact` is the SciPy ``expm_multiply``
reference; :func:`heat_doubling` gives dense kernels at ``t, 2t, 4t, ...`` by
uniformization and repeated squaring (entrywise relative accuracy).
"""

from ._chebyshev import (
    chebyshev_coefficients,
    chebyshev_order,
    heat_kernel,
    heat_kernel_exact,
    spectrum_bound,
)
from ._squaring import heat_doubling

__all__ = [
    "chebyshev_coefficients",
    "chebyshev_order",
    "heat_kernel",
    "heat_doubling",
    "heat_kernel_exact",
    "spectrum_bound",
]
