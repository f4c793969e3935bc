"""Ops at their edges: what PyTorch 2.13 answers, or a clear error naming the op and numbers.

Grouped by op family. Each test states the expected values or the expected error itself, so
it means something without PyTorch; the ``*_vs_torch`` tests additionally run PyTorch on the
same numbers (skipped when it is not installed).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F


def _value_and_grad(fn, values, dtype=mg.float64):
    """fn(x) and d(sum fn(x))/dx for x = values, as NumPy arrays."""
    x = mg.tensor(values, dtype=dtype, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


def _torch_value_and_grad(torch, fn, values):
    """The same with PyTorch; a gradient PyTorch leaves undefined (None) is zero."""
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    grad = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
    return y.detach().numpy(), grad


class no_warnings:  # noqa: N801 - used like warnings.catch_warnings
    """A context in which any warning (NumPy's RuntimeWarning included) is an error."""

    def __enter__(self):
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


# ---------------------------------------------------------------------------------------------
# var and std: one element, constants, correction >= N
# ---------------------------------------------------------------------------------------------

DOF_WARNING = "degrees of freedom is <= 0"


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_of_one_element_is_nan_with_a_warning(op):
    with pytest.warns(UserWarning, match=f"{op}\\(\\): {DOF_WARNING}"):
        y, g = _value_and_grad(lambda x: getattr(x, op)(), [3.0])
    assert np.isnan(y) and np.isnan(g).all() and g.shape == (1,)
    with pytest.warns(UserWarning, match=DOF_WARNING):
        y, g = _value_and_grad(lambda x: getattr(x, op)(dim=1), [[3.0], [4.0]])
    assert y.shape == (2,) and np.isnan(y).all() and np.isnan(g).all()


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_of_one_element_without_correction_is_zero(op):
    with no_warnings():
        y, g = _value_and_grad(lambda x: getattr(x, op)(correction=0), [3.0])
        assert y == 0.0 and g.tolist() == [0.0]
        y, g = _value_and_grad(lambda x: getattr(x, op)(dim=0, correction=0), [[3.0, 1.0]])
    assert y.tolist() == [0.0, 0.0] and g.tolist() == [[0.0, 0.0]]


def test_var_with_correction_at_least_n_follows_pytorch():
    # dim=None: inf where x differs from the mean (nan where equal); dim given: 2 / (N - c)
    with pytest.warns(UserWarning, match=DOF_WARNING):
        y, g = _value_and_grad(lambda x: x.var(correction=2), [3.0, 5.0])
    assert y == np.inf and g.tolist() == [np.inf, np.inf]
    with pytest.warns(UserWarning, match=DOF_WARNING):
        y, g = _value_and_grad(lambda x: x.var(dim=0, correction=2), [3.0, 5.0])
    assert y == np.inf and g.tolist() == [-np.inf, np.inf]
    with pytest.warns(UserWarning, match=DOF_WARNING):
        y, g = _value_and_grad(lambda x: x.var(dim=0, correction=3), [3.0, 5.0])
    assert g.tolist() == [2.0, -2.0]


def test_std_of_a_constant_has_gradient_zero(rng):
    with no_warnings():
        y, g = _value_and_grad(lambda x: x.std(), [2.0, 2.0, 2.0])
        assert y == 0.0 and g.tolist() == [0.0, 0.0, 0.0]
        rows = np.stack([np.full(5, 1.5), rng.standard_normal(5)])
        y, g = _value_and_grad(lambda x: x.std(dim=1), rows)
    assert y[0] == 0.0 and (g[0] == 0).all() and np.isfinite(g).all()


def test_std_with_a_constant_row_passes_gradcheck(rng):
    rows = np.stack([np.full(4, -0.5), rng.standard_normal(4)])
    x = mg.tensor(rows, dtype=mg.float64, requires_grad=True)
    # finite differences can't follow the kink at the constant row, so check the other one:
    # its gradient (and its second derivative) must not be disturbed by the masked row
    assert mg.autograd.gradcheck(lambda a: a.std(dim=1)[1], (x,))
    assert mg.autograd.gradgradcheck(lambda a: a[1:].std(dim=1), (x,))


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("correction", [0, 1])
@pytest.mark.parametrize("shape_dim", [((1,), None), ((2, 1), 1), ((1, 3), 0), ((), None)])
def test_var_std_edges_vs_torch(op, correction, shape_dim):
    torch = pytest.importorskip("torch")
    shape, dim = shape_dim
    values = np.arange(1.0, 1.0 + math.prod(shape)).reshape(shape)
    kw = {} if dim is None else {"dim": dim}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, g = _value_and_grad(lambda x: getattr(x, op)(correction=correction, **kw), values)
        ty, tg = _torch_value_and_grad(torch, lambda x: getattr(x, op)(correction=correction,
                                                                      **kw), values)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(g, tg)


# ---------------------------------------------------------------------------------------------
# norms at zero
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 3, 1.5, 0.5, -1, "fro"])
def test_norm_of_zero_has_gradient_zero(p):
    with no_warnings():
        y, g = _value_and_grad(lambda x: x.norm(p=p), [0.0, 0.0, 0.0])
    assert y == 0.0 and g.tolist() == [0.0, 0.0, 0.0]


def test_norm_of_a_zero_row_has_gradient_zero_and_the_others_are_exact():
    y, g = _value_and_grad(lambda x: x.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]])
    assert y.tolist() == [0.0, 5.0]
    np.testing.assert_allclose(g, [[0.0, 0.0], [0.6, 0.8]], rtol=1e-15)


def test_norm_with_zero_entries_and_p_below_one_is_finite():
    # d/dx ||x||_p at an entry x_i = 0 is 0 for p < 1 (|x|^(p-1) would be inf there)
    y, g = _value_and_grad(lambda x: x.norm(p=0.5), [0.0, 1.0, -2.0])
    np.testing.assert_allclose(y, (1 + math.sqrt(2)) ** 2)
    assert g[0] == 0.0 and np.isfinite(g).all()


def test_norm_minus_inf_is_the_smallest_magnitude():
    y, g = _value_and_grad(lambda x: x.norm(p=-math.inf), [0.5, -0.5, -2.0])
    assert y == 0.5 and g.tolist() == [0.5, -0.5, 0.0]


def test_norm_refuses_what_it_does_not_compute():
    with pytest.raises(RuntimeError, match="norm: p='nucl' is not a norm"):
        mg.randn(2, 2).norm(p="nucl")
    with pytest.raises(RuntimeError, match="matrix_norm: dim must be a 2-tuple"):
        mg.randn(2, 2, 2).norm(p="nuc")                  # a matrix norm: two dims
    with pytest.raises(RuntimeError, match="norm: expected a floating point tensor.*int64"):
        mg.tensor([3, 4]).norm()
    with pytest.raises(RuntimeError, match="norm: can't compute the inf norm over an empty"):
        mg.zeros(0).norm(p=math.inf)


@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 3, 1.5, 0.5, -1, 0])
def test_norm_vs_torch(p):
    torch = pytest.importorskip("torch")
    for values in ([0.0, 0.0, 0.0], [0.0, 1.0, -2.0], [[0.5, -0.5], [0.0, 3.0]]):
        y, g = _value_and_grad(lambda x: x.norm(p=p), values)
        ty, tg = _torch_value_and_grad(torch, lambda x: x.norm(p=p), values)
        np.testing.assert_allclose(y, ty, rtol=1e-14)
        np.testing.assert_allclose(g, tg, rtol=1e-14, atol=1e-300)


def test_norm_gradcheck_on_general_p(rng):
    x = mg.tensor(rng.uniform(0.5, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4)),
                  dtype=mg.float64, requires_grad=True)
    for p in (3, 1.5, 0.5, -1):
        assert mg.autograd.gradcheck(lambda a, p=p: a.norm(p=p, dim=1), (x,))
        assert mg.autograd.gradgradcheck(lambda a, p=p: a.norm(p=p, dim=1), (x,))


def test_normalize_of_zero_vector_matches_pytorch_formula():
    # x / max(||x||, eps): at x = 0 the gradient is 1 / eps
    for p in (2.0, 1.0, math.inf):
        y, g = _value_and_grad(lambda x, p=p: F.normalize(x, p=p, dim=0), [0.0, 0.0])
        assert y.tolist() == [0.0, 0.0] and g.tolist() == [1e12, 1e12]


# ---------------------------------------------------------------------------------------------
# prod with zeros
# ---------------------------------------------------------------------------------------------

def test_prod_gradient_at_zeros_is_the_product_of_the_others():
    with no_warnings():
        assert _value_and_grad(lambda x: x.prod(), [0.0, 2.0, 3.0])[1].tolist() == [6, 0, 0]
        assert _value_and_grad(lambda x: x.prod(), [0.0, 0.0, 3.0])[1].tolist() == [0, 0, 0]
        g = _value_and_grad(lambda x: x.prod(dim=1), [[0.0, 2.0], [3.0, 4.0]])[1]
    assert g.tolist() == [[2.0, 0.0], [4.0, 3.0]]


@pytest.mark.parametrize("values", [[0.0, 2.0, -3.0], [0.0, 0.0, 1.5, 2.0], [0.0, 0.0, 0.0]])
def test_prod_at_zeros_passes_gradgradcheck(values):
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda a: a.prod(), (x,))
    assert mg.autograd.gradgradcheck(lambda a: a.prod(), (x,))


def test_prod_of_integers_stays_integer():
    assert mg.tensor([2, 3]).prod().dtype == mg.int64
    assert mg.tensor([2, 3]).prod().item() == 6
    assert mg.tensor([True, False]).prod().dtype == mg.int64


# ---------------------------------------------------------------------------------------------
# cross_entropy / nll_loss with every target ignored
# ---------------------------------------------------------------------------------------------

def _ignored_loss(fn, **kw):
    x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    loss = fn(x, mg.tensor([-100, -100, -100]), **kw)
    loss.backward()
    return loss.item(), x.grad.numpy()


@pytest.mark.parametrize("kw", [{}, {"weight": True}, {"label_smoothing": 0.1},
                                {"weight": True, "label_smoothing": 0.2}])
def test_cross_entropy_all_ignored_is_nan_with_zero_gradient(kw):
    kw = dict(kw)
    if kw.pop("weight", False):
        kw["weight"] = mg.tensor([0.5, 1.0, 2.0, 0.25], dtype=mg.float64)
    with no_warnings():
        value, grad = _ignored_loss(F.cross_entropy, **kw)
    assert math.isnan(value) and (grad == 0).all()


def test_nll_loss_all_ignored_is_nan_with_zero_gradient():
    with no_warnings():
        value, grad = _ignored_loss(F.nll_loss)
        assert math.isnan(value) and (grad == 0).all()
        value, grad = _ignored_loss(F.nll_loss, reduction="sum")
    assert value == 0.0 and (grad == 0).all()


def test_cross_entropy_some_ignored_matches_the_others_alone(rng):
    logits = rng.standard_normal((4, 3))
    x = mg.tensor(logits, dtype=mg.float64, requires_grad=True)
    F.cross_entropy(x, mg.tensor([1, -100, 2, -100]), label_smoothing=0.1).backward()
    x2 = mg.tensor(logits[[0, 2]], dtype=mg.float64, requires_grad=True)
    F.cross_entropy(x2, mg.tensor([1, 2]), label_smoothing=0.1).backward()
    np.testing.assert_allclose(x.grad.numpy()[[0, 2]], x2.grad.numpy(), rtol=1e-12)
    assert (x.grad.numpy()[[1, 3]] == 0).all()


@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.1}, {"weight": True},
                                {"weight": True, "label_smoothing": 0.1},
                                {"reduction": "sum"}])
def test_cross_entropy_all_ignored_vs_torch(kw):
    torch = pytest.importorskip("torch")
    kw = dict(kw)
    w = np.array([0.5, 1.0, 2.0, 0.25])
    use_w = kw.pop("weight", False)
    logits = np.random.default_rng(3).standard_normal((3, 4))
    x = mg.tensor(logits, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([-100, -100, -100]),
                           weight=mg.tensor(w) if use_w else None, **kw)
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor([-100, -100, -100]),
                                              weight=torch.tensor(w) if use_w else None, **kw)
    loss.backward()
    tloss.backward()
    np.testing.assert_array_equal(loss.item(), tloss.item())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


# ---------------------------------------------------------------------------------------------
# float16
# ---------------------------------------------------------------------------------------------

def _half_leaf(rng, *shape, scale=3.0):
    return mg.tensor((rng.standard_normal(shape) * scale).astype(np.float16),
                     requires_grad=True)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_family_runs_in_float16(rng, op):
    x = _half_leaf(rng, 5, 7)
    y = getattr(F, op)(x, dim=1)
    y.backward(mg.tensor(rng.standard_normal((5, 7)).astype(np.float16)))
    assert y.dtype == mg.float16 and x.grad.dtype == mg.float16
    ref = getattr(F, op)(mg.tensor(x.detach().numpy().astype(np.float64)), dim=1).numpy()
    np.testing.assert_allclose(y.detach().numpy(), ref, atol=1e-2, rtol=1e-3)


def test_cross_entropy_runs_in_float16(rng):
    x = _half_leaf(rng, 6, 5)
    loss = F.cross_entropy(x, mg.tensor([0, 4, 2, 1, 3, 0]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == mg.float16 and x.grad.dtype == mg.float16
    x64 = mg.tensor(x.detach().numpy().astype(np.float64), requires_grad=True)
    ref = F.cross_entropy(x64, mg.tensor([0, 4, 2, 1, 3, 0]), label_smoothing=0.1)
    ref.backward()
    assert abs(loss.item() - ref.item()) < 5e-3
    np.testing.assert_allclose(x.grad.numpy(), x64.grad.numpy(), atol=1e-3)


@pytest.mark.parametrize("name, fn, shape", [
    ("matmul", lambda x: x @ mg.ones(5, 3, dtype=mg.float16), (4, 5)),
    ("linear", lambda x: F.linear(x, mg.ones(3, 5, dtype=mg.float16)), (4, 5)),
    ("relu", F.relu, (4, 5)),
    ("layer_norm", lambda x: F.layer_norm(x, (5,)), (4, 5)),
    ("conv2d", lambda x: F.conv2d(x, mg.ones(2, 1, 3, 3, dtype=mg.float16)), (1, 1, 5, 5)),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), (1, 1, 5, 5)),
    ("attention", lambda x: F.scaled_dot_product_attention(x, x, x), (2, 3, 4)),
])
def test_common_ops_take_float16(rng, name, fn, shape):
    x = _half_leaf(rng, *shape, scale=1.0)
    y = fn(x)
    y.float().sum().backward()
    assert y.dtype == mg.float16 and x.grad.dtype == mg.float16, name
    assert np.isfinite(y.detach().numpy()).all()


def test_lstm_runs_in_float16(rng):
    lstm = mg.nn.LSTM(4, 3).half()
    x = _half_leaf(rng, 5, 2, 4, scale=1.0)
    out, _ = lstm(x)
    out.float().sum().backward()
    assert out.dtype == mg.float16 and lstm.weight_hh_l0.grad.dtype == mg.float16


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_float16_softmax_vs_torch(op):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    values = (rng.standard_normal((5, 9)) * 4).astype(np.float16)
    g = rng.standard_normal((5, 9)).astype(np.float16)
    x, tx = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    y, ty = getattr(F, op)(x, dim=1), getattr(torch.nn.functional, op)(tx, dim=1)
    y.backward(mg.tensor(g))
    ty.backward(torch.tensor(g))
    assert ty.dtype == torch.float16 and y.dtype == mg.float16
    # ours is float64's answer correctly rounded to float16; PyTorch's CPU log_softmax rounds
    # on the way and can be ~10 float16 steps off near 0 (-0.02887 for -0.029043)
    x64 = values.astype(np.float64)
    exact = getattr(F, op)(mg.tensor(x64), dim=1).numpy()
    np.testing.assert_allclose(y.detach().numpy(), exact, rtol=2 ** -11, atol=2 ** -24)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-2, atol=1e-3)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-2, atol=2e-3)


def test_float16_kernel_results_beyond_float16_range_become_inf():
    with no_warnings():
        y = F.log_softmax(mg.tensor([[60000.0, -60000.0]], dtype=mg.float16), dim=1)
    assert y.numpy().tolist() == [[0.0, -np.inf]]


# ---------------------------------------------------------------------------------------------
# division, remainder and IEEE special values
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda a, b: a // b, lambda a, b: a % b, lambda a, b: a // 0, lambda a, b: a % 0,
    lambda a, b: mg.div(a, b, rounding_mode="floor"),
    lambda a, b: mg.div(a, b, rounding_mode="trunc"),
])
def test_integer_division_by_zero_raises(fn):
    with pytest.raises(RuntimeError, match="ZeroDivisionError: .*int64 tensor of shape \\(3,\\)"):
        fn(mg.tensor([1, 2, 3]), mg.tensor([1, 0, 2]))


def test_integer_division_rounds_like_pytorch():
    a, b = mg.tensor([-7, 7, -7, 7, 6]), mg.tensor([2, -2, -2, 2, 3])
    assert (a // b).tolist() == [-4, -4, 3, 3, 2]
    assert (a % b).tolist() == [1, -1, -1, 1, 0]
    assert mg.div(a, b, rounding_mode="trunc").tolist() == [-3, -3, 3, 3, 2]
    assert (7 // mg.tensor([2, -2])).tolist() == [3, -4]
    assert (mg.tensor([3]) // 2.0).dtype == mg.float32      # a Python float doesn't widen


def test_float_division_by_zero_gives_inf_and_nan_silently():
    with no_warnings():
        x = mg.tensor([1.0, -1.0, 0.0])
        assert (x / 0).tolist()[:2] == [np.inf, -np.inf] and math.isnan((x / 0)[2].item())
        assert (mg.tensor([1, 2]) / mg.tensor([0, 1])).tolist() == [np.inf, 2.0]
        assert (x // 0).tolist()[:2] == [np.inf, -np.inf]
        assert np.isnan((x % 0).numpy()).all()
        assert mg.div(x, 0.0, rounding_mode="trunc").tolist()[:2] == [np.inf, -np.inf]


@pytest.mark.parametrize("name, fn, expected", [
    ("log(0)", lambda: mg.tensor([0.0]).log(), -np.inf),
    ("log(-1)", lambda: mg.tensor([-1.0]).log(), np.nan),
    ("sqrt(-1)", lambda: mg.tensor([-1.0]).sqrt(), np.nan),
    ("rsqrt(0)", lambda: mg.tensor([0.0]).rsqrt(), np.inf),
    ("reciprocal(0)", lambda: mg.tensor([0.0]).reciprocal(), np.inf),
    ("0 ** -1", lambda: mg.tensor([0.0]) ** -1, np.inf),
    ("exp(1000)", lambda: mg.tensor([1000.0]).exp(), np.inf),
    ("exp in float16", lambda: mg.tensor([100.0], dtype=mg.float16).exp(), np.inf),
    ("sin(inf)", lambda: mg.tensor([np.inf]).sin(), np.nan),
    ("log1p(-1)", lambda: mg.tensor([-1.0]).log1p(), -np.inf),
])
def test_special_values_come_without_numpy_warnings(name, fn, expected):
    with no_warnings():
        out = fn().item()
    assert (math.isnan(out) and math.isnan(expected)) or out == expected, name


def test_special_values_in_gradients_come_without_warnings():
    with no_warnings():
        assert _value_and_grad(lambda x: x.log(), [0.0])[1].tolist() == [np.inf]
        assert _value_and_grad(lambda x: 1 / x, [0.0])[1].tolist() == [-np.inf]


def test_integer_to_negative_power_raises():
    with pytest.raises(RuntimeError, match="pow: integers to negative integer powers"):
        mg.tensor([2]) ** -1
    with pytest.raises(RuntimeError, match="pow: integers to negative integer powers"):
        mg.tensor([2]) ** mg.tensor([-1])
    assert (mg.tensor([2]) ** 3).tolist() == [8]


def test_floor_divide_of_bools_raises():
    with pytest.raises(RuntimeError, match="floor_divide: not implemented for bool"):
        mg.tensor([True]) // mg.tensor([True])


def test_integer_division_vs_torch():
    torch = pytest.importorskip("torch")
    a, b = np.array([-7, 7, -7, 7, 6, 0]), np.array([2, -2, -2, 2, 3, 5])
    ta, tb = torch.tensor(a), torch.tensor(b)
    ma, mb = mg.tensor(a), mg.tensor(b)
    assert (ma // mb).tolist() == (ta // tb).tolist()
    assert (ma % mb).tolist() == (ta % tb).tolist()
    for mode in ("floor", "trunc"):
        assert mg.div(ma, mb, rounding_mode=mode).tolist() == \
            torch.div(ta, tb, rounding_mode=mode).tolist()
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        ta // torch.tensor([0])


# ---------------------------------------------------------------------------------------------
# normalization: large, nearly constant float32 input
# ---------------------------------------------------------------------------------------------

def _near_constant(rng, shape):
    return mg.tensor((1000 + 1e-3 * rng.standard_normal(shape)).astype(np.float32),
                     requires_grad=True)


@pytest.mark.parametrize("name, fn, shape", [
    ("layer_norm", lambda x: F.layer_norm(x, (64,)), (4, 64)),
    ("layer_norm affine", lambda x: F.layer_norm(x, (64,), mg.ones(64), mg.zeros(64)), (4, 64)),
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True), (16, 4, 5)),
    ("group_norm", lambda x: F.group_norm(x, 2), (2, 4, 16)),
])
def test_norm_layers_gradient_of_sum_is_zero_on_nearly_constant_input(rng, name, fn, shape):
    # sum(layer_norm(x)) is 0 whatever x is, so its gradient is exactly 0; a mean computed
    # in one float32 pass is off by ~1e-4 here and made it as large as 2
    x = _near_constant(rng, shape)
    y = fn(x)
    y.sum().backward()
    assert np.abs(x.grad.numpy()).max() < 1e-4, name
    assert abs(float(y.detach().numpy().astype(np.float64).mean())) < 1e-5


def test_layer_norm_create_graph_centres_the_same_way(rng):
    x = _near_constant(rng, (3, 64))
    (g,) = mg.autograd.grad(F.layer_norm(x, (64,)).sum(), x, create_graph=True)
    assert np.abs(g.detach().numpy()).max() < 1e-4


# ---------------------------------------------------------------------------------------------
# conv and pool arguments: no silent truncation of floats
# ---------------------------------------------------------------------------------------------

_IMG, _W = (1, 1, 5, 5), (1, 1, 3, 3)


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(mg.randn(*_IMG), mg.randn(*_W), stride=1.5),
     "conv2d: stride must be an int or a tuple of 2 ints, got float 1.5"),
    (lambda: F.conv2d(mg.randn(*_IMG), mg.randn(*_W), stride=2.0),
     "conv2d: stride must be an int or a tuple of 2 ints, got float 2.0"),
    (lambda: F.conv2d(mg.randn(*_IMG), mg.randn(*_W), padding=1.0),
     "conv2d: padding must be .* got float 1.0"),
    (lambda: F.conv2d(mg.randn(*_IMG), mg.randn(*_W), dilation=(1, 1.0)),
     r"conv2d: dilation must be .* got float 1.0 in \(1, 1.0\)"),
    (lambda: F.conv2d(mg.randn(*_IMG), mg.randn(*_W), stride=True),
     "conv2d: stride must be .* got bool True"),
    (lambda: F.conv2d(mg.randn(1, 2, 5, 5), mg.randn(2, 1, 3, 3), groups=2.0),
     "conv2d: groups must be an int, got float 2.0"),
    (lambda: F.conv1d(mg.randn(1, 1, 5), mg.randn(1, 1, 3), stride=1.5),
     "conv1d: stride must be an int or a tuple of 1 ints, got float 1.5"),
    (lambda: F.conv_transpose2d(mg.randn(*_IMG), mg.randn(*_W), stride=2, output_padding=1.0),
     "conv_transpose2d: output_padding must be .* got float 1.0"),
    (lambda: F.max_pool2d(mg.randn(*_IMG), 2.5), "max_pool2d: kernel_size must be .* 2.5"),
    (lambda: F.max_pool2d(mg.randn(*_IMG), 2, stride=1.5), "max_pool2d: stride .* 1.5"),
    (lambda: F.max_pool2d(mg.randn(*_IMG), 2, padding=1.0), "max_pool2d: padding .* 1.0"),
    (lambda: F.avg_pool2d(mg.randn(*_IMG), 2.0), "avg_pool2d: kernel_size must be .* 2.0"),
    (lambda: F.adaptive_avg_pool2d(mg.randn(*_IMG), 2.5),
     "adaptive_avg_pool2d: output_size must be an int, got float 2.5"),
    (lambda: mg.nn.Conv2d(1, 1, 3.0), "Conv2d: kernel_size must be .* got float 3.0"),
    (lambda: mg.nn.Conv2d(1, 1, 3, stride=1.5), "Conv2d: stride must be .* got float 1.5"),
    (lambda: mg.nn.Conv2d(1.0, 1, 3), "Conv2d: in_channels must be an int, got float 1.0"),
    (lambda: mg.nn.Conv1d(1, 1, 3, dilation=2.0), "Conv1d: dilation must be .* 2.0"),
    (lambda: mg.nn.ConvTranspose2d(1, 1, 3, padding=0.5), "ConvTranspose2d: padding .* 0.5"),
    (lambda: mg.nn.MaxPool2d(2.5), "MaxPool2d: kernel_size must be .* got float 2.5"),
    (lambda: mg.nn.MaxPool2d(2, stride=1.5), "MaxPool2d: stride must be .* got float 1.5"),
    (lambda: mg.nn.AvgPool2d(2.5), "AvgPool2d: kernel_size must be .* got float 2.5"),
])
def test_float_window_arguments_raise_type_error(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_integer_like_window_arguments_are_accepted():
    y = F.conv2d(mg.randn(*_IMG), mg.randn(*_W), stride=np.int64(2), padding=(np.int32(1), 1))
    assert y.shape == (1, 1, 3, 3)
    assert mg.nn.MaxPool2d(2).kernel_size == 2          # kept as given, as in PyTorch


def test_window_tuple_of_wrong_length_raises():
    with pytest.raises(ValueError, match=r"conv2d: stride must be an int or a tuple of 2 "
                                         r"ints, got \(1, 2, 3\)"):
        F.conv2d(mg.randn(*_IMG), mg.randn(*_W), stride=(1, 2, 3))


# ---------------------------------------------------------------------------------------------
# adaptive pooling of empty inputs
# ---------------------------------------------------------------------------------------------

def test_adaptive_avg_pool_of_empty_planes_raises():
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d: expected input to have "
                                           r"non-zero size .* shape \(1, 1, 0, 0\)"):
        F.adaptive_avg_pool2d(mg.randn(1, 1, 0, 0), 2)
    with pytest.raises(RuntimeError, match="non-zero size"):
        F.adaptive_avg_pool2d(mg.randn(1, 0, 4, 4), 2)


def test_adaptive_avg_pool_of_empty_batch_and_zero_output():
    assert F.adaptive_avg_pool2d(mg.randn(0, 1, 4, 4), 2).shape == (0, 1, 2, 2)
    assert F.adaptive_avg_pool2d(mg.randn(1, 1, 4, 4), 0).shape == (1, 1, 0, 0)
    with pytest.raises(ValueError, match="output_size must be >= 0, got \\(-1, -1\\)"):
        F.adaptive_avg_pool2d(mg.randn(1, 1, 4, 4), -1)


# ---------------------------------------------------------------------------------------------
# indices: gather, scatter_add, topk, sort
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("index, bad", [([[-1], [0]], -1), ([[3], [0]], 3)])
def test_gather_out_of_range_index_raises(index, bad):
    with pytest.raises(RuntimeError, match=f"gather: index {bad} is out of bounds for "
                                           "dimension 1 with size 3"):
        mg.gather(mg.randn(2, 3), 1, mg.tensor(index))


def test_gather_shape_and_dtype_errors():
    x = mg.randn(2, 3)
    with pytest.raises(RuntimeError, match="gather: index must be an integer tensor"):
        mg.gather(x, 1, mg.tensor([[1.0], [0.0]]))
    with pytest.raises(RuntimeError, match=r"gather: index of shape \(2,\) must have as many"):
        mg.gather(x, 1, mg.tensor([1, 0]))
    with pytest.raises(RuntimeError, match=r"gather: expected index \[3, 1\] to be no larger "
                                           r"than input \[2, 3\] apart from dimension 1"):
        mg.gather(x, 1, mg.tensor([[1], [0], [0]]))


def test_gather_of_a_0d_tensor():
    x = mg.tensor(5.0, requires_grad=True)
    y = mg.gather(x, 0, mg.tensor(0))
    y.backward()
    assert y.item() == 5.0 and x.grad.item() == 1.0


@pytest.mark.parametrize("index, bad", [([5], 5), ([-1], -1)])
def test_scatter_add_out_of_range_index_raises(index, bad):
    with pytest.raises(RuntimeError, match=f"scatter_add: index {bad} is out of bounds for "
                                           "dimension 0 with size 3"):
        mg.zeros(3).scatter_add(0, mg.tensor(index), mg.ones(1))


def test_scatter_add_shape_errors():
    with pytest.raises(RuntimeError, match=r"scatter_add: expected index \[2\] to be no larger "
                                           r"than src \[1\]"):
        mg.zeros(3).scatter_add(0, mg.tensor([0, 1]), mg.ones(1))
    with pytest.raises(RuntimeError, match=r"scatter_add: expected index \[1, 3\] to be no "
                                           r"larger than self \[2, 2\] apart from dimension 0"):
        mg.zeros(2, 2).scatter_add(0, mg.tensor([[0, 1, 1]]), mg.ones(1, 3))
    with pytest.raises(RuntimeError, match="scatter_add: index must be an integer tensor"):
        mg.zeros(3).scatter_add(0, mg.tensor([0.0]), mg.ones(1))
    with pytest.raises(RuntimeError, match=r"scatter_add: index of shape \(1,\) must have"):
        mg.zeros(3, 2).scatter_add(0, mg.tensor([0]), mg.ones(1, 2))


def test_scatter_add_still_adds_repeated_indices():
    out = mg.zeros(3).scatter_add(0, mg.tensor([0, 2, 0]), mg.tensor([1.0, 2.0, 3.0]))
    assert out.tolist() == [4.0, 0.0, 2.0]


@pytest.mark.parametrize("k, n", [(-1, 5), (4, 3)])
def test_topk_k_out_of_range_raises(k, n):
    with pytest.raises(RuntimeError, match=f"topk: selected index k out of range: k={k}, "
                                           f"but dimension 0 .* has size {n}"):
        mg.randn(n).topk(k)


def test_topk_edges():
    assert mg.randn(3).topk(0).values.shape == (0,)
    assert mg.randn(3).topk(3).values.shape == (3,)
    r = mg.tensor(2.0).topk(1)
    assert r.values.item() == 2.0 and r.indices.item() == 0
    with pytest.raises(TypeError, match="topk: k must be an int, got float 1.0"):
        mg.randn(3).topk(1.0)
    with pytest.raises(IndexError, match=r"topk: dimension out of range \(expected to be in "
                                         r"range of \[-1, 0\], but got 1\)"):
        mg.randn(3).topk(1, dim=1)


def test_sort_dim_out_of_range_raises():
    with pytest.raises(IndexError, match=r"sort: dimension out of range \(expected to be in "
                                         r"range of \[-1, 0\], but got 1\)"):
        mg.randn(3).sort(dim=1)
    with pytest.raises(IndexError, match="argsort: dimension out of range"):
        mg.randn(3).argsort(dim=2)


def test_sort_of_0d_and_of_bools():
    r = mg.tensor(3.0).sort()
    assert r.values.item() == 3.0 and r.indices.item() == 0
    r = mg.tensor([False, True, False]).sort(descending=True)
    assert r.values.tolist() == [True, False, False] and r.indices.tolist() == [1, 0, 2]


def test_index_errors_vs_torch():
    torch = pytest.importorskip("torch")
    for fn in (lambda m: m.gather(m.zeros(2, 3), 1, m.tensor([[-1], [0]])),
               lambda m: m.zeros(3).scatter_add(0, m.tensor([5]), m.ones(1)),
               lambda m: m.randn(3).topk(5), lambda m: m.randn(5).topk(-1)):
        for module in (mg, torch):
            with pytest.raises(RuntimeError):
                fn(module)


# ---------------------------------------------------------------------------------------------
# view: only what strides can express, and writes reach the base
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, shape", [
    (lambda: mg.randn(3, 4).t(), (12,)),
    (lambda: mg.randn(3, 4).t(), (-1,)),
    (lambda: mg.randn(4, 6)[:, :4], (16,)),
    (lambda: mg.randn(3, 1).expand(3, 4), (12,)),
    (lambda: mg.randn(2, 3, 4).permute(0, 2, 1), (2, 12)),
])
def test_view_that_needs_a_copy_raises(make, shape):
    x = make()
    with pytest.raises(RuntimeError, match=r"view size is not compatible with input tensor's "
                                           r"size and stride .* Use \.reshape\(\.\.\.\) instead"):
        x.view(*shape)
    assert x.reshape(*shape).shape == tuple(
        s if s != -1 else x.numel() for s in shape)              # reshape copies instead


@pytest.mark.parametrize("make, shape", [
    (lambda: mg.zeros(3, 4).t(), (2, 2, 3)),                 # splits the contiguous run
    (lambda: mg.zeros(4, 6)[:, :4], (4, 2, 2)),
    (lambda: mg.zeros(3, 1).expand(3, 4), (3, 2, 2)),
    (lambda: mg.zeros(2, 3, 4).permute(1, 0, 2), (3, 2, 2, 2)),
    (lambda: mg.zeros(2, 3, 4).permute(2, 0, 1), (4, 6)),     # dims 1, 2 form one run
    (lambda: mg.zeros(2, 3, 4)[:, 1], (2, 2, 2)),
])
def test_view_that_strides_can_express_shares_memory(make, shape):
    x = make()
    try:
        v = x.view(*shape)
    except RuntimeError:
        pytest.fail(f"view{shape} of {tuple(x.shape)} should be possible")
    assert np.shares_memory(v.array, x.array)


def test_writes_through_views_reach_the_base():
    base = mg.zeros(3, 4)
    flat = base.view(12)
    flat[5] = 7.0
    assert base[1, 1].item() == 7.0
    split = base.t().view(2, 2, 3)        # (4, 3) transposed, first dim split in two
    split[1, 0, 2] = 9.0                  # = base.t()[2, 2] = base[2, 2]
    assert base[2, 2].item() == 9.0
    base.view_as(mg.zeros(2, 6))[1, 0] = -1.0
    assert base[1, 2].item() == -1.0


def test_view_keeps_gradients():
    x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda a: a.t().view(2, 2, 3) * 2.0, (x,))


def test_view_strides_follow_pytorch():
    from minigrad.ops.movement import view_strides
    assert view_strides((4, 3), (1, 4), (2, 2, 3)) == (2, 1, 4)
    assert view_strides((4, 3), (1, 4), (12,)) is None
    assert view_strides((3, 4), (4, 1), (3, 1, 4)) == (4, 4, 1)
    assert view_strides((2, 0), (0, 0), (0, 5)) == (0, 0)


def test_view_errors_vs_torch():
    torch = pytest.importorskip("torch")
    for shape, make in (((12,), lambda m: m.zeros(3, 4).t()),
                        ((2, 2, 3), lambda m: m.zeros(3, 4).t()),
                        ((16,), lambda m: m.zeros(4, 6)[:, :4]),
                        ((4, 2, 2), lambda m: m.zeros(4, 6)[:, :4]),
                        ((12,), lambda m: m.zeros(3, 1).expand(3, 4)),
                        ((3, 2, 2), lambda m: m.zeros(3, 1).expand(3, 4)),
                        ((4, 6), lambda m: m.zeros(2, 3, 4).permute(2, 0, 1)),
                        ((2, 12), lambda m: m.zeros(2, 3, 4).permute(0, 2, 1))):
        outcomes = []
        for module in (mg, torch):
            try:
                make(module).view(*shape)
                outcomes.append("ok")
            except RuntimeError:
                outcomes.append("error")
        assert outcomes[0] == outcomes[1], (shape, outcomes)


# ---------------------------------------------------------------------------------------------
# zero-size products, cat, chunk, split
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("a_shape, b_shape, out_shape", [
    ((2, 3, 0), (2, 0, 4), (2, 3, 4)),
    ((3, 0), (2, 0, 4), (2, 3, 4)),
    ((2, 3, 5), (2, 5, 0), (2, 3, 0)),
    ((0, 3), (3, 4), (0, 4)),
    ((3, 0), (0, 4), (3, 4)),
    ((2, 3, 0), (0, 4), (2, 3, 4)),
    ((2, 3, 0), (0,), (2, 3)),
    ((0,), (0,), ()),
    ((0,), (0, 3), (3,)),
])
def test_matmul_with_zero_sizes(a_shape, b_shape, out_shape):
    a = mg.randn(*a_shape, dtype=mg.float64, requires_grad=True)
    b = mg.randn(*b_shape, dtype=mg.float64, requires_grad=True)
    y = a @ b
    assert y.shape == out_shape and (y.detach().numpy() == 0).all()
    y.sum().backward()
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    assert (a.grad.numpy() == 0).all() and (b.grad.numpy() == 0).all()


def test_linear_with_zero_features():
    x = mg.randn(2, 0, requires_grad=True)
    w = mg.randn(3, 0, requires_grad=True)
    y = F.linear(x, w, mg.ones(3))
    assert y.tolist() == [[1.0] * 3] * 2
    y.sum().backward()
    assert x.grad.shape == (2, 0) and w.grad.shape == (3, 0)
    assert F.linear(mg.randn(2, 4), mg.randn(0, 4)).shape == (2, 0)


def test_matmul_with_zero_sizes_vs_torch():
    torch = pytest.importorskip("torch")
    for a_shape, b_shape in (((2, 3, 0), (2, 0, 4)), ((3, 0), (2, 0, 4)), ((2, 3, 0), (0,))):
        assert tuple((mg.randn(*a_shape) @ mg.randn(*b_shape)).shape) == \
            tuple((torch.randn(*a_shape) @ torch.randn(*b_shape)).shape)


def test_cat_with_empty_tensors():
    a = mg.randn(2, 3, requires_grad=True)
    e = mg.randn(0, 3, requires_grad=True)
    legacy = mg.randn(0, requires_grad=True)          # a 1-D empty tensor joins anything
    y = mg.cat([legacy, a, e, legacy], dim=0)
    assert y.shape == (2, 3) and mg.equal(y, a.detach())
    assert mg.cat([a, legacy], dim=1).shape == (2, 3)
    y.sum().backward()
    assert e.grad.shape == (0, 3) and legacy.grad.shape == (0,)
    assert mg.cat([mg.randn(0), mg.randn(0)]).shape == (0,)
    with pytest.raises(RuntimeError, match="cat: zero-dimensional tensors can't be"):
        mg.cat([mg.tensor(1.0), mg.tensor(2.0)])


def test_chunk_and_split_edges():
    with pytest.raises(RuntimeError, match="chunk: expects `chunks` to be greater than 0, got 0"):
        mg.randn(4).chunk(0)
    with pytest.raises(RuntimeError, match="chunk: expects `chunks` to be greater than 0, got -1"):
        mg.randn(4).chunk(-1)
    assert [p.shape for p in mg.randn(0).chunk(3)] == [(0,)] * 3      # as PyTorch
    assert [p.shape[0] for p in mg.randn(5).chunk(4)] == [2, 2, 1]
    with pytest.raises(RuntimeError, match="split: split_size must be positive .* got "
                                           "split_size=0 for dimension 0 of size 4"):
        mg.randn(4).split(0)
    assert [p.shape for p in mg.randn(0).split(0)] == [(0,)]
    with pytest.raises(RuntimeError, match=r"split: split sizes \[3, -1, 2\] must be "
                                           r"non-negative"):
        mg.randn(4).split([3, -1, 2])
    with pytest.raises(RuntimeError, match="chunk: expects at least a 1-dimensional tensor"):
        mg.tensor(1.0).chunk(1)


# ---------------------------------------------------------------------------------------------
# factories
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_refuse_negative_and_float_sizes(name):
    fn = getattr(mg, name)
    with pytest.raises(RuntimeError, match=f"{name}: trying to create a tensor with negative "
                                           r"dimension -1: \[-1\]"):
        fn(-1)
    with pytest.raises(RuntimeError, match=r"negative dimension -3: \[2, -3\]"):
        fn((2, -3))
    with pytest.raises(TypeError, match=f"{name}: size must be a tuple of ints, got float 2.5"):
        fn(2.5)
    with pytest.raises(TypeError, match=f"{name}: size must be a tuple of ints, got float 2.0"):
        fn(2, 2.0)
    assert fn(np.int64(2), 0).shape == (2, 0)
    assert fn(mg.Size([2, 3])).shape == (2, 3)


def test_other_factories_check_their_arguments():
    with pytest.raises(RuntimeError, match=r"full: .* negative dimension -1"):
        mg.full((-1,), 1.0)
    with pytest.raises(RuntimeError, match=r"randint: .* negative dimension -1"):
        mg.randint(0, 5, (-1,))
    with pytest.raises(RuntimeError, match="randint: expects low < high .* low=5 and high=5"):
        mg.randint(5, 5, (2,))
    with pytest.raises(RuntimeError, match="randperm: n must be greater or equal to 0, got -1"):
        mg.randperm(-1)
    with pytest.raises(RuntimeError, match="eye: m must be greater or equal to 0, got -1"):
        mg.eye(2, -1)
    with pytest.raises(RuntimeError, match="normal: expects std >= 0.0, but found std -1"):
        mg.normal(0.0, -1.0, (2,))
    with pytest.raises(RuntimeError, match="linspace: steps must be greater or equal to 0"):
        mg.linspace(0, 1, -1)
    with pytest.raises(RuntimeError, match="randn: dtype must be a floating point type, got "
                                           "int64"):
        mg.randn(2, dtype=mg.int64)
    with pytest.raises(RuntimeError, match="rand: dtype must be a floating point type"):
        mg.rand_like(mg.zeros(2, dtype=mg.int64))


@pytest.mark.parametrize("args, message", [
    ((0, 5, 0), "arange: step must be nonzero"),
    ((0, 5, -1), "arange: upper bound and lower bound inconsistent with step sign"),
    ((0, math.inf), "arange: unsupported range: 0 -> inf"),
    ((0, math.nan), "arange: unsupported range: 0 -> nan"),
])
def test_arange_bad_ranges_raise(args, message):
    with pytest.raises(RuntimeError, match=message):
        mg.arange(*args)


def test_arange_good_ranges():
    assert mg.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert mg.arange(3, 3).shape == (0,)


def test_factory_errors_vs_torch():
    torch = pytest.importorskip("torch")
    for fn in (lambda m: m.zeros(-1), lambda m: m.randn(2, -3), lambda m: m.arange(0, 5, 0),
               lambda m: m.randperm(-1), lambda m: m.randint(5, 5, (2,))):
        for module in (mg, torch):
            with pytest.raises(RuntimeError):
                fn(module)
    for module in (mg, torch):
        with pytest.raises(TypeError):
            module.zeros(2.5)


# ---------------------------------------------------------------------------------------------
# dims: one checker, one message, everywhere
# ---------------------------------------------------------------------------------------------

_DIM_OPS = {
    "sum": lambda x: x.sum(dim=2), "mean": lambda x: x.mean(dim=2),
    "var": lambda x: x.var(dim=2), "std": lambda x: x.std(dim=2),
    "amax": lambda x: x.amax(dim=2), "amin": lambda x: x.amin(dim=-3),
    "max": lambda x: x.max(dim=2), "min": lambda x: x.min(dim=2),
    "argmax": lambda x: x.argmax(dim=2), "argmin": lambda x: x.argmin(dim=2),
    "logsumexp": lambda x: x.logsumexp(dim=2), "prod": lambda x: x.prod(dim=2),
    "all": lambda x: (x > 0).all(dim=2), "any": lambda x: (x > 0).any(dim=2),
    "norm": lambda x: x.norm(dim=2),
    "softmax": lambda x: F.softmax(x, dim=2), "log_softmax": lambda x: F.log_softmax(x, dim=2),
    "squeeze": lambda x: x.squeeze(2), "unsqueeze": lambda x: x.unsqueeze(3),
    "transpose": lambda x: x.transpose(0, 2), "flatten": lambda x: x.flatten(2),
    "cat": lambda x: mg.cat([x, x], dim=2), "stack": lambda x: mg.stack([x, x], dim=3),
    "flip": lambda x: x.flip(2), "split": lambda x: x.split(1, dim=2),
    "chunk": lambda x: x.chunk(2, dim=2), "unbind": lambda x: x.unbind(2),
    "gather": lambda x: x.gather(2, mg.zeros(2, 3, dtype=mg.int64)),
    "sort": lambda x: x.sort(dim=2), "topk": lambda x: x.topk(1, dim=2),
    "permute": lambda x: x.permute(0, 2),
}


@pytest.mark.parametrize("op", sorted(_DIM_OPS))
def test_dim_out_of_range_names_the_op_and_the_range(op):
    expected_range = r"\[-3, 2\]" if op in ("unsqueeze", "stack") else r"\[-2, 1\]"
    with pytest.raises(IndexError, match=f"{op}: dimension out of range \\(expected to be in "
                                         f"range of {expected_range}, but got -?[23]\\)"):
        _DIM_OPS[op](mg.randn(2, 3))


def test_dims_of_a_0d_tensor():
    x = mg.tensor(2.0)
    assert x.sum(dim=0).item() == 2.0 and x.sum(dim=-1).item() == 2.0
    assert x.max(dim=0).values.item() == 2.0 and x.argmax(dim=0).item() == 0
    assert F.softmax(x, dim=0).item() == 1.0
    for fn in (lambda: x.sum(dim=1), lambda: F.softmax(x, dim=1), lambda: x.transpose(0, 1),
               lambda: x.unsqueeze(2)):
        with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\]"):
            fn()


def test_dim_must_be_an_int():
    with pytest.raises(TypeError, match="sum: dim must be an int, got float 1.0"):
        mg.randn(2, 3).sum(dim=1.0)
    with pytest.raises(RuntimeError, match="sum: dim 0 appears multiple times"):
        mg.randn(2, 3).sum(dim=(0, -2))
    with pytest.raises(RuntimeError, match="permute: duplicate dims are not allowed"):
        mg.randn(2, 3).permute(0, 0)


def test_dim_errors_vs_torch():
    torch = pytest.importorskip("torch")
    for op in ("sum", "softmax", "cat", "transpose", "flatten", "sort", "gather"):
        fn = _DIM_OPS[op]
        with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got"):
            fn(mg.randn(2, 3))
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        torch.randn(2, 3).sum(dim=2)


# ---------------------------------------------------------------------------------------------
# 0-d inputs, overloads and empty inputs found by PyTorch's OpInfo samples
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn, value, grad", [
    (lambda x: mg.sigmoid(x), 1 / (1 + np.exp(-0.5)), np.exp(-0.5) / (1 + np.exp(-0.5)) ** 2),
    (lambda x: F.softmax(x, 0), 1.0, 0.0),
    (lambda x: F.log_softmax(x, -1), 0.0, 0.0),
    (lambda x: F.softmin(x, 0), 1.0, 0.0),
])
def test_0d_inputs_of_activations(fn, value, grad):
    x = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
    y = fn(x)
    assert y.shape == () and y.item() == pytest.approx(value)
    (y * 1.3).backward()
    assert x.grad.item() == pytest.approx(1.3 * grad)


def test_fractional_correction_and_the_unbiased_overload():
    x = mg.tensor([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]], dtype=mg.float64)
    flat = x.numpy().ravel()
    dev = ((flat - flat.mean()) ** 2).sum()
    assert mg.var(x, correction=0.5).item() == pytest.approx(dev / 5.5)
    assert mg.std(x, correction=1.3).item() == pytest.approx(np.sqrt(dev / 4.7))
    assert mg.var(x, False).item() == pytest.approx(dev / 6)      # var(x, unbiased)
    assert mg.var(x, True).item() == pytest.approx(dev / 5)
    assert mg.var(x, 1, False).shape == (2,)                      # var(x, dim, unbiased)


def test_take_along_dim_counts_negative_indices_from_the_end():
    x = mg.arange(5.0)
    assert mg.take_along_dim(x, mg.tensor([-1, -5]), 0).tolist() == [4.0, 0.0]
    for bad in (-6, 5):
        with pytest.raises(IndexError, match=f"index {bad} is out of bounds for dimension 0"):
            mg.take_along_dim(x, mg.tensor([bad]), 0)


def test_empty_inputs_of_searchsorted_and_unfold():
    assert mg.searchsorted(mg.zeros(0, 0), mg.zeros(0, 0)).shape == (0, 0)
    assert mg.searchsorted(mg.zeros(3, 0), mg.zeros(3, 2)).tolist() == [[0, 0]] * 3
    assert F.unfold(mg.zeros(0, 1, 5, 5), 2).shape == (0, 4, 16)


def test_fuzz_findings_empty_split_and_layer_norm_and_error_names():
    assert [p.shape for p in mg.zeros(0).split(1)] == [(0,)]          # one empty piece
    assert [p.shape for p in mg.zeros(0, 2).split(3)] == [(0, 2)]
    x = mg.zeros(0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.layer_norm(x, (0,))
        y.sum().backward()
    assert y.shape == (0,) and x.grad.shape == (0,)
    with pytest.raises(IndexError, match=r"^max\(\): expected a non-empty"):
        mg.max(mg.zeros(0))
    with pytest.raises(RuntimeError, match="mse_loss: expected a floating point input"):
        F.mse_loss(mg.tensor(4), mg.tensor(4))


# ---------------------------------------------------------------------------------------------
# Rounding ops: step functions whose float outputs stay in the graph with gradient 0
# ---------------------------------------------------------------------------------------------

_ROUNDING_OPS = {
    "floor": mg.floor, "ceil": mg.ceil, "trunc": mg.trunc, "sign": mg.sign,
    "round": mg.round, "round_decimals": lambda x: mg.round(x, decimals=2),
    "div_floor": lambda x: mg.div(x, 0.7, rounding_mode="floor"),
    "div_trunc": lambda x: mg.div(2.3, x, rounding_mode="trunc"),
}


@pytest.mark.parametrize("name", sorted(_ROUNDING_OPS))
def test_rounding_ops_have_zero_gradient(name):
    x = mg.tensor(np.random.default_rng(3).normal(size=(3, 5)) + 0.05, requires_grad=True)
    y = _ROUNDING_OPS[name](x)
    assert y.requires_grad
    (y * 2.0 + x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 5)))
    assert mg.autograd.gradcheck(_ROUNDING_OPS[name], (x,))
    assert mg.autograd.gradgradcheck(lambda v: _ROUNDING_OPS[name](v) * v, (x,))


def test_rounded_division_gives_each_operand_a_zero_gradient_of_its_shape():
    a = mg.tensor(np.linspace(-3.1, 2.9, 7 * 3).reshape(7, 3), requires_grad=True)
    b = mg.tensor([0.7, -1.3, 2.1], requires_grad=True)
    for mode in ("floor", "trunc"):
        a.grad = b.grad = None
        mg.div(a, b, rounding_mode=mode).sum().backward()
        assert a.grad.shape == (7, 3) and b.grad.shape == (3,)
        assert not a.grad.numpy().any() and not b.grad.numpy().any()


def test_rounding_integers_and_tensors_without_grad_stay_out_of_the_graph():
    assert not mg.floor(mg.randn(4)).requires_grad
    assert mg.sign(mg.tensor([-3, 0, 5])).tolist() == [-1, 0, 1]
    assert mg.div(mg.tensor([7, -7]), 2, rounding_mode="trunc").tolist() == [3, -3]
    assert mg.div(mg.tensor([7, -7]), 2, rounding_mode="floor").tolist() == [3, -4]


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_sign_and_abs_gradient_at_nan_are_zero(dtype):
    """PyTorch's sign(NaN) is 0 (NumPy's is NaN), and so is abs's gradient there, g * sign(x)."""
    values = [math.nan, -2.5, 0.0, 1.5, -math.nan, 3.0, -0.0]
    assert mg.sign(mg.tensor(values, dtype=dtype)).tolist() == [0, -1, 0, 1, 0, 1, 0]
    assert mg.sign(mg.tensor(math.nan, dtype=dtype)).item() == 0.0
    value, grad = _value_and_grad(mg.abs, values, dtype)
    assert np.isnan(value[0]) and grad.tolist() == [0, -1, 0, 1, 0, 1, 0]


def test_sign_and_abs_at_nan_vs_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(3).standard_normal(9)
    values[[1, 4]] = np.nan
    for mine, theirs in ((mg.abs, torch.abs), (mg.sign, torch.sign)):
        value, grad = _value_and_grad(mine, values)
        torch_value, torch_grad = _torch_value_and_grad(torch, theirs, values)
        np.testing.assert_array_equal(value, torch_value)
        np.testing.assert_array_equal(grad, torch_grad)


NUMBER_PAIRS = [(-8.478373527526855, -1.765825867652893), (7, 2), (True, 3), (5, 2.5),
                (-7.25, 2)]


@pytest.mark.parametrize("a, b", NUMBER_PAIRS)
@pytest.mark.parametrize("name, mode", [("add", None), ("sub", None), ("mul", None),
                                        ("div", None), ("div", "floor"), ("div", "trunc"),
                                        ("floor_divide", None)])
def test_arithmetic_of_two_python_numbers_is_a_0d_tensor_as_in_torch(name, mode, a, b):
    torch = pytest.importorskip("torch")
    kwargs = {} if mode is None else {"rounding_mode": mode}
    if name == "sub" and isinstance(a, bool):
        with pytest.raises(RuntimeError, match="sub: subtraction.*bool"):
            mg.sub(a, b)
        return
    mine, theirs = getattr(mg, name)(a, b, **kwargs), getattr(torch, name)(a, b, **kwargs)
    assert isinstance(mine, mg.Tensor) and mine.shape == ()
    assert mine.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    assert mine.item() == theirs.item()


def test_only_the_arithmetic_ops_take_two_python_numbers():
    for name in ("maximum", "remainder", "atan2", "pow"):       # torch raises for these too
        with pytest.raises(TypeError, match=f"{name}: expected at least one Tensor"):
            getattr(mg, name)(2.0, 3.0)


@pytest.mark.parametrize("name", ["maximum", "minimum", "max", "min"])
def test_binary_max_min_gradients_with_nan_and_ties_match_torch(name):
    """Ties split the gradient; where either side is NaN both get all of it (neither lost
    a comparison), as in PyTorch. b broadcasts against a."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    a_values = rng.standard_normal((5, 3)).round(1)
    b_values = rng.standard_normal(3).round(1)
    a_values[0, 0], a_values[1, 1], b_values[2] = np.nan, b_values[1], np.nan
    a, b = mg.tensor(a_values, requires_grad=True), mg.tensor(b_values, requires_grad=True)
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a_values, b_values))
    getattr(mg, name)(a, b).sum().backward()
    getattr(torch, name)(ta, tb).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
def test_clamp_min_max_with_a_nan_tensor_bound_match_torch(name):
    """NaN on either side gives NaN (and no gradient to x), as clamp does."""
    torch = pytest.importorskip("torch")
    x_values = np.array([1.0, np.nan, 2.0, np.inf, np.nan, -1.0, 0.5, 3.0, -0.25])
    bound_values = np.array([np.nan, 1.0, 2.0, np.nan, np.nan, 0.0, 0.5, -np.inf, 0.75])
    x, bound = (mg.tensor(v, requires_grad=True) for v in (x_values, bound_values))
    tx, tbound = (torch.tensor(v, requires_grad=True) for v in (x_values, bound_values))
    y, ty = getattr(mg, name)(x, bound), getattr(torch, name)(tx, tbound)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(bound.grad.numpy(), tbound.grad.numpy())


@pytest.mark.parametrize("a, b", [(-0.06, 5.15), (2, 3), (2, 3.5), (True, False), (True, 2)])
def test_where_between_two_python_numbers_matches_torch(a, b):
    torch = pytest.importorskip("torch")
    cond = np.random.default_rng(2).random((3, 5)) > 0.5
    mine, theirs = mg.where(mg.tensor(cond), a, b), torch.where(torch.tensor(cond), a, b)
    assert mine.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    with pytest.raises(TypeError, match="where: input and other must be Tensors or Python "
                                        "numbers, got str and int"):
        mg.where(mg.tensor(cond), "a", 2)


def test_sort_and_argsort_take_stable_and_0d_inputs():
    x = mg.tensor([3.0, 1.0, 3.0, 2.0, 1.0])
    assert mg.argsort(x, descending=True, stable=True).tolist() == [0, 2, 3, 1, 4]
    values, indices = mg.sort(x, stable=True)
    assert values.tolist() == [1.0, 1.0, 2.0, 3.0, 3.0] and indices.tolist() == [1, 4, 3, 0, 2]
    scalar = mg.tensor(2.5, requires_grad=True)
    values, indices = scalar.sort(dim=0, stable=None)
    assert values.shape == () and values.item() == 2.5 and indices.item() == 0
    values.backward()
    assert scalar.grad.item() == 1.0
    assert mg.argsort(mg.tensor(2.5)).shape == ()


def test_nonzero_of_a_0d_tensor():
    assert mg.nonzero(mg.tensor(2.0)).shape == (1, 0)
    assert mg.nonzero(mg.tensor(0.0)).shape == (0, 0)
    (idx,) = mg.tensor(2.0).nonzero(as_tuple=True)
    assert idx.tolist() == [0]
    assert mg.nonzero(mg.tensor(0.0), as_tuple=True)[0].shape == (0,)


def test_gather_with_0d_and_empty_indices():
    x = mg.tensor([1.5, -2.0, 4.0], requires_grad=True)
    assert mg.gather(x, 0, mg.tensor(2)).shape == ()
    assert mg.gather(x, 0, mg.tensor(2)).item() == 4.0
    assert mg.gather(mg.tensor(7.0), 0, mg.tensor([0])).tolist() == [7.0]
    empty = mg.gather(x, 0, mg.zeros(2, 0, dtype=mg.int64))
    assert empty.shape == (2, 0)
    (empty.sum() + mg.gather(x, 0, mg.tensor(1))).backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


# ---------------------------------------------------------------------------------------------
# Tensor.to flags and memory formats (minigrad's arrays are always C-contiguous)
# ---------------------------------------------------------------------------------------------

def test_to_reads_positional_non_blocking_and_copy_flags():
    x = mg.randn(3, 5, dtype=mg.float32, requires_grad=True)
    assert x.to(mg.float32, True) is x                       # non_blocking only
    copied = x.to(mg.float32, False, True)                   # copy=True: a new tensor
    assert copied is not x and copied.grad_fn is not None
    np.testing.assert_array_equal(copied.detach().numpy(), x.detach().numpy())
    (copied * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 5), 2.0, np.float32))
    assert x.to("cpu", mg.float64, True, False).dtype == mg.float64
    assert x.to(x, copy=True) is not x
    with pytest.raises(TypeError, match="at most two flags"):
        x.to(mg.float32, True, True, True)


@pytest.mark.parametrize("fmt", ["contiguous_format", "preserve_format", "channels_last"])
def test_memory_format_is_accepted_and_changes_nothing(fmt):
    fmt = getattr(mg, fmt)
    x = mg.randn(2, 3, 4, 5, dtype=mg.float64)
    for y in (x.float(memory_format=fmt), x.double(memory_format=fmt), x.half(memory_format=fmt),
              x.int(memory_format=fmt), x.long(memory_format=fmt), x.bool(memory_format=fmt),
              x.clone(memory_format=fmt), x.contiguous(memory_format=fmt),
              x.to(mg.float32, memory_format=fmt)):
        assert y.shape == (2, 3, 4, 5) and y.array.flags.c_contiguous
    np.testing.assert_array_equal(x.clone(memory_format=fmt).numpy(), x.numpy())


def test_memory_format_checks_the_rank_and_the_type():
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last"):
        mg.randn(3).float(memory_format=mg.channels_last)
    with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d"):
        mg.randn(1, 2, 3, 4).clone(memory_format=mg.channels_last_3d)
    with pytest.raises(TypeError, match="memory_format must be mg.contiguous_format"):
        mg.randn(3).contiguous(memory_format="channels_last")


# ---------------------------------------------------------------------------------------------
# clamp with tensor bounds
# ---------------------------------------------------------------------------------------------

def test_clamp_with_tensor_bounds_broadcasts_and_routes_gradients():
    x = mg.tensor([[0.3, -1.2, 2.5], [1.7, 0.1, -0.4]], requires_grad=True)
    lo = mg.tensor([0.0, -1.0, 0.5], requires_grad=True)
    hi = mg.tensor([[1.0], [-2.0]], requires_grad=True)     # row 1: hi < lo, so every out is hi
    y = mg.clamp(x, lo, hi)
    np.testing.assert_allclose(y.detach().numpy(), [[0.3, -1.0, 1.0], [-2.0, -2.0, -2.0]])
    (y * mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(lo.grad.numpy(), [0.0, 2.0, 0.0])
    np.testing.assert_allclose(hi.grad.numpy(), [[3.0], [15.0]])


def test_clamp_with_tensor_bounds_passes_gradcheck():
    rng = np.random.default_rng(5)
    x = mg.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    lo = mg.tensor(rng.normal(size=(3,)) - 0.6, requires_grad=True)
    hi = mg.tensor(rng.normal(size=(4, 1)) + 0.6, requires_grad=True)
    assert mg.autograd.gradcheck(lambda a, b, c: mg.clamp(a, b, c), (x, lo, hi))
    assert mg.autograd.gradgradcheck(lambda a, b, c: mg.clamp(a, b, c) ** 2, (x, lo, hi))
    assert mg.autograd.gradcheck(lambda a, b: mg.clamp(a, min=b), (x, lo))
    assert mg.autograd.gradcheck(lambda a, c: x.clamp(max=c) * a, (x, hi))


def test_clamp_with_tensor_bounds_dtype_and_errors():
    x = mg.tensor([1, 5, -3])
    assert mg.clamp(x, mg.tensor([2.5, 0.0, 0.0])).dtype == mg.float32
    assert mg.clamp(mg.randn(3), mg.tensor(0.5, dtype=mg.float64)).dtype == mg.float32
    assert mg.clamp(mg.tensor(1.0), mg.tensor([2.5, 0.0])).tolist() == [2.5, 1.0]
    with pytest.raises(TypeError, match="clamp: min and max must both be Tensors"):
        mg.clamp(mg.randn(3), mg.tensor(0.0), 1.0)
    with pytest.raises(RuntimeError, match=r"clamp: input \(3,\), min \(2,\)"):
        mg.clamp(mg.randn(3), mg.randn(2))


# ---------------------------------------------------------------------------------------------
# Overloads of the creation functions, mg.zero_, pools with 1-tuples
# ---------------------------------------------------------------------------------------------

def test_randint_high_size_overload():
    mg.manual_seed(7)
    values = mg.randint(3, (400,))
    assert values.shape == (400,) and values.dtype == mg.int64
    assert set(values.tolist()) == {0, 1, 2}
    assert mg.randint(10, [2, 3]).shape == (2, 3)
    values = mg.randint(5, 8, (300,))
    assert set(values.tolist()) == {5, 6, 7}


def test_normal_with_tensor_mean_and_std():
    mean = mg.tensor(np.linspace(-50.0, 50.0, 7).reshape(7, 1), requires_grad=True)
    std = mg.full((3,), 1e-3, dtype=mg.float64, requires_grad=True)
    sample = mg.normal(mean, std)
    assert sample.shape == (7, 3) and sample.dtype == mg.float64
    np.testing.assert_allclose(sample.detach().numpy(), np.broadcast_to(mean.detach().numpy(),
                                                                        (7, 3)), atol=0.02)
    sample.sum().backward()                      # PyTorch: gradient 0 to mean and std
    assert not mean.grad.numpy().any() and not std.grad.numpy().any()
    assert mg.normal(2.0, mg.ones(4, 2)).shape == (4, 2)
    assert mg.normal(mg.zeros(5)).shape == (5,)
    assert mg.normal(1.0, 0.5, (2, 2), layout=mg.strided, dtype=mg.float64).dtype == mg.float64
    with pytest.raises(RuntimeError, match="normal: expects std >= 0.0"):
        mg.normal(mg.zeros(3), mg.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(TypeError, match="size must be given"):
        mg.normal(0.0, 1.0)


def test_linspace_with_0d_tensor_ends_in_float64():
    values = mg.linspace(mg.tensor(0.1, dtype=mg.float32), -3, 50, dtype=mg.float64)
    start = float(np.float32(0.1))
    np.testing.assert_allclose(values.numpy(), np.linspace(start, -3.0, 50), rtol=1e-15)
    assert mg.linspace(mg.tensor(1.5, dtype=mg.float64), 3, 4).dtype == mg.float32
    with pytest.raises(RuntimeError, match="linspace: start must be a number or a 0-d tensor"):
        mg.linspace(mg.zeros(2), 1.0, 3)


def test_zero_function_and_zero_in_the_graph():
    x = mg.randn(3, 4)
    assert mg.zero_(x) is x and not x.numpy().any()
    leaf = mg.tensor([1.5, -2.0, 3.0], requires_grad=True)
    y = leaf * 2.0
    mg.zero_(y)
    (y + leaf).sum().backward()                  # y no longer depends on leaf
    assert y.tolist() == [0.0, 0.0, 0.0] and leaf.grad.tolist() == [1.0, 1.0, 1.0]
    z = leaf * 3.0
    z.fill_(2.5)
    assert z.requires_grad and z.tolist() == [2.5, 2.5, 2.5]


def test_pool2d_reads_1_tuples_as_both_dims():
    x = mg.randn(1, 2, 7, 7, dtype=mg.float64)
    one = F.avg_pool2d(x, (3,), stride=(2,), padding=(1,))
    np.testing.assert_allclose(one.numpy(), F.avg_pool2d(x, 3, stride=2, padding=1).numpy())
    assert F.max_pool2d(x, (3,), stride=(2,), padding=(1,)).shape == (1, 2, 4, 4)


# ---------------------------------------------------------------------------------------------
# F.pad: reflect, replicate, circular, and negative padding
# ---------------------------------------------------------------------------------------------

def _row(values):
    return mg.tensor([[values]], dtype=mg.float64)


@pytest.mark.parametrize("mode, pad, expected", [
    ("reflect", (2, 3), [2, 1, 0, 1, 2, 3, 2, 1, 0]),
    ("reflect", (-3, 2), [3, 2, 1]),
    ("replicate", (2, 1), [0, 0, 0, 1, 2, 3, 3]),
    ("replicate", (-4, 5), [3, 3, 3, 3, 3]),
    ("circular", (2, 3), [2, 3, 0, 1, 2, 3, 0, 1, 2]),
    ("circular", (-2, 1), [2, 3, 2]),                       # crops first, then wraps
    ("constant", (-1, 2), [1, 2, 3, 0, 0]),
])
def test_pad_modes_values(mode, pad, expected):
    assert F.pad(_row([0.0, 1.0, 2.0, 3.0]), pad, mode=mode).tolist() == [[expected]]


def test_pad_modes_2d_and_their_gradients():
    x = mg.tensor(np.arange(12.0).reshape(1, 1, 3, 4), requires_grad=True)
    y = F.pad(x, (1, 0, 0, 2), mode="reflect")
    assert y.shape == (1, 1, 5, 5)
    assert y[0, 0, :, 0].tolist() == [1.0, 5.0, 9.0, 5.0, 1.0]
    y.sum().backward()          # how many times each input element was copied
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[2, 4, 2, 2], [2, 4, 2, 2],
                                                         [1, 2, 1, 1]])
    z = mg.tensor(np.random.default_rng(2).normal(size=(2, 3, 5)), requires_grad=True)
    for mode, pad in (("replicate", (2, -1)), ("circular", (3, 1)), ("reflect", (4, 2))):
        assert mg.autograd.gradcheck(lambda v, p=pad, m=mode: F.pad(v, p, mode=m) ** 2, (z,))


def test_pad_mode_errors():
    x = mg.randn(1, 2, 4)
    with pytest.raises(RuntimeError, match="reflect padding \\(4, 0\\) of dimension 2 must be less"):
        F.pad(x, (4, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="wraps around more than once"):
        F.pad(x, (5, 0), mode="circular")
    with pytest.raises(NotImplementedError, match="padding size 2 is not supported for a 1-D"):
        F.pad(mg.randn(4), (1, 1), mode="replicate")
    with pytest.raises(RuntimeError, match="doesn't take in value argument"):
        F.pad(x, (1, 1), mode="replicate", value=2.0)
    with pytest.raises(ValueError, match="pad: mode must be one of"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(RuntimeError, match="negative output size"):
        F.pad(x, (-3, -2))


# ---------------------------------------------------------------------------------------------
# Normalization of empty batches
# ---------------------------------------------------------------------------------------------

def test_group_norm_of_an_empty_batch():
    x = mg.randn(0, 4, 3, requires_grad=True)
    weight, bias = mg.randn(4, requires_grad=True), mg.randn(4, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no "mean of empty slice"
        y = F.group_norm(x, 2, weight, bias)
    assert y.shape == (0, 4, 3)
    y.sum().backward()
    assert weight.grad.tolist() == [0.0] * 4 and bias.grad.tolist() == [0.0] * 4
    assert F.group_norm(mg.randn(0, 6), 3).shape == (0, 6)


def test_batch_norm_of_empty_inputs():
    assert F.batch_norm(mg.randn(0), mg.randn(0), mg.randn(0), training=True).shape == (0,)
    assert F.batch_norm(mg.randn(0), None, None, training=False).shape == (0,)
    with pytest.raises(RuntimeError, match="running_mean has shape \\(3,\\), but the empty"):
        F.batch_norm(mg.randn(0), mg.randn(3), mg.randn(3))


@pytest.mark.parametrize("layer, shape", [(mg.nn.BatchNorm1d, (0, 3)),
                                          (mg.nn.BatchNorm1d, (0, 3, 5)),
                                          (mg.nn.BatchNorm2d, (0, 3, 4, 4))])
def test_batchnorm_layers_pass_an_empty_batch_in_train_mode(layer, shape):
    bn = layer(3)
    y = bn(mg.randn(*shape, requires_grad=True))
    assert y.shape == shape
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    assert bn.num_batches_tracked.item() == 1
    y.sum().backward()
    assert bn.weight.grad.tolist() == [0.0] * 3 and bn.bias.grad.tolist() == [0.0] * 3
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn(mg.randn(1, 3, *([1] * (len(shape) - 2))))


# ---------------------------------------------------------------------------------------------
# pow: float32 gradients of a broadcast operand
# ---------------------------------------------------------------------------------------------

def test_pow_float32_gradient_of_a_broadcast_exponent_survives_cancellation():
    # terms a^b log(a) ~ 2e5 with weights +1 and -1 nearly cancel (their sum is ~15): summed
    # in float32, their rounding would leave a relative error of ~1e-3
    base = np.array([[8.0], [8.0001], [7.9], [7.9002]], dtype=np.float32)
    base = np.repeat(base, 3, axis=1)
    exponent = np.array([5.5, 5.25, 5.75], dtype=np.float32)
    weight = np.array([[1.0], [-1.0], [1.0], [-1.0]], dtype=np.float32)
    grads = {}
    for dtype in (mg.float32, mg.float64):
        b = mg.tensor(exponent.astype(dtype), requires_grad=True)
        a = mg.tensor(base.astype(dtype), requires_grad=True)
        ((a ** b) * mg.tensor(weight.astype(dtype))).sum().backward()
        grads[dtype] = b.grad.numpy()
        assert b.grad.dtype == dtype and a.grad.dtype == dtype
    np.testing.assert_allclose(grads[mg.float32], grads[mg.float64], rtol=2e-6)


def test_pow_gradients_stay_differentiable_twice_with_broadcasting():
    rng = np.random.default_rng(4)
    a = mg.tensor(rng.uniform(0.5, 2.0, size=(3, 1, 4)), requires_grad=True)
    b = mg.tensor(rng.uniform(-1.0, 2.0, size=(2, 4)), requires_grad=True)
    assert mg.autograd.gradgradcheck(lambda x, y: x ** y, (a, b))


def test_normalize_with_p_0_and_a_0d_input():
    x = mg.tensor([[0.0, 2.0, -3.0], [1.0, 0.0, 0.0]], dtype=mg.float64, requires_grad=True)
    y = F.normalize(x, p=0.0, dim=-1)                  # divided by the count of nonzeros
    np.testing.assert_allclose(y.detach().numpy(), [[0.0, 1.0, -1.5], [1.0, 0.0, 0.0]])
    (y * mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=mg.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 1.0, 1.5], [4.0, 5.0, 6.0]])
    assert not F.normalize(mg.zeros(2, 3), p=0.0, dim=1).numpy().any()
    scalar = mg.tensor(-3.0, dtype=mg.float64, requires_grad=True)
    y = F.normalize(scalar, dim=0)
    assert y.shape == () and y.item() == -1.0
    y.backward()
    assert scalar.grad.item() == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(IndexError, match="expected to be in range of \\[-1, 0\\], but got 1"):
        F.normalize(scalar, dim=1)


# ---------------------------------------------------------------------------------------------
# MultiheadAttention(add_bias_kv, add_zero_attn)
# ---------------------------------------------------------------------------------------------

def _attention_by_hand(mha, query, key, value):
    """One head, unbatched, no in-projection biases: softmax(q k^T / sqrt(E)) v, out_proj."""
    w_q, w_k, w_v = np.split(mha.in_proj_weight.detach().numpy(), 3)
    q, k, v = query @ w_q.T, key @ w_k.T, value @ w_v.T
    if mha.bias_k is not None:
        k = np.vstack([k, mha.bias_k.detach().numpy()[0]])
        v = np.vstack([v, mha.bias_v.detach().numpy()[0]])
    if mha.add_zero_attn:
        k, v = np.vstack([k, np.zeros((1, k.shape[1]))]), np.vstack([v, np.zeros((1, v.shape[1]))])
    scores = q @ k.T / np.sqrt(q.shape[1])
    weights = np.exp(scores - scores.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)
    return (weights @ v) @ mha.out_proj.weight.detach().numpy().T, weights


@pytest.mark.parametrize("bias_kv, zero_attn", [(True, False), (False, True), (True, True)])
def test_multihead_attention_extra_key_value_positions(bias_kv, zero_attn):
    mg.manual_seed(3)
    mha = mg.nn.MultiheadAttention(4, 1, bias=False, add_bias_kv=bias_kv,
                                   add_zero_attn=zero_attn, dtype=mg.float64)
    assert [n for n, _ in mha.named_parameters()] == (
        ["in_proj_weight"] + ["bias_k", "bias_v"] * bias_kv + ["out_proj.weight"])
    rng = np.random.default_rng(0)
    query, key = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    out, weights = mha(mg.tensor(query), mg.tensor(key), mg.tensor(key))
    expected_out, expected_weights = _attention_by_hand(mha, query, key, key)
    assert weights.shape == (3, 5 + bias_kv + zero_attn)
    np.testing.assert_allclose(out.detach().numpy(), expected_out, rtol=1e-10)
    np.testing.assert_allclose(weights.detach().numpy(), expected_weights, rtol=1e-10)


def test_multihead_attention_masks_leave_the_added_positions_open():
    mha = mg.nn.MultiheadAttention(6, 2, add_bias_kv=True, add_zero_attn=True,
                                   batch_first=True)
    x = mg.randn(2, 3, 6)
    padding = mg.tensor([[False, False, True], [False, True, True]])
    causal = mg.tensor(np.triu(np.ones((3, 3), bool), 1))
    out, weights = mha(x, x, x, key_padding_mask=padding, attn_mask=causal)
    assert out.shape == (2, 3, 6) and weights.shape == (2, 3, 5)
    np.testing.assert_allclose(weights.sum(-1).detach().numpy(), np.ones((2, 3)), rtol=1e-5)
    assert not weights[1, :, 1:3].detach().numpy().any()          # padded keys get nothing
    assert (weights[:, :, 3:].detach().numpy() > 0).all()        # bias and zero keys open
    out.sum().backward()
    assert mha.bias_k.grad.shape == (1, 1, 6) and mha.bias_v.grad.numpy().any()


# Fuzz findings: silent wrong answers and accepted bad input
# ---------------------------------------------------------------------------------------------

def test_a_0d_tensor_operand_ranks_like_a_scalar_in_type_promotion():
    x = mg.tensor([1.0, 2.0, 3.0])
    assert (x + mg.tensor(0.5, dtype=mg.float64)).dtype == mg.float32
    assert (x * mg.tensor(2, dtype=mg.int64)).dtype == mg.float32
    # a higher category wins and brings its own dtype
    assert (mg.tensor([1, 2]) + mg.tensor(0.5, dtype=mg.float64)).dtype == mg.float64
    assert (mg.tensor([True]) + mg.tensor(3, dtype=mg.int32)).dtype == mg.int32
    # two 0-d tensors, or two with dims, promote as usual
    assert (mg.tensor(1.0) + mg.tensor(0.5, dtype=mg.float64)).dtype == mg.float64
    assert (x + mg.tensor([0.5], dtype=mg.float64)).dtype == mg.float64
    assert mg.where(mg.tensor([True]), x[:1], mg.tensor(2.0, dtype=mg.float64)).dtype == \
        mg.float32


def test_where_refuses_a_condition_that_is_not_bool():
    with pytest.raises(RuntimeError, match="where: expected condition to be a boolean"):
        mg.where(mg.tensor([1, 0]), mg.tensor([1.0, 2.0]), 0.0)


def test_indices_of_max_and_min_over_a_1d_tensor_do_not_require_grad():
    x = mg.tensor([3.0, 1.0, 2.0], requires_grad=True)
    for result in (x.max(0), mg.min(x, dim=0)):
        assert result.values.requires_grad and not result.indices.requires_grad


def test_max_min_prod_refuse_an_explicit_dim_none():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.max().item() == 4.0 and x.min().item() == 1.0 and x.prod().item() == 24.0
    for reduce in (mg.max, mg.min, mg.prod):
        with pytest.raises(TypeError, match=r"\(\): dim must be an int, got None"):
            reduce(x, dim=None)


def test_norm_default_p_is_frobenius_over_at_most_two_dims():
    x = mg.ones(2, 3, 5)
    assert mg.norm(x, dim=(0, 1)).shape == (5,)
    assert mg.norm(x, p=2, dim=(0, 1, 2)).item() == pytest.approx(np.sqrt(30))
    with pytest.raises(RuntimeError, match="norm: the Frobenius norm"):
        mg.norm(x, dim=(0, 1, 2))


def test_clamp_of_an_int_tensor_with_float_bounds_is_float():
    y = mg.clamp(mg.tensor([2, -1, 7]), 0.5, None)
    assert y.dtype == mg.float32 and y.tolist() == [2.0, 0.5, 7.0]
    assert mg.clamp(mg.tensor([2, -1, 7]), 0, 3).dtype == mg.int64


def test_arange_with_an_int_dtype_truncates_float_arguments_first():
    assert mg.arange(0.5, dtype=mg.int64).shape == (0,)
    assert mg.arange(-0.5, 2.7, dtype=mg.int64).tolist() == [0, 1]
    assert mg.arange(1.9, -3.2, -1.7, dtype=mg.int64).tolist() == [1, 0, -1, -2]
    with pytest.raises(RuntimeError, match="arange: step must be nonzero"):
        mg.arange(0, 3, 0.5, dtype=mg.int64)


def test_ints_and_0d_tensors_index_before_advanced_indices():
    x = mg.arange(2 * 3 * 5.0).reshape(2, 3, 5)
    cols = mg.tensor([0, 4])
    for first in (1, mg.tensor(1)):
        y = x[first, :, cols]
        assert y.shape == (3, 2)
        assert y.tolist() == x.numpy()[1][:, [0, 4]].tolist()
    assert x[..., 1, [0, 1]].shape == (2, 2)
    x = mg.randn(2, 3, 5, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda t: t[1, :, mg.tensor([0, 4, 4])], (x,))


def test_a_bool_mask_must_match_the_dims_it_indexes():
    x = mg.zeros(2, 5)
    assert x[:, mg.tensor([True, False, True, False, False])].shape == (2, 2)
    with pytest.raises(IndexError, match=r"the shape of the mask \(0,\) at index 1"):
        x[:, mg.zeros(0).bool()]


def test_adaptive_avg_pool_keeps_nan_and_inf_in_their_own_windows():
    x = np.arange(3 * 7.0).reshape(1, 1, 3, 7)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 2, 6] = np.inf
    y = F.adaptive_avg_pool2d(mg.tensor(x), (2, 3)).numpy()[0, 0]
    finite = np.isfinite(y)
    assert np.isnan(y[:, 0]).all() and np.isinf(y[1, 2]) and finite.sum() == 3
    assert y[0, 1] == pytest.approx(x[0, 0, :2, 2:5].mean())
    t = mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 5, 7)), requires_grad=True)
    assert mg.autograd.gradcheck(lambda v: F.adaptive_avg_pool2d(v, (2, 3)), (t,))


def test_functions_of_one_tensor_refuse_other_inputs_by_name():
    for fn, name in ((mg.exp, "exp"), (mg.sqrt, "sqrt"), (mg.abs, "abs"), (mg.relu, "relu"),
                     (mg.neg, "neg"), (mg.tanh, "tanh"), (mg.sigmoid, "sigmoid")):
        for bad in (3.5, [1.0, 2.0], None):
            with pytest.raises(TypeError, match=rf"^{name}\(\): argument 'input' \(position 1\) "
                                                rf"must be Tensor, not {type(bad).__name__}"):
                fn(bad)


def test_relu_neg_and_sub_refuse_bool_tensors():
    mask = mg.tensor([True, False, True])
    with pytest.raises(RuntimeError, match="relu: Boolean inputs"):
        mg.relu(mask)
    with pytest.raises(RuntimeError, match="neg: negation"):
        _ = -mask
    for a, b in ((mask, 1), (1.0, mask), (mg.tensor([1.0, 2.0, 3.0]), True)):
        with pytest.raises(RuntimeError, match="sub: subtraction"):
            a - b
    assert (mask.int() - 1).tolist() == [0, -1, 0]


def test_logsumexp_over_an_empty_dim_is_minus_inf():
    x = mg.zeros(0, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = mg.logsumexp(x, 0)
        y.sum().backward()
    assert y.tolist() == [-np.inf] * 3 and x.grad.shape == (0, 3)
    assert mg.logsumexp(mg.zeros(0, 3), 1).shape == (0,)


def test_max_and_avg_pooling_take_an_empty_batch_but_no_other_empty_dim():
    for pool in (F.max_pool2d, F.avg_pool2d):
        assert pool(mg.zeros(0, 3, 4, 5), 2).shape == (0, 3, 2, 2)
        for shape in ((1, 0, 4, 5), (1, 3, 0, 5), (0, 4, 5)):
            with pytest.raises(RuntimeError, match=f"{pool.__name__}: expected .* only empty"):
                pool(mg.zeros(*shape), 2)


def test_linear_with_a_1d_weight_takes_no_bias():
    x = mg.randn(4, 3)
    assert F.linear(x, mg.ones(3)).shape == (4,)
    with pytest.raises(RuntimeError, match="linear: a 1-D weight"):
        F.linear(x, mg.ones(3), mg.ones(1))


def test_factories_need_a_size():
    assert mg.zeros(()).shape == () and mg.randn_like(mg.tensor(1.0)).shape == ()
    for factory in (mg.zeros, mg.ones, mg.randn, mg.rand):
        with pytest.raises(TypeError, match=f"{factory.__name__}\\(\\) missing 1 required"):
            factory()


def test_regression_losses_and_soft_cross_entropy_compute_in_the_promoted_dtype():
    x = mg.randn(5, 3)
    wide = mg.randn(5, 3, dtype=mg.float64)
    assert F.mse_loss(x, wide).dtype == mg.float64
    assert F.l1_loss(x, wide).dtype == mg.float64
    assert F.mse_loss(x, mg.ones(5, 3, dtype=mg.int64)).dtype == mg.float32
    expected = ((x.double() - wide) ** 2).mean().item()
    assert F.mse_loss(x, wide).item() == pytest.approx(expected, rel=1e-12)
    assert F.cross_entropy(x, wide.softmax(1)).dtype == mg.float64


def test_multihead_attention_gives_nan_where_every_key_is_masked():
    mha = mg.nn.MultiheadAttention(4, 2, batch_first=True, dtype=mg.float64)
    x = mg.randn(2, 3, 4, dtype=mg.float64, requires_grad=True)
    mask = mg.tensor([[True, True, True], [False, True, False]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, weights = mha(x, x, x, key_padding_mask=mask)
        out.sum().backward()
    assert np.isnan(out.detach().numpy()[0]).all() and np.isfinite(out.detach().numpy()[1]).all()
    assert np.isnan(weights.detach().numpy()[0]).all()
    assert np.isnan(x.grad.numpy()[0]).all() and np.isfinite(x.grad.numpy()[1]).all()
    # scaled_dot_product_attention gives such a query zero weights instead, as in PyTorch
    q = mg.ones(1, 1, 2, 2)
    keep = mg.tensor([[False, False], [True, True]])
    assert F.scaled_dot_product_attention(q, q, q, attn_mask=keep).tolist()[0][0][0] == [0, 0]


def test_var_and_std_of_a_constant_are_exactly_zero_with_zero_gradients():
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        for n in (3, 7, 29):
            c = dtype(rng.standard_normal() * 1e3)
            x = mg.tensor(np.full((2, n), c, dtype), requires_grad=True)
            s = x.std(1)
            s.sum().backward()
            assert not s.detach().numpy().any() and not x.var(1).detach().numpy().any()
            assert not x.grad.numpy().any()
    x = mg.randn(5, 7, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda t: t.var(1), (x,))


def test_squeeze_refuses_a_dim_named_twice():
    x = mg.ones(1, 2, 1)
    assert mg.squeeze(x, (0, -1)).shape == (2,) and mg.squeeze(x, ()).shape == (1, 2, 1)
    with pytest.raises(RuntimeError, match="squeeze: dim 0 appears multiple times"):
        mg.squeeze(x, (0, -3))


def test_shape_arguments_must_be_ints_and_not_negative():
    x = mg.ones(2, 3)
    assert x.reshape(3, 2).shape == (3, 2) and x.expand(4, -1, 3).shape == (4, 2, 3)
    assert x.repeat(np.int64(2), 1).shape == (4, 3) and x.view((6,)).shape == (6,)
    for call, message in ((lambda: x.reshape(2.0, 3), "reshape: size must be an int"),
                          (lambda: x.view((6.0,)), "view: size must be an int"),
                          (lambda: x.repeat(None, 1), "repeat: repeats must be an int"),
                          (lambda: mg.nn.Linear(2.0, 3), "Linear: in_features must be an int")):
        with pytest.raises(TypeError, match=message):
            call()
    for call, message in ((lambda: x.expand(-2, 3), "expand: sizes must be >= 0"),
                          (lambda: x.repeat(-1, 1), "repeat: repeats must be >= 0"),
                          (lambda: mg.nn.Linear(3, -1), "Linear: in_features and out_features")):
        with pytest.raises(RuntimeError, match=message):
            call()


def test_lstm_kernels_return_c_contiguous_arrays_for_any_input_layout():
    from minigrad.kernels import lstm_cell_numba, lstm_cell_numpy
    rng = np.random.default_rng(0)
    steps, n, hidden = 3, 5, 2

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    gates, c = arr(4 * hidden, n).T, arr(hidden, n).T           # transposed views
    assert all(a.flags.c_contiguous for a in lstm_cell_numpy.lstm_cell(gates, c))
    args = (arr(steps, n, 4 * hidden), arr(steps, n, hidden), arr(steps, n, hidden),
            arr(n, hidden), arr(4 * hidden, hidden), arr(steps, n, hidden), arr(n, hidden),
            np.asfortranarray(arr(n, hidden)))
    for kernels in (lstm_cell_numba, lstm_cell_numpy):
        assert all(a.flags.c_contiguous for a in kernels.lstm_sequence_backward(*args))


def test_arrays_and_lists_given_to_layers_and_operators():
    """A NumPy array or a list where a layer wants a Tensor is a TypeError naming the layer;
    an array next to a tensor in arithmetic joins as a tensor of its dtype (PyTorch too)."""
    with pytest.raises(TypeError, match=r"linear\(\): argument 'input' .* not ndarray"):
        mg.nn.Linear(3, 2)(np.ones(3))
    with pytest.raises(TypeError, match="Conv2d.*expects a Tensor input, got list"):
        mg.nn.Conv2d(1, 1, 3)([[1.0]])
    total = np.ones(3) + mg.ones(3)
    assert isinstance(total, mg.Tensor) and total.dtype == mg.float64
    assert (mg.ones(3) * np.arange(3.0)).tolist() == [0.0, 1.0, 2.0]


def test_matmul_of_two_dtypes_is_refused_as_in_pytorch():
    a, b = mg.randn(2, 3), mg.randn(3, 4, dtype=mg.float64)
    for call in (lambda: a @ b, lambda: mg.mm(a, b), lambda: mg.matmul(a[0], b)):
        with pytest.raises(RuntimeError, match=r"matmul: .*same dtype, got float32 .*float64"):
            call()
    with pytest.raises(RuntimeError, match=r"addmm: .*same dtype"):
        mg.addmm(mg.zeros(4, dtype=mg.float64), a, b)


def test_floor_divide_records_a_node_whose_backward_raises():
    x = mg.tensor([1.5, 2.5, -3.5], requires_grad=True)
    y = mg.floor_divide(x, 2.0)
    assert y.requires_grad and y.tolist() == [0.0, 1.0, -2.0]
    with pytest.raises(RuntimeError, match="floor_divide: the derivative is not implemented"):
        y.sum().backward()
    (x % 2.0).sum().backward()                 # remainder still has its gradient
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_errors_name_the_op_called_not_the_one_it_delegates_to():
    with pytest.raises(RuntimeError, match=r"mse_loss: input of shape \(2,\) and target of "
                                           r"shape \(3,\) can't be broadcast"):
        F.mse_loss(mg.randn(2), mg.randn(3))
    with pytest.raises(ValueError, match="LSTM: input_size must be a positive integer, got -1"):
        mg.nn.LSTM(-1, 4)
