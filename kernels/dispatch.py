"""Which implementation runs an op: forced by the user, measured, or by the default rule.

Every op has three implementations (the table of them is registry.py):

    "numpy"  the reference, written with ``xp = numpy or cupy`` so the same code runs on CuPy
             arrays too (there it is the CuPy / cuBLAS path).
    "numba"  Numba ``@njit`` CPU kernels, parallel over threads.
    "cuda"   Numba CUDA kernels; CuPy arrays on a real GPU, or NumPy arrays in Numba's CUDA
             simulator (``NUMBA_ENABLE_CUDASIM=1``).

How one is chosen, first rule that applies wins:

1. ``impl="..."`` passed to the op;
2. the innermost ``with kernels.use("..."):`` block (per thread);
3. the environment variable ``MINIGRAD_KERNELS=numpy|numba|cuda`` (read at every call, from
   ``os.environ``'s own dict: see ``_env_setting``);
4. on NumPy arrays, the faster of "numpy" and "numba" for the call's shape class, timed on
   this machine the first time and remembered on disk (autotune.py); not for calls on fewer
   than ``autotune.MIN_WORK`` input elements, nor with ``MINIGRAD_AUTOTUNE=0``;
5. the default rule, ``default_impl(op, device, work)``: "numba" on the CPU (when Numba is
   installed, else "numpy"), except matmul on fewer than ``autotune.MIN_WORK`` input
   elements, which takes "numpy"; "numpy" on the GPU (CuPy and its vendor libraries).

A forced implementation that cannot run on the given arrays ("numba" on CuPy arrays, "cuda" on
NumPy arrays outside the simulator) is an error naming the op, the implementation and where
the choice came from; it never falls back silently. Under the simulator, "cuda" on NumPy
arrays runs only when forced: NumPy arrays keep the CPU's choice.

Why the default rule says "numba" on the CPU: measured op by op on a 2-core AMD EPYC (Zen 5,
AVX-512) VM, the Numba kernels were faster than the NumPy reference on every op at the sizes
that matter (docs/kernels.md, "Default rule", has the numbers and the result files). On the
GPU the CUDA kernels have only run under the simulator, so the GPU keeps the vendor libraries.
Small products are the exception: below ``MIN_WORK`` input elements the packed Numba product
pays its set-up (packing, the tile loops' edges) on a handful of numbers, while NumPy's call
into BLAS costs a few microseconds: 4x4 @ 4x4 9.8 vs 2.9 us, 32x32 @ 32x32 16 vs 6 us,
16x128 @ 128x16 19 vs 6 us, (1, 4000) @ (4000, 1) 46 vs 5 us (float32, one thread, same VM).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import threading

from . import _device, autotune
from .registry import FAMILY_OF, IMPLEMENTATIONS, OPS

ENV_VAR = "MINIGRAD_KERNELS"


def _check_op(op: str) -> None:
    if op not in FAMILY_OF:
        raise ValueError(f"unknown kernel op {op!r}; known ops: {', '.join(OPS)}")


def _check_impl_name(impl, source: str) -> None:
    if impl not in IMPLEMENTATIONS:
        raise ValueError(
            f"unknown kernel implementation {impl!r} (from {source}); "
            f"choose one of {', '.join(IMPLEMENTATIONS)}"
        )


@functools.lru_cache(maxsize=None)
def numba_installed() -> bool:
    """Asked once per process: ``find_spec`` costs ~30 us, which every softmax paid before."""
    return importlib.util.find_spec("numba") is not None


def available(op: str) -> list[str]:
    """The implementations of ``op`` that can run in this process.

    "numpy" always; "numba" when Numba is installed; "cuda" when a real GPU answers through
    CuPy or when Numba's CUDA simulator is on (``NUMBA_ENABLE_CUDASIM=1``).
    """
    _check_op(op)
    impls = ["numpy"]
    if numba_installed():
        impls.append("numba")
        if _device.cuda_simulator_enabled() or _device.real_gpu_available():
            impls.append("cuda")
    return impls


# Ops whose NumPy implementation is the faster one on the CPU for calls too small to measure
# (the module docstring has the numbers).
NUMPY_WHEN_SMALL = frozenset({"matmul"})


def default_impl(op: str, device: str = "cpu", work: int | None = None) -> str:
    """The default rule: the implementation ``op`` uses on ``device`` ("cpu" or "cuda") when
    nothing is forced and nothing was measured (small calls, ``MINIGRAD_AUTOTUNE=0``).

    "numba" on the CPU ("numpy" when Numba is not installed), "numpy" on the GPU. ``work``,
    the call's input elements when known: on the CPU an op of ``NUMPY_WHEN_SMALL`` (matmul)
    takes "numpy" below ``autotune.MIN_WORK`` of them."""
    _check_op(op)
    if device == "cpu":
        if work is not None and work < autotune.MIN_WORK and op in NUMPY_WHEN_SMALL:
            return "numpy"
        return "numba" if numba_installed() else "numpy"
    if device == "cuda":
        return "numpy"
    raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")


# ---------------------------------------------------------------------------------------------
# Forcing an implementation: use(...) blocks (a per-thread stack) and the environment variable
# ---------------------------------------------------------------------------------------------

class _Forced(threading.local):
    """Each thread's stack of ``use`` blocks, made when the thread first reads it (a
    ``threading.local`` subclass runs ``__init__`` once per thread)."""

    def __init__(self):
        self.stack = []


_forced = _Forced()


def _stack() -> list:
    return _forced.stack


@contextlib.contextmanager
def use(impl: str | None):
    """Force every kernel op inside the block to use ``impl`` (in this thread).

        with kernels.use("numba"):
            y = kernels.softmax(x)      # the Numba kernel, whatever the default

    ``use(None)`` restores the automatic choice inside an outer ``use`` block (and ignores
    ``MINIGRAD_KERNELS``). Blocks nest; the innermost wins.
    """
    if impl is not None:
        _check_impl_name(impl, f"kernels.use({impl!r})")
    stack = _stack()
    stack.append(impl)
    try:
        yield
    finally:
        stack.pop()


def _environ_lookup():
    """A function returning ``os.environ[ENV_VAR]`` or None, as cheaply as possible.

    ``os.environ.get`` runs three Python-level functions (the mapping's ``get``,
    ``__getitem__``, the key's encoding): ~0.5 us, paid by every kernel call, ~20 times per
    training step of a small MLP. ``os.environ`` keeps its values in a plain dict
    (``os.environ._data``, keyed by the encoded name) that every change made through
    ``os.environ`` (``os.environ[...] = ...``, ``pytest``'s ``monkeypatch.setenv``) updates,
    so one dict lookup reads the same value in ~0.05 us. Where that dict is missing (another
    Python implementation), the public ``os.environ.get``."""
    try:
        data, key = os.environ._data, os.environ.encodekey(ENV_VAR)
        decode = os.environ.decodevalue
    except AttributeError:
        return lambda: os.environ.get(ENV_VAR)

    def lookup():
        value = data.get(key)
        return None if value is None else decode(value)
    return lookup


_env_setting = _environ_lookup()


def _forced_choice(impl):
    """(implementation, where the choice came from), or (None, None) for the automatic choice."""
    if impl is not None:
        return impl, f"impl={impl!r}"
    stack = _stack()
    if stack:
        top = stack[-1]
        return (top, f"kernels.use({top!r})") if top is not None else (None, None)
    env = _env_setting()
    if env is None:
        return None, None
    env = env.strip()
    if env and env != "auto":
        return env, f"{ENV_VAR}={env}"
    return None, None


def _check_runnable(op: str, impl: str, device: str, source: str) -> None:
    """Raise a clear error if ``impl`` cannot run ``op`` on arrays that live on ``device``."""
    where = f"kernels.{op}: implementation {impl!r} (from {source})"
    if impl == "numba":
        if not numba_installed():
            raise RuntimeError(f"{where} needs Numba, which is not installed")
        if device != "cpu":
            raise ValueError(
                f"{where} runs on the CPU only, but the arrays are CuPy arrays on the GPU; "
                "use 'cuda' or 'numpy' (CuPy) there, or move the arrays to the CPU"
            )
    elif impl == "cuda":
        if not numba_installed():
            raise RuntimeError(f"{where} needs Numba, which is not installed")
        if _device.cuda_simulator_enabled():
            if device != "cpu":
                raise ValueError(
                    f"{where}: the CUDA simulator (NUMBA_ENABLE_CUDASIM=1) runs on NumPy "
                    "arrays, but these are CuPy arrays; unset NUMBA_ENABLE_CUDASIM to use the GPU"
                )
        elif device != "cuda":
            hint = (
                "move them with cupy.asarray(...)"
                if _device.real_gpu_available()
                else "no GPU was found (CuPy missing or no device answered)"
            )
            raise ValueError(
                f"{where} needs CuPy arrays on a GPU, but these are NumPy arrays: {hint}; "
                "or set NUMBA_ENABLE_CUDASIM=1 (before Numba is imported) to run the CUDA "
                "kernels in Numba's simulator on NumPy arrays"
            )


MEASURED = None   # choose_impl's answer when the choice is left to a measurement


def choose_impl(op: str, arrays, impl: str | None = None) -> str | None:
    """The implementation that runs ``op`` on ``arrays`` (the rules in the module docstring),
    or ``MEASURED`` (None) when it is the CPU's choice between "numpy" and "numba" for a call
    large enough to time: the caller checks its arguments, then asks autotune.py (ops.py's
    ``_measured``)."""
    _check_op(op)
    device = _device.device_of(op, *arrays)
    forced, source = _forced_choice(impl)
    if forced is None:
        if device != "cpu":
            return default_impl(op, device)
        work = _work(arrays)
        if work >= autotune.MIN_WORK and numba_installed() and autotune.enabled():
            return MEASURED
        return default_impl(op, device, work)
    _check_impl_name(forced, source)
    _check_runnable(op, forced, device, source)
    return forced


def _work(arrays) -> int:
    """The call's input elements. Calls on fewer than ``autotune.MIN_WORK`` are not measured:
    they take microseconds either way, less than timing them could tell apart."""
    work = 0
    for a in arrays:
        work += a.size
    return work
