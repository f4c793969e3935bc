"""Differentiable operations: ``ArrayFunction``, ``Function``, and ``Context``, a node of the graph.

Every op in minigrad is a subclass of ``ArrayFunction`` with two static methods side by side::

    class Exp(ArrayFunction):
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
An op may add ``backward_arrays``, the same gradients on arrays, which the engine runs instead
when nothing is recorded (see ``ArrayFunction``): no op, and no Tensor, per intermediate.

``ArrayFunction.apply(*args)`` runs forward and, if any input requires grad, records a
``Context`` node: which inputs it came from (``next_edges``), what backward needs
(``save_for_backward``) and anything else stored on ``ctx`` (shapes, axes, ...).

``Function`` is PyTorch's ``torch.autograd.Function``, for code written for PyTorch and for
your own ops: its ``forward`` receives the Tensors themselves, with recording switched off
(its ops leave no graph: the whole call is one node), and returns Tensors. The rest is the
same idea, with PyTorch's extras on ``ctx`` (``mark_dirty``, ``set_materialize_grads``, ...)
and ``once_differentiable``. It is built on the same ``Context`` and engine; minigrad's own ops
use ``ArrayFunction`` because it skips wrapping and unwrapping Tensors on every call.
"""

from __future__ import annotations

import functools
import inspect
import traceback

import numpy as np

from ..backend import array_module
from ..tensor import Tensor  # tensor.py needs only grad_mode from this package, so no cycle
from .grad_mode import STATE, no_grad

_new_object = object.__new__

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or to use saved values after they "
    "have been freed). The first backward freed what {op}'s backward needed, to save memory. "
    "Pass retain_graph=True to the first .backward() or autograd.grad() if you need to "
    "backward through the same graph twice."
)


class _Saved:
    """One value saved for backward, with the version it had when saved.

    kind 'input': a Tensor passed to forward (keeps its graph, so backward is differentiable),
        or any other Tensor a ``Function`` saved, kept as it is;
    kind 'output': an output array, turned back into a Tensor whose grad_fn is this node;
    kind 'const': any other array (a mask, an intermediate): a Tensor that needs no grad.
    """

    __slots__ = ("kind", "value", "index", "version_box", "version")

    def __init__(self, kind, value, index=-1, version_box=None):
        self.kind, self.value, self.index = kind, value, index
        self.version_box = version_box
        self.version = version_box[0] if version_box is not None else 0


# what a released node keeps: the graph's structure (the engine walks it) and the hooks
_GRAPH_FIELDS = ("fn", "needs_input_grad", "next_edges", "n_outputs", "output_meta", "_hooks")


class Context:
    """A node of the graph: one call of an op, remembered for backward.

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
    materialize_grads = True    # unused outputs get zero gradients (not None) in backward

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
    def _checked_saved(self):
        """The saved entries, once checked: the node not released, nothing saved modified in
        place since it was saved."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE.format(op=self.name))
        for s in self._saved:
            box = s.version_box
            if box is not None and box[0] != s.version:
                _raise_modified_in_place(self, s)
        return self._saved

    @property
    def saved_tensors(self):
        out = []
        for s in self._checked_saved():
            box = s.version_box
            kind = s.kind
            if kind == "input":
                out.append(s.value)
            elif kind == "output":
                t = Tensor._make(s.value, True, self, s.index)
                t._version = box
                out.append(t)
            elif hasattr(s.value, "shape"):
                out.append(Tensor._make(s.value))
            else:  # a Python number passed to forward: handed back as it was
                out.append(s.value)
        return tuple(out)

    @property
    def saved_arrays(self):
        """What ``saved_tensors`` returns, as raw arrays (for ``backward_arrays``), with the
        same checks (``_checked_saved``)."""
        return tuple(s.value.array if s.kind == "input" else s.value
                     for s in self._checked_saved())

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
        (A node keeps what forward stored in its instance ``__dict__``; replacing that dict
        by one holding only the graph's own fields drops all of it at once.)"""
        d = self.__dict__
        kept = {"_freed": True}
        for k in _GRAPH_FIELDS:
            if k in d:
                kept[k] = d[k]
        self.__dict__ = kept
        if type(self) is Context:
            self.__class__ = _ReleasedContext

    def __repr__(self):
        return f"<{self.name}Backward>"


def _raise_modified_in_place(ctx, s):
    raise RuntimeError(
        f"{ctx.name}: a tensor it saved for backward (shape "
        f"{tuple(np.shape(s.value if s.kind != 'input' else s.value.array))}) was "
        f"modified in place after it was saved (version {s.version} -> "
        f"{s.version_box[0]}), so its gradient would be wrong. Use an out-of-place "
        "op (x = x + 1 instead of x += 1) or .clone() before modifying it."
    )


def _missing_attribute(ctx, item):
    # only called when an attribute is missing: after release() that is the usual cause
    if ctx._freed:            # a class default, so reading it never lands back here
        raise RuntimeError(_FREED_MESSAGE.format(op=ctx.name))
    raise AttributeError(f"{ctx.name} context has no attribute {item!r}")


class _ReleasedContext(Context):
    """What a ``Context`` becomes once released: reading anything forward stored on it raises
    the error that says why it is gone. (``Context`` itself has no ``__getattr__``: a class
    with one makes every attribute read several times slower, and an op's node is read a
    dozen times between its forward and its backward.)"""

    __getattr__ = _missing_attribute


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


class ArrayFunction:
    """Base class of minigrad's ops: ``forward`` on raw arrays, ``backward`` on Tensors.

    ``MyOp.apply(*args, **kwargs)`` is how an op is called: Tensor arguments reach
    ``forward`` as raw arrays, anything else (ints, tuples, None) as it is. ``backward``
    returns one gradient (a Tensor or None) per positional argument of ``forward``.
    (For an op whose forward is written with Tensor ops, as in PyTorch, see ``Function``.)

    An op may also define ``backward_arrays(ctx, *grad_arrays)``: the same gradients computed
    on raw arrays (arrays in, one array or None per forward argument out; saved values from
    ``ctx.saved_arrays``). The engine calls it instead of ``backward`` when the backward is
    not being recorded (grad mode off inside it: every ``loss.backward()`` without
    ``create_graph``), which saves building and unwrapping a Tensor for every intermediate
    of the backward (each op inside a Tensor backward is a whole ``apply``). It may return
    ``NotImplemented`` for a call it does not handle (a dtype, say): ``backward`` then runs.
    It must not modify the incoming gradient arrays in place (another node may hold them).
    With ``create_graph=True`` only ``backward`` runs, so second derivatives still work.
    """

    # the class's backward_arrays, or None: what the engine reads, decided once per class
    _array_backward = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._array_backward = _array_backward_of(cls)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        # Every op of every model passes through here, forward and backward (a backward is
        # written with ops), so this is written for speed: one pass over the arguments, no
        # per-call lists beyond the ones the node keeps, the one-output case separate.

        # 1. unwrap: Tensors become their arrays, everything else passes through
        arrays = []
        needs = []
        any_needs = False
        array_type = None
        for a in args:
            if isinstance(a, Tensor):
                d = a.array
                arrays.append(d)
                r = a.requires_grad
                needs.append(r)
                if r:
                    any_needs = True
                t = type(d)
                if t is not array_type:
                    if array_type is None:
                        array_type = t
                    else:
                        array_type = _check_same_device(cls, args, array_type, t)
            else:
                arrays.append(a)
                needs.append(False)

        # 2. forward on raw arrays (the node made without calling Context.__init__: the same
        #    two fields, set directly, cost less than the call)
        ctx = _new_object(Context)
        ctx.fn = cls
        ctx.needs_input_grad = tuple(needs)
        raw = cls.forward(ctx, *arrays, **kwargs)
        if type(raw) is tuple:
            single = False
            outs = raw
            if any(isinstance(o, Tensor) for o in outs):
                _raise_tensor_from_forward(cls)
            if any(isinstance(o, np.generic) for o in outs):
                outs = _scalars_to_arrays(ctx, outs)
        else:
            single = True
            outs = (raw,)
            if type(raw) is not np.ndarray:      # the usual answer, checked at once
                if isinstance(raw, Tensor):
                    _raise_tensor_from_forward(cls)
                if isinstance(raw, np.generic):
                    outs = _scalars_to_arrays(ctx, outs)
        state = STATE
        if state.anomaly:
            _check_finite(cls.__name__, "forward output", outs, backward_of=state.backward_node)

        # 3. no graph needed (nothing requires grad, or grad mode is off): plain Tensors
        if not (any_needs and state.enabled):
            if single:
                out = outs[0]
                plain = Tensor._make(out)
                if getattr(out, "base", None) is not None:
                    _share_versions_of_views((plain,), outs, args, arrays)
                return plain
            plain = [Tensor._make(o) for o in outs]
            _share_versions_of_views(plain, outs, args, arrays)
            return tuple(plain)

        # 4. record the node: where gradients go, what backward needs
        if single:
            out = outs[0]
            ctx.output_meta = ((out.shape, out.dtype),)     # n_outputs: the class default, 1
        else:
            ctx.n_outputs = len(outs)
            ctx.output_meta = tuple([(o.shape, o.dtype) for o in outs])
        edges = []
        for a, n in zip(args, needs):
            if not n:
                edges.append(None)
            elif a.grad_fn is not None:         # made by an op: (its node, which output)
                edges.append((a.grad_fn, a._output_nr))
            else:                               # a leaf: (the leaf, -1)
                edges.append((a, -1))
        ctx.next_edges = tuple(edges)
        if state.anomaly:
            ctx._trace = "".join(traceback.format_stack()[:-2])
        non_diff = ctx._non_diff
        if single and not non_diff:
            result = (Tensor._make(out, True, ctx, 0),)
        else:
            result = []
            for i, o in enumerate(outs):
                diff = not non_diff or not any(o is nd for nd in non_diff)
                result.append(Tensor._make(o, diff, ctx if diff else None, i))
        _share_versions_of_views(result, outs, args, arrays)
        if ctx._to_save:
            ctx._saved = tuple([_resolve_saved(x, arrays, args, outs, result)
                                for x in ctx._to_save])
            del ctx._to_save            # back to the class default, ()
        return result[0] if single else tuple(result)


def _array_backward_of(cls):
    """``cls.backward_arrays`` (as a staticmethod), or None when ``cls`` has none, or when it
    comes from a base class below which ``backward`` was overridden: the array version of a
    base's backward is not the array version of the subclass's."""
    mro = cls.__mro__
    defines_backward = next(i for i, c in enumerate(mro) if "backward" in c.__dict__)
    for c in mro[:defines_backward + 1]:
        found = c.__dict__.get("backward_arrays")
        if found is not None:
            return found if isinstance(found, staticmethod) else staticmethod(found)
    return None


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


def _resolve_saved(x, arrays, args, outs, results):
    """What ``x`` (an array forward saved) is: one of the inputs' arrays, one of the outputs
    (``results`` are their Tensors, whose version counters it records), or a constant."""
    for i, a in enumerate(arrays):
        if x is a and isinstance(args[i], Tensor):
            return _Saved("input", args[i]._alias(), version_box=args[i]._version)
    for j, o in enumerate(outs):
        if x is o:
            return _Saved("output", o, index=j, version_box=results[j]._version)
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
        f"{cls.__name__}.forward returned a Tensor, but an ArrayFunction's forward works on raw "
        "arrays: it gets the inputs' arrays and must return arrays (compute with NumPy, or "
        "return t.array), so that apply() can wrap them and record the node. To write forward "
        "with Tensor ops, subclass mg.autograd.Function (PyTorch's) instead."
    )


def _raise_device_mismatch(cls, args):
    devices = [f"arg {i}: {a.device} {tuple(a.shape)}" for i, a in enumerate(args)
               if isinstance(a, Tensor)]
    raise RuntimeError(
        f"{cls.__name__}: expected all tensors on the same device, but found "
        + ", ".join(devices) + ". Move them with .to(device) first."
    )


# -- PyTorch's Function: forward on Tensors ---------------------------------------------------

class FunctionCtx(Context):
    """The ``ctx`` of a ``Function`` (PyTorch's ``FunctionCtx``): a graph node like any other,
    with the calls a forward written on Tensors may make. Each is resolved by ``apply`` after
    forward returns, by the identity of the Tensors passed."""

    _dirty = ()
    _output_positions = None    # (positions, count) when forward returned non-Tensors too

    __getattr__ = _missing_attribute     # a missing attribute is named with the class

    def save_for_backward(self, *tensors):
        """Keep these Tensors (inputs, outputs, others) or None for backward."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                hint = (" (forward gets Tensors: save the Tensor itself)"
                        if hasattr(t, "shape") else " (store it on ctx instead: ctx.k = k)")
                raise TypeError(f"{self.name}: save_for_backward can only save Tensors or "
                                f"None, but argument {i} is a {type(t).__name__}{hint}")
        self._to_save = tensors

    def mark_dirty(self, *tensors):
        """These inputs were modified in place by forward (and are returned as outputs)."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool):
        """False: backward gets None (not zeros) for outputs whose gradient is undefined."""
        self.materialize_grads = bool(value)


class _UserBackward:
    """What the engine calls as ``node.fn.backward`` for a node made by ``Function.apply``:
    the class's own backward, with PyTorch's conventions around it. Its ``__name__`` is the
    class's, so every error about the node names the user's class."""

    _array_backward = None          # a Function's backward always runs on Tensors

    def __init__(self, function):
        self.function = function
        self.__name__ = function.__name__

    def backward(self, ctx, *grads):
        fn = self.function
        if ctx._output_positions is not None:          # non-Tensor outputs get None
            positions, count = ctx._output_positions
            full = [None] * count
            for p, g in zip(positions, grads):
                full[p] = g
            grads = full
        if fn.backward is Function.backward and fn.vjp is not Function.vjp:
            result = fn.vjp(ctx, *grads)                 # PyTorch's other name for backward
        else:
            result = fn.backward(ctx, *grads)
        return _as_input_grads(ctx, result)


class Function:
    """PyTorch's custom autograd Function: subclass it, write ``forward`` and ``backward`` as
    static methods, call ``MyFunction.apply(*args)``::

        class Exp(mg.autograd.Function):
            @staticmethod
            def forward(ctx, x):                 # Tensors in (nothing recorded), Tensors out
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad_y):           # one gradient (or None) per forward argument
                (y,) = ctx.saved_tensors
                return grad_y * y

    ``forward`` runs with grad recording off. Instead of taking ``ctx`` it may take only the
    inputs, with ``setup_context(ctx, inputs, output)`` filling ``ctx`` (PyTorch 2's style).
    ``backward`` written with Tensor ops is differentiable again (``create_graph=True``,
    ``gradgradcheck``); one that is not should be decorated with ``@once_differentiable``.
    ``ctx`` offers ``save_for_backward``/``saved_tensors``, ``needs_input_grad``,
    ``mark_non_differentiable``, ``mark_dirty`` and ``set_materialize_grads``.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._node_fn = _UserBackward(cls)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define a static forward method")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Override to write ``forward(*inputs)`` without ``ctx`` (PyTorch 2's style)."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            f"{ctx.name} defines no backward: write a static backward(ctx, *grad_outputs) "
            "returning one gradient per argument of forward, to differentiate through it")

    @staticmethod
    def vjp(ctx, *grad_outputs):
        """PyTorch's alias: a class may define ``vjp`` instead of ``backward``."""
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__}: call a Function through its class, "
                           f"{type(self).__name__}.apply(...), not through an instance")

    @classmethod
    def apply(cls, *args, **kwargs):
        separate_setup = cls.setup_context is not Function.setup_context
        if separate_setup:
            args, kwargs = _bind_defaults(cls.forward, args, kwargs)
        needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        ctx = FunctionCtx(cls._node_fn, needs)
        with no_grad():
            if separate_setup:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        return _wrap_outputs(cls, ctx, args, output, record=STATE.enabled and any(needs))


def _bind_defaults(forward, args, kwargs):
    """With ``setup_context``, ``inputs`` holds every positional argument of forward, passed
    by keyword or left to its default included, as in PyTorch (each gets a gradient)."""
    bound = inspect.signature(forward).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args, bound.kwargs


def _wrap_outputs(cls, ctx, args, output, record):
    """The Tensors ``apply`` returns for what forward returned, recording ``ctx`` as their
    node if ``record``. Each output is a new Tensor over forward's result (an input returned
    as it is becomes a view of it), except an input marked dirty: that Tensor itself is the
    output, now made by this node. Non-Tensor outputs pass through."""
    single = not isinstance(output, tuple)
    outs = (output,) if single else output
    for o in outs:
        if hasattr(o, "__array_interface__") or hasattr(o, "__cuda_array_interface__"):
            raise TypeError(
                f"{cls.__name__}.forward returned an array ({type(o).__name__}): a Function's "
                "forward gets Tensors and must return Tensors (compute with Tensor ops, or wrap an "
                "array with mg.from_numpy). mg.autograd.ArrayFunction is the class whose "
                "forward works on arrays.")
    dirty = ctx._dirty
    if dirty:
        _check_dirty(cls, dirty, args, record)
    if record:      # the edges are taken before a dirty input becomes this node's output
        ctx.next_edges = tuple([_edge(a) if n else None
                                for a, n in zip(args, ctx.needs_input_grad)])
    non_diff = ctx._non_diff
    result, positions = list(outs), []
    for pos, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        k = len(positions)
        positions.append(pos)
        diff = (record and o.array.dtype.kind in "fc"
                and not any(o is nd for nd in non_diff))
        if any(o is d for d in dirty):
            o._mark_modified()
            if record:
                o.requires_grad, o.grad_fn, o._output_nr = diff, ctx if diff else None, k
            result[pos] = o
        else:
            t = Tensor._make(o.array, diff, ctx if diff else None, k)
            t._version = o._version       # the same memory: one version counter
            result[pos] = t
    if record:
        _record_node(cls, ctx, args, outs, result, positions)
    return result[0] if single else tuple(result)


def _check_dirty(cls, dirty, args, record):
    for d in dirty:
        if not any(d is a for a in args):
            raise RuntimeError(f"{cls.__name__}: mark_dirty() was given a Tensor that is not "
                               "an input of forward: only inputs modified in place are dirty")
        if record and d.requires_grad and d.grad_fn is None:
            raise RuntimeError(
                f"{cls.__name__}: a leaf Tensor that requires grad (shape {tuple(d.shape)}) "
                "was modified in place by forward (mark_dirty) while gradients are recorded. "
                "Pass a copy (x.clone()), or call it under mg.no_grad().")


def _record_node(cls, ctx, args, outs, result, positions):
    tensors = [result[p] for p in positions]
    ctx.n_outputs = len(tensors)
    ctx.output_meta = tuple([(t.array.shape, t.array.dtype) for t in tensors])
    if len(positions) != len(outs):
        ctx._output_positions = (tuple(positions), len(outs))
    if STATE.anomaly:
        ctx._trace = "".join(traceback.format_stack()[:-3])
        _check_finite(cls.__name__, "forward output", [t.array for t in tensors])
    if ctx._to_save:
        ctx._saved = tuple([_resolve_saved_tensor(ctx, x, args, outs, result)
                            for x in ctx._to_save])
        ctx._to_save = ()


def _resolve_saved_tensor(ctx, x, args, outs, result):
    """How a Tensor saved by a ``Function`` comes back in backward: an input as that input
    (its graph kept, so backward can be differentiated through it), an output as a Tensor
    made by this node (a new object each time, so the node holds no reference to its own
    output), anything else as it is."""
    if x is None:
        return _Saved("const", None)
    if not any(x is d for d in ctx._dirty):
        for a in args:
            if x is a:
                return _Saved("input", a._alias(), version_box=a._version)
    for o, r in zip(outs, result):
        if x is o:
            if r.grad_fn is ctx:
                return _Saved("output", r.array, index=r._output_nr, version_box=r._version)
            return _Saved("input", r, version_box=r._version)   # a non-differentiable output
    return _Saved("input", x, version_box=x._version)


def _as_input_grads(ctx, result):
    """What a Function's backward returned, in the form the engine checks: one gradient per
    forward argument. As in PyTorch, extra trailing Nones are dropped, and a gradient with
    the input's shape broadcast (a bias added to every row) is summed back to that shape."""
    if not isinstance(result, tuple):
        result = (result,)
    n_in = len(ctx.next_edges)
    if len(result) > n_in and all(g is None for g in result[n_in:]):
        result = result[:n_in]
    if len(result) != n_in:
        return result                 # the engine reports the wrong count, naming the class
    grads = []
    for g, edge in zip(result, ctx.next_edges):
        if isinstance(g, Tensor) and edge is not None:
            shape = edge[0].array.shape if edge[1] < 0 else edge[0].output_meta[edge[1]][0]
            if g.array.shape != shape and _broadcasts_to(shape, g.array.shape):
                g = _sum_to(g, shape)
        grads.append(g)
    return tuple(grads)


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _sum_to(g, shape):
    """Sum ``g`` over the dimensions that broadcasting ``shape`` to ``g.shape`` added."""
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(dim=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(dim=stretched, keepdim=True)
    return g


def once_differentiable(backward):
    """Decorator for a ``Function``'s backward that cannot be differentiated again (written
    with NumPy, or with in-place ops). It runs under ``no_grad``. When the caller asked for a
    graph of the gradient (``create_graph=True``), the gradients it returns hang from a node
    whose inputs are what they were computed from (the incoming gradients and the saved
    Tensors) and whose backward raises: a second derivative taken through them stops there
    with a clear error, instead of coming out silently as zero."""

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            result = backward(ctx, *grad_outputs)
        if not STATE.enabled:
            return result
        single = not isinstance(result, tuple)
        grads = list((result,) if single else result)
        where = [i for i, g in enumerate(grads) if isinstance(g, Tensor)]
        sources = [t for t in grad_outputs + ctx.saved_tensors
                   if isinstance(t, Tensor) and t.requires_grad]
        if not where or not sources:
            return result
        guarded = _OnceDifferentiable.apply(ctx.name, len(where),
                                            *[grads[i] for i in where], *sources)
        for i, g in zip(where, guarded):
            grads[i] = g
        return grads[0] if single else tuple(grads)

    return wrapper


class _OnceDifferentiable(ArrayFunction):
    """Passes the first ``n`` arrays (gradients) through unchanged and depends on the rest;
    differentiating its outputs raises (see ``once_differentiable``)."""

    @staticmethod
    def forward(ctx, function_name, n, *arrays):
        ctx.function_name = function_name
        return arrays[:n]

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError(
            f"{ctx.function_name}.backward is decorated with @once_differentiable, so the "
            "gradient it computed cannot be differentiated again (trying to differentiate "
            "twice a function that was marked with @once_differentiable). For higher-order "
            "gradients, write its backward with differentiable Tensor ops and remove the "
            "decorator.")
