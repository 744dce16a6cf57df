"""SPD matrices: matrix functions, Riemannian metrics, Fréchet means, scalers.

Functions take numpy arrays or torch tensors (dispatch per call, torch stays on
its device and dtype); torch is imported only when a tensor is passed.

Metrics: ``"affine"`` (AIM), ``"logeuclid"`` (LEM), ``"logcholesky"`` (LCM),
``"bures-wasserstein"`` (BW), each with a power deformation ``theta`` and, for
AIM and LEM, the O(n)-invariant weights ``(alpha, beta)``.
"""

from manigeo.spd._functions import dispersion, distance, exp, geodesic, log, mean
from manigeo.spd._matfun import expm, invsqrtm, logm, powm, sqrtm
from manigeo.spd._metrics import METRICS, get_metric
from manigeo.spd._sliced import sliced_wasserstein, sliced_wasserstein_kernel
from manigeo.spd._transformers import SPDRecenter, SPDStandardScaler

__all__ = [
    "METRICS",
    "SPDRecenter",
    "SPDStandardScaler",
    "dispersion",
    "distance",
    "exp",
    "expm",
    "geodesic",
    "get_metric",
    "invsqrtm",
    "log",
    "logm",
    "mean",
    "powm",
    "sliced_wasserstein",
    "sliced_wasserstein_kernel",
    "sqrtm",
]
