"""The scans, index ops, rearranging ops, pointwise functions, statistics and mg.linalg against
PyTorch: same inputs, same values, dtypes, shapes and gradients, over hypothesis-drawn shapes.

Float inputs are float64 so that values and gradients can be compared to 1e-10; the dtype
tests use float32 and integers.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

torch = pytest.importorskip("torch")

ATOL = 1e-10
shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)
seeds = st.integers(0, 2 ** 16)


def _values(shape, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def _pair(array, grad=True):
    """The same numbers as a minigrad Tensor and a torch tensor (float arrays may need grad)."""
    array = np.asarray(array)
    grad = grad and array.dtype.kind == "f"
    return (mg.tensor(array, dtype=array.dtype, requires_grad=grad),
            torch.tensor(array, requires_grad=grad))


def _torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def assert_same(out_m, out_t, atol=ATOL):
    """Values, shape and dtype of a minigrad result equal PyTorch's."""
    assert tuple(out_m.shape) == tuple(out_t.shape), (tuple(out_m.shape), tuple(out_t.shape))
    assert str(out_m.dtype) == _torch_dtype_name(out_t), (out_m.dtype, out_t.dtype)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=atol,
                               rtol=1e-7, equal_nan=True)


def compare(mg_fn, torch_fn, *arrays, grad=True, atol=ATOL, seed=0):
    """Run both functions on the same arrays (non-array arguments go in the lambdas); compare
    the outputs, then the gradients of every float input for a random upstream gradient."""
    pairs = [_pair(a, grad) for a in arrays]
    out_m = mg_fn(*[p[0] for p in pairs])
    out_t = torch_fn(*[p[1] for p in pairs])
    if isinstance(out_t, tuple):
        for m, tt in zip(out_m, out_t):
            assert_same(m, tt, atol)
        out_m, out_t = out_m[0], out_t[0]
    else:
        assert_same(out_m, out_t, atol)
    if not grad or not out_t.requires_grad:
        return
    up = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
    out_m.backward(mg.tensor(up))
    out_t.backward(torch.from_numpy(up))
    for i, (m, tt) in enumerate(pairs):
        if tt.grad is None and m.grad is None:
            continue
        # no gradient on one side is fine only where the other side's is zero
        g_m = m.grad.numpy() if m.grad is not None else np.zeros(m.shape)
        g_t = tt.grad.numpy() if tt.grad is not None else np.zeros(m.shape)
        np.testing.assert_allclose(g_m, g_t, atol=atol, rtol=1e-7,
                                   err_msg=f"gradient of input {i}")


def compare_second_derivative(mg_fn, torch_fn, array, seed=0):
    """d/dx of sum(v * dL/dx) for L = sum(w * f(x)): the create_graph path of f's backward."""
    rng = np.random.default_rng(seed)
    x_m, x_t = _pair(array)
    y_m, y_t = mg_fn(x_m), torch_fn(x_t)
    w = rng.standard_normal(tuple(y_t.shape))
    v = rng.standard_normal(array.shape)
    (g_m,) = mg.autograd.grad((y_m * mg.tensor(w)).sum(), x_m, create_graph=True)
    (g_t,) = torch.autograd.grad((y_t * torch.from_numpy(w)).sum(), x_t, create_graph=True)
    np.testing.assert_allclose(g_m.detach().numpy(), g_t.detach().numpy(), atol=ATOL)
    # a gradient that does not depend on x (a one-element cumprod) has second derivative 0
    h_m = mg.autograd.grad((g_m * mg.tensor(v)).sum(), x_m)[0].numpy() \
        if g_m.requires_grad else np.zeros(array.shape)
    h_t = torch.autograd.grad((g_t * torch.from_numpy(v)).sum(), x_t, allow_unused=True)[0] \
        if g_t.requires_grad else None
    h_t = np.zeros(array.shape) if h_t is None else h_t.numpy()
    np.testing.assert_allclose(h_m, h_t, atol=1e-9)


@st.composite
def shape_and_dim(draw):
    shape = draw(shapes)
    return shape, draw(st.integers(-len(shape), len(shape) - 1)), draw(seeds)


def _sprinkle_zeros(x, seed, fraction=0.3):
    x = x.copy()
    x[np.random.default_rng(seed + 1).random(x.shape) < fraction] = 0.0
    return x


# ---------------------------------------------------------------------------------------------
# Scans and products
# ---------------------------------------------------------------------------------------------

@given(shape_and_dim(), st.booleans())
def test_cumsum_cumprod(case, zeros):
    shape, dim, seed = case
    x = _values(shape, seed)
    if zeros:
        x = _sprinkle_zeros(x, seed)
    compare(lambda a: mg.cumsum(a, dim), lambda a: torch.cumsum(a, dim), x, seed=seed)
    compare(lambda a: mg.cumprod(a, dim), lambda a: torch.cumprod(a, dim), x, seed=seed)
    compare(lambda a: a.cumprod(dim=dim), lambda a: a.cumprod(dim=dim), x, seed=seed)


@given(shape_and_dim())
def test_cumprod_and_prod_second_derivative_with_zeros(case):
    shape, dim, seed = case
    x = _sprinkle_zeros(_values(shape, seed), seed, fraction=0.4)
    compare_second_derivative(lambda a: mg.cumprod(a, dim), lambda a: torch.cumprod(a, dim), x,
                              seed=seed)
    compare_second_derivative(lambda a: mg.prod(a, dim), lambda a: torch.prod(a, dim), x,
                              seed=seed)


@given(shape_and_dim(), st.booleans())
def test_prod_with_zeros(case, keepdim):
    shape, dim, seed = case
    x = _sprinkle_zeros(_values(shape, seed), seed)
    compare(lambda a: mg.prod(a, dim, keepdim), lambda a: torch.prod(a, dim, keepdim), x)
    compare(lambda a: a.prod(), lambda a: a.prod(), x)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.float32])
def test_scan_dtypes(dtype):
    x = np.array([[1, 0, 2], [3, 1, 1]]).astype(dtype)
    for fn in ("cumsum", "cumprod"):
        compare(lambda a, fn=fn: getattr(mg, fn)(a, 1), lambda a, fn=fn: getattr(torch, fn)(a, 1),
                x, grad=False)
        compare(lambda a, fn=fn: getattr(mg, fn)(a, 0, dtype=mg.float64),
                lambda a, fn=fn: getattr(torch, fn)(a, 0, dtype=torch.float64), x, grad=False)
    compare(mg.prod, torch.prod, x, grad=False)


# ---------------------------------------------------------------------------------------------
# Reading and writing at indices
# ---------------------------------------------------------------------------------------------

@given(shape_and_dim(), st.integers(0, 6))
def test_index_select_and_index_add(case, n_index):
    shape, dim, seed = case
    rng = np.random.default_rng(seed)
    x = _values(shape, seed)
    idx = rng.integers(0, shape[dim], n_index)
    compare(lambda a: mg.index_select(a, dim, mg.tensor(idx)),
            lambda a: torch.index_select(a, dim, torch.from_numpy(idx)), x)
    src_shape = list(shape)
    src_shape[dim] = n_index
    src = _values(tuple(src_shape), seed + 1)
    compare(lambda a, s: mg.index_add(a, dim, mg.tensor(idx), s, alpha=0.5),
            lambda a, s: torch.index_add(a, dim, torch.from_numpy(idx), s, alpha=0.5), x, src)
    compare(lambda a, s: a.index_add(dim, mg.tensor(idx), s),
            lambda a, s: a.index_add(dim, torch.from_numpy(idx), s), x, src)


@given(shape_and_dim(), st.data())
def test_take_along_dim_broadcasts(case, data):
    shape, dim, seed = case
    rng = np.random.default_rng(seed)
    # the index: any length along dim, and 1 or x's size in the other dims (both broadcast)
    i_shape = tuple(data.draw(st.integers(1, 4)) if d == dim % len(shape) else
                    data.draw(st.sampled_from([1, s])) for d, s in enumerate(shape))
    x_shape = tuple(s if d == dim % len(shape) or i_shape[d] == 1 else
                    data.draw(st.sampled_from([1, s])) for d, s in enumerate(shape))
    x = _values(x_shape, seed)
    idx = rng.integers(0, x_shape[dim], i_shape)
    compare(lambda a: mg.take_along_dim(a, mg.tensor(idx), dim),
            lambda a: torch.take_along_dim(a, torch.from_numpy(idx), dim), x)
    flat = rng.integers(0, x.size, (3,))
    compare(lambda a: mg.take_along_dim(a, mg.tensor(flat)),
            lambda a: torch.take_along_dim(a, torch.from_numpy(flat)), x)


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4), seeds)
def test_masked_select(shapes2, seed):
    sx, sm = shapes2.input_shapes
    x = _values(sx, seed)
    mask = np.asarray(np.random.default_rng(seed).random(sm) > 0.5)
    compare(lambda a: mg.masked_select(a, mg.tensor(mask)),
            lambda a: torch.masked_select(a, torch.from_numpy(mask)), x)


def _scatter_case(shape, dim, seed, distinct):
    """An index no larger than x (and src) with values < x.shape[dim]; ``distinct``: no
    position is written twice (scatter's result then does not depend on the write order)."""
    rng = np.random.default_rng(seed)
    dim = dim % len(shape)
    i_shape = tuple(int(rng.integers(1, s + 1)) for s in shape)
    if distinct:
        # along dim, the first entries of a random permutation of 0..size-1
        keys_shape = i_shape[:dim] + (shape[dim],) + i_shape[dim + 1:]
        idx = np.argsort(rng.random(keys_shape), axis=dim)
        idx = np.take(idx, np.arange(i_shape[dim]), axis=dim)
    else:
        idx = rng.integers(0, shape[dim], i_shape)
    return idx, i_shape


@given(shape_and_dim())
def test_scatter_src_and_value(case):
    shape, dim, seed = case
    idx, src_shape = _scatter_case(shape, dim, seed, distinct=True)
    x, src = _values(shape, seed), _values(src_shape, seed + 1)
    compare(lambda a, s: mg.scatter(a, dim, mg.tensor(idx), s),
            lambda a, s: torch.scatter(a, dim, torch.from_numpy(idx), s), x, src)
    compare(lambda a: mg.scatter(a, dim, mg.tensor(idx), value=-1.5),
            lambda a: torch.scatter(a, dim, torch.from_numpy(idx), value=-1.5), x)
    compare(lambda a: a.scatter(dim, mg.tensor(idx), 2.0),
            lambda a: a.scatter(dim, torch.from_numpy(idx), 2.0), x)
    # src larger than index: only its leading block is used (PyTorch's backward then fails
    # on the shape of src's gradient, so the values alone are compared)
    bigger = _values(tuple(s + 1 for s in src_shape), seed + 2)
    compare(lambda a, s: mg.scatter(a, dim, mg.tensor(idx), s),
            lambda a, s: torch.scatter(a, dim, torch.from_numpy(idx), s), x, bigger, grad=False)
    compare(lambda a, s: mg.scatter_reduce(a, dim, mg.tensor(idx), s, "sum"),
            lambda a, s: torch.scatter_reduce(a, dim, torch.from_numpy(idx), s, "sum"), x,
            bigger, grad=False)


@given(shape_and_dim(), st.sampled_from(["sum", "prod", "mean", "amax", "amin"]), st.booleans(),
       st.booleans())
def test_scatter_reduce(case, reduce, include_self, zeros):
    shape, dim, seed = case
    idx, src_shape = _scatter_case(shape, dim, seed, distinct=False)
    x, src = _values(shape, seed), _values(src_shape, seed + 1)
    if zeros and reduce == "prod":
        x, src = _sprinkle_zeros(x, seed), _sprinkle_zeros(src, seed + 2)
    compare(lambda a, s: mg.scatter_reduce(a, dim, mg.tensor(idx), s, reduce,
                                           include_self=include_self),
            lambda a, s: torch.scatter_reduce(a, dim, torch.from_numpy(idx), s, reduce,
                                              include_self=include_self), x, src)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_integers(reduce, include_self):
    x = np.array([[5, -3, 8, 1], [2, 7, -6, 4]])
    src = np.array([[3, -7, 2], [9, 1, -5]])
    idx = np.array([[0, 0, 2], [3, 3, 3]])
    compare(lambda a, s: mg.scatter_reduce(a, 1, mg.tensor(idx), s, reduce,
                                           include_self=include_self),
            lambda a, s: torch.scatter_reduce(a, 1, torch.from_numpy(idx), s, reduce,
                                              include_self=include_self), x, src, grad=False)


# ---------------------------------------------------------------------------------------------
# Rearranging
# ---------------------------------------------------------------------------------------------

@given(shape_and_dim(), st.integers(-7, 7), st.data())
def test_roll_narrow_select(case, shift, data):
    shape, dim, seed = case
    x = _values(shape, seed)
    compare(lambda a: mg.roll(a, shift, dim), lambda a: torch.roll(a, shift, dim), x)
    compare(lambda a: mg.roll(a, shift), lambda a: torch.roll(a, shift), x)
    dims = tuple(range(len(shape)))
    shifts = tuple(shift + d for d in dims)
    compare(lambda a: a.roll(shifts, dims), lambda a: a.roll(shifts, dims), x)
    size = shape[dim]
    start = data.draw(st.integers(-size, size))
    length = data.draw(st.integers(0, size - (start % size if start < 0 else start)))
    compare(lambda a: mg.narrow(a, dim, start, length),
            lambda a: torch.narrow(a, dim, start, length), x)
    index = data.draw(st.integers(-size, size - 1))
    compare(lambda a: mg.select(a, dim, index), lambda a: torch.select(a, dim, index), x)


@given(shapes, st.data())
def test_movedim_and_tile(shape, data):
    n = len(shape)
    k = data.draw(st.integers(1, n))
    source = data.draw(st.permutations(range(-n, 0)))[:k]
    destination = data.draw(st.permutations(range(n)))[:k]
    x = _values(shape, 0)
    compare(lambda a: mg.movedim(a, source, destination),
            lambda a: torch.movedim(a, source, destination), x)
    compare(lambda a: a.moveaxis(source[0], destination[0]),
            lambda a: a.moveaxis(source[0], destination[0]), x)
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=n + 1)))
    compare(lambda a: mg.tile(a, reps), lambda a: torch.tile(a, reps), x)
    compare(lambda a: a.tile(*reps), lambda a: a.tile(*reps), x)


@given(shape_and_dim(), st.booleans())
def test_repeat_interleave(case, per_element):
    shape, dim, seed = case
    x = _values(shape, seed)
    rng = np.random.default_rng(seed)
    if per_element:
        counts = rng.integers(0, 4, shape[dim])
        compare(lambda a: mg.repeat_interleave(a, mg.tensor(counts), dim),
                lambda a: torch.repeat_interleave(a, torch.from_numpy(counts), dim), x)
        np.testing.assert_array_equal(mg.repeat_interleave(mg.tensor(counts)).numpy(),
                                      torch.repeat_interleave(torch.from_numpy(counts)).numpy())
    else:
        compare(lambda a: a.repeat_interleave(3, dim=dim),
                lambda a: a.repeat_interleave(3, dim=dim), x)
        compare(lambda a: mg.repeat_interleave(a, 2), lambda a: torch.repeat_interleave(a, 2), x)


@given(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5), st.data())
def test_diagonal_tril_triu(shape, data):
    n = len(shape)
    dim1, dim2 = data.draw(st.lists(st.integers(-n, n - 1), min_size=2, max_size=2,
                                    unique_by=lambda d: d % n))
    offset = data.draw(st.integers(-5, 5))
    x = _values(shape, offset + 10)
    compare(lambda a: mg.diagonal(a, offset, dim1, dim2),
            lambda a: torch.diagonal(a, offset, dim1, dim2), x)
    compare(lambda a: mg.tril(a, offset), lambda a: torch.tril(a, offset), x)
    compare(lambda a: a.triu(offset), lambda a: a.triu(offset), x)


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
       st.lists(st.integers(1, 3), min_size=1, max_size=3), seeds)
def test_hstack_vstack(shape, sizes, seed):
    # hstack joins along dim 1 (dim 0 when 1-D), vstack along dim 0 (1-D tensors are rows)
    axis = 0 if len(shape) == 1 else 1
    parts = [shape[:axis] + (k,) + shape[axis + 1:] for k in sizes]
    arrays = [_values(p, seed + i) for i, p in enumerate(parts)]
    compare(lambda *a: mg.hstack(list(a)), lambda *a: torch.hstack(list(a)), *arrays)
    if len(shape) == 1:
        parts = [shape] * len(sizes) + [(2,) + shape]
    else:
        parts = [(k,) + shape[1:] for k in sizes]
    arrays = [_values(p, seed + i) for i, p in enumerate(parts)]
    compare(lambda *a: mg.vstack(a), lambda *a: torch.vstack(a), *arrays)


def test_hstack_vstack_of_scalars():
    compare(lambda a, b: mg.hstack([a, b]), lambda a, b: torch.hstack([a, b]),
            np.array(1.5), np.array(-2.0))
    compare(lambda a, b: mg.vstack([a, b]), lambda a, b: torch.vstack([a, b]),
            np.array(1.5), np.array(-2.0))


# ---------------------------------------------------------------------------------------------
# Pointwise
# ---------------------------------------------------------------------------------------------

UNARY = {
    "log2": (0.1, 5.0), "log10": (0.1, 5.0), "log1p": (-0.9, 5.0), "expm1": (-3.0, 3.0),
    "tan": (-1.3, 1.3), "erfc": (-4.0, 6.0), "erf": (-3.0, 3.0),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes, seed=seeds)
def test_unary(name, shape, seed):
    low, high = UNARY[name]
    x = _values(shape, seed, low, high)
    compare(getattr(mg, name), getattr(torch, name), x)
    compare(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), x)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_dtypes(name):
    for dtype in (np.int64, np.int32, np.bool_, np.float32):
        x = np.array([[1, 0], [0, 1]]).astype(dtype)
        compare(getattr(mg, name), getattr(torch, name), x, grad=False, atol=1e-6)


def test_log1p_expm1_erfc_accurate_in_the_tails():
    x32 = np.array([1e-8, -1e-7, 3e-5], dtype=np.float32)
    for fn in ("log1p", "expm1"):
        np.testing.assert_allclose(getattr(mg, fn)(mg.tensor(x32)).numpy(),
                                   getattr(torch, fn)(torch.from_numpy(x32)).numpy(), rtol=1e-6)
    x = np.array([5.0, 10.0, 26.0])
    np.testing.assert_allclose(mg.erfc(mg.tensor(x)).numpy(),
                               torch.erfc(torch.from_numpy(x)).numpy(), rtol=1e-13)


@pytest.mark.parametrize("name", ["atan2", "remainder", "fmod"])
@given(shapes2=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
       seed=seeds)
def test_binary(name, shapes2, seed):
    sa, sb = shapes2.input_shapes
    a, b = _values(sa, seed, -5, 5), _values(sb, seed + 1, 0.5, 2.0)
    b = b * np.where(np.random.default_rng(seed).random(sb) < 0.5, -1, 1)
    compare(getattr(mg, name), getattr(torch, name), a, b)
    if name != "atan2":     # PyTorch's atan2 takes tensors only
        compare(lambda x: getattr(mg, name)(x, 1.5), lambda x: getattr(torch, name)(x, 1.5), a)


@pytest.mark.parametrize("name", ["remainder", "fmod", "floor_divide", "atan2"])
def test_binary_dtypes(name):
    ints = np.array([7, -7, 5, -3])
    divisors = np.array([2, 2, -3, -2])
    mg_fn, torch_fn = getattr(mg, name), getattr(torch, name)
    compare(mg_fn, torch_fn, ints, divisors, grad=False)
    compare(mg_fn, torch_fn, ints.astype(np.float32), divisors, grad=False, atol=1e-6)
    compare(mg_fn, torch_fn, ints.astype(np.int32), divisors.astype(np.int16), grad=False)
    if name != "atan2":
        compare(lambda a: mg_fn(a, 2.5), lambda a: torch_fn(a, 2.5), ints, grad=False, atol=1e-6)
        compare(lambda a: mg_fn(a, 3), lambda a: torch_fn(a, 3), ints.astype(np.int32),
                grad=False)


def test_operators_mod_and_floordiv():
    a = np.array([[7.5, -7.5], [5.0, -3.25]])
    for op in (lambda x: x % 2, lambda x: x // 2, lambda x: 10 % x, lambda x: 10 // x):
        compare(op, op, a, grad=False)
    compare(lambda x: x % 2, lambda x: x % 2, np.array([7, -7]), grad=False)
    compare(lambda x: x // 2.5, lambda x: x // 2.5, np.array([7, -7]), grad=False, atol=1e-6)


@given(shapes2=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4),
       seed=seeds, value=st.sampled_from([1, 0.5, -2.0]))
def test_addcmul_addcdiv(shapes2, seed, value):
    s0, s1, s2 = shapes2.input_shapes
    x, t1, t2 = _values(s0, seed), _values(s1, seed + 1), _values(s2, seed + 2, 0.5, 2.0)
    for fn in ("addcmul", "addcdiv"):
        compare(lambda a, b, c, fn=fn: getattr(mg, fn)(a, b, c, value=value),
                lambda a, b, c, fn=fn: getattr(torch, fn)(a, b, c, value=value), x, t1, t2)


@given(shapes2=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
       seed=seeds)
def test_clamp_min_max(shapes2, seed):
    sa, sb = shapes2.input_shapes
    x, bound = _values(sa, seed), _values(sb, seed + 1)
    for fn in ("clamp_min", "clamp_max"):
        compare(lambda a, fn=fn: getattr(mg, fn)(a, 0.3), lambda a, fn=fn: getattr(torch, fn)(
            a, 0.3), x)
        compare(lambda a, b, fn=fn: getattr(mg, fn)(a, b),
                lambda a, b, fn=fn: getattr(torch, fn)(a, b), x, bound)


def test_nan_to_num():
    x = np.array([[np.nan, np.inf, -np.inf, 1.5], [0.0, -2.0, np.nan, np.inf]])
    compare(mg.nan_to_num, torch.nan_to_num, x)
    compare(lambda a: mg.nan_to_num(a, nan=1.0, posinf=9.0, neginf=-9.0),
            lambda a: torch.nan_to_num(a, nan=1.0, posinf=9.0, neginf=-9.0), x)
    compare(mg.nan_to_num, torch.nan_to_num, x.astype(np.float32), grad=False)
    compare(mg.nan_to_num, torch.nan_to_num, np.array([1, 2]), grad=False)


# ---------------------------------------------------------------------------------------------
# Products: einsum, mv, baddbmm
# ---------------------------------------------------------------------------------------------

EINSUM = [
    ("ij,jk->ik", [("i", "j"), ("j", "k")]),
    ("bij,bjk->bik", [("b", "i", "j"), ("b", "j", "k")]),
    ("ij,ij->", [("i", "j"), ("i", "j")]),
    ("ij->ji", [("i", "j")]),
    ("ii->i", [("i", "i")]),
    ("ii", [("i", "i")]),
    ("i,j", [("i",), ("j",)]),
    ("ijk,jl->kli", [("i", "j", "k"), ("j", "l")]),
    ("ij,j", [("i", "j"), ("j",)]),
    ("bii->b", [("b", "i", "i")]),
    ("a b , b c -> c a", [("a", "b"), ("b", "c")]),
    ("ab,bc,cd", [("a", "b"), ("b", "c"), ("c", "d")]),
    ("Ab,bC->AC", [("A", "b"), ("b", "C")]),
]


@pytest.mark.parametrize("equation,letters", EINSUM, ids=[e for e, _ in EINSUM])
@given(sizes=st.fixed_dictionaries({c: st.integers(1, 4) for c in "ijklbacdABC"}), seed=seeds)
def test_einsum(equation, letters, sizes, seed):
    arrays = [_values(tuple(sizes[c] for c in term), seed + i) for i, term in enumerate(letters)]
    compare(lambda *a: mg.einsum(equation, *a), lambda *a: torch.einsum(equation, *a), *arrays)


@given(hnp.mutually_broadcastable_shapes(signature="(m,n),(n,p)->(m,p)",
                                         max_dims=2, max_side=3), seeds)
def test_einsum_ellipsis(shapes2, seed):
    sa, sb = shapes2.input_shapes
    a, b = _values(sa, seed), _values(sb, seed + 1)
    compare(lambda x, y: mg.einsum("...ij,...jk->...ik", x, y),
            lambda x, y: torch.einsum("...ij,...jk->...ik", x, y), a, b)
    compare(lambda x, y: mg.einsum("...ij,...jk", [x, y]),
            lambda x, y: torch.einsum("...ij,...jk", [x, y]), a, b)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), seeds,
       st.sampled_from([(1, 1), (0.5, -2.0), (0, 1.5)]))
def test_mv_baddbmm(b, n, m, p, seed, coefficients):
    beta, alpha = coefficients
    compare(mg.mv, torch.mv, _values((n, m), seed), _values((m,), seed + 1))
    inputs = [_values((b, n, p), seed), _values((b, n, m), seed + 1), _values((b, m, p), seed + 2)]
    for shape in [(b, n, p), (p,), (n, 1)]:
        inputs[0] = _values(shape, seed)
        compare(lambda x, y, z: mg.baddbmm(x, y, z, beta=beta, alpha=alpha),
                lambda x, y, z: torch.baddbmm(x, y, z, beta=beta, alpha=alpha), *inputs)


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------

@given(shape_and_dim(), st.booleans(), st.sampled_from([0, 1, 2]))
def test_var_mean_std_mean(case, keepdim, correction):
    shape, dim, seed = case
    x = _values(shape, seed)
    # more elements than the correction, and a nonzero std (whose gradient divides by it)
    if shape[dim] > max(correction, 1):
        for fn in ("var_mean", "std_mean"):
            compare(lambda a, fn=fn: getattr(mg, fn)(a, dim, keepdim=keepdim,
                                                     correction=correction),
                    lambda a, fn=fn: getattr(torch, fn)(a, dim, keepdim=keepdim,
                                                        correction=correction), x)
    if x.size > 1:
        compare(lambda a: mg.var_mean(a, False), lambda a: torch.var_mean(a, False), x)
    if shape[dim] > 1:
        compare(lambda a: mg.std_mean(a, dim, True), lambda a: torch.std_mean(a, dim, True), x)


@given(shape_and_dim(), st.booleans())
def test_median(case, keepdim):
    shape, dim, seed = case
    x = _values(shape, seed)
    compare(mg.median, torch.median, x)
    compare(lambda a: mg.median(a, dim, keepdim).values,
            lambda a: torch.median(a, dim, keepdim).values, x)
    # distinct values: the index is the median's position, as in PyTorch
    np.testing.assert_array_equal(mg.median(mg.tensor(x), dim, keepdim).indices.numpy(),
                                  torch.median(torch.from_numpy(x), dim, keepdim).indices.numpy())


def test_median_ties_and_nan():
    x = np.array([[1.0, 2.0, 2.0, 2.0, 5.0], [3.0, 3.0, 1.0, 3.0, 5.0], [1.0, np.nan, 0.0, 2.0,
                                                                          3.0]])
    # the values and where the gradient goes (a tie in median(): shared evenly) match PyTorch;
    # with dim, a tied index may differ, but it points at the median value
    compare(lambda a: a[:2].median(), lambda a: a[:2].median(), x)
    compare(mg.median, torch.median, x)
    values, indices = mg.median(mg.tensor(x), 1)
    expected = torch.median(torch.from_numpy(x), 1)
    np.testing.assert_allclose(values.numpy(), expected.values.numpy(), equal_nan=True)
    picked = np.take_along_axis(x, indices.numpy()[:, None], 1)[:, 0]
    np.testing.assert_allclose(picked, expected.values.numpy(), equal_nan=True)
    assert indices.numpy()[2] == 1


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), seeds,
       st.booleans(), st.booleans())
def test_unique(shape, seed, return_inverse, return_counts):
    x = np.random.default_rng(seed).integers(0, 4, shape)
    kw = dict(return_inverse=return_inverse, return_counts=return_counts)
    for dim in [None] + list(range(len(shape))):
        out_m = mg.unique(mg.tensor(x), dim=dim, **kw)
        out_t = torch.unique(torch.from_numpy(x), dim=dim, **kw)
        out_m = out_m if isinstance(out_m, tuple) else (out_m,)
        out_t = out_t if isinstance(out_t, tuple) else (out_t,)
        assert len(out_m) == len(out_t)
        for m, tt in zip(out_m, out_t):
            assert_same(m, tt)
    assert_same(mg.tensor(x).unique(sorted=False), torch.from_numpy(x).unique(sorted=True))


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), seeds,
       st.sampled_from([{}, {"right": True}, {"side": "right"}, {"side": "left"},
                        {"out_int32": True}]), st.booleans())
def test_searchsorted(shape, seed, kw, one_dim):
    rng = np.random.default_rng(seed)
    seq = np.sort(rng.integers(0, 6, shape if not one_dim else shape[-1:]).astype(float), -1)
    values = rng.integers(-1, 7, shape[:-1] + (3,)).astype(float)
    if one_dim:
        values = values.reshape(-1)
    assert_same(mg.searchsorted(mg.tensor(seq), mg.tensor(values), **kw),
                torch.searchsorted(torch.from_numpy(seq), torch.from_numpy(values), **kw))
    shuffled = np.take_along_axis(seq, np.argsort(rng.random(seq.shape), -1), -1)
    sorter = np.argsort(shuffled, -1, kind="stable")
    assert_same(mg.searchsorted(mg.tensor(shuffled), mg.tensor(values), sorter=mg.tensor(sorter)),
                torch.searchsorted(torch.from_numpy(shuffled), torch.from_numpy(values),
                                   sorter=torch.from_numpy(sorter)))
    if one_dim:
        assert_same(mg.searchsorted(mg.tensor(seq), 2.0, **kw),
                    torch.searchsorted(torch.from_numpy(seq), 2.0, **kw))


# ---------------------------------------------------------------------------------------------
# mg.linalg
# ---------------------------------------------------------------------------------------------

ORDS = [2, 1, 3, 0.5, -1.5, 0, float("inf"), -float("inf")]


@pytest.mark.parametrize("ord_", ORDS)
@given(case=shape_and_dim(), keepdim=st.booleans(), all_dims=st.booleans())
def test_vector_norm(ord_, case, keepdim, all_dims):
    shape, dim, seed = case
    x = _values(shape, seed)
    dims = None if all_dims else dim
    if ord_ < 1:
        x = np.where(np.abs(x) < 0.1, 0.5, x)       # 1/|x|^(1-p) would overflow near 0
    compare(lambda a: mg.linalg.vector_norm(a, ord_, dims, keepdim),
            lambda a: torch.linalg.vector_norm(a, ord_, dims, keepdim), x)


def test_vector_norm_of_zeros_has_zero_gradient():
    x = np.zeros((2, 3))
    x[1] = [3.0, 0.0, -4.0]
    for ord_ in (2, 3, float("inf")):
        compare(lambda a, ord_=ord_: mg.linalg.vector_norm(a, ord_, dim=1),
                lambda a, ord_=ord_: torch.linalg.vector_norm(a, ord_, dim=1), x)


@pytest.mark.parametrize("ord_", ["fro", "nuc", 2, -2, 1, -1, float("inf"), -float("inf")])
@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4), seed=seeds,
       keepdim=st.booleans())
def test_matrix_norm(ord_, shape, seed, keepdim):
    x = _values(shape, seed)
    compare(lambda a: mg.linalg.matrix_norm(a, ord_, keepdim=keepdim),
            lambda a: torch.linalg.matrix_norm(a, ord_, keepdim=keepdim), x)
    dims = (0, -1)
    compare(lambda a: mg.linalg.norm(a, ord_, dims), lambda a: torch.linalg.norm(a, ord_, dims), x)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("ord_", ["nuc", 2, -2])
@pytest.mark.parametrize("dim", [(0, 2), (2, 0), (-1, 1)])
def test_singular_value_norms_over_any_two_dims(ord_, dim, keepdim):
    x = _values((3, 2, 4), 7)
    compare(lambda a: mg.linalg.matrix_norm(a, ord_, dim, keepdim),
            lambda a: torch.linalg.matrix_norm(a, ord_, dim, keepdim), x)
    compare_second_derivative(lambda a: mg.linalg.norm(a, ord_, dim, keepdim),
                              lambda a: torch.linalg.norm(a, ord_, dim, keepdim), x)
    if ord_ == "nuc":
        compare(lambda a: a.norm(p="nuc", dim=dim), lambda a: a.norm(p="nuc", dim=dim), x)
        compare(lambda a: mg.norm(a[0], p="nuc"), lambda a: torch.norm(a[0], p="nuc"), x)


SVD_SHAPES = [(1, 1), (3, 5), (5, 3), (4, 4), (2, 3, 4), (2, 4, 3), (3, 1), (2, 0, 3)]


def _svd_invariants(lib, full_matrices):
    """What an SVD determines whatever signs LAPACK picks for the singular vectors: S, U Vh
    and |U|, |Vh| (their first k = min(m, n) vectors), in one tensor."""
    def f(a):
        U, S, Vh = lib.linalg.svd(a, full_matrices=full_matrices)
        k = S.shape[-1]
        U, Vh = U[..., :k], Vh[..., :k, :]
        parts = [(U @ Vh).flatten(), S.flatten(), U.abs().flatten(), Vh.abs().flatten()]
        return lib.cat(parts)
    return f


@pytest.mark.parametrize("full_matrices", [True, False])
@pytest.mark.parametrize("shape", SVD_SHAPES, ids=str)
def test_svd(shape, full_matrices):
    x = _values(shape, 11)
    compare(_svd_invariants(mg, full_matrices), _svd_invariants(torch, full_matrices), x)
    if 0 not in shape:
        compare_second_derivative(_svd_invariants(mg, full_matrices),
                                  _svd_invariants(torch, full_matrices), x)
    U, S, Vh = mg.linalg.svd(mg.tensor(x), full_matrices=full_matrices)
    Ut, St, Vht = torch.linalg.svd(torch.from_numpy(x), full_matrices=full_matrices)
    assert (U.shape, S.shape, Vh.shape) == (Ut.shape, St.shape, Vht.shape)
    assert mg.linalg.svd(mg.tensor(x))._fields == ("U", "S", "Vh")


@pytest.mark.parametrize("shape", SVD_SHAPES, ids=str)
def test_svdvals(shape):
    x = _values(shape, 12)
    compare(mg.linalg.svdvals, torch.linalg.svdvals, x)
    if 0 not in shape:
        compare_second_derivative(mg.linalg.svdvals, torch.linalg.svdvals, x)


def test_svdvals_gradient_is_defined_at_repeated_singular_values():
    """An orthogonal matrix has every singular value 1: the gradient of their sum is still
    U Vh = Q (what PyTorch gives), where the full SVD's formula would divide by 0."""
    q = np.linalg.qr(np.random.default_rng(5).standard_normal((4, 4)))[0]
    compare(lambda a: mg.linalg.svdvals(a).sum(), lambda a: torch.linalg.svdvals(a).sum(), q)
    compare(lambda a: mg.linalg.matrix_norm(a, "nuc"),
            lambda a: torch.linalg.matrix_norm(a, "nuc"), q)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds)
def test_linalg_norm_defaults(shape, seed):
    x = _values(shape, seed)
    compare(mg.linalg.norm, torch.linalg.norm, x)
    compare(lambda a: mg.linalg.norm(a, keepdim=True), lambda a: torch.linalg.norm(
        a, keepdim=True), x)
    compare(lambda a: mg.linalg.norm(a, 3, -1), lambda a: torch.linalg.norm(a, 3, -1), x)
    if len(shape) <= 2:
        compare(lambda a: mg.linalg.norm(a, 1), lambda a: torch.linalg.norm(a, 1), x)


# ---------------------------------------------------------------------------------------------
# Methods, in-place variants, new_* constructors
# ---------------------------------------------------------------------------------------------

INPLACE = [
    ("cumsum_", (1,), {}), ("cumprod_", (0,), {}), ("tril_", (), {}), ("triu_", (1,), {}),
    ("clamp_min_", (0.1,), {}), ("clamp_max_", (-0.1,), {}), ("log1p_", (), {}),
    ("expm1_", (), {}), ("tan_", (), {}), ("erfc_", (), {}), ("erf_", (), {}),
    ("remainder_", (0.7,), {}), ("fmod_", (0.7,), {}), ("nan_to_num_", (), {}),
]


@pytest.mark.parametrize("name,args,kw", INPLACE, ids=[n for n, _, _ in INPLACE])
def test_inplace_methods(name, args, kw):
    x = _values((3, 4), 7, -0.9, 2.0)
    m, tt = mg.tensor(x), torch.tensor(x)
    alias_m = m
    assert getattr(m, name)(*args, **kw) is alias_m
    getattr(tt, name)(*args, **kw)
    assert_same(m, tt)


def test_inplace_index_and_scatter_methods():
    x, src = _values((3, 4), 1), _values((3, 4), 2)
    idx = np.array([[0, 2, 1, 0], [2, 1, 0, 1]])
    calls = [
        ("index_add_", lambda i, s: (1, i(np.array([3, 0, 3])), s[:, :3]), {"alpha": 2.0}),
        ("scatter_", lambda i, s: (0, i(idx), s), {}),
        ("scatter_", lambda i, s: (0, i(idx)), {"value": 4.0}),
        ("scatter_add_", lambda i, s: (0, i(idx), s), {}),
        ("scatter_reduce_", lambda i, s: (0, i(idx), s, "amax"), {"include_self": False}),
        ("log2_", lambda i, s: (), {}), ("log10_", lambda i, s: (), {}),
        ("atan2_", lambda i, s: (s,), {}), ("addcdiv_", lambda i, s: (s, s + 2), {"value": 2}),
        ("floor_divide_", lambda i, s: (0.3,), {}),
    ]
    for name, make_args, kw in calls:
        m, tt = mg.tensor(np.abs(x) + 0.1), torch.tensor(np.abs(x) + 0.1)
        getattr(m, name)(*make_args(mg.tensor, mg.tensor(src)), **kw)
        getattr(tt, name)(*make_args(torch.from_numpy, torch.from_numpy(src)), **kw)
        assert_same(m, tt)


def test_inplace_on_a_graph_node_records_the_op():
    x = _values((3, 4), 3)
    a_m, a_t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    outs = []
    for a in (a_m, a_t):
        y = a * 2
        y.cumsum_(1).clamp_min_(-0.5).addcmul_(a, a, value=0.5).tril_()
        outs.append(y)
    assert_same(*outs)
    up = np.random.default_rng(0).standard_normal((3, 4))
    outs[0].backward(mg.tensor(up))
    outs[1].backward(torch.from_numpy(up))
    np.testing.assert_allclose(a_m.grad.numpy(), a_t.grad.numpy(), atol=ATOL)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_new_constructors(dtype):
    x = np.ones((2, 3), dtype=dtype)
    m, tt = mg.tensor(x), torch.from_numpy(x)
    for name, args, kw in [("new_zeros", (2, 5), {}), ("new_ones", ((4,),), {}),
                           ("new_full", ((3, 1), 7), {}), ("new_empty", ((0, 2),), {}),
                           ("new_tensor", ([1, 2, 3],), {}),
                           ("new_zeros", ((2,),), {"dtype": mg.float64}),
                           ("new_full", ((2,), 1.5), {"dtype": mg.float32})]:
        tkw = {k: getattr(torch, str(np.dtype(v))) for k, v in kw.items()}
        out_m, out_t = getattr(m, name)(*args, **kw), getattr(tt, name)(*args, **tkw)
        if name == "new_empty":
            assert tuple(out_m.shape) == tuple(out_t.shape) and out_m.dtype == dtype
        else:
            assert_same(out_m, out_t)
    e = mg.empty_like(m)
    assert e.shape == m.shape and e.dtype == m.dtype
    assert mg.empty_like(m, dtype=mg.float64).dtype == np.float64


def test_method_signatures_match_pytorch():
    """The keyword names PyTorch's callers use work here too."""
    x = _values((3, 4), 5)
    m, tt = mg.tensor(x), torch.tensor(x)
    idx = np.array([[1, 0, 2, 1]])
    calls = [
        lambda a: a.cumsum(dim=0), lambda a: a.cumprod(dim=-1), lambda a: a.tril(diagonal=-1),
        lambda a: a.clamp_min(min=0.0), lambda a: a.clamp_max(max=0.0),
        lambda a: a.narrow(dim=1, start=1, length=2), lambda a: a.select(dim=1, index=2),
        lambda a: a.diagonal(offset=1, dim1=1, dim2=0),
        lambda a: a.movedim(source=0, destination=1), lambda a: a.roll(shifts=1, dims=0),
        lambda a: a.repeat_interleave(repeats=2, dim=0),
        lambda a: a.nan_to_num(nan=0.0, posinf=1.0, neginf=-1.0),
        lambda a: a.median(dim=0, keepdim=True).values,
        lambda a: a.index_select(dim=1, index=_int(a, [0, 0])),
        lambda a: a.take_along_dim(_int(a, idx), dim=0),
        lambda a: a.scatter_reduce(0, _int(a, idx), a, reduce="sum", include_self=False),
        lambda a: a.scatter(0, _int(a, idx), value=2.0),
        lambda a: a.index_add(1, _int(a, [2]), a[:, :1], alpha=3),
        lambda a: a.atan2(other=a), lambda a: a.remainder(other=2.0),
        lambda a: a.fmod(other=-2.0), lambda a: a.addcmul(a, a, value=2),
        lambda a: a[:, :3].baddbmm(a[None], a[None].mT, beta=0.5, alpha=2),
        lambda a: a.mv(vec=a[0]),
    ]
    for fn in calls:
        assert_same(fn(m), fn(tt))


def _int(like, values):
    values = np.asarray(values)
    return mg.tensor(values) if isinstance(like, mg.Tensor) else torch.from_numpy(values)
