"""Devices and array modules: where a tensor's numbers live.

A minigrad Tensor wraps one array: a ``numpy.ndarray`` on the CPU or a ``cupy.ndarray`` on a
CUDA GPU. Everything device-specific is decided here, so the rest of the framework writes
``xp = array_module(x)`` and then ``xp.exp(x)``, the same code for both devices.

A GPU counts as available only when CuPy imports *and* a device answers. We never ask
``numba.cuda.is_available()``: it is True under the CUDA simulator (NUMBA_ENABLE_CUDASIM=1),
where there is no GPU at all.
"""

from __future__ import annotations

import functools

import numpy as np

# --------------------------------------------------------------------------------------------
# CuPy, imported lazily: most machines that run minigrad have no GPU.
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _cupy():
    """The cupy module if it imports and a CUDA device really answers, else None."""
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        cupy.zeros(1).sum()  # a real round trip: drivers can be present but broken
        return cupy
    except Exception:
        return None


def cuda_is_available() -> bool:
    """True when a CUDA GPU is usable through CuPy (``mg.cuda.is_available()``)."""
    return _cupy() is not None


def cuda_device_count() -> int:
    cp = _cupy()
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


# --------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------

class Device:
    """A place for tensors: ``Device("cpu")`` or ``Device("cuda")`` / ``Device("cuda:0")``.

    Compares equal to its string form, so ``t.device == "cpu"`` reads naturally.
    """

    __slots__ = ("type", "index")

    def __init__(self, spec: str | Device = "cpu", index: int | None = None):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device must be a string like 'cpu' or 'cuda', got {spec!r}")
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        self.type = kind
        self.index = int(idx) if idx else index
        if kind == "cuda" and self.index is None:
            self.index = 0

    def __str__(self) -> str:
        return self.type if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + ("" if self.type == "cpu" else f", index={self.index}") + ")"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except (ValueError, TypeError):
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = Device("cpu")


def device_of(array) -> Device:
    """The device an array lives on."""
    if isinstance(array, np.ndarray) or np.isscalar(array):
        return CPU
    cp = _cupy()
    if cp is not None and isinstance(array, cp.ndarray):
        return Device("cuda", array.device.id)
    return CPU


def array_module(*arrays):
    """``numpy`` or ``cupy``, whichever holds the arrays (numpy if none is a GPU array)."""
    if not arrays or type(arrays[0]) is np.ndarray:
        return np  # the common case, answered without asking about CuPy (mixing is refused
        #            earlier, in ArrayFunction.apply)
    cp = _cupy()
    if cp is not None:
        for a in arrays:
            if isinstance(a, cp.ndarray):
                return cp
    return np


def as_array(x):
    """NumPy returns scalars (np.float32, ...) from 0-d operations; a Tensor holds arrays."""
    return np.asarray(x) if isinstance(x, np.generic) else x


def to_device(array, device: Device):
    """Copy an array to ``device`` (no copy if it is already there)."""
    if device.type == "cpu":
        if isinstance(array, (np.ndarray, np.generic)):
            return np.asarray(array)
        return array.get()  # cupy -> numpy
    cp = _cupy()
    if cp is None:
        raise RuntimeError(
            "CUDA device requested but no usable GPU was found (CuPy is missing or no device "
            "answered). Check mg.cuda.is_available() before calling .cuda() / .to('cuda')."
        )
    with cp.cuda.Device(device.index):
        return cp.asarray(array)


# --------------------------------------------------------------------------------------------
# Dtypes: PyTorch's promotion rules
# --------------------------------------------------------------------------------------------

DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_INT = np.dtype(np.int64)

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _category(dtype) -> int:
    return _CATEGORY[np.dtype(dtype).kind]


def promote_types(a, b) -> np.dtype:
    """Result dtype of a binary op between two tensors, as PyTorch computes it.

    The higher *category* wins (bool < integer < floating); within one category the wider type
    wins. This differs from NumPy in one place students meet early: int64 with float32 gives
    float32 in PyTorch (float64 in NumPy).
    """
    a, b = np.dtype(a), np.dtype(b)
    ca, cb = _category(a), _category(b)
    if ca > cb:
        return a
    if cb > ca:
        return b
    return np.promote_types(a, b)


def result_type(a_dtype, a_ndim: int, b_dtype, b_ndim: int) -> np.dtype:
    """Result dtype of a binary op between two tensors of these dtypes and ranks (PyTorch's
    ``torch.result_type``).

    A 0-d tensor next to a tensor with dims ranks like a Python scalar: it cannot widen the
    result within its category (float32 [1, 2] + 0-d float64 gives float32), but a higher
    category wins and brings its own dtype (int64 [1, 2] + 0-d float64 gives float64).
    """
    if (a_ndim == 0) == (b_ndim == 0):
        return promote_types(a_dtype, b_dtype)
    dims, zero = (np.dtype(a_dtype), np.dtype(b_dtype)) if b_ndim == 0 else \
        (np.dtype(b_dtype), np.dtype(a_dtype))
    return zero if _category(zero) > _category(dims) else dims


def scalar_dtype(tensor_dtype, scalar) -> np.dtype:
    """Dtype of ``tensor <op> python_scalar``: a scalar never widens within a category.

    float32 tensor * 2.5 stays float32; int64 tensor * 2.5 becomes the default float (float32);
    bool tensor + 1 becomes int64.
    """
    tensor_dtype = np.dtype(tensor_dtype)
    if isinstance(scalar, (bool, np.bool_)):
        kind = 0
    elif isinstance(scalar, (int, np.integer)):
        kind = 1
    elif isinstance(scalar, (float, np.floating)):
        kind = 2
    else:
        raise TypeError(f"unsupported scalar {scalar!r} of type {type(scalar).__name__}")
    if _category(tensor_dtype) >= kind:
        return tensor_dtype
    return DEFAULT_INT if kind == 1 else DEFAULT_FLOAT


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def dtype_from_data(data, array=None) -> np.dtype:
    """Dtype that ``mg.tensor(data)`` picks: float32 for Python floats, int64 for ints.

    NumPy arrays keep their dtype (float64 stays float64, as ``torch.from_numpy`` does), except
    that NumPy's platform ints become int64. ``array`` is ``data`` already converted by NumPy,
    if the caller has it.
    """
    if hasattr(data, "dtype"):
        dt = np.dtype(data.dtype)
        if dt.kind in "iu" and dt != np.uint8:
            return DEFAULT_INT
        return dt
    arr = np.asarray(data) if array is None else array
    if arr.dtype.kind == "f":
        return DEFAULT_FLOAT
    if arr.dtype.kind in "iu":
        return DEFAULT_INT
    if arr.dtype.kind == "b":
        return np.dtype(bool)
    raise TypeError(f"cannot make a tensor from {type(data).__name__} with dtype {arr.dtype}")


def resolve_dtype(dtype, default=None) -> np.dtype | None:
    """Accept numpy dtypes, strings ('float32') and minigrad's dtype aliases; ``default`` when
    ``dtype`` is None. (Never ``dtype or default``: a NumPy dtype can be falsy.)"""
    if dtype is None:
        return None if default is None else np.dtype(default)
    return np.dtype(dtype)
