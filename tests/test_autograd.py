"""The backward engine: accumulation, retain_graph, hooks, grad modes, memory, anomalies."""

from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function


def test_gradient_accumulates_across_backward_calls():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_shared_subexpression_gets_summed_gradient():
    x = mg.tensor(1.5, requires_grad=True)
    y = x * x
    z = y + y * y            # dz/dx = 2x + 4x^3
    z.backward()
    assert x.grad.item() == pytest.approx(2 * 1.5 + 4 * 1.5 ** 3, rel=1e-6)


def test_second_backward_through_freed_graph_raises():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_what_forward_stored_on_a_node_is_gone_after_backward_frees_it():
    x = mg.randn(3, 5, requires_grad=True)
    y = x * mg.randn(5)
    node = y.grad_fn
    assert node.a_shape == (3, 5)           # Mul's forward stores the shapes on its node
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*Mul"):
        _ = node.a_shape
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*Mul"):
        _ = node.saved_tensors
    assert node.next_edges[0] == (x, -1)    # the graph's structure stays


def test_a_custom_function_names_itself_for_a_missing_ctx_attribute():
    class Forgets(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * ctx.scale

    y = Forgets.apply(mg.randn(3, requires_grad=True))
    with pytest.raises(AttributeError, match="Forgets context has no attribute 'scale'"):
        y.sum().backward()


def test_retain_graph_allows_a_second_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_backward_of_non_scalar_needs_gradient():
    x = mg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(3,\)"):
        (x * 2).backward()
    (x * 2).backward(mg.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])


def test_backward_without_requires_grad_explains():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_no_grad_and_enable_grad():
    x = mg.randn(3, requires_grad=True)
    with mg.no_grad():
        y = x * 2
        with mg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @mg.no_grad()
    def f(a):
        return a * 2
    assert not f(x).requires_grad
    assert mg.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_memory():
    x = mg.randn(3, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x.detach()
    assert np.shares_memory(y.array, x.array)


def test_long_chain_has_no_recursion_limit():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-3)
    del y
    gc.collect()


def test_hooks_can_read_and_replace_gradients():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 3
    h = y.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(seen[0], [1, 1])
    np.testing.assert_allclose(x.grad.numpy(), [30, 30])
    h.remove()


def test_retain_grad_on_non_leaf():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 8.0])


def test_autograd_grad_returns_without_touching_dot_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mg.autograd.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])
    assert x.grad is None


def test_autograd_grad_of_intermediate_and_unused():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([5.0], requires_grad=True)
    h = x * 2
    out = (h * h).sum()
    (gh,) = mg.autograd.grad(out, h, retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="not used"):
        mg.autograd.grad(out, [x, w], retain_graph=True)
    gx, gw = mg.autograd.grad(out, [x, w], allow_unused=True)
    assert gw is None


def test_hessian_vector_product_and_gradient_penalty():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    A = A + A.T
    x = mg.tensor(rng.standard_normal(4), dtype=mg.float64, requires_grad=True)
    v = mg.tensor(rng.standard_normal(4), dtype=mg.float64)
    f = 0.5 * (x @ (mg.tensor(A) @ x))            # Hessian = A
    (g,) = mg.autograd.grad(f, x, create_graph=True)
    (hv,) = mg.autograd.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.numpy(), A @ v.numpy(), rtol=1e-10)
    # gradient penalty: d/dw of ||d(out)/dx||^2 flows through the first gradient
    w = mg.tensor(rng.standard_normal(4), dtype=mg.float64, requires_grad=True)
    out = (mg.tanh(x * w)).sum()
    (gx,) = mg.autograd.grad(out, x, create_graph=True)
    (gx * gx).sum().backward()
    assert w.grad is not None and np.isfinite(w.grad.numpy()).all()


def test_third_derivative():
    x = mg.tensor(0.7, dtype=mg.float64, requires_grad=True)
    y = mg.sin(x)
    (d1,) = mg.autograd.grad(y, x, create_graph=True)
    (d2,) = mg.autograd.grad(d1, x, create_graph=True)
    (d3,) = mg.autograd.grad(d2, x)
    assert d3.item() == pytest.approx(-np.cos(0.7))


def test_saved_buffers_are_freed_after_backward():
    """Without retain_graph, what forward saved is dropped once backward has used it."""
    x = mg.randn(50, 50, requires_grad=True)
    h = mg.tanh(x @ x)                      # Tanh saves its output
    saved = h.grad_fn._saved[0].value      # the array Tanh keeps for backward
    ref = weakref.ref(saved)
    del saved
    loss = (h * 2).sum()
    del h
    loss.backward()
    gc.collect()
    assert ref() is None, "the saved activation should be released after backward"


def test_graph_is_kept_with_retain_graph():
    x = mg.randn(20, 20, requires_grad=True)
    h = mg.tanh(x)
    ref = weakref.ref(h.grad_fn._saved[0].value)
    loss = h.sum()
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None


def test_custom_function_student_style():
    class Cube(Function):
        """y = x^3,  dy/dx = 3x^2."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    x = mg.randn(4, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(Cube.apply, (x,))
    assert mg.autograd.gradgradcheck(Cube.apply, (x,))


def test_backward_returning_wrong_shape_is_explained():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum(0)

        @staticmethod
        def backward(ctx, g):
            return g  # forgot to broadcast back

    x = mg.randn(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Bad.backward returned a gradient of shape \(4,\) "
                                           r"for input 0, which has shape \(3, 4\)"):
        Bad.apply(x).sum().backward()


def test_gradcheck_failure_names_input_index_and_values():
    class WrongSign(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * -2

    x = mg.randn(2, 3, dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.autograd.GradcheckError) as e:
        mg.autograd.gradcheck(WrongSign.apply, (x,))
    msg = str(e.value)
    assert "input 0" in msg and "element (0, 0)" in msg
    assert "-2" in msg and "wrong sign" in msg


def test_gradcheck_hints_at_a_missing_factor_of_two():
    class HalfSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2x

    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.autograd.GradcheckError, match="half the numeric one"):
        mg.autograd.gradcheck(HalfSquare.apply, (x,))


def test_gradcheck_insists_on_float64():
    with pytest.raises(ValueError, match="float64"):
        mg.autograd.gradcheck(mg.exp, (mg.randn(3, requires_grad=True),))


def test_detect_anomaly_names_the_op_forward_and_backward():
    x = mg.tensor([-1.0, 1.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="'Log' returned nan"):
            mg.log(x)
    y = mg.tensor([0.0, 1.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        z = mg.sqrt(y)  # forward fine: sqrt(0) = 0; backward 1/(2*0) = inf
        with pytest.raises(RuntimeError, match="inf values.*while computing the backward "
                                               "of 'Sqrt'"):
            z.sum().backward()


def test_inplace_on_leaf_requiring_grad_is_refused_outside_no_grad():
    p = mg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p -= 1.0
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p.zero_()


def test_inplace_sgd_step_updates_the_same_tensor():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    ref = p
    (p * p).sum().backward()
    with mg.no_grad():
        p -= 0.1 * p.grad
    assert ref is p
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6], rtol=1e-6)
    p.grad.zero_()
    np.testing.assert_allclose(p.grad.numpy(), [0, 0])


def test_inplace_on_non_leaf_is_recorded():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += x * x            # y = 2x + x^2
    y *= 3                # y = 6x + 3x^2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6 + 6 * 1, 6 + 6 * 2])


def test_modifying_a_saved_tensor_in_place_is_detected():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    a = mg.tensor([3.0, 4.0])
    y = x * a           # Mul saves a
    with mg.no_grad():
        a += 1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_setitem_records_gradient_for_value():
    x = mg.zeros(2, 3)
    v = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[1] = v * 2
    x.sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [2, 2, 2])


def test_multiple_outputs_only_one_used():
    x = mg.randn(3, 4, requires_grad=True)
    a, b, c = mg.split(x, [1, 2, 1], dim=1)
    b.sum().backward()
    expected = np.zeros((3, 4))
    expected[:, 1:3] = 1
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_backward_inputs_argument():
    x = mg.tensor([1.0], requires_grad=True)
    w = mg.tensor([2.0], requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and w.grad.item() == 1.0


def test_set_grad_enabled_as_call_context_and_decorator():
    x = mg.randn(2, requires_grad=True)

    @mg.set_grad_enabled(False)
    def double(a):
        return a * 2

    assert not double(x).requires_grad and mg.is_grad_enabled()
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    mg.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        mg.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_leaves_sharing_one_gradient_array_accumulate_separately():
    """``a + b`` hands one gradient array to both leaves; each must own its .grad, or the
    second backward's in-place accumulation into one would change the other too."""
    a = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = mg.tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True)
    scale = mg.tensor(np.array([1.0, 10.0, 100.0]))
    for _ in range(2):
        # the product's backward makes a fresh array of its own (not a broadcast view, which
        # the engine would copy anyway); the sum then hands that one array to a and to b
        ((a + b) * scale).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 20.0, 200.0])
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 20.0, 200.0])
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize("with_hook", [False, True], ids=["plain", "post_accumulate_hook"])
def test_backward_adds_into_an_existing_grad_in_place(with_hook):
    """As PyTorch's AccumulateGrad (outside create_graph): ``.grad += new`` in the existing
    memory, so a ``.grad`` that is a view of a larger buffer keeps filling that buffer
    (DistributedDataParallel's gradient_as_bucket_view relies on it)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    values = rng.standard_normal(5)
    buffer = np.zeros(7)
    x = mg.tensor(values, requires_grad=True)
    x.grad = mg.Tensor._make(buffer[1:6])
    if with_hook:
        x.register_post_accumulate_grad_hook(lambda t: None)
    for _ in range(2):
        (x * x).sum().backward()
    t_buffer = torch.zeros(7, dtype=torch.float64)
    tx = torch.tensor(values, requires_grad=True)
    tx.grad = t_buffer[1:6]
    for _ in range(2):
        (tx * tx).sum().backward()
    np.testing.assert_allclose(buffer, t_buffer.numpy(), rtol=1e-15)
    assert np.shares_memory(x.grad.array, buffer)


def test_root_gradient_is_not_adopted_by_a_leaf():
    """backward(gradient=g) on a leaf-fed sum must not make g itself a leaf's .grad (a later
    accumulation would write into the caller's array)."""
    a = mg.tensor(np.zeros(3), requires_grad=True)
    g = mg.tensor(np.array([1.0, 2.0, 3.0]))
    (a * 1.0).backward(g)
    (a * 1.0).backward(g)
    np.testing.assert_array_equal(g.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0, 6.0])


def test_gradcheck_fails_on_a_nan_gradient():
    class NanGradient(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.autograd.GradcheckError, match="analytic .* = nan"):
        mg.autograd.gradcheck(NanGradient.apply, (x,))
    assert not mg.autograd.gradcheck(NanGradient.apply, (x,), raise_exception=False)


def test_reading_grad_of_a_non_leaf_warns_as_pytorch_does():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None
    z = x * 2
    z.retain_grad()
    z.sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(z.grad.numpy(), [1.0, 1.0])
        np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])  # 3 + 2, accumulated


def test_array_function_whose_forward_returns_a_tensor_gets_a_clear_error():
    class Double(mg.autograd.ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            return mg.tensor(x) * 2          # should have been x * 2 on the array

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(TypeError, match="Double.forward returned a Tensor.*raw arrays.*"
                                        "subclass mg.autograd.Function"):
        Double.apply(mg.tensor([1.0], requires_grad=True))


def test_a_write_through_a_view_is_seen_by_a_graph_that_saved_the_base():
    """A view shares its base's version counter (as in PyTorch): changing the memory through
    either one makes a backward that saved the other fail loudly instead of using the new
    values."""
    a = mg.tensor([0.5, 1.0, 1.5], requires_grad=True)
    z = a.exp()                          # Exp saves its output z
    with mg.no_grad():
        z.view(3)[0] = 100.0             # the same memory as z, through a view
    with pytest.raises(RuntimeError, match="modified in place"):
        z.sum().backward()

    b = mg.tensor([[0.5, 1.0], [1.5, 2.0]], requires_grad=True)
    y = b * 1.0
    w = y[:, 0]                          # a view of y's memory
    out = (w * w).sum()                  # Mul saves w
    with mg.no_grad():
        y.mul_(2.0)                      # writes into the memory w views
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


def test_size_with_a_dim_out_of_range_names_the_range():
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        mg.ones(2, 3).size(2)
    with pytest.raises(IndexError, match="tensor has no dimensions"):
        mg.tensor(3.0).size(0)
    assert mg.ones(2, 3).size(-2) == 2
