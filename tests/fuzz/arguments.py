"""Argument builders for the op table: ``builder(...)`` returns ``draw -> (args, kwargs)``.

Each builder draws mostly valid arguments for its family of ops and, now and then, hostile
ones (out-of-range dims, wrong types, negative sizes, floats where ints are expected,
mismatched shapes): the property is the same for both (match PyTorch or raise a clear error).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .harness import Dtype
from .strategies import (
    ALL,
    FLOAT,
    FLOAT16,
    NUMERIC,
    broadcast_shapes,
    chance,
    dim,
    maybe_wrong_type,
    python_scalar,
    shape,
    size_arg,
    tensor,
)

# ---------------------------------------------------------------------------------------------
# elementwise
# ---------------------------------------------------------------------------------------------


def unary(dtypes=FLOAT16 + ("int64", "bool"), kind="normal"):
    def build(draw):
        return (maybe_wrong_type(draw, tensor(draw, dtypes=dtypes, kind=kind)),), {}
    return build


def clamp_args(draw):
    x = tensor(draw, dtypes=NUMERIC)
    bounds = []
    for _ in range(2):
        pick = draw(st.sampled_from(["none", "scalar", "scalar", "tensor"]))
        if pick == "none":
            bounds.append(None)
        elif pick == "scalar":
            bounds.append(draw(st.sampled_from([-0.5, 0.0, 0.7, -1, 2])))
        else:
            bounds.append(tensor(draw, x.shape[len(x.shape) - draw(st.integers(0, len(x.shape))):],
                                 dtypes=FLOAT, layouts=False, edge=False))
    return (x, *bounds), {}


def pow_args(draw):
    form = draw(st.sampled_from(["tensor**scalar", "tensor**tensor", "scalar**tensor"]))
    if form == "tensor**scalar":
        base = tensor(draw, dtypes=NUMERIC, kind="positive")
        return (base, draw(st.sampled_from([2, 3, 0, -1, 0.5, 2.5, -1.5, 1]))), {}
    base_shape, exp_shape = broadcast_shapes(draw)
    exponent = tensor(draw, exp_shape, dtypes=NUMERIC)
    if form == "scalar**tensor":
        return (draw(st.sampled_from([2.0, 0.5, 3])), exponent), {}
    return (tensor(draw, base_shape, dtypes=NUMERIC, kind="positive"), exponent), {}


def binary(dtypes=ALL, scalars=True, divisor=False):
    """Two operands that broadcast (or, one time in eight, may not); either may be a Python
    scalar. ``divisor``: the second operand avoids small floats (ints may still be 0)."""
    def build(draw):
        sa, sb = broadcast_shapes(draw)
        a = tensor(draw, sa, dtypes=dtypes)
        b = tensor(draw, sb, dtypes=dtypes, kind="positive" if divisor and chance(draw, 2)
                   else "normal")
        if scalars and chance(draw, 5):
            a = python_scalar(draw)
        elif scalars and chance(draw, 5):
            b = python_scalar(draw)
        return (a, b), {}
    return build


def where_args(draw):
    sc, sx, sy = broadcast_shapes(draw, n=3)
    cond = tensor(draw, sc, dtypes=("bool",) if not chance(draw, 8) else ("int64", "float32"))
    x = tensor(draw, sx, dtypes=ALL) if not chance(draw, 5) else python_scalar(draw)
    y = tensor(draw, sy, dtypes=ALL) if not chance(draw, 5) else python_scalar(draw)
    return (cond, x, y), {}


# ---------------------------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------------------------

def reduction(dtypes=NUMERIC, *, multiple=True, none=True, keepdim=True, kind="normal",
              extra=None, empty_tuple=True):
    """x, then dim=..., keepdim=... (each present or not); ``extra(draw)`` adds kwargs."""
    def build(draw):
        x = tensor(draw, dtypes=dtypes, kind=kind)
        kwargs = {}
        if not none or draw(st.booleans()):
            kwargs["dim"] = dim(draw, len(x.shape), none=none, multiple=multiple,
                                empty_tuple=empty_tuple)
            if keepdim and draw(st.booleans()):
                kwargs["keepdim"] = draw(st.booleans())
        if extra is not None:
            kwargs.update(extra(draw))
        return (x,), kwargs
    return build


def var_extra(draw):
    pick = draw(st.sampled_from(["none", "unbiased", "correction"]))
    if pick == "unbiased":
        return {"unbiased": draw(st.booleans())}
    if pick == "correction":
        return {"correction": draw(st.sampled_from([0, 1, 2]))}
    return {}


def norm_extra(draw):
    return {"p": draw(st.sampled_from([2, 1, float("inf"), 3, 0.5]))} if draw(st.booleans()) \
        else {}


# ---------------------------------------------------------------------------------------------
# movement
# ---------------------------------------------------------------------------------------------

def _factor_shape(draw, numel, max_dims=4):
    """A random shape with ``numel`` elements (zero-size: some side 0)."""
    if numel == 0:
        shp = list(shape(draw, min_dims=1, max_dims=max_dims, max_side=3))
        shp[draw(st.integers(0, len(shp) - 1))] = 0
        return shp
    sides, rest = [], numel
    for _ in range(draw(st.integers(0, max_dims - 1))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        side = draw(st.sampled_from(divisors))
        sides.append(side)
        rest //= side
    sides.append(rest)
    order = draw(st.permutations(range(len(sides))))
    return [sides[i] for i in order] if numel != 1 or draw(st.booleans()) else []


def reshape_args(draw):
    x = tensor(draw, dtypes=ALL)
    numel = int(np.prod(x.shape))
    target = _factor_shape(draw, numel)
    if target and chance(draw, 3):
        target[draw(st.integers(0, len(target) - 1))] = -1
    if chance(draw, 6):                                     # hostile
        hostile = draw(st.sampled_from(["numel", "two-unknown", "negative", "float"]))
        target = {"numel": target + [2], "two-unknown": [-1, -1] + target,
                  "negative": [-2] + target, "float": [float(numel)]}[hostile]
    return (x, tuple(target)), {}


def transpose_args(draw):
    x = tensor(draw, dtypes=ALL)
    return (x, dim(draw, len(x.shape)), dim(draw, len(x.shape))), {}


def permute_args(draw):
    x = tensor(draw, dtypes=ALL)
    order = list(draw(st.permutations(range(len(x.shape)))))
    order = [d - len(order) if draw(st.booleans()) else d for d in order]
    if chance(draw, 6):
        order = draw(st.sampled_from([order + [0], order[:-1], [0] * len(order),
                                      [len(order)] + order[1:]]))
    return (x, tuple(order)), {}


def squeeze_args(draw):
    x = tensor(draw, dtypes=ALL, max_side=2)
    return ((x,), {}) if chance(draw, 3) else ((x, dim(draw, len(x.shape), multiple=True)), {})


def unsqueeze_args(draw):
    x = tensor(draw, dtypes=ALL)
    n = len(x.shape) + 1
    d = draw(st.integers(-n, n - 1)) if not chance(draw, 6) else draw(
        st.sampled_from([n, -n - 1, 1.0]))
    return (x, d), {}


def flatten_args(draw):
    x = tensor(draw, dtypes=ALL)
    kwargs = {}
    if draw(st.booleans()):
        kwargs["start_dim"] = dim(draw, len(x.shape))
    if draw(st.booleans()):
        kwargs["end_dim"] = dim(draw, len(x.shape))
    return (x,), kwargs


def expand_args(draw):
    x = tensor(draw, dtypes=ALL, max_side=3)
    target = [draw(st.sampled_from([s, 3, -1])) if s == 1 else draw(st.sampled_from([s, -1]))
              for s in x.shape]
    target = [draw(st.integers(0, 3)) for _ in range(draw(st.integers(0, 2)))] + target
    if chance(draw, 6):
        target = draw(st.sampled_from([target[1:], [-2] + target, [s + 1 for s in x.shape],
                                       [2.0] + target]))
    return (x, tuple(target)), {}


def repeat_args(draw):
    x = tensor(draw, dtypes=ALL, max_side=3)
    reps = [draw(st.integers(0, 3)) for _ in range(len(x.shape) + draw(st.integers(0, 2)))]
    if chance(draw, 6):
        reps = draw(st.sampled_from([reps[1:], [-1] + reps, [2.0] + reps]))
    return (x, tuple(reps)), {}


def tensor_list(same_shape):
    """cat (``same_shape=False``: sizes may differ along ``dim``) and stack arguments."""
    def build(draw):
        base = list(shape(draw, min_dims=0 if same_shape else 1, max_dims=3, max_side=3))
        n = len(base) + (1 if same_shape else 0)
        d = dim(draw, n)
        tensors = []
        for _ in range(draw(st.integers(1, 3)) if not chance(draw, 12) else 0):
            shp = list(base)
            if not same_shape and isinstance(d, int) and -len(shp) <= d < len(shp):
                shp[d] = draw(st.integers(0, 3))
            if chance(draw, 10):                                      # hostile
                shp = list(shape(draw, max_dims=3, max_side=3))
            tensors.append(tensor(draw, shp, dtypes=NUMERIC))
        return (tensors,), {"dim": d}
    return build


def split_args(draw):
    x = tensor(draw, dtypes=NUMERIC, min_dims=1)
    d = dim(draw, len(x.shape))
    size = x.shape[d] if isinstance(d, int) and -len(x.shape) <= d < len(x.shape) else 3
    if draw(st.booleans()):
        how = size_arg(draw, draw(st.integers(1, max(size, 1))))
    else:
        cut = sorted(draw(st.lists(st.integers(0, size), max_size=3)))
        how = [b - a for a, b in zip([0] + cut, cut + [size])]
        if chance(draw, 6):
            how = how + [1]
    return (x, how), {"dim": d}


def chunk_args(draw):
    x = tensor(draw, dtypes=NUMERIC, min_dims=1)
    return (x, size_arg(draw, draw(st.integers(1, 4)))), {"dim": dim(draw, len(x.shape))}


def gather_args(draw):
    x = tensor(draw, dtypes=NUMERIC, min_dims=1)
    d = dim(draw, len(x.shape))
    span = max(len(x.shape), 1)
    axis = d % span if isinstance(d, int) and -span <= d < span else 0
    size = x.shape[axis] if x.shape else 1
    index_shape = [draw(st.integers(0 if s == 0 else 1, s)) if i != axis else
                   draw(st.integers(0, 4)) for i, s in enumerate(x.shape)]
    kind = f"index:{size}"
    index = tensor(draw, index_shape, dtypes=("int64",), kind=kind, grad=False, layouts=False)
    if chance(draw, 6):                                   # out of range or negative
        bad = index.base.copy()
        if bad.size:
            bad.flat[0] = draw(st.sampled_from([size, -1, -size - 1, size + 5]))
        index = type(index)(bad)
    return (x, d, index), {}


def index_args(draw):
    """x[idx] with idx built from ints, slices (steps > 0), None, Ellipsis, int tensors and
    bool masks."""
    x = tensor(draw, dtypes=ALL, min_dims=1)
    parts, axis = [], 0
    for _ in range(draw(st.integers(1, len(x.shape) + 1))):
        size = x.shape[axis] if axis < len(x.shape) else 1
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "array", "mask",
                                     "ellipsis"]))
        if kind == "int":
            parts.append(draw(st.integers(-size - 1, size)) if chance(draw, 4)
                         else draw(st.integers(-max(size, 1), max(size - 1, 0))))
        elif kind == "slice":
            parts.append(slice(draw(st.none() | st.integers(-size - 1, size + 1)),
                               draw(st.none() | st.integers(-size - 1, size + 1)),
                               draw(st.none() | st.integers(1, 3))))
        elif kind == "none":
            parts.append(None)
            continue
        elif kind == "ellipsis":
            if Ellipsis not in parts:
                parts.append(Ellipsis)
            continue
        elif kind == "array":
            parts.append(tensor(draw, shape(draw, max_dims=2, max_side=3), dtypes=("int64",),
                                kind=f"index:{size}", grad=False, layouts=False))
        else:
            mask_size = size if not chance(draw, 6) else size + 1
            parts.append(tensor(draw, (mask_size,), dtypes=("bool",), grad=False,
                                layouts=False))
        axis += 1
    idx = parts[0] if len(parts) == 1 and draw(st.booleans()) else tuple(parts)
    return (x, idx), {}


def topk_args(draw):
    x = tensor(draw, dtypes=NUMERIC, kind="distinct")
    d = dim(draw, len(x.shape))
    span = max(len(x.shape), 1)
    size = x.shape[d % span] if x.shape and isinstance(d, int) and -span <= d < span else 1
    k = size_arg(draw, draw(st.integers(0, size)))
    kwargs = {"dim": d}
    for flag in ("largest", "sorted"):
        if draw(st.booleans()):
            kwargs[flag] = draw(st.booleans())
    return (x, k), kwargs


def sort_args(draw):
    x = tensor(draw, dtypes=NUMERIC, kind="distinct")
    kwargs = {}
    if draw(st.booleans()):
        kwargs["dim"] = dim(draw, len(x.shape))
    if draw(st.booleans()):
        kwargs["descending"] = draw(st.booleans())
    return (x,), kwargs


# ---------------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------------

def matmul_args(draw):
    """1-D, 2-D and batched operands (batch dims broadcast), zero-size dims included; one time
    in eight inner sizes that differ."""
    m, k, n = (draw(st.integers(0, 4)) for _ in range(3))
    batch_a, batch_b = broadcast_shapes(draw, max_dims=2)
    ka = k
    kb = k if not chance(draw, 8) else k + 1
    rank_a, rank_b = draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([1, 2, 3]))
    sa = (ka,) if rank_a == 1 else (*batch_a[:rank_a - 2], m, ka)
    sb = (kb,) if rank_b == 1 else (*batch_b[:rank_b - 2], kb, n)
    dtypes = FLOAT if not chance(draw, 8) else NUMERIC + ("float16",)
    dtype = draw(st.sampled_from(dtypes))
    a = tensor(draw, sa, dtypes=(dtype,))
    b = tensor(draw, sb, dtypes=(dtype,) if not chance(draw, 10) else FLOAT)
    return (a, b), {}


# ---------------------------------------------------------------------------------------------
# nn.functional
# ---------------------------------------------------------------------------------------------

def softmax_args(draw):
    x = tensor(draw, dtypes=FLOAT16 + ("int64",))
    kwargs = {"dim": dim(draw, len(x.shape))}
    if chance(draw, 4):
        kwargs["dtype"] = Dtype(draw(st.sampled_from(["float32", "float64"])))
    return (x,), kwargs


def cross_entropy_args(draw):
    """Logits (C,), (N, C) or (N, C, d1); targets as class indices (with ignore_index) or
    class probabilities; optional weight, label_smoothing, reduction."""
    n, c = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    logits_shape = (c,) if chance(draw, 6) else (n, c, *extra)
    target_shape = () if len(logits_shape) == 1 else (n, *extra)
    logits = tensor(draw, logits_shape, dtypes=FLOAT)
    kwargs = {}
    if draw(st.booleans()):                                       # class probabilities
        target = tensor(draw, logits_shape, kind="unit", grad=False,
                        dtypes=(logits.dtype.name,) if not chance(draw, 8) else FLOAT)
    else:
        target = tensor(draw, target_shape, dtypes=("int64",), kind=f"index:{c}", grad=False,
                        layouts=False)
        if draw(st.booleans()):
            ignore = draw(st.sampled_from([0, c - 1, -100, -1]))
            kwargs["ignore_index"] = ignore
            if chance(draw, 2) and target.base.size:              # some (or all) ignored
                base = target.base.copy()
                base[np.random.default_rng(draw(st.integers(0, 99))).random(base.shape)
                     < draw(st.sampled_from([0.5, 1.0]))] = ignore
                target = type(target)(base)
        if chance(draw, 8) and target.base.size:                  # class out of range
            base = target.base.copy()
            base.flat[0] = draw(st.sampled_from([c, -2]))
            target = type(target)(base)
    if chance(draw, 3):
        kwargs["weight"] = tensor(draw, (c,), dtypes=(logits.dtype.name,), kind="positive",
                                  layouts=False, grad=False)     # PyTorch: no weight grad
    if chance(draw, 3):
        kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0, -0.1, 1.5]))
    if draw(st.booleans()):
        kwargs["reduction"] = draw(st.sampled_from(["mean", "sum", "none", "avg"]))
    if chance(draw, 12):
        target = tensor(draw, (n + 1,), dtypes=("int64",), kind=f"index:{c}", grad=False)
    return (logits, target), kwargs


def nll_loss_args(draw):
    n, c = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    logp = tensor(draw, (n, c, *extra), dtypes=FLOAT)
    target = tensor(draw, (n, *extra), dtypes=("int64",), kind=f"index:{c}", grad=False,
                    layouts=False)
    kwargs = {}
    if draw(st.booleans()):
        kwargs["ignore_index"] = draw(st.sampled_from([0, -100]))
    if chance(draw, 3):
        kwargs["weight"] = tensor(draw, (c,), dtypes=(logp.dtype.name,), kind="positive",
                                  layouts=False, grad=False)
    if draw(st.booleans()):
        kwargs["reduction"] = draw(st.sampled_from(["mean", "sum", "none"]))
    if chance(draw, 8) and target.base.size:
        base = target.base.copy()
        base.flat[0] = draw(st.sampled_from([c, -2]))
        target = type(target)(base)
    return (logp, target), kwargs


def mse_args(draw):
    sa, sb = broadcast_shapes(draw) if chance(draw, 4) else ((s := shape(draw)), s)
    kwargs = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))} \
        if draw(st.booleans()) else {}
    dtypes = FLOAT if not chance(draw, 8) else ("int64",)
    return (tensor(draw, sa, dtypes=dtypes), tensor(draw, sb, dtypes=dtypes)), kwargs


def linear_args(draw):
    batch = shape(draw, max_dims=2, max_side=3)
    fan_in, fan_out = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    dtype = draw(st.sampled_from(FLOAT))
    x = tensor(draw, (*batch, fan_in), dtypes=(dtype,))
    w_in = fan_in if not chance(draw, 8) else fan_in + 1
    w = tensor(draw, (fan_out, w_in) if not chance(draw, 12) else (w_in,), dtypes=(dtype,))
    bias = tensor(draw, (fan_out,), dtypes=(dtype,)) if draw(st.booleans()) else None
    return (x, w, bias), {}


def _hyper(draw, low, high):
    """An int or a pair for stride/padding/dilation/kernel_size; hostile one time in eight:
    a float, a triple, zero or negative."""
    if chance(draw, 8):
        return draw(st.sampled_from([1.5, 2.0, (1, 1, 1), low - 1, -1, (low, 1.0)]))
    if draw(st.booleans()):
        return draw(st.integers(low, high))
    return (draw(st.integers(low, high)), draw(st.integers(low, high)))


def conv2d_args(draw):
    n, groups = draw(st.integers(0, 2)), draw(st.sampled_from([1, 1, 2]))
    c_in, f = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from(FLOAT if not chance(draw, 8) else ("float16",)))
    x_shape = (n, c_in, h, w) if not chance(draw, 10) else (c_in, h, w)
    x = tensor(draw, x_shape, dtypes=(dtype,))
    weight = tensor(draw, (f, c_in // groups if not chance(draw, 10) else c_in + 1, kh, kw),
                    dtypes=(dtype,))
    bias = tensor(draw, (f,), dtypes=(dtype,)) if draw(st.booleans()) else None
    kwargs = {"stride": _hyper(draw, 1, 2), "padding": _hyper(draw, 0, 2),
              "dilation": _hyper(draw, 1, 2)}
    if groups > 1:
        kwargs["groups"] = groups
    return (x, weight, bias), kwargs


def pool2d_args(avg):
    def build(draw):
        x_shape = (draw(st.integers(0, 2)), draw(st.integers(0, 2)), draw(st.integers(1, 6)),
                   draw(st.integers(1, 6)))
        if chance(draw, 10):
            x_shape = x_shape[1:]
        x = tensor(draw, x_shape, dtypes=FLOAT16 if avg else FLOAT16 + ("int64",),
                   kind="distinct")
        kwargs = {"kernel_size": _hyper(draw, 1, 3)}
        if draw(st.booleans()):
            kwargs["stride"] = _hyper(draw, 1, 3)
        if draw(st.booleans()):
            kwargs["padding"] = _hyper(draw, 0, 1)
        if draw(st.booleans()):
            kwargs["ceil_mode"] = draw(st.booleans())
        if avg and draw(st.booleans()):
            kwargs["count_include_pad"] = draw(st.booleans())
        if not avg and draw(st.booleans()):
            kwargs["dilation"] = _hyper(draw, 1, 2)
        return (x,), kwargs
    return build


def layer_norm_args(draw):
    x = tensor(draw, dtypes=FLOAT, min_dims=1)
    k = draw(st.integers(1, len(x.shape)))
    normalized = tuple(x.shape[len(x.shape) - k:])
    if chance(draw, 8):
        normalized = (normalized[0] + 1,) + normalized[1:]
    weight = tensor(draw, normalized, dtypes=(x.dtype.name,), layouts=False) \
        if draw(st.booleans()) else None
    bias = tensor(draw, normalized, dtypes=(x.dtype.name,), layouts=False) \
        if draw(st.booleans()) else None
    eps = draw(st.sampled_from([1e-5, 1e-3]))
    return (x, list(normalized) if chance(draw, 4) else normalized, weight, bias, eps), {}


def embedding_args(draw):
    num, width = draw(st.integers(1, 5)), draw(st.integers(0, 3))
    idx_kind = f"index:{num}"
    idx = tensor(draw, shape(draw, max_dims=2, max_side=3), dtypes=("int64",), kind=idx_kind,
                 grad=False, layouts=False)
    if chance(draw, 6) and idx.base.size:
        base = idx.base.copy()
        base.flat[0] = draw(st.sampled_from([num, -1]))
        idx = type(idx)(base)
    weight = tensor(draw, (num, width), dtypes=FLOAT, layouts=False)
    kwargs = {"padding_idx": draw(st.integers(0, num - 1))} if chance(draw, 3) else {}
    return (idx, weight), kwargs


def dropout_args(draw):
    x = tensor(draw, dtypes=FLOAT)
    p = 0.0 if not chance(draw, 6) else draw(st.sampled_from([-0.1, 1.5]))
    return (x,), {"p": p, "training": draw(st.booleans())}



# ---------------------------------------------------------------------------------------------
# factories
# ---------------------------------------------------------------------------------------------

def arange_args(draw):
    number = st.sampled_from([0, 1, 3, -2, 5, 0.5, 2.5, -1.5])
    args = [draw(number) for _ in range(draw(st.integers(1, 3)))]
    if len(args) == 3 and chance(draw, 4):
        args[2] = 0                                               # step 0
    kwargs = {"dtype": Dtype(draw(st.sampled_from(NUMERIC)))} if chance(draw, 3) else {}
    return tuple(args), kwargs


def sizes_args(draw):
    sizes = list(shape(draw, max_dims=3))
    if chance(draw, 5):
        sizes = sizes + [draw(st.sampled_from([-1, 2.0, None]))]
    form = (tuple(sizes),) if draw(st.booleans()) else tuple(sizes)
    kwargs = {"dtype": Dtype(draw(st.sampled_from(FLOAT)))} if chance(draw, 3) else {}
    return form, kwargs


# ---------------------------------------------------------------------------------------------
# modules: init= (constructor keywords), seed= (parameter values), forward= (call keywords)
# ---------------------------------------------------------------------------------------------

def _feature(draw, low=1, high=4):
    """A layer size; hostile one time in ten: 0, negative or a float."""
    return draw(st.integers(low, high)) if not chance(draw, 10) else draw(
        st.sampled_from([0, -1, 2.0]))


def _module_kwargs(draw, init, forward=None):
    init = dict(init)
    if chance(draw, 3):
        init["dtype"] = Dtype("float64")
    kwargs = {"seed": draw(st.integers(0, 2 ** 16)), "init": init}
    if forward:
        kwargs["forward"] = forward
    return kwargs


def _module_dtype(init):
    return (init["dtype"].name,) if "dtype" in init else ("float32",)


def linear_module_args(draw):
    fan_in, fan_out = _feature(draw, 0), _feature(draw, 0)
    init = {"in_features": fan_in, "out_features": fan_out, "bias": draw(st.booleans())}
    kwargs = _module_kwargs(draw, init)
    width = fan_in if isinstance(fan_in, int) and fan_in >= 0 and not chance(draw, 10) else 2
    x = tensor(draw, (*shape(draw, max_dims=2, max_side=3), width),
               dtypes=_module_dtype(kwargs["init"]))
    return (x,), kwargs


def conv2d_module_args(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    init = {"in_channels": c_in if not chance(draw, 10) else -1, "out_channels": c_out,
            "kernel_size": _hyper(draw, 1, 3), "groups": groups, "bias": draw(st.booleans())}
    if draw(st.booleans()):
        init["stride"] = _hyper(draw, 1, 2)
    if draw(st.booleans()):
        init["padding"] = draw(st.sampled_from(["same", "valid"])) if chance(draw, 3) else \
            _hyper(draw, 0, 2)
    if draw(st.booleans()):
        init["dilation"] = _hyper(draw, 1, 2)
    if chance(draw, 3):
        init["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate",
                                                     "circular"]))
    kwargs = _module_kwargs(draw, init)
    x_shape = (draw(st.integers(0, 2)), c_in, draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    if chance(draw, 6):
        x_shape = x_shape[1:]
    return (tensor(draw, x_shape, dtypes=_module_dtype(kwargs["init"])),), kwargs


def lstm_module_args(draw):
    size_in, hidden = _feature(draw), _feature(draw)
    init = {"input_size": size_in, "hidden_size": hidden,
            "num_layers": draw(st.integers(1, 2)) if not chance(draw, 10) else 0,
            "bias": draw(st.booleans()), "batch_first": draw(st.booleans()),
            "bidirectional": draw(st.booleans())}
    if chance(draw, 5) and isinstance(hidden, int) and hidden > 1:
        init["proj_size"] = draw(st.integers(1, hidden - 1))
    kwargs = _module_kwargs(draw, init)
    dtypes = _module_dtype(kwargs["init"])
    steps, batch = draw(st.integers(0, 4)), draw(st.integers(0, 3))
    width = size_in if isinstance(size_in, int) and size_in > 0 and not chance(draw, 10) else 2
    unbatched = chance(draw, 5)
    x_shape = ((steps, width) if unbatched else
               (batch, steps, width) if init["batch_first"] else (steps, batch, width))
    args = (tensor(draw, x_shape, dtypes=dtypes),)
    if chance(draw, 3) and isinstance(hidden, int) and hidden > 0:
        layers = init["num_layers"] * (2 if init["bidirectional"] else 1)
        h_size = init.get("proj_size", hidden)
        state = (layers, h_size) if unbatched else (layers, batch, h_size)
        cell = (layers, hidden) if unbatched else (layers, batch, hidden)
        args += ((tensor(draw, state, dtypes=dtypes, layouts=False),
                  tensor(draw, cell, dtypes=dtypes, layouts=False)),)
    return args, kwargs


def mha_module_args(draw):
    heads = draw(st.integers(1, 3))
    embed = heads * draw(st.integers(1, 3)) if not chance(draw, 8) else heads * 2 + 1
    kdim = draw(st.sampled_from([None, 2, 3]))
    vdim = draw(st.sampled_from([None, 2, 3]))
    init = {"embed_dim": embed, "num_heads": heads, "bias": draw(st.booleans()),
            "batch_first": draw(st.booleans()), "kdim": kdim, "vdim": vdim}
    if chance(draw, 4):
        init["add_bias_kv"] = True
    if chance(draw, 4):
        init["add_zero_attn"] = True
    batch, target, source = draw(st.integers(1, 3)), draw(st.integers(1, 4)), \
        draw(st.integers(1, 4))
    forward = {}
    if draw(st.booleans()):
        forward["need_weights"] = draw(st.booleans())
    if forward.get("need_weights", True) and draw(st.booleans()):
        forward["average_attn_weights"] = draw(st.booleans())
    kwargs = _module_kwargs(draw, init)
    dtypes = _module_dtype(kwargs["init"])

    def sequence(length, width):
        return tensor(draw, (batch, length, width) if init["batch_first"] else
                      (length, batch, width), dtypes=dtypes)
    query = sequence(target, embed)
    key, value = sequence(source, kdim or embed), sequence(source, vdim or embed)
    if chance(draw, 3):
        mask = np.zeros((batch, source), dtype=bool)
        mask[:, -1] = draw(st.booleans())                          # never every key masked
        forward["key_padding_mask"] = type(query)(mask)
    if chance(draw, 3):
        mask = np.triu(np.ones((target, source), dtype=bool), 1)
        mask[:, 0] = False
        forward["attn_mask"] = type(query)(mask)
    if forward:
        kwargs["forward"] = forward
    return (query, key, value), kwargs


def scatter_add_args(draw):
    x = tensor(draw, dtypes=FLOAT, min_dims=1, max_side=4)
    d = dim(draw, len(x.shape))
    span = len(x.shape)
    axis = d % span if isinstance(d, int) and -span <= d < span else 0
    index_shape = tuple(draw(st.integers(0, s)) if i != axis else draw(st.integers(0, 3))
                        for i, s in enumerate(x.shape))
    index = tensor(draw, index_shape, dtypes=("int64",), kind=f"index:{x.shape[axis]}",
                   grad=False, layouts=False)
    if chance(draw, 6) and index.base.size:
        bad = index.base.copy()
        bad.flat[0] = draw(st.sampled_from([x.shape[axis], -1, x.shape[axis] + 3]))
        index = type(index)(bad)
    src = tensor(draw, index_shape, dtypes=(x.dtype.name,))
    return (x, d, index, src), {}


def adaptive_pool_args(draw):
    x_shape = (draw(st.integers(0, 2)), draw(st.integers(0, 2)), draw(st.integers(0, 5)),
               draw(st.integers(0, 5)))
    if chance(draw, 6):
        x_shape = x_shape[1:]
    x = tensor(draw, x_shape, dtypes=FLOAT)
    size = draw(st.sampled_from([1, 2, 3, (2, 1), (None, 2), 0, -1, 1.5]))
    return (x, size), {}
