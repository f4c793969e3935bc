"""Matrix product, reference implementation: one call into the vendor BLAS.

    C = A @ B,    C[i, j] = sum_k A[i, k] * B[k, j]        A: (M, K), B: (K, N), C: (M, N)

2*M*N*K floating-point operations (one multiply and one add per term). On NumPy arrays this is
OpenBLAS (or whichever BLAS NumPy was built with); on CuPy arrays the very same line is cuBLAS.
Both are hand-tuned per CPU/GPU generation: they are the bar our Numba kernels are measured
against (see benchmarks/kernels.py).
"""

from __future__ import annotations

from ._device import array_module


def matmul(a, b):
    """A @ B for 2-D float arrays of one dtype (checked by the caller)."""
    xp = array_module(a, b)
    return xp.matmul(a, b)
