"""What counts as one of minigrad's clear errors (``assert_clear_error``), in one place.

Dependency-free on purpose (no pytest, no hypothesis, no minigrad): the kernel fuzz child
process imports it to describe the errors it sees, and the parent judges them with the same
rule as the in-process fuzz tests.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass

# The standard exception types a clear error may have. Exactly these: subclasses are how
# library internals leak out (numpy's AxisError is a ValueError and an IndexError, its
# UFuncTypeError a TypeError, Numba's TypingError and ZeroDivisionError/KeyError/AttributeError
# are not on the list at all).
CLEAR_ERROR_TYPES = ("TypeError", "ValueError", "IndexError", "RuntimeError",
                     "NotImplementedError")

# Messages NumPy, Numba and Python write themselves (matched at the start of a message). A
# clear error may quote one after its own explanation ("index 5 is invalid for a tensor of
# shape (2, 3): index 5 is out of bounds ..."), but must not *be* one.
INTERNAL_MESSAGES = tuple(re.compile(p) for p in (
    r"operands could not be broadcast",
    r"axis -?\d+ is out of bounds",
    r"index -?\d+ is out of bounds",
    r"negative dimensions are not allowed",
    r"cannot reshape array",
    r"shape mismatch",
    r"setting an array element",
    r"invalid entry in coordinates array",
    r"ufunc '",
    r"matmul: Input operand",
    r"input operand has more dimensions",
    r"maximum supported dimension",
    r"'\w+' object cannot be interpreted as an integer",
    r"'\w+' object is not (iterable|subscriptable|callable)",
    r"only integers, slices",
    r"too many indices",
    r"boolean index did not match",
    r"arrays used as indices must be",
    r"all the input array dimensions",
    r"all input arrays must have",
    r"need at least one array",
    r"zero-size array to reduction operation",
    r"attempt to get arg(max|min) of an empty sequence",
    r"kth\(=",
    r"(integer |float )?division( or modulo)? by zero",
    r"Failed in nopython mode pipeline",
    r"No implementation of function",
    r"Cannot determine Numba type",
    r"non-broadcastable output operand",
    r"repeats may not contain negative values",
    r"Cannot cast ufunc",
    r"unsupported operand type",
    r"bad operand type",
))



@dataclass(frozen=True)
class ErrorInfo:
    """An exception reduced to what the clear-error rule looks at (picklable, so the kernel
    child process can send it to the parent)."""

    type_module: str        # "builtins" for the standard types
    type_name: str
    message: str
    raised_in: str          # file of the innermost traceback frame ("" if none)

    def __str__(self):
        module = "" if self.type_module == "builtins" else self.type_module + "."
        return f"{module}{self.type_name}: {self.message}"


def describe_error(exc: BaseException) -> ErrorInfo:
    """The ErrorInfo of a caught exception."""
    frames = traceback.extract_tb(exc.__traceback__)
    raised_in = frames[-1].filename if frames else ""
    return ErrorInfo(type(exc).__module__, type(exc).__name__, str(exc), raised_in)


def clear_error_problem(error, op_names) -> str | None:
    """Why ``error`` (an exception or an ErrorInfo) is *not* a clear error of the op called
    ``op_names`` (one name or several), or None when it is one.

    A clear error is exactly all of:
      1. an exception of a standard Python type: TypeError, ValueError, IndexError,
         RuntimeError or NotImplementedError, and not a subclass of one (NumPy's AxisError,
         UFuncTypeError, Numba's TypingError are subclasses);
      2. whose message names the op: one of ``op_names`` appears in it, not inside a longer
         name ("amax" does not name max; "kernels.max_pool2d_backward" names max_pool2d);
      3. whose message does not start like one of NumPy's or Numba's own messages;
      4. raised from minigrad's own code (the innermost traceback frame is a file of minigrad/
         or kernels/), not from inside NumPy, Numba or the standard library.
    """
    info = error if isinstance(error, ErrorInfo) else describe_error(error)
    names = (op_names,) if isinstance(op_names, str) else tuple(op_names)
    if info.type_module != "builtins" or info.type_name not in CLEAR_ERROR_TYPES:
        return (f"{info.type_module}.{info.type_name} is not one of the standard types "
                f"{', '.join(CLEAR_ERROR_TYPES)}")
    message = info.message.strip().strip("'\"")
    if not any(re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", message)
               for n in names):
        return f"the message does not name the op (one of {', '.join(map(repr, names))})"
    if any(pattern.match(message) for pattern in INTERNAL_MESSAGES):
        return "the message is NumPy's or Numba's own, not an explanation from minigrad"
    if info.raised_in and not _in_minigrad(info.raised_in):
        return f"raised inside {info.raised_in}, not in minigrad's code"
    return None


def assert_clear_error(error, op_names) -> None:
    """Fail unless ``error`` is one of minigrad's clear errors for the op (see
    ``clear_error_problem`` for the exact rule)."""
    problem = clear_error_problem(error, op_names)
    if problem is not None:
        info = error if isinstance(error, ErrorInfo) else describe_error(error)
        raise AssertionError(f"not a clear error ({problem}): {info}")


def _in_minigrad(filename: str) -> bool:
    """Is ``filename`` part of minigrad (the minigrad package or minigrad.kernels)?"""
    import minigrad.kernels  # here, not at the top: importing this module stays free

    roots = (os.path.dirname(minigrad.__file__), os.path.dirname(minigrad.kernels.__file__))
    path = os.path.realpath(filename)
    return any(path.startswith(os.path.realpath(root) + os.sep) for root in roots)
