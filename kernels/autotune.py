"""Which CPU implementation is faster on this machine: timed on first use, remembered on disk.

On NumPy arrays every op has two implementations, the NumPy reference (OpenBLAS for the
products) and the Numba kernels, and which one wins depends on the machine (its BLAS, its
vector width, its cores) and on the sizes. So, like cuDNN's benchmark mode or Triton's
autotune, the dispatcher times both the first time it meets an op on a new *shape class* and
keeps the faster:

* a shape class is the dtype and the sizes that decide the speed, each rounded down to a
  power of two (matmul's M, K and N; softmax's rows and columns; a convolution's N, C, H, W and
  F, with its kernel size, stride and dilation exactly): 100 x 300 and 127 x 257 share a class;
* both implementations run once untimed (Numba compiles there), then ``REPEATS`` timed rounds
  alternate between them (fewer when a round is slow: ``MIN_REPEATS`` after ``BUDGET_S``) and
  the smaller median wins. They run on the call's own arguments, whose result they do not
  change (outputs are new arrays); an op that writes into its arguments (Adam's step) is timed
  on copies. Afterwards the winner runs the real call;
* the decision is stored in a JSON file (``cache_file()``) for this machine: CPU model, core
  count, NumPy, Numba and minigrad versions, ``NUMBA_NUM_THREADS``,
  ``MINIGRAD_BLAS_THREADS``, ``OPENBLAS_CORETYPE`` and a hash of the kernels' source files. The next process reads
  it and times nothing, unless other processes kept the cores busy while it measured
  (``machine_is_busy``): that choice serves this process only. The file is written whole to a temporary name and renamed over the old
  one, so a reader never sees half of it; one it cannot read is ignored with a warning.

Not measured: calls on fewer than ``MIN_WORK`` input elements (a few microseconds either way,
less than the timing noise), which take the default rule (``dispatch.default_impl``); GPU
arrays; anything forced with ``impl=``, ``kernels.use(...)`` or ``MINIGRAD_KERNELS``; and
every call of a process started with ``MINIGRAD_AUTOTUNE=0``.

    kernels.choices()          # {op: {shape class: Choice(impl, seconds, source)}}
    kernels.clear_choices()    # forget them, here and on disk: measure again
    kernels.cache_file()       # where they are kept
    autotune.export_decisions()      # as JSON-safe data, to share with another process
    autotune.adopt_decisions(data)   # run another process's choices (DDP: rank 0's)

Pure array code like the rest of kernels/: the minigrad version is read from the installed
package's metadata, not by importing minigrad.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from . import _cpu_load
from ._numba_cache import kernel_sources_digest
from .registry import OPS

ENV_VAR = "MINIGRAD_AUTOTUNE"          # "0" (or off/false/no): the default rule everywhere
CACHE_DIR_VAR = "MINIGRAD_CACHE_DIR"   # where the decisions are kept (default below)
FORMAT = 1                             # the file's layout; another number is not read

CANDIDATES = ("numba", "numpy")        # a tie goes to the first, the default rule's choice
MIN_WORK = 1 << 13                     # input elements below which nothing is timed
REPEATS = 5                            # timed rounds, each running every candidate once
MIN_REPEATS = 3                        # ... or this many, once BUDGET_S has passed
BUDGET_S = 0.5

# The clock the timings read. A test replaces it with a fake one, so that what is chosen does
# not depend on the speed of the machine running the tests.
clock: Callable[[], float] = time.perf_counter


_enabled: bool | None = None           # MINIGRAD_AUTOTUNE as read (None: not read yet)


def enabled() -> bool:
    """False when ``MINIGRAD_AUTOTUNE`` is 0, off, false or no.

    Read once, at the first call that could be measured, and kept (``forget()`` reads it
    again): reading an unset variable costs ~0.5 us, as much as the rest of the measured
    path, at every call. Set it before the first kernel call."""
    global _enabled
    if _enabled is None:
        value = os.environ.get(ENV_VAR, "1").strip().lower()
        _enabled = value not in ("0", "off", "false", "no")
    return _enabled


# ---------------------------------------------------------------------------------------------
# Shape classes: what each op's speed depends on, from the arguments its kernels take
# ---------------------------------------------------------------------------------------------

class ShapeClass(NamedTuple):
    """How one op's calls are grouped. ``of(*args)``, on the arguments ops.py passes to the
    implementation, is the class: (dtype character, the bit length of each size, then the
    exact parameters); a bit length b stands for the sizes 2^(b-1) to 2^b - 1. The names
    label the sizes and parameters in ``choices()``. Computed at every measured call, so
    written out by hand: ~0.2 us."""
    size_names: tuple[str, ...]
    param_names: tuple[str, ...]
    of: Callable[..., tuple]


def _matmul_class(a, b):
    return a.dtype.char, a.shape[0].bit_length(), a.shape[1].bit_length(), \
        b.shape[1].bit_length()


def _rows_class(rows, *_):
    n_rows, n_columns = rows.shape
    return rows.dtype.char, n_rows.bit_length(), n_columns.bit_length()


def _conv_class(x, _, g):
    return (x.dtype.char, g.N.bit_length(), g.C.bit_length(), g.H.bit_length(),
            g.W.bit_length(), g.F.bit_length(),
            (g.KH, g.KW), (g.stride_h, g.stride_w), (g.dil_h, g.dil_w))


def _pool_class(x, *rest):
    g = rest[-1]                       # (x, geometry) or (gy, indices, geometry)
    return (x.dtype.char, (g.N * g.C).bit_length(), g.H.bit_length(), g.W.bit_length(),
            (g.KH, g.KW), (g.stride_h, g.stride_w), (g.dil_h, g.dil_w))


def _cell_class(first, second, *_):
    n, hidden = second.shape           # c (forward) or tanh_c (backward): (N, H)
    return first.dtype.char, n.bit_length(), hidden.bit_length()


def _sequence_class(first, *_):
    steps, n, four_hidden = first.shape    # x_proj (forward) or acts (backward): (L, N, 4H)
    return first.dtype.char, steps.bit_length(), n.bit_length(), (four_hidden // 4).bit_length()


def _elementwise_class(x, *_):
    return x.dtype.char, x.size.bit_length()


def _gelu_class(x, *rest):
    return x.dtype.char, x.size.bit_length(), rest[-1]      # rest ends with approximate


def _channels_class(x, *_):
    """batch_norm (x, ...) and its backward (g, x, ...): x and g are (N, C, M)."""
    n, c, m = x.shape
    return x.dtype.char, n.bit_length(), c.bit_length(), m.bit_length()


def _adam_class(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *_):
    return param.dtype.char, param.size.bit_length(), max_exp_avg_sq is not None


_CONV = (("N", "C", "H", "W", "F"), ("kernel", "stride", "dilation"))
_POOL = (("N*C", "H", "W"), ("kernel", "stride", "dilation"))
_ROWS = (("rows", "columns"), ())

SHAPE_CLASSES = {
    "matmul": ShapeClass(("M", "K", "N"), (), _matmul_class),
    "softmax": ShapeClass(*_ROWS, _rows_class),
    "log_softmax": ShapeClass(*_ROWS, _rows_class),
    "softmax_backward": ShapeClass(*_ROWS, _rows_class),
    "log_softmax_backward": ShapeClass(*_ROWS, _rows_class),
    "conv2d": ShapeClass(*_CONV, _conv_class),
    "conv2d_backward_input": ShapeClass(*_CONV, _conv_class),
    "conv2d_backward_weight": ShapeClass(*_CONV, _conv_class),
    "max_pool2d": ShapeClass(*_POOL, _pool_class),
    "max_pool2d_backward": ShapeClass(*_POOL, _pool_class),
    "lstm_cell": ShapeClass(("N", "H"), (), _cell_class),
    "lstm_cell_backward": ShapeClass(("N", "H"), (), _cell_class),
    "lstm_sequence": ShapeClass(("L", "N", "H"), (), _sequence_class),
    "lstm_sequence_backward": ShapeClass(("L", "N", "H"), (), _sequence_class),
    "relu": ShapeClass(("elements",), (), _elementwise_class),
    "relu_backward": ShapeClass(("elements",), (), _elementwise_class),
    "adam_step": ShapeClass(("elements",), ("amsgrad",), _adam_class),
    "gelu": ShapeClass(("elements",), ("approximate",), _gelu_class),
    "gelu_backward": ShapeClass(("elements",), ("approximate",), _gelu_class),
    "layer_norm": ShapeClass(*_ROWS, _rows_class),
    "layer_norm_backward": ShapeClass(*_ROWS, _rows_class),
    "batch_norm": ShapeClass(("N", "C", "M"), (), _channels_class),
    "batch_norm_backward": ShapeClass(("N", "C", "M"), (), _channels_class),
}


def shape_class(op: str, args) -> tuple:
    """The shape class of a call of ``op`` on ``args``, the implementation's arguments."""
    return SHAPE_CLASSES[op].of(*args)


def _split(op: str, cls: tuple):
    """(dtype character, bit lengths, parameters) of a shape class."""
    n_sizes = len(SHAPE_CLASSES[op].size_names)
    return cls[0], cls[1:1 + n_sizes], cls[1 + n_sizes:]


def describe(op: str, cls: tuple) -> str:
    """A shape class in words: 'float32, M 64-127, K 64-127, N 256-511'."""
    char, bits, params = _split(op, cls)
    names = SHAPE_CLASSES[op]
    words = [np.dtype(char).name]
    words += [f"{name} {_size_range(b)}" for name, b in zip(names.size_names, bits)]
    words += [f"{name} {_param_text(value)}" for name, value in zip(names.param_names, params)]
    return ", ".join(words)


def _size_range(bits: int) -> str:
    if bits <= 1:
        return str(bits)                 # 0 or 1 exactly
    return f"{1 << (bits - 1)}-{(1 << bits) - 1}"


def _param_text(value) -> str:
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# The decisions: in memory, filled from the file once, measured when missing
# ---------------------------------------------------------------------------------------------

class Choice(NamedTuple):
    """What was chosen for one op and shape class: the implementation, the median seconds
    per call of each candidate that chose it, and where it came from ("measured" in this
    process, "measured while busy" in this process and not saved, or read from the "cache"
    file)."""
    impl: str
    seconds: dict
    source: str


_decisions: dict[tuple[str, tuple], Choice] = {}
_lock = threading.Lock()               # one measurement at a time; file reads and writes
_loaded = False                        # the file has been read into _decisions


def decided(op: str, cls: tuple) -> str | None:
    """The implementation chosen for ``op`` on shape class ``cls``, or None if it was never
    measured here (nor in an earlier process on this machine)."""
    if not _loaded:
        with _lock:
            _load_once()
    choice = _decisions.get((op, cls))
    return None if choice is None else choice.impl


def decide(op: str, cls: tuple, run: Callable[[str], object]) -> str:
    """Time ``run(impl)`` for every candidate, keep the fastest for (op, cls) in memory and
    on disk, and return it. ``run`` must not change anything the caller will see."""
    with _lock:
        _load_once()
        choice = _decisions.get((op, cls))
        if choice is None:
            choice = _measure(run)
            if machine_is_busy():
                choice = choice._replace(source=BUSY)
            _decisions[op, cls] = choice
            if choice.source != BUSY:
                _save()
    return choice.impl


BUSY = "measured while busy"   # used by this process, never written: the next one measures


def machine_is_busy() -> bool:
    """True when other processes kept more than ``_cpu_load.FREE_TOLERANCE`` of a core busy in
    the load monitor's last window: timings taken then say more about the neighbours than
    about the kernels (a stall of a scheduler slice, milliseconds, can land on either
    candidate), so such a choice is not kept for later processes."""
    _cpu_load.monitor.threads()           # takes a new reading when the last one is old
    return _cpu_load.monitor.others > _cpu_load.FREE_TOLERANCE


def _measure(run) -> Choice:
    for impl in CANDIDATES:               # untimed: Numba compiles, caches warm up
        run(impl)
    times = {impl: [] for impl in CANDIDATES}
    start = clock()
    for done in range(1, REPEATS + 1):
        for impl in CANDIDATES:           # alternating, so that a slow moment hits both
            before = clock()
            run(impl)
            times[impl].append(clock() - before)
        if done >= MIN_REPEATS and clock() - start > BUDGET_S:
            break
    medians = {impl: _median(t) for impl, t in times.items()}
    best = min(CANDIDATES, key=lambda impl: medians[impl])
    return Choice(best, medians, "measured")


def _median(values):
    return sorted(values)[len(values) // 2]      # the upper one of an even count


def choices() -> dict[str, dict[str, Choice]]:
    """Every decision known here, measured in this process or read from the cache file:
    {op: {shape class in words: Choice(impl, seconds per candidate, source)}}."""
    with _lock:
        _load_once()
        known = sorted(_decisions.items(), key=lambda item: (item[0][0], repr(item[0][1])))
    result: dict[str, dict[str, Choice]] = {}
    for (op, cls), choice in known:
        result.setdefault(op, {})[describe(op, cls)] = choice
    return result


def clear_choices() -> None:
    """Forget every decision, in memory and in this machine's cache file: the next calls
    measure again."""
    global _loaded
    with _lock:
        _decisions.clear()
        _loaded = True                     # nothing left to read
        with contextlib.suppress(FileNotFoundError):
            cache_file().unlink()


def forget() -> None:
    """Forget the decisions in memory and the ``MINIGRAD_AUTOTUNE`` setting: the next call
    reads both again, as a new process would (the cache file stays)."""
    global _loaded, _enabled
    with _lock:
        _decisions.clear()
        _loaded = False
        _enabled = None


# Sharing decisions between processes (data-parallel ranks run the same kernels): as JSON data,
# never pickled, so what a process adopts is only ever an implementation's name and timings.

ADOPTED = ": "      # an adopted choice's source: "<from whom>: <its source there>"


def export_decisions() -> dict:
    """Every decision known here, as JSON-safe data for ``adopt_decisions`` in another
    process: {op: [[shape class as a list, impl, {candidate: seconds}, source], ...]}."""
    with _lock:
        _load_once()
        known = sorted(_decisions.items(), key=lambda item: (item[0][0], repr(item[0][1])))
    data: dict[str, list] = {}
    for (op, cls), choice in known:
        data.setdefault(op, []).append([_list(cls), choice.impl, dict(choice.seconds),
                                        choice.source])
    return data


def adopt_decisions(data, source: str = "rank 0") -> int:
    """Take the decisions in ``data`` (``export_decisions()`` of another process, maybe
    through JSON) in place of this process's for the same (op, shape class); others stay.
    Returns how many were adopted. Everything is checked before anything changes: an
    unknown op or implementation, or a malformed entry, is a ValueError naming it.

    An adopted choice's source reads "<source>: <its source there>". None is written to disk
    here; a later save of this process's own measurements includes those that the other
    process could keep too (measured while its machine was not busy, or read from its
    file), never one it measured while busy."""
    adopted = _checked_decisions(data, source)
    with _lock:
        _load_once()
        _decisions.update(adopted)
    return len(adopted)


def decision_count() -> int:
    """How many decisions this process knows (in memory): a cheap way to notice new ones."""
    return len(_decisions)


def _kept_on_disk(choice: Choice) -> bool:
    """Whether ``choice`` may go into the cache file: not measured while busy, here or in the
    process it was adopted from."""
    return choice.source != BUSY and not choice.source.endswith(ADOPTED + BUSY)


def _checked_decisions(data, source: str) -> dict:
    where = "adopt_decisions"
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a dict {{op: [entries]}} (export_decisions()), "
                         f"got {type(data).__name__}")
    decisions = {}
    for op, entries in data.items():
        if op not in SHAPE_CLASSES:
            raise ValueError(f"{where}: unknown op {op!r}; known: {', '.join(SHAPE_CLASSES)}")
        if not isinstance(entries, (list, tuple)):
            raise ValueError(f"{where}: the decisions of {op} must be a list, got "
                             f"{type(entries).__name__}")
        for entry in entries:
            cls, choice = _checked_entry(where, op, entry, source)
            decisions[op, cls] = choice
    return decisions


def _checked_entry(where: str, op: str, entry, source: str):
    """One [shape class, impl, seconds, source] entry of ``op``, as a key and a Choice."""
    if not isinstance(entry, (list, tuple)) or len(entry) != 4:
        raise ValueError(f"{where}: an entry of {op} must be [shape class, impl, seconds, "
                         f"source], got {entry!r}")
    cls, impl, seconds, their_source = entry
    if impl not in CANDIDATES:
        raise ValueError(f"{where}: {op} entry {entry!r} names implementation {impl!r}; "
                         f"expected one of {', '.join(CANDIDATES)}")
    names = SHAPE_CLASSES[op]
    n_sizes, n_params = len(names.size_names), len(names.param_names)
    cls = _tuple(cls) if isinstance(cls, list) else cls
    ok = (isinstance(cls, tuple) and len(cls) == 1 + n_sizes + n_params
          and isinstance(cls[0], str) and _is_dtype_char(cls[0])
          and all(type(b) is int and b >= 0 for b in cls[1:1 + n_sizes]))
    if not ok:
        raise ValueError(f"{where}: {op} entry {entry!r} has no valid shape class: expected "
                         f"[dtype character, {n_sizes} bit lengths, {n_params} parameters]")
    if not isinstance(seconds, dict) or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) for s in seconds.values()):
        raise ValueError(f"{where}: {op} entry {entry!r}: seconds must be a dict "
                         "{implementation: seconds}")
    if not isinstance(their_source, str):
        raise ValueError(f"{where}: {op} entry {entry!r}: the source must be a string")
    return cls, Choice(impl, {str(k): float(v) for k, v in seconds.items()},
                       f"{source}{ADOPTED}{their_source}")


def _is_dtype_char(char: str) -> bool:
    try:
        return np.dtype(char).char == char
    except TypeError:
        return False


def _list(value):
    """The tuples of a shape class as JSON's lists (``_tuple`` turns them back)."""
    return [_list(v) for v in value] if isinstance(value, tuple) else value


# ---------------------------------------------------------------------------------------------
# The cache file: JSON, one per machine, written atomically
# ---------------------------------------------------------------------------------------------

def cache_dir() -> Path:
    """``$MINIGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/minigrad``, else ``~/.cache/minigrad``."""
    chosen = os.environ.get(CACHE_DIR_VAR)
    if chosen:
        return Path(chosen).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "minigrad"


def cache_file() -> Path:
    """This machine's file in ``cache_dir()``: its name holds a hash of ``machine()``, so
    machines (or versions) that share a home folder keep separate files."""
    digest = hashlib.sha256(json.dumps(machine(), sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"kernel-choices-{digest}.json"


@functools.lru_cache(maxsize=None)
def machine() -> dict:
    """What a decision is valid for: another CPU, core count, NumPy, Numba, minigrad, Numba
    or BLAS thread count, and the timings are no longer this machine's; nor under another
    CPU that Numba compiles for (NUMBA_CPU_NAME / NUMBA_CPU_FEATURES: AVX2 code on an
    AVX-512 machine runs other register tiles); a change to any kernel's source (a checkout
    with another kernel under the same version number) makes a new file, so no choice
    measured against an old kernel outlives it. Nor when NumPy's OpenBLAS is told to run
    another core's kernels (OPENBLAS_CORETYPE): its Haswell and SkylakeX kernels differ 2x
    on one AVX-512 machine."""
    from ._cpu_isa import numba_target  # imports Numba: only when a decision is needed
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "numpy": np.__version__,
            "numba": _version("numba"), "minigrad": _version("minigrad"),
            "numba_target": numba_target(),
            "numba_threads": os.environ.get("NUMBA_NUM_THREADS", ""),
            "blas_threads": os.environ.get("MINIGRAD_BLAS_THREADS", ""),
            "openblas_kernels": os.environ.get("OPENBLAS_CORETYPE", ""),
            "kernels": kernel_sources_digest()}


def _version(package: str) -> str:
    from importlib import metadata  # imported here: ~10 ms that every import would pay
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what ``platform`` knows."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _load_once() -> None:
    """Read this machine's file into ``_decisions`` the first time (caller holds _lock)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for key, choice in _read(cache_file(), warn=True).items():
        _decisions.setdefault(key, choice)


def _read(path: Path, warn: bool) -> dict:
    """The decisions in ``path`` ({} if there is none or it cannot be used, with a warning
    when ``warn``). JSON only: the file is data, never code."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        if warn:
            _warn(f"cannot read the kernel-choice cache {path} ({error}); measuring again")
        return {}
    try:
        return _parse(json.loads(data))       # bytes that are not UTF-8: a ValueError
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        if warn:
            _warn(f"ignoring the kernel-choice cache {path}: it is not a file this version "
                  f"can read ({type(error).__name__}: {error}); it is rewritten after the "
                  "next measurement")
        return {}


def _parse(data) -> dict:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"expected a JSON object with \"format\": {FORMAT}")
    if data.get("machine") != machine():
        raise ValueError("it was written for another machine or other versions")
    decisions = {}
    for entry in data["choices"]:
        op, impl = entry["op"], entry["impl"]
        if op not in OPS or impl not in CANDIDATES:
            raise ValueError(f"unknown op {op!r} or implementation {impl!r}")
        names = SHAPE_CLASSES[op]
        bits = tuple(entry["sizes"])
        params = _tuple(entry["params"])
        if len(bits) != len(names.size_names) or len(params) != len(names.param_names) \
                or not all(isinstance(b, int) and b >= 0 for b in bits):
            raise ValueError(f"a shape class of {op} with the wrong fields: {entry}")
        seconds = {name: float(entry["seconds"][name]) for name in CANDIDATES}
        cls = (np.dtype(entry["dtype"]).char, *bits, *params)
        decisions[op, cls] = Choice(impl, seconds, "cache")
    return decisions


def _tuple(value):
    """JSON's lists back into the tuples the shape classes are made of."""
    return tuple(_tuple(v) for v in value) if isinstance(value, list) else value


def _save() -> None:
    """Write every decision known here, merged with what another process may have written
    since this one read the file (caller holds _lock). A cache that cannot be written is a
    warning, not an error: the decisions still hold for this process."""
    path = cache_file()
    merged = _read(path, warn=False)
    merged.update((key, choice) for key, choice in _decisions.items() if _kept_on_disk(choice))
    entries = []
    for (op, cls), choice in sorted(merged.items(), key=lambda item: repr(item[0])):
        char, bits, params = _split(op, cls)
        entries.append({"op": op, "dtype": np.dtype(char).name, "sizes": bits,
                        "params": params, "impl": choice.impl, "seconds": choice.seconds,
                        "shape": describe(op, cls)})
    text = (f'{{"format": {FORMAT},\n "machine": {json.dumps(machine())},\n "choices": [\n  '
            + ",\n  ".join(json.dumps(entry) for entry in entries) + "\n ]}\n")
    try:
        _write_atomically(path, text)
    except OSError as error:
        _warn(f"cannot write the kernel-choice cache {path} ({error}); the choices hold for "
              f"this process only (set {CACHE_DIR_VAR} to a writable folder)")


def _write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename it over ``path``: a reader
    sees the old file or the new one, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _warn(message: str) -> None:
    warnings.warn(f"minigrad.kernels: {message}", RuntimeWarning, stacklevel=4)
