"""The linear op's backward, on arrays (a plain ``backward()``) and on Tensors (recorded, with
``create_graph=True``): the same gradients, as PyTorch's; the array path records no ops."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.function import ArrayFunction

# (x shape, in, out): a batch, one sample, a sequence of batches, an empty batch
SHAPES = [((7, 5), 5, 3), ((5,), 5, 4), ((2, 3, 5), 5, 6), ((0, 4), 4, 3)]
NEEDS = list(itertools.product([True, False], repeat=3))     # x, W, b require grad


def _inputs(rng, x_shape, n_in, n_out, dtype, needs):
    x = mg.tensor(rng.standard_normal(x_shape).astype(dtype), requires_grad=needs[0])
    w = mg.tensor(rng.standard_normal((n_out, n_in)).astype(dtype), requires_grad=needs[1])
    b = mg.tensor(rng.standard_normal(n_out).astype(dtype), requires_grad=needs[2])
    return x, w, b


@pytest.mark.parametrize("needs", NEEDS[:-1])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,n_in,n_out", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_array_backward_equals_the_recorded_backward(x_shape, n_in, n_out, bias, needs, dtype):
    rng = np.random.default_rng(3)
    x, w, b = _inputs(rng, x_shape, n_in, n_out, dtype, needs)
    inputs = [t for t in (x, w, b if bias else None) if t is not None and t.requires_grad]
    y = F.linear(x, w, b if bias else None)
    if not inputs:                            # only an unused bias requires grad
        assert not y.requires_grad
        return
    up = mg.tensor(rng.standard_normal(y.shape).astype(dtype))
    plain = mg.autograd.grad(y, inputs, up, retain_graph=True)
    recorded = mg.autograd.grad(y, inputs, up, create_graph=True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for p, r in zip(plain, recorded):
        assert p.dtype == r.dtype == dtype and p.shape == r.shape
        assert not p.requires_grad
        np.testing.assert_allclose(p.numpy(), r.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("x_shape,n_in,n_out", SHAPES[:3])
def test_linear_gradients_match_pytorch_plain_and_recorded(x_shape, n_in, n_out):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x, w, b = _inputs(rng, x_shape, n_in, n_out, np.float64, (True, True, True))
    xt, wt, bt = (torch.tensor(t.numpy(), requires_grad=True) for t in (x.detach(), w.detach(),
                                                                         b.detach()))
    y = F.linear(x, w, b)
    yt = torch.nn.functional.linear(xt, wt, bt)
    up = rng.standard_normal(tuple(yt.shape))
    expected = torch.autograd.grad(yt, (xt, wt, bt), torch.from_numpy(up))
    for create_graph in (False, True):
        got = mg.autograd.grad(y, (x, w, b), mg.tensor(up), retain_graph=True,
                               create_graph=create_graph)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.detach().numpy(), e.numpy(), rtol=1e-12, atol=1e-12)


def test_plain_backward_runs_no_ops_and_recorded_backward_is_differentiable(monkeypatch):
    rng = np.random.default_rng(4)
    x, w, b = _inputs(rng, (6, 5), 5, 3, np.float64, (True, True, True))
    y = F.linear(x, w, b)
    applied = []
    real_apply = ArrayFunction.apply.__func__

    def counting_apply(cls, *args, **kwargs):
        applied.append(cls.__name__)
        return real_apply(cls, *args, **kwargs)
    monkeypatch.setattr(ArrayFunction, "apply", classmethod(counting_apply))
    y.backward(mg.ones(6, 3, dtype=mg.float64))
    assert applied == []
    monkeypatch.undo()
    assert mg.autograd.gradgradcheck(lambda a, m, c: F.linear(a, m, c), (x, w, b))


def test_float16_keeps_the_tensor_path():
    x = mg.tensor(np.ones((4, 3), np.float16), requires_grad=True)
    w = mg.tensor(np.full((2, 3), 0.5, np.float16), requires_grad=True)
    F.linear(x, w).sum().backward()
    assert x.grad.dtype == mg.float16 and w.grad.dtype == mg.float16
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((4, 3), np.float16))
    np.testing.assert_array_equal(w.grad.numpy(), np.full((2, 3), 4, np.float16))
