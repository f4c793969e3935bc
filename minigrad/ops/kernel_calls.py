"""Where the framework's hot paths meet ``minigrad.kernels``.

The kernels take float32 and float64; float16 arrays go through them in float32 (see
``_float16_in_float32``), so a half-precision model never meets a kernel's dtype error.

``minigrad.kernels`` is pure array code (NumPy reference, Numba CPU, Numba CUDA) with a
dispatcher that picks an implementation by device (on the CPU, the faster of NumPy and Numba
as measured on this machine: ``mg.kernels.choices()``), or the one a user forces with
``mg.kernels.use("numba")`` / ``MINIGRAD_KERNELS``. The ops call it through these few
functions, so the framework has exactly one place that knows about kernels.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import backend

_KERNELS = None


def _kernels():
    """minigrad.kernels, set up on first use: the process-wide changes minigrad makes for
    speed (glibc's malloc keeps freed arrays, ``_allocator.py``; Numba's thread pool,
    ``kernels/_numba_cpu.py``) happen here, when a kernel first runs, not at import."""
    global _KERNELS
    if _KERNELS is None:
        from .. import _allocator, kernels
        _allocator.tune_once()
        _KERNELS = kernels
    return _KERNELS


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_HALF = np.dtype(np.float16)


def _float16_in_float32(kernel):
    """``kernel`` (written for float32/float64) made to take float16 arrays as well.

    float16 inputs are widened to float32 (exactly), the kernel runs, and its float32
    results are rounded back to float16: what PyTorch does on the CPU, where float16 ops
    compute in float32 and store float16. Sums (softmax's, a product's) then accumulate in
    float32, which float16 would need anyway: its 11 bits lose a 1 added to 2048. Integer
    results (max_pool2d's indices) pass through. Other dtypes go straight to the kernel.
    """
    def is_half(a):
        return getattr(a, "dtype", None) == _HALF

    def narrow(out):
        if getattr(out, "dtype", None) != np.float32:
            return out
        with np.errstate(over="ignore"):    # beyond float16's range: inf, as in PyTorch
            return out.astype(_HALF)

    @functools.wraps(kernel)
    def call(*args):
        if not is_half(args[0]):        # the ops pass operands of one dtype: the first tells
            return kernel(*args)
        out = kernel(*(a.astype(np.float32) if is_half(a) else a for a in args))
        return tuple(narrow(o) for o in out) if isinstance(out, tuple) else narrow(out)
    return call


@_float16_in_float32
def matmul_2d(a, b):
    """a @ b for two 2-D arrays, through the kernel dispatcher (float32/float64; float16 via
    float32; other dtypes, or two different ones, keep NumPy's matmul)."""
    if a.dtype != b.dtype or a.dtype not in _KERNEL_DTYPES:
        return backend.array_module(a, b).matmul(a, b)
    return _kernels().matmul(a, b)


# 2-D convolution, (N, C, H, W) layout, no groups and no bias (the ops add those).
# stride, padding and dilation are pairs of ints.

@_float16_in_float32
def conv2d(x, w, stride, padding, dilation):
    return _kernels().conv2d(x, w, stride=stride, padding=padding, dilation=dilation)


@_float16_in_float32
def conv2d_backward_input(gy, w, x_shape, stride, padding, dilation):
    return _kernels().conv2d_backward_input(gy, w, tuple(x_shape), stride=stride,
                                            padding=padding, dilation=dilation)


@_float16_in_float32
def conv2d_backward_weight(x, gy, w_shape, stride, padding, dilation):
    return _kernels().conv2d_backward_weight(x, gy, tuple(w_shape), stride=stride,
                                             padding=padding, dilation=dilation)


# max pooling, (N, C, H, W): (y, int64 flat indices h * W + w) and the scatter back

@_float16_in_float32
def max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    return _kernels().max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)


@_float16_in_float32
def max_pool2d_backward(gy, indices, x_shape, kernel_size, stride, padding, dilation,
                        ceil_mode):
    return _kernels().max_pool2d_backward(gy, indices, tuple(x_shape), kernel_size, stride,
                                          padding, dilation, ceil_mode)


# softmax over one axis, and the fused backward passes

@_float16_in_float32
def softmax(x, axis):
    return _kernels().softmax(x, axis=axis)


@_float16_in_float32
def log_softmax(x, axis):
    return _kernels().log_softmax(x, axis=axis)


@_float16_in_float32
def softmax_backward(y, gy, axis):
    return _kernels().softmax_backward(y, gy, axis=axis)


@_float16_in_float32
def log_softmax_backward(y, gy, axis):
    return _kernels().log_softmax_backward(y, gy, axis=axis)


# one LSTM step after its products: (h, c, acts, tanh_c), and its backward (d gates, dc)

@_float16_in_float32
def lstm_cell(gates, c):
    return _kernels().lstm_cell(gates, c)


@_float16_in_float32
def lstm_cell_backward(acts, tanh_c, c, gh, gc):
    return _kernels().lstm_cell_backward(acts, tanh_c, c, gh, gc)


# one LSTM layer's whole time loop (x_proj in processing order), and its backpropagation
# through time: (hs, cs, acts, tanh_cs) and (d_gates, dh0, dc0)

@_float16_in_float32
def lstm_sequence(x_proj, h0, c0, w_hh):
    return _kernels().lstm_sequence(x_proj, h0, c0, w_hh)


@_float16_in_float32
def lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn):
    return _kernels().lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn)


# ReLU: y = max(x, 0), and its gradient gx = gy where y > 0, else 0 (y: the forward's output).
# Dtypes the kernels do not take (float16, integers, bool) keep NumPy's / CuPy's own calls,
# as matmul_2d does; the results are the same (for bool, maximum gives int64, as it always did).

def relu(x):
    if x.dtype not in _KERNEL_DTYPES:
        return backend.array_module(x).maximum(x, 0)
    return _kernels().relu(x)


def relu_backward(gy, y):
    if gy.dtype != y.dtype or gy.dtype not in _KERNEL_DTYPES:
        return backend.array_module(gy, y).where(y > 0, gy, 0).astype(gy.dtype, copy=False)
    return _kernels().relu_backward(gy, y)


def gelu(x, approximate):
    """GELU of an array (``approximate`` "none" or "tanh"); dtypes the kernels do not take
    are computed in float64 and rounded back to theirs (float16 as PyTorch does, in a wider
    type)."""
    if x.dtype not in _KERNEL_DTYPES:
        return _kernels().gelu(x.astype(np.float64), approximate).astype(x.dtype)
    return _kernels().gelu(x, approximate)


def gelu_backward(gy, x, approximate):
    """gy * GELU'(x), in gy's dtype (see ``gelu`` for the other dtypes)."""
    if gy.dtype != x.dtype or gy.dtype not in _KERNEL_DTYPES:
        wide = np.float64
        return _kernels().gelu_backward(gy.astype(wide), x.astype(wide),
                                        approximate).astype(gy.dtype)
    return _kernels().gelu_backward(gy, x, approximate)


def layer_norm(x_rows, weight, bias, eps):
    """(y, mean, var) of the rows of a 2-D float32/float64 array (``kernels.layer_norm``)."""
    return _kernels().layer_norm(x_rows, weight, bias, eps)


def layer_norm_backward(g_rows, x_rows, rstd, weight):
    """(gx, gw, gb) of ``layer_norm`` (``kernels.layer_norm_backward``)."""
    return _kernels().layer_norm_backward(g_rows, x_rows, rstd, weight)


def batch_norm(x_channels, weight, bias, eps):
    """(y, mean, var) of the channels of a 3-D (N, C, M) float32/float64 array
    (``kernels.batch_norm``)."""
    return _kernels().batch_norm(x_channels, weight, bias, eps)


def batch_norm_backward(g_channels, x_channels, rstd, weight):
    """(gx, gw, gb) of ``batch_norm`` (``kernels.batch_norm_backward``)."""
    return _kernels().batch_norm_backward(g_channels, x_channels, rstd, weight)


# ---------------------------------------------------------------------------------------------
# Time loops: one weight multiplied at every step
# ---------------------------------------------------------------------------------------------

def matmul_by(b):
    """``product`` with ``product(a) = a @ b`` for a time loop that multiplies by one weight b
    at every step (``kernels.matmul_by``: the implementation chosen once, and b packed once
    into the Numba GEMM's panels). Other dtypes, or an a whose dtype differs from b's, keep
    ``matmul_2d``."""
    if b.dtype not in _KERNEL_DTYPES:
        return lambda a: matmul_2d(a, b)
    fixed = _kernels().matmul_by(b)
    return lambda a: fixed(a) if a.dtype == b.dtype else matmul_2d(a, b)


# im2col and its adjoint col2im (the reference convolution's, kernels/conv2d_numpy.py; NumPy or
# CuPy): every kernel_size window of an (N, C, H, W) image as a column of
# (C * kH * kW, N * H_out * W_out), and the sum of such columns back into an image. They are
# what F.unfold and F.fold compute. kernel_size, stride, padding and dilation are pairs of ints.

def _block_geometry(op, image_shape, kernel_size, stride, padding, dilation):
    from ..kernels._validate import conv2d_geometry
    return conv2d_geometry(op, image_shape, (1, image_shape[1]) + tuple(kernel_size), stride,
                           padding, dilation)


def im2col(x, kernel_size, stride, padding, dilation):
    from ..kernels import conv2d_numpy
    g = _block_geometry("im2col", x.shape, kernel_size, stride, padding, dilation)
    return conv2d_numpy.im2col(x, g)


def col2im(cols, image_shape, kernel_size, stride, padding, dilation):
    from ..kernels import conv2d_numpy
    g = _block_geometry("col2im", image_shape, kernel_size, stride, padding, dilation)
    return conv2d_numpy.col2im(cols, g)


# Optimizers: Adam's moment and parameter update (optim/adam.py).

def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, lr, beta1, beta2, eps,
              step) -> None:
    """One Adam update of ``param`` and its buffers, in place: ``kernels.adam_step``.

    The kernels take float32 and float64; for another float dtype (float16) this runs the
    kernels' NumPy reference directly, which works in any dtype. A gradient of another dtype
    than the parameter's is cast to it first (PyTorch refuses such a gradient outright).
    """
    grad = grad.astype(param.dtype, copy=False)
    if np.dtype(param.dtype) in _KERNEL_DTYPES:
        _kernels().adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr=lr,
                             beta1=beta1, beta2=beta2, eps=eps, step=step)
        return
    from ..kernels import adam_numpy
    step_size, sqrt_bias_correction2 = adam_numpy.step_scalars(lr, beta1, beta2, step)
    adam_numpy.adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, beta2, eps,
                         step_size, sqrt_bias_correction2)
