"""How many CPU threads a Numba kernel gets: one, when the work is too small to share.

Waking a second thread and joining it again costs tens of microseconds, more on a busy
machine. For a 3x7 softmax or a 5x5 convolution that is many times the arithmetic, so below
``SMALL_WORK`` elements a ``parallel=True`` kernel runs its loop on the calling thread alone.
(PyTorch does the same with a "grain size" per op.)
"""

from __future__ import annotations

import contextlib

SMALL_WORK = 1 << 15  # elements touched; ~32k floats: below this one thread is faster


@contextlib.contextmanager
def threads_for(work: int):
    """Run the block with all Numba threads if ``work`` is large, with one thread if small."""
    if work >= SMALL_WORK:
        yield
        return
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
