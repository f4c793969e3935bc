"""The second set of layers against PyTorch: reprs, state_dict keys (weights loaded both
ways), outputs, gradients and running statistics."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def to_torch_state(module):
    return {k: torch.from_numpy(v.numpy().copy()) for k, v in module.state_dict().items()}


def run_both(m, t, *xs, atol=1e-10, rtol=1e-7):
    """Forward both on the same inputs, backward the same random gradient; compare outputs,
    input gradients and every parameter gradient (by name). Returns the two outputs."""
    xm = [mg.tensor(x, requires_grad=True) for x in xs]
    xt = [torch.tensor(x, requires_grad=True) for x in xs]
    ym, yt = m(*xm), t(*xt)
    if isinstance(yt, tuple):     # (values, indices): indices compared exactly
        np.testing.assert_array_equal(ym[1].numpy(), yt[1].numpy())
        ym, yt = ym[0], yt[0]
    assert tuple(ym.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=rtol)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(xs[0].dtype)
    ym.backward(mg.tensor(g))
    yt.backward(torch.from_numpy(g))
    for a, b in zip(xm, xt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=rtol)
    tgrads = dict(t.named_parameters())
    assert [n for n, _ in m.named_parameters()] == list(tgrads)
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), atol=atol,
                                   rtol=rtol, err_msg=name)


@pytest.fixture
def r():
    return np.random.default_rng(17)


REPRS = [
    ("Hardtanh()", {}), ("Hardtanh(-2.0, 0.5, True)", {}), ("ReLU6()", {}),
    ("ReLU6(inplace=True)", {}), ("Hardsigmoid()", {}), ("Hardswish()", {}), ("Mish()", {}),
    ("GLU()", {}), ("GLU(dim=1)", {}), ("Softmin(dim=1)", {}), ("Softsign()", {}),
    ("CosineSimilarity(dim=0, eps=1e-6)", {}), ("PairwiseDistance(p=1.0)", {}),
    ("MaxPool1d(3)", {}), ("MaxPool1d(3, 2, 1, 2, True, True)", {}), ("AvgPool1d(3)", {}),
    ("AvgPool1d(3, 2, 1)", {}), ("AdaptiveAvgPool1d(4)", {}), ("AdaptiveMaxPool1d(4)", {}),
    ("AdaptiveMaxPool2d((2, None))", {}), ("InstanceNorm1d(3)", {}),
    ("InstanceNorm2d(4, affine=True, track_running_stats=True)", {}),
    ("InstanceNorm3d(2, eps=1e-3, momentum=None, affine=True, bias=False)", {}),
    ("RMSNorm(4)", {}), ("RMSNorm([2, 3], eps=1e-5, elementwise_affine=False)", {}),
    ("Upsample(scale_factor=2)", {}), ("Upsample(size=(3, 4), mode='bilinear')", {}),
    ("Upsample(scale_factor=(2, 1.5), mode='bicubic', align_corners=True)", {}),
    ("UpsamplingNearest2d(size=5)", {}), ("UpsamplingBilinear2d(scale_factor=2)", {}),
    ("PixelShuffle(3)", {}), ("PixelUnshuffle(2)", {}), ("Unfold(2)", {}),
    ("Unfold((2, 3), dilation=2, padding=1, stride=(1, 2))", {}), ("Fold((4, 5), 2)", {}),
]


@pytest.mark.parametrize("expr", [e for e, _ in REPRS])
def test_reprs_match_torch(expr):
    assert repr(eval("nn." + expr)) == repr(eval("tnn." + expr))


# ---------------------------------------------------------------------------------------------
# Layers without parameters: the same outputs and gradients
# ---------------------------------------------------------------------------------------------

def _same(make, *shapes, r, **kw):
    m, t = eval("nn." + make), eval("tnn." + make)
    run_both(m, t, *[r.standard_normal(s) for s in shapes], **kw)


@pytest.mark.parametrize("make,shape", [
    ("Hardtanh(-2.0, 0.5)", (3, 7)), ("ReLU6()", (4, 5)), ("Hardsigmoid()", (4, 5)),
    ("Hardswish()", (4, 5)), ("Mish()", (4, 5)), ("GLU(dim=0)", (4, 5)), ("Softmin(dim=1)", (4, 5)),
    ("Softsign()", (4, 5)),
    ("MaxPool1d(3, 2, 1, return_indices=True)", (2, 3, 9)), ("AvgPool1d(3, 2, 1)", (2, 3, 9)),
    ("AvgPool1d(2, count_include_pad=False, padding=1)", (3, 8)),
    ("AdaptiveAvgPool1d(4)", (2, 3, 9)), ("AdaptiveMaxPool1d(4, return_indices=True)", (3, 9)),
    ("AdaptiveMaxPool2d((2, 3), return_indices=True)", (2, 3, 5, 7)),
    ("AdaptiveMaxPool2d(4)", (3, 5, 7)),
    ("Upsample(scale_factor=2)", (2, 3, 4, 5)), ("Upsample(size=7, mode='linear')", (2, 3, 4)),
    ("Upsample(scale_factor=1.5, mode='bilinear', align_corners=True)", (2, 3, 4, 5)),
    ("Upsample(size=(5, 3), mode='bicubic')", (1, 2, 4, 4)),
    ("Upsample(scale_factor=2, mode='trilinear')", (1, 2, 2, 3, 2)),
    ("UpsamplingNearest2d(scale_factor=3)", (1, 2, 3, 2)),
    ("UpsamplingBilinear2d(size=(6, 4))", (1, 2, 3, 2)),
    ("PixelShuffle(2)", (2, 8, 3, 4)), ("PixelUnshuffle(2)", (2, 2, 4, 6)),
    ("Unfold(3, padding=1, stride=2)", (2, 3, 5, 6)), ("Fold((4, 5), 2)", (2, 12, 12)),
], ids=lambda v: str(v))
def test_parameterless_layers_match_torch(make, shape, r):
    _same(make, shape, r=r)


def test_distance_layers_match_torch(r):
    _same("CosineSimilarity(dim=0)", (4, 5), (4, 5), r=r)
    _same("PairwiseDistance(p=3.0, keepdim=True)", (4, 5), (4, 5), r=r)


# ---------------------------------------------------------------------------------------------
# InstanceNorm and RMSNorm: parameters, buffers, modes
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (False, True),
                                          (True, True)])
@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (3, 4, 7)),
                                       ("InstanceNorm2d", (2, 4, 5, 3)),
                                       ("InstanceNorm3d", (2, 4, 3, 2, 3))])
def test_instance_norm_layers_match_torch(cls, shape, affine, track, r):
    m = getattr(nn, cls)(4, affine=affine, track_running_stats=track, momentum=0.2)
    t = getattr(tnn, cls)(4, affine=affine, track_running_stats=track, momentum=0.2).double()
    assert list(m.state_dict()) == list(t.state_dict())
    if affine:      # non-trivial weights, from torch into minigrad
        with torch.no_grad():
            t.weight.uniform_(0.5, 1.5)
            t.bias.uniform_(-0.5, 0.5)
    m.double().load_state_dict(t.state_dict())
    for _ in range(2):                                  # training: batch statistics
        run_both(m, t, r.standard_normal(shape) * 2 + 0.5)
    for a, b in zip(m.state_dict().values(), t.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    m.eval()
    t.eval()
    run_both(m, t, r.standard_normal(shape))             # eval: running stats, if tracked
    run_both(m, t, r.standard_normal(shape[1:]))         # unbatched


def test_instance_norm_weights_into_torch(r):
    m = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    m.train()
    m(mg.tensor(r.standard_normal((2, 3, 4, 4)).astype(np.float32)))
    with mg.no_grad():
        m.weight.copy_(mg.tensor(r.uniform(0.5, 1.5, 3).astype(np.float32)))
    t = tnn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    t.load_state_dict(to_torch_state(m))
    m.eval()
    t.eval()
    run_both(m, t, r.standard_normal((2, 3, 4, 4)).astype(np.float32), atol=1e-5)


def test_instance_norm_channel_mismatch(r):
    x = mg.tensor(r.standard_normal((2, 5, 6)))
    with pytest.warns(UserWarning, match="num_features"):
        y = nn.InstanceNorm1d(3)(x)                  # no affine: num_features is unused
    with pytest.warns(UserWarning, match="num_features"):
        want = tnn.InstanceNorm1d(3)(torch.tensor(x.numpy()))
    np.testing.assert_allclose(y.numpy(), want.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match=r"InstanceNorm1d\(3\).*num_features \(3\)"):
        nn.InstanceNorm1d(3, affine=True)(x)


@pytest.mark.parametrize("shape,eps,affine", [(5, None, True), ((3, 5), 1e-3, True),
                                               ((5,), 1e-6, False)])
def test_rms_norm_layer_matches_torch(shape, eps, affine, r):
    m = nn.RMSNorm(shape, eps=eps, elementwise_affine=affine)
    t = tnn.RMSNorm(shape, eps=eps, elementwise_affine=affine).double()
    assert list(m.state_dict()) == list(t.state_dict())
    if affine:
        with torch.no_grad():
            t.weight.uniform_(0.5, 1.5)
    m.double().load_state_dict(t.state_dict())
    run_both(m, t, r.standard_normal((2, 3, 5)))
    if affine:                                        # and back into torch
        t2 = tnn.RMSNorm(shape, eps=eps).double()
        t2.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in m.state_dict().items()})
        np.testing.assert_array_equal(t2.weight.detach().numpy(), m.weight.detach().numpy())


def test_rms_norm_float32_default_eps(r):
    m, t = nn.RMSNorm(6), tnn.RMSNorm(6)
    x = r.standard_normal((4, 6)).astype(np.float32) * 1e-4     # eps matters here
    run_both(m, t, x, atol=1e-5, rtol=1e-5)
