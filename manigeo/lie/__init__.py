"""Lie groups (through geomstats): normalization of rotation / rigid-motion data.

``LieGroupStandardScaler`` centres a set of group elements at the identity by
left-translating with the inverse of their mean, and rescales their spread in
the Lie algebra.
"""

from manigeo.lie._scaler import LieGroupStandardScaler

__all__ = ["LieGroupStandardScaler"]
