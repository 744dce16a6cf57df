"""Heat kernels on graphs and heat-geodesic distances.

:func:`heat_kernel` applies ``exp(-t L)`` to indicator vectors or a block by
Chebyshev polynomial filtering (several times in one sweep, with an a-priori
truncation bound); :func:`heat_kernel_exact` is the SciPy ``expm_multiply``
reference; :func:`heat_doubling` gives dense kernels at ``t, 2t, 4t, ...`` by
uniformization and repeated squaring and :func:`heat_columns` columns of the
kernel by the positive uniformized series (both entrywise relative accuracy).

:func:`heat_geodesic_distances` and :class:`HeatGeodesicDistance` turn the heat
kernel of a density-normalized kernel graph into Varadhan-style geodesic
distances (Huguet et al., NeurIPS 2023).
"""

from ._chebyshev import (
    chebyshev_coefficients,
    chebyshev_order,
    heat_kernel,
    heat_kernel_exact,
    spectrum_bound,
)
from ._estimator import HeatGeodesicDistance
from ._geodesic import (
    farthest_points,
    heat_affinity,
    heat_geodesic_distances,
    varadhan_distance,
)
from ._squaring import heat_columns, heat_doubling, poisson_terms

__all__ = [
    "HeatGeodesicDistance",
    "chebyshev_coefficients",
    "chebyshev_order",
    "farthest_points",
    "heat_affinity",
    "heat_columns",
    "heat_doubling",
    "heat_geodesic_distances",
    "heat_kernel",
    "heat_kernel_exact",
    "poisson_terms",
    "spectrum_bound",
    "varadhan_distance",
]
