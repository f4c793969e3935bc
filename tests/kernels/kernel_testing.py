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
