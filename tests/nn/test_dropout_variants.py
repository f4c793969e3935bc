"""Dropout1d/2d/3d (whole channels) and AlphaDropout: masks, scaling, gradients, shape rules,
PyTorch's warnings and errors, and agreement with torch where randomness allows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


# lead: how many leading dims index a channel (2 for (N, C, ...), 1 for unbatched (C, ...);
# Dropout2d reads a 3-D input as (N, C, L), as PyTorch does)
@pytest.mark.parametrize("layer,shape,lead", [
    (nn.Dropout1d, (4, 6, 5), 2), (nn.Dropout1d, (6, 5), 1), (nn.Dropout2d, (4, 6, 3, 5), 2),
    (nn.Dropout2d, (6, 3, 5), 2), (nn.Dropout3d, (3, 6, 2, 3, 5), 2),
    (nn.Dropout3d, (6, 2, 3, 5), 1)])
def test_channel_dropout_zeroes_whole_channels(rng, layer, shape, lead):
    x = mg.tensor(rng.uniform(0.5, 1.5, size=shape), dtype=mg.float64, requires_grad=True)
    mg.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # Dropout2d warns about 3-D inputs, as PyTorch
        y = layer(p=0.4)(x)
    ratio = y.array / x.array
    per_channel = ratio.reshape(int(np.prod(shape[:lead])), -1)
    assert np.allclose(per_channel, per_channel[:, :1])    # one factor per channel ...
    assert set(np.round(np.unique(per_channel), 12)) <= {0.0, round(1 / 0.6, 12)}  # 0 or 1/(1-p)
    assert 0 < (per_channel[:, 0] == 0).sum() < per_channel.shape[0]
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, ratio, rtol=1e-12)


def test_channel_dropout_eval_and_p_zero_are_the_identity(rng):
    x = mg.tensor(rng.standard_normal((2, 3, 4)))
    assert nn.Dropout1d(0.5).eval()(x) is x and F.dropout1d(x, 0.0) is x
    assert F.dropout2d(x.unsqueeze(0), 0.3, training=False).shape == (1, 2, 3, 4)


def test_channel_dropout_rates(rng):
    mg.manual_seed(1)
    y = F.dropout2d(mg.ones(200, 50, 2, 2), p=0.3)
    dropped = (y.array[:, :, 0, 0] == 0).mean()
    assert abs(dropped - 0.3) < 0.02
    assert F.dropout3d(mg.ones(2, 3, 1, 1, 1), p=1.0).array.max() == 0


def test_shape_rules_and_warnings_match_torch():
    torch = pytest.importorskip("torch")

    def messages(fn, *args):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn(*args)
        return [str(w.message) for w in caught]

    for name, shape in (("dropout2d", (2, 3, 4)), ("dropout2d", (2, 3)),
                        ("dropout2d", (2, 3, 4, 5, 6)), ("dropout3d", (2, 3, 4)),
                        ("dropout3d", (2, 3, 4, 5))):
        ours = messages(getattr(F, name), mg.ones(*shape), 0.5, True)
        theirs = messages(getattr(torch.nn.functional, name), torch.ones(*shape), 0.5, True)
        assert ours == theirs, (name, shape)
    for shape in ((5,), (2, 3, 4, 5)):
        with pytest.raises(RuntimeError) as ours:
            F.dropout1d(mg.ones(*shape))
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.functional.dropout1d(torch.ones(*shape))
        assert str(theirs.value).split(".")[0].replace(" input", "") in \
            str(ours.value).replace(" input", "")
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F.dropout2d(mg.ones(5))
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match="between 0 and 1, but got -0.1"):
        F.alpha_dropout(mg.ones(3), -0.1, True)


def test_reprs_match_torch():
    torch = pytest.importorskip("torch")
    for name in ("Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"):
        assert repr(getattr(nn, name)(0.2)) == repr(getattr(torch.nn, name)(0.2))
        assert repr(getattr(nn, name)(inplace=True)) == repr(getattr(torch.nn, name)(
            inplace=True))


def test_alpha_dropout_values_match_torchs_affine_map(rng):
    torch = pytest.importorskip("torch")
    p = 0.3
    ours = np.unique(np.round(F.alpha_dropout(mg.zeros(4000, dtype=mg.float64), p, True).array,
                              12))
    torch.manual_seed(0)
    theirs = np.unique(np.round(torch.nn.functional.alpha_dropout(
        torch.zeros(4000, dtype=torch.float64), p, True).numpy(), 12))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)       # the two values a unit can take


def test_alpha_dropout_keeps_mean_and_variance_and_gradient_is_the_scale(rng):
    x = mg.tensor(rng.standard_normal(200_000), dtype=mg.float64, requires_grad=True)
    mg.manual_seed(2)
    layer = nn.AlphaDropout(0.2)
    y = layer(x)
    assert abs(y.array.mean()) < 0.01 and abs(y.array.std() - 1) < 0.01
    y.sum().backward()
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8)
    kept = np.isclose(x.grad.array, a)
    assert np.all(kept | (x.grad.array == 0)) and abs(kept.mean() - 0.8) < 0.01
    assert layer.eval()(x) is x and F.alpha_dropout(x, 0.5) is x   # F: training=False default
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, True).array, 0)
