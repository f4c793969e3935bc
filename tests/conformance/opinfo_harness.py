"""Run PyTorch's own OpInfo sample inputs through minigrad and compare with PyTorch.

PyTorch describes every op it tests in ``op_db`` (``torch.testing._internal.
common_methods_invocations``): an ``OpInfo`` names the op and generates sample inputs (odd
shapes, 0-d and empty tensors, broadcasting, keyword arguments). This module takes each OpInfo
whose op minigrad exposes, converts every float32 and float64 sample to minigrad, calls both
frameworks and compares outputs and gradients. "PyTorch code runs unchanged" is then a
measured property: ``test_opinfo_conformance.py`` asserts it op by op and
``benchmarks/conformance.py`` writes the numbers.

How an OpInfo is matched to minigrad (``resolve``):

* ``op.op`` is a lambda in PyTorch's test database (``lambda x, shape: x.view(shape)``, the
  swapped arguments of ``embedding``): the very same code runs with its global ``torch``
  bound to ``minigrad``, so ``torch.nn.functional.embedding`` becomes minigrad's;
* otherwise ``mg.<op.name>`` (``"nn.functional.relu"`` -> ``mg.nn.functional.relu``);
* otherwise, when the OpInfo has a method variant, the Tensor method of that name
  (``x.__rsub__(y)``, ``x.trunc()``);
* otherwise the op counts as "not in minigrad" and is not run.

What a sample must do to pass (``run_sample``):

* if PyTorch raises on the sample, it is skipped (not counted);
* minigrad must not raise, and must return the same structure (tensor, tuple, named tuple
  fields such as ``values``/``indices``, Python scalar), shapes and dtypes;
* values must agree by ``values_agree`` (assert_close's tolerances or the op's declared ones,
  with a float64 reference for float32 results);
* when the output is floating and a floating input requires grad, the gradients of
  ``sum(out * w)`` (a fixed random ``w`` per output) with respect to every such input must
  agree by the same rule (a gradient of None counts as zeros);
* "the output" is what the sample's ``output_process_fn_grad`` makes of the op's result, in
  both frameworks: the identity for most samples, while an SVD's samples take |U|, S, |Vh|
  or U Vh, the functions of the result that are well defined (each singular vector is fixed
  only up to its sign, which PyTorch's LAPACK (MKL) and NumPy's (OpenBLAS) choose
  differently), the way PyTorch's own gradient tests use it.

Conversion of inputs (``to_minigrad``): a torch.Tensor becomes ``mg.tensor`` of the same
values and dtype, with the same ``requires_grad``; a non-contiguous tensor becomes a
contiguous one (minigrad has no strided views of foreign memory: the values are what count,
and the report counts how many samples had such inputs). torch dtypes map to NumPy dtypes
(minigrad's), ``torch.Size`` to a tuple, ``torch.device`` to its string; lists, tuples and
dicts are converted element by element; a torch function passed as an argument
(``activation=F.gelu``) becomes minigrad's function of the same name. A tensor that appears
twice in a sample becomes one minigrad tensor, so gradients accumulate the same way.

Random ops (their op.op calls ``wrapper_set_seed``, or the OpInfo declares a
nondeterministic output, such as ``empty``): each sample is run by PyTorch under four seeds
(two can agree by chance: ``multinomial`` of 3 categories often draws the likeliest order);
when all give the same output (dropout with p=0, attention without dropout) values and
gradients are compared as usual, otherwise only structure, shapes and dtypes.

Only floating samples are run (float32, float64); integer and bool dtypes are out of scope.
"""

from __future__ import annotations

import types
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch.testing._comparison import default_tolerances
from torch.testing._internal.common_device_type import toleranceOverride
from torch.testing._internal.common_methods_invocations import op_db

import minigrad as mg

DTYPES = (torch.float32, torch.float64)

# Tests of PyTorch's own suite whose tolerance overrides are about comparing one eager result
# with another (what we do here); overrides for other tests (gradcheck, jit, ...) do not apply.
TOLERANCE_TESTS = (None, "test_variant_consistency_eager", "test_reference_testing",
                   "test_numpy_ref")

SAMPLE_SEED = 0          # torch's seed before an op's samples are generated
WEIGHT_SEED = 1234       # seed of the random weights w in sum(out * w)

_TORCH_TO_NUMPY = {
    torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64,
    torch.int8: np.int8, torch.int16: np.int16, torch.int32: np.int32, torch.int64: np.int64,
    torch.uint8: np.uint8, torch.bool: np.bool_,
}


# -- naming and resolving ops --------------------------------------------------------------------
def op_key(op) -> str:
    """The name used in tests and tables: ``op.name``, plus ``.variant`` when op_db has one
    (``max.reduction_with_dim``, ``max.binary``)."""
    return f"{op.name}.{op.variant_test_name}" if op.variant_test_name else op.name


def _lookup(root, dotted: str):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _minigrad_function(name: str):
    """``mg.<name>`` when it is a function (``mg.float`` is a dtype, not a function)."""
    fn = _lookup(mg, name)
    return fn if callable(fn) and not isinstance(fn, (type, np.dtype)) else None


def _is_test_database_lambda(fn) -> bool:
    return (isinstance(fn, types.FunctionType)
            and fn.__module__ == "torch.testing._internal.common_methods_invocations")


def _rebind(fn, **names):
    """The same function code with some of its global names bound to other objects."""
    env = dict(fn.__globals__)
    env.update(names)
    return types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__, fn.__closure__)


def _plain_call(f, *args, **kwargs):
    """Stands in for the test database's ``wrapper_set_seed`` (which seeds torch with a fixed
    value before calling f): the caller's seed decides torch's random numbers, and minigrad's
    random ops are only compared when their result does not depend on them."""
    return f(*args, **kwargs)


def _with_minigrad_globals(fn):
    """The same function code with ``torch`` bound to minigrad (PyTorch code run unchanged)."""
    return _rebind(fn, torch=mg, wrapper_set_seed=_plain_call)


def _for_minigrad(fn):
    """A sample's ``output_process_fn_grad`` (PyTorch code) applied to minigrad's output."""
    return _with_minigrad_globals(fn) if isinstance(fn, types.FunctionType) else fn


@dataclass
class Resolved:
    """How minigrad runs one OpInfo: ``call(input, *args, **kwargs)`` and where it came from."""
    call: Callable[..., Any]
    how: str        # "torch code" | "function" | "method"


def resolve(op) -> Resolved | None:
    """Match an OpInfo to minigrad (see the module docstring), or None if minigrad lacks it."""
    name = op.name
    method_name = name.split(".")[-1]
    has_function = _minigrad_function(name) is not None
    has_method = hasattr(mg.Tensor, method_name)
    if _is_test_database_lambda(op.op):
        if has_function or has_method:
            return Resolved(_with_minigrad_globals(op.op), "torch code")
        return None
    if has_function:
        return Resolved(_minigrad_function(name), "function")
    if op.method_variant is not None and has_method:
        def call_method(input, *args, **kwargs):  # noqa: A002
            return getattr(input, method_name)(*args, **kwargs)
        return Resolved(call_method, "method")
    return None


def is_random(op) -> bool:
    """The op draws random numbers or returns uninitialised memory."""
    if op.has_nondeterministic_output:
        return True
    return _is_test_database_lambda(op.op) and "wrapper_set_seed" in op.op.__code__.co_names


def float_dtypes(op) -> list:
    """float32 / float64, those of them the op supports on CPU."""
    supported = op.supported_dtypes("cpu")
    return [d for d in DTYPES if d in supported]


# -- tolerances ----------------------------------------------------------------------------------
def tolerance_for(op, dtype, tests=TOLERANCE_TESTS) -> tuple[float, float]:
    """(rtol, atol): the largest override op_db declares for this dtype on an eager-comparison
    test (one of ``tests``), else torch.testing.assert_close's defaults for the dtype.
    Works for a ModuleInfo too (same ``decorators``)."""
    declared = []
    for info in op.decorators:
        if getattr(info, "test_name", "missing") not in tests:
            continue
        if info.device_type not in (None, "cpu"):
            continue
        if info.dtypes is not None and dtype not in info.dtypes:
            continue
        for decorator in info.decorators:
            if isinstance(decorator, toleranceOverride) and dtype in decorator.d:
                declared.append(decorator.d[dtype])
    if not declared:
        return default_tolerances(dtype)
    return max(t.rtol for t in declared), max(t.atol for t in declared)


def values_agree(actual, expected, rtol: float, atol: float,
                 reference: Callable[[], np.ndarray] | None = None) -> tuple[bool, str]:
    """The acceptance rule for one floating result (an output or a gradient).

    ``actual`` is minigrad's value, ``expected`` PyTorch's (NumPy arrays of the same shape).

    1. Pass if ``|actual - expected| <= atol + rtol * |expected|`` at every element (the test
       torch.testing.assert_close makes; NaN matches NaN, an infinity must match exactly).
    2. Otherwise, if ``reference`` is given (float32 results: it returns PyTorch's result for
       the same inputs upcast to float64), pass if at every element that failed step 1 and is
       finite in all three, minigrad's error is at most the larger of twice PyTorch's error
       and the tolerance: ``|actual - ref| <= max(2 * |expected - ref|, atol + rtol * |ref|)``.
       Both frameworks round float32 differently (summation order, fused kernels); this lets
       minigrad be as close to the exact answer as PyTorch is, not bit-identical to it.
    3. Otherwise fail, naming the worst element.

    Returns (passed, message); the message is empty when it passes.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - e)
        close = (diff <= atol + rtol * np.abs(e)) | (np.isnan(a) & np.isnan(e)) | (a == e)
    if close.all():
        return True, ""
    if reference is not None:
        r = np.broadcast_to(np.asarray(reference(), dtype=np.float64), a.shape)
        finite = np.isfinite(a) & np.isfinite(e) & np.isfinite(r)
        with np.errstate(invalid="ignore", over="ignore"):
            allowed = np.maximum(2 * np.abs(e - r), atol + rtol * np.abs(r))
            ok = close | (finite & (np.abs(a - r) <= allowed))
        if ok.all():
            return True, ""
        bad = ~ok
    else:
        bad = ~close
    with np.errstate(invalid="ignore"):
        score = np.where(bad, np.nan_to_num(diff, nan=np.inf), -1.0)
    worst = np.unravel_index(int(np.argmax(score)), a.shape) if a.ndim else ()
    return False, (f"{int(bad.sum())} of {a.size} elements differ; worst at "
                   f"{[int(i) for i in worst]}: minigrad {float(a[worst])!r}, "
                   f"torch {float(e[worst])!r} (rtol {rtol:g}, atol {atol:g})")


# -- converting samples --------------------------------------------------------------------------
class _Conversion:
    """Converts one sample to minigrad; remembers torch tensor -> minigrad tensor."""

    def __init__(self):
        self.tensors: dict[int, tuple[torch.Tensor, mg.Tensor]] = {}
        self.made_contiguous = False

    def __call__(self, obj):
        if isinstance(obj, torch.Tensor):
            return self._tensor(obj)
        if isinstance(obj, torch.dtype):
            return np.dtype(_TORCH_TO_NUMPY[obj]) if obj in _TORCH_TO_NUMPY else obj
        if isinstance(obj, torch.Size):
            return tuple(obj)
        if isinstance(obj, torch.device):
            return str(obj)
        if isinstance(obj, torch.memory_format):       # torch.channels_last -> mg.channels_last
            return getattr(mg, str(obj).replace("torch.", ""))
        if isinstance(obj, torch.layout):              # torch.strided -> mg.strided
            return getattr(mg, str(obj).replace("torch.", ""))
        if isinstance(obj, list):
            return [self(x) for x in obj]
        if isinstance(obj, tuple):
            return tuple(self(x) for x in obj)
        if isinstance(obj, dict):
            return {k: self(v) for k, v in obj.items()}
        if callable(obj):
            return _minigrad_counterpart(obj)
        return obj

    def _tensor(self, t: torch.Tensor) -> mg.Tensor:
        if id(t) not in self.tensors:
            if not t.is_contiguous():
                self.made_contiguous = True
            array = np.array(t.detach().numpy(), order="C")     # a copy, 0-d stays 0-d
            self.tensors[id(t)] = (t, mg.tensor(array, requires_grad=t.requires_grad))
        return self.tensors[id(t)][1]


def _minigrad_counterpart(fn):
    """minigrad's function of the same name for a torch function passed as an argument
    (``activation=torch.nn.functional.gelu``); anything else unchanged."""
    name = getattr(fn, "__name__", None)
    for torch_home, mg_home in ((torch.nn.functional, mg.nn.functional), (torch, mg)):
        if name and getattr(torch_home, name, None) is fn and hasattr(mg_home, name):
            return getattr(mg_home, name)
    return fn


def to_minigrad(obj, conversion: _Conversion | None = None):
    """A sample's input, args or kwargs converted to minigrad (see the module docstring)."""
    return (conversion or _Conversion())(obj)


def _upcast(obj, memo: dict):
    """The same structure with every float32 tensor as a float64 copy (same requires_grad)."""
    if isinstance(obj, torch.Tensor):
        if id(obj) not in memo:
            copy = obj.detach()
            if copy.dtype == torch.float32:
                copy = copy.double()
            memo[id(obj)] = copy.requires_grad_(obj.requires_grad)
        return memo[id(obj)]
    if isinstance(obj, list):
        return [_upcast(x, memo) for x in obj]
    if isinstance(obj, tuple):
        return tuple(_upcast(x, memo) for x in obj)
    if isinstance(obj, dict):
        return {k: _upcast(v, memo) for k, v in obj.items()}
    return obj


def describe_value(obj) -> str:
    """Short text for a sample argument: shape and dtype of a tensor, repr of anything else."""
    if isinstance(obj, torch.Tensor):
        layout = "" if obj.is_contiguous() else " non-contiguous"
        return f"T{list(obj.shape)} {str(obj.dtype).replace('torch.', '')}{layout}"
    if isinstance(obj, (list, tuple)):
        inner = ", ".join(describe_value(x) for x in obj)
        if isinstance(obj, list):
            return f"[{inner}]"
        return f"({inner},)" if len(obj) == 1 else f"({inner})"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k}={describe_value(v)}" for k, v in obj.items()) + "}"
    text = repr(obj)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_call(args, kwargs) -> str:
    """``args ..., kwargs {...}`` for the arguments a sample passes."""
    parts = []
    if args:
        parts.append(f"args {describe_value(tuple(args))[1:-1].rstrip(',')}")
    if kwargs:
        parts.append(f"kwargs {describe_value(dict(kwargs))}")
    return ", ".join(parts)


def describe(sample) -> str:
    """A short description of a sample: shapes and dtypes of tensors, other values as repr."""
    call = describe_call(sample.args, sample.kwargs)
    return f"input {describe_value(sample.input)}" + (f", {call}" if call else "")


# -- comparing outputs ---------------------------------------------------------------------------
class Mismatch(Exception):
    """minigrad's result differs from PyTorch's in structure, shape, dtype or value."""


def _torch_tensors(obj) -> list:
    """The tensors of a torch result in traversal order (what ``_pair`` pairs, same order)."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for x in obj for t in _torch_tensors(x)]
    return []


def _numpy_dtype(dtype) -> np.dtype | None:
    return np.dtype(_TORCH_TO_NUMPY[dtype]) if dtype in _TORCH_TO_NUMPY else None


def _pair(mine, theirs, path: str, pairs: list):
    """Walk both results together: check structure, shapes and dtypes, and collect
    ``(path, minigrad tensor, torch tensor)`` for every tensor (values are compared later)."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(mine, mg.Tensor):
            raise Mismatch(f"{path}: minigrad returned {type(mine).__name__}, torch a Tensor")
        if tuple(mine.shape) != tuple(theirs.shape):
            raise Mismatch(f"{path}: shape {tuple(mine.shape)}, torch {tuple(theirs.shape)}")
        expected = _numpy_dtype(theirs.dtype)
        if mine.dtype != expected:
            raise Mismatch(f"{path}: dtype {mine.dtype}, torch {theirs.dtype}")
        pairs.append((path, mine, theirs))
    elif isinstance(theirs, (list, tuple)):
        if not isinstance(mine, (list, tuple)):
            raise Mismatch(f"{path}: minigrad returned {type(mine).__name__}, "
                           f"torch a {type(theirs).__name__} of {len(theirs)}")
        if len(mine) != len(theirs):
            raise Mismatch(f"{path}: {len(mine)} results, torch {len(theirs)}")
        for name in getattr(type(theirs), "__match_args__", ()):   # named tuples: max(dim)
            if not hasattr(mine, name):
                raise Mismatch(f"{path}: no field .{name} (torch returns "
                               f"{type(theirs).__name__} with fields "
                               f"{', '.join(type(theirs).__match_args__)})")
        for i, (m, t) in enumerate(zip(mine, theirs)):
            _pair(m, t, f"{path}[{i}]", pairs)
    elif isinstance(theirs, bool):
        if not isinstance(mine, (bool, np.bool_)) or bool(mine) != theirs:
            raise Mismatch(f"{path}: minigrad {mine!r}, torch {theirs!r}")
    elif isinstance(theirs, int):
        if not isinstance(mine, (int, np.integer)) or isinstance(mine, bool) or mine != theirs:
            raise Mismatch(f"{path}: minigrad {mine!r}, torch {theirs!r}")
    elif isinstance(theirs, float):
        if not isinstance(mine, (float, int, np.floating)) or isinstance(mine, bool):
            raise Mismatch(f"{path}: minigrad returned {type(mine).__name__}, torch a float")
        ok, message = values_agree(mine, theirs, *default_tolerances(torch.float64))
        if not ok:
            raise Mismatch(f"{path}: {message}")
    elif isinstance(theirs, torch.dtype):
        if mine != _numpy_dtype(theirs):
            raise Mismatch(f"{path}: minigrad {mine!r}, torch {theirs}")
    elif theirs is None:
        if mine is not None:
            raise Mismatch(f"{path}: minigrad returned {type(mine).__name__}, torch None")
    else:
        raise Mismatch(f"{path}: torch returned {type(theirs).__name__}, not compared")


def _array(t) -> np.ndarray:
    if isinstance(t, mg.Tensor):
        return np.asarray(t.detach().numpy())
    return t.detach().cpu().numpy()


def _is_float(t: torch.Tensor) -> bool:
    return t.dtype in (torch.float16, torch.float32, torch.float64)


def _compare_values(pairs, rtol, atol, reference_tensors, what: str):
    """Values of paired tensors: floating ones by ``values_agree``, others exactly."""
    for i, (path, mine, theirs) in enumerate(pairs):
        a, e = _array(mine), _array(theirs)
        if _is_float(theirs):
            ref = None
            if reference_tensors is not None:
                def ref(i=i):
                    return _array(reference_tensors()[i])
            ok, message = values_agree(a, e, rtol, atol, ref)
        else:
            ok = np.array_equal(a, e)
            message = "" if ok else f"{int((a != e).sum())} of {a.size} elements differ"
        if not ok:
            raise Mismatch(f"{what} {path}: {message}")


# -- running one sample --------------------------------------------------------------------------
@dataclass
class SampleResult:
    index: int
    description: str
    status: str                   # "pass" | "fail" | "skip" (torch raised)
    message: str = ""
    cause: str = ""               # "raises" | "mismatch" | "gradient" | "" (passed/skipped)
    made_contiguous: bool = False
    values_compared: bool = False   # False for a random op's random sample (shapes only)
    gradients_compared: bool = False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _torch_outputs_under_seeds(op, sample):
    """For random ops: PyTorch's output under four seeds, and whether they are equal (the
    sample does not draw random numbers: dropout with p=0, attention without dropout)."""
    fn = _rebind(op.op, wrapper_set_seed=_plain_call) if _is_test_database_lambda(op.op) else op.op
    outs, snapshots = [], []
    for seed in (1, 2, 3, 4):
        torch.manual_seed(seed)
        outs.append(fn(sample.input, *sample.args, **sample.kwargs))
        # an in-place op (normal_) returns its input: keep this call's values
        snapshots.append([t.detach().clone() for t in _torch_tensors(outs[-1])])
    first = snapshots[0]
    same = all(len(first) == len(other) and all(
        a.shape == b.shape and torch.equal(a, b) for a, b in zip(first, other))
        for other in snapshots[1:])
    return outs[0], same and not op.has_nondeterministic_output


def _weights(tensors, seed: int) -> list:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(t.shape, generator=gen, dtype=torch.float64).to(t.dtype) for t in tensors]


def _torch_loss(outputs, weights):
    return sum((o * w).sum() for o, w in zip(outputs, weights))


def run_sample(op, resolved: Resolved, sample, index: int, dtype) -> SampleResult:
    """Run one sample in both frameworks and compare (see the module docstring)."""
    result = SampleResult(index, describe(sample), "pass")
    conversion = _Conversion()
    try:
        mg_input = conversion(sample.input)
        mg_args = conversion(tuple(sample.args))
        mg_kwargs = conversion(dict(sample.kwargs))
    except Exception as exc:  # noqa: BLE001  (an input minigrad cannot hold)
        result.status, result.cause = "fail", "raises"
        result.message = f"converting the sample: {_first_line(exc)}"
        return result
    result.made_contiguous = conversion.made_contiguous

    try:
        if is_random(op):
            expected, deterministic = _torch_outputs_under_seeds(op, sample)
        else:
            expected, deterministic = op(sample.input, *sample.args, **sample.kwargs), True
        expected = sample.output_process_fn_grad(expected)
    except Exception:  # noqa: BLE001  (torch rejects the sample: nothing to compare)
        result.status = "skip"
        return result
    if expected is NotImplemented:          # x.__rsub__(y) for a y it does not take
        result.status = "skip"
        return result

    try:
        actual = _for_minigrad(sample.output_process_fn_grad)(
            resolved.call(mg_input, *mg_args, **mg_kwargs))
    except Exception as exc:  # noqa: BLE001
        result.status, result.cause = "fail", "raises"
        result.message = f"forward raised {_first_line(exc)}"
        return result

    rtol, atol = tolerance_for(op, dtype)
    try:
        pairs: list = []
        _pair(actual, expected, "out", pairs)
        if deterministic:
            _compare_values(pairs, rtol, atol, _reference_outputs(op, sample, dtype), "output")
    except Mismatch as exc:
        result.status, result.cause, result.message = "fail", "mismatch", str(exc)
        return result

    result.values_compared = deterministic
    if deterministic:
        compared, problem = _compare_gradients(op, sample, conversion, pairs, rtol, atol, dtype,
                                               index)
        result.gradients_compared = compared
        if problem:
            result.status, result.cause, result.message = "fail", "gradient", problem
    return result


def _reference_outputs(op, sample, dtype):
    """A function giving PyTorch's output tensors on the inputs upcast to float64 (float32
    samples only; computed at most once, when a float32 comparison needs it)."""
    if dtype != torch.float32:
        return None
    cache: list = []

    def tensors():
        if not cache:
            memo: dict = {}
            with torch.no_grad():
                out = op(_upcast(sample.input, memo), *_upcast(tuple(sample.args), memo),
                         **_upcast(dict(sample.kwargs), memo))
            cache.append(_torch_tensors(sample.output_process_fn_grad(out)))
        return cache[0]
    return tensors


def _compare_gradients(op, sample, conversion, pairs, rtol, atol, dtype,
                       index) -> tuple[bool, str]:
    """Gradients of sum(out * w) in both frameworks: (compared, problem or "")."""
    grad_pairs = [(m, t) for _, m, t in pairs if _is_float(t) and t.requires_grad]
    inputs = [(t, m) for t, m in conversion.tensors.values()
              if t.requires_grad and _is_float(t)]
    if not grad_pairs or not inputs:
        return False, ""
    torch_inputs = [t for t, _ in inputs]
    weights = _weights([t for _, t in grad_pairs], WEIGHT_SEED + index)
    try:
        expected = torch.autograd.grad(_torch_loss([t for _, t in grad_pairs], weights),
                                       torch_inputs, allow_unused=True)
    except Exception:  # noqa: BLE001  (torch cannot differentiate this sample)
        return False, ""

    not_tracked = [i for i, (m, _) in enumerate(grad_pairs) if not m.requires_grad]
    if not_tracked:
        return True, f"backward: output {not_tracked[0]} does not require grad (torch's does)"
    try:
        loss = None
        for (m, _), w in zip(grad_pairs, weights):
            term = (m * mg.tensor(w.numpy())).sum()
            loss = term if loss is None else loss + term
        loss.backward()
    except Exception as exc:  # noqa: BLE001
        return True, f"backward raised {_first_line(exc)}"

    reference = _reference_gradients(op, sample, torch_inputs, [t for _, t in grad_pairs],
                                     weights, dtype)
    for i, ((t, m), g) in enumerate(zip(inputs, expected)):
        e = np.zeros(tuple(t.shape)) if g is None else _array(g)
        a = np.zeros(tuple(t.shape)) if m.grad is None else _array(m.grad)
        if a.shape != e.shape:
            return True, f"gradient of input {i}: shape {a.shape}, torch {e.shape}"
        ref = None
        if reference is not None:
            def ref(i=i, shape=e.shape):
                grads = reference()
                return np.zeros(shape) if grads[i] is None else _array(grads[i])
        ok, message = values_agree(a, e, rtol, atol, ref)
        if not ok:
            return True, f"gradient of input {i} ({describe_tensor(t)}): {message}"
    return True, ""


def describe_tensor(t: torch.Tensor) -> str:
    return f"T{list(t.shape)} {str(t.dtype).replace('torch.', '')}"


def _reference_gradients(op, sample, torch_inputs, outputs, weights, dtype):
    """PyTorch's gradients in float64 for a float32 sample (lazily), or None."""
    if dtype != torch.float32:
        return None
    cache: list = []

    def grads():
        if not cache:
            memo: dict = {}
            out = sample.output_process_fn_grad(
                op(_upcast(sample.input, memo), *_upcast(tuple(sample.args), memo),
                   **_upcast(dict(sample.kwargs), memo)))
            ref_outputs = [o for o in _torch_tensors(out) if _is_float(o) and o.requires_grad]
            ref_inputs = [memo[id(t)] for t in torch_inputs]
            loss = _torch_loss(ref_outputs, [w.double() for w in weights])
            cache.append(torch.autograd.grad(loss, ref_inputs, allow_unused=True))
        return cache[0]
    return grads


# -- running one op ------------------------------------------------------------------------------
@dataclass
class OpResult:
    key: str
    dtype: str
    how: str
    samples: list = field(default_factory=list)

    @property
    def counted(self) -> list:
        return [s for s in self.samples if s.status != "skip"]

    @property
    def failures(self) -> list:
        return [s for s in self.samples if s.status == "fail"]

    @property
    def passed(self) -> bool:
        return not self.failures


def samples_of(op, dtype, max_samples: int | None = None, reference: bool = False) -> list:
    """(index, SampleInput) pairs: the op's samples for dtype in op_db's order, generated
    under a fixed seed so every run sees the same values. With ``max_samples``, an op with
    more samples keeps that many, evenly spaced over the list (deterministic, and spread over
    all the cases a generator walks through rather than the first few). ``reference=True``
    uses op_db's ``reference_inputs`` (the samples plus larger and extremal cases)."""
    torch.manual_seed(SAMPLE_SEED)
    requires_grad = op.supports_autograd and dtype in op.supported_backward_dtypes("cpu")
    if reference:
        # some reference generators refuse requires_grad=True (they also make integer
        # tensors): generate without, then let the floating leaf tensors require grad
        samples = list(op.reference_inputs("cpu", dtype, requires_grad=False))
        if requires_grad:
            for sample in samples:
                _require_grad((sample.input, sample.args, sample.kwargs))
    else:
        samples = list(op.sample_inputs("cpu", dtype, requires_grad=requires_grad))
    indices = range(len(samples))
    if max_samples is not None and len(samples) > max_samples:
        indices = sorted({round(i * (len(samples) - 1) / max(max_samples - 1, 1))
                          for i in range(max_samples)})
    return [(i, samples[i]) for i in indices]


def _require_grad(obj):
    """Every floating leaf tensor in a sample's structure requires grad."""
    if isinstance(obj, torch.Tensor):
        if _is_float(obj) and obj.is_leaf:
            obj.requires_grad_(True)
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            _require_grad(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            _require_grad(x)


def run_op(op, dtype, max_samples: int | None = None, resolved: Resolved | None = None,
           reference: bool = False) -> OpResult:
    """The op's samples for one dtype (see ``samples_of``), each compared by ``run_sample``."""
    resolved = resolved or resolve(op)
    result = OpResult(op_key(op), str(dtype).replace("torch.", ""), resolved.how)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            for i, sample in samples_of(op, dtype, max_samples, reference):
                result.samples.append(run_sample(op, resolved, sample, i, dtype))
    return result


def all_ops() -> list:
    """Every OpInfo in PyTorch's op_db."""
    return list(op_db)


def minigrad_ops() -> list:
    """(OpInfo, Resolved) for every OpInfo minigrad exposes, in op_db's order."""
    found = []
    for op in op_db:
        resolved = resolve(op)
        if resolved is not None:
            found.append((op, resolved))
    return found
