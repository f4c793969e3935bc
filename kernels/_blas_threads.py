"""One thread pool: NumPy's BLAS runs on the calling thread once minigrad's kernels are loaded.

minigrad's parallel kernels run on Numba's OpenMP pool, whose workers spin for a moment after
each parallel loop so that the next loop starts in microseconds. NumPy's OpenBLAS keeps a pool
of its own, whose workers also spin after each product. With both pools on the same cores,
every switch from one to the other waits for the scheduler to take a spinning thread off a
core: on the 2-core VM a Numba softmax of a (2048, 64) array followed by a (256, 64) @ (64, 128)
NumPy product took 7.0 ms a pair (median of 50) with OpenBLAS on 2 threads, 0.15 ms with
OpenBLAS on 1 (each alone: 0.12 ms and 0.03 ms). A training step calls both kinds of kernel
dozens of times (the dispatcher picks NumPy or Numba per shape, ``autotune.py``), so the fight
made whole chapters ten times slower.

So when the Numba kernels are loaded, NumPy's BLAS is limited to one thread (through
threadpoolctl, which knows OpenBLAS, MKL and BLIS by their many names), and the cores' only
pool is Numba's: PyTorch does the same with one OpenMP pool for everything. Large products
still use every core, on the Numba GEMM where the measured choice says it is faster.

``MINIGRAD_BLAS_THREADS`` changes this: ``keep`` leaves NumPy's BLAS as it is (for a program
that mostly runs its own large NumPy products), a whole number N gives it N threads. It also
applies to your own NumPy code in the same process, which then runs its products on one
thread by default.
"""

from __future__ import annotations

import os
import warnings

ENV_VAR = "MINIGRAD_BLAS_THREADS"
DEFAULT = "1"


def requested_threads(setting: str | None = None) -> int | None:
    """The BLAS thread count ``MINIGRAD_BLAS_THREADS`` asks for, or None for ``keep``."""
    text = (os.environ.get(ENV_VAR, DEFAULT) if setting is None else setting).strip().lower()
    if text == "keep":
        return None
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{ENV_VAR}={text!r}: expected 'keep' or a whole number of threads "
                         "of at least 1")
    return threads


def limit_blas_threads(setting: str | None = None) -> int | None:
    """Give NumPy's BLAS the thread count ``MINIGRAD_BLAS_THREADS`` asks for; returns it, or
    None when the setting is ``keep`` or threadpoolctl is not installed (then nothing
    changes)."""
    threads = requested_threads(setting)
    if threads is None:
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:       # a dependency of minigrad's; only a broken install lacks it
        warnings.warn("threadpoolctl is not installed: NumPy's BLAS threads and minigrad's "
                      "Numba threads may fight over the cores (see kernels/_blas_threads.py)",
                      RuntimeWarning, stacklevel=2)
        return None
    threadpool_limits(limits=threads, user_api="blas")
    return threads
