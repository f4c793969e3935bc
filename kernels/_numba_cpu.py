"""Numba for the CPU kernels, set up once: every ``*_numba.py`` imports njit/prange from here.

Threading layer. Numba's default on Linux is OpenMP, whose worker threads keep spinning for a
while after each parallel loop. NumPy's OpenBLAS spins too. On a 2-core machine the two pools
then fight: a 32x128 @ 128x512 matmul measured 15 ms instead of 30 us right after a parallel
softmax. Numba's own "workqueue" layer puts its threads to sleep, which removes the fight
(measured: 27-36 us). Set NUMBA_THREADING_LAYER yourself to choose another layer.
"""

from __future__ import annotations

import os

import numba
from numba import njit, prange

from ._threads import ParallelKernel

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"


def parallel_njit(**options):
    """``@njit(parallel=True, **options)``, plus a serial build of the same function that runs
    instead when the work is small (see kernels/_threads.py)."""
    return lambda function: ParallelKernel(function, njit, options)


__all__ = ["njit", "parallel_njit", "prange", "numba"]
