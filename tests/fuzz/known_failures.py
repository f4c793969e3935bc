"""THE table of known failures: every way minigrad currently fails the fuzz property, one
entry per cause (id -> reason), with a minimal reproduction and a description of the failures
it explains.

* The fuzz tests let a failure through when an entry here ``matches`` it (so the suite passes
  while the bug exists, and keeps fuzzing everything else).
* ``test_known_failures.py`` runs every entry's ``repro`` under
  ``pytest.mark.xfail(strict=True)``: when a fix makes a repro pass, that test fails and says
  to delete the entry, which puts the fuzz tests back on guard for that cause.

An entry matches a failure (``harness.CaseFailure``) when its op is in ``ops``, its kind in
``kinds``, its detail matches the regex ``says`` and, if given, ``when(case)`` is true. Keep
entries narrow: a broad one hides new bugs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .harness import Case, Dtype, T
from .kernel_cases import KArr, KernelCase
from .op_table import OPS_BY_NAME


@dataclass(frozen=True)
class KnownFailure:
    id: str
    reason: str
    repro: Callable                  # () -> Case or KernelCase that fails today
    ops: tuple
    kinds: tuple
    says: str = ""
    when: Callable | None = None

    def matches(self, failure) -> bool:
        return (failure.case.op.name in self.ops and failure.kind in self.kinds
                and re.search(self.says, failure.detail) is not None
                and (self.when is None or bool(self.when(failure.case))))


# ---------------------------------------------------------------------------------------------
# Building repros and describing cases
# ---------------------------------------------------------------------------------------------

def case(op_name, *args, **kwargs):
    return Case(OPS_BY_NAME[op_name], args, kwargs)


def t(values, dtype="float32", grad=False, view=()):
    return T(np.array(values, dtype=dtype), view, grad)


def _tensors(c):
    return c.tensors() if isinstance(c, Case) else []


def _special(array):
    """inf, nan, huge or zero values: where NumPy warns (log(0), x/0, inf-inf, overflow)."""
    values = array.astype(np.float64)
    with np.errstate(invalid="ignore"):
        return bool((~np.isfinite(values) | (np.abs(values) >= 1e20) | (values == 0)).any())


def has_special_values(c):
    scalars = [a for a in c.args if isinstance(a, (int, float)) and not isinstance(a, str)]
    return any(_special(x.values) for x in _tensors(c)) or any(s == 0 for s in scalars)


def has_huge_or_nonfinite(c):
    def wild(a):
        with np.errstate(invalid="ignore"):
            v = a.astype(np.float64)
            return bool((~np.isfinite(v) | (np.abs(v) >= 1e20)).any())
    return any(wild(x.values) for x in _tensors(c) if x.dtype.kind == "f")


def first_is_0d(c):
    ts = _tensors(c)
    return bool(ts) and ts[0].values.ndim == 0


def first_is_empty(c):
    ts = _tensors(c)
    return bool(ts) and ts[0].values.size == 0


def first_dtype_kind(kinds):
    return lambda c: bool(_tensors(c)) and _tensors(c)[0].dtype.kind in kinds


def operands_integral(c):
    """Every operand (tensor or Python scalar) is an integer or a bool."""
    for a in c.args:
        if isinstance(a, T) and a.dtype.kind not in "iub":
            return False
        if isinstance(a, float):
            return False
    return True


def all_targets_ignored(c):
    target = c.args[1]
    ignore = c.kwargs.get("ignore_index", -100)
    return (isinstance(target, T) and target.dtype.kind == "i" and target.values.size > 0
            and bool((target.values == ignore).all()))


def has_0d_tensor_among_others(c):
    ts = _tensors(c)
    return any(x.values.ndim == 0 for x in ts) and any(x.values.ndim > 0 for x in ts)


TUPLE_DIM_OPS = {"sum", "mean", "var", "std", "amax", "amin", "logsumexp", "norm", "squeeze"}
POSITIONAL_DIMS = {"transpose": (1, 2), "gather": (1,), "scatter_add": (1,), "unsqueeze": (1,),
                   "squeeze": (1,)}


def _dims(c):
    dims = [c.kwargs[k] for k in ("dim", "start_dim", "end_dim") if k in c.kwargs]
    dims += [c.args[i] for i in POSITIONAL_DIMS.get(c.op.name, ()) if i < len(c.args)]
    return dims


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def bad_dim_type(c):
    """A dim argument of the wrong type: a str or float anywhere, a list or tuple where one
    int is expected, a tuple holding a non-int."""
    for d in _dims(c):
        if d is None:
            continue
        if isinstance(d, (tuple, list)):
            if c.op.name not in TUPLE_DIM_OPS or not all(_is_int(v) for v in d):
                return True
        elif not _is_int(d):
            return True
    return False


def repeated_dims(c):
    ndim = max(_tensors(c)[0].values.ndim, 1) if _tensors(c) else 1
    return any(isinstance(d, (tuple, list)) and len({v % ndim for v in d if _is_int(v)}) < len(d)
               for d in _dims(c))


def _walk(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    else:
        yield value


SIZE_ARGUMENTS = {"reshape": (1,), "view": (1,), "expand": (1,), "repeat": (1,), "chunk": (1,),
                  "split": (1,), "topk": (1,), "zeros": None, "randn": None,
                  "adaptive_avg_pool2d": (1,)}
SIZE_KEYWORDS = ("in_features", "out_features", "in_channels", "out_channels", "kernel_size",
                 "input_size", "hidden_size", "num_layers", "embed_dim", "num_heads")


def non_int_size(c):
    """A size or count given as a float, None or str (where PyTorch wants an int)."""
    if isinstance(c, KernelCase):
        return False
    positions = SIZE_ARGUMENTS.get(c.op.name, ())
    values = list(c.args) if positions is None else [c.args[i] for i in positions
                                                      if i < len(c.args)]
    init = c.kwargs.get("init", {})
    values += [init[k] for k in SIZE_KEYWORDS if k in init]
    return any(v is None or isinstance(v, (float, str)) for v in _walk(values))


def negative_size(c):
    positions = SIZE_ARGUMENTS.get(c.op.name, ())
    values = list(c.args) if positions is None else [c.args[i] for i in positions
                                                      if i < len(c.args)]
    init = c.kwargs.get("init", {})
    values += [init[k] for k in SIZE_KEYWORDS if k in init]
    return any(_is_int(v) and v < -1 for v in _walk(values)) or any(
        _is_int(v) and v < 0 for v in _walk([init[k] for k in SIZE_KEYWORDS if k in init]))


def float_hyperparameter(c):
    values = [c.kwargs.get(k) for k in ("stride", "padding", "dilation", "kernel_size")]
    values += [c.kwargs.get("init", {}).get(k) for k in ("stride", "padding", "dilation",
                                                         "kernel_size")]
    return any(isinstance(v, float) for v in _walk(values))


def key_padding_masks_all(c):
    mask = c.kwargs.get("forward", {}).get("key_padding_mask")
    return mask is not None and bool(mask.values.all(axis=-1).any())


ELEMENTWISE = ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "neg")
REDUCTIONS = ("sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
              "logsumexp", "prod", "norm")
BINARY = ("add", "sub", "mul", "div", "floor_divide", "remainder", "maximum", "minimum",
          "where", "pow", "clamp", "eq", "ne", "lt", "le", "gt", "ge")
ALL_OPS = tuple(OPS_BY_NAME)


def _dtype(name):
    return Dtype(name)


def _k(function, *args, **kwargs):
    return KernelCase(function, args, kwargs)


# ---------------------------------------------------------------------------------------------
# The table. First the causes others are fixing (the brief's list), then the ones this suite
# found. `explaining` returns the first entry that matches, so order narrow before broad.
# ---------------------------------------------------------------------------------------------

KNOWN_FAILURES = [
    # -- known causes, being fixed elsewhere -------------------------------------------------
    KnownFailure(
        "var-std-one-element",
        "var/std backward divides by N - correction = 0 in Python: ZeroDivisionError",
        lambda: case("var", t([0.5], grad=True)),
        ("var", "std"), ("backward-error",), says="ZeroDivisionError"),
    KnownFailure(
        "std-norm-at-zero",
        "std/norm backward divide by a zero std/norm: NumPy warnings and NaN gradients "
        "(PyTorch: 0)",
        lambda: case("norm", t([0.0, 0.0], grad=True)),
        ("std", "norm"), ("warning", "grad-mismatch"),
        says=r"in backward: (divide by zero|invalid value encountered in divide)|minigrad \[.*nan"),
    KnownFailure(
        "std-of-constant-rounding",
        "std of a constant float32 input: the mean's rounding error leaves a tiny nonzero std "
        "and O(1) gradients (PyTorch: std exactly 0, gradient 0)",
        lambda: case("std", t([[0.18905338644981384]], grad=True, view=("expand", (2, 3))),
                     dim=1),
        ("std",), ("grad-mismatch",), when=lambda c: np.unique(_tensors(c)[0].values).size == 1),
    KnownFailure(
        "cross-entropy-all-ignored",
        "cross_entropy/nll_loss (mean) with every target ignored: NaN gradient (PyTorch: 0)",
        lambda: case("cross_entropy", t([[0.5, -1.0]], grad=True), t([1], "int64"),
                     ignore_index=1),
        ("cross_entropy", "nll_loss"), ("grad-mismatch",), when=all_targets_ignored),
    KnownFailure(
        "int-division-by-zero",
        "integer division, floor division and remainder by zero: NumPy RuntimeWarning",
        lambda: case("floor_divide", t([1, 2], "int64"), t([0, 1], "int64")),
        ("div", "floor_divide", "remainder"), ("warning",), when=operands_integral),
    KnownFailure(
        "float-stride-kernel-size",
        "conv2d/max_pool2d/avg_pool2d/nn.Conv2d accept float stride, padding, dilation and "
        "kernel_size (PyTorch: TypeError)",
        lambda: case("max_pool2d", t(np.ones((1, 1, 4, 4))), kernel_size=2.0),
        ("conv2d", "max_pool2d", "avg_pool2d", "nn.Conv2d"), ("accepts-invalid",),
        when=float_hyperparameter),
    KnownFailure(
        "gather-negative-index",
        "gather accepts negative indices (wraps around; PyTorch: index out of bounds)",
        lambda: case("gather", t([1.0, 2.0]), 0, t([-1], "int64")),
        ("gather",), ("accepts-invalid",), says="out of bounds"),
    KnownFailure(
        "topk-k-out-of-range",
        "topk with k < 0 returns an empty result, k > n an IndexError from NumPy",
        lambda: case("topk", t([1.0, 2.0, 3.0]), -1),
        ("topk",), ("accepts-invalid", "unclear-error"),
        says=r"selected index k out of range|is out of bounds for axis"),
    KnownFailure(
        "view-non-contiguous",
        "view of a non-contiguous tensor copies instead of refusing (PyTorch: RuntimeError)",
        lambda: case("view", t([[1.0, 2.0], [3.0, 4.0]], view=("transpose", 0, 1)), (4,)),
        ("view",), ("accepts-invalid",), says="view size is not compatible"),
    KnownFailure(
        "zero-size-matmul",
        "batched matmul with an empty inner dim ((2, 3, 0) @ (0, 4)): NumPy 'cannot reshape "
        "array of size 0'",
        lambda: case("matmul", t(np.zeros((2, 3, 0))), t(np.zeros((0, 4)))),
        ("matmul",), ("unclear-error", "backward-error"),
        says=r"cannot reshape array of size 0|reshape: shape \[-1, 0\]"),
    KnownFailure(
        "chunk-zero",
        "chunk(0): ZeroDivisionError",
        lambda: case("chunk", t([1.0, 2.0]), 0),
        ("chunk",), ("unclear-error",), says="ZeroDivisionError"),
    KnownFailure(
        "arange-step-zero",
        "arange(step=0): ZeroDivisionError",
        lambda: case("arange", 0, 5, 0),
        ("arange",), ("unclear-error",), says="ZeroDivisionError"),
    KnownFailure(
        "adaptive-pool-empty",
        "adaptive_avg_pool2d of an input with an empty plane: ZeroDivisionError",
        lambda: case("adaptive_avg_pool2d", t(np.zeros((1, 1, 0, 4))), 2),
        ("adaptive_avg_pool2d",), ("unclear-error",), says="ZeroDivisionError"),
    KnownFailure(
        "sort-dim-out-of-range",
        "sort with dim out of range: NumPy AxisError",
        lambda: case("sort", t([3.0, 1.0]), dim=1),
        ("sort",), ("unclear-error",), says="AxisError"),
    KnownFailure(
        "randn-negative-size",
        "randn(-1): NumPy 'negative dimensions are not allowed'",
        lambda: case("randn", -1),
        ("randn",), ("unclear-error",), says="negative dimensions"),
    KnownFailure(
        "scatter-add-out-of-range",
        "scatter_add with an index out of range: NumPy 'invalid entry in coordinates array' "
        "('cannot unravel if shape has zero entries' when the dim is empty)",
        lambda: case("scatter_add", t([0.0, 0.0]), 0, t([5], "int64"), t([1.0])),
        ("scatter_add",), ("unclear-error",), says="invalid entry in coordinates|cannot unravel"),
    # -- found by this suite ---------------------------------------------------------------
    # dtypes
    KnownFailure(
        "zero-dim-type-promotion",
        "a 0-d tensor operand widens the result (float32 + 0-d float64 gives float64; PyTorch "
        "ranks 0-d tensors like scalars: float32)",
        lambda: case("add", t([1.0, 2.0]), t(0.5, "float64")),
        BINARY, ("mismatch",), says=r"dtype \w+, PyTorch gives|differs from PyTorch",
        when=has_0d_tensor_among_others),
    KnownFailure(
        "floor-divide-remainder-promotion",
        "// and % skip minigrad's promotion: int64 // 2.0 gives float64 (PyTorch: float32)",
        lambda: case("floor_divide", t([3, 4], "int64"), 2.0),
        ("floor_divide", "remainder"), ("mismatch",), says="dtype"),
    KnownFailure(
        "floor-divide-remainder-no-grad",
        "// and % results do not require grad (PyTorch: remainder is differentiable, "
        "floor_divide has a zero gradient)",
        lambda: case("remainder", t([1.5], grad=True), 2.0),
        ("floor_divide", "remainder"), ("mismatch",), says="requires_grad=False"),
    KnownFailure(
        "reflected-floordiv-mod",
        "2 // tensor and 2 % tensor: TypeError 'unsupported operand type(s)' (no __rfloordiv__ "
        "/ __rmod__)",
        lambda: case("floor_divide", 3, t([2.0])),
        ("floor_divide", "remainder"), ("unclear-error",), says="unsupported operand type"),
    KnownFailure(
        "loss-dtype-promotion",
        "mse_loss/cross_entropy keep the input's dtype when the target's is wider (float32 "
        "input, float64 target: PyTorch gives float64)",
        lambda: case("mse_loss", t([1.0]), t([2.0], "float64")),
        ("mse_loss", "cross_entropy"), ("mismatch",), says="dtype"),
    KnownFailure(
        "matmul-mixed-dtypes",
        "matmul of float32 and float64 promotes (PyTorch: RuntimeError, same dtype expected; "
        "for an empty result it answers in the second operand's dtype)",
        lambda: case("matmul", t([[1.0]]), t([[1.0]], "float64")),
        ("matmul",), ("accepts-invalid", "mismatch"), says="same dtype|dtype float|scalar type",
        when=lambda c: len({x.dtype for x in _tensors(c)}) > 1),
    KnownFailure(
        "clamp-int-with-float-bounds",
        "clamp of an int64 tensor with float bounds stays int64 (PyTorch: float32)",
        lambda: case("clamp", t([2], "int64"), 0.5, None),
        ("clamp",), ("mismatch",), says="dtype int"),
    KnownFailure(
        "prod-through-logs",
        "prod is exp(sum(log|x|)): int64 input gives float32, a zero warns (log(0))",
        lambda: case("prod", t([2, 3], "int64")),
        ("prod",), ("mismatch", "warning"), says="dtype float|divide by zero encountered in log"),
    KnownFailure(
        "var-std-integer-input",
        "var/std accept int64 tensors (PyTorch: RuntimeError, floating point only)",
        lambda: case("var", t([1, 2], "int64")),
        ("var", "std"), ("accepts-invalid", "warning"), when=first_dtype_kind("iub")),
    # inputs of the wrong kind
    KnownFailure(
        "elementwise-non-tensor-input",
        "exp/log/sqrt/tanh/sigmoid/relu/abs/neg given a float, list, str or None: "
        "AttributeError 'has no attribute dtype' or a NumPy error (or a result)",
        lambda: case("exp", 3.5),
        ELEMENTWISE, ("unclear-error", "accepts-invalid"),
        when=lambda c: not isinstance(c.args[0], T)),
    KnownFailure(
        "sigmoid-integer-input",
        "sigmoid of a 0-d int64 or bool tensor: NumPy 'return arrays must be of ArrayType'",
        lambda: case("sigmoid", t(1, "int64")),
        ("sigmoid",), ("unclear-error",), says="return arrays must be of ArrayType"),
    KnownFailure(
        "bool-arithmetic-accepted",
        "relu(bool tensor) and bool - x are accepted (PyTorch: RuntimeError)",
        lambda: case("relu", t([True], "bool")),
        ("relu", "sub"), ("accepts-invalid",), says=r"Boolean inputs|with a bool tensor"),
    KnownFailure(
        "where-non-bool-condition",
        "where with an int or float condition is accepted (PyTorch: bool condition only)",
        lambda: case("where", t([1], "int64"), t([1.0]), t([2.0])),
        ("where",), ("accepts-invalid",), says="expected condition to be a boolean"),
    KnownFailure(
        "clamp-tensor-bounds",
        "clamp with tensor min/max: item() error for more than one element, no gradient for "
        "the bounds, mixed tensor/number bounds accepted",
        lambda: case("clamp", t([1.0, 2.0]), t([0.0, 3.0]), None),
        ("clamp",), ("unclear-error", "grad-mismatch", "mismatch", "accepts-invalid"),
        when=lambda c: isinstance(c.args[1], T) or isinstance(c.args[2], T)),
    KnownFailure(
        "pow-integer-negative-exponent",
        "int ** negative int: NumPy's ValueError (no op named) or a result (PyTorch: "
        "RuntimeError)",
        lambda: case("pow", 3, t([-2], "int64")),
        ("pow",), ("unclear-error", "accepts-invalid"), says="negative integer powers"),
    # dims
    KnownFailure(
        "wrong-type-dims",
        "a dim given as a str, float, list or tuple (where one int is expected): Python "
        "internals ('<=' not supported, tuple indices must be integers...) or a result",
        lambda: case("argmax", t([1.0, 2.0]), dim="0"),
        ALL_OPS, ("unclear-error", "accepts-invalid"), when=bad_dim_type),
    KnownFailure(
        "repeated-dims",
        "a dim tuple naming one dim twice: squeeze accepts it, var/norm errors name var/sum",
        lambda: case("squeeze", t([[1.0]]), (0, 0)),
        ALL_OPS, ("unclear-error", "accepts-invalid"), when=repeated_dims),
    KnownFailure(
        "zero-dim-tensor-dims",
        "dim=0 or -1 of a 0-d tensor (valid in PyTorch) fails in reductions, sort, topk and "
        "permute with NumPy/Python errors (tuple index out of range, AxisError, modulo by zero)",
        lambda: case("sum", t(1.0), dim=0),
        ALL_OPS, ("unclear-error",),
        says=r"tuple index out of range|AxisError|dimension out of range|gather|"
             r"ZeroDivisionError|as many dimensions",
        when=lambda c: first_is_0d(c) and not bad_dim_type(c)),
    KnownFailure(
        "zero-dim-out-of-range-accepted",
        "out-of-range dims of a 0-d tensor are accepted (transpose(0, 1), softmax(dim=1), "
        "flatten(end_dim=4); PyTorch: IndexError)",
        lambda: case("transpose", t(1.0), 0, 1),
        ALL_OPS, ("accepts-invalid",), says="Dimension out of range", when=first_is_0d),
    KnownFailure(
        "softmax-0d-gradient",
        "softmax/log_softmax of a 0-d tensor pass the gradient through (PyTorch: 0, the "
        "output is constant)",
        lambda: case("softmax", t(0.5, "float64", grad=True), dim=0),
        ("softmax", "log_softmax"), ("grad-mismatch",), when=first_is_0d),
    KnownFailure(
        "dim-none-accepted",
        "max/min/prod(dim=None) reduce everything (PyTorch: TypeError)",
        lambda: case("prod", t([1.0, 2.0]), dim=None),
        ("max", "min", "prod"), ("accepts-invalid",), says=r"NoneType"),
    KnownFailure(
        "topk-dim-out-of-range",
        "topk with dim out of range: NumPy AxisError",
        lambda: case("topk", t([1.0, 2.0]), 1, dim=1),
        ("topk",), ("unclear-error",), says="AxisError"),
    KnownFailure(
        "permute-dims-not-checked",
        "permute with a dim out of range wraps around (PyTorch: IndexError)",
        lambda: case("permute", t([[1.0, 2.0]]), (2, 1)),
        ("permute",), ("accepts-invalid",), says="Dimension out of range"),
    KnownFailure(
        "flatten-start-after-end",
        "flatten(start_dim > end_dim) is accepted or fails inside reshape (PyTorch: "
        "RuntimeError 'start_dim cannot come after end_dim')",
        lambda: case("flatten", t(np.zeros((2, 3))), start_dim=1, end_dim=0),
        ("flatten",), ("accepts-invalid", "unclear-error"),
        says=r"start_dim cannot come after end_dim|reshape: shape"),
    KnownFailure(
        "norm-default-p-with-dims",
        "norm without p over a dim tuple of length != 2 gives the 2-norm (PyTorch's default "
        "p='fro' refuses it: RuntimeError)",
        lambda: case("norm", t(np.ones((2, 2, 2))), dim=(0, 1, 2)),
        ("norm",), ("accepts-invalid",), says="matrix_norm"),
    # sizes
    KnownFailure(
        "non-int-sizes",
        "a size or count given as a float, None or str: accepted (reshape(2.0), "
        "chunk(2.0), nn.Linear(2.0, ...)) or a Python/NumPy error",
        lambda: case("reshape", t([1.0, 2.0]), (2.0,)),
        ALL_OPS, ("accepts-invalid", "unclear-error"), when=non_int_size),
    KnownFailure(
        "negative-sizes-numpy-errors",
        "negative sizes in reshape/view/expand/repeat and layer constructors: NumPy's "
        "'negative dimensions are not allowed', 'can only specify one unknown dimension'",
        lambda: case("expand", t([1.0]), (-2,)),
        ("reshape", "view", "expand", "repeat", "nn.Linear", "nn.Conv2d", "nn.LSTM",
         "nn.MultiheadAttention"), ("unclear-error",),
        says=r"negative dimensions|one unknown dimension|must be non-negative|cannot reshape"),
    KnownFailure(
        "zeros-negative-size",
        "zeros(-1): NumPy 'negative dimensions are not allowed'",
        lambda: case("zeros", -1),
        ("zeros",), ("unclear-error",), says="negative dimensions"),
    KnownFailure(
        "factory-without-size",
        "zeros() and randn() without a size give a 0-d tensor (PyTorch: TypeError)",
        lambda: case("zeros"),
        ("zeros", "randn"), ("accepts-invalid",), when=lambda c: not c.args),
    KnownFailure(
        "chunk-count",
        "chunk of an empty dim gives 1 chunk (PyTorch: `chunks` empty chunks); chunk(-1) is "
        "accepted",
        lambda: case("chunk", t(np.zeros(0)), 3),
        ("chunk",), ("mismatch", "accepts-invalid"), says=r"outputs, PyTorch gives|greater than"),
    KnownFailure(
        "arange-bound-sign",
        "arange whose end lies behind start for the step's sign gives an empty tensor "
        "(PyTorch: RuntimeError)",
        lambda: case("arange", -2),
        ("arange",), ("accepts-invalid",), says="inconsistent with step sign"),
    KnownFailure(
        "arange-int-dtype-float-bounds",
        "arange with dtype=int64 and float bounds or step computes in floats and casts the "
        "result (PyTorch casts the arguments first: arange(0.5, dtype=int64) is empty, "
        "arange(0, 3, 0.5, dtype=int64) an error)",
        lambda: case("arange", 0.5, dtype=_dtype("int64")),
        ("arange",), ("mismatch", "accepts-invalid"), says="shape|step must be nonzero"),
    # empty inputs
    KnownFailure(
        "empty-mean-warnings",
        "var/std/layer_norm of an empty input: NumPy 'Mean of empty slice' RuntimeWarning",
        lambda: case("var", t(np.zeros(0))),
        ("var", "std", "layer_norm"), ("warning",), says="Mean of empty slice"),
    KnownFailure(
        "logsumexp-empty",
        "logsumexp over an empty dim: NumPy 'zero-size array to reduction operation maximum' "
        "(PyTorch: -inf)",
        lambda: case("logsumexp", t(np.zeros(0)), dim=0),
        ("logsumexp",), ("unclear-error",), says="zero-size array to reduction"),
    KnownFailure(
        "zero-size-linear",
        "linear/nn.Linear with a zero-size input or weight: NumPy 'cannot reshape array of "
        "size 0', and backward fails in reshape",
        lambda: case("linear", t(np.zeros((2, 0))), t(np.zeros((3, 0))), None),
        ("linear", "nn.Linear"), ("unclear-error", "backward-error"),
        says=r"cannot reshape array of size 0|reshape: shape \[-1, 0\]"),
    KnownFailure(
        "pooling-zero-channels",
        "max_pool2d/avg_pool2d accept zero channels (PyTorch: RuntimeError, only the batch "
        "may be empty)",
        lambda: case("max_pool2d", t(np.zeros((1, 0, 2, 2))), kernel_size=1),
        ("max_pool2d", "avg_pool2d"), ("accepts-invalid",), says="Expected 3D or 4D"),
    # other semantics
    KnownFailure(
        "linear-1d-weight",
        "linear with a 1-D weight and a bias is accepted (PyTorch: RuntimeError) or fails "
        "in add",
        lambda: case("linear", t([1.0, 2.0]), t([1.0, 1.0]), t([0.5])),
        ("linear",), ("accepts-invalid", "unclear-error"),
        when=lambda c: isinstance(c.args[1], T) and c.args[1].values.ndim == 1),
    KnownFailure(
        "index-0d-tensor",
        "x[t0, :, t1] with a 0-d int tensor t0: minigrad treats t0 as an advanced index "
        "(NumPy: result (2, 3)), PyTorch as an int (result (3, 2))",
        lambda: case("index", t(np.zeros((2, 3, 4))),
                     (t(1, "int64"), slice(None), t([0, 1], "int64"))),
        ("index",), ("mismatch",), says="shape"),
    KnownFailure(
        "index-empty-bool-mask",
        "an empty bool mask indexes a dim of any size (NumPy's rule; PyTorch: IndexError, the "
        "mask's shape must match)",
        lambda: case("index", t(np.zeros((2, 5))), (slice(None), t(np.zeros(0), "bool"))),
        ("index",), ("accepts-invalid",), says="shape of the mask"),
    KnownFailure(
        "adaptive-pool-nan-spreads",
        "adaptive_avg_pool2d spreads a NaN (or inf) to windows that do not contain it (PyTorch "
        "keeps it in its own windows)",
        lambda: case("adaptive_avg_pool2d", t([[[[1.0, np.nan]]]], "float64"), (1, 2)),
        ("adaptive_avg_pool2d",), ("mismatch", "grad-mismatch"), when=has_huge_or_nonfinite),
    KnownFailure(
        "max-min-indices-require-grad",
        "max/min(dim) return indices that require grad (PyTorch: they do not)",
        lambda: case("max", t([1.0, 2.0], grad=True), dim=0),
        ("max", "min"), ("mismatch",), says="requires_grad=True, PyTorch's False"),
    KnownFailure(
        "mha-all-keys-masked",
        "MultiheadAttention with every key of a batch masked returns numbers (PyTorch: NaN)",
        lambda: case("nn.MultiheadAttention", t(np.ones((1, 1, 2))), t(np.ones((1, 1, 2))),
                     t(np.ones((1, 1, 2))), seed=0, init={"embed_dim": 2, "num_heads": 1},
                     forward={"key_padding_mask": t([[True]], "bool")}),
        ("nn.MultiheadAttention",), ("mismatch", "grad-mismatch"), when=key_padding_masks_all),
    KnownFailure(
        "hyperparameter-length-error-unnamed",
        "stride/padding/kernel_size tuples of the wrong length: ValueError that does not "
        "name the op",
        lambda: case("max_pool2d", t(np.ones((1, 1, 2, 2))), kernel_size=(1, 1, 1)),
        ("conv2d", "max_pool2d", "avg_pool2d", "nn.Conv2d"), ("unclear-error",),
        says=r"must be an int or a tuple of \d ints"),
    KnownFailure(
        "errors-name-another-op",
        "an otherwise clear error names the op minigrad delegates to, not the one called "
        "(view -> reshape, sort/topk -> gather, std -> var, norm -> sum/amax, max -> amax, "
        "mse_loss -> mean/sub)",
        lambda: case("view", t([1.0, 2.0]), (3,)),
        ALL_OPS, ("unclear-error",),
        says=r"^\w+Error: (reshape|gather|var|sum|amax|amin|mean|sub|add)\b[^\n]*\n"
             r"\s*\(the message does not name the op"),
    # IEEE special values
    KnownFailure(
        "special-values-warn",
        "inf, nan, zero or huge inputs make NumPy warn (log(0), x / 0.0, inf - inf, "
        "overflow) where PyTorch computes silently",
        lambda: case("log", t([0.0])),
        ALL_OPS, ("warning",), says=r"divide by zero|invalid value|overflow",
        when=has_special_values),
    KnownFailure(
        "huge-values-differ",
        "with inf/nan/1e30 inputs layer_norm, cross_entropy and MultiheadAttention give other "
        "values or gradients than PyTorch (which overflows to NaN where minigrad does not, "
        "and the reverse)",
        lambda: case("layer_norm", t([[-1e30]], grad=True), (1,), None, t([-1e30], grad=True),
                     1e-3),
        ("layer_norm", "cross_entropy", "nn.MultiheadAttention"), ("mismatch", "grad-mismatch"),
        when=has_huge_or_nonfinite),
    KnownFailure(
        "nan-gradient-conventions",
        "gradients at NaN differ from PyTorch's: abs' (minigrad NaN, PyTorch 0), relu' "
        "(0 vs 1), maximum/minimum route the gradient differently",
        lambda: case("abs", t([np.nan], grad=True)),
        ("abs", "relu", "maximum", "minimum"), ("grad-mismatch",),
        when=lambda c: any(np.isnan(x.values.astype(np.float64)).any() for x in _tensors(c))),
    # kernels
    KnownFailure(
        "kernels-outputs-not-contiguous",
        "kernels.lstm_cell (numpy) and lstm_sequence_backward (numba) return non-C-contiguous "
        "outputs for non-contiguous inputs (the kernels' contract: new C-contiguous arrays)",
        lambda: _k("lstm_cell", KArr(np.ones((8, 2), np.float32), ("transpose",)),
                   KArr(np.ones((2, 2), np.float32))),
        ("kernels.lstm_cell", "kernels.lstm_sequence_backward"), ("mismatch",),
        says="not C-contiguous"),
    KnownFailure(
        "max-pool-float16",
        "max_pool2d of float16 (F.max_pool2d, kernels.max_pool2d impl=numba): Numba's "
        "NotImplementedError('float16'), which names no op (the checks let float16 through)",
        lambda: case("max_pool2d", t(np.ones((1, 1, 2, 2)), "float16"), kernel_size=2),
        ("max_pool2d", "kernels.max_pool2d", "kernels.max_pool2d_backward"), ("unclear-error",),
        says="NotImplementedError: float16"),
    KnownFailure(
        "kernels-matmul-by-list",
        "kernels.matmul_by(b)(a) with a list a: AttributeError 'list' object has no attribute "
        "'ndim'",
        lambda: _k("matmul_by", KArr(np.ones((2, 2)), ("list",)), KArr(np.ones((2, 2)))),
        ("kernels.matmul_by",), ("unclear-error",), says="AttributeError"),
]


def explaining(failure):
    """The first known failure that explains ``failure``, or None."""
    for known in KNOWN_FAILURES:
        if known.matches(failure):
            return known
    return None


def _check_ids_unique():
    ids = [k.id for k in KNOWN_FAILURES]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"known failure ids must be unique: {duplicates}"


_check_ids_unique()
