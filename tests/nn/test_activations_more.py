"""PReLU, SELU, CELU, LogSigmoid, Softshrink, Hardshrink, Tanhshrink, Threshold, RReLU (module
and F) and the in-place F forms: values and gradients against torch, float64 gradcheck, reprs
and errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers"))
from layer_helpers import compare_with_torch, module_gradcheck  # noqa: E402

SHAPE = (3, 5, 7)


def _input(rng, shape=SHAPE):
    """Values away from the kinks (0, +-0.5, the thresholds used below), where finite
    differences are exact enough."""
    x = rng.uniform(-2.5, 2.5, size=shape)
    for kink in (0.0, 0.5, -0.5, 0.3, -0.3, 0.1):
        x = np.where(np.abs(x - kink) < 1e-2, x + 0.05, x)
    return x


# (name, minigrad module, torch module maker)
MODULES = [
    ("PReLU", lambda: nn.PReLU(), lambda t: t.nn.PReLU()),
    ("PReLU-channels", lambda: nn.PReLU(5, init=0.1), lambda t: t.nn.PReLU(5, init=0.1)),
    ("SELU", lambda: nn.SELU(), lambda t: t.nn.SELU()),
    ("CELU", lambda: nn.CELU(1.7), lambda t: t.nn.CELU(1.7)),
    ("LogSigmoid", lambda: nn.LogSigmoid(), lambda t: t.nn.LogSigmoid()),
    ("Softshrink", lambda: nn.Softshrink(0.3), lambda t: t.nn.Softshrink(0.3)),
    ("Hardshrink", lambda: nn.Hardshrink(), lambda t: t.nn.Hardshrink()),
    ("Tanhshrink", lambda: nn.Tanhshrink(), lambda t: t.nn.Tanhshrink()),
    ("Threshold", lambda: nn.Threshold(0.1, -3.0), lambda t: t.nn.Threshold(0.1, -3.0)),
    ("RReLU-eval", lambda: nn.RReLU(0.1, 0.3).eval(), lambda t: t.nn.RReLU(0.1, 0.3).eval()),
]


@pytest.mark.parametrize("name,make,make_torch", MODULES, ids=[m[0] for m in MODULES])
def test_module_gradcheck(rng, name, make, make_torch):
    x = mg.tensor(_input(rng), dtype=mg.float64, requires_grad=True)
    module_gradcheck(make(), x)


@pytest.mark.parametrize("name,make,make_torch", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_torch(rng, name, make, make_torch):
    torch = pytest.importorskip("torch")
    mm, tm = make(), make_torch(torch)
    assert repr(mm) == repr(tm)
    compare_with_torch(mm, tm, (_input(rng),), rng=rng)


@pytest.mark.parametrize("fn", [lambda x: F.selu(x), lambda x: F.celu(x, 0.6),
                                lambda x: F.tanhshrink(x),
                                lambda x: F.prelu(x, mg.tensor([0.2, -0.1, 0.3, 0.5, 1.5],
                                                                dtype=mg.float64,
                                                                requires_grad=True))])
def test_second_derivatives(rng, fn):
    x = mg.tensor(_input(rng, (4, 5)), dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradgradcheck(fn, (x,))


def test_reprs():
    assert repr(nn.SELU(inplace=True)) == "SELU(inplace=True)"
    assert repr(nn.CELU(2.0, inplace=True)) == "CELU(alpha=2.0, inplace=True)"
    assert repr(nn.Threshold(0.1, 20)) == "Threshold(threshold=0.1, value=20)"
    assert repr(nn.RReLU()) == "RReLU(lower=0.125, upper=0.3333333333333333)"
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"
    assert list(nn.PReLU(3).state_dict()) == ["weight"]


def test_rrelu_training_draws_slopes_in_range_and_backward_uses_them(rng):
    x = mg.tensor(-np.abs(_input(rng)) - 0.1, dtype=mg.float64, requires_grad=True)
    layer = nn.RReLU(0.2, 0.4)
    mg.manual_seed(7)
    y = layer(x)
    slopes = y.array / x.array
    assert slopes.min() >= 0.2 and slopes.max() <= 0.4 and np.unique(slopes).size > 100
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, slopes, rtol=1e-12)
    mg.manual_seed(7)
    np.testing.assert_array_equal(layer(x).array, y.array)          # seeded: reproducible
    positive = mg.tensor(np.abs(_input(rng)) + 0.1)
    np.testing.assert_array_equal(layer(positive).array, positive.array)
    layer.eval()
    np.testing.assert_allclose(layer(x).array, 0.3 * x.array, rtol=1e-12)


INPLACE = [("relu_", (), "relu"), ("elu_", (0.7,), "elu"), ("leaky_relu_", (0.2,), "leaky_relu"),
           ("hardtanh_", (-0.5, 0.8), "hardtanh"), ("threshold_", (0.1, 9.0), "threshold"),
           ("selu_", (), "selu"), ("celu_", (1.3,), "celu")]


@pytest.mark.parametrize("name,args,out_of_place", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_forms_write_into_the_input(rng, name, args, out_of_place):
    data = _input(rng)
    x = mg.tensor(data.copy())
    version = x._version[0]
    out = getattr(F, name)(x, *args)
    assert out is x and x._version[0] > version
    np.testing.assert_array_equal(x.array, getattr(F, out_of_place)(mg.tensor(data), *args).array)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(data.copy())
    getattr(torch.nn.functional, name)(tx, *args)
    np.testing.assert_allclose(x.array, tx.numpy(), rtol=1e-12)


def test_inplace_form_on_a_graph_tensor_is_recorded(rng):
    a = mg.tensor(_input(rng), dtype=mg.float64, requires_grad=True)
    h = a * 2
    F.leaky_relu_(h, 0.2)
    h.sum().backward()
    np.testing.assert_allclose(a.grad.array, np.where(a.array > 0, 2.0, 0.4))
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.relu_(a)


def test_bad_arguments():
    x = mg.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"prelu: weight has 4 slopes but the input "
                                           r"\(2, 3, 4\) has 3 channels \(dim 1\)"):
        nn.PReLU(4)(x)
    with pytest.raises(ValueError, match="softshrink: lambd must be >= 0"):
        F.softshrink(x, -1.0)
    with pytest.raises(ValueError, match="celu: alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="RReLU: expected 0 <= lower <= upper"):
        nn.RReLU(0.5, 0.1)
    with pytest.raises(ValueError, match="PReLU: num_parameters must be >= 1"):
        nn.PReLU(0)
