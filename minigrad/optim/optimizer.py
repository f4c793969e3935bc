"""``Optimizer``: what every optimizer shares — parameter groups, state, zero_grad, step.

An optimizer holds a list of **parameter groups**. Each group is a dict: ``"params"`` (a list
of tensors) plus every hyperparameter (``"lr"``, ``"momentum"``, ...). Groups let one model use
different settings for different parts (a smaller lr for a pretrained backbone, no weight decay
on biases), and they are what a learning-rate scheduler edits: it writes ``group["lr"]``.

Per-parameter memory (momentum buffers, Adam's moments, step counts) lives in
``optimizer.state[p]``, a dict per parameter. Buffers are raw arrays of the parameter's own
array module (NumPy on the CPU, CuPy on a GPU), so the update code is the same on both.

A subclass writes only ``_update(p, group)``: the update rule for one parameter, applied to
``p.array`` in place. ``step()`` here loops over the groups and calls it for every parameter
that has a gradient, with graph recording off.

``state_dict()`` uses PyTorch's format, so checkpoints read the same in both frameworks::

    {"state": {0: {"momentum_buffer": array}, 1: {...}},       # keyed by parameter index
     "param_groups": [{"lr": 0.1, "momentum": 0.9, ..., "params": [0, 1]}]}

Parameters are numbered in order across all groups; the index, not the tensor, is stored, so a
fresh optimizer over the same model (same order) can load it. ``load_state_dict`` checks the
whole dict against the optimizer before it changes anything: a checkpoint whose buffers do not
have the parameters' shapes (saved before a layer changed size) is refused with an error that
names the parameter, the entry and both shapes.
"""

from __future__ import annotations

import copy
import reprlib
import warnings
from collections import defaultdict
from collections.abc import Mapping
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

    # The per-parameter state entries a subclass keeps as arrays shaped like the parameter
    # (``"momentum_buffer"``, ``"exp_avg"``, ...): load_state_dict checks them.
    _buffers: tuple[str, ...] = ()
    # The per-parameter state entries that are one number each (ASGD's ``eta`` and ``mu``,
    # NAdam's ``mu_product``): kept as Python floats; PyTorch saves them as 0-d tensors.
    _scalars: tuple[str, ...] = ()

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
        """Apply one update to ``p.array`` in place (each optimizer writes its own rule)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update(p, group)")

    @staticmethod
    def _gradient(p: Tensor, group: dict, l2_weight_decay: bool = True):
        """The gradient the update rule works with, as a raw array (a new one if changed).

            g = -grad           if maximize  (gradient *ascent*)
            g = g + wd * p      if weight_decay and l2_weight_decay  (an L2 penalty's gradient)

        ``p.grad`` itself is never modified.
        """
        g = p.grad.array
        if g.shape != p.array.shape:
            raise RuntimeError(f"the gradient has shape {tuple(g.shape)} but the parameter has "
                               f"shape {tuple(p.array.shape)}")
        if group.get("maximize", False):
            g = -g
        wd = group.get("weight_decay", 0)
        if l2_weight_decay and wd != 0:
            g = g + wd * p.array
        return g

    @staticmethod
    def _zeros_like(p: Tensor):
        """A zero buffer shaped like ``p``, on p's device (NumPy or CuPy), in p's dtype."""
        return backend.array_module(p.array).zeros_like(p.array)

    def _state_with_buffers(self, p: Tensor, names=None) -> dict:
        """The state of ``p``, with ``step`` (0 before the first update) and the buffers
        ``names`` (default: all of ``_buffers``). A buffer that does not exist yet starts at
        zero: on a first step, or after loading a state without it (a plain Adam state
        resumed with amsgrad on, say)."""
        state = self.state[p]
        state.setdefault("step", 0)
        for name in self._buffers if names is None else names:
            if state.get(name) is None:
                state[name] = self._zeros_like(p)
        return state

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
        saved groups (one the file lacks keeps this optimizer's value); buffers are copied onto
        each parameter's device and, for floating point parameters, cast to its dtype.

        Everything is checked before anything changes, and a state dict that does not fit is a
        ValueError that leaves the optimizer as it was: the groups' parameter indices must be
        ints, each index in one group only; hyperparameters must be of their defaults' kinds
        (numbers, flags, pairs); every array in a parameter's state must have the parameter's
        shape (a checkpoint of a model whose layers had other sizes would otherwise be read
        and written past the ends of the arrays by the update kernels), the buffers this
        optimizer reads (``_buffers``) must be such arrays (or None: not created yet), and
        ``step`` a count (an int, or a 0-d array as PyTorch saves it).
        """
        saved_groups = self._checked_groups(state_dict)
        params_of = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                             chain.from_iterable(g["params"] for g in self.param_groups)))
        names_of = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                            chain.from_iterable(g.get("param_names", [None] * len(g["params"]))
                                                for g in self.param_groups)))
        state = defaultdict(dict)
        for key, entries in state_dict["state"].items():
            index = _state_index(key)
            if index not in params_of:
                raise ValueError(f"loaded state dict has state for parameter {index}, which is "
                                 "in none of its parameter groups")
            where = f"parameter {index}" + (f" ({names_of[index]!r})" if names_of[index] else "")
            state[params_of[index]] = self._checked_state(params_of[index], where, entries)

        # every check passed: only now does the optimizer change
        for group, saved in zip(self.param_groups, saved_groups):
            for name in self.defaults:
                saved.setdefault(name, group[name])
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups

    def _checked_groups(self, state_dict) -> list[dict]:
        """Copies of the saved parameter groups, with their indices as ints, once checked."""
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("optimizer state dict must be a dict with 'state' and "
                             "'param_groups' entries, as returned by optimizer.state_dict()")
        if not isinstance(state_dict["state"], Mapping):
            raise ValueError("loaded state dict's 'state' must be a dict {parameter index: dict "
                             f"of state entries}}, got {type(state_dict['state']).__name__}")
        groups = state_dict["param_groups"]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, Mapping)
                                                            for g in groups):
            raise ValueError("loaded state dict's 'param_groups' must be a list of dicts")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, but "
                             f"the optimizer has {len(self.param_groups)}")
        group_of_index: dict[int, int] = {}
        for i, (own, saved) in enumerate(zip(self.param_groups, groups)):
            indices = saved.get("params")
            if not isinstance(indices, (list, tuple)) or not all(map(_is_int, indices)):
                raise ValueError(f"loaded state dict's param_groups[{i}]['params'] must be a "
                                 f"list of parameter indices (ints), got "
                                 f"{reprlib.repr(indices)}")
            if len(own["params"]) != len(indices):
                raise ValueError(f"loaded state dict contains a parameter group ({i}) of "
                                 f"{len(indices)} parameters that doesn't match the size of "
                                 f"optimizer's group ({len(own['params'])})")
            for index in map(int, indices):
                if index in group_of_index:
                    raise ValueError(
                        f"loaded state dict lists parameter index {index} more than once (in "
                        f"param_groups[{group_of_index[index]}] and param_groups[{i}]): each "
                        "index stands for one parameter")
                group_of_index[index] = i
            self._check_hyperparameters(i, saved)
        copies = copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in groups])
        for copied, saved in zip(copies, groups):
            copied["params"] = [int(index) for index in saved["params"]]
        return copies

    def _check_hyperparameters(self, i: int, saved: Mapping) -> None:
        """Each saved hyperparameter this optimizer has a default for is of the default's kind:
        a flag (bool), a real number, or a tuple of real numbers of the same length."""
        for name, default in self.defaults.items():
            if name not in saved:
                continue
            value = saved[name]
            if isinstance(default, bool):
                fits, kind = isinstance(value, (bool, np.bool_)), "True or False"
            elif isinstance(default, (int, float)):
                fits, kind = _is_real(value), "a real number"
            elif isinstance(default, tuple):
                fits = (isinstance(value, (list, tuple)) and len(value) == len(default)
                        and all(map(_is_real, value)))
                kind = f"a tuple of {len(default)} real numbers"
            else:
                continue
            if not fits:
                raise ValueError(f"loaded state dict's param_groups[{i}][{name!r}] must be "
                                 f"{kind} (default {default!r}), got {reprlib.repr(value)}")

    def _checked_state(self, p: Tensor, where: str, entries) -> dict:
        """The loaded state of ``p`` (``where`` names it in errors), checked and copied."""
        if not isinstance(entries, Mapping):
            raise ValueError(f"loaded state dict's state of {where} must be a dict of state "
                             f"entries, got {type(entries).__name__}")
        return {key: self._checked_state_entry(p, where, key, value)
                for key, value in entries.items()}

    def _state_shape(self, p: Tensor, key) -> tuple | None:
        """The shape a loaded state array ``key`` of ``p`` must have: p's own, for the
        per-parameter buffers of SGD, Adam, RMSprop, ... An optimizer whose state is shaped
        otherwise (LBFGS) says so here; None accepts any shape."""
        return tuple(p.shape)

    def _checked_state_entry(self, p: Tensor, where: str, key, value):
        """One loaded state entry, ready for ``p``: ``step`` as an int; an array (which must
        have p's shape and hold numbers) copied to p's device and float dtype; None, numbers
        and strings as they are, except where one of this optimizer's buffers must be."""
        if key == "step":
            return _step_count(where, value)
        if key in self._scalars:
            return _scalar_state(where, key, value)
        if isinstance(value, Mapping):
            return {k: self._checked_state_entry(p, where, k, v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):            # a list of buffers (LBFGS's history)
            return type(value)(self._checked_state_entry(p, where, key, v) for v in value)
        array = _as_array(value)
        if array is None:
            if key in self._buffers and value is not None:
                raise ValueError(f"loaded state dict's {key!r} of {where} must be an array of "
                                 f"the parameter's shape {tuple(p.shape)}, got "
                                 f"{type(value).__name__} {reprlib.repr(value)}")
            return value
        if np.dtype(array.dtype).kind not in "fiub":
            raise ValueError(f"loaded state dict's {key!r} of {where} must hold numbers, got "
                             f"an array of dtype {array.dtype}")
        want = self._state_shape(p, key)
        if want is not None and tuple(array.shape) != want:
            expected = (f"the parameter has shape {want}" if want == tuple(p.shape) else
                        f"it must have shape {want} (the parameter's is {tuple(p.shape)})")
            raise ValueError(f"loaded state dict does not fit {where}: its {key!r} has shape "
                             f"{tuple(array.shape)} but {expected}; was the checkpoint saved "
                             "from a model whose layers had other sizes?")
        if np.dtype(p.dtype).kind == "f":
            array = array.astype(p.dtype)
        # a copy, so the optimizer's in-place updates never write into the caller's arrays
        return backend.array_module(p.array).array(backend.to_device(array, p.device), copy=True)

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


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    """A real number: a Python or NumPy int or float (not bool), or a 0-d array of one."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"


def _state_index(key) -> int:
    """A key of a loaded ``"state"``: a parameter index, as an int or a string of one."""
    if _is_int(key):
        return int(key)
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        return int(key)
    raise ValueError(f"loaded state dict's 'state' must be keyed by parameter index (an int), "
                     f"got the key {reprlib.repr(key)}")


def _step_count(where: str, value) -> int:
    """A loaded ``step``: a non-negative whole number, as an int or a 0-d array (PyTorch saves
    a 0-d float tensor)."""
    number = value.array if isinstance(value, Tensor) else value
    if getattr(number, "ndim", None) == 0 and hasattr(number, "item"):
        number = number.item()
    if not (_is_real(number) and float(number) >= 0 and float(number).is_integer()):
        raise ValueError(f"loaded state dict's 'step' of {where} must be a count (a whole "
                         f"number >= 0), got {reprlib.repr(value)}")
    return int(number)


def _scalar_state(where: str, key: str, value) -> float:
    """A loaded one-number state entry (a float, or a 0-d array as PyTorch saves it)."""
    number = value.array if isinstance(value, Tensor) else value
    if getattr(number, "ndim", None) == 0 and hasattr(number, "item"):
        number = number.item()
    if not _is_real(number):
        raise ValueError(f"loaded state dict's {key!r} of {where} must be a number (a float "
                         f"or a 0-d array), got {reprlib.repr(value)}")
    return float(number)


def _as_array(value):
    """``value`` as an array (NumPy or CuPy) if it is one (or a Tensor), else None."""
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray) or backend.device_of(value).type == "cuda":
        return value
    if hasattr(value, "__array__") and not np.isscalar(value):
        return np.asarray(value)
    return None
