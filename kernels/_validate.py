"""Argument checks and normalisation shared by every implementation.

Each public entry point validates its arguments here *once*, before dispatching, so the three
implementations can assume well-formed input and every user gets the same clear error naming
the op and the offending numbers, whichever implementation would have run.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(array) -> str:
    return f"shape {tuple(array.shape)} and dtype {array.dtype}"


def check_float_array(op: str, name: str, array, ndim: int | None = None) -> None:
    """``array`` must be float32/float64 (and have ``ndim`` dimensions when given)."""
    if np.dtype(array.dtype) not in FLOAT_DTYPES:
        raise ValueError(
            f"kernels.{op}: {name} must be float32 or float64, got {_describe(array)}"
        )
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"kernels.{op}: {name} must be {ndim}-D, got {_describe(array)}")


def check_real_array(op: str, name: str, array, ndim: int) -> None:
    """``array`` holds floats or integers (not bool, not complex) and has ``ndim`` dimensions."""
    if np.dtype(array.dtype).kind not in "fiu":
        raise ValueError(
            f"kernels.{op}: {name} must hold floats or integers, got {_describe(array)}"
        )
    if array.ndim != ndim:
        raise ValueError(f"kernels.{op}: {name} must be {ndim}-D, got {_describe(array)}")


def check_same_dtype(op: str, names_and_arrays: dict) -> None:
    """All arrays share one dtype: kernels never promote silently (float32 stays float32)."""
    dtypes = {np.dtype(a.dtype) for a in names_and_arrays.values()}
    if len(dtypes) > 1:
        described = ", ".join(f"{n} with {_describe(a)}" for n, a in names_and_arrays.items())
        raise ValueError(f"kernels.{op}: dtypes differ: {described}; cast them to one dtype")


# ---------------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------------

def check_matmul_operands(a, b) -> None:
    """a (M, K) @ b (K, N): both 2-D, same float dtype, inner sizes equal."""
    problem = None
    if a.ndim != 2 or b.ndim != 2:
        problem = "both operands must be 2-D"
    elif a.shape[1] != b.shape[0]:
        problem = f"inner sizes differ ({a.shape[1]} != {b.shape[0]})"
    elif np.dtype(a.dtype) != np.dtype(b.dtype):
        problem = "dtypes differ"
    elif np.dtype(a.dtype) not in FLOAT_DTYPES:
        problem = "dtype must be float32 or float64"
    if problem:
        raise ValueError(
            f"kernels.matmul: cannot multiply a with {_describe(a)} by b with {_describe(b)}: "
            f"{problem}"
        )


# ---------------------------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------------------------

def normalize_axis(op: str, axis: int, ndim: int) -> int:
    """A non-negative axis index; negative axes count from the end, as in NumPy."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"kernels.{op}: axis must be an int, got {axis!r}")
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"kernels.{op}: axis {axis} is out of range for a {ndim}-D array")
    return int(axis) % max(ndim, 1)


def check_float_pair(op: str, first: str, a, second: str, b) -> None:
    """a and b: float32/float64, one shape, one dtype (an output and its gradient)."""
    check_float_array(op, first, a)
    check_float_array(op, second, b)
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"kernels.{op}: {first} has {_describe(a)} but {second} has {_describe(b)}; "
            "they must have the same shape"
        )
    check_same_dtype(op, {first: a, second: b})


def check_softmax_backward_operands(op: str, y, gy) -> None:
    check_float_pair(op, "y", y, "gy", gy)


# ---------------------------------------------------------------------------------------------
# conv2d
# ---------------------------------------------------------------------------------------------

class ConvGeometry(NamedTuple):
    """Every size a 2-D convolution needs, computed once and shared by all implementations.

    x is (N, C, H, W), w is (F, C, KH, KW), y is (N, F, OH, OW) with
        OH = (H + 2*pad_h - dil_h*(KH - 1) - 1) // stride_h + 1      (same for OW)
    i.e. how many positions a kernel of *extent* dil_h*(KH-1)+1 takes in the padded input,
    moving stride_h rows at a time.
    """

    N: int
    C: int
    H: int
    W: int
    F: int
    KH: int
    KW: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    dil_h: int
    dil_w: int
    OH: int
    OW: int

    @property
    def x_shape(self):
        return (self.N, self.C, self.H, self.W)

    @property
    def w_shape(self):
        return (self.F, self.C, self.KH, self.KW)

    @property
    def y_shape(self):
        return (self.N, self.F, self.OH, self.OW)


def normalize_pair(op: str, name: str, value, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints -> (for height, for width), each at least ``minimum``."""
    if isinstance(value, (int, np.integer)):
        pair = (value, value)
    else:
        try:
            pair = tuple(value)
        except TypeError:
            pair = ()
    if len(pair) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair
    ):
        raise ValueError(f"kernels.{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"kernels.{op}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv2d_geometry(op, x_shape, w_shape, stride, padding, dilation) -> ConvGeometry:
    """Validate a convolution's shapes and hyper-parameters and compute its output size."""
    x_shape, w_shape = tuple(int(s) for s in x_shape), tuple(int(s) for s in w_shape)
    if len(x_shape) != 4:
        raise ValueError(f"kernels.{op}: input must be 4-D (N, C, H, W), got shape {x_shape}")
    if len(w_shape) != 4:
        raise ValueError(f"kernels.{op}: weight must be 4-D (F, C, KH, KW), got shape {w_shape}")
    N, C, H, W = x_shape
    F, Cw, KH, KW = w_shape
    if Cw != C:
        raise ValueError(
            f"kernels.{op}: input has {C} channels (shape {x_shape}) but weight expects {Cw} "
            f"(shape {w_shape})"
        )
    sh, sw = normalize_pair(op, "stride", stride, 1)
    ph, pw = normalize_pair(op, "padding", padding, 0)
    dh, dw = normalize_pair(op, "dilation", dilation, 1)
    extent_h, extent_w = dh * (KH - 1) + 1, dw * (KW - 1) + 1
    padded_h, padded_w = H + 2 * ph, W + 2 * pw
    if KH < 1 or KW < 1 or extent_h > padded_h or extent_w > padded_w:
        raise ValueError(
            f"kernels.{op}: kernel {KH}x{KW} with dilation ({dh}, {dw}) spans "
            f"{extent_h}x{extent_w}, larger than the padded input {padded_h}x{padded_w} "
            f"(input {H}x{W}, padding ({ph}, {pw})): the output would have size <= 0"
        )
    OH = (padded_h - extent_h) // sh + 1
    OW = (padded_w - extent_w) // sw + 1
    return ConvGeometry(N, C, H, W, F, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW)


def check_conv_grad_output(op: str, gy, geometry: ConvGeometry) -> None:
    """gy must have the convolution's output shape (N, F, OH, OW)."""
    if tuple(gy.shape) != geometry.y_shape:
        raise ValueError(
            f"kernels.{op}: gy has shape {tuple(gy.shape)} but this convolution "
            f"(input {geometry.x_shape}, weight {geometry.w_shape}) produces {geometry.y_shape}"
        )


# ---------------------------------------------------------------------------------------------
# max_pool2d
# ---------------------------------------------------------------------------------------------

class PoolGeometry(NamedTuple):
    """Every size a 2-D pooling needs: x (N, C, H, W) -> y (N, C, OH, OW), windows KH x KW.

    Same fields as ``ConvGeometry`` without F (pooling keeps the channels), so kernels unpack
    it the same way.
    """

    N: int
    C: int
    H: int
    W: int
    KH: int
    KW: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    dil_h: int
    dil_w: int
    OH: int
    OW: int

    @property
    def x_shape(self):
        return (self.N, self.C, self.H, self.W)

    @property
    def y_shape(self):
        return (self.N, self.C, self.OH, self.OW)


def pool_output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False) -> int:
    """floor (or ceil) of (size + 2*padding - dilation*(kernel - 1) - 1) / stride, plus 1.

    With ceil_mode the last window may hang over the right edge, but (as in PyTorch) it must
    start inside the input or its left padding, never wholly in the right padding.
    """
    span = dilation * (kernel - 1) + 1
    room = size + 2 * padding - span
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def pool2d_geometry(op, x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Validate a pooling's hyper-parameters (PyTorch's rules) and compute its output size.

    ``stride=None`` means stride = kernel_size. Padding may be at most half the window's
    extent, so that every window holds at least one real element.
    """
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"kernels.{op}: input must be 4-D (N, C, H, W), got shape {x_shape}")
    kh, kw = normalize_pair(op, "kernel_size", kernel_size, 1)
    sh, sw = (kh, kw) if stride is None else normalize_pair(op, "stride", stride, 1)
    ph, pw = normalize_pair(op, "padding", padding, 0)
    dh, dw = normalize_pair(op, "dilation", dilation, 1)
    for p, k, d in ((ph, kh, dh), (pw, kw, dw)):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"kernels.{op}: padding should be at most half of the effective "
                             f"kernel size, but got padding={p}, kernel_size={k} and "
                             f"dilation={d}")
    N, C, H, W = x_shape
    OH = pool_output_size(H, kh, sh, ph, dh, ceil_mode)
    OW = pool_output_size(W, kw, sw, pw, dw, ceil_mode)
    if OH < 1 or OW < 1:
        raise ValueError(f"kernels.{op}: input of shape {x_shape} with kernel_size {(kh, kw)}, "
                         f"stride {(sh, sw)}, padding {(ph, pw)}, dilation {(dh, dw)} gives an "
                         f"output of size {(OH, OW)}: the output is too small")
    return PoolGeometry(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


def check_max_pool2d_backward_operands(op, gy, indices, geometry: PoolGeometry) -> None:
    """gy and indices both have the pooling's output shape (N, C, OH, OW); indices are int64
    flat positions h * W + w inside one H x W plane."""
    check_float_array(op, "gy", gy, ndim=4)
    for name, array in (("gy", gy), ("indices", indices)):
        if tuple(array.shape) != geometry.y_shape:
            raise ValueError(
                f"kernels.{op}: {name} has {_describe(array)} but this pooling (input "
                f"{geometry.x_shape}) produces {geometry.y_shape}"
            )
    if np.dtype(indices.dtype) != np.dtype(np.int64):
        raise ValueError(f"kernels.{op}: indices must be int64, got {_describe(indices)}")


# ---------------------------------------------------------------------------------------------
# LSTM cell
# ---------------------------------------------------------------------------------------------

def check_lstm_cell_operands(op: str, gates_name: str, gates, named_states: dict) -> None:
    """``gates`` (N, 4H) and every state in ``named_states`` (N, H), one float dtype."""
    check_float_array(op, gates_name, gates, ndim=2)
    for name, array in named_states.items():
        check_float_array(op, name, array, ndim=2)
    check_same_dtype(op, {gates_name: gates, **named_states})
    n, four_h = gates.shape
    for name, array in named_states.items():
        if tuple(array.shape) != (n, four_h // 4) or four_h % 4:
            raise ValueError(
                f"kernels.{op}: {gates_name} has shape {tuple(gates.shape)}, so {name} must "
                f"have shape (N, H) = ({n}, {four_h} / 4), got {tuple(array.shape)}"
                + ("; the gate axis must hold 4 blocks (i, f, g, o) of H" if four_h % 4 else "")
            )


def check_lstm_sequence_operands(op: str, gates_name: str, gates, w_hh, states: dict,
                                 per_step: dict) -> None:
    """``gates`` (L, N, 4H), w_hh (4H, H), every entry of ``states`` (N, H) and of
    ``per_step`` (L, N, H); one float dtype."""
    check_float_array(op, gates_name, gates, ndim=3)
    check_float_array(op, "w_hh", w_hh, ndim=2)
    for name, array in states.items():
        check_float_array(op, name, array, ndim=2)
    for name, array in per_step.items():
        check_float_array(op, name, array, ndim=3)
    arrays = {"w_hh": w_hh, **states, **per_step}
    check_same_dtype(op, {gates_name: gates, **arrays})
    steps, n, four_h = gates.shape
    hidden = four_h // 4
    expected = {"w_hh": (four_h, hidden), **{name: (n, hidden) for name in states},
                **{name: (steps, n, hidden) for name in per_step}}
    for name, shape in expected.items():
        if four_h % 4 or tuple(arrays[name].shape) != shape:
            raise ValueError(
                f"kernels.{op}: {gates_name} has shape {tuple(gates.shape)} (L, N, 4H), so "
                f"{name} must have shape {shape}, got {tuple(arrays[name].shape)}"
                + ("; the gate axis must hold 4 blocks (i, f, g, o) of H" if four_h % 4 else "")
            )


# ---------------------------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------------------------

def check_relu_backward_operands(op: str, gy, y) -> None:
    check_float_pair(op, "gy", gy, "y", y)
