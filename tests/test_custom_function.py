"""``mg.autograd.Function``: PyTorch's custom Function, forward and backward on Tensors.

The Functions of ``docs_functions`` are written the way PyTorch's documentation and tutorials
write them, against a module passed in as ``torch``: the same source runs on minigrad and on
PyTorch, and the tests compare the two (values, first and second derivatives). The other
tests cover one ``ctx`` feature or one error each.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import ArrayFunction, Context, Function, gradcheck, gradgradcheck
from minigrad.autograd.function import once_differentiable


def docs_functions(torch):
    """Custom Functions in the style of PyTorch's docs, for ``torch`` = minigrad or PyTorch."""
    Function = torch.autograd.Function
    once_differentiable = torch.autograd.function.once_differentiable

    class MyReLU(Function):                      # "Learning PyTorch with examples"
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    class LegendrePolynomial3(Function):         # "polynomial_custom_function"
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    class Exp(Function):                         # saves its output
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    class LinearFunction(Function):              # "Extending PyTorch", setup_context style
        @staticmethod
        def forward(input, weight, bias=None):
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class MulConstant(Function):                 # a non-Tensor argument
        @staticmethod
        def forward(ctx, tensor, constant):
            ctx.constant = constant
            return tensor * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    class Sinh(Function):                        # "double backward" tutorial: intermediates
        @staticmethod                            # returned as outputs, so they have a graph
        def forward(ctx, x):
            expx = x.exp()
            expnegx = (-x).exp()
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, grad_out_exp, grad_out_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            grad_input += grad_out_exp * expx
            grad_input -= grad_out_negexp * expnegx
            return grad_input

    class Sort(Function):                        # mark_non_differentiable, once_differentiable
        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return values, idx

        @staticmethod
        @once_differentiable
        def backward(ctx, g1, g2):
            x, idx = ctx.saved_tensors
            grad_input = torch.zeros_like(x)
            grad_input.index_add_(0, idx, g1)
            return grad_input

    class ScaleBoth(Function):                   # set_materialize_grads(False)
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            grad = None
            if g1 is not None:
                grad = g1 * 2
            if g2 is not None:
                grad = g2 * 3 if grad is None else grad + g2 * 3
            return grad

    class AddRowwise(Function):                  # backward leaves the broadcast to PyTorch
        @staticmethod
        def forward(ctx, x, bias):
            return x + bias

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output

    return types.SimpleNamespace(**{c.__name__: c for c in (
        MyReLU, LegendrePolynomial3, Exp, LinearFunction, MulConstant, Sinh, Sort, ScaleBoth,
        AddRowwise)})


MG = docs_functions(mg)


def _away_from_zero(shape, seed):
    """Random float64 values with |x| >= 0.2 (kinks and sorting ties stay out of reach of
    gradcheck's 1e-6 steps)."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.where(np.abs(x) < 0.2, 0.2 + np.abs(x), x)


# (name, how to call it on a namespace of Functions, input shapes, differentiable twice?)
CASES = [
    ("MyReLU", lambda F, x: F.MyReLU.apply(x), [(3, 5)], True),
    ("LegendrePolynomial3", lambda F, x: F.LegendrePolynomial3.apply(x), [(7,)], True),
    ("Exp", lambda F, x: F.Exp.apply(x), [(2, 3)], True),
    ("LinearFunction", lambda F, x, w, b: F.LinearFunction.apply(x, w, b),
     [(4, 3), (5, 3), (5,)], True),
    ("LinearFunction-no-bias", lambda F, x, w: F.LinearFunction.apply(x, w),
     [(4, 3), (5, 3)], True),
    ("MulConstant", lambda F, x: F.MulConstant.apply(x, 2.5), [(3, 3)], True),
    ("Sinh", lambda F, x: F.Sinh.apply(x)[0], [(5,)], True),
    ("Sort", lambda F, x: F.Sort.apply(x)[0], [(7,)], False),
    ("ScaleBoth-first", lambda F, x: F.ScaleBoth.apply(x)[0], [(4,)], True),
    ("ScaleBoth-both", lambda F, x: F.ScaleBoth.apply(x), [(4,)], True),
    ("AddRowwise", lambda F, x, b: F.AddRowwise.apply(x, b), [(4, 3), (3,)], True),
]
IDS = [c[0] for c in CASES]


def _inputs(shapes):
    return tuple(mg.tensor(_away_from_zero(s, i), requires_grad=True)
                 for i, s in enumerate(shapes))


@pytest.mark.parametrize("name, call, shapes, twice", CASES, ids=IDS)
def test_docs_style_function_passes_gradcheck(name, call, shapes, twice):
    assert gradcheck(lambda *xs: call(MG, *xs), _inputs(shapes))
    if twice:
        assert gradgradcheck(lambda *xs: call(MG, *xs), _inputs(shapes))


@pytest.mark.parametrize("name, call, shapes, twice", CASES, ids=IDS)
def test_docs_style_function_matches_pytorch(name, call, shapes, twice):
    """Values, gradients and (where the Function allows it) gradients of a gradient agree
    with PyTorch running the same source."""
    torch = pytest.importorskip("torch")
    TF = docs_functions(torch)
    arrays = [_away_from_zero(s, i) for i, s in enumerate(shapes)]
    xs_m = [mg.tensor(a, requires_grad=True) for a in arrays]
    xs_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_m, out_t = call(MG, *xs_m), call(TF, *xs_t)
    out_m = out_m if isinstance(out_m, tuple) else (out_m,)
    out_t = out_t if isinstance(out_t, tuple) else (out_t,)
    for m, t in zip(out_m, out_t):
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-12)
        assert m.requires_grad == t.requires_grad
    # a weighted sum of the outputs, so every output's gradient matters
    weights = [np.random.default_rng(9).standard_normal(tuple(t.shape)) for t in out_t]
    loss_m = sum((m * mg.tensor(w)).sum() for m, w in zip(out_m, weights) if m.requires_grad)
    loss_t = sum((t * torch.tensor(w)).sum() for t, w in zip(out_t, weights) if t.requires_grad)
    g_m = mg.autograd.grad(loss_m, xs_m, create_graph=twice)
    g_t = torch.autograd.grad(loss_t, xs_t, create_graph=twice)
    for a, b in zip(g_m, g_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        assert a.requires_grad == b.requires_grad
    if twice and any(g.requires_grad for g in g_t):    # (MyReLU's gradient is constant in x)
        gg_m = mg.autograd.grad(sum((g ** 2).sum() for g in g_m if g.requires_grad), xs_m,
                                allow_unused=True)
        gg_t = torch.autograd.grad(sum((g ** 2).sum() for g in g_t if g.requires_grad), xs_t,
                                   allow_unused=True)
        for a, b in zip(gg_m, gg_t):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


# -- how apply records the call ---------------------------------------------------------------

def test_forward_gets_the_tensors_themselves_with_recording_off():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x, k):
            seen.update(x=x, k=k, recording=mg.is_grad_enabled(), inner=(x * 2).grad_fn)
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * 3, None

    x = mg.randn(3, requires_grad=True)
    y = Probe.apply(x, 3)
    assert seen["x"] is x and seen["k"] == 3
    assert seen["recording"] is False and seen["inner"] is None
    assert mg.is_grad_enabled()                                  # switched back on after
    assert isinstance(y.grad_fn, Context) and y.grad_fn.name == "Probe"
    assert repr(y.grad_fn) == "<ProbeBackward>"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_built_in_ops_do_not_go_through_function():
    """minigrad's own ops are ArrayFunctions: no Tensor-level wrapping on their hot path."""
    x = mg.randn(3, requires_grad=True)
    node = x.exp().grad_fn
    assert type(node) is Context and issubclass(node.fn, ArrayFunction)
    assert not issubclass(node.fn, Function)


def test_needs_input_grad_as_in_pytorch():
    seen = []

    class Record(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen.append(ctx.needs_input_grad)
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            return None, None, None

    a, b = mg.randn(2, requires_grad=True), mg.randn(2)
    Record.apply(a, b, 2)
    with mg.no_grad():
        y = Record.apply(a, b, 2)
    assert seen == [(True, False, False), (True, False, False)]
    assert not y.requires_grad and y.grad_fn is None             # nothing recorded


def test_saved_tensors_come_back_as_input_output_intermediate_and_none():
    got = {}

    class Save(Function):
        @staticmethod
        def forward(ctx, x):
            mid = x * 2
            y = mid.exp()
            ctx.save_for_backward(x, y, mid, None)
            return y

        @staticmethod
        def backward(ctx, g):
            got["saved"] = ctx.saved_tensors
            x, y, mid, nothing = got["saved"]
            return g * y * 2

    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    y = Save.apply(x)
    y.sum().backward()
    sx, sy, smid, snone = got["saved"]
    assert sx is x                                               # a leaf input: itself
    assert sy.grad_fn is y.grad_fn and sy is not y               # output: made by the node
    assert not smid.requires_grad and snone is None
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * x.detach().numpy()))
    assert gradgradcheck(Save.apply, (x,))


def test_saved_input_modified_in_place_is_refused_naming_the_class():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    a = mg.randn(3, requires_grad=True)
    h = a * 1.0
    y = Square.apply(h)
    with mg.no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match="Square: a tensor it saved for backward .* "
                                           "modified in place"):
        y.sum().backward()


def test_saved_tensors_after_the_graph_was_freed():
    class Keep(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    y = Keep.apply(mg.randn(2, requires_grad=True) * 1.0)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*Keep"):
        _ = y.grad_fn.saved_tensors


def test_save_for_backward_refuses_what_is_not_a_tensor():
    class SaveArray(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, x.detach().numpy())
            return x * 2

    with pytest.raises(TypeError, match="SaveArray: save_for_backward can only save Tensors "
                                        "or None, but argument 1 is a ndarray"):
        SaveArray.apply(mg.randn(2, requires_grad=True))


def test_mark_non_differentiable_output_gets_zero_gradient():
    got = []

    class MaxAndArg(Function):
        @staticmethod
        def forward(ctx, x):
            value = x.amax(0, keepdim=True)
            mask = (x == value).to(x.dtype)
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(mask)
            return value, mask

        @staticmethod
        def backward(ctx, g_value, g_mask):
            got.append(g_mask)
            (mask,) = ctx.saved_tensors
            return g_value * mask

    x = mg.tensor([1.0, 5.0, 2.0], requires_grad=True)
    value, mask = MaxAndArg.apply(x)
    assert value.requires_grad and not mask.requires_grad and mask.grad_fn is None
    value.sum().backward()
    np.testing.assert_array_equal(got[0].numpy(), [0.0, 0.0, 0.0])   # materialized zeros
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])


def test_integer_outputs_never_require_grad():
    class ArgMax(Function):
        @staticmethod
        def forward(ctx, x):
            return x.argmax(), x.max()

        @staticmethod
        def backward(ctx, g_index, g_max):
            return None

    index, top = ArgMax.apply(mg.randn(4, requires_grad=True))
    assert not index.requires_grad and top.requires_grad


def test_materialize_grads_false_passes_none_for_unused_outputs():
    got = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            got.append((g1, g2))
            return g1 * 2

    x = mg.randn(3, requires_grad=True)
    a, _ = Two.apply(x)
    a.sum().backward()
    assert got[0][0] is not None and got[0][1] is None


def test_non_tensor_outputs_pass_through_and_get_none():
    got = []

    class WithCount(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x.numel()

        @staticmethod
        def backward(ctx, g, g_count):
            got.append(g_count)
            return g * 2

    x = mg.randn(3, requires_grad=True)
    y, n = WithCount.apply(x)
    assert n == 3
    y.sum().backward()
    assert got == [None]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_input_returned_as_it_is_becomes_a_new_tensor_over_the_same_memory():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = mg.randn(3, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and y.grad_fn is not None and x.is_leaf
    assert np.shares_memory(y.array, x.array) and y._version is x._version
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0, 5.0])


def test_mark_dirty_makes_the_input_itself_the_output():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = mg.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3.0
    before = h._version[0]
    out = AddOneInPlace.apply(h)
    assert out is h and h.grad_fn.name == "AddOneInPlace" and h._version[0] > before
    np.testing.assert_array_equal(h.detach().numpy(), [4.0, 7.0])
    h.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])       # through the old node


def test_mark_dirty_is_seen_by_graphs_that_saved_the_input():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = mg.tensor([1.0, 2.0], requires_grad=True)
    h = a * 1.0
    z = h * h                                  # saves h
    Double.apply(h)
    with pytest.raises(RuntimeError, match="modified in place"):
        z.sum().backward()


def test_mark_dirty_on_a_leaf_that_requires_grad_is_refused():
    class Dirty(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="Dirty: a leaf Tensor that requires grad"):
        Dirty.apply(mg.randn(2, requires_grad=True))


def test_setup_context_gets_every_argument_defaults_included():
    seen = []

    class Scale(Function):
        @staticmethod
        def forward(x, factor=4.0, *, shift=0.0):
            return x * factor + shift

        @staticmethod
        def setup_context(ctx, inputs, output):
            seen.append((len(inputs), inputs[1], output.requires_grad))
            ctx.factor = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor, None

    x = mg.randn(3, requires_grad=True)
    y = Scale.apply(x, shift=1.0)
    assert seen == [(2, 4.0, False)]                 # output not yet made by the node
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0, 4.0])


def test_setup_context_tracks_a_tensor_passed_by_keyword():
    x, w, b = (mg.randn(4, 3, dtype=mg.float64, requires_grad=True),
               mg.randn(5, 3, dtype=mg.float64, requires_grad=True),
               mg.randn(5, dtype=mg.float64, requires_grad=True))
    MG.LinearFunction.apply(x, w, bias=b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), np.full(5, 4.0))
    assert gradcheck(lambda x, w, b: MG.LinearFunction.apply(x, weight=w, bias=b), (x, w, b))


def test_vjp_is_an_alias_of_backward():
    class Triple(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def vjp(ctx, g):
            return g * 3

    x = mg.randn(2, dtype=mg.float64, requires_grad=True)
    assert gradcheck(Triple.apply, (x,))


# -- once_differentiable ----------------------------------------------------------------------

class CubeInNumPy(Function):
    """A backward computed in NumPy: right once, not differentiable again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mg.from_numpy(3 * x.detach().numpy() ** 2 * g.detach().numpy())


def test_once_differentiable_first_derivative_works():
    x = mg.randn(4, dtype=mg.float64, requires_grad=True)
    assert gradcheck(CubeInNumPy.apply, (x,))
    (g,) = mg.autograd.grad(CubeInNumPy.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)


def test_once_differentiable_refuses_a_second_derivative_by_name():
    x = mg.randn(4, dtype=mg.float64, requires_grad=True)
    (g,) = mg.autograd.grad(CubeInNumPy.apply(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="CubeInNumPy.backward is decorated with "
                                           "@once_differentiable"):
        mg.autograd.grad(g.sum(), x)
    with pytest.raises(RuntimeError, match="CubeInNumPy.backward is decorated"):
        gradgradcheck(CubeInNumPy.apply, (x,))


def test_once_differentiable_backward_runs_unrecorded():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            seen.append(mg.is_grad_enabled())
            return g * 2

    x = mg.randn(2, requires_grad=True)
    mg.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert seen == [False]


# -- errors name the class --------------------------------------------------------------------

def test_forward_returning_an_array_names_the_class():
    class ArrayOut(Function):
        @staticmethod
        def forward(ctx, x):
            return np.exp(x.detach().numpy())

    with pytest.raises(TypeError, match=r"ArrayOut.forward returned an array \(ndarray\).* "
                                        "must return Tensors.*ArrayFunction"):
        ArrayOut.apply(mg.randn(2, requires_grad=True))


def _backward_returning(result):
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return result(g)

    return Wrong


@pytest.mark.parametrize("result, error, words", [
    (lambda g: g, RuntimeError, r"Wrong.backward returned 1 gradient\(s\), but forward took 2"),
    (lambda g: (g, g, g), RuntimeError, r"Wrong.backward returned 3 gradient\(s\)"),
    (lambda g: (g, g.sum()), RuntimeError,
     r"Wrong.backward returned a gradient of shape \(\) for input 1, which has shape \(3, 1\)"),
    (lambda g: (g, g.detach().numpy()), TypeError,
     "Wrong.backward must return Tensors or None, got ndarray for input 1 .*mg.from_numpy"),
], ids=["too-few", "too-many", "wrong-shape", "array"])
def test_backward_mistakes_name_the_class(result, error, words):
    x, y = mg.randn(3, 1, requires_grad=True), mg.randn(3, 1, requires_grad=True)
    with pytest.raises(error, match=words):
        _backward_returning(result).apply(x, y).sum().backward()


def test_extra_trailing_none_gradients_are_accepted():
    x, y = mg.randn(3, 1, requires_grad=True), mg.randn(3, 1, requires_grad=True)
    _backward_returning(lambda g: (g, g, None, None)).apply(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 1)))


def test_missing_backward_names_the_class():
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="NoBackward defines no backward"):
        NoBackward.apply(mg.randn(2, requires_grad=True)).sum().backward()


def test_calling_an_instance_says_to_use_apply():
    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(RuntimeError, match=r"Twice.apply\(...\)"):
        Twice()(mg.randn(2))
