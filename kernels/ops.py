"""The public kernel entry points: validate, choose an implementation, run it.

Every op follows the same steps, so the implementations (``<family>_numpy.py``,
``<family>_numba.py``, ``<family>_cuda.py``) stay small and can trust their input:

1. ``dispatch.choose_impl`` checks that the arguments are NumPy or CuPy arrays on one device
   and picks the implementation (``impl=``, ``use(...)``, ``MINIGRAD_KERNELS``, or the
   default rule), or leaves the CPU's choice to a measurement (``MEASURED``);
2. ``_validate`` checks shapes and dtypes and raises errors naming the op and the numbers;
3. the arguments are laid out as the implementations take them: 2-D matrices for matmul,
   2-D C-contiguous rows for softmax, NCHW with a geometry for conv2d. Empty inputs are
   answered here and never reach an implementation;
4. a ``MEASURED`` choice is settled by autotune.py for the call's shape class (timed the first
   time), and ``_call`` runs the implementation's function from registry.py (its file is
   imported on first use, so ``import minigrad.kernels`` never imports Numba nor compiles
   anything).

Outputs are new C-contiguous arrays on the inputs' device, with the inputs' dtype.
"""

from __future__ import annotations

from . import _validate as check
from . import autotune
from ._device import array_module, device_of
from ._threads import call_sized
from .adam_numpy import step_scalars as adam_step_scalars
from .dispatch import MEASURED, choose_impl
from .registry import kernel

# Ops whose Numba kernels are all plain (serial) ``@njit``: ``threads_for`` only chooses
# between the two builds of ``@parallel_njit`` kernels, and with its ``with`` block costs
# ~1.7 us per call, as much as a ReLU on a small activation (measured: 2.6 vs 0.95 us on a
# 4x4 array).
_SERIAL_OPS = frozenset({"relu", "relu_backward", "adam_step"})


def _call(op: str, impl: str, *args):
    """Run ``impl``'s function for ``op`` on ``args``; a parallel Numba kernel runs its
    serial build (one thread) when the input is small (kernels/_threads.py)."""
    function = kernel(op, impl)
    if impl != "numba" or op in _SERIAL_OPS:
        return function(*args)
    return call_sized(_work(args), function, args)       # threads_for(work), inlined


def _work(arrays) -> int:
    work = 0                        # a loop, not sum() over a generator: ~2x cheaper
    for a in arrays:
        work += getattr(a, "size", 0)
    return work


def _measured(op: str, args, writes_arguments: bool = False) -> str:
    """The implementation measured fastest for the shape class of ``args`` (autotune.py),
    timing the candidates now if this class is new here. An op that writes into its
    arguments is timed on copies, so that only the real call changes them."""
    shape_class = autotune.shape_class(op, args)
    impl = autotune.decided(op, shape_class)
    if impl is None:
        trial = tuple(a.copy() if hasattr(a, "copy") else a for a in args) \
            if writes_arguments else args
        impl = autotune.decide(op, shape_class, lambda candidate: _call(op, candidate, *trial))
    return impl


def _run(op: str, chosen, *args):
    """``_call`` with the implementation chosen, measured first if ``chosen`` is MEASURED."""
    if chosen is MEASURED:
        chosen = _measured(op, args)
    return _call(op, chosen, *args)


# ---------------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------------

def matmul(a, b, impl: str | None = None):
    """C = A @ B for 2-D float32/float64 arrays of one dtype: (M, K) @ (K, N) -> (M, N).

    ``impl`` forces "numpy" (BLAS / cuBLAS), "numba" (CPU) or "cuda" (GPU or simulator).
    """
    chosen = choose_impl("matmul", (a, b), impl)
    check.check_matmul_operands(a, b)
    if a.size == 0 or b.size == 0:           # an empty sum is 0
        return array_module(a).zeros((a.shape[0], b.shape[1]), dtype=a.dtype)
    return _run("matmul", chosen, a, b)


def matmul_by(b, impl: str | None = None):
    """``product`` with ``product(a) = a @ b``, for many ``a`` and one ``b``: an RNN's recurrent
    weight, multiplied at every time step.

    The implementation is chosen once, and the Numba one packs ``b`` into its panels once
    (gemm_packed_numba.py) instead of at every call. When ``b`` is large enough to be
    measured, the choice is made at the first product, as ``matmul``'s for that a and b. Every
    ``a`` must be 2-D with b's dtype and ``b.shape[0]`` columns (checked at each call: the
    checks are a few attribute reads).
    """
    chosen = choose_impl("matmul", (b,), impl)
    check.check_float_array("matmul_by", "b", b, ndim=2)
    if b.size == 0:                                     # an empty sum is 0
        return _checked_product(lambda a: matmul(a, b, impl=chosen), b)
    if chosen is MEASURED:
        return _checked_product(_product_measured_at_first_call(b), b)
    return _checked_product(_product(chosen, b), b)


def _product(impl, b):
    """``product(a) = a @ b`` with ``impl``: the Numba one packs b once."""
    if impl == "numba":
        from .matmul_numba import matmul_by as packed_once
        return packed_once(b)
    matmul_b = kernel("matmul", impl)
    return lambda a: matmul_b(a, b)


def _product_measured_at_first_call(b):
    """``product(a) = a @ b`` with the implementation measured for the first a and b."""
    fixed = None

    def product(a):
        nonlocal fixed
        if fixed is None:
            fixed = _product(_measured("matmul", (a, b)), b)
        return fixed(a)
    return product


def _checked_product(product, b):
    def checked(a):
        if type(a) is not type(b) or a.ndim != 2 or a.shape[1] != b.shape[0] \
                or a.dtype != b.dtype:
            device_of("matmul", a, b)                   # not an array, or on another device
            check.check_matmul_operands(a, b)           # raises the full message
        return product(a)
    return checked


# ---------------------------------------------------------------------------------------------
# softmax family: any axis, any ndim, by moving the axis last and flattening to rows
# ---------------------------------------------------------------------------------------------

def _to_rows(x, axis):
    """x with ``axis`` moved last, as a C-contiguous 2-D array of rows."""
    xp = array_module(x)
    if x.ndim == 0:
        return x.reshape(1, 1)
    if axis == x.ndim - 1:                  # already last: skip moveaxis (~2 us of Python)
        return xp.ascontiguousarray(x.reshape(-1, x.shape[axis]))
    moved = xp.moveaxis(x, axis, -1)
    return xp.ascontiguousarray(moved.reshape(-1, x.shape[axis]))


def _from_rows(rows, shape, axis):
    """Inverse of ``_to_rows``: back to ``shape`` with the softmax axis where it was."""
    xp = array_module(rows)
    if len(shape) == 0:
        return rows.reshape(())
    if axis == len(shape) - 1:
        return rows.reshape(shape)          # rows is C-contiguous: so is this view
    moved_shape = tuple(s for i, s in enumerate(shape) if i != axis) + (shape[axis],)
    return xp.ascontiguousarray(xp.moveaxis(rows.reshape(moved_shape), -1, axis))


def _softmax_forward(op, x, axis, impl):
    chosen = choose_impl(op, (x,), impl)
    check.check_float_array(op, "x", x)
    axis = check.normalize_axis(op, axis, x.ndim)
    if x.size == 0:
        return array_module(x).empty(x.shape, dtype=x.dtype)
    out = _run(op, chosen, _to_rows(x, axis))
    return _from_rows(out, x.shape, axis)


def _softmax_backward(op, y, gy, axis, impl):
    chosen = choose_impl(op, (y, gy), impl)
    check.check_softmax_backward_operands(op, y, gy)
    axis = check.normalize_axis(op, axis, y.ndim)
    if y.size == 0:
        return array_module(y).empty(y.shape, dtype=y.dtype)
    out = _run(op, chosen, _to_rows(y, axis), _to_rows(gy, axis))
    return _from_rows(out, y.shape, axis)


def softmax(x, axis: int = -1, impl: str | None = None):
    """exp(x) / sum(exp(x)) along ``axis``, computed stably (the row max is subtracted first)."""
    return _softmax_forward("softmax", x, axis, impl)


def log_softmax(x, axis: int = -1, impl: str | None = None):
    """x - logsumexp(x) along ``axis``, computed stably."""
    return _softmax_forward("log_softmax", x, axis, impl)


def softmax_backward(y, gy, axis: int = -1, impl: str | None = None):
    """Gradient of softmax: gx = y * (gy - sum(gy * y, axis)), where y = softmax(x, axis)."""
    return _softmax_backward("softmax_backward", y, gy, axis, impl)


def log_softmax_backward(y, gy, axis: int = -1, impl: str | None = None):
    """Gradient of log_softmax: gx = gy - exp(y) * sum(gy, axis), where y = log_softmax(x)."""
    return _softmax_backward("log_softmax_backward", y, gy, axis, impl)


# ---------------------------------------------------------------------------------------------
# conv2d: forward and both backward passes share one geometry (kernels/_validate.py)
# ---------------------------------------------------------------------------------------------

def _check_conv_arrays(op, named):
    for name, array in named.items():
        check.check_float_array(op, name, array, ndim=4)
    check.check_same_dtype(op, named)


def conv2d(x, w, stride=1, padding=0, dilation=1, impl: str | None = None):
    """2-D cross-correlation (what deep learning calls convolution), no bias, no groups.

        y[n, f, i, j] = sum_{c, p, q} w[f, c, p, q] * xpad[n, c, i*sh + p*dh, j*sw + q*dw]

    x: (N, C, H, W), w: (F, C, KH, KW) -> y: (N, F, OH, OW); xpad is x with ``padding`` zeros
    on each side. ``stride``, ``padding``, ``dilation``: an int or a (height, width) pair.
    """
    op = "conv2d"
    chosen = choose_impl(op, (x, w), impl)
    _check_conv_arrays(op, {"x": x, "w": w})
    geometry = check.conv2d_geometry(op, x.shape, w.shape, stride, padding, dilation)
    if x.size == 0 or w.size == 0:
        return array_module(x).zeros(geometry.y_shape, dtype=x.dtype)
    return _run(op, chosen, x, w, geometry)


def conv2d_backward_input(gy, w, x_shape, stride=1, padding=0, dilation=1,
                          impl: str | None = None):
    """dL/dx of ``conv2d``, given gy = dL/dy: (N, F, OH, OW) -> (N, C, H, W) = ``x_shape``.

        gx[n, c, h, v] = sum over (f, i, j, p, q) with i*sh + p*dh - ph = h
                                                  and j*sw + q*dw - pw = v
                         of w[f, c, p, q] * gy[n, f, i, j]

    (every input pixel collects the gradient of every output it contributed to).
    """
    op = "conv2d_backward_input"
    chosen = choose_impl(op, (gy, w), impl)
    _check_conv_arrays(op, {"gy": gy, "w": w})
    geometry = check.conv2d_geometry(op, x_shape, w.shape, stride, padding, dilation)
    check.check_conv_grad_output(op, gy, geometry)
    if gy.size == 0 or w.size == 0:
        return array_module(gy).zeros(geometry.x_shape, dtype=gy.dtype)
    return _run(op, chosen, gy, w, geometry)


def conv2d_backward_weight(x, gy, w_shape, stride=1, padding=0, dilation=1,
                           impl: str | None = None):
    """dL/dw of ``conv2d``, given gy = dL/dy: -> (F, C, KH, KW) = ``w_shape``.

        gw[f, c, p, q] = sum_{n, i, j} gy[n, f, i, j] * xpad[n, c, i*sh + p*dh, j*sw + q*dw]
    """
    op = "conv2d_backward_weight"
    chosen = choose_impl(op, (x, gy), impl)
    _check_conv_arrays(op, {"x": x, "gy": gy})
    geometry = check.conv2d_geometry(op, x.shape, w_shape, stride, padding, dilation)
    check.check_conv_grad_output(op, gy, geometry)
    if x.size == 0 or gy.size == 0:
        return array_module(x).zeros(geometry.w_shape, dtype=x.dtype)
    return _run(op, chosen, x, gy, geometry)


# ---------------------------------------------------------------------------------------------
# max_pool2d: the forward pass returns the winners' positions, which the backward pass needs
# ---------------------------------------------------------------------------------------------

def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               impl: str | None = None):
    """(y, indices): the maximum of every window and where it is, as PyTorch's
    ``max_pool2d(..., return_indices=True)``.

        y[n, c, i, j] = max over (p, q) of xpad[n, c, i*sh + p*dh, j*sw + q*dw]

    x: (N, C, H, W) -> y, indices: (N, C, OH, OW); indices are int64 flat positions h * W + w
    inside the H x W plane (-1 for a window that dilation made step over the whole plane). xpad is x padded with -inf; ``stride=None`` means kernel_size.
    x may be float or integer (no gradient for integers, but the maximum is well defined).
    """
    op = "max_pool2d"
    chosen = choose_impl(op, (x,), impl)
    check.check_real_array(op, "x", x, ndim=4)
    geometry = check.pool2d_geometry(op, x.shape, kernel_size, stride, padding, dilation,
                                     ceil_mode)
    if x.size == 0:
        xp = array_module(x)
        return (xp.empty(geometry.y_shape, dtype=x.dtype),
                xp.empty(geometry.y_shape, dtype=xp.int64))
    return _run(op, chosen, x, geometry)


def max_pool2d_backward(gy, indices, x_shape, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, impl: str | None = None):
    """dL/dx of ``max_pool2d`` given gy = dL/dy and the forward's ``indices``:

        gx[n, c, h, w] = sum of gy[n, c, i, j] over the outputs with indices[n, c, i, j] = h*W + w
    """
    op = "max_pool2d_backward"
    chosen = choose_impl(op, (gy, indices), impl)
    geometry = check.pool2d_geometry(op, x_shape, kernel_size, stride, padding, dilation,
                                     ceil_mode)
    check.check_max_pool2d_backward_operands(op, gy, indices, geometry)
    xp = array_module(gy)
    if gy.size == 0:
        return xp.zeros(geometry.x_shape, dtype=gy.dtype)
    # the kernels write gx[indices] without bounds checks: refuse indices outside the plane
    # (-1 marks an empty window, see maxpool2d_numpy.py)
    if int(indices.min()) < -1 or int(indices.max()) >= geometry.H * geometry.W:
        raise ValueError(f"kernels.{op}: indices must lie in [-1, H*W) = [-1, "
                         f"{geometry.H * geometry.W}), got values from {int(indices.min())} "
                         f"to {int(indices.max())}")
    return _run(op, chosen, gy, indices, geometry)


# ---------------------------------------------------------------------------------------------
# LSTM cell: the elementwise part of one step (the products stay in matmul)
# ---------------------------------------------------------------------------------------------

def lstm_cell(gates, c, impl: str | None = None):
    """One LSTM step after its products: (h_t, c_t, acts, tanh_c).

        i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the blocks of gates (N, 4H)
        c_t = f * c + i * g          h_t = o * tanh(c_t)

    ``acts`` (N, 4H) holds (i, f, g, o) and ``tanh_c`` (N, H) tanh(c_t): what the backward needs.
    """
    op = "lstm_cell"
    chosen = choose_impl(op, (gates, c), impl)
    check.check_lstm_cell_operands(op, "gates", gates, {"c": c})
    return _run(op, chosen, gates, c)


def lstm_cell_backward(acts, tanh_c, c, gh, gc, impl: str | None = None):
    """(d gates (N, 4H), dL/dc (N, H)) of ``lstm_cell`` given its ``acts`` and ``tanh_c``, its
    input ``c`` and the gradients gh = dL/dh_t, gc = dL/dc_t (formula in lstm_cell_numpy.py)."""
    op = "lstm_cell_backward"
    chosen = choose_impl(op, (acts, tanh_c, c, gh, gc), impl)
    check.check_lstm_cell_operands(op, "acts", acts,
                                   {"tanh_c": tanh_c, "c": c, "gh": gh, "gc": gc})
    return _run(op, chosen, acts, tanh_c, c, gh, gc)


def lstm_sequence(x_proj, h0, c0, w_hh, impl: str | None = None):
    """One LSTM layer (one direction) over a sequence, after its input products:
    (hs, cs, acts, tanh_cs), every step's h_t, c_t (L, N, H), gate activations (L, N, 4H)
    and tanh(c_t) (L, N, H).

        gates_t = x_proj[t] + h_{t-1} W_hh^T,  then the cell (``lstm_cell``),  t = 0 .. L-1

    x_proj (L, N, 4H) in processing order, h0 and c0 (N, H), w_hh (4H, H) (PyTorch's layout).
    """
    op = "lstm_sequence"
    chosen = choose_impl(op, (x_proj, h0, c0, w_hh), impl)
    check.check_lstm_sequence_operands(op, "x_proj", x_proj, w_hh, {"h0": h0, "c0": c0}, {})
    if x_proj.shape[2] == 0:                    # H = 0: every output is empty
        empty = array_module(x_proj).empty(x_proj.shape, dtype=x_proj.dtype)
        return empty, empty.copy(), empty.copy(), empty.copy()
    return _run(op, chosen, x_proj, h0, c0, w_hh)


def lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn,
                           impl: str | None = None):
    """Backpropagation through time of ``lstm_sequence``: (d_gates (L, N, 4H), dL/dh0,
    dL/dc0) from its acts, tanh_cs and cs, its c0 and w_hh, and the gradients of every h_t
    (g_hs, (L, N, H)) and of the final state (g_hn, g_cn, (N, H)). d_gates[t] is also the
    gradient of x_proj[t]; W_hh's gradient is sum_t d_gates[t]^T h_{t-1}, one product the
    caller takes."""
    op = "lstm_sequence_backward"
    arrays = (acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn)
    chosen = choose_impl(op, arrays, impl)
    check.check_lstm_sequence_operands(op, "acts", acts, w_hh,
                                       {"c0": c0, "g_hn": g_hn, "g_cn": g_cn},
                                       {"tanh_cs": tanh_cs, "cs": cs, "g_hs": g_hs})
    if acts.shape[2] == 0:                      # H = 0: every gradient is empty
        xp = array_module(acts)
        return (xp.empty(acts.shape, dtype=acts.dtype), xp.empty(c0.shape, dtype=acts.dtype),
                xp.empty(c0.shape, dtype=acts.dtype))
    return _run(op, chosen, *arrays)


# ---------------------------------------------------------------------------------------------
# ReLU: elementwise, any shape (the implementations work on the raveled C-contiguous array)
# ---------------------------------------------------------------------------------------------

def relu(x, impl: str | None = None):
    """y = max(x, 0), elementwise: same shape and dtype as x. NaN stays NaN.

    x: float32/float64, any shape and layout (the kernels read a C-contiguous copy if needed).
    """
    op = "relu"
    chosen = choose_impl(op, (x,), impl)
    check.check_float_array(op, "x", x)
    if x.size == 0:
        return array_module(x).empty(x.shape, dtype=x.dtype)
    return _run(op, chosen, x)


def relu_backward(gy, y, impl: str | None = None):
    """dL/dx of ``relu`` given gy = dL/dy and the forward's *output* y:

        gx = gy where y > 0, else 0            (y > 0 exactly where x > 0; NaN > 0 is False)

    gy and y: one float dtype, one shape; gx has that shape and dtype.
    """
    op = "relu_backward"
    chosen = choose_impl(op, (gy, y), impl)
    check.check_relu_backward_operands(op, gy, y)
    if gy.size == 0:
        return array_module(gy).empty(gy.shape, dtype=gy.dtype)
    return _run(op, chosen, gy, y)


# ---------------------------------------------------------------------------------------------
# GELU: elementwise, any shape (the implementations work on the raveled C-contiguous array)
# ---------------------------------------------------------------------------------------------

def gelu(x, approximate: str = "none", impl: str | None = None):
    """y = x * Phi(x) (Phi the standard normal CDF), or with ``approximate="tanh"``
    y = x / 2 * (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), elementwise: x's shape and dtype.

    x: float32/float64, any shape and layout. Formulas and accuracy: gelu_numpy.py,
    gelu_numba.py.
    """
    op = "gelu"
    chosen = choose_impl(op, (x,), impl)
    check.check_float_array(op, "x", x)
    check.check_gelu_approximate(op, approximate)
    if x.size == 0:
        return array_module(x).empty(x.shape, dtype=x.dtype)
    return _run(op, chosen, x, approximate)


def gelu_backward(gy, x, approximate: str = "none", impl: str | None = None):
    """dL/dx of ``gelu`` given gy = dL/dy and the forward's *input* x: gx = gy * gelu'(x).

    gy and x: one float dtype, one shape; gx has that shape and dtype.
    """
    op = "gelu_backward"
    chosen = choose_impl(op, (gy, x), impl)
    check.check_float_pair(op, "gy", gy, "x", x)
    check.check_gelu_approximate(op, approximate)
    if gy.size == 0:
        return array_module(gy).empty(gy.shape, dtype=gy.dtype)
    return _run(op, chosen, gy, x, approximate)


# ---------------------------------------------------------------------------------------------
# Layer normalization: the rows of a 2-D array (the op flattens the normalized dims into N)
# ---------------------------------------------------------------------------------------------

def layer_norm(x, weight=None, bias=None, eps: float = 1e-5, impl: str | None = None):
    """(y, mean, var) of each row of x (R, N), formulas in layer_norm_numpy.py:

        y = (x - mean) / sqrt(var + eps) * weight + bias,   var the biased variance

    weight and bias: (N,) arrays of x's dtype, or None (1 and 0). mean and var: (R,).
    """
    op = "layer_norm"
    chosen = choose_impl(op, (x,), impl)
    check.check_layer_norm_operands(op, x, {}, {"weight": weight, "bias": bias})
    eps = check.real_number(op, "eps", eps)
    xp = array_module(x)
    if x.size == 0:                      # no rows, or rows of nothing: NaN statistics
        return (xp.empty(x.shape, dtype=x.dtype), xp.full(x.shape[0], xp.nan, x.dtype),
                xp.full(x.shape[0], xp.nan, x.dtype))
    return _run(op, chosen, x, weight, bias, eps)


def layer_norm_backward(g, x, rstd, weight=None, impl: str | None = None):
    """(gx (R, N), gw (N,), gb (N,)) of ``layer_norm`` given g = dL/dy, the rows x, and
    rstd = 1 / sqrt(var + eps) (R,) from the forward's var (the mean is taken again); gw and gb are computed whether or
    not there were a weight and a bias (without a weight, gx uses weight = 1)."""
    op = "layer_norm_backward"
    chosen = choose_impl(op, (g, x, rstd), impl)
    check.check_float_pair(op, "g", g, "x", x)
    check.check_layer_norm_operands(op, x, {"rstd": rstd}, {"weight": weight})
    xp = array_module(x)
    if x.size == 0:
        return (xp.empty(x.shape, dtype=x.dtype), xp.zeros(x.shape[1], dtype=x.dtype),
                xp.zeros(x.shape[1], dtype=x.dtype))
    return _run(op, chosen, g, x, rstd, weight)


# ---------------------------------------------------------------------------------------------
# Batch normalization: the channels of an (N, C, M) array (the op flattens H, W... into M)
# ---------------------------------------------------------------------------------------------

def batch_norm(x, weight=None, bias=None, eps: float = 1e-5, impl: str | None = None):
    """(y, mean, var) of each channel of x (N, C, M), over its N * M values (formulas in
    batch_norm_numpy.py):

        y = (x - mean) / sqrt(var + eps) * weight + bias,   var the biased variance

    weight and bias: (C,) arrays of x's dtype, or None (1 and 0). mean and var: (C,).
    """
    op = "batch_norm"
    chosen = choose_impl(op, (x,), impl)
    check.check_batch_norm_operands(op, x, {"weight": weight, "bias": bias})
    eps = check.real_number(op, "eps", eps)
    xp = array_module(x)
    if x.size == 0:                      # no channels, or channels of nothing: NaN statistics
        return (xp.empty(x.shape, dtype=x.dtype), xp.full(x.shape[1], xp.nan, x.dtype),
                xp.full(x.shape[1], xp.nan, x.dtype))
    return _run(op, chosen, x, weight, bias, eps)


def batch_norm_backward(g, x, rstd, weight=None, impl: str | None = None):
    """(gx (N, C, M), gw (C,), gb (C,)) of ``batch_norm`` given g = dL/dy, x, and
    rstd = 1 / sqrt(var + eps) (C,) from the forward's var (the mean is taken again); gw and
    gb are computed whether or not there were a weight and a bias (without a weight, gx uses
    weight = 1)."""
    op = "batch_norm_backward"
    chosen = choose_impl(op, (g, x, rstd), impl)
    check.check_float_pair(op, "g", g, "x", x)
    check.check_batch_norm_operands(op, x, {"rstd": rstd, "weight": weight})
    xp = array_module(x)
    if x.size == 0:
        return (xp.empty(x.shape, dtype=x.dtype), xp.zeros(x.shape[1], dtype=x.dtype),
                xp.zeros(x.shape[1], dtype=x.dtype))
    return _run(op, chosen, g, x, rstd, weight)


# ---------------------------------------------------------------------------------------------
# Adam: one optimizer step on one parameter, in place
# ---------------------------------------------------------------------------------------------

def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, lr, beta1, beta2, eps,
              step, impl: str | None = None) -> None:
    """Step ``step`` (1, 2, ...) of Adam on one parameter, in place (formulas in adam_numpy.py):

        exp_avg    <- lerp(exp_avg, grad, 1 - beta1)
        exp_avg_sq <- beta2 exp_avg_sq + (1 - beta2) grad^2
        max_exp_avg_sq <- max(max_exp_avg_sq, exp_avg_sq)             (AMSGrad, when given)
        param <- param - lr / (1 - beta1^step) * exp_avg
                 / (sqrt(exp_avg_sq) / sqrt(1 - beta2^step) + eps)  (max_exp_avg_sq with AMSGrad)

    ``grad`` is the gradient after weight decay and ``maximize`` (the optimizer's part). Every
    array: float32/float64, one dtype, the parameter's shape, any layout; the updated ones
    writeable and no two sharing memory. 0 <= beta1, beta2 < 1; step >= 1.
    """
    op = "adam_step"
    written = {"param": param, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    if max_exp_avg_sq is not None:
        written["max_exp_avg_sq"] = max_exp_avg_sq
    chosen = choose_impl(op, (grad, *written.values()), impl)
    check.check_adam_operands(op, grad, written)
    lr, beta1, beta2, eps, step = check.check_adam_scalars(op, lr, beta1, beta2, eps, step)
    if param.size == 0:
        return
    step_size, sqrt_bias_correction2 = adam_step_scalars(lr, beta1, beta2, step)
    args = (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, beta2, eps, step_size,
            sqrt_bias_correction2)
    if chosen is MEASURED:                  # timed on copies: the step happens once, below
        chosen = _measured(op, args, writes_arguments=True)
    _call(op, chosen, *args)
