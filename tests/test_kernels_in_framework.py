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


def test_in_loop_dispatches_once_and_keeps_matmul_2ds_fallback():
    """The time loops' kernel calls (ops/kernel_calls.in_loop): checked on the first call,
    direct after; dtypes the kernels do not take stay on matmul_2d's NumPy fallback."""
    from minigrad.ops import kernel_calls
    rng = np.random.default_rng(2)
    for dtype, direct in ((np.float32, True), (np.float16, False)):
        a, b = rng.normal(size=(5, 3)).astype(dtype), rng.normal(size=(3, 7)).astype(dtype)
        product = kernel_calls.in_loop("matmul")
        for _ in range(3):
            out = product(a, b)
            assert out.dtype == dtype
            np.testing.assert_allclose(out, a @ b, rtol=1e-3)
        assert (product.direct is not product.checked) == direct
    with pytest.raises(ValueError, match=r"kernels\.matmul: .*inner sizes differ"):
        kernel_calls.in_loop("matmul")(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32))
