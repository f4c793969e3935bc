"""Run PyTorch's ModuleInfo inputs (``common_modules.module_db``) through minigrad's layers.

For each ModuleInfo whose class minigrad has under the same name (``nn.Linear`` ->
``mg.nn.Linear``), and each float32/float64 ModuleInput (in train mode, and in eval mode too
where the ModuleInfo says the two differ):

* both modules are built from the ModuleInput's constructor arguments (converted as in
  ``opinfo_harness``), and PyTorch's ``state_dict`` is loaded into minigrad's with
  ``strict=True`` (so the parameter and buffer names must be PyTorch's);
* the forward input runs through both; outputs are compared as ops' are (structure, shapes,
  dtypes, ``values_agree`` with a float64 reference for float32);
* the state after forward (BatchNorm's running statistics) must agree;
* when the output is floating, the gradients of ``sum(out * w)`` with respect to every
  parameter and every floating input that requires grad must agree (None counts as zeros).

A module whose output depends on random numbers (dropout in train mode) is run by PyTorch
under two seeds; if the outputs differ only structure, shapes and dtypes are compared.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import numpy as np
import opinfo_harness as ops
import torch
from opinfo_harness import describe_call
from torch.testing._internal.common_modules import module_db

import minigrad as mg

# PyTorch's module tests whose tolerance overrides are about comparing eager results
MODULE_TOLERANCE_TESTS = (None, "test_forward")


@dataclass
class ModuleCase:
    info: object            # the ModuleInfo
    cls: type               # minigrad's class of the same name

    @property
    def key(self) -> str:
        return self.info.name


def minigrad_modules() -> list[ModuleCase]:
    """Every ModuleInfo whose module minigrad has, in module_db's order."""
    cases = []
    for info in module_db:
        cls = ops._lookup(mg, info.name)
        if isinstance(cls, type) and issubclass(cls, mg.nn.Module):
            cases.append(ModuleCase(info, cls))
    return cases


def takes_a_torch_module(module_input) -> bool:
    """The constructor gets a built torch module (TransformerEncoder(encoder_layer, ...)),
    which the harness cannot convert: its constructor arguments are gone."""
    c = module_input.constructor_input
    return any(isinstance(a, torch.nn.Module) for a in (*c.args, *c.kwargs.values()))


def module_dtypes(case: ModuleCase) -> list:
    return [d for d in ops.DTYPES if d in case.info.supported_dtypes("cpu")]


def module_inputs(case: ModuleCase, dtype, max_inputs: int | None = None) -> list:
    """(index, training, ModuleInput) triples, generated under a fixed seed; train mode, plus
    eval mode where the ModuleInfo says they differ. With ``max_inputs``, that many evenly
    spaced over the list."""
    torch.manual_seed(ops.SAMPLE_SEED)
    modes = (True, False) if case.info.train_and_eval_differ else (True,)
    inputs = [(training, mi) for training in modes
              for mi in case.info.module_inputs_func(case.info, device="cpu", dtype=dtype,
                                                     requires_grad=True, training=training)]
    indices = range(len(inputs))
    if max_inputs is not None and len(inputs) > max_inputs:
        indices = sorted({round(i * (len(inputs) - 1) / max(max_inputs - 1, 1))
                          for i in range(max_inputs)})
    return [(i, *inputs[i]) for i in indices]


def describe(module_input, training: bool) -> str:
    """``train: Linear(10, 8) forward args T[4, 10] float32``."""
    c, f = module_input.constructor_input, module_input.forward_input
    ctor = describe_call(c.args, c.kwargs) or "no arguments"
    return f"{'train' if training else 'eval'}: ({ctor}), forward {describe_call(f.args, f.kwargs)}"


def _build_torch(case, module_input, dtype, training):
    c = module_input.constructor_input
    module = case.info.module_cls(*c.args, **c.kwargs).to(dtype)
    return module.train(training)


def _torch_forward(module, forward_input):
    return module(*forward_input.args, **forward_input.kwargs)


def _random_output(module, forward_input) -> bool:
    """PyTorch's output differs between two seeds (dropout in train mode)."""
    outs = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        with torch.no_grad():
            outs.append(ops._torch_tensors(_torch_forward(copy.deepcopy(module), forward_input)))
    return not (len(outs[0]) == len(outs[1]) and
                all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(*outs)))


def _load_torch_state(mine, theirs):
    state = {name: mg.tensor(value.detach().numpy().copy())
             for name, value in theirs.state_dict().items()}
    mine.load_state_dict(state, strict=True)


def run_module_input(case: ModuleCase, module_input, index: int, dtype,
                     training: bool) -> ops.SampleResult:
    """Build, load, run forward and backward in both frameworks and compare."""
    result = ops.SampleResult(index, describe(module_input, training), "pass")
    if takes_a_torch_module(module_input):
        result.status = "skip"
        result.message = "the constructor takes a torch module, which is not converted"
        return result
    fwd = module_input.forward_input
    try:
        torch.manual_seed(ops.SAMPLE_SEED)
        theirs = _build_torch(case, module_input, dtype, training)
        pristine = copy.deepcopy(theirs)             # for the float64 reference
        random = training and _random_output(theirs, fwd)
        torch.manual_seed(1)
        expected = _torch_forward(theirs, fwd)
    except Exception:  # noqa: BLE001  (torch rejects the input: nothing to compare)
        result.status = "skip"
        return result

    conversion = ops._Conversion()
    c = module_input.constructor_input
    try:
        mine = case.cls(*conversion(tuple(c.args)), **conversion(dict(c.kwargs)))
        mine.to(ops._numpy_dtype(dtype)).train(training)
        _load_torch_state(mine, pristine)
    except Exception as exc:  # noqa: BLE001
        result.status, result.cause = "fail", "raises"
        result.message = f"constructing or loading the state_dict raised {ops._first_line(exc)}"
        return result
    try:
        actual = mine(*conversion(tuple(fwd.args)), **conversion(dict(fwd.kwargs)))
    except Exception as exc:  # noqa: BLE001
        result.status, result.cause = "fail", "raises"
        result.message = f"forward raised {ops._first_line(exc)}"
        return result
    result.made_contiguous = conversion.made_contiguous

    rtol, atol = ops.tolerance_for(case.info, dtype, MODULE_TOLERANCE_TESTS)
    reference = _reference(pristine, fwd, dtype)
    try:
        pairs: list = []
        ops._pair(actual, expected, "out", pairs)
        if not random:
            ops._compare_values(pairs, rtol, atol, reference and reference.outputs, "output")
            _compare_state(mine, theirs, rtol, atol)
    except ops.Mismatch as exc:
        result.status, result.cause, result.message = "fail", "mismatch", str(exc)
        return result
    result.values_compared = not random
    if not random:
        compared, problem = _compare_gradients(mine, theirs, conversion, pairs, rtol, atol,
                                               reference, index)
        result.gradients_compared = compared
        if problem:
            result.status, result.cause, result.message = "fail", "gradient", problem
    return result


def _compare_state(mine, theirs, rtol, atol):
    """Parameters and buffers after forward (running statistics), by name."""
    expected = theirs.state_dict()
    actual = mine.state_dict()
    if set(actual) != set(expected):
        raise ops.Mismatch(f"state_dict keys {sorted(actual)}, torch {sorted(expected)}")
    for name, value in expected.items():
        a, e = ops._array(actual[name]), value.detach().numpy()
        if a.shape != e.shape:
            raise ops.Mismatch(f"state {name}: shape {a.shape}, torch {e.shape}")
        ok = (ops.values_agree(a, e, rtol, atol)[0] if ops._is_float(value)
              else np.array_equal(a, e))
        if not ok:
            raise ops.Mismatch(f"state {name} after forward differs: "
                               f"{ops.values_agree(a, e, rtol, atol)[1]}")


@dataclass
class _Reference:
    """PyTorch in float64 on the same module and inputs (float32 cases), computed lazily."""
    module: object
    forward_input: object
    weights_seed: int = 0

    def _run(self):
        memo: dict = {}
        module = copy.deepcopy(self.module).double()
        args = ops._upcast(tuple(self.forward_input.args), memo)
        kwargs = ops._upcast(dict(self.forward_input.kwargs), memo)
        torch.manual_seed(1)
        return module, memo, module(*args, **kwargs)

    def outputs(self):
        if not hasattr(self, "_outputs"):
            with torch.no_grad():
                self._outputs = ops._torch_tensors(self._run()[2])
        return self._outputs

    def gradients(self, torch_inputs, param_names, weights):
        module, memo, out = self._run()
        outputs = [o for o in ops._torch_tensors(out) if ops._is_float(o) and o.requires_grad]
        params = dict(module.named_parameters())
        wrt = [memo[id(t)] for t in torch_inputs] + [params[n] for n in param_names]
        loss = ops._torch_loss(outputs, [w.double() for w in weights])
        return torch.autograd.grad(loss, wrt, allow_unused=True)


def _reference(pristine, forward_input, dtype):
    return _Reference(pristine, forward_input) if dtype == torch.float32 else None


def _compare_gradients(mine, theirs, conversion, pairs, rtol, atol, reference,
                       index) -> tuple[bool, str]:
    grad_pairs = [(m, t) for _, m, t in pairs if ops._is_float(t) and t.requires_grad]
    inputs = [(t, m) for t, m in conversion.tensors.values()
              if t.requires_grad and ops._is_float(t)]
    params = [(n, p) for n, p in theirs.named_parameters() if p.requires_grad]
    if not grad_pairs or not (inputs or params):
        return False, ""
    weights = ops._weights([t for _, t in grad_pairs], ops.WEIGHT_SEED + index)
    wrt = [t for t, _ in inputs] + [p for _, p in params]
    try:
        expected = torch.autograd.grad(ops._torch_loss([t for _, t in grad_pairs], weights),
                                       wrt, allow_unused=True)
    except Exception:  # noqa: BLE001  (torch cannot differentiate this input)
        return False, ""
    if any(not m.requires_grad for m, _ in grad_pairs):
        return True, "backward: an output does not require grad (torch's does)"
    try:
        loss = None
        for (m, _), w in zip(grad_pairs, weights):
            term = (m * mg.tensor(w.numpy())).sum()
            loss = term if loss is None else loss + term
        loss.backward()
    except Exception as exc:  # noqa: BLE001
        return True, f"backward raised {ops._first_line(exc)}"

    my_params = dict(mine.named_parameters())
    targets = [(f"input {i}", m) for i, (_, m) in enumerate(inputs)]
    targets += [(f"parameter {n}", my_params.get(n)) for n, _ in params]
    ref_grads = None
    for i, ((label, m), g) in enumerate(zip(targets, expected)):
        if m is None:
            return True, f"{label}: minigrad has no such parameter"
        e = np.zeros(tuple(wrt[i].shape)) if g is None else ops._array(g)
        a = np.zeros(tuple(m.shape)) if m.grad is None else ops._array(m.grad)
        if a.shape != e.shape:
            return True, f"gradient of {label}: shape {a.shape}, torch {e.shape}"
        ref = None
        if reference is not None:
            def ref(i=i, shape=e.shape):
                nonlocal ref_grads
                if ref_grads is None:
                    ref_grads = reference.gradients([t for t, _ in inputs],
                                                    [n for n, _ in params], weights)
                g = ref_grads[i]
                return np.zeros(shape) if g is None else ops._array(g)
        ok, message = ops.values_agree(a, e, rtol, atol, ref)
        if not ok:
            return True, f"gradient of {label}: {message}"
    return True, ""


def run_module(case: ModuleCase, dtype, max_inputs: int | None = None) -> ops.OpResult:
    """Every ModuleInput of one (ModuleInfo, dtype), each compared by ``run_module_input``."""
    result = ops.OpResult(case.key, str(dtype).replace("torch.", ""), "module")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            for i, training, module_input in module_inputs(case, dtype, max_inputs):
                result.samples.append(run_module_input(case, module_input, i, dtype, training))
    return result

