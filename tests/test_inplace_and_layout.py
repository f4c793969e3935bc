"""In-place forms of the common pointwise ops (recorded and version-checked like add_), the
refusal to write a float result into an integer tensor, and the layout questions (stride,
is_contiguous, nbytes, ...), against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

# (method, args): args are numbers, or "mask"/"other" for a tensor made in the test
INPLACE = [("exp", ()), ("log", ()), ("sqrt", ()), ("abs", ()), ("neg", ()), ("pow", (3,)),
           ("sigmoid", ()), ("tanh", ()), ("relu", ()), ("floor", ()), ("ceil", ()),
           ("round", ()), ("trunc", ()), ("masked_fill", ("mask", -2.0)),
           ("lerp", ("other", 0.25)), ("sign", ()), ("reciprocal", ()), ("rsqrt", ()),
           ("square", ()), ("sin", ()), ("cos", ()), ("clip", (-0.5, 0.5))]


def _args(args, mine, rng):
    mask = rng.random((3, 5)) < 0.4
    other = rng.standard_normal((3, 5))
    out = []
    for a in args:
        if a == "mask":
            out.append(mg.tensor(mask) if mine else __import__("torch").tensor(mask))
        elif a == "other":
            out.append(mg.tensor(other) if mine else __import__("torch").tensor(other))
        else:
            out.append(a)
    return out


@pytest.mark.parametrize("name,args", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_matches_torch_values_and_gradients(name, args):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(3).uniform(0.2, 2.0, (3, 5)) * \
        np.random.default_rng(4).choice([-1, 1], (3, 5))
    if name in ("log", "sqrt", "rsqrt"):
        values = np.abs(values)
    leaf, tleaf = (mg.tensor(values, requires_grad=True),
                   torch.tensor(values, requires_grad=True))
    y, ty = leaf * 1.0, tleaf * 1.0
    version = y._version[0]
    out = getattr(y, name + "_")(*_args(args, True, np.random.default_rng(0)))
    getattr(ty, name + "_")(*_args(args, False, np.random.default_rng(0)))
    assert out is y and y._version[0] > version
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    w = np.linspace(-1, 1, 15).reshape(3, 5)
    (y * mg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), tleaf.grad.numpy(), rtol=1e-12)


def test_inplace_outside_the_graph_writes_into_the_same_memory():
    x = mg.tensor([0.25, 4.0, 9.0])
    view = x[1:]
    x.sqrt_()
    np.testing.assert_allclose(view.numpy(), [2.0, 3.0])


def test_recorded_inplace_keeps_what_earlier_ops_saved():
    """A recorded in-place op gives the tensor a new array (Tensor._inplace): b.exp() and
    b * b, recorded before b.sin_(), still see b's old values, and the gradient is that of the
    out-of-place program."""
    values = np.random.default_rng(1).standard_normal(4)
    a = mg.tensor(values, requires_grad=True)
    b = a * 1.0
    c, d = b.exp(), b * b
    b.sin_()
    (c.sum() + d.sum() + b.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(),
                               np.exp(values) + 2 * values + np.cos(values), rtol=1e-12)


@pytest.mark.parametrize("op", [lambda x: x.exp_(), lambda x: x.sqrt_(),
                                lambda x: x.add_(0.5), lambda x: x.mul_(mg.tensor(1.5)),
                                lambda x: x.log2_()])
def test_a_float_result_is_not_truncated_into_an_integer_tensor(op):
    x = mg.tensor([1, 4, 9])
    with pytest.raises(RuntimeError, match=r"result type float32 can't be cast to the "
                                           r"desired output type int64"):
        op(x)
    assert x.numpy().tolist() == [1, 4, 9]


def test_integer_and_bool_inplace_that_torch_allows():
    x = mg.tensor([1, -4, 9])
    x.add_(2).neg_().abs_()
    assert x.numpy().tolist() == [3, 2, 11] and x.dtype == mg.int64
    with pytest.raises(RuntimeError, match="add_.*int64.*bool"):
        mg.tensor([True, False]).add_(1)


def test_layout_questions_match_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((3, 5, 2)).astype(np.float32)
    x, tx = mg.tensor(values), torch.tensor(values)
    for mine, theirs in ((x, tx), (x.transpose(0, 2), tx.transpose(0, 2)),
                         (x.permute(1, 0, 2), tx.permute(1, 0, 2)), (x[:, 1], tx[:, 1])):
        assert mine.is_contiguous() == theirs.is_contiguous()
        assert mine.stride() == theirs.stride()
        assert mine.stride(-1) == theirs.stride(-1) and mine.stride(1) == theirs.stride(1)
    assert (x.ndimension(), x.nelement(), x.nbytes, x.itemsize) == \
        (tx.ndimension(), tx.nelement(), tx.nbytes, tx.itemsize)
    assert x.double().itemsize == 8 and x.is_cpu and x.get_device() == -1
    assert not x.is_complex()
    with pytest.raises(IndexError, match="stride"):
        x.stride(3)


def test_retains_grad_property():
    a = mg.randn(3, requires_grad=True)
    b = a * 2
    assert not b.retains_grad and not a.retains_grad
    b.retain_grad()
    assert b.retains_grad


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((7, 3), False), ((7, 3), True),
                                        ((3, 5), True), ((3, 3, 3), False)])
def test_fill_diagonal_matches_torch(shape, wrap):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal(shape)
    x, tx = mg.tensor(values), torch.tensor(values)
    assert x.fill_diagonal_(2.5, wrap) is x
    tx.fill_diagonal_(2.5, wrap)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    ints, tints = mg.zeros(3, 3, dtype=mg.int64), torch.zeros(3, 3, dtype=torch.int64)
    np.testing.assert_array_equal(ints.fill_diagonal_(2.5).numpy(),
                                  tints.fill_diagonal_(2.5).numpy())


def test_fill_diagonal_is_recorded_and_refuses_unequal_dims():
    leaf = mg.randn(3, 3, requires_grad=True)
    y = leaf * 1.0
    y.fill_diagonal_(0.0)
    y.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), 1 - np.eye(3))
    with pytest.raises(RuntimeError, match=r"fill_diagonal_: .*\(2, 3, 3\)"):
        mg.zeros(2, 3, 3).fill_diagonal_(1.0)


def test_sum_to_size_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, tx = mg.tensor(values, requires_grad=True), torch.tensor(values)
    for size in ((3, 1), (1, 1, 4), (2, 3, 4), (1,)):
        np.testing.assert_allclose(x.sum_to_size(size).detach().numpy(),
                                   tx.sum_to_size(size).numpy(), rtol=1e-12)
    x.sum_to_size(3, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3, 4)))
    with pytest.raises(RuntimeError, match=r"sum_to_size: size \(2,\) is not expandable to "
                                           r"the tensor's size \(2, 3, 4\)"):
        x.sum_to_size(2)
