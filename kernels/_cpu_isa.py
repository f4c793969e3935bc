"""How wide the vector registers are in the code Numba compiles: 512, 256 or 128 bits.

The packed GEMM's register tiles (_make_gemm_tiles.py, gemm_packed_numba.py) are sized in
vector registers, so their width must follow the CPU the code is compiled *for*. That is
Numba's target, not always the host: ``NUMBA_CPU_NAME`` and ``NUMBA_CPU_FEATURES`` replace
the host's name and feature list (``NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES=+avx2,+fma``
makes AVX2 code on an AVX-512 machine; the name alone does not, because the feature list,
which still holds the host's +avx512f, wins). And a CPU with AVX-512 does not always get
512-bit vectors: LLVM tunes some Intel ones (skylake-avx512, icelake-server...) to prefer
256-bit vectors, and vectorises for them with ymm registers.

Rather than reproduce those rules from names and feature strings, ``vector_bits`` asks LLVM:
it compiles a three-line loop with Numba's own settings and reads which registers the
machine code uses (zmm: 512, ymm: 256, else 128). That costs one small compilation (~0.1 s),
once per process; the answer is kept. It cannot come from Numba's on-disk cache, whose code
has no assembly text to read.
"""

from __future__ import annotations

import functools
import re

import numba
from numba.core import config

from ._numba_cpu import njit


def _multiply_add(out, a, b):
    for i in range(out.shape[0]):
        out[i] += a[i] * b[i]


@functools.cache
def vector_bits() -> int:
    """512, 256 or 128: the widest vector registers in Numba's code for float32 loops on its
    target CPU (see the module docstring)."""
    probe = njit(fastmath={"contract"}, error_model="numpy")(_multiply_add)   # not cached
    signature = (numba.float32[::1],) * 3
    probe.compile(signature)
    assembly = probe.inspect_asm(signature)
    for register, bits in (("zmm", 512), ("ymm", 256)):
        if re.search(rf"%{register}\d", assembly):
            return bits
    return 128


def numba_target() -> str:
    """The CPU Numba compiles for, as configured: "host" or NUMBA_CPU_NAME, with
    NUMBA_CPU_FEATURES when set (what a cached measurement of compiled code depends on)."""
    name = config.CPU_NAME or "host"
    return name if config.CPU_FEATURES is None else f"{name} [{config.CPU_FEATURES}]"
