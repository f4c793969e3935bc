"""Every kernel entry point against hostile input: wrong shapes, mismatched operands, zero-size
dimensions, non-contiguous views, odd dtypes, bad shape arguments, out-of-range indices.

The compiled kernels index arrays without bounds checks, so each entry point must refuse such
input before any kernel runs (a ValueError or TypeError naming ``kernels.<op>``) or handle it
correctly (empty and non-contiguous inputs return results of the right shape). The calls run
in a child process (isolated.py): a kernel writing past an array's end would crash the
process, and that must fail one test, not end the test run.

The Numba implementation is forced in every call: it is the one without bounds checks.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from isolated import PREAMBLE, run_isolated

pytest.importorskip("numba")


class Raises(NamedTuple):
    exception: str       # class name
    pattern: str         # regular expression the message must match


class Returns(NamedTuple):
    pattern: str         # regular expression the repr of the value must match


HELPERS = PREAMBLE + """\
f32, f64 = np.float32, np.float64

def ones(*shape, dtype=f32):
    return np.ones(shape, dtype)

def shapes(out):
    return [a.shape for a in out] if isinstance(out, tuple) else out.shape

def adam(p, g, m, v, v_max=None, **scalars):
    settings = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, step=1, impl="numba")
    return K.adam_step(p, g, m, v, v_max, **{**settings, **scalars})

def readonly(a):
    a.flags.writeable = False
    return a
"""

CASES = {
    # -- matmul -----------------------------------------------------------------------------
    "matmul inner sizes differ": (
        "K.matmul(ones(3, 4), ones(5, 2), impl='numba')",
        Raises("ValueError", r"kernels\.matmul: .*\(3, 4\).*\(5, 2\).*inner sizes differ")),
    "matmul empty inner axis": (
        "K.matmul(ones(3, 0), ones(0, 2), impl='numba').tolist()",
        Returns(r"\[\[0\.0, 0\.0\], \[0\.0, 0\.0\], \[0\.0, 0\.0\]\]")),
    "matmul non-contiguous": (
        "shapes(K.matmul(ones(6, 8)[::2, ::2], ones(8, 5)[::2], impl='numba'))",
        Returns(r"\(3, 5\)")),
    "matmul 1-D operand": (
        "K.matmul(ones(3), ones(3, 2), impl='numba')",
        Raises("ValueError", r"kernels\.matmul: .*both operands must be 2-D")),
    "matmul_by wrong left operand": (
        "K.matmul_by(ones(3, 4), impl='numba')(ones(2, 5))",
        Raises("ValueError", r"kernels\.matmul: .*\(2, 5\).*\(3, 4\)")),
    "matmul_by a list": (
        "K.matmul_by(ones(3, 4), impl='numba')([[1.0, 2.0, 3.0]])",
        Raises("TypeError", r"kernels\.matmul: expected numpy\.ndarray or cupy\.ndarray")),
    "matmul_by zero rows": (
        "shapes(K.matmul_by(ones(3, 4), impl='numba')(ones(0, 3)))",
        Returns(r"\(0, 4\)")),
    # -- softmax ----------------------------------------------------------------------------
    "softmax_backward shapes differ": (
        "K.softmax_backward(ones(4, 6), ones(4, 5), impl='numba')",
        Raises("ValueError", r"kernels\.softmax_backward: y has shape \(4, 6\).*gy has shape "
                             r"\(4, 5\)")),
    "log_softmax_backward dtypes differ": (
        "K.log_softmax_backward(ones(4, 6), ones(4, 6, dtype=f64), impl='numba')",
        Raises("ValueError", r"kernels\.log_softmax_backward: dtypes differ")),
    "softmax non-contiguous along axis 0": (
        "shapes(K.softmax(ones(4, 6)[:, ::2], axis=0, impl='numba'))",
        Returns(r"\(4, 3\)")),
    "softmax zero-size": (
        "shapes(K.softmax(ones(0, 5), impl='numba'))", Returns(r"\(0, 5\)")),
    # -- conv2d -----------------------------------------------------------------------------
    "conv2d channels differ": (
        "K.conv2d(ones(1, 3, 5, 5), ones(2, 4, 3, 3), impl='numba')",
        Raises("ValueError", r"kernels\.conv2d: input has 3 channels")),
    "conv2d zero channels": (
        "shapes(K.conv2d(ones(1, 0, 5, 5), ones(2, 0, 3, 3), impl='numba'))",
        Returns(r"\(1, 2, 3, 3\)")),
    "conv2d non-contiguous": (
        "shapes(K.conv2d(ones(2, 3, 10, 10)[:, :, ::2, ::2], ones(2, 3, 6, 3)[:, :, ::2],"
        " impl='numba'))",
        Returns(r"\(2, 2, 3, 3\)")),
    "conv2d_backward_input x_shape with a float": (
        "K.conv2d_backward_input(ones(1, 2, 3, 3), ones(2, 1, 3, 3), (1, 1, 5.7, 5),"
        " impl='numba')",
        Raises("ValueError", r"kernels\.conv2d_backward_input: the input's shape must be 4 "
                             r"non-negative ints \(N, C, H, W\), got \(1, 1, 5\.7, 5\)")),
    "conv2d_backward_input x_shape a string": (
        "K.conv2d_backward_input(ones(1, 2, 3, 3), ones(2, 1, 3, 3), 'abcd', impl='numba')",
        Raises("ValueError", r"kernels\.conv2d_backward_input: the input's shape must be 4")),
    "conv2d_backward_input negative x_shape": (
        "K.conv2d_backward_input(ones(1, 2, 1, 3), ones(2, 1, 3, 3), (1, 1, -1, 5), padding=2,"
        " impl='numba')",
        Raises("ValueError", r"kernels\.conv2d_backward_input: the input's shape must be 4 "
                             r"non-negative ints")),
    "conv2d_backward_input gy of another shape": (
        "K.conv2d_backward_input(ones(1, 2, 4, 4), ones(2, 1, 3, 3), (1, 1, 5, 5),"
        " impl='numba')",
        Raises("ValueError", r"kernels\.conv2d_backward_input: gy has shape \(1, 2, 4, 4\)")),
    "conv2d_backward_weight w_shape None": (
        "K.conv2d_backward_weight(ones(1, 1, 5, 5), ones(1, 2, 3, 3), None, impl='numba')",
        Raises("ValueError", r"kernels\.conv2d_backward_weight: the weight's shape must be 4")),
    "conv2d_backward_weight non-contiguous": (
        "shapes(K.conv2d_backward_weight(ones(2, 3, 10, 10)[:, :, ::2, ::2],"
        " ones(2, 2, 6, 6)[:, :, ::2, ::2], (2, 3, 3, 3), impl='numba'))",
        Returns(r"\(2, 3, 3, 3\)")),
    # -- max_pool2d -------------------------------------------------------------------------
    "max_pool2d big-endian floats": (
        "K.max_pool2d(ones(1, 1, 4, 4, dtype='>f4'), 2, impl='numba')",
        Raises("ValueError", r"kernels\.max_pool2d: x must hold float32, float64 or integers "
                             r"\(in native byte order\), got shape \(1, 1, 4, 4\) and dtype >f4")),
    "max_pool2d big-endian ints": (
        "K.max_pool2d(ones(1, 1, 4, 4, dtype='>i4'), 2, impl='numba')",
        Raises("ValueError", r"kernels\.max_pool2d: x must hold float32, float64 or integers")),
    "max_pool2d float16": (
        "K.max_pool2d(ones(1, 1, 4, 4, dtype=np.float16), 2, impl='numba')",
        Raises("ValueError", r"kernels\.max_pool2d: x must hold float32, float64 or integers")),
    "max_pool2d stride past int64": (
        "K.max_pool2d(ones(1, 1, 4, 4), 3, stride=2**63, padding=1, impl='numba')",
        Raises("ValueError", r"kernels\.max_pool2d: stride must be at most 2\*\*31 - 1, got "
                             r"9223372036854775808")),
    "max_pool2d zero channels": (
        "shapes(K.max_pool2d(ones(1, 0, 4, 4), 2, impl='numba'))",
        Returns(r"\[\(1, 0, 2, 2\), \(1, 0, 2, 2\)\]")),
    "max_pool2d non-contiguous": (
        "shapes(K.max_pool2d(ones(1, 1, 8, 8)[:, :, ::2, ::2], 2, impl='numba'))",
        Returns(r"\[\(1, 1, 2, 2\), \(1, 1, 2, 2\)\]")),
    "max_pool2d_backward indices past the plane": (
        "K.max_pool2d_backward(ones(1, 1, 2, 2), np.full((1, 1, 2, 2), 16), (1, 1, 4, 4), 2,"
        " impl='numba')",
        Raises("ValueError", r"kernels\.max_pool2d_backward: indices must lie in \[-1, H\*W\) "
                             r"= \[-1, 16\), got values from 16 to 16")),
    "max_pool2d_backward negative indices": (
        "K.max_pool2d_backward(ones(1, 1, 2, 2), np.full((1, 1, 2, 2), -5), (1, 1, 4, 4), 2,"
        " impl='numba')",
        Raises("ValueError", r"kernels\.max_pool2d_backward: indices must lie in")),
    "max_pool2d_backward indices of another shape": (
        "K.max_pool2d_backward(ones(1, 1, 2, 2), np.zeros((1, 1, 3, 3), np.int64),"
        " (1, 1, 4, 4), 2, impl='numba')",
        Raises("ValueError", r"kernels\.max_pool2d_backward: indices has shape \(1, 1, 3, 3\)")),
    "max_pool2d_backward int32 indices": (
        "K.max_pool2d_backward(ones(1, 1, 2, 2), np.zeros((1, 1, 2, 2), np.int32),"
        " (1, 1, 4, 4), 2, impl='numba')",
        Raises("ValueError", r"kernels\.max_pool2d_backward: indices must be int64")),
    "max_pool2d_backward x_shape with a float": (
        "K.max_pool2d_backward(ones(1, 1, 2, 2), np.zeros((1, 1, 2, 2), np.int64),"
        " (1, 1, 4.9, 4), 2, impl='numba')",
        Raises("ValueError", r"kernels\.max_pool2d_backward: the input's shape must be 4 "
                             r"non-negative ints")),
    "max_pool2d_backward non-contiguous": (
        "shapes(K.max_pool2d_backward(ones(1, 1, 4, 4)[:, :, ::2, ::2],"
        " np.zeros((1, 1, 4, 4), np.int64)[:, :, ::2, ::2], (1, 1, 4, 4), 2, impl='numba'))",
        Returns(r"\(1, 1, 4, 4\)")),
    # -- relu -------------------------------------------------------------------------------
    "relu_backward shapes differ": (
        "K.relu_backward(ones(4, 6), ones(6, 4), impl='numba')",
        Raises("ValueError", r"kernels\.relu_backward: gy has shape \(4, 6\).*y has shape "
                             r"\(6, 4\)")),
    "relu non-contiguous": (
        "K.relu(-ones(4, 6)[:, ::2], impl='numba').tolist()[0]", Returns(r"\[0\.0, 0\.0, 0\.0\]")),
    # -- LSTM -------------------------------------------------------------------------------
    "lstm_cell gate axis not 4H": (
        "K.lstm_cell(ones(3, 10), ones(3, 2), impl='numba')",
        Raises("ValueError", r"kernels\.lstm_cell: gates has shape \(3, 10\)")),
    "lstm_cell_backward state of another shape": (
        "K.lstm_cell_backward(ones(3, 8), ones(3, 2), ones(3, 2), ones(3, 3), ones(3, 2),"
        " impl='numba')",
        Raises("ValueError", r"kernels\.lstm_cell_backward: .*gh must have shape")),
    "lstm_cell zero batch": (
        "shapes(K.lstm_cell(ones(0, 8), ones(0, 2), impl='numba'))",
        Returns(r"\[\(0, 2\), \(0, 2\), \(0, 8\), \(0, 2\)\]")),
    "lstm_sequence zero hidden size": (
        "shapes(K.lstm_sequence(ones(2, 3, 0), ones(3, 0), ones(3, 0), ones(0, 0),"
        " impl='numba'))",
        Returns(r"\[\(2, 3, 0\), \(2, 3, 0\), \(2, 3, 0\), \(2, 3, 0\)\]")),
    "lstm_sequence_backward zero hidden size": (
        "shapes(K.lstm_sequence_backward(ones(2, 3, 0), ones(2, 3, 0), ones(2, 3, 0),"
        " ones(3, 0), ones(0, 0), ones(2, 3, 0), ones(3, 0), ones(3, 0), impl='numba'))",
        Returns(r"\[\(2, 3, 0\), \(3, 0\), \(3, 0\)\]")),
    "lstm_sequence zero steps": (
        "shapes(K.lstm_sequence(ones(0, 3, 8), ones(3, 2), ones(3, 2), ones(8, 2),"
        " impl='numba'))",
        Returns(r"\[\(0, 3, 2\), \(0, 3, 2\), \(0, 3, 8\), \(0, 3, 2\)\]")),
    "lstm_sequence w_hh of another shape": (
        "K.lstm_sequence(ones(2, 3, 8), ones(3, 2), ones(3, 2), ones(8, 3), impl='numba')",
        Raises("ValueError", r"kernels\.lstm_sequence: .*w_hh must have shape \(8, 2\), got "
                             r"\(8, 3\)")),
    "lstm_sequence_backward g_hs of other steps": (
        "K.lstm_sequence_backward(ones(2, 3, 8), ones(2, 3, 2), ones(2, 3, 2), ones(3, 2),"
        " ones(8, 2), ones(5, 3, 2), ones(3, 2), ones(3, 2), impl='numba')",
        Raises("ValueError", r"kernels\.lstm_sequence_backward: .*g_hs must have shape "
                             r"\(2, 3, 2\), got \(5, 3, 2\)")),
    "lstm_sequence non-contiguous w_hh": (
        "shapes(K.lstm_sequence(ones(2, 3, 8), ones(3, 2), ones(3, 2), ones(2, 8).T,"
        " impl='numba'))",
        Returns(r"\[\(2, 3, 2\), \(2, 3, 2\), \(2, 3, 8\), \(2, 3, 2\)\]")),
    # -- adam_step: a stale checkpoint's buffers, and every other way to hand it bad arrays ---
    "adam_step buffers of a smaller parameter": (
        "adam(ones(4, 5), ones(4, 5), ones(4, 3), ones(4, 3))",
        Raises("ValueError", r"kernels\.adam_step: param has shape \(4, 5\) but exp_avg has "
                             r"shape \(4, 3\)")),
    "adam_step buffers of a larger parameter": (
        "adam(ones(4, 3), ones(4, 3), ones(40, 50), ones(40, 50))",
        Raises("ValueError", r"kernels\.adam_step: param has shape \(4, 3\) but exp_avg has "
                             r"shape \(40, 50\)")),
    "adam_step gradient of another shape": (
        "adam(ones(4, 5), ones(5, 4), ones(4, 5), ones(4, 5))",
        Raises("ValueError", r"kernels\.adam_step: param has shape \(4, 5\) but grad has shape "
                             r"\(5, 4\)")),
    "adam_step same size, other shape": (
        "adam(ones(4, 5), ones(4, 5), ones(20), ones(4, 5))",
        Raises("ValueError", r"kernels\.adam_step: param has shape \(4, 5\) but exp_avg has "
                             r"shape \(20,\)")),
    "adam_step max_exp_avg_sq of another shape": (
        "adam(ones(4, 5), ones(4, 5), ones(4, 5), ones(4, 5), ones(2))",
        Raises("ValueError", r"kernels\.adam_step: param has shape \(4, 5\) but max_exp_avg_sq "
                             r"has shape \(2,\)")),
    "adam_step dtypes differ": (
        "adam(ones(4, 5), ones(4, 5, dtype=f64), ones(4, 5), ones(4, 5))",
        Raises("ValueError", r"kernels\.adam_step: dtypes differ")),
    "adam_step integer arrays": (
        "adam(*[ones(4, dtype=np.int64) for _ in range(4)])",
        Raises("ValueError", r"kernels\.adam_step: grad must be float32 or float64")),
    "adam_step read-only buffer": (
        "adam(ones(4), ones(4), readonly(ones(4)), ones(4))",
        Raises("ValueError", r"kernels\.adam_step: exp_avg is updated in place but is "
                             r"read-only")),
    "adam_step one array as two buffers": (
        "(lambda m: adam(ones(4), ones(4), m, m))(ones(4))",
        Raises("ValueError", r"kernels\.adam_step: exp_avg and exp_avg_sq share memory")),
    "adam_step overlapping views": (
        "(lambda big: adam(big[:4], ones(4), big[2:6], ones(4)))(ones(8))",
        Raises("ValueError", r"kernels\.adam_step: param and exp_avg share memory")),
    "adam_step a list": (
        "adam(ones(4), [1.0, 1.0, 1.0, 1.0], ones(4), ones(4))",
        Raises("TypeError", r"kernels\.adam_step: expected numpy\.ndarray")),
    "adam_step step 0": (
        "adam(ones(4), ones(4), ones(4), ones(4), step=0)",
        Raises("ValueError", r"kernels\.adam_step: step must be an int >= 1")),
    "adam_step beta1 of 1": (
        "adam(ones(4), ones(4), ones(4), ones(4), beta1=1.0)",
        Raises("ValueError", r"kernels\.adam_step: beta1 must be in \[0, 1\), got 1\.0")),
    "adam_step lr not a number": (
        "adam(ones(4), ones(4), ones(4), ones(4), lr='0.1')",
        Raises("ValueError", r"kernels\.adam_step: lr must be a real number, got '0\.1'")),
    "adam_step zero-size": (
        "adam(ones(0, 3), ones(0, 3), ones(0, 3), ones(0, 3))", Returns(r"None")),
    "adam_step 0-d": (
        "(lambda p: (adam(p, ones(), ones(), ones()), p.shape))(ones())",
        Returns(r"\(None, \(\)\)")),
    "adam_step non-contiguous, written back": (
        "(lambda big: (adam(big[::2, ::3], ones(3, 2), ones(3, 2), ones(3, 2), ones(3, 2)),"
        " int((big != 1).sum()))[1])(ones(6, 6))",
        Returns(r"^6$")),
}


@pytest.fixture(scope="module")
def outcomes():
    return run_isolated({name: code for name, (code, _) in CASES.items()}, preamble=HELPERS)


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_is_refused_or_handled(name, outcomes):
    expected, outcome = CASES[name][1], outcomes[name]
    if isinstance(expected, Raises):
        assert outcome.kind == "raised", outcome
        assert outcome.exception == expected.exception, outcome
        assert re.search(expected.pattern, outcome.text), outcome
    else:
        assert outcome.kind == "returned", outcome
        assert re.search(expected.pattern, outcome.text), outcome


def test_isolation_reports_a_crash_and_runs_the_rest():
    """The helper itself: a snippet that kills its process is reported, the next still runs."""
    found = run_isolated({"dies": "__import__('os').abort()", "after": "1 + 1"})
    assert found["dies"].kind == "crashed"
    assert found["after"] == ("returned", None, "2")
