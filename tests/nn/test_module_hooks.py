"""Module hooks compared with PyTorch: full backward hooks and pre-hooks (what they receive,
what their return values replace, when they fire and when they don't), and the options of
forward hooks (prepend, with_kwargs, always_call) and the global module hooks.

Each scenario is one function that takes the library (minigrad or torch) and runs the same
code on both; the tests compare what the hooks saw and the gradients that came out."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

LIBS = {"mg": mg, "torch": torch}


def _np(t):
    if t is None:
        return None
    return t.detach().numpy().copy() if isinstance(t, torch.Tensor) else t.array.copy()


def _recorder(events, name, returns=None):
    """A hook that records ``(name, grads...)`` as arrays (None stays None); ``returns``, if
    given, computes its return value from the hook's gradient arguments."""
    def hook(module, *grads):
        events.append((name,) + tuple(tuple(_np(g) for g in group) for group in grads))
        return None if returns is None else returns(*grads)
    return hook


def _assert_same(mine, theirs):
    """Nested tuples/lists of arrays (or None, or strings) equal to float64 precision."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(mine, (tuple, list)) and len(mine) == len(theirs), (mine, theirs)
        for a, b in zip(mine, theirs):
            _assert_same(a, b)
    elif theirs is None or isinstance(theirs, str):
        assert mine == theirs
    else:
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


def _compare(scenario, *args, **kwargs):
    """Run ``scenario(lib, ...)`` with minigrad and with torch; assert the same results."""
    results = {name: scenario(lib, *args, **kwargs) for name, lib in LIBS.items()}
    _assert_same(results["mg"], results["torch"])
    return results["mg"]


def _linear(lib, rng_state, n_in=5, n_out=3):
    """The same float64 Linear in both libraries (weights drawn from ``rng_state``)."""
    rng = np.random.default_rng(rng_state)
    layer = lib.nn.Linear(n_in, n_out).double()
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(rng.standard_normal((n_out, n_in))))
        layer.bias.copy_(lib.tensor(rng.standard_normal(n_out)))
    return layer


def _two_inputs(lib):
    """Two Tensor inputs, a number, a keyword argument, and a tuple of two outputs."""
    class TwoInputs(lib.nn.Module):
        def forward(self, a, b, k, shift=0.0):
            return a * b * k + shift, a.tanh()
    return TwoInputs()


# -- full backward hooks --------------------------------------------------------------------
def _linear_backward(lib, x_values, x_requires_grad=True, prepend=False):
    layer = _linear(lib, 7)
    events = []
    layer.register_full_backward_pre_hook(_recorder(events, "pre"))
    layer.register_full_backward_hook(_recorder(events, "full"))
    layer.register_full_backward_hook(_recorder(events, "full2"), prepend=prepend)
    x = lib.tensor(x_values, requires_grad=x_requires_grad)
    layer(x).pow(2).sum().backward()
    return events, _np(x.grad), _np(layer.weight.grad), _np(layer.bias.grad)


@pytest.mark.parametrize("prepend", [False, True])
def test_full_backward_hook_on_linear_sees_grad_input_and_grad_output(rng, prepend):
    events, *_ = _compare(_linear_backward, rng.standard_normal((7, 5)), prepend=prepend)
    assert [e[0] for e in events] == (["pre", "full2", "full"] if prepend
                                      else ["pre", "full", "full2"])


def test_no_input_requires_grad_fires_with_grad_output_and_warns(rng):
    """grad_input is all None and PyTorch's warning says why the hook fired early."""
    x = rng.standard_normal((3, 5))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        events, x_grad, *_ = _compare(_linear_backward, x, x_requires_grad=False)
    assert x_grad is None and events[1][1] == (None,)


def test_no_input_requires_grad_and_a_hook_returning_gradients_raises(rng):
    for lib in LIBS.values():
        layer = _linear(lib, 1)
        layer.register_full_backward_hook(lambda m, gi, go: (go[0],))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="should always return None"):
                layer(lib.tensor(rng.standard_normal((3, 5)))).sum().backward()


def _two_input_backward(lib, a_values, b_values, b_requires_grad, use_second_output):
    module = _two_inputs(lib)
    events = []
    module.register_full_backward_pre_hook(_recorder(events, "pre"))
    module.register_full_backward_hook(_recorder(events, "full"))
    a = lib.tensor(a_values, requires_grad=True)
    b = lib.tensor(b_values, requires_grad=b_requires_grad)
    y, z = module(a, b, 2.5, shift=1.0)
    loss = y.sum() + (z * z).sum() if use_second_output else y.sum()
    loss.backward()
    return events, _np(a.grad), _np(b.grad)


@pytest.mark.parametrize("b_requires_grad", [False, True])
@pytest.mark.parametrize("use_second_output", [False, True])
def test_two_inputs_a_number_and_a_tuple_output(rng, b_requires_grad, use_second_output):
    """grad_input has one entry per positional argument: None for the number, zeros for a
    Tensor that doesn't require grad; grad_output has None for an output nothing used."""
    events, *_ = _compare(_two_input_backward, rng.standard_normal(9), rng.standard_normal(9),
                          b_requires_grad, use_second_output)
    pre, full = events
    assert len(full[1]) == 3 and full[1][2] is None
    assert (pre[1][1] is None) is (not use_second_output)
    if not b_requires_grad:
        assert not full[1][1].any()


def _replacing_hooks(lib, a_values, b_values):
    module = _two_inputs(lib)
    events = []
    # the pre-hook doubles grad_output[0] and gives the unused second output a gradient
    module.register_full_backward_pre_hook(_recorder(
        events, "pre", lambda go: (go[0] * 2, lib.ones_like(go[0]))))
    # the full hooks see the pre-hook's grad_output; each sees the previous one's grad_input
    module.register_full_backward_hook(_recorder(
        events, "full", lambda gi, go: (gi[0] + 1, gi[1] * 3, None)))
    module.register_full_backward_hook(_recorder(events, "full2", lambda gi, go: None))
    a = lib.tensor(a_values, requires_grad=True)
    b = lib.tensor(b_values, requires_grad=True)
    y, _ = module(a * 1.0, b, -1.5)
    y.pow(2).sum().backward()
    return events, _np(a.grad), _np(b.grad)


def _integer_tensors_and_a_repeated_input(lib, x_values, w_values, index):
    """The same Tensor passed twice, an integer index Tensor, a keyword Tensor (not part of
    grad_input), an integer output (argmax, no gradient) and a forward hook replacing the
    output (the backward hooks see the replacement's gradient)."""
    class Mixed(lib.nn.Module):
        def forward(self, x, y, idx, w=None):
            return (x * y)[idx], (x + y).argmax(), x * w
    module, events = Mixed(), []
    module.register_full_backward_pre_hook(_recorder(events, "pre"))
    module.register_full_backward_hook(_recorder(events, "full"))
    module.register_forward_hook(lambda m, args, out: (out[0] * 2, out[1], out[2]))
    x = lib.tensor(x_values, requires_grad=True)
    w = lib.tensor(w_values, requires_grad=True)
    a, top, c = module(x, x, lib.tensor(index), w=w)
    (a.pow(2).sum() + c.sum()).backward()
    return events, str(top.dtype).split(".")[-1], top.requires_grad, _np(x.grad), _np(w.grad)


def test_integer_tensors_a_repeated_input_and_a_keyword_tensor(rng):
    events, *_ = _compare(_integer_tensors_and_a_repeated_input, rng.standard_normal(7),
                          rng.standard_normal(7), np.array([0, 4, 4, 6]))
    pre, full = events
    assert pre[1][1] is None and len(full[1]) == 3 and full[1][2].dtype == np.int64


def test_hooks_returning_gradients_replace_them(rng):
    events, a_grad, b_grad = _compare(_replacing_hooks, rng.standard_normal((3, 5)),
                                      rng.standard_normal((3, 5)))
    full, full2 = events[1][1], events[2][1]
    np.testing.assert_allclose(full2[0], full[0] + 1)       # full2 got full's replacement
    np.testing.assert_allclose(full2[1], full[1] * 3)


def test_a_hook_returning_none_for_an_input_blocks_its_gradient(rng):
    x_values = rng.standard_normal((4, 5))

    def run(lib):
        layer = _linear(lib, 3)
        layer.register_full_backward_hook(lambda m, gi, go: (None,))
        x = lib.tensor(x_values, requires_grad=True)
        layer(x).sum().backward()
        return _np(x.grad), _np(layer.weight.grad)
    x_grad, weight_grad = _compare(run)
    assert x_grad is None and weight_grad is not None


def _nested_and_twice(lib, x_values, retain):
    """One Linear applied twice (its hook fires once per call), backward run twice."""
    layer = _linear(lib, 11, 5, 5)
    events = []
    layer.register_full_backward_hook(_recorder(events, "full"))
    x = lib.tensor(x_values, requires_grad=True)
    out = layer(layer(x).tanh())
    out.pow(2).sum().backward(retain_graph=retain)
    if retain:
        out.sum().backward()
    return events, _np(x.grad)


@pytest.mark.parametrize("retain", [False, True])
def test_a_module_called_twice_fires_once_per_call_and_per_backward(rng, retain):
    events, _ = _compare(_nested_and_twice, rng.standard_normal((3, 5)), retain)
    assert len(events) == (4 if retain else 2)


def _autograd_grad(lib, x_values, wrt_input):
    layer = _linear(lib, 5)
    events = []
    layer.register_full_backward_hook(_recorder(events, "full"))
    x = lib.tensor(x_values, requires_grad=True)
    target = x if wrt_input else layer.weight
    (g,) = lib.autograd.grad(layer(x).pow(2).sum(), target)
    return events, _np(g)


@pytest.mark.parametrize("wrt_input", [False, True])
def test_autograd_grad_fires_the_hook_only_when_it_reaches_the_inputs(rng, wrt_input):
    events, _ = _compare(_autograd_grad, rng.standard_normal((3, 5)), wrt_input)
    assert len(events) == int(wrt_input)


def _second_derivative(lib, x_values):
    """A hook that scales grad_input, under create_graph: the scaled gradient is part of the
    graph, and differentiating it again goes back through the module (firing it again)."""
    layer = _linear(lib, 2)
    events = []
    layer.register_full_backward_hook(_recorder(events, "full", lambda gi, go: (gi[0] * 3,)))
    x = lib.tensor(x_values, requires_grad=True)
    (g,) = lib.autograd.grad(layer(x).tanh().sum(), x, create_graph=True)
    g.pow(2).sum().backward()
    return events, _np(g), _np(x.grad), _np(layer.weight.grad)


def test_hooks_under_create_graph_give_pytorchs_second_derivative(rng):
    _compare(_second_derivative, rng.standard_normal((3, 5)))


def test_a_hooked_module_passes_gradcheck_and_gradgradcheck(rng):
    """The identity ops around a hooked module are exact in first and second order."""
    module = _two_inputs(mg)
    calls = []
    module.register_full_backward_pre_hook(lambda m, go: calls.append("pre"))
    module.register_full_backward_hook(lambda m, gi, go: calls.append("full"))
    a = mg.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    assert mg.autograd.gradcheck(lambda a, b: module(a, b, 1.5), (a, b))
    assert mg.autograd.gradgradcheck(lambda a, b: module(a, b, 1.5), (a, b))
    assert calls[:2] == ["pre", "full"]


def test_no_hook_fires_when_no_output_requires_grad(rng):
    for lib in LIBS.values():
        layer = _linear(lib, 1)
        events = []
        layer.register_full_backward_hook(_recorder(events, "full"))
        layer.register_full_backward_pre_hook(_recorder(events, "pre"))
        x = lib.tensor(rng.standard_normal((3, 5)), requires_grad=True)
        with lib.no_grad():
            out = layer(x)
        assert not out.requires_grad and out.grad_fn is None
        y = layer(x).detach()
        assert not y.requires_grad and events == []


def test_a_dict_output_warns_that_backward_hooks_wont_fire(rng):
    x_values = rng.standard_normal(5)

    def run(lib):
        class DictOut(lib.nn.Module):
            def forward(self, x):
                return {"y": x * 2}
        module, events = DictOut(), []
        module.register_full_backward_hook(_recorder(events, "full"))
        x = lib.tensor(x_values, requires_grad=True)
        with pytest.warns(UserWarning, match="module output should be a Tensor or a tuple"):
            out = module(x)
        out["y"].sum().backward()
        return events, _np(x.grad)
    events, _ = _compare(run)
    assert events == []


def _removal(lib, x_values):
    layer = _linear(lib, 9)
    events = []
    before = layer.register_full_backward_hook(_recorder(events, "removed before forward"))
    after = layer.register_full_backward_hook(_recorder(events, "removed after forward"))
    with layer.register_full_backward_pre_hook(_recorder(events, "with block")):
        pass
    before.remove()
    x = lib.tensor(x_values, requires_grad=True)
    out = layer(x)
    after.remove()               # the call already took its hooks: this one still fires
    out.sum().backward()
    layer(x).sum().backward()    # a new call: no hooks left
    return events, _np(x.grad)


def test_removed_hooks_stop_firing_from_the_next_call(rng):
    events, _ = _compare(_removal, rng.standard_normal((3, 5)))
    assert [e[0] for e in events] == ["removed after forward"]


@pytest.mark.parametrize("returns, error, match", [
    (lambda gi, go: (gi[0], gi[0]), RuntimeError, "invalid number of grad_input, got 2"),
    (lambda gi, go: (gi[0][:1],), RuntimeError, "of shape"),
    (lambda gi, go: (3.0,), TypeError, "float"),
])
def test_bad_hook_results_raise_like_pytorch(rng, returns, error, match):
    x_values = rng.standard_normal((4, 5))
    for lib in LIBS.values():
        layer = _linear(lib, 3)
        layer.register_full_backward_hook(lambda m, gi, go: returns(gi, go))
        with pytest.raises(error):
            layer(lib.tensor(x_values, requires_grad=True)).sum().backward()
    layer = _linear(mg, 3)
    layer.register_full_backward_hook(lambda m, gi, go: returns(gi, go))
    with pytest.raises(error, match=match):
        layer(mg.tensor(x_values, requires_grad=True)).sum().backward()


def test_bad_pre_hook_results_name_the_hook_and_the_module(rng):
    x = mg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    layer = _linear(mg, 3)
    layer.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2, but "
                                           "expected 1.*of Linear"):
        layer(x).sum().backward()
    layer = _linear(mg, 3)
    layer.register_full_backward_pre_hook(lambda m, go: go[0] * 2)
    with pytest.raises(TypeError, match="returned a Tensor; it must return None or a tuple"):
        layer(x).sum().backward()
    layer = _linear(mg, 3)
    layer.register_full_backward_pre_hook(lambda m, go: (go[0].float(),))
    with pytest.raises(RuntimeError, match="dtype float32, but it replaces a gradient of "
                                           "shape \\(4, 3\\) and dtype float64"):
        layer(x).sum().backward()


def test_inputs_and_outputs_are_views_sharing_memory_and_versions(rng):
    """forward sees views of its inputs: a write under no_grad reaches the caller's tensor,
    and a tensor saved for backward notices it (its version counter is shared)."""
    class Scale(mg.nn.Module):
        def forward(self, x):
            with mg.no_grad():
                x.mul_(2.0)
            return x * 1.0
    module = Scale()
    module.register_full_backward_hook(lambda m, gi, go: None)
    values = rng.standard_normal(5)
    x = mg.tensor(values, requires_grad=True) * 1.0
    saved = x * x                         # saves x for its backward
    module(x)
    np.testing.assert_allclose(x.array, 2 * values)
    with pytest.raises(RuntimeError, match="modified in place"):
        saved.sum().backward()


def test_in_place_on_a_hooked_output_keeps_the_gradients_right(rng):
    """PyTorch refuses this (its output is a view made by a custom Function); minigrad
    computes a recorded in-place op out of place, so the hook still sees dL/d(output)."""
    layer = _linear(mg, 6)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append(go[0].array.copy()))
    x = mg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    y = layer(x)
    y.mul_(3.0)
    y.sum().backward()
    np.testing.assert_allclose(seen[0], np.full((4, 3), 3.0))
    np.testing.assert_allclose(x.grad.array, np.full((4, 3), 3.0) @ layer.weight.array)


# -- global module hooks ----------------------------------------------------------------------
def _global_hooks(lib, x_values):
    mod = lib.nn.modules.module
    events = []
    handles = [
        mod.register_module_forward_pre_hook(
            lambda m, args: events.append(("global pre", type(m).__name__))),
        mod.register_module_forward_hook(
            lambda m, args, out: events.append(("global fwd", type(m).__name__))),
        mod.register_module_full_backward_pre_hook(_recorder(events, "global bw pre")),
        mod.register_module_full_backward_hook(_recorder(events, "global bw")),
    ]
    try:
        model = lib.nn.Sequential(_linear(lib, 1), lib.nn.Tanh())
        model[0].register_forward_pre_hook(lambda m, args: events.append(("own pre",)))
        model[0].register_forward_hook(lambda m, args, out: events.append(("own fwd",)))
        model[0].register_full_backward_pre_hook(_recorder(events, "own bw pre"))
        model[0].register_full_backward_hook(_recorder(events, "own bw"))
        x = lib.tensor(x_values, requires_grad=True)
        model(x).pow(2).sum().backward()
    finally:
        for handle in handles:
            handle.remove()
    model(x)                       # removed: nothing more is recorded
    return events, _np(x.grad)


def test_global_module_hooks_run_for_every_module_before_its_own(rng):
    events, _ = _compare(_global_hooks, rng.standard_normal((2, 5)))
    assert [e[0] for e in events[:4]] == ["global pre", "global pre", "own pre", "global fwd"]


# -- forward hook options -----------------------------------------------------------------------
def _forward_options(lib, a_values, b_values):
    module = _two_inputs(lib)
    events = []

    def pre_with_kwargs(m, args, kwargs):
        events.append(("pre kwargs", sorted(kwargs)))
        return (args[0], args[1] * 2, args[2]), {**kwargs, "shift": 3.0}

    module.register_forward_pre_hook(lambda m, args: events.append(("pre",)))
    module.register_forward_pre_hook(pre_with_kwargs, with_kwargs=True, prepend=True)
    module.register_forward_hook(lambda m, args, kwargs, out: (
        events.append(("fwd kwargs", kwargs["shift"])), (out[0] + 1, out[1]))[1],
        with_kwargs=True)
    module.register_forward_hook(lambda m, args, out: events.append(("first",)),
                                 prepend=True)
    a = lib.tensor(a_values, requires_grad=True)
    y, z = module(a, lib.tensor(b_values), 0.5, shift=1.0)
    (y * z).sum().backward()
    return events, _np(y), _np(a.grad)


def test_forward_hooks_prepend_and_with_kwargs(rng):
    events, *_ = _compare(_forward_options, rng.standard_normal(7), rng.standard_normal(7))
    assert [e[0] for e in events] == ["pre kwargs", "pre", "first", "fwd kwargs"]


def test_a_kwargs_pre_hook_must_return_args_and_kwargs(rng):
    for lib in LIBS.values():
        layer = _linear(lib, 1)
        layer.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
        with pytest.raises(RuntimeError, match="must return None or a tuple of "
                                               "\\(new_args, new_kwargs\\)"):
            layer(lib.tensor(rng.standard_normal((2, 5))))


def _always_call(lib, x_values, hook_fails):
    class Failing(lib.nn.Module):
        def forward(self, x):
            raise ValueError("forward failed")
    module, events = Failing(), []

    def always(m, args, out):
        events.append(("always", out))
        if hook_fails:
            raise KeyError("hook failed too")
    module.register_forward_hook(lambda m, args, out: events.append(("plain",)))
    module.register_forward_hook(always, always_call=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="forward failed"):
            module(lib.tensor(x_values))
    messages = [str(w.message).split(":")[0] for w in caught]
    return events, messages


@pytest.mark.parametrize("hook_fails", [False, True])
def test_always_call_forward_hooks_run_when_forward_raises(rng, hook_fails):
    events, messages = _compare(_always_call, rng.standard_normal(3), hook_fails)
    assert events == [("always", None)]
    assert len(messages) == int(hook_fails)


def test_always_call_hooks_that_already_ran_do_not_run_again(rng):
    def run(lib):
        layer, events = _linear(lib, 1), []
        layer.register_forward_hook(lambda m, a, o: events.append("always"), always_call=True)

        def failing(m, args, out):
            raise ValueError("second hook failed")
        layer.register_forward_hook(failing)
        with pytest.raises(ValueError, match="second hook failed"):
            layer(lib.tensor(rng.standard_normal((2, 5))))
        return events
    assert _compare(run) == ["always"]
