"""The fused LSTM gate op equals the cell written out in separate ops, values and gradients."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.ops.lstm_gates import lstm_gates, lstm_gates_reference


def test_fused_gates_match_the_written_out_cell():
    rng = np.random.default_rng(3)
    gates_np, c_np = rng.normal(size=(5, 12)) * 3, rng.normal(size=(5, 3))
    gh_np, gc_np = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    results = []
    for fn in (lstm_gates, lstm_gates_reference):
        gates = mg.tensor(gates_np, requires_grad=True)
        c = mg.tensor(c_np, requires_grad=True)
        h, c_new = fn(gates, c)
        mg.autograd.backward([h, c_new], [mg.tensor(gh_np), mg.tensor(gc_np)])
        results.append([h.detach().numpy(), c_new.detach().numpy(), gates.grad.numpy(),
                        c.grad.numpy()])
    for fused, reference in zip(*results):
        np.testing.assert_allclose(fused, reference, rtol=1e-12, atol=1e-14)
