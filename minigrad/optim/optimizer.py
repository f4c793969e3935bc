"""``Optimizer``: what every optimizer shares — parameter groups, state, zero_grad, step.

An optimizer holds a list of **parameter groups**. Each group is a dict: ``"params"`` (a list
of tensors) plus every hyperparameter (``"lr"``, ``"momentum"``, ...). Groups let one model use
different settings for different parts (a smaller lr for a pretrained backbone, no weight decay
on biases), and they are what a learning-rate scheduler edits: it writes ``group["lr"]``.

Per-parameter memory (momentum buffers, Adam's moments, step counts) lives in
``optimizer.state[p]``, a dict per parameter. Buffers are raw arrays of the parameter's own
array module (NumPy on the CPU, CuPy on a GPU), so the update code is the same on both.

A subclass writes only ``_update(p, group)``: the update rule for one parameter, applied to
``p.data`` in place. ``step()`` here loops over the groups and calls it for every parameter
that has a gradient, with graph recording off.

``state_dict()`` uses PyTorch's format, so checkpoints read the same in both frameworks::

    {"state": {0: {"momentum_buffer": array}, 1: {...}},       # keyed by parameter index
     "param_groups": [{"lr": 0.1, "momentum": 0.9, ..., "params": [0, 1]}]}

Parameters are numbered in order across all groups; the index, not the tensor, is stored, so a
fresh optimizer over the same model (same order) can load it.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from itertools import chain

import numpy as np

from .. import backend
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs (``named_parameters()``),
            or of dicts, each one parameter group (``{"params": [...], "lr": 0.01}``); keys a
            group leaves out come from ``defaults``.
        defaults: the default hyperparameters of every group.
    """

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got a {type(params).__name__}; pass "
                            "model.parameters() or a list of tensors")
        _check_ordered(params)
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._step_count = 0  # lets a scheduler warn when it steps before the optimizer

        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups --------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (e.g. layers unfrozen during fine-tuning).

        Missing hyperparameters are filled from ``defaults``. A parameter may belong to only
        one group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = param_group  # kept as given (PyTorch too): the caller's dict is the group
        params = group.get("params")
        if params is None:
            raise ValueError("a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        _check_ordered(params)
        params = list(params)
        if params and all(isinstance(p, tuple) for p in params):  # named_parameters()
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"a {type(p).__name__}")
            if not (p.is_leaf or p._retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor: an optimizer updates leaves "
                                 "(parameters), not results computed from them")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)

        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "each will be updated more than once per step", stacklevel=3)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        if self.param_groups and (("param_names" in group)
                                  != ("param_names" in self.param_groups[0])):
            raise ValueError("all optimizer param groups should be with/without names")
        self.param_groups.append(group)

    # -- gradients -----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter before the next backward pass.

        Gradients *accumulate* across backward calls, so each training step starts here.
        ``set_to_none=True`` (the default) drops them (``p.grad = None``: less memory, and a
        parameter that gets no gradient is then skipped by ``step``); ``False`` fills them with
        zeros instead.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()  # cut it from any graph (backward with create_graph=True)
                    p.grad.zero_()

    # -- the update ----------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient, once.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradients on, before the update, and its loss is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self._update(p, group)
                    p._mark_modified()  # p changed in place: a graph that saved it must know
        self._step_count += 1
        return loss

    def _update(self, p: Tensor, group: dict) -> None:
        """Apply one update to ``p.data`` in place (each optimizer writes its own rule)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update(p, group)")

    @staticmethod
    def _gradient(p: Tensor, group: dict, l2_weight_decay: bool = True):
        """The gradient the update rule works with, as a raw array (a new one if changed).

            g = -grad           if maximize  (gradient *ascent*)
            g = g + wd * p      if weight_decay and l2_weight_decay  (an L2 penalty's gradient)

        ``p.grad`` itself is never modified.
        """
        g = p.grad.data
        if g.shape != p.data.shape:
            raise RuntimeError(f"the gradient has shape {tuple(g.shape)} but the parameter has "
                               f"shape {tuple(p.data.shape)}")
        if group.get("maximize", False):
            g = -g
        wd = group.get("weight_decay", 0)
        if l2_weight_decay and wd != 0:
            g = g + wd * p.data
        return g

    @staticmethod
    def _zeros_like(p: Tensor):
        """A zero buffer shaped like ``p``, on p's device (NumPy or CuPy), in p's dtype."""
        return backend.array_module(p.data).zeros_like(p.data)

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer's state in PyTorch's format (see the module docstring).

        Like PyTorch's, the buffers in ``"state"`` are the optimizer's own arrays, not copies:
        save the dict (``mg.save``) or ``copy.deepcopy`` it if you need a snapshot that later
        steps won't change.
        """
        index: dict[int, int] = {}  # id(param) -> its number
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore state saved by ``state_dict()`` (this optimizer's own parameters are kept).

        The groups must have the same sizes as when it was saved. Hyperparameters come from the
        saved groups; buffers are copied onto each parameter's device and, for floating point
        parameters, cast to its dtype.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("optimizer state dict must be a dict with 'state' and "
                             "'param_groups' entries, as returned by optimizer.state_dict()")
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, but "
                             f"the optimizer has {len(self.param_groups)}")
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"loaded state dict contains a parameter group ({i}) of "
                                 f"{len(s['params'])} parameters that doesn't match the size of "
                                 f"optimizer's group ({len(g['params'])})")
        params_of = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                             chain.from_iterable(g["params"] for g in self.param_groups)))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            key = int(key)
            if key not in params_of:
                raise ValueError(f"loaded state dict has state for parameter {key}, which is "
                                 "in none of its parameter groups")
            p = params_of[key]
            state[p] = {k: _cast_state_value(p, k, v) for k, v in value.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k not in
                      ("params", "param_names")]
        return "\n".join(lines) + "\n)"


def _check_ordered(params) -> None:
    if isinstance(params, (set, frozenset)):
        raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                        "the ordering of tensors in sets will change between runs. Please use "
                        "a list instead.")


def _cast_state_value(p: Tensor, key, value):
    """A loaded state entry, ready for ``p``: arrays copied to p's device (and float dtype)."""
    if key == "step":
        return int(value.item() if hasattr(value, "item") else value)
    if isinstance(value, dict):
        return {k: _cast_state_value(p, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):   # a list of buffers (LBFGS's history)
        return type(value)(_cast_state_value(p, key, v) for v in value)
    if isinstance(value, Tensor):
        value = value.data
    elif not (isinstance(value, np.ndarray) or backend.device_of(value).type == "cuda"):
        if not hasattr(value, "__array__") or np.isscalar(value):
            return value  # a number, string or None: kept as it is
        value = np.asarray(value)
    if np.dtype(p.dtype).kind == "f" and np.dtype(value.dtype).kind in "fiub":
        value = value.astype(p.dtype)
    # a copy, so the optimizer's in-place updates never write into the caller's arrays
    return backend.array_module(p.data).array(backend.to_device(value, p.device), copy=True)
