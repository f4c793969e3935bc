"""Which implementation runs an op: by device, by default table, or forced by the user.

Every op has three implementations:

    "numpy"  the reference, written with ``xp = numpy or cupy`` so the same code runs on CuPy
             arrays too (there it is the CuPy / cuBLAS path).
    "numba"  Numba ``@njit`` CPU kernels, parallel over threads.
    "cuda"   Numba CUDA kernels; CuPy arrays on a real GPU, or NumPy arrays in Numba's CUDA
             simulator (``NUMBA_ENABLE_CUDASIM=1``).

How one is chosen, first rule that applies wins:

1. ``impl="..."`` passed to the op;
2. the innermost ``with kernels.use("..."):`` block (per thread);
3. the environment variable ``MINIGRAD_KERNELS=numpy|numba|cuda`` (read at every call);
4. ``default_impl(op, device)``, the table below, by the device the arrays live on.

A forced implementation that cannot run on the given arrays ("numba" on CuPy arrays, "cuda" on
NumPy arrays outside the simulator) is an error naming the op, the implementation and where
the choice came from; it never falls back silently. Under the simulator, "cuda" on NumPy
arrays runs only when forced: the default for NumPy arrays stays the CPU default.

Default table. CPU column chosen from ``python benchmarks/kernels.py`` (full sweep, 15 repeats,
float32, 2026-11-23 13:24) on a 2-core AMD EPYC (Zen 5) VM; results and plots in
benchmarks/results/cpu-amd-epyc-avx512-2core/, reasoning in docs/kernels.md. The ratio is the NumPy
reference's median time over Numba's (> 1: Numba faster). GPU column: not measured, no GPU was
available when it was chosen; it takes the CuPy path (vendor libraries) until someone runs the
benchmark on a GPU.

    op                      cpu     measured (numba speed-up over numpy)          cuda
    matmul                  numba   1.67x at 1024^3 (OpenBLAS 9.05 ms, our packed numpy: not measured
                                    GEMM 5.43; 1.17-1.74x from 128^3 to 2048^3;
                                    --ops matmul, 16:17; docs/design.md "One thread
                                    pool": minigrad's products stay off OpenBLAS)
    softmax                 numba   2.05x at 4096x4096 (1.3-3.5x on 4 shapes)     numpy: not measured
    log_softmax             numba   1.90x at 4096x4096 (1.3-3.1x)                 numpy: not measured
    softmax_backward        numba   1.60x at 4096x4096 (0.97-1.73x)               numpy: not measured
    log_softmax_backward    numba   1.75x at 4096x4096 (1.4-3.1x)                 numpy: not measured
    conv2d                  numba   1.04-1.90x on 4 layers (1.65x on N32 C32 F32  numpy: not measured
                                    28x28 3x3: 3.17 vs 5.23 ms)
    conv2d_backward_input   numba   1.11-2.97x on 4 layers                        numpy: not measured
    conv2d_backward_weight  numba   1.34-3.15x on 4 layers (dot-product GEMM,     numpy: not measured
                                    benchmarks/kernels.py --ops conv2d, 15:04)
    max_pool2d              numba   9.4-20x on 3 layers (0.51 vs 8.9 ms on        numpy: not measured
                                    N64 C16 28x28 2x2)
    max_pool2d_backward     numba   5.6-9.3x on 3 layers                          numpy: not measured
    lstm_cell               numba   3.0x at N=32, H=128 (13.4 vs 39.7 us; one     numpy: not measured
                                    step's gates, measured by hand 2026-11-23)
    lstm_cell_backward      numba   6.0x at N=32, H=128 (4.5 vs 27.1 us)          numpy: not measured
    lstm_sequence           numba   L=32, N=32, H=128: 0.60 ms for the whole loop   numpy: not measured
                                    in Numba (the same kernels called from a Python
                                    loop: ~0.97 ms); by hand, 2026-11-23
    lstm_sequence_backward  numba   same layer: 0.44 ms (Python loop ~1.0 ms)       numpy: not measured
    relu                    numba   3.6x at (64,16,28,28) float32 (72 vs 260 us), numpy: not measured
                                    2.6x at (128,256) (5.0 vs 13 us); by hand,
                                    medians of 3000+ calls, 2026-11-23 15:40
    relu_backward           numba   37x at (64,16,28,28) (90 us vs 3.3 ms: where  numpy: not measured
                                    on a random mask; old g * (y > 0): 175 us),
                                    6.5x at (128,256) (7.0 vs 46 us)
    adam_step               numba   8.1x on a (1024,1024) float32 parameter       numpy: not measured
                                    (0.57 vs 4.7 ms), 6.7x on (256,256), 3.2x on
                                    (128,); by hand, medians, on the shared
                                    machine (docs/kernels.md)
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import threading

from . import _device

IMPLEMENTATIONS = ("numpy", "numba", "cuda")
ENV_VAR = "MINIGRAD_KERNELS"

# op -> the module family that implements it (module name: f"{family}_{impl}")
OP_FAMILIES = {
    "matmul": "matmul",
    "softmax": "softmax",
    "log_softmax": "softmax",
    "softmax_backward": "softmax",
    "log_softmax_backward": "softmax",
    "conv2d": "conv2d",
    "conv2d_backward_input": "conv2d",
    "conv2d_backward_weight": "conv2d",
    "max_pool2d": "maxpool2d",
    "max_pool2d_backward": "maxpool2d",
    "lstm_cell": "lstm_cell",
    "lstm_cell_backward": "lstm_cell",
    "lstm_sequence": "lstm_cell",
    "lstm_sequence_backward": "lstm_cell",
    "relu": "relu",
    "relu_backward": "relu",
    "adam_step": "adam",
}
OPS = tuple(OP_FAMILIES)

# (op, device) -> implementation. See the table in the module docstring and docs/kernels.md.
_DEFAULTS = {
    "matmul": {"cpu": "numba", "cuda": "numpy"},
    "softmax": {"cpu": "numba", "cuda": "numpy"},
    "log_softmax": {"cpu": "numba", "cuda": "numpy"},
    "softmax_backward": {"cpu": "numba", "cuda": "numpy"},
    "log_softmax_backward": {"cpu": "numba", "cuda": "numpy"},
    "conv2d": {"cpu": "numba", "cuda": "numpy"},
    "conv2d_backward_input": {"cpu": "numba", "cuda": "numpy"},
    "conv2d_backward_weight": {"cpu": "numba", "cuda": "numpy"},
    "max_pool2d": {"cpu": "numba", "cuda": "numpy"},
    "max_pool2d_backward": {"cpu": "numba", "cuda": "numpy"},
    "lstm_cell": {"cpu": "numba", "cuda": "numpy"},
    "lstm_cell_backward": {"cpu": "numba", "cuda": "numpy"},
    "lstm_sequence": {"cpu": "numba", "cuda": "numpy"},
    "lstm_sequence_backward": {"cpu": "numba", "cuda": "numpy"},
    "relu": {"cpu": "numba", "cuda": "numpy"},
    "relu_backward": {"cpu": "numba", "cuda": "numpy"},
    "adam_step": {"cpu": "numba", "cuda": "numpy"},
}


def _check_op(op: str) -> None:
    if op not in OP_FAMILIES:
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


def default_impl(op: str, device: str = "cpu") -> str:
    """The implementation ``op`` uses on ``device`` ("cpu" or "cuda") when nothing is forced."""
    _check_op(op)
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    impl = _DEFAULTS[op][device]
    if impl == "numba" and not numba_installed():
        return "numpy"
    return impl


# ---------------------------------------------------------------------------------------------
# Forcing an implementation: use(...) blocks (a per-thread stack) and the environment variable
# ---------------------------------------------------------------------------------------------

_forced = threading.local()


def _stack() -> list:
    if not hasattr(_forced, "stack"):
        _forced.stack = []
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


def _forced_choice(impl):
    """(implementation, where the choice came from), or (None, None) for the automatic choice."""
    if impl is not None:
        return impl, f"impl={impl!r}"
    stack = _stack()
    if stack:
        top = stack[-1]
        return (top, f"kernels.use({top!r})") if top is not None else (None, None)
    env = os.environ.get(ENV_VAR, "").strip()
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


def choose_impl(op: str, arrays, impl: str | None = None) -> str:
    """The implementation that runs ``op`` on ``arrays`` (the rules in the module docstring)."""
    _check_op(op)
    device = _device.device_of(op, *arrays)
    forced, source = _forced_choice(impl)
    if forced is None:
        return default_impl(op, device)
    _check_impl_name(forced, source)
    _check_runnable(op, forced, device, source)
    return forced
