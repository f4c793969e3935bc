"""minigrad.kernels: the hot paths, each written three times, side by side.

Pure array code: functions take and return ``numpy.ndarray`` (CPU) or ``cupy.ndarray`` (GPU)
and know nothing of Tensors or autograd.

    from minigrad import kernels as K
    K.matmul(a, b)                          # 2-D @ 2-D
    product = K.matmul_by(b); product(a)    # many a, one b (packed once)
    K.softmax(x, axis=-1)                   # also log_softmax, softmax_backward,
                                            #      log_softmax_backward
    K.conv2d(x, w, stride=1, padding=0, dilation=1)
    K.conv2d_backward_input(gy, w, x_shape, ...), K.conv2d_backward_weight(x, gy, w_shape, ...)
    y, idx = K.max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)
    K.max_pool2d_backward(gy, idx, x_shape, kernel_size, ...)
    h, c, acts, tanh_c = K.lstm_cell(gates, c)   # one LSTM step after its products
    K.lstm_cell_backward(acts, tanh_c, c, gh, gc)
    hs, cs, acts, tanh_cs = K.lstm_sequence(x_proj, h0, c0, w_hh)   # a layer's time loop
    d_gates, dh0, dc0 = K.lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn)
    K.relu(x), K.relu_backward(gy, y)       # max(x, 0); gy where y > 0 (y: relu's output)
    K.adam_step(p, g, m, v, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, step=t)   # in place
    K.gelu(x, approximate="none"), K.gelu_backward(gy, x, approximate="none")   # or "tanh"
    y, mean, var = K.layer_norm(x, weight, bias, eps)   # over the rows of a 2-D x
    gx, gw, gb = K.layer_norm_backward(g, x, rstd, weight)
    y, mean, var = K.batch_norm(x, weight, bias, eps)   # per channel of an (N, C, M) x
    gx, gw, gb = K.batch_norm_backward(g, x, rstd, weight)

    K.available("matmul")                   # ['numpy', 'numba'] (+ 'cuda' with a GPU/simulator)
    K.default_impl("softmax", "cpu")        # the default rule (small calls, nothing measured)
    with K.use("numba"): ...                # force one; or impl="numba"; or MINIGRAD_KERNELS=numba
    K.choices()                             # what was measured fastest here, per shape class
    K.clear_choices(); K.cache_file()       # measure again; where the choices are kept

Where to read what (one op family per file, one implementation per file):

    matmul_numpy.py   matmul_numba.py   matmul_cuda.py     GEMM: BLAS, packed register tiles,
                                                           shared-memory tiled
    gemm_packed_numba.py  gemm_broadcast_numba.py  gemm_nt_numba.py   the three Numba GEMMs
    softmax_numpy.py  softmax_numba.py  softmax_cuda.py    stable softmax; fused rows; one
                                                           block per row, online softmax
    conv2d_numpy.py   conv2d_numba.py   conv2d_cuda.py     im2col + GEMM; col2im
    maxpool2d_numpy.py maxpool2d_numba.py maxpool2d_cuda.py  window max + position; scatter
    lstm_cell_numpy.py lstm_cell_numba.py lstm_cell_cuda.py  an LSTM step's gates, one pass
    relu_numpy.py     relu_numba.py     relu_cuda.py       max(x, 0) and its mask, one pass
    adam_numpy.py     adam_numba.py     adam_cuda.py       an Adam step on one parameter, one
                                                           pass
    gelu_numpy.py     gelu_numba.py     gelu_cuda.py       GELU (erf or tanh) and its slope,
                                                           one pass
    layer_norm_numpy.py layer_norm_numba.py layer_norm_cuda.py  layer norm of rows and its
                                                           gradients, one pass per row
    batch_norm_numpy.py batch_norm_numba.py batch_norm_cuda.py  batch norm per channel and its
                                                           gradients, the channel in cache
    registry.py       dispatch.py       autotune.py        every op's implementations;
                                                           choosing; measuring
    ops.py            _validate.py                         entry points; checks
    _device.py        _numba_exp.py                        NumPy/CuPy/simulator; vector exp

Importing this package is cheap: Numba and CuPy are imported, and kernels compiled, on first use.
"""

from .autotune import cache_file, choices, clear_choices
from .dispatch import available, default_impl, use
from .ops import (
    adam_step,
    batch_norm,
    batch_norm_backward,
    conv2d,
    conv2d_backward_input,
    conv2d_backward_weight,
    gelu,
    gelu_backward,
    layer_norm,
    layer_norm_backward,
    log_softmax,
    log_softmax_backward,
    lstm_cell,
    lstm_cell_backward,
    lstm_sequence,
    lstm_sequence_backward,
    matmul,
    matmul_by,
    max_pool2d,
    max_pool2d_backward,
    relu,
    relu_backward,
    softmax,
    softmax_backward,
)
from .registry import IMPLEMENTATIONS, OPS

__all__ = [
    "IMPLEMENTATIONS", "OPS", "available", "default_impl", "use",
    "choices", "clear_choices", "cache_file",
    "matmul", "matmul_by", "softmax", "log_softmax", "softmax_backward", "log_softmax_backward",
    "conv2d", "conv2d_backward_input", "conv2d_backward_weight",
    "max_pool2d", "max_pool2d_backward", "lstm_cell", "lstm_cell_backward",
    "lstm_sequence", "lstm_sequence_backward",
    "relu", "relu_backward", "adam_step", "gelu", "gelu_backward",
    "layer_norm", "layer_norm_backward",
    "batch_norm", "batch_norm_backward",
]
