"""The conformance harness itself: it accepts what agrees with PyTorch and catches what does
not (wrong values, wrong gradients, wrong dtypes, missing fields), so a passing conformance
test means something."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")   # PyTorch's test database imports it

import opinfo_harness as harness  # noqa: E402
from torch.testing._internal.opinfo.core import SampleInput  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.ops.linalg import SvdResult  # noqa: E402


def _op(key):
    return next(op for op in harness.all_ops() if harness.op_key(op) == key)


def _run(key, call, dtype=torch.float64, max_samples=4):
    op = _op(key)
    return harness.run_op(op, dtype, max_samples, harness.Resolved(call, "function"))


# -- the acceptance rule -------------------------------------------------------------------------
def test_values_agree_within_tolerance_and_not_outside():
    rng = np.random.default_rng(3)
    expected = rng.normal(size=(3, 7))
    assert harness.values_agree(expected + 1e-9, expected, 1e-7, 1e-7) == (True, "")
    wrong = expected.copy()
    wrong[2, 5] += 1e-3
    ok, message = harness.values_agree(wrong, expected, 1e-7, 1e-7)
    assert not ok and "1 of 21 elements" in message and "[2, 5]" in message


def test_values_agree_nan_matches_nan_but_not_a_number():
    assert harness.values_agree([np.nan, np.inf], [np.nan, np.inf], 1e-7, 1e-7)[0]
    assert not harness.values_agree([np.nan, 1.0], [0.5, 1.0], 1e-7, 1e-7)[0]
    assert not harness.values_agree([np.inf], [1e30], 1e-7, 1e-7)[0]


def test_values_agree_float32_judged_against_float64_reference():
    """Outside the tolerance, minigrad passes if its error from the float64 reference is at
    most twice PyTorch's, and fails beyond."""
    ref = np.array([1.0, 2.0, 3.0])
    torch_value = ref + np.array([0.0, 1e-4, 0.0])            # torch 1e-4 off at element 1
    within = ref + np.array([0.0, -1.9e-4, 0.0])              # minigrad 1.9e-4 off: <= 2x
    beyond = ref + np.array([0.0, -2.5e-4, 0.0])              # 2.5e-4 off: > 2x
    rtol, atol = 1.3e-6, 1e-5
    assert not harness.values_agree(within, torch_value, rtol, atol)[0]   # no reference
    assert harness.values_agree(within, torch_value, rtol, atol, lambda: ref)[0]
    assert not harness.values_agree(beyond, torch_value, rtol, atol, lambda: ref)[0]


def test_tolerance_override_declared_in_op_db_is_used():
    # op_db declares float32 atol 5e-5, rtol 5e-6 for scaled_dot_product_attention
    rtol, atol = harness.tolerance_for(_op("nn.functional.scaled_dot_product_attention"),
                                       torch.float32)
    assert (rtol, atol) == (5e-6, 5e-5)
    assert harness.tolerance_for(_op("sin"), torch.float64) == (1e-7, 1e-7)


# -- converting samples --------------------------------------------------------------------------
def test_conversion_keeps_values_dtypes_0d_and_shared_tensors():
    a = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    scalar = torch.tensor(2.5)
    conversion = harness._Conversion()
    out = conversion((a, [a.detach().t(), scalar], {"dtype": torch.float32,
                                                    "size": torch.Size([2, 3])}))
    mine, (transposed, mine_scalar), kwargs = out
    assert mine.dtype == mg.float64 and mine.requires_grad
    np.testing.assert_array_equal(mine.detach().numpy(), a.detach().numpy())
    assert conversion(a) is mine                      # the same torch tensor: one minigrad tensor
    assert transposed.shape == (3, 4) and conversion.made_contiguous
    np.testing.assert_array_equal(transposed.numpy(), a.detach().numpy().T)
    assert mine_scalar.shape == () and mine_scalar.dtype == mg.float32
    assert kwargs == {"dtype": mg.float32, "size": (2, 3)}


# -- the harness catches what differs -----------------------------------------------------------
def test_correct_implementation_passes():
    result = _run("sin", mg.sin)
    assert result.counted and result.passed


def test_wrong_values_fail():
    result = _run("sin", lambda x: mg.sin(x) * 1.0001)
    assert result.failures and result.failures[0].cause == "mismatch"


def test_wrong_dtype_fails():
    result = _run("sin", lambda x: mg.sin(x).float(), dtype=torch.float64)
    assert "dtype float32" in result.failures[0].message


class _SinWithWrongGradient(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * mg.sin(x)                  # the derivative of sin is cos


def test_wrong_gradient_fails():
    result = _run("sin", _SinWithWrongGradient.apply)
    assert result.failures[0].cause == "gradient"
    assert "gradient of input 0" in result.failures[0].message


def test_output_that_does_not_require_grad_fails():
    result = _run("sin", lambda x: mg.sin(x.detach()))
    assert "does not require grad" in result.failures[0].message


def test_plain_tuple_for_a_named_tuple_fails():
    def max_as_plain_tuple(x, *args, **kwargs):
        return tuple(mg.max(x, *args, **kwargs))
    result = _run("max.reduction_with_dim", max_as_plain_tuple, max_samples=1)
    assert "no field .values" in result.failures[0].message


def test_sample_that_torch_rejects_is_skipped():
    op = _op("add")
    sample = SampleInput(torch.ones(2, dtype=torch.float64), args=(torch.ones(3),))
    result = harness.run_sample(op, harness.resolve(op), sample, 0, torch.float64)
    assert result.status == "skip"


def test_random_op_compared_only_where_torch_is_deterministic():
    """dropout with p=0 is the identity: a dropout that scales by 2 fails there; with p=0.5
    only shapes and dtypes are compared."""
    op = _op("nn.functional.dropout")

    def wrong_dropout(x, p=0.5, training=True):
        return x * 2.0
    wrong = harness.Resolved(
        harness._rebind(op.op, torch=type("M", (), {"nn": type("N", (), {
            "functional": type("F", (), {"dropout": staticmethod(wrong_dropout)})})}),
            wrapper_set_seed=harness._plain_call), "torch code")
    identity = SampleInput(torch.randn(3, 4, dtype=torch.float64), p=0.0, training=True)
    random = SampleInput(torch.randn(3, 4, dtype=torch.float64), p=0.5, training=True)
    assert harness.run_sample(op, wrong, identity, 0, torch.float64).status == "fail"
    assert harness.run_sample(op, wrong, random, 1, torch.float64).status == "pass"


# -- outputs defined up to a choice: compared through output_process_fn_grad ---------------------
def _svd_with_flipped_signs(A, full_matrices=True):
    """A valid SVD other than LAPACK's: every singular vector pair negated."""
    U, S, Vh = mg.linalg.svd(A, full_matrices=full_matrices)
    return SvdResult(-U, S, -Vh)


def test_svd_is_compared_through_the_samples_gauge_invariant_outputs():
    """Singular vectors are fixed only up to sign: another valid choice passes (the samples'
    output_process_fn_grad compares |U|, S, |Vh| and U Vh), a wrong singular value fails."""
    assert not _run("linalg.svd", _svd_with_flipped_signs, max_samples=12).failures

    def wrong_singular_values(A, full_matrices=True):
        U, S, Vh = mg.linalg.svd(A, full_matrices=full_matrices)
        return SvdResult(U, S * 1.001, Vh)

    result = _run("linalg.svd", wrong_singular_values, max_samples=12)
    assert any(f.cause == "mismatch" for f in result.failures)
