"""Layers without PyTorch: gradchecks of whole layers, properties over random shapes
(hypothesis), numerical stability, init, dropout, gradient clipping and error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.autograd import gradcheck, gradgradcheck


def _x(rng, *shape):
    return mg.tensor(rng.normal(size=shape), requires_grad=True)


# ---------------------------------------------------------------------------------------------
# Gradchecks of layers (parameters included), in float64 via .double()
# ---------------------------------------------------------------------------------------------

LAYERS = [
    (lambda: nn.Linear(4, 3), (2, 4)),
    (lambda: nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)), (4, 3)),
    (lambda: nn.BatchNorm1d(3), (5, 3)),
    (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    (lambda: nn.LayerNorm((2, 3)), (2, 2, 3)),
    (lambda: nn.GroupNorm(2, 4), (3, 4, 2, 3)),
    (lambda: nn.GELU(), (3, 4)),
    (lambda: nn.Softmax(dim=1), (3, 4)),
]


@pytest.mark.parametrize("make,shape", LAYERS, ids=[f"layer{i}" for i in range(len(LAYERS))])
def test_layer_gradcheck_including_parameters(make, shape, rng):
    mg.manual_seed(0)
    layer = make().double()
    params = list(layer.parameters())
    x = _x(rng, *shape)

    def fn(x, *ps):
        return layer(x)

    assert gradcheck(fn, (x, *params))


def test_second_derivative_through_a_model_gradient_penalty(rng):
    """Double backward through Linear + LayerNorm + GELU + softmax-cross-entropy."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.GELU(), nn.Linear(4, 3)).double()
    target = mg.tensor([0, 2])

    def loss_of_input(x):
        return F.cross_entropy(model(x), target)

    assert gradgradcheck(loss_of_input, (_x(rng, 2, 3),))


# ---------------------------------------------------------------------------------------------
# Properties over random shapes
# ---------------------------------------------------------------------------------------------

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)


@given(shape=shapes, data=st.data())
def test_softmax_sums_to_one_and_matches_exp_log_softmax(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = mg.tensor(np.random.default_rng(len(shape)).normal(size=shape) * 10)
    p = F.softmax(x, dim=dim)
    np.testing.assert_allclose(p.numpy().sum(axis=dim), 1.0, rtol=1e-12)
    np.testing.assert_allclose(mg.exp(F.log_softmax(x, dim=dim)).numpy(), p.numpy(), rtol=1e-10)


@given(batch=st.integers(1, 4), features=st.integers(2, 6))
def test_layer_norm_output_is_standardised(batch, features):
    x = mg.tensor(np.random.default_rng(features).normal(3, 5, size=(batch, features)))
    y = F.layer_norm(x, (features,), eps=0.0).numpy()
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-10)
    np.testing.assert_allclose(y.var(-1), 1, atol=1e-8)


@given(n=st.integers(1, 6), c=st.integers(1, 5), data=st.data())
def test_cross_entropy_is_mean_negative_log_softmax_of_target(n, c, data):
    rng = np.random.default_rng(n * 10 + c)
    logits = mg.tensor(rng.normal(size=(n, c)))
    target = rng.integers(0, c, size=n)
    expected = -F.log_softmax(logits, 1).numpy()[np.arange(n), target].mean()
    np.testing.assert_allclose(F.cross_entropy(logits, mg.tensor(target)).item(), expected)


# ---------------------------------------------------------------------------------------------
# Numerical stability
# ---------------------------------------------------------------------------------------------

def test_softmax_and_cross_entropy_with_huge_logits_stay_finite():
    x = mg.tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
    np.testing.assert_allclose(F.softmax(x, 1).detach().numpy(), [[1, 0, 0]])
    assert np.isfinite(F.log_softmax(x, 1).detach().numpy()).all()
    loss = F.cross_entropy(x, mg.tensor([2]))
    np.testing.assert_allclose(loss.item(), 2000.0)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1, 0, -1]], atol=1e-6)


def test_float32_stays_float32():
    x = mg.randn(4, 5)
    assert F.softmax(x, 1).dtype == np.float32
    assert F.gelu(x).dtype == np.float32
    assert F.layer_norm(x, (5,)).dtype == np.float32
    assert F.cross_entropy(x, mg.tensor([0, 1, 2, 3])).dtype == np.float32
    assert F.binary_cross_entropy_with_logits(x, mg.zeros(4, 5)).dtype == np.float32


def test_label_smoothing_formula_by_hand():
    logits = np.array([[2.0, 0.5, -1.0]])
    eps, c = 0.3, 3
    logp = logits - np.log(np.exp(logits).sum())
    expected = -((1 - eps) * logp[0, 1] + eps / c * logp.sum())
    out = F.cross_entropy(mg.tensor(logits), mg.tensor([1]), label_smoothing=eps)
    np.testing.assert_allclose(out.item(), expected)


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------

def test_dropout_scales_kept_values_and_is_identity_in_eval():
    mg.manual_seed(1)
    drop = nn.Dropout(0.25)
    x = mg.ones(200, 50)
    y = drop(x).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    drop.eval()
    assert drop(x) is x


def test_dropout_gradient_uses_the_same_mask():
    mg.manual_seed(2)
    x = mg.ones(10, 10, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_dropout_reproducible_with_manual_seed_and_edge_probabilities():
    x = mg.ones(5, 5)
    mg.manual_seed(3)
    a = F.dropout(x, 0.5).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), a)
    assert float(F.dropout(x, 1.0).sum()) == 0.0
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


# ---------------------------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------------------------

def test_init_functions_are_in_place_and_have_the_right_statistics():
    mg.manual_seed(0)
    w = nn.Parameter(mg.zeros(200, 300))
    assert nn.init.kaiming_normal_(w, nonlinearity="relu") is w
    np.testing.assert_allclose(w.detach().numpy().std(), math.sqrt(2 / 300), rtol=0.02)
    nn.init.xavier_uniform_(w)
    bound = math.sqrt(6 / 500)
    assert np.abs(w.detach().numpy()).max() <= bound
    np.testing.assert_allclose(w.detach().numpy().std(), bound / math.sqrt(3), rtol=0.02)
    nn.init.xavier_normal_(w, gain=2.0)
    np.testing.assert_allclose(w.detach().numpy().std(), 2 * math.sqrt(2 / 500), rtol=0.02)
    nn.init.kaiming_uniform_(w, mode="fan_out")
    assert np.abs(w.detach().numpy()).max() <= math.sqrt(2 / (1 + 0)) * math.sqrt(3 / 200)
    nn.init.trunc_normal_(w, std=0.5, a=-0.4, b=0.6)
    assert w.detach().numpy().min() >= -0.4 and w.detach().numpy().max() <= 0.6
    nn.init.constant_(w, 0.3)
    assert np.all(w.detach().numpy() == np.float32(0.3))
    nn.init.zeros_(w), nn.init.ones_(nn.Parameter(mg.zeros(3)))
    assert w.requires_grad and w.grad_fn is None


def test_orthogonal_and_eye():
    mg.manual_seed(0)
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        w = mg.zeros(*shape, dtype=mg.float64)
        nn.init.orthogonal_(w, gain=2.0)
        flat = w.numpy().reshape(shape[0], -1)
        gram = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, 4 * np.eye(len(gram)), atol=1e-10)
    e = nn.init.eye_(mg.zeros(2, 3))
    np.testing.assert_array_equal(e.numpy(), np.eye(2, 3))


def test_calculate_gain_and_fan_errors():
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(mg.zeros(3))


# ---------------------------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------------------------

def test_clip_grad_norm_returns_total_norm_and_scales():
    a, b = nn.Parameter(mg.zeros(2)), nn.Parameter(mg.zeros(1))
    a.grad, b.grad = mg.tensor([3.0, 0.0]), mg.tensor([4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert math.isclose(total.item(), 5.0, rel_tol=1e-6)
    np.testing.assert_allclose(np.concatenate([a.grad.numpy(), b.grad.numpy()]),
                               [0.6, 0.0, 0.8], rtol=1e-5)
    total = nn.utils.clip_grad_norm_([a, b], max_norm=10.0)  # below the max: unchanged
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0], rtol=1e-5)
    a.grad = mg.tensor([-7.0, 2.0])
    assert nn.utils.clip_grad_norm_(a, 1.0, norm_type=math.inf).item() == 7.0
    np.testing.assert_allclose(a.grad.numpy(), [-1.0, 2 / 7], rtol=1e-5)


def test_clip_grad_norm_nonfinite_and_value():
    p = nn.Parameter(mg.zeros(2))
    p.grad = mg.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    p.grad = mg.tensor([-3.0, 0.5])
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, 0.5])


# ---------------------------------------------------------------------------------------------
# Clear errors
# ---------------------------------------------------------------------------------------------

def test_linear_wrong_feature_count():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4, out_features=2\) got input "
                                           r"with last dimension 3 \(input shape \(5, 3\)\)"):
        nn.Linear(4, 2)(mg.zeros(5, 3))
    with pytest.raises(RuntimeError, match=r"linear: input has last dimension 3"):
        F.linear(mg.zeros(5, 3), mg.zeros(2, 4))


def test_cross_entropy_errors_name_the_numbers():
    logits = mg.zeros(4, 5)
    with pytest.raises(IndexError, match=r"target contains class 7, which is out of range for "
                                         r"C=5 classes"):
        F.cross_entropy(logits, mg.tensor([0, 7, 1, 2]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target "
                                         r"batch_size \(3\)"):
        F.cross_entropy(logits, mg.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match=r"class-index targets must be integers.*float32.*"
                                        r"target.long\(\)"):
        F.cross_entropy(logits, mg.tensor([0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"weight must have shape \(5,\)"):
        F.cross_entropy(logits, mg.tensor([0, 1, 2, 3]), weight=mg.ones(4))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.cross_entropy(logits, mg.tensor([0, 1, 2, 3]), reduction="avg")
    with pytest.raises(IndexError, match="class -1"):
        nn.NLLLoss()(logits, mg.tensor([0, -1, 1, 2]))


def test_bce_errors():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([1.5, 0.2]), mg.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"target size \(3,\) must be the same as input size "
                                         r"\(2,\)"):
        F.binary_cross_entropy_with_logits(mg.zeros(2), mg.zeros(3))


def test_mse_warns_about_broadcasting_shapes():
    with pytest.warns(UserWarning, match=r"target size \(4,\) that is different to the input "
                                         r"size \(4, 1\)"):
        F.mse_loss(mg.zeros(4, 1), mg.zeros(4))
