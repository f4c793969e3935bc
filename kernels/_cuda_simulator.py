"""A thread-safe ``cuda.shared.array`` for Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1).

The simulator runs every CUDA thread of a block as a Python thread. ``cuda.shared.array`` must
give all of them the *same* NumPy array, so Numba keeps one dict per launch, keyed by the source
line that asks, and does::

    res = allocations.get(line)
    if res is None:
        res = np.empty(shape, dtype)
        allocations[line] = res

The lookup and the insertion are not one atomic step. When Python switches threads between
them (rare, but the kernel tests shorten the switch interval to make the simulator fast), two
threads both find nothing and each creates its own array. Each then fills its part of "shared"
memory in its own private copy: the other threads never see those values and read whatever
bytes ``np.empty`` found there instead (a matrix product returned values like 1e30).

``install()`` replaces the method with one that does the lookup and the insertion under a
lock. It also fills a new shared array with NaN (floats) or the largest value of the dtype
(integers) instead of leaving ``np.empty``'s leftovers: a kernel that reads shared memory it
never wrote (an edge tile whose padding was not zeroed, a missing ``syncthreads``) then gives a
NaN, or an out-of-range index, every time, rather than garbage on some runs only. A real GPU
does not clear shared memory either, so no correct kernel depends on its initial contents.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

_lock = threading.Lock()


def _poisoned(shape, dtype) -> np.ndarray:
    """A new array whose every element is obviously "never written"."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return np.full(shape, np.nan, dtype)
    if dtype.kind in "iu":
        return np.full(shape, np.iinfo(dtype).max, dtype)
    return np.empty(shape, dtype)


def _shared_array(self, shape, dtype):
    """``cuda.shared.array(shape, dtype)``: one array per source line and launch, shared by
    every thread (the simulator's own rule), created under a lock."""
    from numba.core import types
    from numba.np import numpy_support

    if isinstance(dtype, types.Type):
        dtype = numpy_support.as_dtype(dtype)
    if shape == 0:                        # dynamic shared memory: one buffer, made per launch
        count = self._dynshared_size // dtype.itemsize
        return np.frombuffer(self._dynshared.data, dtype=dtype, count=count)
    caller = sys._getframe(1)             # the kernel line asking for the array
    line = (caller.f_code.co_filename, caller.f_lineno)
    with _lock:
        array = self._allocations.get(line)
        if array is None:
            array = _poisoned(shape, dtype)
            self._allocations[line] = array
    return array


def install() -> None:
    """Use ``_shared_array`` for ``cuda.shared.array`` in the simulator (idempotent)."""
    from numba.cuda.simulator import kernelapi

    kernelapi.FakeCUDAShared.array = _shared_array
