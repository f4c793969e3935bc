"""Where arrays live, and whether CUDA kernels can run here.

The kernels accept two kinds of arrays: ``numpy.ndarray`` (CPU) and ``cupy.ndarray`` (GPU).
This module answers three questions for the rest of ``kernels/``:

* ``array_module(*arrays)``: ``numpy`` or ``cupy``, so that one piece of code (the NumPy
  reference) runs on both devices: ``xp = array_module(x); xp.exp(x)``.
* ``device_of(*arrays)``: ``"cpu"`` or ``"cuda"``; mixing the two is an error.
* ``real_gpu_available()`` / ``cuda_simulator_enabled()``: can the ``"cuda"`` kernels run, and on
  what? A *real* GPU is detected through CuPy, never through ``numba.cuda.is_available()``:
  that one is True under the simulator (``NUMBA_ENABLE_CUDASIM=1``), where no GPU exists and the
  "device memory" is ordinary host memory holding NumPy arrays.

CuPy is optional and imported lazily (most machines have no GPU); so is Numba.
"""

from __future__ import annotations

import functools
import os
import sys

import numpy as np


@functools.lru_cache(maxsize=None)
def cupy_module():
    """The ``cupy`` module if it imports, else None (no GPU needed for the import itself)."""
    try:
        import cupy
    except Exception:  # ImportError, or a broken CUDA install raising something else
        return None
    return cupy


@functools.lru_cache(maxsize=None)
def real_gpu_available() -> bool:
    """True when CuPy imports and at least one CUDA device answers."""
    cupy = cupy_module()
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device, ...
        return False


def cuda_simulator_enabled() -> bool:
    """True when Numba's CUDA simulator replaces ``numba.cuda`` in this process.

    Numba reads ``NUMBA_ENABLE_CUDASIM`` once, when it is first imported. If Numba is already
    imported we ask it; otherwise we read the variable the same way Numba will (an int, 0 = off).
    """
    numba = sys.modules.get("numba")
    if numba is not None and hasattr(numba, "config"):
        return bool(numba.config.ENABLE_CUDASIM)
    try:
        return int(os.environ.get("NUMBA_ENABLE_CUDASIM", "0") or "0") != 0
    except ValueError:
        return False


def is_cupy_array(array) -> bool:
    cupy = cupy_module() if "cupy" in sys.modules else None  # no array can be CuPy otherwise
    return cupy is not None and isinstance(array, cupy.ndarray)


def array_module(*arrays):
    """``cupy`` if any of the arrays is a CuPy array, else ``numpy``."""
    for a in arrays:
        if is_cupy_array(a):
            return cupy_module()
    return np


def device_of(op: str, *arrays) -> str:
    """``"cpu"`` if all arrays are NumPy arrays, ``"cuda"`` if all are CuPy arrays.

    Anything else (lists, a mix of devices) is an error naming the op: kernels never copy
    between devices behind the caller's back.
    """
    for a in arrays:
        if type(a) is not np.ndarray:
            break
    else:
        return "cpu"            # the usual case: plain NumPy arrays (or none at all)
    kinds = set()
    for a in arrays:
        if is_cupy_array(a):
            kinds.add("cuda")
        elif isinstance(a, np.ndarray):
            kinds.add("cpu")
        else:
            raise TypeError(
                f"kernels.{op}: expected numpy.ndarray or cupy.ndarray arguments, "
                f"got {type(a).__module__}.{type(a).__name__}"
            )
    if len(kinds) > 1:
        raise ValueError(
            f"kernels.{op}: arguments live on different devices (some NumPy, some CuPy); "
            "move them to one device first"
        )
    return kinds.pop() if kinds else "cpu"
