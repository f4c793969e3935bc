"""Helpers shared by the kernel tests: tolerances, random inputs, CPU implementations.

Imported by the test modules as ``from kernel_testing import ...`` (pytest puts this directory
on sys.path, as it does for tests/opinfo.py).
"""

from __future__ import annotations

import numpy as np

from minigrad import kernels as K

# Implementations every machine can run on NumPy arrays. "cuda" is tested on its own in
# test_kernels_cuda.py (in-process under the simulator or on a GPU; see
# test_kernels_cuda_simulator.py for how a plain `pytest` run covers it).
CPU_IMPLS = [impl for impl in ("numpy", "numba") if impl in K.available("matmul")]

DTYPES = [np.float32, np.float64]

# Tolerances for comparing against a float64 ground truth. float32 results carry ~6e-8
# relative rounding per operation; sums of a few hundred terms and exp push that to ~1e-5.
TOLERANCE = {
    np.dtype(np.float32): dict(rtol=1e-4, atol=1e-5),
    np.dtype(np.float64): dict(rtol=1e-10, atol=1e-12),
}


def assert_close(actual, expected, dtype=None, scale=1.0):
    """``actual`` matches ``expected`` to the tolerance of ``dtype`` (default: actual's).

    ``scale`` widens atol for results that are sums of many terms of size ~1.
    """
    dtype = np.dtype(dtype or actual.dtype)
    tol = TOLERANCE[dtype]
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64),
        np.asarray(expected, dtype=np.float64),
        rtol=tol["rtol"],
        atol=tol["atol"] * scale,
        equal_nan=True,
    )


def numeric_gradient(loss, array, eps=1e-6):
    """d loss() / d array by central differences, perturbing ``array`` in place (float64)."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        up = loss()
        array[index] = saved - eps
        down = loss()
        array[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


def random_array(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


# ---------------------------------------------------------------------------------------------
# Independent float64 ground truths (no code shared with kernels/)
# ---------------------------------------------------------------------------------------------

def softmax_truth(x, axis):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_truth(x, axis):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def conv2d_truth(x, w, stride, padding, dilation):
    """Direct loops over output pixels, in float64: slow, obviously right."""
    (sh, sw), (ph, pw), (dh, dw) = (
        (v, v) if isinstance(v, int) else tuple(v) for v in (stride, padding, dilation)
    )
    x = np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    w = np.asarray(w, np.float64)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH = (H - dh * (KH - 1) - 1) // sh + 1
    OW = (W - dw * (KW - 1) - 1) // sw + 1
    y = np.zeros((N, F, OH, OW))
    for i in range(OH):
        for j in range(OW):
            window = x[:, :, i * sh: i * sh + dh * (KH - 1) + 1: dh,
                       j * sw: j * sw + dw * (KW - 1) + 1: dw]          # (N, C, KH, KW)
            y[:, :, i, j] = np.einsum("nckl,fckl->nf", window, w)
    return y


def max_pool2d_truth(x, kernel, stride, padding, dilation, ceil_mode=False):
    """(y, indices) by direct loops over outputs and window positions: slow, obviously right.
    PyTorch's rule: a value wins if it is strictly greater than the best so far, or NaN."""
    stride = kernel if stride is None else stride
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (
        (v, v) if isinstance(v, int) else tuple(v) for v in (kernel, stride, padding, dilation))
    N, C, H, W = x.shape

    def out_size(size, k, s, p, d):
        room = size + 2 * p - d * (k - 1) - 1
        out = (-(-room // s) if ceil_mode else room // s) + 1
        return out - 1 if ceil_mode and (out - 1) * s >= size + p else out

    OH, OW = out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw)
    y = np.empty((N, C, OH, OW), x.dtype)
    idx = np.empty((N, C, OH, OW), np.int64)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    inside = [(i * sh - ph + p * dh, j * sw - pw + q * dw)
                              for p in range(kh) for q in range(kw)]
                    inside = [(h, v) for h, v in inside if 0 <= h < H and 0 <= v < W]
                    if not inside:                  # dilation stepped over the whole plane
                        y[n, c, i, j] = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
                        idx[n, c, i, j] = -1
                        continue
                    best_at = inside[0]
                    for h, v in inside[1:]:
                        value, best = x[n, c, h, v], x[n, c, best_at[0], best_at[1]]
                        if value > best or value != value:
                            best_at = (h, v)
                    y[n, c, i, j] = x[n, c, best_at[0], best_at[1]]
                    idx[n, c, i, j] = best_at[0] * W + best_at[1]
    return y, idx
