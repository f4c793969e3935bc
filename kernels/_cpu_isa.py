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
machine code uses (zmm: 512, ymm: 256, else 128). That costs one small compilation (0.1 to
0.6 s), so the answer is kept: for the process, and on disk in the kernel-choice cache's
folder (``autotune.cache_dir()``, ``MINIGRAD_CACHE_DIR``), one small JSON file per
``probe_key()``: the CPU Numba compiles for (its name and features, resolved from the host's
when NUMBA_CPU_NAME / NUMBA_CPU_FEATURES are not set), the Numba and llvmlite versions and a
hash of the probe's source. An AVX2-emulation run (NUMBA_CPU_NAME=haswell ...) therefore has
a file of its own. A file that cannot be read, or was written for another key, is ignored and
the probe runs again. (Numba's own on-disk cache cannot serve here: its code has no assembly
text to read.)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import re

import llvmlite
import numba
from llvmlite import binding as ll
from numba.core import codegen, config

from ._numba_cpu import njit

FORMAT = 1                           # the cache file's layout; another number is not read
VECTOR_WIDTHS = (512, 256, 128)      # what vector_bits can answer


def _multiply_add(out, a, b):
    for i in range(out.shape[0]):
        out[i] += a[i] * b[i]


@functools.cache
def vector_bits() -> int:
    """512, 256 or 128: the widest vector registers in Numba's code for float32 loops on its
    target CPU (see the module docstring): from the cache file when it holds the answer for
    this ``probe_key()``, else from the probe, then written there."""
    key = probe_key()
    path = _cache_file(key)
    bits = _read_cached(path, key)
    if bits is None:
        bits = _probe()
        # A cache that cannot be written costs only the next process's probe again.
        with contextlib.suppress(OSError):
            _write_cached(path, key, bits)
    return bits


def _probe() -> int:
    """Compile ``_multiply_add`` and read its machine code's registers."""
    probe = njit(fastmath={"contract"}, error_model="numpy")(_multiply_add)   # not cached
    signature = (numba.float32[::1],) * 3
    probe.compile(signature)
    assembly = probe.inspect_asm(signature)
    for register, bits in (("zmm", 512), ("ymm", 256)):
        if re.search(rf"%{register}\d", assembly):
            return bits
    return 128


# The probe: the loop, and how it is compiled and read. Its source is part of the key (kept
# here, where ``_probe`` is still this module's function, not a test's replacement).
_PROBE_FUNCTIONS = (_multiply_add, _probe)


@functools.cache
def _probe_digest() -> str:
    source = "".join(inspect.getsource(function) for function in _PROBE_FUNCTIONS)
    return hashlib.sha256(source.encode()).hexdigest()


def probe_key() -> dict:
    """What the probe's answer depends on: the target CPU's name and features as Numba's code
    generator resolves them (the host's, unless NUMBA_CPU_NAME / NUMBA_CPU_FEATURES replace
    them), the compiler's versions, and the probe itself."""
    return {"numba_target": numba_target(),
            "cpu_name": config.CPU_NAME or ll.get_host_cpu_name(),
            "cpu_features": (config.CPU_FEATURES if config.CPU_FEATURES is not None
                             else codegen.get_host_cpu_features()),
            "numba": numba.__version__, "llvmlite": llvmlite.__version__,
            "probe": _probe_digest()}


def _cache_file(key: dict):
    """The key's file in the kernel-choice cache's folder: its name holds a hash of the key."""
    from .autotune import cache_dir
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"vector-bits-{digest}.json"


def _read_cached(path, key: dict) -> int | None:
    """The answer kept in ``path`` for ``key``; None when there is no such file, or it is not
    JSON of this layout, or it was written for another key (a hash collision, or a file
    copied from elsewhere). JSON only: the file is data, never code."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):   # missing, unreadable, not UTF-8 or not JSON
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    bits = data.get("vector_bits")
    return bits if type(bits) is int and bits in VECTOR_WIDTHS else None


def _write_cached(path, key: dict, bits: int) -> None:
    """Keep ``bits`` for ``key`` in ``path``, written whole under a temporary name and renamed
    (autotune's ``_write_atomically``): a reader never sees half a file."""
    from .autotune import _write_atomically
    text = json.dumps({"format": FORMAT, "key": key, "vector_bits": bits}, indent=1)
    _write_atomically(path, text + "\n")


def numba_target() -> str:
    """The CPU Numba compiles for, as configured: "host" or NUMBA_CPU_NAME, with
    NUMBA_CPU_FEATURES when set (what a cached measurement of compiled code depends on)."""
    name = config.CPU_NAME or "host"
    return name if config.CPU_FEATURES is None else f"{name} [{config.CPU_FEATURES}]"
