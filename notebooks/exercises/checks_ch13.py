"""Checks for the exercises of Chapter 13 (kernels and GPUs)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from .checking import assert_close, attempt, exercise, fail, to_array

# -- Exercise 1 -------------------------------------------------------------------------------
TILED_CASES = [(1024, 1024, 1024, 64, 4), (1024, 1024, 1024, 1, 4), (256, 4096, 128, 128, 4),
               (96, 333, 64, 32, 8), (512, 64, 512, 16, 8)]


def tiled_gemm_intensity_reference(M, K, N, T, itemsize):
    """2 M N K operations; per T x T tile of C a T x K panel of A and a K x T panel of B read,
    the tile written once."""
    tiles = (M // T) * (N // T)
    bytes_moved = itemsize * (tiles * 2 * T * K + M * N)
    return 2 * M * N * K / bytes_moved


@exercise(1, "the arithmetic intensity of a tiled GEMM", "tiled_gemm_intensity")
def tiled_gemm_intensity(tiled_gemm_intensity):
    got = []
    for M, K, N, T, itemsize in TILED_CASES:
        call = f"tiled_gemm_intensity(M={M}, K={K}, N={N}, T={T}, itemsize={itemsize})"
        value = to_array(attempt(call, tiled_gemm_intensity, M, K, N, T, itemsize), call)
        if value.shape != ():
            fail(f"{call} returned an array of shape {value.shape}; return one number, "
                 "floating-point operations per byte.")
        got.append(float(value))
    expected = [tiled_gemm_intensity_reference(*case) for case in TILED_CASES]
    cases = ", ".join(f"{M}x{K}x{N} T={T} itemsize={s}" for M, K, N, T, s in TILED_CASES)
    assert_close(f"tiled_gemm_intensity on the cases {cases}", got, expected, rtol=1e-9,
                 hint="(expected: 2*M*N*K operations, a multiply and an add per term, over "
                      "the bytes moved: (M/T)*(N/T) tiles, each reading a T x K panel of A "
                      "and a K x T panel of B, plus C written once)")
    return ("tiled_gemm_intensity is 2K / (itemsize (2K/T + 1)): about T / itemsize for long "
            "K, 15.5 operations per byte for 64 x 64 float32 tiles and K = 1024, 0.25 for T = 1")


# -- Exercise 2 -------------------------------------------------------------------------------
def partial_max_and_sum(x):
    """Per row of x: (max, sum of exp(x - max)); (-inf, 0) for a row of only -inf or none."""
    m = x.max(axis=1, initial=-np.inf)
    safe = np.where(np.isneginf(m), 0.0, m)
    return m, np.exp(x - safe[:, None]).sum(axis=1)


def _rows_for_merging(rng):
    x = rng.normal(0, 3, (6, 11))
    x[1] *= 400                         # values near +-1000: exp(x) overflows
    x[2, :4] = -np.inf                  # the left part is empty (masked)
    x[3, 6:] = -np.inf                  # the right part is empty
    x[4] = -np.inf                      # everything masked: both parts empty
    return x


@exercise(2, "merging two online-softmax partials", "merge_partials")
def merge_partials(merge_partials):
    x = _rows_for_merging(np.random.default_rng(0))
    with np.errstate(all="ignore"):
        for split in (4, 6):
            left, right = partial_max_and_sum(x[:, :split]), partial_max_and_sum(x[:, split:])
            call = f"merge_partials(m1, s1, m2, s2) for rows of 11 split after column {split}"
            out = attempt(call, merge_partials, left[0].copy(), left[1].copy(),
                          right[0].copy(), right[1].copy())
            if not isinstance(out, tuple) or len(out) != 2:
                fail(f"{call} returned {type(out).__name__}; return a pair (m, s) of arrays, "
                     "one entry per row.")
            m_whole, s_whole = partial_max_and_sum(x)
            got_m, got_s = to_array(out[0], f"{call}[0]"), to_array(out[1], f"{call}[1]")
            assert_close(f"{call}: the merged maximum m", got_m, m_whole, rtol=1e-12,
                         hint="(expected: the larger of m1 and m2)")
            if np.isnan(got_s[4]):
                fail(f"{call}: the merged sum s is nan for row 4, whose entries are all -inf "
                     "(both partials are (m, s) = (-inf, 0)); expected 0. exp(m1 - m) is "
                     "exp(-inf - (-inf)) = exp(nan) there: when the merged maximum is -inf, "
                     "nothing needs rescaling.")
            assert_close(f"{call}: the merged sum s", got_s, s_whole, rtol=1e-9, atol=1e-12,
                         hint="(expected: s1 * exp(m1 - m) + s2 * exp(m2 - m), each sum "
                              "rescaled from its own maximum to the merged one)")
    return ("merge_partials rescales each sum to the merged maximum, on rows of +-1000 and "
            "masked (-inf) parts")


# -- Exercise 3 -------------------------------------------------------------------------------
def gelu_reference(x):
    """F.gelu's default (the exact, erf form) in float64."""
    return F.gelu(mg.tensor(np.asarray(x, dtype=np.float64))).numpy()


def _gelu_inputs(rng, n, dtype):
    return np.concatenate([np.linspace(-6, 6, 13), rng.normal(0, 2, n - 13)]).astype(dtype)


def _compiled(call, fn):
    __tracebackhide__ = True
    from numba import njit
    return attempt(f"numba.njit({call})", njit, fn)


@exercise(3, "a fused GELU kernel", "gelu_forward")
def gelu_forward(gelu_forward):
    rng = np.random.default_rng(3)
    small = np.array([-1.0, 0.0, 2.0])
    attempt("gelu_forward(np.array([-1.0, 0.0, 2.0])) (plain Python)", gelu_forward, small)
    kernel = _compiled("gelu_forward", gelu_forward)
    for n, dtype, rtol in ((101, np.float64, 1e-12), (37, np.float32, 2e-6)):
        x = _gelu_inputs(rng, n, dtype)
        call = f"numba.njit(gelu_forward)(x) for x of {n} {np.dtype(dtype).name}"
        y = attempt(call, kernel, x.copy())
        if not isinstance(y, np.ndarray) or y.shape != x.shape:
            fail(f"{call} returned {type(y).__name__} {getattr(y, 'shape', '')}; return a new "
                 f"array of the input's shape {x.shape}.")
        if y.dtype != x.dtype:
            fail(f"{call} returned {y.dtype}; keep the input's dtype (np.empty_like(x)).")
        expected = gelu_reference(x)
        tanh_form = F.gelu(mg.tensor(x.astype(np.float64)), approximate="tanh").numpy()
        if not np.allclose(y, expected, rtol=rtol, atol=1e-7) and \
                np.allclose(y, tanh_form, rtol=rtol, atol=1e-6):
            fail(f"{call} is GELU's tanh approximation (F.gelu(x, approximate='tanh')); "
                 "F.gelu's default, which this kernel must match, is the exact form "
                 "0.5 * x * (1 + erf(x / sqrt(2))): math.erf.")
        assert_close(call, y, expected, rtol=rtol, atol=1e-7,
                     hint="(expected: F.gelu(x), 0.5 * x * (1 + erf(x / sqrt(2))))")
    return "gelu_forward compiles with numba.njit and matches F.gelu in float64 and float32"


# -- Exercise 4 -------------------------------------------------------------------------------
@exercise(4, "its backward, and a Function around both", "GELU")
def gelu_function(GELU):
    rng = np.random.default_rng(4)
    x = mg.tensor(rng.normal(0, 2, (3, 5)), requires_grad=True)
    y = attempt("GELU.apply(x)", GELU.apply, x)
    if not isinstance(y, mg.Tensor):
        fail(f"GELU.apply(x) returned {type(y).__name__}; forward must return a Tensor "
             "(mg.tensor(your array)).")
    assert_close("GELU.apply(x) (the forward pass) for x of shape (3, 5)", y,
                 gelu_reference(x.detach().numpy()), rtol=1e-12, atol=1e-12)
    attempt("gradcheck of your GELU.backward", mg.autograd.gradcheck, GELU.apply, (x,))
    x32 = mg.tensor(rng.normal(0, 2, (4, 7)).astype(np.float32), requires_grad=True)
    out = attempt("GELU.apply(x) for float32 x of shape (4, 7)", GELU.apply, x32)
    gy = mg.tensor(rng.normal(0, 1, (4, 7)).astype(np.float32))
    (gx,) = attempt("mg.autograd.grad(GELU.apply(x), x, gy) in float32", mg.autograd.grad,
                    out, x32, gy)
    x_ref = mg.tensor(x32.detach().numpy(), requires_grad=True)
    (expected,) = mg.autograd.grad(F.gelu(x_ref), x_ref, gy)
    if to_array(gx, "the float32 gradient").shape != (4, 7):
        fail(f"the gradient of GELU.apply(x) for x of shape (4, 7) has shape "
             f"{tuple(gx.shape)}: reshape your kernel's output to x.shape.")
    assert_close("the gradient of GELU.apply(x) for float32 x of shape (4, 7)", gx,
                 expected.numpy(), rtol=2e-5, atol=1e-6)
    return "GELU passes gradcheck in float64 and matches F.gelu's gradient in float32"


__all__ = ["tiled_gemm_intensity", "merge_partials", "gelu_forward", "gelu_function",
           "tiled_gemm_intensity_reference", "partial_max_and_sum", "gelu_reference"]
