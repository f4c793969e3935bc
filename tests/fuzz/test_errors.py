"""The clear-error rule itself (errors.py): it accepts minigrad's own explanations and rejects
what leaks from NumPy, Numba and Python."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

from .errors import ErrorInfo, assert_clear_error, clear_error_problem

MINIGRAD_FILE = mg.ops.reduce.__file__


def _caught(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an exception")


def test_accepts_minigrads_own_error_naming_the_op():
    exc = _caught(lambda: mg.sum(mg.zeros(2, 3), dim=5))
    assert clear_error_problem(exc, "sum") is None
    assert_clear_error(exc, ("sum", "reduce"))


def test_a_clear_error_may_quote_numpy_after_its_own_words():
    info = ErrorInfo("builtins", "IndexError", "index 5 is invalid for a tensor of shape "
                     "(2, 3): index 5 is out of bounds for axis 0 with size 2", MINIGRAD_FILE)
    assert clear_error_problem(info, "index") is None


@pytest.mark.parametrize("make, why", [
    (lambda: np.moveaxis(np.zeros(2), 3, 0), "not one of the standard types"),   # AxisError
    (lambda: np.zeros(2) + np.zeros(3), "does not name the op"),
    (lambda: 1 // 0, "not one of the standard types"),                            # ZeroDivision
    (lambda: {}["sum"], "not one of the standard types"),                         # KeyError
    (lambda: None.dtype, "not one of the standard types"),                        # Attribute
])
def test_rejects_library_and_python_internals(make, why):
    problem = clear_error_problem(_caught(make), "sum")
    assert problem is not None and why in problem
    with pytest.raises(AssertionError, match="not a clear error"):
        assert_clear_error(_caught(make), "sum")


def test_rejects_numpy_messages_even_when_they_name_the_op():
    info = ErrorInfo("builtins", "ValueError", "zero-size array to reduction operation "
                     "maximum which has no identity", MINIGRAD_FILE)
    assert "NumPy's or Numba's own" in clear_error_problem(info, "maximum")


def test_rejects_errors_raised_outside_minigrad():
    info = ErrorInfo("builtins", "ValueError", "sum: bad", np.__file__)
    assert "not in minigrad's code" in clear_error_problem(info, "sum")


def test_the_op_name_must_be_a_word_of_the_message():
    info = ErrorInfo("builtins", "IndexError", "amax(): expected a non-empty dimension",
                     MINIGRAD_FILE)
    assert clear_error_problem(info, "max") is not None
    assert clear_error_problem(info, "amax") is None
    kernel = ErrorInfo("builtins", "ValueError", "kernels.matmul: cannot multiply",
                       MINIGRAD_FILE)
    assert clear_error_problem(kernel, "matmul") is None
    backward = ErrorInfo("builtins", "ValueError", "kernels.max_pool2d_backward: gy must be "
                         "float32", MINIGRAD_FILE)
    assert clear_error_problem(backward, "max_pool2d") is None
