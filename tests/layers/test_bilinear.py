"""Bilinear and F.bilinear: outputs and gradients against torch with copied weights, float64
gradcheck, initialisation bounds, repr and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import compare_with_torch, module_gradcheck

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


@pytest.mark.parametrize("bias,lead", [(True, (5,)), (False, (2, 3)), (True, ())])
def test_gradcheck(rng, bias, lead):
    x1 = mg.tensor(rng.standard_normal(lead + (3,)), dtype=mg.float64, requires_grad=True)
    x2 = mg.tensor(rng.standard_normal(lead + (4,)), dtype=mg.float64, requires_grad=True)
    module_gradcheck(nn.Bilinear(3, 4, 2, bias=bias), x1, x2)


@pytest.mark.parametrize("bias,lead", [(True, (5,)), (False, (2, 3)), (True, ())])
def test_matches_torch(rng, bias, lead):
    torch = pytest.importorskip("torch")
    mine, theirs = nn.Bilinear(3, 4, 2, bias=bias), torch.nn.Bilinear(3, 4, 2, bias=bias)
    assert repr(mine) == repr(theirs)
    compare_with_torch(mine, theirs, (rng.standard_normal(lead + (3,)),
                                      rng.standard_normal(lead + (4,))), rng=rng)


def test_initialisation_bounds():
    layer = nn.Bilinear(16, 3, 5)
    assert layer.weight.shape == (5, 16, 3) and layer.bias.shape == (5,)
    assert np.abs(layer.weight.array).max() <= 0.25 and np.abs(layer.bias.array).max() <= 0.25
    assert list(layer.state_dict()) == ["weight", "bias"]


def test_bad_input():
    layer = nn.Bilinear(3, 4, 2)
    with pytest.raises(RuntimeError, match=r"bilinear: expected input1 \(\*, 3\) and input2 "
                                           r"\(\*, 4\) .* got input1 \(5, 3\) and input2 "
                                           r"\(5, 3\)"):
        layer(mg.ones(5, 3), mg.ones(5, 3))
    with pytest.raises(RuntimeError, match="same leading dimensions"):
        layer(mg.ones(5, 3), mg.ones(4, 4))
    with pytest.raises(RuntimeError, match="weight must be 3-D"):
        F.bilinear(mg.ones(2, 3), mg.ones(2, 4), mg.ones(3, 4))
