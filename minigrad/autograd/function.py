"""``Function``: one differentiable operation, and ``Context``: its node in the graph.

Every op in minigrad is a subclass of ``Function`` with two static methods side by side::

    class Exp(Function):
        '''y = exp(x).   dy/dx = exp(x) = y.'''

        @staticmethod
        def forward(ctx, x):            # raw arrays in, raw arrays out
            y = np.exp(x)
            ctx.save_for_backward(y)    # backward needs y, not x
            return y

        @staticmethod
        def backward(ctx, grad_y):      # Tensors in, Tensors out
            (y,) = ctx.saved_tensors
            return grad_y * y

``forward`` works on NumPy/CuPy arrays: fast, and nothing is recorded. ``backward`` receives
and returns *Tensors* and is written with minigrad ops. When the engine runs it with graph
recording on (``create_graph=True``) the gradient is itself a graph, so it can be
differentiated again: second derivatives come for free (Chainer's ``FunctionNode`` idea).

``Function.apply(*args)`` runs forward and, if any input requires grad, records a
``Context`` node: which inputs it came from (``next_edges``), what backward needs
(``save_for_backward``) and anything else stored on ``ctx`` (shapes, axes, ...).
"""

from __future__ import annotations

import traceback

import numpy as np

from ..backend import array_module
from ..tensor import Tensor  # tensor.py needs only grad_mode from this package, so no cycle
from .grad_mode import STATE

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or to use saved values after they "
    "have been freed). The first backward freed what {op}'s backward needed, to save memory. "
    "Pass retain_graph=True to the first .backward() or autograd.grad() if you need to "
    "backward through the same graph twice."
)


class _Saved:
    """One value saved for backward, with the version it had when saved.

    kind 'input': a Tensor passed to forward (keeps its graph, so backward is differentiable);
    kind 'output': an output array, turned back into a Tensor whose grad_fn is this node;
    kind 'const': any other array (a mask, an intermediate): a Tensor that needs no grad.
    """

    __slots__ = ("kind", "value", "index", "version_box", "version")

    def __init__(self, kind, value, index=-1, version_box=None):
        self.kind, self.value, self.index = kind, value, index
        self.version_box = version_box
        self.version = version_box[0] if version_box is not None else 0


class Context:
    """A node of the graph: one call of a ``Function``, remembered for backward.

    Forward may store anything on it (``ctx.axis = 1``); ``save_for_backward`` is for arrays
    that backward needs as Tensors. After a backward pass without ``retain_graph`` the node is
    released: everything saved on it is dropped, so intermediate buffers are freed.
    """

    # defaults live on the class: a node only stores what differs (cheaper to create)
    next_edges = ()
    n_outputs = 1
    output_meta = ()
    _to_save = ()
    _saved = ()
    _non_diff = ()
    _hooks = None
    _freed = False
    _trace = None

    def __init__(self, fn, needs_input_grad):
        self.fn = fn
        self.needs_input_grad = needs_input_grad

    # -- what forward calls ------------------------------------------------------------------
    def save_for_backward(self, *arrays):
        """Keep these arrays (inputs, outputs or intermediates) for backward as Tensors."""
        self._to_save = arrays

    def mark_non_differentiable(self, *arrays):
        """These outputs get no gradient (indices from argmax, masks, ...)."""
        self._non_diff = arrays

    # -- what backward calls -----------------------------------------------------------------
    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE.format(op=self.name))
        out = []
        for s in self._saved:
            if s.version_box is not None and s.version_box[0] != s.version:
                raise RuntimeError(
                    f"{self.name}: a tensor it saved for backward (shape "
                    f"{tuple(np.shape(s.value if s.kind != 'input' else s.value.array))}) was "
                    f"modified in place after it was saved (version {s.version} -> "
                    f"{s.version_box[0]}), so its gradient would be wrong. Use an out-of-place "
                    "op (x = x + 1 instead of x += 1) or .clone() before modifying it."
                )
            if s.kind == "input":
                out.append(s.value)
            elif s.kind == "output":
                t = Tensor._make(s.value, requires_grad=True, grad_fn=self, output_nr=s.index)
                t._version = s.version_box
                out.append(t)
            elif hasattr(s.value, "shape"):
                out.append(Tensor._make(s.value))
            else:  # a Python number passed to forward: handed back as it was
                out.append(s.value)
        return tuple(out)

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def next_functions(self):
        """PyTorch's view of the edges: ``((node, output_index), ...)``, one per input; a leaf
        that requires grad appears as an ``AccumulateGrad`` node holding it in ``.variable``,
        an input that needs no gradient as ``(None, 0)``."""
        out = []
        for edge in self.next_edges:
            if edge is None:
                out.append((None, 0))
            elif edge[1] < 0:
                out.append((AccumulateGrad(edge[0]), 0))
            else:
                out.append(edge)
        return tuple(out)

    # -- engine bookkeeping -------------------------------------------------------------------
    def release(self):
        """Drop everything forward stored: the graph above this node is no longer usable.
        (A node keeps what forward stored in its instance ``__dict__``; clearing that dict,
        keeping the graph's own fields, drops all of it at once.)"""
        d = self.__dict__
        keep = {k: d[k] for k in ("fn", "needs_input_grad", "next_edges", "n_outputs",
                                  "output_meta", "_hooks") if k in d}
        d.clear()
        d.update(keep)
        d["_freed"] = True

    def __getattr__(self, item):
        # only called when an attribute is missing: after release() that is the usual cause
        if self._freed:            # a class default, so reading it never lands back here
            raise RuntimeError(_FREED_MESSAGE.format(op=self.name))
        raise AttributeError(f"{self.name} context has no attribute {item!r}")

    def __repr__(self):
        return f"<{self.name}Backward>"


class AccumulateGrad:
    """Where a leaf's gradient ends: the node ``next_functions`` shows for a leaf (as in
    PyTorch). minigrad's engine accumulates into ``leaf.grad`` directly; this is its name."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


class Function:
    """Base class of every differentiable op. Subclass it and write ``forward``/``backward``.

    ``MyOp.apply(*args, **kwargs)`` is how an op is called: Tensor arguments reach
    ``forward`` as raw arrays, anything else (ints, tuples, None) as it is. ``backward``
    returns one gradient (a Tensor or None) per positional argument of ``forward``.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        # 1. unwrap: Tensors become their arrays, everything else passes through
        arrays = []
        needs = []
        any_needs = False
        array_type = None
        for a in args:
            if isinstance(a, Tensor):
                d = a.array
                arrays.append(d)
                needs.append(a.requires_grad)
                any_needs = any_needs or a.requires_grad
                t = type(d)
                if array_type is None:
                    array_type = t
                elif t is not array_type:
                    array_type = _check_same_device(cls, args, array_type, t)
            else:
                arrays.append(a)
                needs.append(False)

        # 2. forward on raw arrays
        ctx = Context(cls, tuple(needs))
        raw = cls.forward(ctx, *arrays, **kwargs)
        single = type(raw) is not tuple
        outs = (raw,) if single else raw
        if isinstance(raw, Tensor) or (not single and any(isinstance(o, Tensor) for o in outs)):
            _raise_tensor_from_forward(cls)
        if isinstance(raw, np.generic) or (not single and any(
                isinstance(o, np.generic) for o in outs)):
            outs = _scalars_to_arrays(ctx, outs)
        if STATE.anomaly:
            _check_finite(cls.__name__, "forward output", outs, backward_of=STATE.backward_node)

        # 3. no graph needed (nothing requires grad, or grad mode is off): plain Tensors
        if not (any_needs and STATE.enabled):
            plain = [Tensor._make(o) for o in outs]
            _share_versions_of_views(plain, outs, args, arrays)
            return plain[0] if single else tuple(plain)

        # 4. record the node: where gradients go, what backward needs
        ctx.n_outputs = len(outs)
        ctx.output_meta = tuple([(o.shape, o.dtype) for o in outs])
        ctx.next_edges = tuple([_edge(a) if n else None for a, n in zip(args, needs)])
        if STATE.anomaly:
            ctx._trace = "".join(traceback.format_stack()[:-2])
        non_diff = ctx._non_diff
        result = []
        for i, o in enumerate(outs):
            diff = not non_diff or not any(o is nd for nd in non_diff)
            result.append(Tensor._make(o, diff, ctx if diff else None, i))
        _share_versions_of_views(result, outs, args, arrays)
        if ctx._to_save:
            boxes = [t._version for t in result]
            ctx._saved = tuple([_resolve_saved(x, arrays, args, outs, boxes)
                                for x in ctx._to_save])
            ctx._to_save = ()
        return result[0] if single else tuple(result)


def _share_versions_of_views(results, outs, args, arrays):
    """An output that is a view of an input's memory (``view``, slicing, ``transpose``...)
    shares that input's version counter, as in PyTorch: a write through either is then seen
    by every graph that saved the other, instead of silently changing what backward reads."""
    for t, o in zip(results, outs):
        base = getattr(o, "base", None)
        if base is None:
            continue
        for arg, a in zip(args, arrays):
            if isinstance(arg, Tensor) and (a is base or getattr(a, "base", None) is base):
                t._version = arg._version
                break


def _check_same_device(cls, args, first_type, other_type):
    """Arrays of two types met in one op: fine for a NumPy array and a NumPy scalar."""
    cpu = (np.ndarray, np.generic)
    if issubclass(first_type, cpu) and issubclass(other_type, cpu):
        return first_type
    _raise_device_mismatch(cls, args)


def _scalars_to_arrays(ctx, outs):
    """NumPy returns scalars from 0-d ops; a Tensor needs an array. Saved outputs and outputs
    marked non-differentiable follow (they are recognised by identity)."""
    converted = []
    for o in outs:
        if isinstance(o, np.generic):
            a = np.asarray(o)
            ctx._to_save = tuple(a if x is o else x for x in ctx._to_save)
            ctx._non_diff = tuple(a if x is o else x for x in ctx._non_diff)
            o = a
        converted.append(o)
    return tuple(converted)


def _edge(tensor):
    """Where the gradient of an input goes: (node, output index), or (leaf tensor, -1)."""
    if tensor.grad_fn is not None:
        return (tensor.grad_fn, tensor._output_nr)
    return (tensor, -1)


def _resolve_saved(x, arrays, args, outs, version_boxes):
    for i, a in enumerate(arrays):
        if x is a and isinstance(args[i], Tensor):
            return _Saved("input", args[i]._alias(), version_box=args[i]._version)
    for j, o in enumerate(outs):
        if x is o:
            return _Saved("output", o, index=j, version_box=version_boxes[j])
    return _Saved("const", x)


def _check_finite(op_name, where, arrays, trace=None, backward_of=None):
    if backward_of is not None:
        where = f"{where} (while computing the backward of '{backward_of.name}')"
        trace = backward_of._trace

    for i, a in enumerate(arrays):
        if a is None or not hasattr(a, "dtype") or a.dtype.kind not in "fc":
            continue
        xp = array_module(a)
        if not bool(xp.isfinite(a).all()):
            kind = "nan" if bool(xp.isnan(a).any()) else "inf"
            msg = f"detect_anomaly: Function '{op_name}' returned {kind} values in its {where} {i}"
            if trace:
                msg += "\n\nThe op was created in forward here:\n" + trace
            raise RuntimeError(msg)


def _raise_tensor_from_forward(cls):
    raise TypeError(
        f"{cls.__name__}.forward returned a Tensor, but forward works on raw arrays: it gets "
        "the inputs' arrays and must return arrays (compute with NumPy, or return t.array), so "
        "that apply() can wrap them and record the node. Tensor ops belong in backward."
    )


def _raise_device_mismatch(cls, args):
    devices = [f"arg {i}: {a.device} {tuple(a.shape)}" for i, a in enumerate(args)
               if isinstance(a, Tensor)]
    raise RuntimeError(
        f"{cls.__name__}: expected all tensors on the same device, but found "
        + ", ".join(devices) + ". Move them with .to(device) first."
    )
