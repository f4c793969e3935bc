"""Numba for the CPU kernels, set up once: every ``*_numba.py`` imports njit/prange from here.

Threading layer. Numba's default on Linux is OpenMP, whose worker threads keep spinning for a
while after each parallel loop. NumPy's OpenBLAS spins too. On a 2-core machine the two pools
then fight: a 32x128 @ 128x512 matmul measured 15 ms instead of 30 us right after a parallel
softmax. Numba's own "workqueue" layer puts its threads to sleep, which removes the fight
(measured: 27-36 us). Set NUMBA_THREADING_LAYER yourself to choose another layer.

SLP vectorizer. Numba compiles with LLVM's loop vectorizer on and its SLP vectorizer off (a
default chosen in 2023 after miscompilations, numba#8852). The packed GEMM's micro-kernels
(_gemm_tiles.py) need SLP: ``slp_vectorizer()`` switches it on for the compilations that
happen inside the block, and only those. Their results are checked against NumPy in the tests.
"""

from __future__ import annotations

import os

import numba
import numba.core.config
from numba import njit, prange

from ._threads import ParallelKernel

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"


def slp_vectorizer():
    """A block inside which Numba compiles with LLVM's SLP vectorizer on: call the kernels
    that need it inside, so their first call (which compiles them) happens there. Cheap
    enough (~0.3 us) to wrap every call rather than track what has been compiled."""
    return _SLPOn()


class _SLPOn:
    def __enter__(self):
        self.previous = numba.core.config.SLP_VECTORIZE
        numba.core.config.SLP_VECTORIZE = 1

    def __exit__(self, *exc):
        numba.core.config.SLP_VECTORIZE = self.previous


def parallel_njit(**options):
    """``@njit(parallel=True, **options)``, plus a serial build of the same function that runs
    instead when the work is small (see kernels/_threads.py)."""
    return lambda function: ParallelKernel(function, njit, options)


__all__ = ["njit", "parallel_njit", "prange", "numba", "slp_vectorizer"]
