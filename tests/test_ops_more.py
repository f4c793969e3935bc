"""The scans, index ops, rearranging ops, pointwise functions, statistics and mg.linalg without
PyTorch: bad input gets an error that names the op and the numbers, zeros get exact
gradients, the accurate functions stay accurate, and the methods and in-place forms exist.
(The comparisons with PyTorch are in test_ops_more_vs_torch.py.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg


def _x(*shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).uniform(-2, 2, size=shape))


def _leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------------------------------------
# Errors name the op and the numbers
# ---------------------------------------------------------------------------------------------

ERRORS = [
    # dims out of range
    (lambda: mg.cumsum(_x(3, 4), 2), IndexError, r"cumsum.*range of \[-2, 1\].*got 2"),
    (lambda: mg.cumprod(_x(3), -2), IndexError, r"cumprod.*got -2"),
    (lambda: mg.index_select(_x(3, 4), 5, mg.tensor([0])), IndexError, r"index_select.*got 5"),
    (lambda: mg.movedim(_x(2, 3), 0, 4), IndexError, r"movedim.*got 4"),
    (lambda: mg.movedim(_x(2, 3, 4), (0, 1), (2, 2)), RuntimeError,
     r"movedim: repeated dim in `destination`"),
    (lambda: mg.diagonal(_x(2, 3), 0, 1, -1), RuntimeError,
     r"diagonal dimensions cannot be identical 1, -1"),
    (lambda: mg.roll(_x(2, 3), 1, 3), IndexError, r"roll.*got 3"),
    (lambda: mg.roll(_x(2, 3), (1, 2), 0), RuntimeError, r"roll: shifts \[1, 2\] and dims \[0\]"),
    (lambda: mg.median(_x(2, 0), 1), IndexError, r"median.*dim 1 .*non-zero size.*\(2, 0\)"),
    # indices out of range
    (lambda: mg.index_select(_x(3, 4), 1, mg.tensor([0, 4])), IndexError,
     r"index_select: index 4 is out of bounds for dimension 1 with size 4"),
    (lambda: mg.index_select(_x(3, 4), 0, mg.tensor([-1])), IndexError,
     r"index_select: index -1 is out of bounds for dimension 0 with size 3"),
    (lambda: mg.index_add(_x(3, 4), 0, mg.tensor([3]), _x(1, 4)), IndexError,
     r"index_add: index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: mg.take_along_dim(_x(3, 4), mg.tensor([[0, 9]]), 1), IndexError,
     r"take_along_dim: index 9 is out of bounds for dimension 1 with size 4"),
    (lambda: mg.take_along_dim(_x(3, 4), mg.tensor([12])), IndexError,
     r"take_along_dim: index 12 is out of bounds for dimension 0 with size 12"),
    (lambda: mg.scatter(_x(3, 4), 0, mg.tensor([[3]]), _x(1, 1)), IndexError,
     r"scatter: index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: mg.scatter_reduce(_x(3, 4), 1, mg.tensor([[-2]]), _x(1, 1), "sum"), IndexError,
     r"scatter_reduce: index -2 is out of bounds for dimension 1 with size 4"),
    (lambda: mg.select(_x(3, 4), 1, 4), IndexError,
     r"select\(\): index 4 out of range for tensor of size \[3, 4\] at dimension 1"),
    (lambda: mg.narrow(_x(3, 4), 1, 3, 2), RuntimeError,
     r"narrow: start \(3\) \+ length \(2\) exceeds dimension size \(4\) of dimension 1"),
    (lambda: mg.narrow(_x(3, 4), 1, -5, 1), IndexError,
     r"narrow: start out of range .*\[-4, 4\], but got -5"),
    # wrong index dtype or shape
    (lambda: mg.index_select(_x(3, 4), 1, mg.tensor([0.0, 1.0])), RuntimeError,
     r"index_select: expected an int64 or int32 index tensor, got float32"),
    (lambda: mg.index_select(_x(3, 4), 1, mg.tensor([[0]])), IndexError,
     r"index_select: index must be a vector .*got shape \(1, 1\)"),
    (lambda: mg.scatter(_x(3, 4), 1, mg.tensor([[0.5]]), 1.0), RuntimeError,
     r"scatter: expected an int64 or int32 index tensor, got float32"),
    (lambda: mg.take_along_dim(_x(3, 4), mg.tensor([1.0]), 0), RuntimeError,
     r"take_along_dim: expected an int64 or int32 index tensor, got float32"),
    (lambda: mg.take_along_dim(_x(3, 4), mg.tensor([1]), 0), RuntimeError,
     r"take_along_dim: input \(3, 4\) and indices \(1,\) should have the same number"),
    (lambda: mg.scatter(_x(3, 4), 0, mg.tensor([[0, 1, 0, 0, 0]]), _x(3, 5)), RuntimeError,
     r"scatter: expected index \(1, 5\) to be no larger than self \(3, 4\) apart from "
     r"dimension 0"),
    (lambda: mg.scatter(_x(3, 4), 0, mg.tensor([[0, 1], [1, 1]]), _x(1, 5)), RuntimeError,
     r"no larger than src \(1, 5\)"),
    (lambda: mg.scatter(_x(3, 4), 0, mg.tensor([0]), _x(1)), RuntimeError,
     r"scatter: index \(1,\) must have as many dimensions as self \(3, 4\)"),
    (lambda: mg.index_add(_x(3, 4), 1, mg.tensor([0, 1]), _x(3, 3)), RuntimeError,
     r"index_add: source \(3, 3\) must have the shape .*\(3, 2\)"),
    (lambda: mg.masked_select(_x(3, 4), mg.tensor([1, 0, 1, 0])), RuntimeError,
     r"masked_select: expected a bool tensor for mask, got int64"),
    (lambda: mg.masked_select(_x(3, 4), mg.tensor([True, False])), RuntimeError,
     r"masked_select: input \(3, 4\) and mask \(2,\) can't be broadcast"),
    (lambda: mg.repeat_interleave(_x(3), mg.tensor([1, 2])), RuntimeError,
     r"repeat_interleave: .*2 repeats for 3 elements"),
    (lambda: mg.repeat_interleave(_x(3), -1), RuntimeError,
     r"repeat_interleave: repeats can not be negative \(got -1\)"),
    (lambda: mg.repeat_interleave(_x(3), mg.tensor([1.0])), RuntimeError,
     r"repeat_interleave: repeats must be an integer tensor, got float32"),
    # wrong dtypes and values
    (lambda: mg.scatter(_x(3, 4), 0, mg.tensor([[0]]), _x(1, 1).float()), RuntimeError,
     r"scatter: expected self.dtype to be equal to src.dtype, got float64 and float32"),
    (lambda: mg.index_add(_x(3, 4), 0, mg.tensor([0]), _x(1, 4).float()), RuntimeError,
     r"index_add: self \(float64\) and source \(float32\) must have the same dtype"),
    (lambda: mg.scatter_reduce(_x(3), 0, mg.tensor([0]), _x(1), "max"), RuntimeError,
     r"scatter_reduce: reduce must be one of \['amax', 'amin', 'mean', 'prod', 'sum'\], "
     r"got 'max'"),
    (lambda: mg.scatter(_x(3), 0, mg.tensor([0]), _x(1), reduce="add"), NotImplementedError,
     r"scatter: reduce='add' is not supported; use scatter_reduce"),
    (lambda: mg.remainder(mg.tensor([5, 6]), mg.tensor([2, 0])), RuntimeError,
     r"ZeroDivisionError: remainder of integers by zero"),
    (lambda: mg.floor_divide(mg.tensor([5, 6]), 0), RuntimeError,
     r"ZeroDivisionError: floor_divide of integers by zero"),
    (lambda: mg.addcdiv(_x(2), mg.tensor([1, 2]), mg.tensor([1, 2])), RuntimeError,
     r"addcdiv: integer division is not supported \(tensor1 is int64\)"),
    (lambda: mg.tril(_x(3)), RuntimeError,
     r"tril: input tensor must have at least 2 dimensions, got shape \(3,\)"),
    (lambda: mg.diagonal(_x(3)), RuntimeError, r"diagonal: .*at least 2 dimensions.*\(3,\)"),
    (lambda: mg.searchsorted(mg.tensor([1.0, 2.0]), mg.tensor([1.5]), right=True, side="left"),
     RuntimeError, r"searchsorted: side and right can't be set to opposites"),
    (lambda: mg.searchsorted(_x(2, 3), _x(3, 1)), RuntimeError,
     r"searchsorted: a sorted sequence of shape \(2, 3\) needs values whose leading dims "
     r"match its own \(\(2,\)\), got \(3, 1\)"),
    # products
    (lambda: mg.einsum("ij,jk->ik", _x(2, 3)), RuntimeError,
     r"einsum\(\): the equation 'ij,jk->ik' has 2 operand term\(s\) but 1 operand"),
    (lambda: mg.einsum("ij,jk->ik", _x(2, 3), _x(4, 2)), RuntimeError,
     r"einsum\(\): subscript j has size 4 for operand 1 which does not broadcast with "
     r"previously seen size 3"),
    (lambda: mg.einsum("ijk->i", _x(2, 3)), RuntimeError,
     r"einsum\(\): the subscripts 'ijk' of operand 0 do not match its 2 dimensions"),
    (lambda: mg.einsum("ij->ii", _x(2, 2)), RuntimeError,
     r"einsum\(\): output subscript i appears more than once"),
    (lambda: mg.einsum("ij->k", _x(2, 2)), RuntimeError,
     r"einsum\(\): output subscript k does not appear"),
    (lambda: mg.einsum("i1->i", _x(2, 2)), RuntimeError, r"einsum\(\): invalid subscript 'i1'"),
    (lambda: mg.einsum("ii->i", _x(1, 3)), RuntimeError,
     r"einsum\(\): subscript i is repeated .* sizes don't match, 1 != 3"),
    (lambda: mg.mv(_x(2, 3), _x(2)), RuntimeError,
     r"mv: expected a matrix \(n, m\) and a vector \(m,\), got shapes \(2, 3\) and \(2,\)"),
    (lambda: mg.baddbmm(_x(2, 3, 3), _x(2, 3, 4), _x(3, 4, 3)), RuntimeError,
     r"baddbmm: batch1 \(2, 3, 4\) and batch2 \(3, 4, 3\) don't multiply"),
    (lambda: mg.baddbmm(_x(2, 4), _x(2, 3, 4), _x(2, 4, 3)), RuntimeError,
     r"baddbmm: input of shape \(2, 4\) can't be broadcast to the product's shape \(2, 3, 3\)"),
    # norms
    (lambda: mg.linalg.vector_norm(mg.tensor([1, 2])), RuntimeError,
     r"linalg.vector_norm: expected a floating point tensor as input, got int64"),
    (lambda: mg.linalg.vector_norm(_x(3), "fro"), RuntimeError,
     r"linalg.vector_norm: ord must be a number, got 'fro'"),
    (lambda: mg.linalg.matrix_norm(_x(3, 3), 3), RuntimeError,
     r"linalg.matrix_norm: Order 3 not supported"),
    (lambda: mg.linalg.svd(_x(3)), RuntimeError,
     r"linalg.svd: The input tensor A must have at least 2 dimensions, got shape \(3,\)"),
    (lambda: mg.linalg.svdvals(mg.tensor([[1, 2], [3, 4]])), RuntimeError,
     r"linalg.svdvals: expected a floating point tensor as input, got int64"),
    (lambda: mg.linalg.svd(_x(2, 3).half()), RuntimeError,
     r"linalg.svd: LAPACK takes float32 and float64, got float16"),
    (lambda: mg.linalg.svd(mg.tensor([[1.0, float("nan")], [2.0, 3.0]])), RuntimeError,
     r"linalg.svd: The algorithm failed to converge because the input matrix contained "
     r"non-finite values"),
    (lambda: mg.linalg.svdvals(mg.tensor([[1.0, float("nan")], [2.0, 3.0]])), RuntimeError,
     r"linalg.svd: The algorithm failed to converge"),
    (lambda: mg.linalg.matrix_norm(mg.tensor([[float("nan")]], requires_grad=True), 2),
     RuntimeError, r"linalg.svd: The algorithm failed to converge"),
    (lambda: mg.linalg.matrix_norm(_x(3)), RuntimeError,
     r"linalg.matrix_norm: The input tensor A must have at least 2 dimensions"),
    (lambda: mg.linalg.norm(_x(2, 3, 4), 1), RuntimeError,
     r"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got 3D"),
    (lambda: mg.prod(_x(2, 3), (0, 1)), TypeError, r"prod: dim must be one int"),
]


@pytest.mark.parametrize("call,error,message", ERRORS,
                         ids=[m.split(":")[0].split("\\")[0][:40] + f"-{i}"
                              for i, (_, _, m) in enumerate(ERRORS)])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------------------------------
# Zeros in products: exact gradients, first and second order
# ---------------------------------------------------------------------------------------------

def test_prod_gradient_at_zeros_is_the_product_of_the_others():
    x = _leaf([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0], [1.5, -2.0, 4.0]])
    mg.prod(x, 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0],
                                                [-8.0, 6.0, -3.0]])


def test_cumprod_gradient_at_zeros():
    x = _leaf([2.0, 0.0, 3.0, 0.0, 5.0])
    mg.cumprod(x, 0).sum().backward()
    # y = [2, 0, 0, 0, 0]: dy_j/dx_k = prod_{i <= j, i != k} x_i
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2 + 2 * 3, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 0.0, 1.5], [1.0, -2.0, 0.0]])
def test_cumprod_and_prod_second_derivatives_at_zeros(values):
    x = _leaf(values)
    assert mg.autograd.gradgradcheck(lambda a: mg.cumprod(a, 0), (x,))
    assert mg.autograd.gradgradcheck(lambda a: mg.prod(a), (x,))


def test_scatter_reduce_prod_with_two_zeros_at_one_place():
    x = _leaf([2.0, 3.0])
    src = _leaf([0.0, 0.0, 5.0])
    y = mg.scatter_reduce(x, 0, mg.tensor([0, 0, 1]), src, "prod")
    (g,) = mg.autograd.grad(y.sum(), src, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [0.0, 0.0, 3.0])  # first order is right
    with pytest.raises(RuntimeError, match="two or more zeros in src go to the same position"):
        mg.autograd.grad(g.sum(), src)
    assert mg.autograd.gradcheck(
        lambda s: mg.scatter_reduce(x, 0, mg.tensor([0, 0, 1]), s, "prod"), (src,))


def test_vector_norm_gradient_of_the_zero_vector_is_zero():
    x = _leaf(np.zeros((2, 3)))
    mg.linalg.vector_norm(x, dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


# ---------------------------------------------------------------------------------------------
# Accuracy and dtypes of the pointwise functions
# ---------------------------------------------------------------------------------------------

def test_log1p_keeps_tiny_arguments():
    x = mg.tensor([1e-8, -3e-9], dtype=mg.float32)
    np.testing.assert_allclose(mg.log1p(x).numpy(), [1e-8, -3e-9], rtol=1e-6)
    np.testing.assert_allclose(x.log1p().numpy(), [1e-8, -3e-9], rtol=1e-6)


def test_expm1_and_erfc_keep_small_results():
    np.testing.assert_allclose(mg.expm1(mg.tensor([1e-10], dtype=mg.float64)).numpy(),
                               [math.expm1(1e-10)], rtol=1e-15)
    x = mg.tensor([5.0, 10.0], dtype=mg.float64)
    np.testing.assert_allclose(mg.erfc(x).numpy(), [math.erfc(5.0), math.erfc(10.0)],
                               rtol=1e-14)


def test_remainder_and_floor_divide_follow_pytorch_dtypes():
    ints = mg.tensor([7, -7])
    assert (ints % 2).dtype == np.int64
    np.testing.assert_array_equal((ints % 3).numpy(), [1, 2])          # sign of the divisor
    np.testing.assert_array_equal(mg.fmod(ints, 3).numpy(), [1, -1])   # sign of the dividend
    # a Python float never widens the tensor: int64 % 2.5 is float32, not NumPy's float64
    assert (ints % 2.5).dtype == np.float32
    assert (ints // 2.5).dtype == np.float32
    np.testing.assert_array_equal((ints // 2.5).numpy(), [2.0, -3.0])
    np.testing.assert_array_equal((10 // mg.tensor([3, -3])).numpy(), [3, -4])
    assert (mg.tensor([7], dtype=mg.int32) % 2).dtype == np.int32


def test_floor_divide_gradient_is_refused_and_remainder_has_one():
    x = _leaf([7.5, -2.5])
    with pytest.raises(RuntimeError, match="floor_divide: the derivative is not implemented"):
        (x // 2).sum().backward()
    (x % 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


# ---------------------------------------------------------------------------------------------
# Methods, in-place forms, results
# ---------------------------------------------------------------------------------------------

def test_inplace_forms_write_into_the_tensor_and_its_views():
    x = mg.tensor(np.arange(12.0).reshape(3, 4))
    alias = x
    x.cumsum_(1).tril_().clamp_max_(10.0).remainder_(7)
    expected = np.remainder(np.minimum(np.tril(np.cumsum(np.arange(12.0).reshape(3, 4), 1)),
                                       10.0), 7)
    assert alias is x
    np.testing.assert_array_equal(x.numpy(), expected)
    x.index_add_(0, mg.tensor([2, 2]), mg.ones(2, 4, dtype=mg.float64))
    np.testing.assert_array_equal(x.numpy()[2], expected[2] + 2)


def test_inplace_on_a_leaf_that_requires_grad_is_refused():
    x = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="cumsum_"):
        x.cumsum_(0)


def test_median_and_unique_results():
    x = mg.tensor([[3.0, 1.0, 2.0, 5.0], [0.0, 4.0, 4.0, 1.0]])
    result = x.median(dim=1)
    assert result._fields == ("values", "indices")
    np.testing.assert_array_equal(result.values.numpy(), [2.0, 1.0])
    np.testing.assert_array_equal(result.indices.numpy(), [2, 3])
    assert mg.median(x).item() == 2.0     # lower median of 8 values
    values, inverse, counts = mg.unique(mg.tensor([3, 1, 3, 0]), return_inverse=True,
                                        return_counts=True)
    np.testing.assert_array_equal(values.numpy()[inverse.numpy()], [3, 1, 3, 0])
    np.testing.assert_array_equal(counts.numpy(), [1, 1, 2])


def test_new_constructors_follow_the_tensor():
    x = mg.zeros(2, dtype=mg.float64)
    assert x.new_zeros(3, 2).dtype == np.float64 and x.new_zeros(3, 2).shape == (3, 2)
    assert x.new_ones((4,)).numpy().tolist() == [1.0] * 4
    assert x.new_full((2,), 7).numpy().tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype == np.float64
    assert x.new_empty(2, dtype=mg.int64).dtype == np.int64
    assert x.new_zeros(2, requires_grad=True).requires_grad
    assert mg.empty_like(x).shape == (2,) and mg.empty_like(x).dtype == np.float64


def test_linalg_namespace_and_aliases():
    assert mg.linalg.norm is mg.ops.linalg.norm
    assert mg.moveaxis is mg.movedim and mg.arctan2 is mg.atan2
    x = _x(2, 3)
    np.testing.assert_allclose(mg.linalg.norm(x).item(), np.linalg.norm(x.numpy()))
    np.testing.assert_allclose(mg.linalg.norm(x, 1).item(), np.linalg.norm(x.numpy(), 1))


def test_zero_dim_inputs():
    x = mg.tensor(5.0)
    for out in (mg.cumsum(x, 0), mg.cumprod(x, 0), mg.prod(x, 0), mg.roll(x, 1), mg.median(x),
                mg.scatter(x, 0, mg.tensor(0), value=5.0), mg.index_select(x, 0, mg.tensor([0]))):
        assert out.shape == () and out.item() == 5.0
    assert mg.scatter_reduce(x, 0, mg.tensor(0), mg.tensor(3.0), "prod").item() == 15.0
    assert mg.index_add(x, 0, mg.tensor([0]), mg.tensor(3.0)).item() == 8.0
    assert mg.tile(x, (2,)).numpy().tolist() == [5.0, 5.0]
    assert mg.repeat_interleave(x, 2).numpy().tolist() == [5.0, 5.0]
    assert mg.hstack([x, x]).shape == (2,) and mg.vstack([x, x]).shape == (2, 1)
