"""The framework's hot paths run on every kernel implementation, with correct gradients.

``mg.kernels.use(impl)`` forces one implementation for the whole framework; gradients are
checked against finite differences with each one forced (float64, tiny odd shapes). The CUDA
implementation runs here too when the simulator is on (NUMBA_ENABLE_CUDASIM=1) or a GPU exists:
``tests/kernels`` runs the simulator in a subprocess for exactly that reason.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import kernels as K

CPU_IMPLS = [i for i in K.available("matmul") if i != "cuda"]


def _t(rng, *shape):
    return mg.tensor(rng.uniform(-1, 1, shape), dtype=mg.float64, requires_grad=True)


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_gradchecks_with_each_implementation_forced(impl):
    rng = np.random.default_rng(7)
    x, w, b = _t(rng, 2, 3, 5, 6), _t(rng, 4, 3, 3, 2), _t(rng, 4)
    logits = _t(rng, 3, 7)
    a, m = _t(rng, 5, 3), _t(rng, 3, 4)
    with K.use(impl):
        assert mg.autograd.gradcheck(
            lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2)),
            (x, w, b))
        assert mg.autograd.gradcheck(
            lambda x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=2, padding=1),
            (x, w))
        assert mg.autograd.gradcheck(lambda z: F.softmax(z, dim=1), (logits,))
        assert mg.autograd.gradcheck(lambda z: F.log_softmax(z, dim=0), (logits,))
        assert mg.autograd.gradcheck(mg.matmul, (a, m))
        assert mg.autograd.gradgradcheck(lambda z: F.softmax(z, dim=-1), (logits,))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_lstm_gradcheck_with_each_implementation_forced(impl):
    """nn.LSTM's sequence op runs the lstm_cell kernels forward and backward."""
    mg.manual_seed(3)
    lstm = mg.nn.LSTM(3, 4, num_layers=2, bidirectional=True).to(mg.float64)
    x = _t(np.random.default_rng(8), 5, 2, 3)
    params = list(lstm.parameters())

    def run(x, *weights):
        return lstm(x)[0]
    with K.use(impl):
        assert mg.autograd.gradcheck(run, (x, *params))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_env_variable_forces_the_implementation(impl, monkeypatch):
    monkeypatch.setenv("MINIGRAD_KERNELS", impl)
    x = mg.randn(3, 5)
    np.testing.assert_allclose(F.softmax(x, 1).numpy().sum(1), np.ones(3), rtol=1e-6)


class _LastOfLSTM(mg.nn.Module):
    """An LSTM over the 4 channels as a sequence; its last output."""

    def __init__(self, inputs, hidden):
        super().__init__()
        self.lstm = mg.nn.LSTM(inputs, hidden, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0][:, -1]


def test_a_training_step_is_the_same_on_every_implementation():
    """A student can train one model on each implementation and compare."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((8, 1, 7, 7)).astype(np.float32))
    y = mg.tensor(rng.integers(0, 3, 8))
    losses = {}
    for impl in CPU_IMPLS:
        mg.manual_seed(0)
        model = mg.nn.Sequential(mg.nn.Conv2d(1, 4, 3), mg.nn.ReLU(), mg.nn.Flatten(),
                                 mg.nn.Unflatten(1, (4, 25)), _LastOfLSTM(25, 6),
                                 mg.nn.Linear(6, 3))
        opt = mg.optim.SGD(model.parameters(), lr=0.1)
        with K.use(impl):
            for _ in range(3):
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
        losses[impl] = loss.item()
    values = list(losses.values())
    np.testing.assert_allclose(values, values[0], rtol=1e-4), losses


@pytest.mark.parametrize("impl", ["numpy", "numba"])
def test_matmul_by_packs_once_and_keeps_matmul_2ds_fallback(impl):
    """The time loops' products by one weight (ops/kernel_calls.matmul_by): the same numbers
    as a @ b at every call, for the implementation chosen; dtypes the kernels do not take,
    or an a of another dtype, stay on matmul_2d's NumPy fallback; bad shapes name the op."""
    from minigrad import kernels
    from minigrad.ops import kernel_calls
    rng = np.random.default_rng(2)
    with kernels.use(impl):
        for dtype in (np.float32, np.float64, np.float16):
            b = rng.normal(size=(37, 70)).astype(dtype)
            product = kernel_calls.matmul_by(b)
            for rows in (5, 1, 33):
                a = rng.normal(size=(rows, 37)).astype(dtype)
                out = product(a)
                assert out.dtype == dtype and out.shape == (rows, 70)
                np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=2e-3, atol=2e-3)
        mixed = kernel_calls.matmul_by(np.ones((3, 2), np.float32))(np.ones((4, 3), np.float64))
        assert mixed.dtype == np.float64
        with pytest.raises(ValueError, match=r"kernels\.matmul: .*inner sizes differ"):
            kernel_calls.matmul_by(np.ones((4, 2), np.float32))(np.ones((2, 3), np.float32))


def _away_from_zero(rng, *shape):
    """float64 values in +-[0.1, 1): finite differences never straddle relu's kink."""
    values = rng.uniform(0.1, 1, shape) * rng.choice([-1.0, 1.0], shape)
    return mg.tensor(values, dtype=mg.float64, requires_grad=True)


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_relu_gradients_with_each_implementation_forced(impl):
    """Relu and its backward (ReluBackward, itself a Function) run the relu kernels."""
    rng = np.random.default_rng(11)
    x = _away_from_zero(rng, 3, 4, 5)
    with K.use(impl):
        assert mg.autograd.gradcheck(F.relu, (x,))
        assert mg.autograd.gradgradcheck(F.relu, (x,))
        assert mg.autograd.gradgradcheck(lambda z: F.relu(z) * z, (x,))   # relu's mask twice
        t = x.detach().to(mg.float32).transpose(0, 2).requires_grad_()   # a view, float32
        y = mg.relu(t)
        y.backward(mg.ones_like(y) * 3)
    assert y.dtype == mg.float32 and t.grad.dtype == mg.float32
    t_np = t.detach().numpy()
    np.testing.assert_array_equal(y.detach().numpy(), np.maximum(t_np, 0))
    np.testing.assert_array_equal(t.grad.numpy(), np.where(t_np > 0, 3, 0))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_relu_nan_forward_and_select_backward(impl):
    """relu(NaN) = NaN with gradient 0, and an inf or NaN gradient stops where y <= 0 (a
    select, as PyTorch's threshold_backward, not gy * mask)."""
    x = mg.tensor([np.nan, -1.0, 0.0, 2.0], requires_grad=True)
    with K.use(impl):
        y = mg.relu(x)
        y.backward(mg.tensor([1.0, np.inf, np.nan, np.nan]))
    np.testing.assert_array_equal(y.detach().numpy(), [np.nan, 0, 0, 2])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, np.nan])


def test_relu_keeps_numpy_for_dtypes_the_kernels_do_not_take():
    """Integers and float16 take NumPy's maximum/where (kernel_calls.relu), as before the
    kernels: same values, same dtypes. (bool is refused, as PyTorch refuses it.)"""
    values = np.array([-3, 0, 2, 7])
    for dtype, out_dtype in ((np.int64, np.int64), (np.int32, np.int32), (np.uint8, np.uint8),
                             (np.float16, np.float16)):
        y = mg.relu(mg.tensor(values, dtype=dtype))
        assert y.dtype == out_dtype, dtype
        np.testing.assert_array_equal(y.numpy(), np.maximum(values.astype(dtype), 0))
    x = mg.tensor(values, dtype=np.float16, requires_grad=True)
    y = mg.relu(x)
    y.backward(mg.ones_like(y))
    assert y.dtype == mg.float16 and x.grad.dtype == mg.float16
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1, 1])
    assert mg.relu(mg.tensor(-2.0)).shape == ()
