"""Registry entries for the second set of ``nn.functional`` ops: interpolate, pixel shuffle,
unfold / fold, the hard activations, mish, glu, softmin, softsign, cosine similarity and
pairwise distance, the 1-D and adaptive max poolings, instance norm and RMS norm.

Piecewise-linear activations get inputs kept 0.1 away from their kinks (``_away``), so that
finite differences never straddle one.
"""

from __future__ import annotations

import numpy as np
from opinfo import Sample, register, t

import minigrad as mg
import minigrad.nn.functional as F


def _away(rng, *shape, low, high, kinks):
    """A float64 leaf in [low, high] with every element at least 0.1 from each kink."""
    x = rng.uniform(low, high, size=shape)
    for k in kinks:
        close = np.abs(x - k) < 0.1
        x[close] = k + np.where(x[close] >= k, 0.15, -0.15)
    return mg.tensor(x, dtype=mg.float64, requires_grad=True)


# ---------------------------------------------------------------------------------------------
# Resampling
# ---------------------------------------------------------------------------------------------

register("nn.functional.interpolate", F.interpolate, lambda r: [
    Sample(t(r, 1, 2, 3, 4), scale_factor=2, desc="nearest, 2x"),
    Sample(t(r, 2, 2, 3), size=5, desc="nearest, 1-D"),
    Sample(t(r, 1, 2, 3, 4), size=(5, 3), mode="nearest-exact", desc="nearest-exact"),
    Sample(t(r, 1, 2, 4), size=7, mode="linear", align_corners=True, desc="linear, corners"),
    Sample(t(r, 1, 2, 3, 4), scale_factor=1.5, mode="bilinear", desc="bilinear"),
    Sample(t(r, 1, 1, 5, 5), size=(2, 3), mode="bilinear", desc="bilinear downsampling"),
    Sample(t(r, 1, 1, 3, 4), size=(5, 6), mode="bicubic", desc="bicubic"),
    Sample(t(r, 1, 1, 2, 3, 2), scale_factor=(2, 1.5, 2), mode="trilinear", desc="trilinear"),
    Sample(t(r, 1, 2, 5, 7), size=(2, 3), mode="area", desc="area"),
])

register("nn.functional.pixel_shuffle", F.pixel_shuffle, lambda r: [
    Sample(t(r, 2, 8, 2, 3), 2), Sample(t(r, 9, 2, 2), 3, desc="unbatched"),
])
register("nn.functional.pixel_unshuffle", F.pixel_unshuffle, lambda r: [
    Sample(t(r, 2, 2, 4, 6), 2), Sample(t(r, 1, 3, 3), 3, desc="unbatched"),
])

register("nn.functional.unfold", F.unfold, lambda r: [
    Sample(t(r, 2, 3, 5, 4), 2, desc="overlapping blocks"),
    Sample(t(r, 1, 2, 5, 5), (2, 3), dilation=(2, 1), padding=1, stride=(2, 1),
           desc="dilation, padding, stride"),
    Sample(t(r, 2, 4, 4), 3, padding=1, stride=2, desc="unbatched"),
])
register("nn.functional.fold", F.fold, lambda r: [
    Sample(t(r, 2, 12, 12), (4, 5), 2, desc="overlapping blocks summed"),
    Sample(t(r, 1, 12, 9), (5, 5), (2, 3), padding=1, stride=2, desc="padding, stride"),
    Sample(t(r, 8, 6), (3, 4), 2, desc="unbatched"),
])

# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------

register("nn.functional.hardtanh", F.hardtanh, lambda r: [
    Sample(_away(r, 3, 5, low=-2, high=2, kinks=(-1, 1))),
    Sample(_away(r, 7, low=-1, high=3, kinks=(-0.5, 2)), min_val=-0.5, max_val=2.0),
])
register("nn.functional.relu6", F.relu6, lambda r: [
    Sample(_away(r, 3, 5, low=-2, high=8, kinks=(0, 6))),
])
register("nn.functional.hardsigmoid", F.hardsigmoid, lambda r: [
    Sample(_away(r, 3, 5, low=-5, high=5, kinks=(-3, 3))),
])
register("nn.functional.hardswish", F.hardswish, lambda r: [
    Sample(_away(r, 3, 5, low=-5, high=5, kinks=(-3, 3))),
])
register("nn.functional.mish", F.mish, lambda r: [Sample(t(r, 3, 5, low=-5, high=5))])
register("nn.functional.glu", F.glu, lambda r: [
    Sample(t(r, 3, 4)), Sample(t(r, 4, 3, 2), dim=0, desc="dim 0"),
])
register("nn.functional.softmin", F.softmin, lambda r: [
    Sample(t(r, 3, 5), dim=1), Sample(t(r, 2, 3, 4), dim=0),
])
register("nn.functional.softsign", F.softsign, lambda r: [Sample(t(r, 3, 5, away_from=0.0))])

# ---------------------------------------------------------------------------------------------
# Distances (the norms are well above eps here: with a norm below eps, cosine_similarity's
# gradient ignores the clamp, as PyTorch's does, and is compared with PyTorch instead)
# ---------------------------------------------------------------------------------------------

register("nn.functional.cosine_similarity", F.cosine_similarity, lambda r: [
    Sample(t(r, 3, 5), t(r, 3, 5)),
    Sample(t(r, 4, 3), t(r, 3), dim=-1, desc="broadcast"),
    Sample(t(r, 2, 3, 2), t(r, 2, 3, 2), dim=0, eps=1e-3),
])
register("nn.functional.pairwise_distance", F.pairwise_distance, lambda r: [
    Sample(t(r, 3, 5), t(r, 3, 5)),
    Sample(t(r, 3, 4), t(r, 4), p=1.0, desc="p=1, broadcast"),
    Sample(t(r, 2, 3), t(r, 2, 3), p=3.0, keepdim=True, desc="p=3, keepdim"),
    Sample(t(r, 3, 4), t(r, 3, 4), p=float("inf"), desc="p=inf"),
])

# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------

register("nn.functional.max_pool1d", F.max_pool1d, lambda r: [
    Sample(t(r, 2, 3, 7), 2),
    Sample(t(r, 1, 2, 9), 3, stride=2, padding=1, dilation=2, ceil_mode=True,
           desc="stride, padding, dilation, ceil_mode"),
    Sample(t(r, 3, 8), 3, stride=1, desc="unbatched, overlapping"),
])
register("nn.functional.avg_pool1d", F.avg_pool1d, lambda r: [
    Sample(t(r, 2, 3, 7), 2),
    Sample(t(r, 1, 2, 9), 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False,
           desc="ceil_mode, padding not counted"),
    Sample(t(r, 3, 8), 4, 3, 2, desc="unbatched"),
])
register("nn.functional.adaptive_avg_pool1d", F.adaptive_avg_pool1d, lambda r: [
    Sample(t(r, 2, 3, 7), 3), Sample(t(r, 2, 5), 4, desc="unbatched, overlapping windows"),
])
register("nn.functional.adaptive_max_pool1d", F.adaptive_max_pool1d, lambda r: [
    Sample(t(r, 2, 3, 7), 3), Sample(t(r, 2, 4), 6, desc="unbatched, upsampling"),
])
register("nn.functional.adaptive_max_pool2d", F.adaptive_max_pool2d, lambda r: [
    Sample(t(r, 2, 3, 5, 7), (2, 3)),
    Sample(t(r, 3, 4, 5), (None, 2), desc="unbatched, keep height"),
    Sample(t(r, 1, 2, 3, 2), 4, desc="output larger than input"),
])

# ---------------------------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------------------------


def _instance_norm_eval(x, w, b):
    rm = mg.tensor(np.linspace(-0.5, 0.5, x.shape[1]))
    rv = mg.tensor(np.linspace(0.5, 2.0, x.shape[1]))
    return F.instance_norm(x, rm, rv, w, b, use_input_stats=False)


register("nn.functional.instance_norm", F.instance_norm, lambda r: [
    Sample(t(r, 2, 3, 5), None, None, t(r, 3), t(r, 3)),
    Sample(t(r, 2, 2, 3, 3), eps=1e-3, desc="2-D positions, no affine"),
])
register("nn.functional.instance_norm_eval", _instance_norm_eval, lambda r: [
    Sample(t(r, 2, 3, 4), t(r, 3), t(r, 3)),
], covers=("nn.functional.instance_norm",))
register("nn.functional.rms_norm", F.rms_norm, lambda r: [
    Sample(t(r, 3, 5), (5,), t(r, 5)),
    Sample(t(r, 2, 3, 4), (3, 4), eps=1e-3, desc="2-D shape, no weight"),
    Sample(t(r, 4), 4, desc="eps = machine epsilon"),
])
