"""mg.linalg.inv, solve, det and slogdet: values and gradients against PyTorch, the singular
cases, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

RNG = np.random.default_rng(11)


def _torch():
    return pytest.importorskip("torch")


def _pair(torch, array):
    return mg.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


@pytest.mark.parametrize("name", ["inv", "det", "slogdet"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 5, 5), (2, 1, 1)])
def test_values_and_gradients_match_torch(name, shape):
    torch = _torch()
    array = RNG.standard_normal(shape)
    a, at = _pair(torch, array)
    y, yt = getattr(mg.linalg, name)(a), getattr(torch.linalg, name)(at)
    if name == "slogdet":
        np.testing.assert_array_equal(y.sign.array, yt.sign.detach().numpy())
        y, yt = y.logabsdet, yt.logabsdet
    np.testing.assert_allclose(y.array, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = RNG.standard_normal(y.shape)
    (g,) = mg.autograd.grad((y * mg.tensor(weights)).sum(), [a])
    (gt,) = torch.autograd.grad((yt * torch.tensor(weights)).sum(), [at])
    np.testing.assert_allclose(g.array, gt.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("a_shape, b_shape, left", [
    ((4, 4), (4, 3), True), ((4, 4), (4,), True), ((2, 3, 3), (2, 3), True),
    ((2, 1, 3, 3), (5, 3, 2), True), ((3, 3), (2, 3), False), ((2, 3, 3), (2, 4, 3), False)])
def test_solve_matches_torch(a_shape, b_shape, left):
    torch = _torch()
    a, at = _pair(torch, RNG.standard_normal(a_shape) + 2 * np.eye(a_shape[-1]))
    b, bt = _pair(torch, RNG.standard_normal(b_shape))
    x, xt = mg.linalg.solve(a, b, left=left), torch.linalg.solve(at, bt, left=left)
    assert x.shape == tuple(xt.shape)
    np.testing.assert_allclose(x.array, xt.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = RNG.standard_normal(x.shape)
    grads = mg.autograd.grad((x * mg.tensor(weights)).sum(), [a, b])
    grads_t = torch.autograd.grad((xt * torch.tensor(weights)).sum(), [at, bt])
    for g, gt in zip(grads, grads_t):
        np.testing.assert_allclose(g.array, gt.numpy(), rtol=1e-10, atol=1e-10)


def test_det_gradient_at_a_singular_matrix_is_the_adjugate():
    """Rank n - 1: det = 0 but its gradient, the cofactor matrix, is not zero."""
    a = mg.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], dtype=mg.float64,
                  requires_grad=True)
    d = mg.linalg.det(a)
    assert abs(d.item()) < 1e-12
    d.backward()
    cofactors = np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(a.grad.array, cofactors, atol=1e-12)
    # the second derivative there is refused, not silently wrong
    a.grad = None
    (g,) = mg.autograd.grad(mg.linalg.det(a), [a], create_graph=True)
    with pytest.raises(RuntimeError, match="second derivative at a singular matrix"):
        g.sum().backward()


def test_inverse_identities():
    a = mg.tensor(RNG.standard_normal((3, 4, 4)))
    eye = np.broadcast_to(np.eye(4), (3, 4, 4))
    np.testing.assert_allclose((mg.linalg.inv(a) @ a).array, eye, atol=1e-12)
    np.testing.assert_allclose(mg.linalg.det(mg.linalg.inv(a)).array,
                               1 / mg.linalg.det(a).array, rtol=1e-12)
    sign, logabsdet = mg.linalg.slogdet(a)
    np.testing.assert_allclose((sign * logabsdet.exp()).array, mg.linalg.det(a).array,
                               rtol=1e-12)


def test_bad_input():
    with pytest.raises(RuntimeError, match="linalg.inv: A must be batches of square"):
        mg.linalg.inv(mg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="linalg.inv: the input matrix is singular"):
        mg.linalg.inv(mg.tensor([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(RuntimeError, match="linalg.solve: the input matrix is singular"):
        mg.linalg.solve(mg.zeros(2, 2), mg.ones(2))
    with pytest.raises(RuntimeError, match="linalg.det: The input tensor A must have at least"):
        mg.linalg.det(mg.ones(3))
    with pytest.raises(RuntimeError, match="linalg.slogdet: expected a floating point"):
        mg.linalg.slogdet(mg.tensor([[1, 2], [3, 4]]))
    with pytest.raises(RuntimeError, match=r"incompatible shapes of A \(3, 3\) and B \(4, 1\)"):
        mg.linalg.solve(mg.eye(3), mg.ones(4, 1))
    with pytest.raises(RuntimeError, match="same dtype"):
        mg.linalg.solve(mg.eye(3), mg.ones(3, dtype=mg.float64))
    with pytest.raises(TypeError, match="B must be a Tensor"):
        mg.linalg.solve(mg.eye(3), [1.0, 2.0, 3.0])
