"""``Tensor.data`` behaves as PyTorch's: a Tensor over the same memory, outside the graph."""

import numpy as np
import pytest

import minigrad as mg


def test_data_is_a_tensor_sharing_memory_without_grad():
    p = mg.nn.Parameter(mg.randn(3, 5))
    d = p.data
    assert isinstance(d, mg.Tensor) and not isinstance(d, mg.nn.Parameter)
    assert not d.requires_grad and d.grad_fn is None
    d[1, 2] = 7.0
    assert p[1, 2].item() == 7.0
    assert np.shares_memory(d.array, p.array)


def test_sgd_written_with_data_matches_no_grad_update():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3))
    x = mg.tensor(rng.standard_normal((7, 4)))
    results = []
    for style in ("data", "no_grad"):
        w = mg.tensor(w0.copy(), requires_grad=True)
        for _ in range(3):
            w.grad = None
            (x @ w).tanh().sum().backward()
            if style == "data":
                w.data.add_(w.grad, alpha=-0.1)
            else:
                with mg.no_grad():
                    w.add_(w.grad, alpha=-0.1)
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_data_copy_and_assignment():
    p = mg.nn.Parameter(mg.zeros(2, 3))
    p.data.copy_(mg.ones(2, 3))
    assert p.sum().item() == 6.0
    other = mg.arange(6.0).reshape(3, 2)
    p.data = other                      # shape may change, memory is shared, as in PyTorch
    assert p.shape == (3, 2) and p.requires_grad
    other[0, 0] = 9.0
    assert p[0, 0].item() == 9.0


def test_data_assignment_of_a_non_tensor_names_the_fix():
    p = mg.nn.Parameter(mg.zeros(2))
    with pytest.raises(TypeError, match=r"Tensor.data must be set to a Tensor, got ndarray"):
        p.data = np.zeros(2)


def test_writes_through_data_are_invisible_to_autograd_as_in_pytorch():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()
    y.data.mul_(0.0)                    # not recorded, version not bumped: no error at backward
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])  # PyTorch gives the same
