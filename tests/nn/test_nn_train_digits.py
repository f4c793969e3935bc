"""End to end: an MLP (64-128-10, ReLU) learns scikit-learn's handwritten digits.

Everything a training loop touches is exercised: Module, Linear's default init, ReLU,
cross_entropy, backward, zero_grad, an SGD-with-momentum step, train/eval modes and no_grad.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

datasets = pytest.importorskip("sklearn.datasets")
model_selection = pytest.importorskip("sklearn.model_selection")


def _digits():
    x, y = datasets.load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = model_selection.train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y)
    mean, std = x_tr.mean(0), x_tr.std(0) + 1e-6  # statistics of the training set only
    return ((x_tr - mean) / std).astype(np.float32), y_tr, \
        ((x_te - mean) / std).astype(np.float32), y_te


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(64, 128)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        return self.out(F.relu(self.hidden(x)))


def _sgd(params, lr, momentum):
    """mg.optim.SGD when it exists; otherwise the same update written out by hand."""
    try:
        from minigrad.optim import SGD
        return SGD(params, lr=lr, momentum=momentum)
    except ImportError:
        return _HandSGD(params, lr, momentum)


class _HandSGD:
    def __init__(self, params, lr, momentum):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.velocity = [None] * len(self.params)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @mg.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            v = p.grad if self.velocity[i] is None else self.velocity[i] * self.momentum + p.grad
            self.velocity[i] = v
            p -= self.lr * v


@contextlib.contextmanager
def _single_threaded():
    """One BLAS thread and one Numba thread while the block runs.

    This net's matrices are tiny (64 x 128): threads cannot speed them up, and on a shared
    machine (CI, 2 cores, other jobs) waiting for busy threads made each step up to 1000x
    slower. The numbers computed are the same either way.
    """
    import numba
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpoolctl.threadpool_limits(1):
            yield
    finally:
        numba.set_num_threads(before)


def test_mlp_learns_digits_to_95_percent():
    with _single_threaded():
        _train_and_evaluate()


def _train_and_evaluate():
    x_tr, y_tr, x_te, y_te = _digits()
    mg.manual_seed(0)
    model = MLP()
    opt = _sgd(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    xs, ys = mg.tensor(x_tr), mg.tensor(y_tr)

    model.train()
    for _epoch in range(15):
        order = rng.permutation(len(x_tr))
        for i in range(0, len(order), 64):
            batch = mg.tensor(order[i:i + 64])
            loss = F.cross_entropy(model(xs[batch]), ys[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()

    model.eval()
    with mg.no_grad():
        predictions = model(mg.tensor(x_te)).argmax(dim=1).numpy()
    accuracy = (predictions == y_te).mean()
    assert accuracy >= 0.95, f"held-out accuracy {accuracy:.3f}"
