"""Property-based tests (hypothesis): random shapes, broadcasting, reductions and slices,
compared with NumPy, forward and backward."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5)


def _values(shape, seed):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape)


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4),
       st.sampled_from(["add", "sub", "mul", "div"]), st.integers(0, 2 ** 16))
def test_broadcast_arithmetic_matches_numpy_and_reduces_gradients(shapes2, op, seed):
    (sa, sb), out_shape = shapes2.input_shapes, shapes2.result_shape
    a_np, b_np = _values(sa, seed), _values(sb, seed + 1)
    if op == "div":
        b_np = np.where(np.abs(b_np) < 0.2, 0.5, b_np)
    a = mg.tensor(a_np, requires_grad=True)
    b = mg.tensor(b_np, requires_grad=True)
    out = getattr(mg, op)(a, b)
    expected = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
                "div": np.divide}[op](a_np, b_np)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)
    assert out.shape == out_shape
    g = _values(out_shape, seed + 2)
    out.backward(mg.tensor(g))
    assert a.grad.shape == sa and b.grad.shape == sb
    # the gradient of a broadcast input is the output gradient summed over the copies
    if op == "add":
        np.testing.assert_allclose(a.grad.numpy(), _sum_to(g, sa), rtol=1e-12)
        np.testing.assert_allclose(b.grad.numpy(), _sum_to(g, sb), rtol=1e-12)
    if op == "mul":
        np.testing.assert_allclose(a.grad.numpy(), _sum_to(g * np.broadcast_to(b_np, out_shape),
                                                           sa), rtol=1e-10)


def _sum_to(g, shape):
    while g.ndim > len(shape):
        g = g.sum(0)
    for i, s in enumerate(shape):
        if s == 1 and g.shape[i] != 1:
            g = g.sum(i, keepdims=True)
    return g


@st.composite
def array_and_dims(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    dims = draw(st.one_of(st.none(), st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                              max_size=len(shape), unique=True)))
    keepdim = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 16))
    return shape, (tuple(dims) if dims is not None else None), keepdim, seed


@given(array_and_dims(), st.sampled_from(["sum", "mean", "amax", "amin", "var", "logsumexp"]))
def test_reductions_match_numpy(case, op):
    shape, dims, keepdim, seed = case
    x_np = _values(shape, seed)
    x = mg.tensor(x_np, requires_grad=True)
    axis = dims
    if op == "logsumexp":
        d = dims if dims is not None else tuple(range(len(shape)))
        out = mg.logsumexp(x, d, keepdim=keepdim)
        m = x_np.max(axis=d, keepdims=True)
        expected = np.log(np.exp(x_np - m).sum(axis=d, keepdims=True)) + m
        if not keepdim:
            expected = expected.squeeze(axis=d)
    elif op == "var":
        n = np.prod([shape[a] for a in (dims or range(len(shape)))])
        if n < 2:
            return
        out = x.var(dim=dims, keepdim=keepdim)
        expected = np.var(x_np, axis=axis, ddof=1, keepdims=keepdim)
    else:
        out = getattr(x, op)(dim=dims, keepdim=keepdim)
        npop = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[op]
        expected = npop(x_np, axis=axis, keepdims=keepdim)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    out.sum().backward()
    assert x.grad.shape == shape
    if op == "sum":
        np.testing.assert_allclose(x.grad.numpy(), np.ones(shape))
    if op == "mean":
        n = x_np.size / np.asarray(expected).size
        np.testing.assert_allclose(x.grad.numpy(), np.full(shape, 1 / n))


@st.composite
def sliced(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6))
    key = []
    for s in shape:
        kind = draw(st.sampled_from(["int", "slice", "full"]))
        if kind == "int":
            key.append(draw(st.integers(-s, s - 1)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-s, s)))
            stop = draw(st.one_of(st.none(), st.integers(-s, s)))
            step = draw(st.one_of(st.none(), st.sampled_from([1, 2, 3, -1, -2])))
            key.append(slice(start, stop, step))
        else:
            key.append(slice(None))
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), None)
    return shape, tuple(key), draw(st.integers(0, 2 ** 16))


@given(sliced())
def test_getitem_slices_match_numpy_and_scatter_gradient(case):
    shape, key, seed = case
    x_np = _values(shape, seed)
    x = mg.tensor(x_np, requires_grad=True)
    y = x[key]
    np.testing.assert_array_equal(y.detach().numpy(), x_np[key])
    g = _values(np.shape(x_np[key]), seed + 1)
    y.backward(mg.tensor(g))
    expected = np.zeros(shape)
    expected[key] += g
    np.testing.assert_allclose(x.grad.numpy(), expected)


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
       st.integers(0, 2 ** 16), st.integers(1, 12))
def test_integer_array_indexing_with_repeats(shape, seed, n):
    rng = np.random.default_rng(seed)
    idx = rng.integers(-shape[0], shape[0], size=n)
    x = mg.tensor(_values(shape, seed), requires_grad=True)
    x[mg.tensor(idx)].sum().backward()
    expected = np.zeros(shape)
    np.add.at(expected, idx, 1.0)
    np.testing.assert_allclose(x.grad.numpy(), expected)


@given(st.integers(1, 7), hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=5),
       hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4),
       st.sampled_from([np.float16, np.float32, np.float64, np.int64]), st.booleans(),
       st.integers(0, 2 ** 16))
def test_row_scatter_add_matches_add_at(rows, index_shape, row_shape, dtype, start_zero, seed):
    """The sorted, segmented row scatter (embedding backward, ``x[idx]``) against np.add.at:
    repeated and negative indices, index arrays of any shape, into zeros or into values."""
    from minigrad.ops.subscript import _indexes_rows, _scatter_add
    rng = np.random.default_rng(seed)
    idx = rng.integers(-rows, rows, size=index_shape)
    values = (rng.standard_normal(index_shape + row_shape) * 4).astype(dtype)
    out = (np.zeros if start_zero else np.ones)((rows,) + row_shape, dtype)
    assert _indexes_rows(out, (idx,), values)
    expected = out.copy()
    np.add.at(expected, (idx,), values)
    _scatter_add(out, (idx,), values)
    assert out.dtype == expected.dtype
    tol = {np.float16: 4e-3, np.float32: 1e-6, np.float64: 1e-13, np.int64: 0}[dtype]
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol * 8)
    assert np.array_equal(np.signbit(out[out == 0]), np.signbit(expected[out == 0]))


def test_embedding_backward_sums_repeated_rows():
    """Each row of the weight's gradient is the sum of the output gradients of the positions
    that picked it (random indices with repeats, float64, exact order-free check)."""
    rng = np.random.default_rng(5)
    idx = rng.integers(0, 11, size=(7, 9))
    g = rng.standard_normal((7, 9, 3))
    emb = mg.nn.Embedding(11, 3).double()
    emb(mg.tensor(idx)).backward(mg.tensor(g))
    expected = np.stack([g[idx == r].sum(0) for r in range(11)])
    np.testing.assert_allclose(emb.weight.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


@given(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), st.integers(0, 2 ** 16))
def test_permute_reshape_roundtrip(shape, seed):
    rng = np.random.default_rng(seed)
    perm = tuple(rng.permutation(len(shape)))
    x_np = _values(shape, seed)
    x = mg.tensor(x_np, requires_grad=True)
    y = x.permute(perm).reshape(-1)
    np.testing.assert_array_equal(y.detach().numpy(), np.transpose(x_np, perm).reshape(-1))
    y.backward(mg.tensor(np.arange(y.shape[0], dtype=np.float64)))
    expected = np.transpose(np.arange(x_np.size, dtype=np.float64).reshape(
        np.transpose(x_np, perm).shape), np.argsort(perm))
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4,
                                         base_shape=()), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 4), st.integers(0, 2 ** 16))
def test_batched_matmul_matches_numpy(batch, n, k, m, seed):
    sa, sb = batch.input_shapes
    a_np, b_np = _values(sa + (n, k), seed), _values(sb + (k, m), seed + 1)
    a, b = mg.tensor(a_np, requires_grad=True), mg.tensor(b_np, requires_grad=True)
    out = a @ b
    np.testing.assert_allclose(out.detach().numpy(), a_np @ b_np, rtol=1e-10)
    out.sum().backward()
    assert a.grad.shape == a_np.shape and b.grad.shape == b_np.shape
