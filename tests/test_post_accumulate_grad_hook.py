"""Tensor.register_post_accumulate_grad_hook: called once per backward, after the leaf's
.grad holds the whole gradient of that pass (what DistributedDataParallel builds on)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_hook_sees_the_accumulated_grad_after_tensor_hooks(rng):
    x = mg.tensor(rng.standard_normal(5), requires_grad=True)
    seen = []
    x.register_hook(lambda g: g * 10)
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.array.copy()))
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], np.full(5, 20.0))
    np.testing.assert_allclose(seen[1], np.full(5, 50.0))


def test_hook_runs_once_when_the_leaf_is_used_several_times(rng):
    w = mg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    x = mg.tensor(rng.standard_normal((4, 3)))
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.array.copy()))
    loss = (x @ w @ w).sum() + (w * w).sum()
    loss.backward()
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], w.grad.array)        # the complete gradient


def test_each_hook_runs_once_per_backward_like_pytorch():
    torch = pytest.importorskip("torch")
    order = {}
    for lib, make in (("mg", lambda v: mg.tensor(v, requires_grad=True)),
                      ("torch", lambda v: torch.tensor(v, requires_grad=True))):
        a, b, c = make([1.0, 2.0]), make([3.0, 4.0]), make([0.5, 0.25])
        events = []
        for name, t in (("a", a), ("b", b), ("c", c)):
            t.register_post_accumulate_grad_hook(lambda t, name=name, events=events: events.append(name))
        (((a * b).sum() * c).sum() + (a * a).sum()).backward()
        order[lib] = sorted(events)
    assert order["mg"] == order["torch"]


def test_no_hook_for_autograd_grad_and_remove(rng):
    x = mg.tensor(rng.standard_normal(3), requires_grad=True)
    calls = []
    handle = x.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    mg.autograd.grad((x * x).sum(), x)
    assert calls == []                          # autograd.grad writes no .grad
    (x * x).sum().backward(inputs=[x])
    assert calls == [1]
    handle.remove()
    (x * x).sum().backward()
    assert calls == [1]


def test_hook_on_a_non_leaf_or_a_constant_is_refused(rng):
    x = mg.tensor(rng.standard_normal(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require grad"):
        mg.ones(3).register_post_accumulate_grad_hook(lambda t: None)


def test_hook_on_a_leaf_that_is_the_root(rng):
    x = mg.tensor(rng.standard_normal(()), requires_grad=True)
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(float(t.grad.array)))
    x.backward()
    assert calls == [1.0]
