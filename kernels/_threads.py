"""Small work, and a machine whose cores other processes keep busy, run on one thread, through
a *serial* build of each parallel Numba kernel.

Every ``@parallel_njit`` kernel is compiled twice from one source: with ``parallel=True``
(``prange`` loops spread over Numba's threads) and without (``prange`` is a plain ``range``).
Which one runs is decided per call: below ``SMALL_WORK`` input elements, the serial build.
The parallel build runs on the cores other processes leave free (``kernels/_cpu_load.py``
measures them every quarter second): the serial build when one core or none is free, fewer
threads than Numba's count when some are busy.

Why two builds and not ``numba.set_num_threads(1)`` around the parallel one: entering a
``parallel=True`` function costs something even with one thread (the parallel runtime
schedules the loop either way): ~1.3 us on Numba's OpenMP layer, ~90 us on its workqueue
layer, on the 2-core machine this was written on, while the serial build of a (64, 10)
log_softmax runs in 3 us. For a 3x7 softmax or a 5x5 convolution that launch cost is many
times the arithmetic. (PyTorch does the same with a "grain size" per op.)

Python threads. Numba's OpenMP and TBB layers take parallel launches from several Python
threads at once; its workqueue layer (used where OpenMP is missing, or when asked for with
``NUMBA_THREADING_LAYER=workqueue``) aborts the whole process when a second thread launches a
parallel kernel while one runs. Until the first launch has shown which layer loaded, and for
good if it is workqueue, a parallel launch first takes ``_launch_lock`` without waiting; a
thread that finds it taken runs the serial build instead (the same numbers, on its own core).
"""

from __future__ import annotations

import contextlib
import threading
import types

from ._cpu_load import monitor as _load

# Elements of the inputs. With the OpenMP layer (kernels/_numba_cpu.py) a parallel launch is
# cheap, and 8192 elements is where the four benchmark training steps were fastest (medians of
# 15 steps, 3 rounds, ms): LSTM 5.1-5.5 at 2^17, 4.3-4.8 at 2^15, 4.0-4.5 at 2^13, 4.7-5.0
# at 2^11 (its per-step 32x128 @ 128x512 product: 69k elements); MLP 1.02-1.04, 0.87-0.99,
# 0.88-0.90, 0.89-0.91; the CNN and the transformer within noise (7.0-7.7, 7.1-7.9 ms).
# (On the workqueue layer the crossover was ~128k elements: softmax rows 187 vs 183 us at
# 131k, 2x2 max-pool 184 vs 236 us at 125k.)
SMALL_WORK = 1 << 13

class _State(threading.local):
    """Each thread's flag; the class attribute is every thread's starting value (a read of a
    missing attribute with a default would raise and catch an AttributeError on every call)."""

    serial = False


_state = _State()


def serial_requested() -> bool:
    return _state.serial


def build_for(work: int) -> str:
    """"serial" or "parallel": the build of a ``@parallel_njit`` kernel for ``work`` input
    elements, on the cores free now."""
    return "serial" if work < SMALL_WORK or _load.threads() <= 1 else "parallel"


@contextlib.contextmanager
def threads_for(work: int):
    """Run the block's ``@parallel_njit`` kernels serially if ``work`` is small."""
    previous = serial_requested()
    _state.serial = build_for(work) == "serial"
    try:
        yield
    finally:
        _state.serial = previous


def call_sized(work: int, function, args):
    """``function(*args)`` as inside ``with threads_for(work):``, without building a context
    manager: a generator-based ``with`` block costs a few microseconds, as much as a small
    kernel, and ops.py runs every Numba kernel call through this."""
    previous = _state.serial
    _state.serial = build_for(work) == "serial"
    try:
        return function(*args)
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
        if _state.serial:                       # serial_requested(), inlined: called per kernel
            return self.serial(*args)
        threads = _load.threads()
        if threads <= 1:
            return self.serial(*args)
        if _layer_threadsafe and threads >= _pool_size():
            return self.parallel(*args)
        return launch(lambda: self.parallel(*args), lambda: self.serial(*args))


_launch_lock = threading.Lock()
_layer_threadsafe = False      # True once a launch has shown Numba's layer is OpenMP or TBB


def launch(parallel, serial):
    """``parallel()``, or ``serial()`` while another thread holds the parallel runtime of a
    layer that can't share it (see the module docstring). Both are zero-argument callables
    running the same kernel's two builds."""
    global _layer_threadsafe
    threads = _load.threads()
    if threads <= 1:
        return serial()
    if _layer_threadsafe:
        return _on_threads(threads, parallel)
    if not _launch_lock.acquire(blocking=False):
        return serial()
    try:
        return _on_threads(threads, parallel)
    finally:
        _launch_lock.release()
        _layer_threadsafe = _threadsafe_layer_loaded()


_POOL = []


def _pool_size() -> int:
    """Numba's thread count for the process (``NUMBA_NUM_THREADS``), read once."""
    if not _POOL:
        import numba
        _POOL.append(numba.config.NUMBA_NUM_THREADS)
    return _POOL[0]


def _on_threads(threads, parallel):
    """``parallel()`` on at most ``threads`` of Numba's threads. Numba's count is per Python
    thread (``numba.set_num_threads``): lowered for this launch only, and only when it is
    above ``threads`` (a user's own lower setting stands)."""
    if threads >= _pool_size():
        return parallel()
    import numba
    before = numba.get_num_threads()
    if threads >= before:
        return parallel()
    numba.set_num_threads(threads)
    try:
        return parallel()
    finally:
        numba.set_num_threads(before)


def _threadsafe_layer_loaded() -> bool:
    import numba
    try:
        return numba.threading_layer() in ("omp", "tbb")
    except ValueError:          # no parallel kernel has run yet: the layer is not loaded
        return False


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
