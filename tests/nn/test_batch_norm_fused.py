"""batch_norm in training mode runs ``BatchNormalize`` (in-place passes, a backward from two
per-channel sums): the same values and gradients as the general ``Normalize`` it specialises,
to rounding, for every combination of weight and bias, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.ops.normalization import BatchNormalize, Normalize


def _run(cls, x, w, b, g, axes):
    xt = mg.tensor(x, requires_grad=True)
    wt = None if w is None else mg.tensor(w, requires_grad=True)
    bt = None if b is None else mg.tensor(b, requires_grad=True)
    y, mean, var = cls.apply(xt, wt, bt, axes, 1e-5)
    y.backward(mg.tensor(g))
    grads = [t.grad.array for t in (xt, wt, bt) if t is not None]
    return [y.array, mean.array, var.array] + grads


@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape", [(5, 3, 7, 3), (3, 6, 5), (7, 2)])
@pytest.mark.parametrize("affine", ["weight+bias", "none", "weight", "bias"])
def test_batch_normalize_matches_normalize(dtype, tol, shape, affine):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3 + 50).astype(dtype)   # off-centre: the two-pass mean
    g = rng.standard_normal(shape).astype(dtype)
    channel_shape = (1, shape[1]) + (1,) * (len(shape) - 2)
    w = rng.standard_normal(channel_shape).astype(dtype) if "weight" in affine else None
    b = rng.standard_normal(channel_shape).astype(dtype) if "bias" in affine else None
    axes = (0,) + tuple(range(2, len(shape)))
    expected = _run(Normalize, x, w, b, g, axes)
    got = _run(BatchNormalize, x, w, b, g, axes)
    for e, a in zip(expected, got):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol * np.abs(e).max())


def test_batch_norm_training_uses_batch_normalize():
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, 3, 5)), requires_grad=True)
    y = mg.nn.functional.batch_norm(x, None, None, training=True)
    assert y.grad_fn.name == "BatchNormalize"


def _record_kernel_calls(monkeypatch):
    from minigrad.ops import kernel_calls
    calls = []
    for op in ("batch_norm", "batch_norm_backward"):
        original = getattr(kernel_calls, op)
        monkeypatch.setattr(kernel_calls, op,
                            lambda *a, _op=op, _f=original: calls.append(_op) or _f(*a))
    return calls


@pytest.mark.parametrize("affine", ["weight+bias", "none"])
def test_batch_norm_runs_the_channel_kernels(affine, monkeypatch):
    """float64 batch_norm in training mode takes kernels.batch_norm and its backward, and its
    first and second derivatives still check (the second through NormalizeBackward, whose
    projection runs on the same kernel)."""
    calls = _record_kernel_calls(monkeypatch)
    rng = np.random.default_rng(8)
    x = mg.tensor(rng.standard_normal((3, 2, 3, 2)) + 4, requires_grad=True)
    params = tuple(mg.tensor(rng.standard_normal(2), requires_grad=True)
                   for _ in range(2 if affine != "none" else 0))

    def fn(x, *wb):
        return mg.nn.functional.batch_norm(x, None, None, *wb, training=True) ** 2

    assert mg.autograd.gradcheck(fn, (x,) + params)
    assert mg.autograd.gradgradcheck(fn, (x,) + params)
    assert {"batch_norm", "batch_norm_backward"} <= set(calls)


def test_float16_batch_norm_keeps_the_array_code(monkeypatch):
    calls = _record_kernel_calls(monkeypatch)
    x = mg.tensor(np.random.default_rng(9).standard_normal((4, 3, 5)).astype(np.float16),
                  requires_grad=True)
    mg.nn.functional.batch_norm(x, None, None, training=True).sum().backward()
    assert calls == [] and x.grad.dtype == mg.float16


@pytest.mark.parametrize("impl", ["numpy", "numba"])
@pytest.mark.parametrize("shape", [(16, 5, 13, 9), (40, 4, 61)])
def test_batch_norm_layer_matches_torch_on_each_kernel(impl, shape):
    """A BatchNorm layer over float32 inputs large enough for the parallel kernels: outputs,
    gradients and running statistics after training steps, then the output in eval mode, the
    same as PyTorch's."""
    torch = pytest.importorskip("torch")
    if impl not in mg.kernels.available("batch_norm"):
        pytest.skip(f"{impl} is not installed")
    rng = np.random.default_rng(len(shape))
    c = shape[1]
    layer = (mg.nn.BatchNorm2d if len(shape) == 4 else mg.nn.BatchNorm1d)(c, momentum=0.2)
    ref = (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(c, momentum=0.2)
    w, b = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    layer.weight.data.copy_(mg.tensor(w))
    layer.bias.data.copy_(mg.tensor(b))
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(w))
        ref.bias.copy_(torch.tensor(b))
    with mg.kernels.use(impl):
        for step in range(3):
            x = (rng.standard_normal(shape) * 2 + 3 - step).astype(np.float32)
            g = rng.standard_normal(shape).astype(np.float32)
            xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            ym, yt = layer(xm), ref(xt)
            ym.backward(mg.tensor(g))
            yt.backward(torch.tensor(g))
            np.testing.assert_allclose(ym.array, yt.detach().numpy(), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(xm.grad.array, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
            for mine, theirs in ((layer.weight, ref.weight), (layer.bias, ref.bias)):
                np.testing.assert_allclose(mine.grad.array, theirs.grad.numpy(), rtol=1e-4,
                                           atol=1e-3)
                mine.grad, theirs.grad = None, None
        for mine, theirs in ((layer.running_mean, ref.running_mean),
                             (layer.running_var, ref.running_var)):
            np.testing.assert_allclose(mine.array, theirs.numpy(), rtol=1e-5, atol=1e-6)
        layer.eval()
        ref.eval()
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(layer(mg.tensor(x)).array,
                                   ref(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
