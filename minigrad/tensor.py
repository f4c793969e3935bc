"""``Tensor``: an array that remembers how it was made.

A Tensor wraps one NumPy (CPU) or CuPy (GPU) array, ``.array``. If it ``requires_grad``,
every op applied to it records a node (``grad_fn``) so that ``loss.backward()`` can walk back
and fill ``.grad`` of the leaves. The ops themselves (``+``, ``@``, ``.sum()``...) live in
``minigrad.ops``; ``ops/tensor_methods.py`` attaches them to this class, so this file holds
only what a tensor *is*: data, device, dtype, gradient bookkeeping and in-place updates.
"""

from __future__ import annotations

import math
import operator
import sys
import warnings

import numpy as np

from . import backend
from .autograd.grad_mode import STATE
from .backend import Device


def _fresh_seed() -> int:
    """A nondeterministic 63-bit seed, from the operating system's entropy."""
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))


# The generator behind every random draw, and the seed it started from (``mg.initial_seed``)
_initial_seed = _fresh_seed()
_rng = np.random.default_rng(_initial_seed)
_new = object.__new__


def manual_seed(seed: int):
    """Seed every random number minigrad draws (``randn``, ``rand``, dropout, init, shuffling)."""
    global _rng, _initial_seed
    _initial_seed = int(seed)
    _rng = np.random.default_rng(seed)
    cp = backend._cupy()
    if cp is not None:
        cp.random.seed(seed)
    return _rng


def default_generator() -> np.random.Generator:
    return _rng


def set_default_dtype(d) -> None:
    """The float dtype that new tensors get when none is given: ``tensor(1.0)``, ``zeros``,
    ``randn``, layer parameters, and ``int tensor * 2.5``. float32 unless changed; only
    floating dtypes are accepted (as in PyTorch)."""
    dt = np.dtype(d) if isinstance(d, (np.dtype, type)) else None
    if dt is None or dt.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, got {d!r}")
    backend.DEFAULT_FLOAT = dt


def get_default_dtype() -> np.dtype:
    """The float dtype that new tensors get when none is given (see ``set_default_dtype``)."""
    return backend.DEFAULT_FLOAT


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation."""

    __slots__ = ("array", "requires_grad", "_grad", "grad_fn", "_output_nr", "_version",
                 "_hooks", "_post_accumulate_hooks", "_retains_grad", "_inference", "__weakref__")
    __array_priority__ = 1000  # numpy scalar * Tensor must call Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, dtype=None, device=None):
        t = tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)
        self.array, self.requires_grad, self._grad = t.array, t.requires_grad, None
        self.grad_fn, self._output_nr, self._version = None, 0, [0]
        self._hooks, self._post_accumulate_hooks, self._retains_grad = None, None, False
        self._inference = STATE.inference      # made inside inference_mode (is_inference)

    @classmethod
    def _make(cls, array, requires_grad=False, grad_fn=None, output_nr=0):
        """Wrap an array without copying or checking (the fast path for ops)."""
        t = _new(cls)
        t.array = array
        t.requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._version = [0]
        t._hooks = None
        t._post_accumulate_hooks = None
        t._retains_grad = False
        t._inference = STATE.inference
        return t

    def _alias(self):
        """Another Tensor object for the same value and graph position (what a node saves).

        A recorded in-place op rebinds ``self`` to a new value; the alias keeps the old one.
        A leaf that requires grad can't be rebound, and gradients must reach it: itself.
        """
        if self.requires_grad and self.grad_fn is None:
            return self
        t = Tensor._make(self.array, self.requires_grad, self.grad_fn, self._output_nr)
        t._version = self._version
        return t

    # -- what a tensor is ----------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self.array.shape)

    def size(self, dim=None):
        if dim is None:
            return self.shape
        ndim = self.array.ndim
        if ndim == 0:
            raise IndexError(f"size: dimension specified as {dim} but tensor has no dimensions")
        if not -ndim <= dim < ndim:
            raise IndexError(f"size: dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {dim})")
        return self.array.shape[dim]

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self) -> Device:
        return backend.device_of(self.array)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    @property
    def grad(self):
        """The gradient accumulated by backward: filled for leaves (and for tensors that called
        ``retain_grad()``). Reading it on any other tensor warns, as PyTorch does: it is always
        None there, which usually means the wrong tensor is being looked at."""
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def element_size(self) -> int:
        return self.array.dtype.itemsize

    # -- leaving minigrad ----------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied off the GPU if needed; shares memory on CPU)."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad: NumPy can't follow the "
                "graph. Use tensor.detach().numpy() instead."
            )
        return backend.to_device(self.array, backend.CPU)

    def __array__(self, dtype=None, copy=None):
        arr = backend.to_device(self.array, backend.CPU)
        return arr.astype(dtype) if dtype is not None else arr

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a "
                             f"Python number, this one has shape {tuple(self.shape)}")
        return self.array.reshape(()).item()

    def tolist(self):
        return backend.to_device(self.array, backend.CPU).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of a tensor with {self.array.size} values is "
                               "ambiguous: use .any() or .all()")
        return bool(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a 0-d tensor's number, as PyTorch does; other tensors
        format as ``object`` does (a format spec on them is a TypeError)."""
        if self.array.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    # -- gradients -----------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``self`` must be a scalar unless ``gradient`` (dL/dself, same shape) is given.
        """
        from .autograd.engine import run_backward

        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no grad_fn. Create the "
                "inputs with requires_grad=True (or call .requires_grad_()) before the ops, "
                "and don't compute the loss inside mg.no_grad()."
            )
        gradient = _default_grad(self, gradient, "backward()")
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            for t in inputs:
                if t.grad_fn is not None:
                    t.retain_grad()     # as PyTorch: its hook fills .grad, after the others
            grads = run_backward([self], [gradient], retain_graph, create_graph, inputs=inputs,
                                 allow_unused=True)
            from .autograd.engine import _accumulate_leaf, run_post_accumulate_hooks
            handed = {id(gradient.array)}                 # see _accumulate_leaf
            for t, g in zip(inputs, grads):
                if g is not None and t.grad_fn is None:
                    _accumulate_leaf(t, g, create_graph, handed)
                    run_post_accumulate_hooks(t)
            return
        run_backward([self], [gradient], retain_graph, create_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        Like PyTorch, the hook runs once per backward pass, on the gradient summed over every
        use of the tensor; what it returns (a Tensor of the same shape and dtype) replaces
        that gradient, both in what flows on and in what a leaf accumulates into ``.grad``.
        Several hooks run in registration order, each on the previous one's result.
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"register_hook: cannot register a hook on a tensor that doesn't require grad "
                f"(shape {tuple(self.shape)}, dtype {self.dtype}); create it with "
                "requires_grad=True or call .requires_grad_() first")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._hooks is None:
                node._hooks = {}
            hooks = node._hooks.setdefault(self._output_nr, {})
        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after backward has added this leaf's gradient into ``.grad``.

        Only leaves have a ``.grad`` to accumulate into. The hook sees the finished gradient
        (after any ``register_hook`` hooks) and returns nothing; DistributedDataParallel uses it
        to start averaging a parameter's gradient while backward goes on with the others.
        ``autograd.grad`` writes no ``.grad`` and so calls no such hook.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: cannot register a hook on a tensor that "
                f"doesn't require grad (shape {tuple(self.shape)}, dtype {self.dtype})")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = {}
        return _RemovableHandle(self._post_accumulate_hooks, hook)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor too (leaves keep theirs anyway).

        As in PyTorch, ``.grad`` gets the gradient after all of the tensor's
        ``register_hook`` hooks, whether they were registered before or after this call."""
        if self.grad_fn is None or self._retains_grad:
            return
        import weakref
        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                t.grad = grad.detach() if t.grad is None else t.grad + grad.detach()
        self.register_hook(keep)._rekey(RETAIN_GRAD_KEY)   # the engine runs this one last
        self._retains_grad = True

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory, like PyTorch)."""
        t = Tensor._make(self.array)
        t._version = self._version
        return t

    @property
    def data(self) -> Tensor:
        """The same values as a Tensor outside the graph, sharing memory (PyTorch's ``.data``).

        Writes through it (``p.data.add_(g, alpha=-lr)``, ``p.data.copy_(w)``) change ``p``
        without being recorded and without bumping ``p``'s version, so autograd cannot notice
        them: prefer ``with mg.no_grad(): p.add_(...)`` (which is checked) or ``p.detach()``
        (which shares the version counter). The array itself is ``p.array``.
        """
        return Tensor._make(self.array)

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}; "
                            f"wrap it first: t.data = mg.from_numpy(value)")
        self.array = value.array

    def is_inference(self) -> bool:
        """True for a tensor made inside ``mg.inference_mode()`` (PyTorch's inference tensors;
        minigrad only records the fact)."""
        return self._inference

    def detach_(self) -> Tensor:
        self.grad_fn, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad_(False) is only allowed on leaves; use .detach()")
        if requires_grad and self.dtype.kind not in "fc":
            raise RuntimeError(f"only floating point tensors can require gradients, this one "
                               f"is {self.dtype}")
        self.requires_grad = requires_grad
        return self

    # -- devices and dtypes (differentiable moves) ---------------------------------------------
    def to(self, *args, **kwargs) -> Tensor:
        """``t.to("cuda")``, ``t.to(mg.float64)``, ``t.to(other_tensor)``, or both; then
        PyTorch's flags, positional or by keyword: ``non_blocking`` (transfers here are
        synchronous, so it changes nothing), ``copy`` (a new tensor even when nothing
        changes) and ``memory_format`` (see ``memory_format``). Returns ``self`` when the
        device and dtype already match and no copy is asked for."""
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        flags = {"non_blocking": kwargs.pop("non_blocking", False),
                 "copy": kwargs.pop("copy", False)}
        fmt = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        positional_flags = iter(("non_blocking", "copy"))
        for a in args:
            if isinstance(a, bool):              # to(dtype, non_blocking, copy)
                name = next(positional_flags, None)
                if name is None:
                    raise TypeError("to() takes at most two flags (non_blocking, copy) after "
                                    f"the device and dtype, got arguments {args!r}")
                flags[name] = a
            elif isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (str, Device)):
                device = a
            else:
                dtype = a
        check_memory_format("to", fmt, self.ndim)
        from .ops.cast import to_device, to_dtype
        from .ops.movement import clone

        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = to_dtype(out, np.dtype(dtype))
        if device is not None and Device(device) != self.device:
            out = to_device(out, Device(device))
        if out is self and flags["copy"]:
            out = clone(self)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        return self.to("cuda" if device is None else f"cuda:{int(device)}")

    def float(self, memory_format=None) -> Tensor:
        return self.to(np.float32, memory_format=memory_format)

    def double(self, memory_format=None) -> Tensor:
        return self.to(np.float64, memory_format=memory_format)

    def half(self, memory_format=None) -> Tensor:
        return self.to(np.float16, memory_format=memory_format)

    def long(self, memory_format=None) -> Tensor:
        return self.to(np.int64, memory_format=memory_format)

    def int(self, memory_format=None) -> Tensor:
        return self.to(np.int32, memory_format=memory_format)

    def bool(self, memory_format=None) -> Tensor:
        return self.to(np.bool_, memory_format=memory_format)

    def type(self, dtype=None):
        """Without an argument, PyTorch's legacy type name (``'torch.FloatTensor'``,
        ``'torch.cuda.LongTensor'``): code compares these strings, so they are PyTorch's
        spelling. With a dtype (or such a name), the tensor converted to it."""
        if dtype is None:
            name = _LEGACY_TYPE_NAMES.get(self.dtype)
            if name is None:
                raise TypeError(f"type(): no legacy type name for dtype {self.dtype}")
            return f"torch.{'cuda.' if self.is_cuda else ''}{name}"
        if isinstance(dtype, str):
            by_name = {v: k for k, v in _LEGACY_TYPE_NAMES.items()}
            key = dtype.rsplit(".", 1)[-1]
            if key not in by_name:
                raise ValueError(f"type(): invalid type {dtype!r}; expected e.g. "
                                 "'torch.FloatTensor' or a dtype such as mg.float64")
            return self.to(by_name[key], device="cuda" if ".cuda." in dtype else None)
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    # -- in-place updates ----------------------------------------------------------------------
    def _check_inplace(self, op: str):
        if STATE.enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad is being modified in place while "
                "gradients are recorded. Wrap the update in `with mg.no_grad():` (as an "
                "optimizer step does), or use an out-of-place op."
            )

    def _inplace(self, op: str, compute):
        """Run ``compute()`` (an out-of-place result) and make ``self`` become it.

        Recorded (grad mode on and an operand requires grad): self takes the result's graph
        node, like PyTorch's in-place ops. Otherwise the values are written into ``self.array``
        itself, so every view and every reference to this tensor sees the change
        (``p -= lr * p.grad``).
        """
        self._check_inplace(op)
        result = compute()
        _check_inplace_cast(op, result.dtype, self.dtype)
        if not result.requires_grad:
            return self._overwrite(op, result.array)
        if result.shape != self.shape:
            _raise_inplace_shape(op, self.shape, result.shape)
        self.array = result.array.astype(self.dtype, copy=False)
        self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
        self.requires_grad = True
        # the old array was not touched (saved copies stay valid): a fresh version box
        self._version = [self._version[0] + 1]
        return self

    def _overwrite(self, op: str, values):
        """Write ``values`` (broadcast, cast) into this tensor's memory and bump its version,
        so that anything that saved this tensor for backward notices the change."""
        self._check_inplace(op)
        shape = np.shape(values)
        if shape != self.array.shape:
            try:
                fits = np.broadcast_shapes(shape, self.array.shape) == self.array.shape
            except ValueError:
                fits = False
            if not fits:
                _raise_inplace_shape(op, self.shape, shape)
        try:
            backend.array_module(self.array).copyto(self.array, values, casting="unsafe")
        except ValueError as e:  # a read-only view (expand, broadcast)
            raise RuntimeError(f"{op}: this tensor's memory is read-only (it is an expanded or "
                               f"broadcast view); .clone() it first. ({e})") from None
        self._mark_modified()
        return self

    def _mark_modified(self):
        """Record that ``self.array`` was changed in place (by any code that writes into it):
        a backward that saved this tensor earlier then refuses to use the stale values."""
        self._version[0] += 1

    def zero_(self) -> Tensor:
        return self._fill("zero_()", 0)

    def fill_(self, value) -> Tensor:
        """Every element set to ``value`` (a number or a 1-element tensor, read as a number)."""
        return self._fill("fill_()", value.item() if isinstance(value, Tensor) else value)

    def _fill(self, op: str, value) -> Tensor:
        """On a tensor in the graph the new values no longer depend on the old ones: its
        gradient to what it was computed from is zero, as in PyTorch."""
        if STATE.enabled and self.requires_grad:   # a non-leaf (a leaf raises in _inplace)
            from .ops.compare import ZeroGradient
            return self._inplace(op, lambda: ZeroGradient.apply(
                lambda a: backend.array_module(a).full_like(a, value), self))
        return self._overwrite(op, value)

    def copy_(self, src) -> Tensor:
        """Copy ``src`` (broadcast to this shape, cast to this dtype and device) into self."""
        src_t = src if isinstance(src, Tensor) else tensor(src)
        return self._inplace("copy_()", lambda: src_t.to(self.device).to(self.dtype)
                             .expand(self.shape).clone())

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        return self._overwrite("uniform_()", backend.to_device(_rng.uniform(a, b, self.shape),
                                                               self.device))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        return self._overwrite("normal_()", backend.to_device(
            _rng.normal(mean, std, self.shape), self.device))

    # -- printing ------------------------------------------------------------------------------
    def __repr__(self):
        arr = backend.to_device(self.array, backend.CPU)
        body = _array_text(arr)
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if arr.dtype not in (np.float32, np.int64, np.bool_) or arr.size == 0:
            extras.append(f"dtype={arr.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    __str__ = __repr__


# bool < integer < float < complex: an in-place op may not write a result into a tensor of a
# lower kind (PyTorch's rule: int_tensor.exp_() raises instead of truncating)
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _check_inplace_cast(op: str, result_dtype, self_dtype) -> None:
    if _KIND_RANK[np.dtype(result_dtype).kind] > _KIND_RANK[np.dtype(self_dtype).kind]:
        raise RuntimeError(f"{op}: result type {result_dtype} can't be cast to the desired "
                           f"output type {self_dtype} (the tensor written in place); use the "
                           f"out-of-place op, or convert the tensor first, e.g. x = x.float()")


# How tensors print; mg.set_printoptions (runtime.py) changes these
PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                 "sci_mode": None}


def _array_text(arr: np.ndarray) -> str:
    """The values part of a tensor's repr, under ``PRINT_OPTIONS``."""
    opts = PRINT_OPTIONS
    formatter = None
    if opts["sci_mode"] is not None and arr.dtype.kind == "f":
        # a space where a minus would go when any value is negative, so columns line up
        sign = " " if arr.size and bool((arr < 0).any()) else ""
        spec = f"{sign}.{opts['precision']}{'e' if opts['sci_mode'] else 'f'}"
        formatter = {"float_kind": lambda v: format(v, spec)}
    threshold = opts["threshold"]
    return np.array2string(arr, separator=", ", prefix="tensor(",
                           threshold=sys.maxsize if threshold == float("inf") else int(threshold),
                           edgeitems=int(opts["edgeitems"]), max_line_width=int(opts["linewidth"]),
                           precision=int(opts["precision"]), formatter=formatter,
                           floatmode="maxprec_equal" if arr.size else "fixed")


_LEGACY_TYPE_NAMES = {
    np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
    np.dtype(np.float16): "HalfTensor", np.dtype(np.int64): "LongTensor",
    np.dtype(np.int32): "IntTensor", np.dtype(np.int16): "ShortTensor",
    np.dtype(np.int8): "CharTensor", np.dtype(np.uint8): "ByteTensor",
    np.dtype(np.bool_): "BoolTensor",
}

_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead."
)


class memory_format:  # noqa: N801 - PyTorch's name
    """How a tensor's elements are laid out in memory (PyTorch's ``torch.memory_format``).

    minigrad's arrays are always C-contiguous (row-major), whatever format is asked for:
    ``x.contiguous(memory_format=mg.channels_last)`` gives the same tensor as without it. The
    formats exist so that code passing them runs unchanged; PyTorch's rank checks are kept
    (channels_last needs a 4-D tensor, channels_last_3d a 5-D one).
    """

    def __init__(self, name: str, ndim: int | None = None):
        self.name, self.ndim = name, ndim

    def __repr__(self):
        return f"minigrad.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last", ndim=4)
channels_last_3d = memory_format("channels_last_3d", ndim=5)


def check_memory_format(op: str, fmt, ndim: int) -> None:
    """Refuse what is not a memory format, and channels_last on a tensor of the wrong rank."""
    if fmt is None:
        return
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}: memory_format must be mg.contiguous_format, "
                        f"mg.preserve_format, mg.channels_last or mg.channels_last_3d, got "
                        f"{fmt!r}")
    if fmt.ndim is not None and fmt.ndim != ndim:
        raise RuntimeError(f"{op}: required rank {fmt.ndim} tensor to use {fmt.name} format, "
                           f"got a {ndim}-D tensor")


class Size(tuple):
    """A tensor's shape: a tuple that prints like PyTorch's ``torch.Size([2, 3])``."""

    def __repr__(self):
        return f"Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


class _RemovableHandle:
    _next_id = 0

    def __init__(self, hooks: dict, fn):
        _RemovableHandle._next_id += 1
        self.id = _RemovableHandle._next_id
        self.hooks = hooks
        hooks[self.id] = fn

    def remove(self):
        self.hooks.pop(self.id, None)

    def _rekey(self, key):
        """Store the hook under ``key`` instead of its number."""
        self.hooks[key] = self.hooks.pop(self.id)
        self.id = key


# the key of the retain_grad hook among a tensor's hooks: the engine calls it after the others
RETAIN_GRAD_KEY = "retain_grad"


def _raise_inplace_shape(op, shape, result_shape):
    raise RuntimeError(f"{op}: the result has shape {tuple(result_shape)} but the tensor "
                       f"being updated has shape {tuple(shape)}; an in-place op can't change a "
                       "tensor's shape.")


def _default_grad(output: Tensor, gradient, where: str) -> Tensor:
    if gradient is None:
        if output.array.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for scalar outputs, but this "
                f"output has shape {tuple(output.shape)}. Reduce it to a scalar first (e.g. "
                ".sum() or .mean()) or pass the gradient dL/doutput explicitly."
            )
        xp = backend.array_module(output.array)
        return Tensor._make(xp.ones(output.shape, dtype=output.dtype))
    if not isinstance(gradient, Tensor):
        gradient = tensor(gradient, dtype=output.dtype, device=output.device)
    if gradient.shape != output.shape:
        raise RuntimeError(f"{where}: gradient has shape {tuple(gradient.shape)} but the output "
                           f"has shape {tuple(output.shape)}")
    return gradient


# ---------------------------------------------------------------------------------------------
# Creating tensors
# ---------------------------------------------------------------------------------------------

def _place(array, device):
    return array if device is None else backend.to_device(array, Device(device))


def _finish(array, requires_grad, device) -> Tensor:
    t = Tensor._make(_place(array, device))
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, requires_grad: bool = False, dtype=None, device=None) -> Tensor:
    """A new tensor holding a *copy* of ``data`` (a number, nested list, array or Tensor).

    Python floats become float32 (the default), ints int64, bools bool; NumPy arrays keep their
    dtype, so float64 data stays float64.
    """
    if isinstance(data, Tensor):
        array = data.array.copy()
        if device is None:
            device = data.device
    elif hasattr(data, "__cuda_array_interface__") and backend._cupy() is not None:
        array = backend._cupy().array(data, copy=True)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
            data = _nested_to_numpy(data)
        array = np.array(data, copy=True)
    target = backend.resolve_dtype(dtype)
    if target is None:
        target = backend.dtype_from_data(data, array)
    if array.dtype != target:
        array = array.astype(target)
    return _finish(array, requires_grad, device)


def _flat(seq):
    for x in seq:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _nested_to_numpy(seq):
    return [_nested_to_numpy(x) if isinstance(x, (list, tuple)) else
            (x.numpy() if isinstance(x, Tensor) else x) for x in seq]


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


def _shape_arg(op: str, size) -> tuple:
    """The sizes of a new tensor, given as ints (``zeros(2, 3)``) or as one tuple, list or
    Size (``zeros((2, 3))``): each a whole number >= 0, as PyTorch requires. A float size
    (``zeros(n / 2)``) raises instead of being truncated. No size at all is refused too:
    ``zeros(())`` is how to ask for a 0-d tensor."""
    if len(size) == 0:
        raise TypeError(f"{op}() missing 1 required argument: size (use {op}(()) for a 0-d "
                        "tensor)")
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = []
    for s in size:
        if isinstance(s, (bool, np.bool_)):
            raise TypeError(f"{op}: size must be a tuple of ints, got a bool in {tuple(size)}")
        try:
            shape.append(operator.index(s))
        except TypeError:
            raise TypeError(f"{op}: size must be a tuple of ints, got {type(s).__name__} {s!r} "
                            f"in {tuple(size)}") from None
    negative = [s for s in shape if s < 0]
    if negative:
        raise RuntimeError(f"{op}: trying to create a tensor with negative dimension "
                           f"{negative[0]}: {shape}")
    return tuple(shape)


def _count_arg(op: str, name: str, n) -> int:
    """A count (randperm's n, eye's n and m, linspace's steps): a whole number >= 0."""
    try:
        value = operator.index(n)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int, got {type(n).__name__} {n!r}") from None
    if value < 0:
        raise RuntimeError(f"{op}: {name} must be greater or equal to 0, got {value}")
    return value


def _random_float_dtype(op: str, dtype):
    """rand, randn and normal draw real numbers: the dtype must be a float type."""
    dt = _float_dtype(dtype)
    if dt.kind != "f":
        raise RuntimeError(f"{op}: dtype must be a floating point type, got {dt} (for random "
                           "integers use randint)")
    return dt


def _xp(device):
    if device is not None and Device(device).type == "cuda":
        backend.to_device(np.zeros(0), Device(device))  # raises a clear error without a GPU
        return backend._cupy()
    return np


def _float_dtype(dtype):
    return backend.resolve_dtype(dtype, backend.DEFAULT_FLOAT)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.zeros(_shape_arg("zeros", size), _float_dtype(dtype)), requires_grad,
                   device)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.ones(_shape_arg("ones", size), _float_dtype(dtype)), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor (filled with zeros here: NumPy's uninitialised memory would only make
    bugs harder to reproduce)."""
    return _finish(np.zeros(_shape_arg("empty", size), _float_dtype(dtype)), requires_grad,
                   device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = backend.dtype_from_data(fill_value) if not isinstance(fill_value, float) \
            else backend.DEFAULT_FLOAT
    return _finish(np.full(_shape_arg("full", (size,)), fill_value, np.dtype(dtype)),
                   requires_grad, device)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.zeros(t.shape, backend.resolve_dtype(dtype, t.dtype)), requires_grad, device or t.device)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.ones(t.shape, backend.resolve_dtype(dtype, t.dtype)), requires_grad, device or t.device)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.full(t.shape, fill_value, backend.resolve_dtype(dtype, t.dtype)), requires_grad,
                   device or t.device)


def rand_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return rand(tuple(t.shape), dtype=backend.resolve_dtype(dtype, t.dtype), device=device or t.device,
                requires_grad=requires_grad)


def randn_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return randn(tuple(t.shape), dtype=backend.resolve_dtype(dtype, t.dtype), device=device or t.device,
                 requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """start, start + step, ... up to (not including) end.

    With an integer ``dtype``, float bounds and step are truncated toward zero first, as
    PyTorch does: ``arange(0.5, dtype=int64)`` is empty, ``arange(0, 3, 0.5, dtype=int64)``
    has step 0 (an error)."""
    if end is None:
        start, end = 0, start
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end} with step {step}")
    if dtype is not None and np.dtype(dtype).kind in "iu":
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError(f"arange: step must be nonzero (start={start}, end={end})")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign: "
                           f"start={start}, end={end}, step={step}")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = backend.DEFAULT_FLOAT if is_float else backend.DEFAULT_INT
    return _finish(np.arange(start, end, step, dtype=np.dtype(dtype)), requires_grad, device)


def _scalar_arg(op: str, name: str, value):
    """A Python number, or a 0-d tensor's value (PyTorch accepts both for linspace's ends)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"{op}: {name} must be a number or a 0-d tensor, got a tensor of "
                               f"shape {tuple(value.shape)}")
        return value.item()
    return value


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced numbers from start to end; the ends are numbers or 0-d tensors.
    Computed in float64 and then cast, so a float32 tensor end gives float64 accuracy when
    dtype=float64 is asked for."""
    steps = _count_arg("linspace", "steps", steps)
    start, end = _scalar_arg("linspace", "start", start), _scalar_arg("linspace", "end", end)
    values = np.linspace(start, end, steps, dtype=np.float64)
    return _finish(values.astype(_float_dtype(dtype)), requires_grad, device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    n = _count_arg("eye", "n", n)
    m = None if m is None else _count_arg("eye", "m", m)
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    g = generator or _rng
    shape, dt = _shape_arg("randn", size), _random_float_dtype("randn", dtype)
    return _finish(g.standard_normal(shape).astype(dt), requires_grad, device)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    g = generator or _rng
    shape, dt = _shape_arg("rand", size), _random_float_dtype("rand", dtype)
    return _finish(g.random(shape).astype(dt), requires_grad, device)


def randint(low, high=None, size=(), dtype=None, device=None, generator=None) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(low, high, size)``, or
    ``randint(high, size)`` (low = 0) as in PyTorch."""
    if isinstance(high, (tuple, list)):            # the randint(high, size) overload
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if not low < high:
        raise RuntimeError(f"randint: expects low < high (values are drawn from [low, high)), "
                           f"got low={low} and high={high}")
    g = generator or _rng
    return _finish(g.integers(low, high, size=_shape_arg("randint", (size,))).astype(
        backend.resolve_dtype(dtype, backend.DEFAULT_INT)), False, device)


def randperm(n, dtype=None, device=None, generator=None) -> Tensor:
    n = _count_arg("randperm", "n", n)
    g = generator or _rng
    return _finish(g.permutation(n).astype(backend.resolve_dtype(dtype, backend.DEFAULT_INT)),
                   False, device)


class layout:  # noqa: N801 - PyTorch's name
    """How a tensor is stored (PyTorch's ``torch.layout``). minigrad has only dense tensors,
    ``mg.strided``; the name exists so that ``layout=mg.strided`` runs unchanged."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"minigrad.{self.name}"


strided = layout("strided")


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Normal random numbers. ``normal(mean, std, size)`` with numbers draws a tensor of that
    size; with a Tensor ``mean`` and/or ``std`` (and no size) each element has its own mean
    and std and the shape is theirs, broadcast. As in PyTorch, such an output stays in the
    graph when mean or std requires grad, with gradient 0 for both."""
    if layout is not None and layout is not strided:
        raise RuntimeError(f"normal: only layout=mg.strided is supported, got {layout!r}")
    g = generator or _rng
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:
            raise RuntimeError("normal: size can't be given with a Tensor mean or std (the "
                               "output takes their shape)")
        return _normal_from_tensors(mean, std, g)
    if size is None:
        raise TypeError("normal: with a number mean and std, size must be given, e.g. "
                        "normal(0.0, 1.0, (2, 3))")
    if not std >= 0:
        raise RuntimeError(f"normal: expects std >= 0.0, but found std {std}")
    shape, dt = _shape_arg("normal", (size,)), _random_float_dtype("normal", dtype)
    return _finish(g.normal(mean, std, size=shape).astype(dt), requires_grad, device)


def _normal_from_tensors(mean, std, g) -> Tensor:
    from .ops.compare import ZeroGradient

    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    dtype = tensors[0].dtype if len(tensors) == 1 else backend.promote_types(*(
        t.dtype for t in tensors))
    if dtype.kind != "f":
        raise RuntimeError(f"normal: mean and std must be floating point tensors, got {dtype}")
    std_values = std.array if isinstance(std, Tensor) else np.asarray(std)
    if not bool((std_values >= 0).all()):
        raise RuntimeError(f"normal: expects std >= 0.0, but found std "
                           f"{float(std_values.min())}")
    shape = np.broadcast_shapes(*(np.shape(t.array if isinstance(t, Tensor) else t)
                                  for t in (mean, std)))
    xp = backend.array_module(tensors[0].array)
    noise = xp.asarray(g.standard_normal(shape))

    def draw(m, s):
        return (m + s * noise).astype(dtype)

    # the sample in the graph with gradient 0 for mean and std, as PyTorch defines it
    return ZeroGradient.apply(draw, mean, std)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)
