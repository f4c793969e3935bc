"""Tensor.register_hook and retain_grad, compared with PyTorch: a hook runs once per pass on
the gradient summed over every use of its tensor, and what it returns replaces that gradient."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def _both(values):
    """The same float64 values as a minigrad leaf and a torch leaf."""
    return (mg.tensor(values.copy(), requires_grad=True),
            torch.tensor(values.copy(), requires_grad=True))


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.array


def _recorder(calls, scale=None):
    """A hook that records each gradient it sees, and returns ``grad * scale`` if given."""
    def hook(grad):
        calls.append(_np(grad).copy())
        return None if scale is None else grad * scale
    return hook


def _close(mine, theirs):
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("uses", [1, 2, 3])
@pytest.mark.parametrize("scale", [None, 3.0])
def test_leaf_hook_runs_once_on_the_summed_gradient(rng, uses, scale):
    values = rng.standard_normal(7)
    coefs = rng.standard_normal(uses)
    calls, grads = {}, {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        calls[lib] = []
        x.register_hook(_recorder(calls[lib], scale))
        loss = sum((x * float(c)).sin().sum() for c in coefs)      # x used `uses` times
        loss.backward()
        grads[lib] = _np(x.grad)
    assert len(calls["mg"]) == 1
    _close(calls["mg"], calls["torch"])
    np.testing.assert_allclose(grads["mg"], grads["torch"], rtol=1e-12)


def test_non_leaf_hook_runs_once_and_its_result_flows_on(rng):
    values = rng.standard_normal(5)
    calls, grads = {}, {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        calls[lib] = []
        y = x * 2.0
        y.register_hook(_recorder(calls[lib], scale=-0.5))
        (y * y + y.exp() + y).sum().backward()
        grads[lib] = _np(x.grad)
    assert len(calls["mg"]) == 1
    _close(calls["mg"], calls["torch"])
    np.testing.assert_allclose(grads["mg"], grads["torch"], rtol=1e-12)


def test_several_hooks_run_in_order_each_on_the_previous_result(rng):
    values = rng.standard_normal(3)
    seen, grads = {}, {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        seen[lib] = []
        x.register_hook(lambda g, s=seen[lib]: (s.append(("a", _np(g).copy())), g + 1)[1])
        x.register_hook(lambda g, s=seen[lib]: s.append(("b", _np(g).copy())))
        x.register_hook(lambda g, s=seen[lib]: (s.append(("c", _np(g).copy())), g * 2)[1])
        (x * x + x).sum().backward()
        grads[lib] = _np(x.grad)
    assert [n for n, _ in seen["mg"]] == [n for n, _ in seen["torch"]] == ["a", "b", "c"]
    _close([g for _, g in seen["mg"]], [g for _, g in seen["torch"]])
    np.testing.assert_allclose(grads["mg"], grads["torch"], rtol=1e-12)


def test_removed_hook_no_longer_runs(rng):
    x = mg.tensor(rng.standard_normal(4), requires_grad=True)
    calls = []
    handle = x.register_hook(_recorder(calls, scale=5.0))
    handle.remove()
    handle.remove()                                 # a second remove does nothing, as in torch
    (x * x).sum().backward()
    assert calls == []
    np.testing.assert_allclose(x.grad.array, 2 * x.array)


@pytest.mark.parametrize("retain_first", [True, False])
def test_retain_grad_sees_the_hooked_gradient_whatever_the_order(rng, retain_first):
    values = rng.standard_normal(5)
    kept = {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        y = x * 2.0
        if retain_first:
            y.retain_grad()
        y.register_hook(lambda g: g * 10)
        if not retain_first:
            y.retain_grad()
        (y * y + y).sum().backward()
        kept[lib] = (_np(y.grad), _np(x.grad))
    for a, b in zip(kept["mg"], kept["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_autograd_grad_runs_a_leaf_hook_once_and_returns_its_result(rng):
    values = rng.standard_normal(6)
    calls, out = {}, {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        calls[lib] = []
        x.register_hook(_recorder(calls[lib], scale=10.0))
        grad = (mg.autograd.grad if lib == "mg" else torch.autograd.grad)
        out[lib] = _np(grad((x * x + x.sin()).sum(), x)[0])
        assert x.grad is None                       # autograd.grad writes no .grad
    _close(calls["mg"], calls["torch"])
    np.testing.assert_allclose(out["mg"], out["torch"], rtol=1e-12)


def test_autograd_grad_skips_the_hooks_of_tensors_off_every_path(rng):
    calls = {}
    for lib, make in (("mg", lambda v: mg.tensor(v, requires_grad=True)),
                      ("torch", lambda v: torch.tensor(v, requires_grad=True))):
        x, w = make(rng.standard_normal(3)), make(rng.standard_normal(3))
        calls[lib] = []
        x.register_hook(lambda g, c=calls[lib]: c.append("x"))
        y = x * 2.0
        y.register_hook(lambda g, c=calls[lib]: c.append("y"))
        (mg.autograd.grad if lib == "mg" else torch.autograd.grad)((y * w).sum(), w)
    assert calls["mg"] == calls["torch"] == []


def test_autograd_grad_of_a_non_leaf_and_a_leaf_below_it(rng):
    """PyTorch returns a non-leaf input's gradient from before its hooks when its node must
    still run for another input, while the hooked gradient is what flows on to the leaf."""
    values = rng.standard_normal(4)
    out = {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        y = x * 2.0
        y.register_hook(lambda g: g * 10)
        grad = (mg.autograd.grad if lib == "mg" else torch.autograd.grad)
        alone = grad((y * y).sum(), y, retain_graph=True)[0]
        both = grad((y * y).sum(), [y, x])
        out[lib] = [_np(alone), _np(both[0]), _np(both[1])]
    for a, b in zip(out["mg"], out["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_backward_with_inputs_runs_the_leaf_hook_once(rng):
    values = rng.standard_normal(5)
    calls, grads = {}, {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        calls[lib] = []
        x.register_hook(_recorder(calls[lib], scale=3.0))
        (x * x + x).sum().backward(inputs=[x])
        grads[lib] = _np(x.grad)
    assert len(calls["mg"]) == 1
    _close(calls["mg"], calls["torch"])
    np.testing.assert_allclose(grads["mg"], grads["torch"], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_hook_with_create_graph_gets_a_gradient_in_the_graph(rng):
    values = rng.standard_normal(4)
    seen, second = {}, {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        seen[lib] = []
        x.register_hook(lambda g, s=seen[lib]: (s.append(g.requires_grad), g * g)[1])
        (x ** 3).sum().backward(create_graph=True)
        grad = x.grad                               # (3 x^2)^2, differentiable in x
        (second[lib],) = (mg.autograd.grad if lib == "mg" else torch.autograd.grad)(
            grad.sum(), x)
        second[lib] = _np(second[lib])
    assert seen["mg"] == seen["torch"] == [True, False]
    np.testing.assert_allclose(second["mg"], second["torch"], rtol=1e-12)


def test_root_leaf_given_twice_to_autograd_grad(rng):
    values = rng.standard_normal(3)
    calls, out = {}, {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        calls[lib] = []
        x.register_hook(_recorder(calls[lib], scale=3.0))
        ones = (mg.ones if lib == "mg" else torch.ones)(3, dtype=x.dtype)
        grad = (mg.autograd.grad if lib == "mg" else torch.autograd.grad)
        out[lib] = _np(grad([x, x * 2.0], x, [ones, ones])[0])
    _close(calls["mg"], calls["torch"])
    np.testing.assert_allclose(out["mg"], out["torch"], rtol=1e-12)


def test_hook_and_post_accumulate_hook_order(rng):
    values = rng.standard_normal(3)
    events = {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        ev = events[lib] = []
        x.register_hook(lambda g, ev=ev: (ev.append(("pre", _np(g).copy())), g * 2)[1])
        x.register_post_accumulate_grad_hook(
            lambda t, ev=ev: ev.append(("post", _np(t.grad).copy())))
        (x * x + x).sum().backward()
    assert [n for n, _ in events["mg"]] == [n for n, _ in events["torch"]] == ["pre", "post"]
    _close([g for _, g in events["mg"]], [g for _, g in events["torch"]])


def test_hook_on_a_tensor_without_grad_is_refused_naming_the_op():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        torch.zeros(3).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match=r"register_hook: .*doesn't require grad.*\(3,\)"):
        mg.zeros(3).register_hook(lambda g: g)


@pytest.mark.parametrize("bad, message", [
    (lambda g: g.sum(), "changed the gradient's shape from \\(4,\\) to \\(\\)"),
    (lambda g: g.to(mg.float32), "changed the gradient's dtype"),
])
def test_hook_returning_a_wrong_gradient_is_refused(rng, bad, message):
    x = mg.tensor(rng.standard_normal(4), requires_grad=True)
    x.register_hook(bad)
    with pytest.raises(RuntimeError, match=message):
        (x * x).sum().backward()


def test_hook_returning_a_non_tensor_is_refused(rng):
    x = mg.tensor(rng.standard_normal(4), requires_grad=True)
    x.register_hook(lambda g: 3.0)
    with pytest.raises(TypeError, match="must return a Tensor or None"):
        (x * x).sum().backward()


def test_module_forward_hooks_match_torch_on_a_small_model(rng):
    """Pre-hooks may replace the inputs (a bare value becomes a 1-tuple), forward hooks the
    output; they run in registration order and the replaced values carry gradients."""
    w1, b1 = rng.standard_normal((5, 3)), rng.standard_normal(5)
    w2, b2 = rng.standard_normal((2, 5)), rng.standard_normal(2)
    x_values = rng.standard_normal((4, 3))
    results = {}
    for lib, nn, tensor in (("mg", mg.nn, mg.tensor), ("torch", torch.nn, torch.tensor)):
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
        model.load_state_dict({"0.weight": tensor(w1), "0.bias": tensor(b1),
                               "2.weight": tensor(w2), "2.bias": tensor(b2)})
        events = []
        model[0].register_forward_pre_hook(lambda m, args, ev=events: (ev.append("pre"),
                                                                       args[0] * 2)[1])
        model[0].register_forward_hook(lambda m, args, out, ev=events: (ev.append("fwd1"),
                                                                        out + 1)[1])
        gone = model[0].register_forward_hook(lambda m, args, out, ev=events: ev.append("gone"))
        model[2].register_forward_hook(lambda m, args, out, ev=events: ev.append(
            ("fwd2", tuple(args[0].shape))))
        gone.remove()
        x = tensor(x_values, requires_grad=True)
        out = model(x)
        out.pow(2).sum().backward()
        results[lib] = (events, _np(out), _np(x.grad), _np(model[0].weight.grad))
    assert results["mg"][0] == results["torch"][0]
    for a, b in zip(results["mg"][1:], results["torch"][1:]):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_backward_with_a_non_leaf_input_retains_its_hooked_gradient(rng):
    values = rng.standard_normal(4)
    kept = {}
    for lib, x in zip(("mg", "torch"), _both(values)):
        y = x * 2.0
        y.register_hook(lambda g: g * 3)
        (y * y + y).sum().backward(inputs=[y, x], retain_graph=True)
        first = (_np(y.grad).copy(), _np(x.grad).copy(), y.retains_grad)
        (y * y).sum().backward()                      # y now keeps its .grad, as in torch
        kept[lib] = first + (_np(y.grad), _np(x.grad))
    assert kept["mg"][2] is kept["torch"][2] is True
    for i in (0, 1, 3, 4):
        np.testing.assert_allclose(kept["mg"][i], kept["torch"][i], rtol=1e-12)
