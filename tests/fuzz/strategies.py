"""Hypothesis building blocks for the op table: shapes, tensors, dims, hostile arguments.

Every ``cases`` function of the table has the form ``draw -> (args, kwargs)`` and builds its
arguments from these. Values come from a NumPy generator seeded by a drawn integer (fast;
hypothesis shrinks the shapes, dims and flags, which is what makes a failure readable).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .harness import T

FLOAT = ("float32", "float64")
FLOAT16 = FLOAT + ("float16",)
NUMERIC = FLOAT + ("int64",)
ALL = NUMERIC + ("bool",)

# special float values mixed into "edge" tensors
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 1e-30])


def chance(draw, one_in: int) -> bool:
    """True about once in ``one_in`` draws (hypothesis shrinks it towards False)."""
    return draw(st.integers(0, one_in - 1)) == one_in - 1


def shape(draw, min_dims=0, max_dims=4, min_side=0, max_side=5):
    """A shape; zero-size sides appear about one time in eight per side."""
    ndim = draw(st.integers(min_dims, max_dims))
    sides = []
    for _ in range(ndim):
        side = 0 if (min_side == 0 and chance(draw, 8)) else draw(
            st.integers(max(min_side, 1), max_side))
        sides.append(side)
    return tuple(sides)


def broadcast_shapes(draw, n=2, max_dims=4):
    """``n`` shapes that broadcast together (one time in eight: two that may not)."""
    if chance(draw, 8):
        return tuple(shape(draw, max_dims=3, max_side=4) for _ in range(n))
    result = shape(draw, max_dims=max_dims, max_side=4)
    shapes = []
    for _ in range(n):
        ndim = draw(st.integers(0, len(result)))
        tail = result[len(result) - ndim:] if ndim else ()
        shapes.append(tuple(1 if draw(st.booleans()) and chance(draw, 3) else s for s in tail))
    return tuple(shapes)


def values(rng, shape, dtype, kind):
    """Values of ``kind``: "normal", "positive" (> 0.1), "distinct" (no ties), "edge" (mixes
    in 0, -0, +-1, +-inf, nan, +-1e30, 1e-30), "unit" (in (0, 1)), "index:N" (ints in
    [0, N))."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    if kind.startswith("index:"):
        return rng.integers(0, max(int(kind[6:]), 1), size=shape).astype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if kind == "distinct":
        ranks = rng.permutation(size).reshape(shape)
        scaled = (ranks - size // 2) if dtype.kind in "iu" else (ranks - size / 2) * 0.37 + 0.01
        return scaled.astype(dtype)
    if dtype.kind in "iu":
        low = 1 if kind in ("positive", "unit") else -5
        return rng.integers(low, 6, size=shape).astype(dtype)
    if kind == "positive":
        x = np.abs(rng.standard_normal(shape)) + 0.1
    elif kind == "unit":
        x = rng.uniform(0.05, 0.95, size=shape)
    else:
        x = rng.standard_normal(shape)
    if kind == "edge" and size:
        mask = rng.random(shape) < 0.4
        x = np.where(mask, rng.choice(SPECIAL, size=shape), x)
    with np.errstate(over="ignore"):
        return x.astype(dtype)


def tensor(draw, shp=None, dtypes=FLOAT, *, kind="normal", grad=None, layouts=True,
           edge=True, **shape_kwargs):
    """A T: shape ``shp`` (or drawn), dtype from ``dtypes``, values of ``kind`` (one time in
    eight "edge" when ``edge`` and the kind allows), a random layout (contiguous, transposed,
    every other element, expanded) when ``layouts``, requires_grad when float and ``grad``
    (drawn when None)."""
    shp = tuple(shp) if shp is not None else shape(draw, **shape_kwargs)
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    if edge and kind == "normal" and dtype.kind == "f" and chance(draw, 8):
        kind = "edge"
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    view = draw(st.sampled_from(_layouts(shp, kind))) if layouts else ()
    if view and view[0] == "transpose":
        d0, d1 = view[1], view[2]
        base_shape = list(shp)
        base_shape[d0], base_shape[d1] = base_shape[d1], base_shape[d0]
    elif view and view[0] == "step":
        base_shape = list(shp)
        base_shape[view[1]] = 2 * shp[view[1]]
    elif view and view[0] == "expand":
        base_shape = [1 if i in view[2] else s for i, s in enumerate(shp)]
        view = ("expand", shp)
    else:
        base_shape = shp
    base = values(rng, tuple(base_shape), dtype, kind)
    requires_grad = dtype.kind == "f" and (draw(st.booleans()) if grad is None else grad)
    return T(np.asarray(base), view, requires_grad)


def _layouts(shp, kind):
    options = [()]
    if len(shp) >= 2:
        options.append(("transpose", len(shp) - 2, len(shp) - 1))
        options.append(("transpose", 0, len(shp) - 1))
    if len(shp) >= 1:
        options.append(("step", 0))
        options.append(("step", len(shp) - 1))
    wide = [i for i, s in enumerate(shp) if s > 1]
    if wide and kind != "distinct":            # expanded dims repeat values: no ties allowed
        options.append(("expand", shp, tuple(wide[:1])))
        options.append(("expand", shp, tuple(wide)))
    return options


def dim(draw, ndim, *, none=False, multiple=False, hostile=True, empty_tuple=True):
    """A dim argument for a tensor of ``ndim`` dims: in range (negative too), None when
    ``none``, a tuple of dims when ``multiple``; one time in six (``hostile``) out of range, a
    float, a string or a tuple with a repeated dim."""
    span = max(ndim, 1)                       # a 0-d tensor accepts dim 0 and -1
    if hostile and chance(draw, 6):
        return draw(st.sampled_from([span, -span - 1, span + 3, 1.0, "0", (0, 0), [0, -span]]))
    if none and chance(draw, 3):
        return None
    if multiple and chance(draw, 3):
        return tuple(draw(st.lists(st.integers(-span, span - 1), min_size=int(not empty_tuple),
                                   max_size=max(ndim, 1),
                                   unique_by=lambda d: d % span)))
    return draw(st.integers(-span, span - 1))


def size_arg(draw, valid, *, hostile=True):
    """An int argument (a size, a count) usually ``valid``, one time in six hostile:
    negative, zero, a float, None or a string."""
    if hostile and chance(draw, 6):
        return draw(st.sampled_from([-1, -2, 0, float(valid), 2.5, None, "2"]))
    return valid


def maybe_wrong_type(draw, arg):
    """``arg``, or (one time in twelve) something of the wrong type in its place."""
    if chance(draw, 12):
        return draw(st.sampled_from(["x", None, [1.0, 2.0], 3.5]))
    return arg


def python_scalar(draw, dtypes=("float", "int", "bool")):
    kind = draw(st.sampled_from(dtypes))
    if kind == "float":
        return draw(st.sampled_from([0.5, -1.5, 2.0, 0.0]))
    if kind == "int":
        return draw(st.sampled_from([2, -3, 0, 1]))
    return draw(st.booleans())
