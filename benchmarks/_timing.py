"""Timing helpers shared by the benchmarks: fair clocks, warm-up, medians, ceilings.

Rules every benchmark here follows:

* warm-up calls first (JIT compilation, caches, lazy allocations), then the median of several
  timed repeats (the median ignores the odd slow run caused by another process);
* compile time is measured separately: the first call minus a steady-state call;
* GPU work is timed with CUDA events and a synchronisation, never with the host clock alone
  (kernel launches return before the GPU has finished);
* every result is also reported as a fraction of a *ceiling* measured in the same run on the
  same machine: a large vendor matrix product for FLOP/s, a large array copy for bytes/s.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass


def use_fresh_numba_cache() -> str:
    """Point Numba's on-disk cache at an empty folder, so compile times are real compile times.

    Must run before Numba is imported (Numba reads NUMBA_CACHE_DIR once).
    """
    if "numba" in sys.modules:
        raise RuntimeError("use_fresh_numba_cache() must be called before numba is imported")
    path = tempfile.mkdtemp(prefix="minigrad-bench-numba-cache-")
    os.environ["NUMBA_CACHE_DIR"] = path
    return path


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------

# An "emulated" instruction set: the same CPU told to use only AVX2 (what most laptops have),
# through the variables each library reads when it loads:
# * Numba (LLVM): the CPU name and feature list it compiles for. The name alone is not enough:
#   without NUMBA_CPU_FEATURES Numba passes the host's feature list (with +avx512f) as well;
# * NumPy's OpenBLAS (built with DYNAMIC_ARCH): which core's kernels it runs;
# * PyTorch: ATen's vectorised kernels (ATEN_CPU_CAPABILITY) and oneDNN's JIT code
#   (ONEDNN_MAX_CPU_ISA, oneDNN's "CPU dispatcher control").
EMULATED_ISA_VAR = "MINIGRAD_BENCH_ISA"
ISA_ENV = {
    "avx2": {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": "+avx2,+fma",
             "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
             "ONEDNN_MAX_CPU_ISA": "AVX2"},
}


def run_as_isa(isa: str | None) -> None:
    """Restart this script (same arguments) with ``ISA_ENV[isa]`` set, unless it is already
    set or ``isa`` is None: the libraries read these variables when they load, before any
    code of the script could set them, and child processes inherit them."""
    if isa is None or os.environ.get(EMULATED_ISA_VAR) == isa:
        return
    env = dict(os.environ, **ISA_ENV[isa], **{EMULATED_ISA_VAR: isa})
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def blas_description() -> str:
    """Which BLAS NumPy runs, and which of its kernel sets: e.g. "OpenBLAS 0.3.31, SkylakeX
    kernels". NumPy's product is the reference of every CPU ratio, and one OpenBLAS runs 2x
    apart on one machine depending on its kernels (1024^3 float32 on 2 threads of the 2-core
    AMD EPYC VM: 19.1 ms with its Haswell kernels, 10.4 ms with its SkylakeX ones). It picks
    them from the CPU unless ``OPENBLAS_CORETYPE`` names them, as some machines' environments
    do to avoid an old OpenBLAS's bugs; the text then says so."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl then finds)
    try:
        import threadpoolctl
        info = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    except Exception:                        # no threadpoolctl, or it cannot read the library
        info = []
    text = (", ".join(f"{i.get('internal_api', 'BLAS')} {i.get('version') or ''}".rstrip()
                      + (f", {i['architecture']} kernels" if i.get("architecture") else "")
                      for i in info) or "BLAS unknown")
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return text + (f" (OPENBLAS_CORETYPE={forced} set in the environment)" if forced else "")


def cupy_or_none():
    """CuPy if it imports and a GPU answers; TF32 is switched off before the import."""
    os.environ.setdefault("CUPY_TF32", "0")   # full float32 matmuls, comparable with ours
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        return cupy
    except Exception:
        return None


def torch_or_none():
    try:
        import torch
    except Exception:
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return torch


def cpu_description() -> str:
    """CPU model name (no hostname), e.g. 'AMD EPYC'."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_vector_width() -> str:
    """The widest SIMD instruction set the CPU reports ('avx512', 'avx2', 'neon', ...): two
    CPUs of one model name can differ here, and the kernels' speed depends on it."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith(("flags", "Features"))), [])
    except OSError:
        flags = []
    for name, flag in (("avx512", "avx512f"), ("avx2", "avx2"), ("sve", "sve"),
                       ("neon", "asimd"), ("sse4", "sse4_2")):
        if flag in flags:
            return name
    return platform.machine()


def machine_name(cupy=None) -> str:
    """Results folder name: the GPU's name, or the CPU's model, vector width and core count,
    e.g. 'cpu-amd-epyc-avx512-2core', so results of different machines never overwrite each
    other ('...-2core-as-avx2' under an emulated instruction set, ``run_as_isa``). Never the
    hostname."""
    if cupy is not None:
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        return "gpu-" + _slug(name)
    emulated = os.environ.get(EMULATED_ISA_VAR)          # results of another ISA: own folder
    suffix = f"-as-{emulated}" if emulated else ""
    return f"cpu-{_slug(cpu_description())}-{cpu_vector_width()}-{os.cpu_count()}core{suffix}"


def _slug(text: str) -> str:
    text = re.sub(r"\(r\)|\(tm\)|\bcpu\b|@.*$", "", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def ratio_cell(value, digits=2, suffix="") -> str:
    """A table cell for a number that may be missing (no PyTorch installed): '—', not 'nan'."""
    if value is None or value != value:
        return "—"
    return f"{value:.{digits}f}{suffix}"


# ---------------------------------------------------------------------------------------------
# Clocks
# ---------------------------------------------------------------------------------------------

class HostClock:
    """Wall-clock timing of CPU work."""

    def time(self, fn) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start


class CudaEventClock:
    """GPU timing: events recorded on the stream around the call, then synchronised."""

    def __init__(self, cupy):
        self.cupy = cupy

    def time(self, fn) -> float:
        cp = self.cupy
        start, end = cp.cuda.Event(), cp.cuda.Event()
        cp.cuda.Device().synchronize()          # nothing else in flight
        start.record()
        fn()
        end.record()
        end.synchronize()
        return cp.cuda.get_elapsed_time(start, end) / 1e3


@dataclass
class Timing:
    first_s: float       # first call: compilation (if any) + one run
    median_s: float      # median of the timed repeats
    min_s: float
    repeats: int

    @property
    def compile_s(self) -> float:
        """Time the first call spent beyond a normal run (JIT compilation, cache loading)."""
        return max(0.0, self.first_s - self.median_s)


def measure(fn, clock, repeats: int = 7, warmup: int = 2, settle_s: float = 0.3) -> Timing:
    """First call, warm-up calls, then ``repeats`` timed calls.

    ``settle_s``: a pause first. After a call, OpenBLAS's worker threads busy-wait for a while
    (on the order of 0.1 s) before they sleep, and so do OpenMP's; on a 2-core machine a
    Numba kernel timed right after a BLAS call would share its cores with them (measured: a
    512^3 Numba matmul at a median 6.3 ms right after OpenBLAS, 1.45 ms after a pause).
    """
    time.sleep(settle_s)
    first = clock.time(fn)
    for _ in range(warmup):
        fn()
    times = [clock.time(fn) for _ in range(repeats)]
    return Timing(first, statistics.median(times), min(times), repeats)


# ---------------------------------------------------------------------------------------------
# Other processes
# ---------------------------------------------------------------------------------------------

class BackgroundLoad:
    """Cores that *other* processes kept busy while the block ran: all of this process's
    cores' busy time (``/proc/stat``) less this process's CPU time and that of the children
    it waited for (the benchmark's own workers). ``cores`` is None off Linux. A benchmark
    prints it so that a reader knows whether its times come from a quiet machine."""

    def __enter__(self):
        from minigrad.kernels._cpu_load import busy_seconds, cores_of_this_process
        self._busy_seconds, self._cpus = busy_seconds, cores_of_this_process()
        self._start = self._sample()
        self.cores = None
        return self

    def _sample(self):
        t = os.times()
        own = t.user + t.system + t.children_user + t.children_system
        return time.perf_counter(), self._busy_seconds(self._cpus), own

    def __exit__(self, *exc):
        end = self._sample()
        wall, busy, own = (e - s if s is not None and e is not None else None
                           for s, e in zip(self._start, end))
        if busy is not None and wall > 0:
            self.cores = max(0.0, (busy - own) / wall)

    def describe(self) -> str:
        if self.cores is None:
            return "other processes' load not measured (no /proc/stat)"
        return (f"other processes kept {self.cores:.2f} of the {len(self._cpus)} cores busy "
                f"on average during the run ({'quiet' if self.cores < 0.1 else 'NOT quiet'})")
