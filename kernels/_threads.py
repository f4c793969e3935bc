"""Small work runs on one thread, through a *serial* build of each parallel Numba kernel.

Every ``@parallel_njit`` kernel is compiled twice from one source: with ``parallel=True``
(``prange`` loops spread over Numba's threads) and without (``prange`` is a plain ``range``).
Which one runs is decided per call: below ``SMALL_WORK`` input elements, the serial build.

Why two builds and not ``numba.set_num_threads(1)`` around the parallel one: entering a
``parallel=True`` function costs ~90 us on the 2-core machine this was written on even with
one thread (the parallel runtime schedules the loop either way), while the serial build of the
same (64, 10) log_softmax runs in 3 us. For a 3x7 softmax or a 5x5 convolution that launch
cost is many times the arithmetic. (PyTorch does the same with a "grain size" per op.)
"""

from __future__ import annotations

import contextlib
import threading
import types

# Elements of the inputs. Measured crossover on 2 cores (serial vs parallel build): softmax
# rows 187 vs 183 us at 131k elements, 373 vs 282 us at 262k; 2x2 max-pool 184 vs 236 us at
# 125k, 361 vs 374 us at 251k. Below 128k elements the ~110 us launch is not paid back.
SMALL_WORK = 1 << 17

_state = threading.local()


def serial_requested() -> bool:
    return getattr(_state, "serial", False)


@contextlib.contextmanager
def threads_for(work: int):
    """Run the block's ``@parallel_njit`` kernels serially if ``work`` is small."""
    previous = serial_requested()
    _state.serial = work < SMALL_WORK
    try:
        yield
    finally:
        _state.serial = previous


class ParallelKernel:
    """A Numba kernel compiled twice, ``parallel=True`` and serial; calls pick one.

    ``.parallel`` and ``.serial`` are the two Numba dispatchers. Call it from Python only
    (Numba code cannot call this object; it can call either dispatcher).
    """

    def __init__(self, function, njit, options):
        self.__wrapped__ = function
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__
        self.parallel = njit(parallel=True, **options)(function)
        self.serial = njit(**options)(_renamed_copy(function, "_serial"))

    def __call__(self, *args):
        return (self.serial if serial_requested() else self.parallel)(*args)


def _renamed_copy(function, suffix):
    """The same function under another name: Numba's on-disk cache is keyed by the function's
    qualified name, so the serial build must not share the parallel build's cache entry."""
    copy = types.FunctionType(function.__code__, function.__globals__,
                              function.__name__ + suffix, function.__defaults__,
                              function.__closure__)
    copy.__qualname__ = function.__qualname__ + suffix
    copy.__module__ = function.__module__
    copy.__doc__ = function.__doc__
    return copy
