"""``Module``: the base class of every layer, and the containers built on it.

A Module is a small tree. Each node keeps three ordered dicts:

    _parameters   name -> Parameter   learnable tensors (``self.weight = Parameter(...)``)
    _buffers      name -> Tensor      state that is not learned (BatchNorm's running_mean)
    _modules      name -> Module      children (``self.fc1 = Linear(4, 8)``)

Plain attribute assignment fills them: ``__setattr__`` looks at the type of the value and files
it in the right dict. Everything else walks that tree:

* ``named_parameters()`` yields ``("fc1.weight", p)``: own entries first, then each child's,
  depth first, in the order they were assigned. That order is the order of ``parameters()``,
  of ``state_dict()`` and of an optimizer's parameter list.
* ``state_dict()`` maps the same dotted names to detached tensors: parameters, then persistent
  buffers, of every module in that order. The names equal PyTorch's, so weights move between
  the two frameworks by name.
* ``load_state_dict()`` checks every key and shape first and only then copies the values *into*
  the existing tensors: a failed load changes nothing, and an optimizer holding the parameters
  keeps working after a successful one.

The containers (``Sequential``, ``ModuleList``, ``ModuleDict``) are Modules whose children are
named "0", "1", ... or by the user's keys, so ``model[0].weight`` is ``"0.weight"``.
"""

from __future__ import annotations

import collections
import operator
from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from . import hooks as _hooks
from .hooks import (
    RemovableHandle,
    _global_backward_hooks,
    _global_backward_pre_hooks,
    _global_forward_hooks,
    _global_forward_pre_hooks,
)
from .parameter import Buffer, Parameter

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict"]


class _IncompatibleKeys(collections.namedtuple("IncompatibleKeys",
                                               ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it could not match, as PyTorch does."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text: str, n: int) -> str:
    """Indent every line but the first by ``n`` spaces (how nested reprs are drawn)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join((" " * n + line) if line.strip() else ""
                                       for line in lines[1:])


def _check_name(kind: str, name, owner: Module):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
    if hasattr(owner, name) and name not in owner._parameters and name not in owner._buffers \
            and name not in owner._modules:
        raise KeyError(f"attribute '{name}' already exists")


def _to_array(value, key: str):
    """A state_dict value as a NumPy/CuPy array: Tensors, NumPy arrays, torch tensors, lists.

    torch is never imported: a torch tensor is recognised by its ``detach().cpu().numpy()``.
    """
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    if hasattr(value, "__cuda_array_interface__") or isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except Exception as e:  # noqa: BLE001 - any conversion failure gets the same clear message
        raise TypeError(f"load_state_dict: the value for {key!r} is a {type(value).__name__}, "
                        "which can't be turned into an array") from e


class Module:
    """Base class for all layers and models. Subclass it, assign layers in ``__init__``,
    write ``forward``::

        class MLP(mg.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = mg.nn.Linear(64, 128)
                self.fc2 = mg.nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())

    Call the module (``model(x)``), not ``model.forward(x)``: ``__call__`` also runs hooks.
    """

    training: bool

    def __init__(self):
        d = self.__dict__  # plain dict writes: __setattr__ below needs these to exist first
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = {}
        d["_forward_hooks_always_called"] = {}
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = {}
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        # the global hook dicts are the ones in hooks.py (mutated there, never rebound)
        if (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks or _global_forward_pre_hooks
                or _global_forward_hooks or _global_backward_pre_hooks
                or _global_backward_hooks):
            return _hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # -- hooks (minigrad/nn/hooks.py runs them) ----------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before every forward; it may return new inputs (a
        tuple, or one value). ``with_kwargs``: ``hook(module, args, kwargs)``, which may
        return ``(new_args, new_kwargs)``. ``prepend``: run it before the hooks already
        registered (global hooks still come first)."""
        handle = _hooks.add_hook(self._forward_pre_hooks, hook, prepend,
                                 (self._forward_pre_hooks_with_kwargs,))
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every forward (e.g. to record
        activations); if it returns something, that replaces the output. ``with_kwargs``:
        ``hook(module, args, kwargs, output)``. ``always_call``: run it even when forward
        raises (the error still propagates). ``prepend``: before the hooks already there."""
        handle = _hooks.add_hook(self._forward_hooks, hook, prepend,
                                 (self._forward_hooks_with_kwargs,
                                  self._forward_hooks_always_called))
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs are known; it may return a tuple that replaces ``grad_output``. Entries are
        None for non-Tensor outputs and for outputs that got no gradient."""
        return _hooks.add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        the module's positional inputs are computed; it may return a tuple that replaces
        ``grad_input``. Entries are None for non-Tensor arguments; a Tensor input that does
        not require grad gets zeros. If no input requires grad the hook fires when
        ``grad_output`` is known, with ``grad_input`` all None; if no output requires grad
        it does not fire. The module's forward sees views of its input Tensors, and the
        caller gets views of its output Tensors (minigrad/nn/hooks.py explains why)."""
        return _hooks.add_hook(self._backward_hooks, hook, prepend)

    # -- registration --------------------------------------------------------------------------
    def _require_init(self, what: str):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call: call super().__init__() "
                f"at the start of {type(self).__name__}.__init__")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or ``None``: a declared but absent parameter, like a disabled bias)."""
        self._require_init("parameter")
        _check_name("parameter", name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: module state that is not learned, moved by ``.to()`` like parameters.

        Persistent buffers are part of ``state_dict()`` (BatchNorm's running statistics);
        ``persistent=False`` keeps one out of it (a cached mask, for instance).
        """
        self._require_init("buffer")
        _check_name("buffer", name, self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (the same as ``setattr(self, name, module)``)."""
        self._require_init("module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name("module", name, self)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Buffer):
            self._require_init("buffer")
            self._forget(name)
            self.register_buffer(name, value, persistent=value.persistent)
        elif isinstance(value, Parameter):
            self._require_init("parameter")
            self._forget(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected); wrap it: "
                                f"nn.Parameter(value)")
            params[name] = None
        elif isinstance(value, Module):
            self._require_init("module")
            self._forget(name)
            self._modules[name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            d["_modules"][name] = None
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str):
        """Remove ``name`` wherever it was filed, before filing it anew."""
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: parameters, buffers and children live in dicts
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            entries = d.get(store)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    # -- walking the tree ----------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """(name, module) for this module and every descendant, depth first; "" is self."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, c in self.named_children():
            yield c

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, mod in modules:
            for name, value in getattr(mod, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """(dotted name, Parameter); a parameter shared by two layers is listed once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """``model.get_submodule("encoder.layers.0")``: the module at a dotted path."""
        mod = self
        for atom in target.split(".") if target else []:
            child = mod._modules.get(atom)
            if child is None:
                raise AttributeError(f"{mod._get_name()} has no submodule `{atom}` "
                                     f"(looking for {target!r})")
            mod = child
        return mod

    def apply(self, fn) -> Module:
        """Call ``fn(m)`` on every child (recursively), then on self: ``model.apply(init_fn)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- modes and gradients -------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses and updates batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``. It does not turn off gradients; use no_grad."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter, e.g. for fine-tuning."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last backward (they add up otherwise)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad = p.grad.detach()
                p.grad.zero_()

    # -- state_dict ----------------------------------------------------------------------------
    def _state_items(self, prefix: str = ""):
        """(key, tensor) in state_dict order: per module, parameters then persistent buffers."""
        for mod_prefix, mod in self.named_modules(prefix=prefix, remove_duplicate=False):
            head = f"{mod_prefix}." if mod_prefix else ""
            for name, p in mod._parameters.items():
                if p is not None:
                    yield head + name, p
            for name, b in mod._buffers.items():
                if b is not None and name not in mod._non_persistent_buffers_set:
                    yield head + name, b

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict ``{"0.weight": tensor, "bn.running_mean": tensor, ...}``.

        The tensors are detached but share memory with the module (as in PyTorch): training
        on changes them. To keep a snapshot, copy: ``{k: v.clone() for k, v in sd.items()}``.
        """
        out = OrderedDict() if destination is None else destination
        for key, t in self._state_items(prefix):
            out[key] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> _IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers, in place.

        Values may be minigrad Tensors, NumPy arrays or anything with ``.detach().cpu()
        .numpy()`` (a torch tensor). Each is cast to the dtype and moved to the device of the
        tensor it replaces. Every key and shape is checked before anything is copied, so an
        error leaves the module as it was. Returns ``(missing_keys, unexpected_keys)``; with
        ``strict=True`` (the default) any such key is an error too.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors, plan = [], []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _to_array(state_dict[key], key)
            if tuple(value.shape) != tuple(target.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{tuple(value.shape)} from checkpoint, the shape in current "
                              f"model is {tuple(target.shape)}.")
                continue
            plan.append((target, value))
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for target, value in plan:  # copy_ casts to the target's dtype and device
                target.copy_(Tensor._make(value))
        return _IncompatibleKeys(missing, unexpected)

    # -- devices and dtypes --------------------------------------------------------------------
    def _apply_to_tensors(self, convert):
        """Replace the array of every parameter, gradient and buffer by ``convert(array)``.

        The Parameter objects stay the same (only ``.array`` changes), so references held
        elsewhere, an optimizer's for instance, still point at the module's parameters.
        """
        for mod in self.modules():
            for p in mod._parameters.values():
                if p is not None:
                    p.array = convert(p.array)
                    if p.grad is not None:
                        p.grad.array = convert(p.grad.array)
            for b in mod._buffers.values():
                if b is not None:
                    b.array = convert(b.array)
        return self

    def to(self, *args, **kwargs) -> Module:
        """``model.to("cuda")``, ``model.to(mg.float64)``, ``model.to(tensor)`` or both.

        A dtype applies to floating-point tensors only (``num_batches_tracked`` stays int64).
        """
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"Module.to() got unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (str, backend.Device)):
                device = a
            else:
                dtype = a
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind not in "fc":
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                                f"desired dtype={dtype}")
        target = backend.Device(device) if device is not None else None

        def convert(arr):
            if dtype is not None and arr.dtype.kind in "fc" and arr.dtype != dtype:
                arr = arr.astype(dtype)
            if target is not None and backend.device_of(arr) != target:
                arr = backend.to_device(arr, target)
            return arr

        return self._apply_to_tensors(convert)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        return self.to("cuda" if device is None else f"cuda:{int(device)}")

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:  # noqa: A003 - PyTorch's name
        return self.to(np.float32)

    def half(self) -> Module:
        return self.to(np.float16)

    # -- printing ------------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


# ---------------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------------

def _renumber(container: Module, modules) -> None:
    """Make the children ``modules``, named "0", "1", ... (after an insert or a delete)."""
    container._modules.clear()
    for i, m in enumerate(modules):
        container._modules[str(i)] = m


def _index(idx: int, n: int, what: str) -> int:
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range for {what} of length {n}")
    return idx % n


class Sequential(Module):
    """Layers applied one after the other: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 2))``.

    Children are named "0", "1", ... (or by an ``OrderedDict``'s keys), which is where
    state_dict keys such as ``"0.weight"`` come from. Indexing gives a layer, slicing a new
    Sequential of the same layer objects.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):  # noqa: A002
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(idx, len(self), "Sequential")]

    def __setitem__(self, idx, module: Module):
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        del items[idx if isinstance(idx, slice) else _index(idx, len(items), "Sequential")]
        _renumber(self, items)  # names stay 0..n-1, as in PyTorch

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> Sequential:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        if not -len(self) <= index <= len(self):
            raise IndexError(f"Index out of range: {index}")
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        items = list(self._modules.values())
        items.insert(index, module)
        _renumber(self, items)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent module sees (a plain Python list would
    hide them from ``parameters()`` and ``state_dict()``). It has no ``forward``: iterate it."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx, module: Module):
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        del items[idx if isinstance(idx, slice) else _index(idx, len(items), "ModuleList")]
        _renumber(self, items)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        items = list(self._modules.values())
        items.insert(index, module)
        _renumber(self, items)

    def __repr__(self):
        """Runs of identical layers are drawn once: ``(0-2): 3 x Linear(...)`` (PyTorch 2.x)."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        lines, start = [], 0
        for end in range(len(reprs)):  # a run of equal reprs is reprs[start..end]
            if end + 1 < len(reprs) and reprs[end + 1] == reprs[start]:
                continue
            if start == end:
                line = f"({start}): {reprs[start]}"
            else:
                line = f"({start}-{end}): {end - start + 1} x {reprs[start]}"
            lines.append(_addindent(line, 2))
            start = end + 1
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules (string keys), registered as children in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self[key] = module
