"""Softmax and log-softmax on the GPU with Numba CUDA: one block per row, online softmax.

The math is in softmax_numpy.py. The GPU layout of the work:

* One block of THREADS threads per row (rows are independent). Thread t handles elements
  t, t + THREADS, t + 2*THREADS, ... of its row: neighbouring threads read neighbouring
  addresses, so each warp's loads coalesce into few memory transactions.
* Each thread first reduces its own elements to a partial result, then the block combines the
  THREADS partials with a *tree reduction* in shared memory: in round r, thread t < s combines
  its partial with that of thread t + s (s = THREADS/2, THREADS/4, ..., 1), with a
  ``syncthreads`` between rounds. log2(THREADS) rounds instead of THREADS sequential steps.

Online softmax. Softmax needs the row maximum m *and* the sum s = sum_j exp(x_j - m). Computing
them in two passes reads the row from global memory twice (plus once more to write y). Instead
each thread keeps a running maximum and a running sum *relative to it*; when a new element v
exceeds the maximum, the sum so far is rescaled:

    v > m:  s <- s * exp(m - v) + 1,  m <- v          else:  s <- s + exp(v - m)

and two partial results merge the same way (``merge``): m = max(m1, m2),
s = s1 * exp(m1 - m) + s2 * exp(m2 - m). So one read of the row gives (m, s), however long the
row is: shared memory holds one (m, s) pair per thread, never the row itself. The second read
writes y = exp(x - m) / s. (On the CPU the row sits in cache for the second pass, and the
plain three-pass kernel is faster: see softmax_numba.py.)

-inf entries (masked positions) contribute exactly 0 and never produce exp(-inf - -inf) = NaN:
the update skips them, and merging with an empty partial (m = -inf) keeps the other one.

The backward kernels need one plain sum per row (of gy * y, or of gy), reduced the same way.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import cuda

from ._cuda_launch import numba_type, threads_per_block
from ._device import array_module


@functools.lru_cache(maxsize=None)
def softmax_kernels(dtype_str: str, threads: int):
    """The four row kernels for one dtype and block size (a power of two), compiled lazily."""
    if threads & (threads - 1):
        raise ValueError(f"threads per block must be a power of two, got {threads}")
    DT = numba_type(dtype_str)
    # Constants of the array's own dtype: a bare 1.0 is a float64 literal in Numba and would
    # silently turn float32 arithmetic into (on most GPUs much slower) float64 arithmetic.
    scalar = np.dtype(dtype_str).type
    ZERO, ONE, NEG_INF = scalar(0.0), scalar(1.0), scalar(-np.inf)

    @cuda.jit(device=True)
    def online_update(m, s, v):
        """Add element v to a running (max m, sum of exp(x - m) s)."""
        if v > m:
            return v, s * math.exp(m - v) + ONE
        if v != NEG_INF:
            return m, s + math.exp(v - m)
        return m, s

    @cuda.jit(device=True)
    def merge(m1, s1, m2, s2):
        """Combine two running (max, sum) pairs into one."""
        m = max(m1, m2)
        if m == NEG_INF:              # both empty (all -inf so far): nothing to rescale
            return m, s1 + s2
        return m, s1 * math.exp(m1 - m) + s2 * math.exp(m2 - m)

    @cuda.jit(device=True)
    def block_max_and_sum(x, row, m_shared, s_shared):
        """(max, sum of exp(x - max)) of x[row], known to every thread of the block."""
        tid = cuda.threadIdx.x
        m = NEG_INF
        s = ZERO
        for j in range(tid, x.shape[1], threads):       # 1. this thread's elements, online
            m, s = online_update(m, s, x[row, j])
        m_shared[tid] = m
        s_shared[tid] = s
        cuda.syncthreads()
        step = threads // 2
        while step > 0:                                   # 2. tree reduction of the pairs
            if tid < step:
                m, s = merge(m_shared[tid], s_shared[tid],
                              m_shared[tid + step], s_shared[tid + step])
                m_shared[tid] = m
                s_shared[tid] = s
            cuda.syncthreads()
            step //= 2
        return m_shared[0], s_shared[0]

    @cuda.jit(device=True)
    def block_sum(partial, total_shared):
        """Sum of every thread's ``partial``, known to every thread of the block."""
        tid = cuda.threadIdx.x
        total_shared[tid] = partial
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if tid < step:
                total_shared[tid] += total_shared[tid + step]
            cuda.syncthreads()
            step //= 2
        return total_shared[0]

    @cuda.jit
    def softmax_rows(x, y):
        row = cuda.blockIdx.x
        m_shared = cuda.shared.array(threads, DT)     # each shared array on its own line:
        s_shared = cuda.shared.array(threads, DT)     # the simulator aliases two on one line
        m, s = block_max_and_sum(x, row, m_shared, s_shared)
        inv = ONE / s
        for j in range(cuda.threadIdx.x, x.shape[1], threads):
            y[row, j] = math.exp(x[row, j] - m) * inv

    @cuda.jit
    def log_softmax_rows(x, y):
        row = cuda.blockIdx.x
        m_shared = cuda.shared.array(threads, DT)
        s_shared = cuda.shared.array(threads, DT)
        m, s = block_max_and_sum(x, row, m_shared, s_shared)
        log_s = math.log(s) if s > ZERO else NEG_INF     # s = 0: a row of only -inf
        for j in range(cuda.threadIdx.x, x.shape[1], threads):
            y[row, j] = (x[row, j] - m) - log_s

    @cuda.jit
    def softmax_backward_rows(y, gy, gx):
        row = cuda.blockIdx.x
        total_shared = cuda.shared.array(threads, DT)
        partial = ZERO
        for j in range(cuda.threadIdx.x, y.shape[1], threads):
            partial += gy[row, j] * y[row, j]
        dot = block_sum(partial, total_shared)
        for j in range(cuda.threadIdx.x, y.shape[1], threads):
            gx[row, j] = y[row, j] * (gy[row, j] - dot)

    @cuda.jit
    def log_softmax_backward_rows(y, gy, gx):
        row = cuda.blockIdx.x
        total_shared = cuda.shared.array(threads, DT)
        partial = ZERO
        for j in range(cuda.threadIdx.x, y.shape[1], threads):
            partial += gy[row, j]
        total = block_sum(partial, total_shared)
        for j in range(cuda.threadIdx.x, y.shape[1], threads):
            gx[row, j] = gy[row, j] - math.exp(y[row, j]) * total

    return {
        "softmax": softmax_rows,
        "log_softmax": log_softmax_rows,
        "softmax_backward": softmax_backward_rows,
        "log_softmax_backward": log_softmax_backward_rows,
    }


def _run(op, *arrays):
    """Launch ``op``'s kernel with one block per row on 2-D row arrays; returns the output."""
    xp = array_module(*arrays)
    arrays = [xp.ascontiguousarray(a) for a in arrays]
    out = xp.empty_like(arrays[0])
    threads = threads_per_block()
    kernel = softmax_kernels(arrays[0].dtype.str, threads)[op]
    kernel[arrays[0].shape[0], threads](*arrays, out)
    return out


def softmax(x):
    return _run("softmax", x)


def log_softmax(x):
    return _run("log_softmax", x)


def softmax_backward(y, gy):
    return _run("softmax_backward", y, gy)


def log_softmax_backward(y, gy):
    return _run("log_softmax_backward", y, gy)
