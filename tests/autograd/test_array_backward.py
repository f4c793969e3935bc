"""``ArrayFunction.backward_arrays``: an op's backward on raw arrays, which the engine runs when
the backward is not recorded (no ``create_graph``), and ``backward`` on Tensors otherwise.

For every op that has one: the two paths give the same gradients (same values, dtypes and
shapes), the plain backward really took the array path and ``create_graph=True`` really took
the Tensor path (a spy on the class's array backward), and second derivatives still pass
``gradgradcheck``. Then the mechanism itself, on small ops of the tests' own: the fallback
(``NotImplemented``), hooks, saved-tensor version checks, released graphs, unused outputs,
the checks on what ``backward_arrays`` returns, and which classes get one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.function import ArrayFunction, Function
from minigrad.ops import (
    activation,
    dropout,
    elementwise,
    join,
    linear,
    loss,
    matmul,
    movement,
    normalization,
    reduce,
)

DTYPES = [np.float32, np.float64]


def _leaf(rng, shape, dtype, low=None):
    a = rng.standard_normal(shape)
    if low is not None:                      # away from a kink or a pole: |a| >= low
        a = np.where(a >= 0, a + low, a - low)
    return mg.tensor(a.astype(dtype), requires_grad=True)


class _Spy:
    """Counts the calls of ``cls``'s array backward (replaced for the test's duration)."""

    def __init__(self, monkeypatch, cls):
        original = cls._array_backward
        assert original is not None, f"{cls.__name__} has no backward_arrays"
        self.calls = 0

        def spy(ctx, *grads):
            self.calls += 1
            return original(ctx, *grads)

        monkeypatch.setattr(cls, "_array_backward", staticmethod(spy))


# name -> (op class whose array backward is checked, inputs(rng, dtype), function of them)
def _cases():
    def pair(sa, sb, low=None):
        return lambda rng, dt: (_leaf(rng, sa, dt), _leaf(rng, sb, dt, low))

    def one(shape, low=None):
        return lambda rng, dt: (_leaf(rng, shape, dt, low),)

    def where_inputs(rng, dt):
        cond = mg.tensor(rng.standard_normal((3, 1, 5)) > 0)
        return cond, _leaf(rng, (4, 5), dt), _leaf(rng, (3, 4, 1), dt)

    def linear_inputs(rng, dt):
        return _leaf(rng, (2, 3, 5), dt), _leaf(rng, (4, 5), dt), _leaf(rng, (4,), dt)

    def addmm_inputs(rng, dt):
        return _leaf(rng, (3, 4), dt), _leaf(rng, (3, 5), dt), _leaf(rng, (5, 4), dt)

    def norm_inputs(rng, dt):
        return _leaf(rng, (3, 4, 5), dt), _leaf(rng, (5,), dt), _leaf(rng, (5,), dt)

    def batch_inputs(rng, dt):
        return _leaf(rng, (6, 3, 5), dt), _leaf(rng, (3,), dt), _leaf(rng, (3,), dt)

    def ce_inputs(rng, dt):
        return (_leaf(rng, (7, 5), dt),)

    target = mg.tensor(np.array([0, 4, 2, 2, 1, 3, -100]))
    class_weight = {np.float32: None, np.float64: None}

    def ce(reduction):
        def f(x):
            w = class_weight.setdefault(x.dtype, mg.tensor(np.linspace(0.5, 2, 5), dtype=x.dtype))
            return F.cross_entropy(x, target, weight=w, reduction=reduction)
        return f

    return {
        "add": (elementwise.Add, pair((3, 1, 5), (4, 5)), lambda a, b: a + b),
        "add_same_shape": (elementwise.Add, pair((4, 5), (4, 5)), lambda a, b: a + b),
        "add_0d": (elementwise.Add, pair((3, 5), ()), lambda a, b: a + b),
        "sub": (elementwise.Sub, pair((4, 1), (3, 1, 5)), lambda a, b: a - b),
        "mul": (elementwise.Mul, pair((3, 4, 5), (4, 1)), lambda a, b: a * b),
        "mul_number": (elementwise.Mul, one((3, 5)), lambda a: a * 2.5),
        "div": (elementwise.Div, pair((3, 4, 5), (5,), low=0.5), lambda a, b: a / b),
        "neg": (elementwise.Neg, one((3, 5)), lambda a: -a),
        "exp": (elementwise.Exp, one((3, 5)), lambda a: a.exp()),
        "tanh": (elementwise.Tanh, one((3, 5)), lambda a: a.tanh()),
        "sigmoid": (elementwise.Sigmoid, one((3, 5)), lambda a: a.sigmoid()),
        "relu": (elementwise.Relu, one((3, 7), low=0.1), F.relu),
        "where": (elementwise.Where, where_inputs, lambda c, a, b: mg.where(c, a, b)),
        "reshape": (movement.Reshape, one((3, 4, 5)), lambda a: a.transpose(0, 2).reshape(5, 12)),
        "view": (movement.View, one((3, 4, 5)), lambda a: a.view(12, 5)),
        "permute": (movement.Permute, one((2, 3, 5)), lambda a: a.permute(2, 0, 1)),
        "transpose": (movement.Permute, one((2, 3, 5)), lambda a: a.transpose(0, 2)),
        "expand": (movement.BroadcastTo, one((3, 1, 5)), lambda a: a.expand(2, 3, 4, 5)),
        "sum_to": (movement.SumTo, one((2, 3, 4)), lambda a: movement.sum_to(a, (3, 1))),
        "softmax": (activation.Softmax, one((3, 4, 5)), lambda a: F.softmax(a, dim=1)),
        "log_softmax": (activation.LogSoftmax, one((3, 5)), lambda a: F.log_softmax(a, dim=-1)),
        "gelu": (activation.Gelu, one((3, 7)), F.gelu),
        "gelu_tanh": (activation.Gelu, one((3, 7)), lambda a: F.gelu(a, approximate="tanh")),
        "layer_norm": (normalization.Normalize, norm_inputs,
                       lambda x, w, b: F.layer_norm(x, (5,), w, b)),
        "layer_norm_two_dims": (normalization.Normalize, one((2, 3, 4)),
                                lambda x: F.layer_norm(x, (3, 4))),
        "group_norm": (normalization.Normalize, batch_inputs,
                       lambda x, w, b: F.group_norm(x, 1, w, b)),
        "batch_norm": (normalization.BatchNormalize, batch_inputs,
                       lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
        "linear": (linear.Linear, linear_inputs, F.linear),
        "sum_dims": (reduce.Sum, one((3, 4, 5)), lambda a: a.sum((0, 2))),
        "sum_keepdim": (reduce.Sum, one((3, 4, 5)), lambda a: a.sum(1, keepdim=True)),
        "sum_all": (reduce.Sum, one((3, 5)), lambda a: a.sum()),
        "mean": (reduce.Sum, one((3, 5)), lambda a: a.mean(-1)),
        "cat": (join.Cat, pair((2, 3, 5), (2, 4, 5)), lambda a, b: mg.cat([a, b, a], dim=1)),
        "split": (join.Split, one((3, 7)),
                  lambda a: mg.cat([p * (i + 1) for i, p in enumerate(a.split([2, 4, 1], 1))],
                                   dim=1)),
        "split_unused_piece": (join.Split, one((7, 3)), lambda a: a.split(3)[1] * 2),
        "linear_transposed_input": (linear.Linear, linear_inputs,
                                    lambda x, w, b: F.linear(x.transpose(0, 1), w, b)),
        "matmul": (matmul.MatMul, pair((3, 5), (5, 4)), lambda a, b: a @ b),
        "matmul_batch_by_matrix": (matmul.MatMul, pair((2, 3, 5), (5, 4)), lambda a, b: a @ b),
        "matmul_broadcast_batches": (matmul.MatMul, pair((2, 1, 3, 5), (3, 5, 4)),
                                     lambda a, b: a @ b),
        "addmm": (matmul.Addmm, addmm_inputs,
                  lambda c, a, b: mg.addmm(c, a, b, beta=0.5, alpha=1.5)),
        "addmm_row_bias": (matmul.Addmm, addmm_inputs,
                           lambda c, a, b: mg.addmm(c[0], a, b)),
        "cross_entropy_mean": (loss.CrossEntropyLoss, ce_inputs, ce("mean")),
        "cross_entropy_none": (loss.CrossEntropyLoss, ce_inputs, ce("none")),
        "cross_entropy_sum": (loss.CrossEntropyLoss, ce_inputs, ce("sum")),
        "dropout": (dropout.Dropout, one((5, 6)), lambda a: F.dropout(a, 0.4)),
        "dropout2d": (dropout.ChannelDropout, one((2, 4, 3, 3)), lambda a: F.dropout2d(a, 0.5)),
        "alpha_dropout": (dropout.AlphaDropout, one((5, 6)),
                          lambda a: F.alpha_dropout(a, 0.3, training=True)),
    }


CASES = _cases()
RANDOM_FORWARD = {"dropout", "dropout2d", "alpha_dropout"}   # a new mask per forward


def _both_paths(monkeypatch, op, inputs, fn, rng):
    """(plain gradients, recorded gradients, array backward calls in each)."""
    spy = _Spy(monkeypatch, op)
    y = fn(*inputs)
    wrt = [t for t in inputs if t.requires_grad]
    up = mg.tensor(rng.standard_normal(y.shape).astype(y.dtype))
    plain = mg.autograd.grad(y, wrt, up, retain_graph=True)
    plain_calls = spy.calls
    up_recorded = up.detach().requires_grad_()      # the recorded gradients depend on it
    recorded = mg.autograd.grad(y, wrt, up_recorded, create_graph=True)
    return plain, recorded, plain_calls, spy.calls - plain_calls


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_array_backward_equals_tensor_backward(monkeypatch, name, dtype):
    op, make, fn = CASES[name]
    rng = np.random.default_rng(len(name))
    plain, recorded, plain_calls, recorded_calls = _both_paths(
        monkeypatch, op, make(rng, dtype), fn, rng)
    assert plain_calls >= 1, "a plain backward must run the array backward"
    assert recorded_calls == 0, "create_graph=True must run the Tensor backward"
    tol = 2e-6 if dtype == np.float32 else 1e-13
    for p, r in zip(plain, recorded):
        assert not p.requires_grad and r.requires_grad
        assert p.dtype == r.dtype == dtype and p.shape == r.shape
        np.testing.assert_allclose(p.numpy(), r.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(set(CASES) - RANDOM_FORWARD))
def test_second_derivatives_take_the_tensor_path(name):
    op, make, fn = CASES[name]
    inputs = make(np.random.default_rng(7), np.float64)
    assert mg.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name", sorted(RANDOM_FORWARD))
def test_dropout_second_derivative_is_the_same_mask(name):
    """Dropout's forward draws a new mask each call (no gradgradcheck): its gradient is
    linear in g, so the gradient of <grad, v> with respect to g is the mask applied to v."""
    op, make, fn = CASES[name]
    rng = np.random.default_rng(2)
    (x,) = make(rng, np.float64)
    y = fn(x)
    g = mg.tensor(rng.standard_normal(y.shape), requires_grad=True)
    (gx,) = mg.autograd.grad(y, [x], g, create_graph=True)
    v = mg.tensor(rng.standard_normal(x.shape))
    (gg,) = mg.autograd.grad(gx, [g], v)
    (mask_v,) = mg.autograd.grad(y, [x], v)
    np.testing.assert_allclose(gg.numpy(), mask_v.numpy(), rtol=1e-14)


_OPS = {"add": (elementwise.Add, lambda a, b: a + b),
        "sub": (elementwise.Sub, lambda a, b: a - b),
        "mul": (elementwise.Mul, lambda a, b: a * b),
        "div": (elementwise.Div, lambda a, b: a / b)}


@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       name=st.sampled_from(sorted(_OPS)), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**16))
def test_broadcasting_arithmetic_array_backward_matches(shapes, name, dtype, seed):
    op, fn = _OPS[name]
    rng = np.random.default_rng(seed)
    a, b = (_leaf(rng, s, dtype, low=0.5) for s in shapes.input_shapes)
    with pytest.MonkeyPatch.context() as monkeypatch:
        plain, recorded, plain_calls, recorded_calls = _both_paths(monkeypatch, op, (a, b), fn,
                                                                   rng)
    assert (plain_calls, recorded_calls) == (1, 0)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    for p, r, t in zip(plain, recorded, (a, b)):
        assert p.shape == r.shape == t.shape and p.dtype == r.dtype == dtype
        np.testing.assert_allclose(p.numpy(), r.detach().numpy(), rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------------
# The mechanism, on ops of the tests' own
# ---------------------------------------------------------------------------------------------

class Scale(ArrayFunction):
    """y = 3 x, with both backwards counting their calls; the array one only takes float64."""

    tensor_calls = array_calls = 0

    @staticmethod
    def forward(ctx, x):
        return 3 * x

    @staticmethod
    def backward(ctx, g):
        Scale.tensor_calls += 1
        return g * 3

    @staticmethod
    def backward_arrays(ctx, g):
        if g.dtype != np.float64:
            return NotImplemented
        Scale.array_calls += 1
        return g * 3


@pytest.fixture
def counts():
    Scale.tensor_calls = Scale.array_calls = 0
    return Scale


@pytest.mark.parametrize("dtype,array_calls,tensor_calls",
                         [(np.float64, 1, 0), (np.float32, 0, 1)])
def test_not_implemented_falls_back_to_the_tensor_backward(counts, dtype, array_calls,
                                                           tensor_calls):
    x = mg.tensor(np.arange(5.0, dtype=dtype), requires_grad=True)
    Scale.apply(x).sum().backward()
    assert (counts.array_calls, counts.tensor_calls) == (array_calls, tensor_calls)
    np.testing.assert_array_equal(x.grad.numpy(), np.full(5, 3, dtype))
    assert x.grad.dtype == dtype


def test_create_graph_runs_the_tensor_backward(counts):
    x = mg.tensor(np.arange(5.0), requires_grad=True)
    (gx,) = mg.autograd.grad(Scale.apply(x).sum(), [x], create_graph=True)
    assert (counts.array_calls, counts.tensor_calls) == (0, 1)


def test_hooks_see_and_change_the_gradients_of_the_array_path(counts):
    x = mg.tensor(np.arange(4.0), requires_grad=True)
    h = x * 1.0
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g + 1)                 # on the leaf: after Scale's backward
    y = Scale.apply(h)
    y.register_hook(lambda g: g * 2)                 # on Scale's output: before its backward
    y.sum().backward()
    assert counts.array_calls == 1
    np.testing.assert_array_equal(seen[0], np.full(4, 6.0))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(4, 7.0))


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_saved_input_modified_in_place_raises_on_both_paths(create_graph):
    a = mg.tensor(np.arange(1.0, 5.0), requires_grad=True)
    c = mg.tensor(np.full(4, 2.0))
    y = a * c                                        # Mul saves a and c
    with mg.no_grad():
        c += 1
    with pytest.raises(RuntimeError, match="Mul.*modified in place"):
        mg.autograd.grad(y.sum(), [a], create_graph=create_graph)


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_saved_output_modified_in_place_raises_on_both_paths(create_graph):
    x = mg.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    y = x.exp()                                     # Exp saves its output
    with mg.no_grad():
        y.view(6)[0] = 100.0                         # through a view of the same memory
    with pytest.raises(RuntimeError, match="Exp.*modified in place"):
        mg.autograd.grad(y.sum(), [x], create_graph=create_graph)


def test_backward_twice_without_retain_graph_raises_on_the_array_path():
    a = mg.tensor(np.arange(1.0, 4.0), requires_grad=True)
    y = (a * a).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_keeps_what_the_array_backward_reads():
    a = mg.tensor(np.arange(1.0, 4.0), requires_grad=True)
    y = F.softmax(a * a, dim=0).sum() + (a.exp() * a).sum()
    y.backward(retain_graph=True)
    first = a.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * first, rtol=1e-15)


class TwoOutputs(ArrayFunction):
    """(2x, x^2): the array backward gets zeros for an output that got no gradient."""

    received = []

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 2 * x, x * x

    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        return 2 * g1 + 2 * x * g2

    @staticmethod
    def backward_arrays(ctx, g1, g2):
        TwoOutputs.received.append((g1.copy(), g2.copy()))
        (x,) = ctx.saved_arrays
        return 2 * g1 + 2 * x * g2


def test_an_unused_output_gets_zeros_on_the_array_path():
    TwoOutputs.received.clear()
    x = mg.tensor(np.arange(3.0), requires_grad=True)
    _, sq = TwoOutputs.apply(x)
    sq.sum().backward()
    (g1, g2), = TwoOutputs.received
    np.testing.assert_array_equal(g1, np.zeros(3))
    np.testing.assert_array_equal(g2, np.ones(3))
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.arange(3.0))


class Returns(ArrayFunction):
    """Its array backward returns whatever the test puts in ``Returns.value``."""

    value = None

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g

    @staticmethod
    def backward_arrays(ctx, g):
        return Returns.value(g)


def test_what_the_array_backward_returns_is_checked():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    Returns.value = lambda g: np.ones(4, np.float32)
    with pytest.raises(RuntimeError, match=r"Returns.backward returned a gradient of shape \(4,\)"):
        Returns.apply(x).sum().backward()
    Returns.value = lambda g: mg.tensor(g)
    with pytest.raises(TypeError, match="Returns.backward_arrays must return arrays"):
        Returns.apply(x).sum().backward()
    Returns.value = lambda g: (g, g)
    with pytest.raises(RuntimeError, match="returned 2 gradient"):
        Returns.apply(x).sum().backward()


def test_the_array_backward_dtype_and_scalars_become_the_inputs():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    Returns.value = lambda g: g.astype(np.float64) * 2
    Returns.apply(x).sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 2, np.float32))
    s = mg.tensor(np.float64(2.0), requires_grad=True)
    Returns.value = lambda g: np.float64(5.0)          # a NumPy scalar, as a 0-d sum gives
    Returns.apply(s).backward()
    assert s.grad.shape == () and s.grad.item() == 5.0


def test_a_subclass_that_overrides_backward_does_not_inherit_backward_arrays():
    class Doubled(Scale):
        @staticmethod
        def backward(ctx, g):
            return g * 6

    class Kept(Scale):
        pass

    assert Doubled._array_backward is None
    assert Kept._array_backward is not None
    x = mg.tensor(np.arange(3.0), requires_grad=True)
    (Doubled.apply(x) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 12.0))


def test_ops_without_backward_arrays_and_functions_use_the_tensor_backward():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

    assert Cube._node_fn._array_backward is None
    assert elementwise.Sin._array_backward is None
    x = mg.tensor(np.arange(1.0, 4.0), requires_grad=True)
    (Cube.apply(x).sin()).sum().backward()
    v = np.arange(1.0, 4.0)
    np.testing.assert_allclose(x.grad.numpy(), np.cos(v ** 3) * 3 * v ** 2)


def test_a_leaf_gets_its_own_copy_of_a_gradient_the_array_path_passes_on():
    """Add's array backward hands the same array to both inputs: each leaf's .grad must be
    its own, or accumulating into one would change the other."""
    a = mg.tensor(np.ones(3), requires_grad=True)
    b = mg.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    (a * 5).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full(3, 6.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3))


@pytest.mark.parametrize("name", ["layer_norm", "batch_norm", "group_norm", "softmax",
                                  "log_softmax", "gelu", "mul", "add", "relu", "where"])
def test_float16_paths_agree(monkeypatch, name):
    """float16 takes other code in several ops (normalization's array statistics instead of
    its kernels): the two paths still give the same gradients."""
    op, make, fn = CASES[name]
    rng = np.random.default_rng(11)
    plain, recorded, plain_calls, recorded_calls = _both_paths(
        monkeypatch, op, make(rng, np.float16), fn, rng)
    assert (plain_calls >= 1, recorded_calls) == (True, 0)
    for p, r in zip(plain, recorded):
        assert p.dtype == r.dtype == np.float16 and p.shape == r.shape
        np.testing.assert_allclose(p.numpy().astype(np.float64),
                                   r.detach().numpy().astype(np.float64), rtol=2e-3, atol=2e-3)


def test_linear_float16_falls_back_to_the_tensor_backward(monkeypatch):
    x = mg.tensor(np.linspace(-1, 1, 12).reshape(4, 3).astype(np.float16), requires_grad=True)
    w = mg.tensor(np.full((2, 3), 0.5, np.float16), requires_grad=True)
    tensor_calls = []
    original = linear.Linear.backward

    def counted(ctx, g):
        tensor_calls.append(1)
        return original(ctx, g)

    monkeypatch.setattr(linear.Linear, "backward", staticmethod(counted))
    F.linear(x, w).sum().backward()
    assert tensor_calls == [1]
    assert w.grad.dtype == mg.float16
    np.testing.assert_allclose(w.grad.numpy(), np.tile(x.detach().numpy().sum(0), (2, 1)),
                               rtol=2e-3, atol=1e-3)
