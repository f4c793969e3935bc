"""Process-wide settings and small questions about tensors and dtypes, under PyTorch's names:
threads, determinism, print options, ``finfo``/``iinfo``, ``numel``, ``as_tensor``,
``is_floating_point``/``is_complex`` and the constants ``inf``, ``nan``, ``pi``, ``e``.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

from . import backend
from .tensor import Tensor

# the module itself (``mg.tensor`` is the function): its _rng and settings are replaced at run
# time, so they are read from the module each time
_tensor_module = importlib.import_module(".tensor", __package__)

inf = math.inf
nan = math.nan
pi = math.pi
e = math.e


# -- threads ----------------------------------------------------------------------------------
def get_num_threads() -> int:
    """How many threads minigrad's parallel Numba kernels use (Numba's thread count).

    Small inputs run on one thread whatever this says (``kernels/_threads.py``). NumPy's BLAS
    (float matmul) has its own thread pool, which this does not set.
    """
    import numba
    return numba.get_num_threads()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in the parallel Numba kernels (1 <= n <= Numba's maximum,
    ``NUMBA_NUM_THREADS``, the number of cores unless set). Like Numba's own setting, it holds
    for the calling thread."""
    import numba
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    if not 1 <= n <= numba.config.NUMBA_NUM_THREADS:
        raise ValueError(f"set_num_threads: n must be between 1 and "
                         f"{numba.config.NUMBA_NUM_THREADS} (NUMBA_NUM_THREADS), got {n}")
    numba.set_num_threads(int(n))


# -- determinism ------------------------------------------------------------------------------
_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted so that PyTorch code runs; it changes nothing, because on the CPU minigrad is
    deterministic already: each output element of a parallel kernel is written by one thread
    (no atomic adds), and a parallel loop's work is split the same way every run. What can
    change results in the last bits is the thread count (``set_num_threads``), which decides
    how BLAS sums a float matmul. On the GPU, CuPy's scatter-add (``scatter_add``,
    ``index_add``, the backward of indexing) uses atomic adds, whose float sums can differ in
    the last bits from run to run; minigrad does not refuse them in deterministic mode.
    """
    _deterministic["mode"], _deterministic["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic["warn_only"]


# -- printing ---------------------------------------------------------------------------------
_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """How tensors print, as in PyTorch: digits after the point (``precision``), how many
    elements before the middle is summarized as ``...`` (``threshold``), how many are shown
    at each end then (``edgeitems``), characters per line (``linewidth``), a ``profile``
    ("default", "short", "full") that sets the first four, and ``sci_mode`` (True: always
    scientific notation, False: never, None: NumPy's choice)."""
    options = _tensor_module.PRINT_OPTIONS
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        options.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"set_printoptions: {name} must be a number >= 0, got {value!r}")
        options[name] = value
    options["sci_mode"] = sci_mode


# -- dtypes -----------------------------------------------------------------------------------
def _dtype_arg(op: str, dtype) -> np.dtype:
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: expected a dtype such as mg.float32, got {dtype!r}") from None


def finfo(dtype=None) -> np.finfo:
    """Limits of a floating dtype (the default dtype when none is given): ``eps``, ``max``,
    ``min``, ``tiny`` (= ``smallest_normal``), ``resolution``, ``bits``. NumPy's ``finfo``."""
    dt = backend.DEFAULT_FLOAT if dtype is None else _dtype_arg("finfo", dtype)
    if dt.kind != "f":
        raise TypeError(f"finfo: expected a floating dtype, got {dt} (use mg.iinfo for "
                        f"integers)")
    return np.finfo(dt)


def iinfo(dtype) -> np.iinfo:
    """Limits of an integer dtype: ``min``, ``max``, ``bits``. NumPy's ``iinfo``."""
    dt = _dtype_arg("iinfo", dtype)
    if dt.kind not in "iu":
        raise TypeError(f"iinfo: expected an integer dtype, got {dt} (use mg.finfo for "
                        f"floating dtypes)")
    return np.iinfo(dt)


# -- questions about one tensor ---------------------------------------------------------------
def _tensor_arg(op: str, x) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def numel(x: Tensor) -> int:
    return _tensor_arg("numel", x).numel()


def is_floating_point(x: Tensor) -> bool:
    return _tensor_arg("is_floating_point", x).is_floating_point()


def is_complex(x: Tensor) -> bool:
    return _tensor_arg("is_complex", x).dtype.kind == "c"


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a Tensor, copying only when needed: a Tensor already of that dtype and
    device comes back itself (otherwise ``data.to(...)``, still in the graph); a NumPy array
    of that dtype, on the CPU, is shared (``from_numpy``: writes to one show in the other);
    anything else becomes a new tensor, as ``mg.tensor`` makes it."""
    dt = backend.resolve_dtype(dtype)
    if isinstance(data, Tensor):
        same_dtype = dt is None or data.dtype == dt
        same_device = device is None or backend.Device(device) == data.device
        if same_dtype and same_device:
            return data
        return data.to(device=device if device is not None else data.device,
                       dtype=dt if dt is not None else data.dtype)
    if isinstance(data, np.ndarray) and (dt is None or data.dtype == dt) and \
            (device is None or backend.Device(device) == backend.CPU):
        return _tensor_module.from_numpy(data)
    return _tensor_module.tensor(data, dtype=dt, device=device)
