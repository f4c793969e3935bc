"""Module hooks: what ``Module.__call__`` runs around ``forward``, and the global ones.

A module call with hooks goes, as in PyTorch::

    forward pre-hooks      global ones first, then the module's; may replace the inputs
    (backward hooks set up on the inputs)
    forward(*args, **kwargs)
    forward hooks          global ones first, then the module's; may replace the output
    (backward hooks set up on the outputs)

Forward hooks registered with ``always_call=True`` also run when forward raises.

**Full backward hooks** (``register_full_backward_hook``, ``register_full_backward_pre_hook``)
are built from an identity op, ``BackwardHookFunction``. The module's positional Tensor inputs
pass through one before ``forward`` and its Tensor outputs through another after it. The engine
calls an op's backward once every gradient reaching it has been summed, so:

* the backward of the identity on the outputs receives dL/d(outputs), ``grad_output``: it runs
  the pre-hooks (each may return a replacement) and keeps the result for the full hooks;
* the backward of the identity on the inputs receives dL/d(inputs), ``grad_input``, later (the
  outputs were computed from the inputs, so their node comes first in the backward order): it
  calls the full hooks with ``(module, grad_input, grad_output)``; each may return a
  replacement ``grad_input``, which is what flows on to whatever made the inputs.

If no input requires grad there is no identity on the inputs, and the full hooks are called
from the outputs' backward with ``grad_input`` all None (PyTorch warns that it does so). If no
output requires grad, no hook fires. Non-Tensor arguments and outputs get None entries.
"""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict

from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import STATE
from ..tensor import Tensor

__all__ = ["RemovableHandle", "register_module_forward_pre_hook",
           "register_module_forward_hook", "register_module_full_backward_pre_hook",
           "register_module_full_backward_hook"]


class RemovableHandle:
    """Returned by every ``register_*hook``: ``.remove()`` unregisters the hook (also as a
    context manager: the hook is removed when the ``with`` block ends)."""

    _next_id = itertools.count()

    def __init__(self, hooks: dict, extra_dicts=()):
        self.hooks, self.id = hooks, next(RemovableHandle._next_id)
        self.extra_dicts = extra_dicts       # the hook's options, keyed by the same id

    def remove(self):
        self.hooks.pop(self.id, None)
        for options in self.extra_dicts:
            options.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks: OrderedDict, hook, prepend: bool = False, options=()) -> RemovableHandle:
    """Store ``hook`` in ``hooks`` (last, or first with ``prepend``) under a new handle's id;
    ``options`` are the dicts that mark it (with_kwargs, always_call), removed along with it."""
    handle = RemovableHandle(hooks, options)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


# -- global hooks: called for every module, before the module's own ----------------------------
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: dict = {}
_global_forward_hooks_always_called: dict = {}
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """``hook(module, args)`` before the forward of every module (for debugging and
    profiling); it runs before the module's own pre-hooks and may return new inputs."""
    return add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
    ``with_kwargs``) after the forward of every module, before the module's own forward
    hooks; it may return a new output. ``always_call``: also when forward raises."""
    options = (_global_forward_hooks_with_kwargs, _global_forward_hooks_always_called)
    handle = add_hook(_global_forward_hooks, hook, options=options)
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook) -> RemovableHandle:
    """``hook(module, grad_output)`` for every module, as ``register_full_backward_pre_hook``
    does for one; runs before the module's own backward pre-hooks."""
    return add_hook(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` for every module, as
    ``register_full_backward_hook`` does for one; runs before the module's own."""
    return add_hook(_global_backward_hooks, hook)


# -- one module call with hooks ----------------------------------------------------------------
def call_with_hooks(module, args: tuple, kwargs: dict):
    """``module(*args, **kwargs)`` with every hook that applies (see the module docstring).

    The hook lists are read once, when the call starts: a backward hook removed after the
    forward still fires for the graph that forward built, as in PyTorch.
    """
    backward_pre_hooks = [*_global_backward_pre_hooks.values(),
                          *module._backward_pre_hooks.values()]
    backward_hooks = [*_global_backward_hooks.values(), *module._backward_hooks.values()]
    called = set()       # ids of the forward hooks that ran (for always_call)
    result = None
    try:
        args, kwargs = _run_forward_pre_hooks(module, args, kwargs)
        backward_hook = None
        if backward_hooks or backward_pre_hooks:
            backward_hook = BackwardHook(module, backward_hooks, backward_pre_hooks)
            args = backward_hook.setup_input_hook(args)
        result = module.forward(*args, **kwargs)
        for hook_id, hook in _forward_hooks(module):
            called.add(hook_id)
            new = _call_forward_hook(module, hook_id, hook, args, kwargs, result)
            if new is not None:
                result = new
        if backward_hook is not None:
            if not isinstance(result, (Tensor, tuple)):
                warnings.warn("For backward hooks to be called, module output should be a "
                              "Tensor or a tuple of Tensors but received "
                              f"{type(result)}", stacklevel=3)
            result = backward_hook.setup_output_hook(result)
        return result
    except Exception:
        _run_always_called_hooks(module, args, kwargs, result, called)
        raise


def _run_forward_pre_hooks(module, args, kwargs):
    for hook_id, hook in itertools.chain(_global_forward_pre_hooks.items(),
                                         module._forward_pre_hooks.items()):
        if hook_id in module._forward_pre_hooks_with_kwargs:
            new = hook(module, args, kwargs)
            if new is None:
                continue
            if not (isinstance(new, tuple) and len(new) == 2):
                raise RuntimeError("forward pre-hook must return None or a tuple of "
                                   f"(new_args, new_kwargs), but got {new}.")
            args, kwargs = new
        else:
            new = hook(module, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
    return args, kwargs


def _forward_hooks(module):
    """(id, hook) of every forward hook for this call: global ones first."""
    return itertools.chain(_global_forward_hooks.items(), module._forward_hooks.items())


def _call_forward_hook(module, hook_id, hook, args, kwargs, result):
    if hook_id in module._forward_hooks_with_kwargs \
            or hook_id in _global_forward_hooks_with_kwargs:
        return hook(module, args, kwargs, result)
    return hook(module, args, result)


def _run_always_called_hooks(module, args, kwargs, result, called):
    """forward (or a hook) raised: run the ``always_call`` forward hooks that have not run.
    The first error is the one that propagates; an error in such a hook becomes a warning."""
    for hook_id, hook in list(_forward_hooks(module)):
        always = (hook_id in module._forward_hooks_always_called
                  or hook_id in _global_forward_hooks_always_called)
        if not always or hook_id in called:
            continue
        try:
            new = _call_forward_hook(module, hook_id, hook, args, kwargs, result)
            if new is not None:
                result = new
        except Exception as e:  # noqa: BLE001 - silenced, as PyTorch does: forward's error wins
            where = "global module" if hook_id in _global_forward_hooks else "module"
            warnings.warn(f"{where} forward hook with ``always_call=True`` raised an exception "
                          f"that was silenced as another error was raised in forward: {e}",
                          stacklevel=4)


# -- full backward hooks ---------------------------------------------------------------------
class BackwardHookFunction(ArrayFunction):
    """Identity on a module's input (or output) Tensors; its backward hands the gradients
    to ``on_backward``, which calls the module's backward hooks and returns the gradients
    that flow on (the same ones, or the hooks' replacements).

    The outputs are views of the inputs (they share their memory and version counter, so a
    tensor saved for backward still notices an in-place write through either). An input that
    does not require grad gives an output that does not either.
    """

    @staticmethod
    def forward(ctx, *arrays, on_backward, materialize_grads):
        ctx.on_backward = on_backward
        ctx.materialize_grads = materialize_grads      # False: unused outputs give None
        views = tuple(a.view() for a in arrays)
        ctx.mark_non_differentiable(*[v for v, needs in zip(views, ctx.needs_input_grad)
                                      if not needs])
        return views

    @staticmethod
    def backward(ctx, *grads):
        return ctx.on_backward(grads)


def _pack_with_none(indices, values, size):
    """A tuple of ``size`` entries: ``values`` at ``indices``, None elsewhere."""
    packed = [None] * size
    for i, v in zip(indices, values):
        packed[i] = v
    return tuple(packed)


class BackwardHook:
    """The backward hooks of one module call: sets up the identity ops around ``forward``
    and carries ``grad_output`` from the outputs' backward to the inputs' backward."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs, self.input_index = 0, None      # input_index: None = nothing wrapped
        self.n_outputs, self.output_index = 0, None

    def setup_input_hook(self, args: tuple) -> tuple:
        """``args`` with its Tensors replaced by identity outputs whose backward calls the
        full hooks; unchanged when no input requires grad (or grad mode is off)."""
        self.n_inputs = len(args)
        new_args, self.input_index = _wrap_tensors(args, self._on_input_grads, True)
        return new_args

    def setup_output_hook(self, result):
        """The output (a Tensor, or a tuple with Tensors) passed through the identity whose
        backward runs the pre-hooks; anything else is returned as it is."""
        single = not isinstance(result, tuple)
        outputs = (result,) if single else result
        self.n_outputs = len(outputs)
        new_outputs, self.output_index = _wrap_tensors(outputs, self._on_output_grads, False)
        return new_outputs[0] if single else new_outputs

    # -- called by the engine, through BackwardHookFunction.backward -------------------------
    def _on_output_grads(self, grads):
        grad_outputs = _pack_with_none(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            new = hook(self.module, grad_outputs)
            if new is not None:
                grad_outputs = self._checked("Backward pre hook", hook, new, grad_outputs,
                                             self.output_index, "grad_output")
        self.grad_outputs = grad_outputs
        if self.input_index is None:       # no input requires grad: the full hooks run now
            self._call_hooks_without_inputs()
        return tuple(grad_outputs[i] for i in self.output_index)

    def _call_hooks_without_inputs(self):
        if self.hooks:
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients. See "
                          "the documentation of Module.register_full_backward_hook.",
                          stacklevel=2)
        grad_inputs = (None,) * self.n_inputs
        for hook in self.hooks:
            new = hook(self.module, grad_inputs, self.grad_outputs)
            if new is not None and not (isinstance(new, tuple)
                                        and all(g is None for g in new)):
                raise RuntimeError("Backward hook for Modules where no input requires "
                                   "gradient should always return None or None for all "
                                   "gradients.")
        self.grad_outputs = None

    def _on_input_grads(self, grads):
        if self.grad_outputs is None:
            # the gradient reached the inputs without passing through this call's outputs
            # (a double backward, or a tensor forward stored elsewhere): no hook to call
            return grads
        grad_inputs = _pack_with_none(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            new = hook(self.module, grad_inputs, self.grad_outputs)
            if new is not None:
                grad_inputs = self._checked("Backward hook", hook, new, grad_inputs,
                                            self.input_index, "grad_input")
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_index)

    def _checked(self, kind, hook, new, old, tensor_index, what):
        """A hook's replacement gradients: a tuple (or list) of the same length, each a Tensor
        of the same shape and dtype as the gradient it replaces, or None."""
        name = getattr(hook, "__name__", type(hook).__name__)
        where = f"{kind} '{name}' of {type(self.module).__name__}"
        if not isinstance(new, (tuple, list)):
            raise TypeError(f"{where} returned a {type(new).__name__}; it must return None or "
                            f"a tuple with one gradient (or None) per entry of {what} "
                            f"(here {len(old)}): e.g. ({what}[0] * 2,)")
        if len(new) != len(old):
            raise RuntimeError(f"{kind} returned an invalid number of {what}, got {len(new)}, "
                               f"but expected {len(old)} ({where})")
        for i in tensor_index:
            g, was = new[i], old[i]
            if g is None or was is None:
                continue
            if not isinstance(g, Tensor):
                raise TypeError(f"{where} returned a {type(g).__name__} as {what}[{i}]; "
                                "expected a Tensor or None")
            if g.shape != was.shape or g.dtype != was.dtype:
                raise RuntimeError(f"{where} returned {what}[{i}] of shape {tuple(g.shape)} "
                                   f"and dtype {g.dtype}, but it replaces a gradient of shape "
                                   f"{tuple(was.shape)} and dtype {was.dtype}")
        return tuple(new)


def _wrap_tensors(values: tuple, on_backward, materialize_grads):
    """Pass the Tensors among ``values`` through one ``BackwardHookFunction``.

    Returns the values with those Tensors replaced, and the positions of the Tensors; or the
    values unchanged and None when no Tensor among them requires grad or grad mode is off."""
    index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
    if not (STATE.enabled and any(values[i].requires_grad for i in index)):
        return values, None
    wrapped = BackwardHookFunction.apply(*[values[i] for i in index], on_backward=on_backward,
                                         materialize_grads=materialize_grads)
    new_values = list(values)
    for i, t in zip(index, wrapped):
        new_values[i] = t
    if type(values) is not tuple:          # a namedtuple keeps its type
        return type(values)(*new_values), index
    return tuple(new_values), index
