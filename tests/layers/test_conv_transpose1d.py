"""ConvTranspose1d and F.conv_transpose1d: outputs and gradients against torch with copied
weights, float64 gradcheck, output_size, repr and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import compare_with_torch, module_gradcheck

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

CASES = [
    (dict(in_channels=3, out_channels=4, kernel_size=3), (2, 3, 7)),
    (dict(in_channels=4, out_channels=6, kernel_size=2, stride=3, padding=1, output_padding=2,
          groups=2), (2, 4, 5)),
    (dict(in_channels=2, out_channels=3, kernel_size=3, dilation=2, bias=False), (2, 6)),
    (dict(in_channels=3, out_channels=2, kernel_size=4, stride=2, dilation=3, output_padding=2),
     (1, 3, 5)),
]


@pytest.mark.parametrize("kw,shape", CASES, ids=str)
def test_gradcheck(rng, kw, shape):
    x = mg.tensor(rng.standard_normal(shape), dtype=mg.float64, requires_grad=True)
    module_gradcheck(nn.ConvTranspose1d(**kw), x)


@pytest.mark.parametrize("kw,shape", CASES, ids=str)
def test_matches_torch(rng, kw, shape):
    torch = pytest.importorskip("torch")
    mine, theirs = nn.ConvTranspose1d(**kw), torch.nn.ConvTranspose1d(**kw)
    assert repr(mine) == repr(theirs)
    compare_with_torch(mine, theirs, (rng.standard_normal(shape),), rng=rng)


def test_output_size_picks_the_output_padding(rng):
    layer = nn.ConvTranspose1d(2, 3, 3, stride=3)
    x = mg.tensor(rng.standard_normal((1, 2, 4)))
    assert layer(x).shape == (1, 3, 12)
    assert layer(x, output_size=[14]).shape == (1, 3, 14)
    with pytest.raises(ValueError, match="requested output size"):
        layer(x, output_size=[16])


def test_functional_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 4, 5)), rng.standard_normal((4, 3, 3)), \
        rng.standard_normal(6)
    ours = F.conv_transpose1d(mg.tensor(x), mg.tensor(w), mg.tensor(b), stride=2, padding=1,
                              output_padding=1, groups=2)
    theirs = torch.nn.functional.conv_transpose1d(torch.tensor(x), torch.tensor(w),
                                                  torch.tensor(b), stride=2, padding=1,
                                                  output_padding=1, groups=2)
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_bad_input_names_the_layer():
    layer = nn.ConvTranspose1d(3, 2, 3)
    with pytest.raises(RuntimeError, match=r"ConvTranspose1d\(in_channels=3, out_channels=2, "
                                           r"kernel_size=\(3,\)\) expects a 3-D \(batched\) or "
                                           r"2-D \(unbatched\) input, got shape \(2, 3, 4, 5\)"):
        layer(mg.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="got input of shape .* with 4 channels, expected "
                                           "in_channels=3"):
        layer(mg.ones(2, 4, 5))
    with pytest.raises(RuntimeError, match="conv_transpose1d: weight must be 3-D"):
        F.conv_transpose1d(mg.ones(2, 3, 5), mg.ones(3, 2))
    with pytest.raises(ValueError, match="ConvTranspose1d: padding must be an int or a tuple"):
        nn.ConvTranspose1d(3, 2, 3, padding="same")
