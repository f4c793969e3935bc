"""Argument checks and normalisation shared by every implementation.

Each public entry point validates its arguments here *once*, before dispatching, so the three
implementations can assume well-formed input and every user gets the same clear error naming
the op and the offending numbers, whichever implementation would have run.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._device import array_module

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
    """``array`` holds float32/float64 or integers (not bool, not complex, not float16, in the
    machine's byte order: what the compiled kernels can read) and has ``ndim`` dimensions."""
    dtype = np.dtype(array.dtype)
    if not (dtype in FLOAT_DTYPES or (dtype.kind in "iu" and dtype.isnative)):
        raise ValueError(
            f"kernels.{op}: {name} must hold float32, float64 or integers (in native byte "
            f"order), got {_describe(array)}"
        )
    if array.ndim != ndim:
        raise ValueError(f"kernels.{op}: {name} must be {ndim}-D, got {_describe(array)}")


def check_shape(op: str, name: str, shape, ndim: int, meaning: str) -> tuple[int, ...]:
    """A shape passed as an argument (``x_shape`` of a backward pass): ``ndim`` non-negative
    ints, returned as a tuple of Python ints. ``meaning`` names the axes, e.g. "(N, C, H, W)"."""
    try:
        sizes = tuple(shape)
    except TypeError:
        sizes = None
    if (sizes is None or len(sizes) != ndim
            or not all(isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_))
                       and s >= 0 for s in sizes)):
        raise ValueError(f"kernels.{op}: {name} must be {ndim} non-negative ints {meaning}, "
                         f"got {shape!r}")
    return tuple(int(s) for s in sizes)


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


# The largest stride, padding, dilation or kernel size accepted: the compiled kernels compute
# positions such as i * stride + p * dilation in 64-bit ints, which must not overflow.
LARGEST_HYPER_PARAMETER = 2**31 - 1


def normalize_pair(op: str, name: str, value, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints -> (for height, for width), each at least ``minimum`` and at
    most ``LARGEST_HYPER_PARAMETER``."""
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
    if max(pair) > LARGEST_HYPER_PARAMETER:
        raise ValueError(f"kernels.{op}: {name} must be at most 2**31 - 1, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv2d_geometry(op, x_shape, w_shape, stride, padding, dilation) -> ConvGeometry:
    """Validate a convolution's shapes and hyper-parameters and compute its output size."""
    x_shape = check_shape(op, "the input's shape", x_shape, 4, "(N, C, H, W)")
    w_shape = check_shape(op, "the weight's shape", w_shape, 4, "(F, C, KH, KW)")
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
    x_shape = check_shape(op, "the input's shape", x_shape, 4, "(N, C, H, W)")
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


def check_gelu_approximate(op: str, approximate) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"kernels.{op}: approximate must be 'none' or 'tanh', "
                         f"got {approximate!r}")


def check_layer_norm_operands(op: str, x, rows: dict, columns: dict) -> None:
    """x: 2-D float rows (R, N); every array of ``rows`` (R,) and of ``columns`` (N,) (None
    allowed there), all of x's dtype."""
    check_float_array(op, "x", x, ndim=2)
    n_rows, n = x.shape
    named = {"x": x}
    for expected, arrays in ((n_rows, rows), (n, columns)):
        for name, array in arrays.items():
            if array is None:
                continue
            check_float_array(op, name, array)
            if tuple(array.shape) != (expected,):
                raise ValueError(f"kernels.{op}: {name} must have shape ({expected},) for x "
                                 f"of shape {tuple(x.shape)}, got {_describe(array)}")
            named[name] = array
    check_same_dtype(op, named)


def check_batch_norm_operands(op: str, x, channels: dict) -> None:
    """x: 3-D float (N, C, M); every array of ``channels`` (C,) (None allowed), all of x's
    dtype."""
    check_float_array(op, "x", x, ndim=3)
    named = {"x": x}
    for name, array in channels.items():
        if array is None:
            continue
        check_float_array(op, name, array)
        if tuple(array.shape) != (x.shape[1],):
            raise ValueError(f"kernels.{op}: {name} must have shape ({x.shape[1]},) (one per "
                             f"channel) for x of shape {tuple(x.shape)}, got {_describe(array)}")
        named[name] = array
    check_same_dtype(op, named)


# ---------------------------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------------------------

def check_adam_operands(op: str, grad, written: dict) -> None:
    """The parameter and its buffers (``written``: name -> array, updated in place) and the
    gradient: float32/float64, one dtype, the parameter's shape, any layout. The written
    arrays must be writeable and no two arrays may share memory: the implementations read
    and write element by element, and on overlapping arrays their results would differ.

    Called for every parameter at every optimizer step, so the common case (all fine) is a
    few attribute reads per array; the detailed messages are built only when something is
    wrong.
    """
    named = {"grad": grad, **written}
    param = written["param"]
    dtype, shape = param.dtype, param.shape
    if dtype not in FLOAT_DTYPES:
        _explain_adam_operands(op, named)
    owners = set()          # the arrays that own their memory (separate allocations)
    for array in named.values():
        if array.dtype != dtype or array.shape != shape:
            _explain_adam_operands(op, named)
        if isinstance(array, np.ndarray) and array.flags.owndata:
            owners.add(id(array))
    for name, array in written.items():
        if isinstance(array, np.ndarray) and not array.flags.writeable:   # (CuPy: always)
            raise ValueError(f"kernels.{op}: {name} is updated in place but is read-only")
    if len(owners) == len(named):
        return                       # separate allocations, each its own: they cannot overlap
    may_share_memory = array_module(param).may_share_memory
    names = list(named)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if may_share_memory(named[first], named[second]):
                raise ValueError(f"kernels.{op}: {first} and {second} share memory; pass "
                                 "separate arrays")


def _explain_adam_operands(op: str, named: dict) -> None:
    """Raise the error that says which array has the wrong dtype or shape."""
    for name, array in named.items():
        check_float_array(op, name, array)
    check_same_dtype(op, named)
    shape = tuple(named["param"].shape)
    for name, array in named.items():
        if tuple(array.shape) != shape:
            raise ValueError(
                f"kernels.{op}: param has shape {shape} but {name} has shape "
                f"{tuple(array.shape)}; every buffer and the gradient must have the "
                "parameter's shape"
            )


def real_number(op: str, name: str, value) -> float:
    """A Python float from a real number (a Python or NumPy int or float, or a 0-d array of
    one); bool, complex, NaN and anything else are errors."""
    if type(value) is float and value == value:          # the common case, answered first
        return value
    if isinstance(value, (bool, np.bool_)):
        real = False
    elif isinstance(value, (int, float, np.integer, np.floating)):
        real = True
    else:
        real = isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"
    number = float(value) if real else float("nan")
    if number != number:
        raise ValueError(f"kernels.{op}: {name} must be a real number, got {value!r}")
    return number


def check_adam_scalars(op: str, lr, beta1, beta2, eps, step) -> tuple[float, float, float,
                                                                      float, int]:
    """(lr, beta1, beta2, eps, step) as Python numbers: 0 <= beta < 1 and step >= 1, so that
    the bias corrections 1 - beta^step are never zero."""
    lr, eps = real_number(op, "lr", lr), real_number(op, "eps", eps)
    beta1, beta2 = real_number(op, "beta1", beta1), real_number(op, "beta2", beta2)
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"kernels.{op}: {name} must be in [0, 1), got {beta}")
    if (not isinstance(step, (int, np.integer)) or isinstance(step, (bool, np.bool_))
            or step < 1):
        raise ValueError(f"kernels.{op}: step must be an int >= 1 (the number of this step, "
                         f"counting from 1), got {step!r}")
    return lr, beta1, beta2, eps, int(step)
