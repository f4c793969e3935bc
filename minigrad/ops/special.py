"""Special functions NumPy lacks: erf (for the exact GELU) and erfc.

NumPy has no ``erf`` or ``erfc``. Python's ``math.erf``/``math.erfc`` are exact but work on one
number at a time, so we compile them into NumPy ufuncs with Numba (lazily, on first use, and
cached on disk). On the GPU, CuPy ships ``cupyx.scipy.special.erf`` and ``erfc``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import backend


@functools.lru_cache(maxsize=None)
def _numba_erf():
    import numba

    @numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)
    def erf_ufunc(x):
        return math.erf(x)

    return erf_ufunc


def erf_array(x):
    """erf of every element of a NumPy or CuPy array, in the array's dtype."""
    xp = backend.array_module(x)
    if xp is not np:
        import cupyx.scipy.special
        return cupyx.scipy.special.erf(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    return _numba_erf()(x)


@functools.lru_cache(maxsize=None)
def _numba_erfc():
    import numba

    @numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)
    def erfc_ufunc(x):
        return math.erfc(x)

    return erfc_ufunc


def erfc_array(x):
    """erfc = 1 - erf of every element, computed directly (accurate where erf is near 1)."""
    xp = backend.array_module(x)
    if xp is not np:
        import cupyx.scipy.special
        return cupyx.scipy.special.erfc(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    return _numba_erfc()(x)
