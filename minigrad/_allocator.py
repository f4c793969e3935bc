"""Keep freed array memory for reuse: glibc's malloc, tuned once, on minigrad's first kernel call.

A training step allocates the same arrays every time: activations, their gradients, the
convolution's padded copies, a few MB each. By default glibc's malloc hands blocks above a
moving threshold (128 KiB up to 32 MiB) straight back to the operating system when they are
freed (``munmap``, or trimming the top of the heap), so the next step's arrays come from
fresh pages, and the kernel must fault in and zero every page again before NumPy can write
to it. That page-fault cost belongs to no line of our code, yet on the 2-core CI VM it was a
third of a small CNN's training step: 17-18 ms a step with glibc's defaults, 11.7-12.0 ms
with the tuning below (same process, same code; ``benchmarks/train_step.py``).

The tuning, with glibc's ``mallopt``:

* ``M_MMAP_THRESHOLD`` = 32 MiB (glibc's maximum): arrays below it come from the heap, and a
  freed block is reused by the next allocation instead of going back to the system;
* ``M_TRIM_THRESHOLD`` = 256 MiB: up to that much free memory at the top of the heap is kept
  rather than returned.

The price is memory: the process keeps what its largest step used (it would need it again
next step anyway), up to 256 MiB of it free. Arrays of 32 MiB and more are unaffected. This is
the same advice PyTorch's CPU performance guide gives (there via jemalloc/tcmalloc). It
changes the C library's behaviour for the whole process, so ``import minigrad`` alone does not
do it: the first call of one of minigrad's kernels (a matrix product, a convolution, a
softmax: ``ops/kernel_calls.py``) does, the moment minigrad starts doing the work the tuning
is for. It is skipped when you already
set glibc's own ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` variables, and you can
switch it off with ``MINIGRAD_MALLOC=default``. Off Linux/glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1          # glibc's malloc.h parameter numbers
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20      # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 256 << 20
ENV_VAR = "MINIGRAD_MALLOC"
_GLIBC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def tune_malloc() -> bool:
    """Apply the tuning described above; True if glibc accepted it."""
    if os.environ.get(ENV_VAR, "").strip().lower() in ("default", "0", "off"):
        return False
    if not sys.platform.startswith("linux") or any(v in os.environ for v in _GLIBC_VARS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt      # the C library this process already uses
    except (OSError, AttributeError):            # not glibc (musl, ...): leave it alone
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


TUNED = None   # None: not tried yet; then what tune_malloc() returned


def tune_once() -> bool:
    """``tune_malloc()`` the first time, its answer after that."""
    global TUNED
    if TUNED is None:
        TUNED = tune_malloc()
    return TUNED
