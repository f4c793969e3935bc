"""Numba for the CPU kernels, set up once: every ``*_numba.py`` imports njit/prange from here.

Threading layer: OpenMP, one pool for everything. Numba's OpenMP workers spin for a moment
after each parallel loop, so the next loop starts in ~2.5 us; its "workqueue" layer puts them
to sleep and pays ~70-110 us to wake them at every parallel call, which a training step with a
dozen parallel kernels feels (a small CNN: 7-7.6 ms a step on OpenMP, 10.4-11 ms on
workqueue). Spinning threads are harmful only when a second pool spins on the same cores:
NumPy's OpenBLAS does, and the two fight whenever a step mixes NumPy products with Numba
kernels. So NumPy's BLAS is limited to one thread here (_blas_threads.py) and OpenMP is the one
pool, as it is in PyTorch. OpenMP is tried first, then workqueue (where Numba has no
OpenMP); setting NUMBA_THREADING_LAYER or NUMBA_THREADING_LAYER_PRIORITY yourself wins.
docs/design.md ("One thread pool") has the measurements.

SLP vectorizer. Numba compiles with LLVM's loop vectorizer on and its SLP vectorizer off (a
default chosen in 2023 after miscompilations, numba#8852). The packed GEMM's micro-kernels
(_gemm_tiles.py) need SLP: ``slp_vectorizer()`` switches it on for the compilations that
happen inside the block, and only those, and ``@compiled_with_slp`` puts every compilation of
a kernel that calls the tiles inside such a block. Their results are checked against NumPy
in the tests.
"""

from __future__ import annotations

import os
import threading

import numba
import numba.core.config
from numba import njit, prange

from ._blas_threads import limit_blas_threads
from ._numba_cache import clear_if_stale
from ._threads import ParallelKernel

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "default"            # the first of the priority list...
    if "NUMBA_THREADING_LAYER_PRIORITY" not in os.environ:
        numba.config.THREADING_LAYER_PRIORITY = ["omp", "workqueue", "tbb"]   # ...that loads

limit_blas_threads()        # one pool on the cores: see _blas_threads.py
clear_if_stale()            # no kernel compiled from older sources is reused: _numba_cache.py


def slp_vectorizer():
    """A block inside which Numba compiles with LLVM's SLP vectorizer on: call the kernels
    that need it inside, so their first call (which compiles them) happens there. Cheap
    enough (~0.3 us) to wrap every call rather than track what has been compiled."""
    return _SLPOn()


class _SLPOn:
    """Numba's setting is one per process, so with several Python threads it stays on while
    any thread is inside a block, and goes back to what it was when the last one leaves
    (saving and restoring it per block would let one thread switch it off under another)."""

    _lock = threading.Lock()
    _inside = 0
    _before = None

    def __enter__(self):
        with _SLPOn._lock:
            if _SLPOn._inside == 0:
                _SLPOn._before = numba.core.config.SLP_VECTORIZE
                numba.core.config.SLP_VECTORIZE = 1
            _SLPOn._inside += 1

    def __exit__(self, *exc):
        with _SLPOn._lock:
            _SLPOn._inside -= 1
            if _SLPOn._inside == 0:
                numba.core.config.SLP_VECTORIZE = _SLPOn._before


def compiled_with_slp(kernel):
    """``kernel`` (a Numba dispatcher or a ``parallel_njit`` pair) compiles with the SLP
    vectorizer on whoever calls it first, from inside a ``slp_vectorizer()`` block or not.

    Why not rely on the call sites' blocks: Numba's disk cache does not record the setting, so
    one compilation outside a block (a direct call from a test or a notebook) is cached
    and reused by every later process. For the LSTM sequence kernels such a build ran in its
    own process but crashed (SIGSEGV) when a later process loaded it from the cache."""
    for dispatcher in _dispatchers(kernel):
        compile_signature = dispatcher.compile

        def compile_with_slp(signature, _compile=compile_signature):
            with slp_vectorizer():
                return _compile(signature)

        dispatcher.compile = compile_with_slp       # Numba calls self.compile(signature)
    return kernel


def _dispatchers(kernel):
    if isinstance(kernel, ParallelKernel):
        return [kernel.parallel, kernel.serial]
    return [kernel]


def parallel_njit(**options):
    """``@njit(parallel=True, **options)``, plus a serial build of the same function that runs
    instead when the work is small (see kernels/_threads.py)."""
    return lambda function: ParallelKernel(function, njit, options)


__all__ = ["njit", "parallel_njit", "prange", "numba", "slp_vectorizer", "compiled_with_slp"]
