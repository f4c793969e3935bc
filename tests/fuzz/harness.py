"""The fuzz harness: how a case is described, run on minigrad and PyTorch, and judged.

A ``Case`` is one call of one op (an ``Op`` of the table in ``op_table.py``) on concrete
arguments. Tensor arguments are ``T``: a NumPy array and, optionally, the view taken of it
(a transpose, a step slice, an expand), so minigrad and PyTorch receive the same values in the
same layout, and the gradient flows back through the view to the array both start from.

``check(case)`` runs the case and raises ``CaseFailure`` unless the property holds:

* minigrad returns a value: without a NumPy RuntimeWarning, and, when PyTorch is installed,
  PyTorch returns one too, with the same structure, shapes, dtypes and values (tolerances by
  dtype) and, for float inputs that require grad, the same gradients of a random-weighted sum
  of the outputs; or
* minigrad raises one of its clear errors (``errors.assert_clear_error``): whatever PyTorch
  does, refusing clearly is allowed.

Failures that ``known_failures.py`` explains are let through (hypothesis records an event);
anything else fails the test with a description of the case.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import event

import minigrad as mg

from .errors import clear_error_problem

try:
    import torch
except ImportError:              # the comparisons skip; the no-crash/clear-error checks run
    torch = None

# (rtol, atol) per dtype; atol is scaled by the largest expected magnitude (at least 1).
TOLERANCES = {
    np.dtype(np.float16): (1e-2, 1e-2),
    np.dtype(np.float32): (1e-4, 1e-5),
    np.dtype(np.float64): (1e-9, 1e-12),
}


# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class T:
    """A tensor argument: ``base`` (the array both libraries build a leaf tensor from) seen
    through ``view``:

        ()                        the leaf itself
        ("transpose", d0, d1)     leaf.transpose(d0, d1)            (not contiguous)
        ("step", dim)             leaf[:, ..., ::2] along dim       (strided, offset 0)
        ("expand", shape)         leaf.expand(*shape)               (stride-0 dims)

    ``grad``: the leaf requires grad (float dtypes only).
    """

    base: np.ndarray
    view: tuple = ()
    grad: bool = False

    @property
    def values(self) -> np.ndarray:
        """What the op sees, as a NumPy array."""
        return _apply_view(self.base, self.view, numpy_view=True)

    @property
    def shape(self):
        return self.values.shape

    @property
    def dtype(self):
        return self.base.dtype

    def realize(self, lib):
        """(leaf, argument) as ``lib`` (minigrad or torch) tensors."""
        if lib is mg:
            leaf = mg.tensor(self.base)
        else:
            leaf = torch.from_numpy(self.base.copy())
        if self.grad:
            leaf.requires_grad_(True)
        return leaf, _apply_view(leaf, self.view, numpy_view=False)

    def _repr_pretty_(self, printer, cycle):     # how hypothesis prints a falsifying case
        printer.text(repr(self))

    def __repr__(self):
        base = self.base
        if base.size <= 16:
            data = f"np.array({base.tolist()!r}, dtype='{base.dtype}')"
        else:
            data = f"<{base.dtype} array of shape {base.shape}>"
        text = f"tensor({data}{', requires_grad=True' if self.grad else ''})"
        kind = self.view[0] if self.view else None
        if kind == "transpose":
            text += f".transpose({self.view[1]}, {self.view[2]})"
        elif kind == "step":
            text += f"[{':, ' * self.view[1]}::2]"
        elif kind == "expand":
            text += f".expand{tuple(self.view[1])}"
        return text


def _apply_view(x, view, numpy_view):
    if not view:
        return x
    kind = view[0]
    if kind == "transpose":
        return np.swapaxes(x, view[1], view[2]) if numpy_view else x.transpose(view[1], view[2])
    if kind == "step":
        return x[(slice(None),) * view[1] + (slice(None, None, 2),)]
    if kind == "expand":
        return np.broadcast_to(x, view[1]) if numpy_view else x.expand(*view[1])
    raise ValueError(f"unknown view {view!r}")


@dataclass(frozen=True)
class Dtype:
    """A dtype argument (``dtype=``), given to each library under its own object."""

    name: str

    def realize(self, lib):
        return getattr(mg if lib is mg else torch, self.name)

    def __repr__(self):
        return f"L.{self.name}"


def realize(arg, lib, leaves):
    """``arg`` with every T replaced by a ``lib`` tensor (leaves that require grad are
    appended to ``leaves``); lists, tuples and dicts are walked, anything else passes."""
    if isinstance(arg, T):
        leaf, value = arg.realize(lib)
        if arg.grad:
            leaves.append(leaf)
        return value
    if isinstance(arg, Dtype):
        return arg.realize(lib)
    if isinstance(arg, (list, tuple)):
        return type(arg)(realize(a, lib, leaves) for a in arg)
    if isinstance(arg, dict):
        return {k: realize(v, lib, leaves) for k, v in arg.items()}
    return arg


# ---------------------------------------------------------------------------------------------
# Ops and cases
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Op:
    """One row of the op table.

    ``call(L, *args, **kwargs)`` calls the op with ``L`` the library (``minigrad`` or
    ``torch``: minigrad mirrors PyTorch's API, so one lambda serves both). ``cases`` is a
    function ``draw -> (args, kwargs)`` (``strategies.py``). ``names``: the words a clear error
    of this op may use to name it (default: the op's name).
    """

    name: str
    call: Callable
    cases: Callable
    names: tuple = ()
    rtol: float | None = None      # looser than TOLERANCES (ops that sum many terms)
    atol: float | None = None      # looser than TOLERANCES (ops that amplify rounding)
    values: bool = True            # compare values (False: random results, shape/dtype only)
    # a documented deliberate difference: gradients are not compared when this returns True
    # for (case, minigrad's outputs)
    grads_differ: Callable | None = None

    @property
    def error_names(self):
        return self.names or (self.name,)

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.name)

    def __repr__(self):
        return self.name


@dataclass(eq=False)
class Case:
    op: Op
    args: tuple
    kwargs: dict = field(default_factory=dict)

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))

    def __repr__(self):
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.op.name}({', '.join(parts)})"

    def tensors(self):
        """Every T among the arguments, in order."""
        found = []

        def walk(a):
            if isinstance(a, T):
                found.append(a)
            elif isinstance(a, (list, tuple)):
                for b in a:
                    walk(b)
            elif isinstance(a, dict):
                for b in a.values():
                    walk(b)
        walk(self.args)
        walk(self.kwargs)
        return found


@dataclass
class WithLeaves:
    """What a call returns when gradients of tensors it made itself (a module's parameters,
    ``names``) must be compared too."""

    value: Any
    leaves: list
    names: list


def fill_parameters(L, named_parameters, seed):
    """Give a module's parameters (sorted (name, parameter) pairs) the same random values in
    both libraries."""
    rng = np.random.default_rng(seed)
    for _, p in named_parameters:
        values = rng.uniform(-0.5, 0.5, size=tuple(p.shape))
        if L is mg:
            p.array[...] = values
        else:
            with torch.no_grad():
                p.copy_(torch.from_numpy(values))


class CaseFailure(AssertionError):
    """The property failed for ``case``. ``kind`` is one of: "warning" (a NumPy
    RuntimeWarning), "unclear-error", "accepts-invalid" (PyTorch raises, minigrad returns),
    "mismatch" (structure, shape, dtype or values differ from PyTorch), "grad-mismatch",
    "backward-error" (minigrad's backward raised what is not a clear error)."""

    def __init__(self, kind: str, case, detail: str):
        self.kind, self.case, self.detail = kind, case, detail
        super().__init__(f"[{kind}] {case!r}\n    {detail}")


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    leaves: list = field(default_factory=list)
    leaf_names: list | None = None

    def unwrap(self):
        if isinstance(self.value, WithLeaves):
            self.leaves.extend(self.value.leaves)
            self.leaf_names = self.value.names
            self.value = self.value.value
        return self


def run_minigrad(call, case):
    """Call ``call(L, *args)`` with minigrad's tensors; NumPy's RuntimeWarnings (divide by
    zero, invalid value, overflow) are raised as errors so they fail the property."""
    outcome = Outcome()
    with warnings.catch_warnings(), np.errstate(divide="warn", over="warn", invalid="warn",
                                                under="ignore"):
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", RuntimeWarning)
        try:
            args = realize(case.args, mg, outcome.leaves)
            kwargs = realize(case.kwargs, mg, outcome.leaves)
            outcome.value = call(mg, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - judged by the caller
            outcome.error = exc
    return outcome.unwrap()


def run_torch(call, case):
    outcome = Outcome()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            args = realize(case.args, torch, outcome.leaves)
            kwargs = realize(case.kwargs, torch, outcome.leaves)
            outcome.value = call(torch, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            outcome.error = exc
    return outcome.unwrap()


def torch_cannot_tell(error) -> bool:
    """PyTorch's CPU build lacks a kernel (e.g. for float16): no reference, not a verdict."""
    return "not implemented for" in str(error)


def check(case, *, allow_known: bool = True) -> None:
    """Run ``case``; raise CaseFailure unless the property holds or (``allow_known``) a
    known failure explains the failure."""
    try:
        check_case(case)
    except CaseFailure as failure:
        if allow_known:
            from .known_failures import explaining
            known = explaining(failure)
            if known is not None:
                event(f"known failure: {known.id}")
                return
        raise


def check_case(case) -> None:
    op = case.op
    got = run_minigrad(op.call, case)
    if isinstance(got.error, Warning):
        raise CaseFailure("warning", case, f"NumPy warned: {got.error}")
    expected = run_torch(op.call, case) if torch is not None else None
    if got.error is not None:
        problem = clear_error_problem(got.error, op.error_names)
        if problem is not None:
            torch_said = ("" if expected is None else
                          f"\n    PyTorch: {_describe_outcome(expected)}")
            raise CaseFailure("unclear-error", case,
                              f"{type(got.error).__name__}: {got.error}\n    ({problem})"
                              f"{torch_said}") from got.error
        return
    outputs = _flatten(got.value)
    for o in outputs:
        if not isinstance(o, (mg.Tensor, bool, int, float, type(None))):
            raise CaseFailure("mismatch", case, f"returned a {type(o).__name__}, not a Tensor")
    if expected is None:                       # no PyTorch: at least run the backward
        _minigrad_backward(case, outputs, got.leaves)
        return
    if expected.error is not None:
        if torch_cannot_tell(expected.error):
            return
        raise CaseFailure("accepts-invalid", case,
                          f"PyTorch raises {type(expected.error).__name__}: "
                          f"{str(expected.error)[:300]}\n    minigrad returned "
                          f"{_summary(got.value)}")
    if got.leaf_names != expected.leaf_names:
        raise CaseFailure("mismatch", case, f"parameters {got.leaf_names}, PyTorch's "
                                            f"{expected.leaf_names}")
    _compare_outputs(case, outputs, _flatten(expected.value))
    _compare_gradients(case, outputs, got.leaves, _flatten(expected.value), expected.leaves)


def _describe_outcome(outcome):
    if outcome.error is not None:
        return f"{type(outcome.error).__name__}: {str(outcome.error)[:200]}"
    return f"returns {_summary(outcome.value)}"


def _summary(value):
    outs = _flatten(value)
    return ", ".join(f"{type(o).__name__}{tuple(o.shape) if hasattr(o, 'shape') else ''}"
                     f"{' ' + str(o.dtype) if hasattr(o, 'dtype') else ''}" for o in outs)


def _flatten(value):
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _flatten(v)]
    return [value]


# ---------------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------------

def numpy_dtype(torch_dtype):
    return torch.empty(0, dtype=torch_dtype).numpy().dtype


def _as_numpy(x):
    if isinstance(x, mg.Tensor):
        return np.asarray(x.detach().numpy())
    return x.detach().numpy()


def _compare_outputs(case, outputs, expected):
    if len(outputs) != len(expected):
        raise CaseFailure("mismatch", case, f"{len(outputs)} outputs, PyTorch gives "
                                            f"{len(expected)}")
    for i, (o, e) in enumerate(zip(outputs, expected)):
        where = f"output {i}"
        if not isinstance(e, torch.Tensor):
            if isinstance(o, mg.Tensor) or o != e:
                raise CaseFailure("mismatch", case, f"{where}: {o!r}, PyTorch gives {e!r}")
            continue
        if not isinstance(o, mg.Tensor):
            raise CaseFailure("mismatch", case, f"{where}: {o!r}, PyTorch gives a tensor")
        if tuple(o.shape) != tuple(e.shape):
            raise CaseFailure("mismatch", case, f"{where}: shape {tuple(o.shape)}, PyTorch "
                                                f"gives {tuple(e.shape)}")
        if np.dtype(o.dtype) != numpy_dtype(e.dtype):
            raise CaseFailure("mismatch", case, f"{where}: dtype {o.dtype}, PyTorch gives "
                                                f"{numpy_dtype(e.dtype)}")
        if case.op.values:
            _assert_close(case, "mismatch", where, _as_numpy(o), _as_numpy(e), case.op)
        if o.requires_grad != e.requires_grad:
            raise CaseFailure("mismatch", case, f"{where}: requires_grad={o.requires_grad}, "
                                                f"PyTorch's {e.requires_grad}")


def _assert_close(case, kind, where, actual, expected, op):
    if actual.dtype.kind not in "fc":
        if not np.array_equal(actual, expected):
            raise CaseFailure(kind, case, f"{where} differs from PyTorch's:\n"
                                          f"    minigrad {actual.tolist()}\n"
                                          f"    PyTorch  {expected.tolist()}")
        return
    rtol, atol = _tolerances(case, actual.dtype)
    rtol, atol = max(rtol, op.rtol or 0), max(atol, op.atol or 0)
    finite = expected[np.isfinite(expected)]
    scale = max(1.0, float(np.abs(finite.astype(np.float64)).max())) if finite.size else 1.0
    a64, e64 = actual.astype(np.float64), expected.astype(np.float64)
    same_special = (np.isnan(a64) & np.isnan(e64)) | (a64 == e64)
    with np.errstate(invalid="ignore", over="ignore"):          # inf - inf: not close
        close = same_special | (np.abs(a64 - e64) <= atol * scale + rtol * np.abs(e64))
    if not close.all():
        bad = np.argwhere(~close)[:3].tolist()
        raise CaseFailure(kind, case, f"{where} differs from PyTorch's at {bad}:\n"
                                      f"    minigrad {_short(a64)}\n"
                                      f"    PyTorch  {_short(e64)}")


def _tolerances(case, dtype):
    """(rtol, atol) of the least precise float dtype among the result, the inputs and a
    dtype= argument: a float64 result computed in float32 is only as exact as float32."""
    dtypes = [dtype] + [t.dtype for t in case.tensors() if t.dtype.kind == "f"]
    dtypes += [np.dtype(v.name) for v in case.kwargs.values() if isinstance(v, Dtype)]
    return max(TOLERANCES.get(np.dtype(d), (1e-9, 1e-12)) for d in dtypes)


def _short(a):
    flat = a.ravel()
    text = np.array2string(flat[:12], precision=6)
    return text + (f" ... ({flat.size} values)" if flat.size > 12 else "")


def _weights(outputs_or_shapes, lib):
    """Random weights for the weighted sum of every float output that requires grad."""
    rng = np.random.default_rng(0)
    weights = []
    for o in outputs_or_shapes:
        w = rng.standard_normal(tuple(o.shape))
        if lib is mg:
            weights.append(mg.tensor(w.astype(o.dtype)))
        else:
            weights.append(torch.from_numpy(w.astype(numpy_dtype(o.dtype))))
    return weights


def _differentiable(outputs):
    return [o for o in outputs if getattr(o, "requires_grad", False)]


def _minigrad_backward(case, outputs, leaves):
    """Backward of the weighted sum on minigrad's outputs: True when it ran, False when
    minigrad refused with a clear error; other failures become CaseFailures."""
    roots = _differentiable(outputs)
    if not roots:
        return True
    with warnings.catch_warnings(), np.errstate(divide="warn", over="warn", invalid="warn",
                                                under="ignore"):
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", RuntimeWarning)
        try:
            mg.autograd.backward(roots, _weights(roots, mg))
        except RuntimeWarning as w:
            raise CaseFailure("warning", case, f"NumPy warned in backward: {w}") from w
        except Exception as exc:  # noqa: BLE001
            problem = clear_error_problem(exc, case.op.error_names + ("backward",))
            if problem is not None:
                raise CaseFailure("backward-error", case, f"{type(exc).__name__}: {exc}\n"
                                                          f"    ({problem})") from exc
            return False
    return True


def _compare_gradients(case, outputs, leaves, expected, expected_leaves):
    expected_roots = _differentiable(expected)
    if not expected_roots or (case.op.grads_differ and case.op.grads_differ(case, outputs)):
        return
    if not _minigrad_backward(case, outputs, leaves):
        return                       # a clear refusal (e.g. no float16 backward) is allowed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.autograd.backward(expected_roots, _weights(expected_roots, torch))
        except RuntimeError:         # PyTorch's backward refuses (e.g. some empty inputs):
            return                   # no reference gradient; minigrad's ran without failing
    for i, (leaf, e) in enumerate(zip(leaves, expected_leaves)):
        where = f"gradient of tensor argument {i}"
        if e.grad is None or leaf.grad is None:
            if (e.grad is None) != (leaf.grad is None):
                raise CaseFailure("grad-mismatch", case, f"{where}: minigrad {leaf.grad!r}, "
                                                         f"PyTorch {e.grad!r}")
            continue
        g = _as_numpy(leaf.grad)
        if g.shape != tuple(e.grad.shape) or g.dtype != numpy_dtype(e.grad.dtype):
            raise CaseFailure("grad-mismatch", case,
                              f"{where}: {g.shape} {g.dtype}, PyTorch "
                              f"{tuple(e.grad.shape)} {numpy_dtype(e.grad.dtype)}")
        _assert_close(case, "grad-mismatch", where, g, _as_numpy(e.grad), case.op)
