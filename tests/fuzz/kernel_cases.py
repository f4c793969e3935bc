"""Kernel fuzz cases: calls of ``minigrad.kernels``' public functions on valid and hostile
arrays, described so that a child process can rebuild them (pickled: arrays plus the view to
take of them), and generated from a seeded NumPy generator (deterministic).

Only NumPy here: the child process imports this module, and nothing in it may need pytest,
hypothesis or torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class KArr:
    """An array argument: ``base`` seen through ``view``: () itself, ("transpose",) the last
    two axes swapped, ("step", axis) every other element along axis, ("flip", axis) reversed
    (negative strides), ("fortran",) column-major copy, ("expand", shape) a broadcast view
    (stride 0), ("list",) a nested Python list instead of an array."""

    base: np.ndarray
    view: tuple = ()

    def build(self):
        a, kind = self.base, (self.view[0] if self.view else None)
        if kind == "transpose":
            return np.swapaxes(a, -1, -2)
        if kind == "step":
            return a[(slice(None),) * self.view[1] + (slice(None, None, 2),)]
        if kind == "flip":
            return np.flip(a, self.view[1])
        if kind == "fortran":
            return np.asfortranarray(a)
        if kind == "expand":
            return np.broadcast_to(a, self.view[1])
        if kind == "list":
            return a.tolist()
        return a

    def __repr__(self):
        built = self.build()
        shape = np.shape(built)
        dtype = self.base.dtype
        return f"<{dtype} {shape}{' ' + self.view[0] if self.view else ''}>"


class KOp:
    """What known failures match on: ``case.op.name`` (e.g. "kernels.conv2d")."""

    def __init__(self, name):
        self.name = f"kernels.{name}"


@dataclass(eq=False)
class KernelCase:
    function: str                         # a public function of minigrad.kernels
    args: tuple
    kwargs: dict = field(default_factory=dict)

    @property
    def op(self):
        return KOp(self.function)

    @property
    def error_names(self):
        """Words a clear error may use to name the op: the function, or its family (the
        backward passes and matmul_by share their forward's checks)."""
        family = self.function.replace("_backward_input", "").replace(
            "_backward_weight", "").replace("_backward", "").replace("_by", "")
        return (self.function, family)

    def build(self):
        def one(a):
            return a.build() if isinstance(a, KArr) else a
        return [one(a) for a in self.args], {k: one(v) for k, v in self.kwargs.items()}

    def __repr__(self):
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"kernels.{self.function}({', '.join(parts)})"


# ---------------------------------------------------------------------------------------------
# Generation: each maker returns one valid-looking case; `hostile` then damages it one way.
# ---------------------------------------------------------------------------------------------

DTYPES = (np.float32, np.float64)


def _array(rng, shape, dtype=np.float64, distinct=False):
    size = int(np.prod(shape))
    if distinct:
        values = (rng.permutation(size) - size / 2) * 0.37
        return values.reshape(shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _matmul(rng, dtype):
    m, k, n = rng.integers(1, 9, size=3)
    return KernelCase("matmul", (KArr(_array(rng, (m, k), dtype)),
                                 KArr(_array(rng, (k, n), dtype))))


def _matmul_by(rng, dtype):
    case = _matmul(rng, dtype)
    return KernelCase("matmul_by", case.args)


def _softmax(name):
    def make(rng, dtype):
        shape = tuple(rng.integers(1, 6, size=rng.integers(1, 4)))
        return KernelCase(name, (KArr(_array(rng, shape, dtype)),),
                          {"axis": int(rng.integers(-len(shape), len(shape)))})
    return make


def _softmax_backward(name):
    def make(rng, dtype):
        forward = _softmax(name.replace("_backward", ""))(rng, dtype)
        x = forward.args[0].base
        y = np.exp(x) / np.exp(x).sum(axis=forward.kwargs["axis"], keepdims=True)
        if name.startswith("log_"):
            y = np.log(y)
        return KernelCase(name, (KArr(y.astype(dtype)), KArr(_array(rng, x.shape, dtype))),
                          forward.kwargs)
    return make


def _geometry(rng, pool=False):
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    stride = int(rng.integers(1, 3))
    dilation = int(rng.integers(1, 3))
    pad = int(rng.integers(0, 2))
    if pool:
        pad = min(pad, (dilation * (kh - 1) + 1) // 2, (dilation * (kw - 1) + 1) // 2)
    h = int(rng.integers(dilation * (kh - 1) + 1, 8))
    w = int(rng.integers(dilation * (kw - 1) + 1, 8))
    return (kh, kw), h, w, {"stride": stride, "padding": pad, "dilation": dilation}


def _conv_out(size, k, stride, pad, dil):
    return (size + 2 * pad - dil * (k - 1) - 1) // stride + 1


def _conv2d(rng, dtype):
    (kh, kw), h, w, hyper = _geometry(rng)
    n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
    return KernelCase("conv2d", (KArr(_array(rng, (n, c, h, w), dtype)),
                                 KArr(_array(rng, (f, c, kh, kw), dtype))), hyper)


def _conv_backward(name):
    def make(rng, dtype):
        forward = _conv2d(rng, dtype)
        x, w = forward.args[0].base, forward.args[1].base
        hy = forward.kwargs
        oh = _conv_out(x.shape[2], w.shape[2], hy["stride"], hy["padding"], hy["dilation"])
        ow = _conv_out(x.shape[3], w.shape[3], hy["stride"], hy["padding"], hy["dilation"])
        gy = KArr(_array(rng, (x.shape[0], w.shape[0], oh, ow), dtype))
        if name == "conv2d_backward_input":
            return KernelCase(name, (gy, KArr(w), x.shape), hy)
        return KernelCase(name, (KArr(x), gy, w.shape), hy)
    return make


def _pool_out(size, k, stride, pad, dil, ceil_mode):
    """PyTorch's pooling output size (with ceil_mode the last window must start inside)."""
    room = size + 2 * pad - dil * (k - 1) - 1
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _max_pool2d(rng, dtype):
    (kh, kw), h, w, hyper = _geometry(rng, pool=True)
    n, c = (int(v) for v in rng.integers(1, 3, size=2))
    kwargs = {"kernel_size": (kh, kw), **hyper, "ceil_mode": bool(rng.integers(0, 2))}
    if rng.integers(0, 3) == 0:
        kwargs["stride"] = None
    return KernelCase("max_pool2d", (KArr(_array(rng, (n, c, h, w), dtype, distinct=True)),),
                      kwargs)


def _max_pool2d_backward(rng, dtype):
    forward = _max_pool2d(rng, dtype)
    x, kw = forward.args[0].base, forward.kwargs
    (kh, kw_), stride = kw["kernel_size"], kw["stride"] or kw["kernel_size"]
    stride = stride if isinstance(stride, tuple) else (stride, stride)
    out = (*x.shape[:2], *(_pool_out(size, k, s, kw["padding"], kw["dilation"], kw["ceil_mode"])
                           for size, k, s in zip(x.shape[2:], (kh, kw_), stride)))
    plane = x.shape[2] * x.shape[3]
    indices = rng.integers(0, plane, size=out).astype(np.int64)
    return KernelCase("max_pool2d_backward",
                      (KArr(_array(rng, out, dtype)), KArr(indices), x.shape),
                      forward.kwargs)


def _relu(rng, dtype):
    shape = tuple(rng.integers(1, 6, size=rng.integers(0, 4)))
    return KernelCase("relu", (KArr(_array(rng, shape, dtype)),))


def _relu_backward(rng, dtype):
    shape = tuple(rng.integers(1, 6, size=rng.integers(0, 4)))
    return KernelCase("relu_backward", (KArr(_array(rng, shape, dtype)),
                                        KArr(np.maximum(_array(rng, shape, dtype), 0))))


def _lstm_cell(rng, dtype):
    n, h = (int(v) for v in rng.integers(1, 5, size=2))
    return KernelCase("lstm_cell", (KArr(_array(rng, (n, 4 * h), dtype)),
                                    KArr(_array(rng, (n, h), dtype))))


def _lstm_cell_backward(rng, dtype):
    n, h = (int(v) for v in rng.integers(1, 5, size=2))
    unit = rng.uniform(0.05, 0.95, size=(n, 4 * h)).astype(dtype)
    states = [KArr(_array(rng, (n, h), dtype)) for _ in range(4)]
    return KernelCase("lstm_cell_backward", (KArr(unit), *states))


def _lstm_sequence(rng, dtype):
    steps, n, h = (int(v) for v in rng.integers(1, 4, size=3))
    return KernelCase("lstm_sequence", (KArr(_array(rng, (steps, n, 4 * h), dtype)),
                                        KArr(_array(rng, (n, h), dtype)),
                                        KArr(_array(rng, (n, h), dtype)),
                                        KArr(_array(rng, (4 * h, h), dtype))))


def _lstm_sequence_backward(rng, dtype):
    steps, n, h = (int(v) for v in rng.integers(1, 4, size=3))
    acts = KArr(rng.uniform(0.05, 0.95, size=(steps, n, 4 * h)).astype(dtype))
    per_step = [KArr(_array(rng, (steps, n, h), dtype)) for _ in range(2)]
    return KernelCase("lstm_sequence_backward",
                      (acts, *per_step, KArr(_array(rng, (n, h), dtype)),
                       KArr(_array(rng, (4 * h, h), dtype)),
                       KArr(_array(rng, (steps, n, h), dtype)),
                       KArr(_array(rng, (n, h), dtype)), KArr(_array(rng, (n, h), dtype))))


MAKERS = {
    "matmul": _matmul, "matmul_by": _matmul_by,
    "softmax": _softmax("softmax"), "log_softmax": _softmax("log_softmax"),
    "softmax_backward": _softmax_backward("softmax_backward"),
    "log_softmax_backward": _softmax_backward("log_softmax_backward"),
    "conv2d": _conv2d, "conv2d_backward_input": _conv_backward("conv2d_backward_input"),
    "conv2d_backward_weight": _conv_backward("conv2d_backward_weight"),
    "max_pool2d": _max_pool2d, "max_pool2d_backward": _max_pool2d_backward,
    "relu": _relu, "relu_backward": _relu_backward,
    "lstm_cell": _lstm_cell, "lstm_cell_backward": _lstm_cell_backward,
    "lstm_sequence": _lstm_sequence, "lstm_sequence_backward": _lstm_sequence_backward,
}

# every way `hostile` may damage a case (one per case)
DAMAGES = ("none", "none", "layout", "layout", "dtype", "mixed-dtype", "ndim", "shape",
           "zero-size", "hyper", "axis", "not-an-array")


def hostile(rng, case, damage):
    """``case`` damaged one way (``damage`` from DAMAGES); arguments that do not apply stay."""
    args, kwargs = list(case.args), dict(case.kwargs)
    arrays = [i for i, a in enumerate(args) if isinstance(a, KArr)]
    i = int(rng.choice(arrays))
    a = args[i]
    if damage == "layout":
        nd = a.base.ndim
        options = [("fortran",)] + ([("transpose",)] if nd >= 2 else []) + (
            [("step", int(rng.integers(0, nd))), ("flip", int(rng.integers(0, nd)))]
            if nd else [])
        view = options[int(rng.integers(0, len(options)))]
        if view[0] == "transpose":             # keep the logical values' shape
            base = np.ascontiguousarray(np.swapaxes(a.base, -1, -2))
        elif view[0] == "step":
            base = np.repeat(a.base, 2, axis=view[1])
        else:
            base = a.base
        args[i] = KArr(base, view)
    elif damage == "dtype":
        dtype = [np.float16, np.int64, np.int32, np.bool_, np.complex128][int(rng.integers(0, 5))]
        args[i] = KArr(a.base.astype(dtype))
    elif damage == "mixed-dtype":
        other = np.float32 if a.base.dtype == np.float64 else np.float64
        args[i] = KArr(a.base.astype(other))
    elif damage == "ndim":
        args[i] = KArr(a.base[None] if rng.integers(0, 2) or a.base.ndim == 0 else a.base[0])
    elif damage == "shape":
        if a.base.ndim:
            axis = int(rng.integers(0, a.base.ndim))
            args[i] = KArr(np.concatenate([a.base, a.base.take([0], axis=axis)], axis=axis))
    elif damage == "zero-size":
        if a.base.ndim:
            axis = int(rng.integers(0, a.base.ndim))
            args[i] = KArr(a.base.take([], axis=axis))
    elif damage == "hyper":
        keys = [k for k in ("stride", "padding", "dilation", "kernel_size") if k in kwargs]
        if keys:
            key = keys[int(rng.integers(0, len(keys)))]
            kwargs[key] = [0, -1, 1.5, 2.0, (1, 2, 3), "2", 100][int(rng.integers(0, 7))]
    elif damage == "axis":
        if "axis" in kwargs:
            kwargs["axis"] = [5, -7, 1.0, None, "0"][int(rng.integers(0, 5))]
    elif damage == "not-an-array":
        args[i] = KArr(a.base, ("list",))
    return KernelCase(case.function, tuple(args), kwargs)


def generate(seed, per_function):
    """``per_function`` cases for every public kernel function, valid and damaged."""
    rng = np.random.default_rng(seed)
    cases = []
    for make in MAKERS.values():
        for _ in range(per_function):
            case = make(rng, DTYPES[int(rng.integers(0, 2))])
            cases.append(hostile(rng, case, DAMAGES[int(rng.integers(0, len(DAMAGES)))]))
    return cases
