"""Conv1d, Conv2d, ConvTranspose2d: gradients, agreement with PyTorch, errors, parameters."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import compare_with_torch, leaf, module_gradcheck, module_gradgradcheck

import minigrad as mg
from minigrad import nn


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(stride=2, padding=1, bias=False),
    dict(dilation=2, padding="same"),
    dict(groups=2, padding=(1, 0)),
], ids=["plain", "stride-padding-nobias", "dilation-same", "groups"])
def test_conv2d_gradcheck(kwargs):
    rng = np.random.default_rng(0)
    module_gradcheck(nn.Conv2d(2, 4, 3, **kwargs), leaf(rng, 2, 2, 5, 5))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_mode_gradcheck(mode):
    rng = np.random.default_rng(3)
    module_gradcheck(nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode), leaf(rng, 2, 2, 5, 4))


def test_conv1d_gradcheck():
    rng = np.random.default_rng(1)
    module_gradcheck(nn.Conv1d(2, 4, 3, stride=2, padding=1, groups=2), leaf(rng, 2, 2, 7))


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(stride=2, padding=1, output_padding=1),
    dict(groups=2, dilation=2, bias=False),
], ids=["plain", "stride-output_padding", "groups-dilation"])
def test_conv_transpose2d_gradcheck(kwargs):
    rng = np.random.default_rng(2)
    module_gradcheck(nn.ConvTranspose2d(2, 4, 3, **kwargs), leaf(rng, 2, 2, 3, 4))


def test_conv2d_second_derivatives():
    """d/dx of a gradient of a conv layer is again made of conv ops (gradgradcheck)."""
    rng = np.random.default_rng(3)
    conv = nn.Conv2d(2, 2, 3, stride=2, padding=1).double()
    x = leaf(rng, 1, 2, 5, 5)
    assert mg.autograd.gradgradcheck(lambda x, w: mg.nn.functional.conv2d(x, w, stride=2,
                                                                          padding=1),
                                     (x, conv.weight))


# ---------------------------------------------------------------------------------------------
# The same weights give the same numbers as PyTorch
# ---------------------------------------------------------------------------------------------

CONV2D_CASES = [
    dict(in_channels=4, out_channels=6, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 2)),
    dict(in_channels=4, out_channels=6, kernel_size=3, groups=2, dilation=2, padding=2),
    dict(in_channels=4, out_channels=4, kernel_size=3, groups=4, bias=False),
    dict(in_channels=4, out_channels=6, kernel_size=4, padding="same", dilation=1),
    dict(in_channels=4, out_channels=6, kernel_size=3, padding=2, padding_mode="reflect"),
    dict(in_channels=4, out_channels=2, kernel_size=(3, 2), padding=(1, 2), stride=2,
         padding_mode="replicate"),
    dict(in_channels=4, out_channels=6, kernel_size=(4, 3), padding="same", dilation=(1, 2),
         padding_mode="circular"),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kwargs", CONV2D_CASES)
def test_conv2d_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    mm, tm = nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs)
    compare_with_torch(mm, tm, [rng.standard_normal((2, 4, 7, 6))], rng=rng)
    assert repr(mm) == repr(tm)


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=2, stride=2, dilation=2, groups=2),
    dict(in_channels=3, out_channels=4, kernel_size=4, padding="same", bias=False),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding=2, padding_mode="circular"),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding=1, padding_mode="reflect"),
])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv1d_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    c = kwargs["in_channels"]
    mm, tm = nn.Conv1d(**kwargs), torch.nn.Conv1d(**kwargs)
    compare_with_torch(mm, tm, [rng.standard_normal((2, c, 9))], rng=rng)
    compare_with_torch(mm, tm, [rng.standard_normal((c, 9))], rng=rng)  # unbatched
    assert repr(mm) == repr(tm)


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=4, out_channels=6, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(2, 3), stride=(3, 2), groups=2),
    dict(in_channels=4, out_channels=2, kernel_size=3, dilation=2, padding=1, output_padding=1),
])
def test_conv_transpose2d_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    mm, tm = nn.ConvTranspose2d(**kwargs), torch.nn.ConvTranspose2d(**kwargs)
    compare_with_torch(mm, tm, [rng.standard_normal((2, 4, 4, 5))], rng=rng)
    assert repr(mm) == repr(tm)


def test_conv_transpose2d_output_size_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    mm = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    out = compare_with_torch(mm, tm, [rng.standard_normal((1, 3, 4, 4))],
                             kwargs=dict(output_size=(8, 8)), rng=rng)
    assert tuple(out[0].shape) == (1, 2, 8, 8)
    with pytest.raises(ValueError, match="output size"):
        mm(mg.zeros(1, 3, 4, 4, dtype=mg.float64), output_size=(9, 9))


def test_conv_transpose_is_the_adjoint_of_conv():
    """<conv(x, w), y> == <x, conv_transpose(y, w)>: the identity the backward pass rests on."""
    rng = np.random.default_rng(8)
    F = mg.nn.functional
    x, w = mg.tensor(rng.standard_normal((2, 3, 7, 6))), mg.tensor(rng.standard_normal((4, 3, 3, 2)))
    y = mg.tensor(rng.standard_normal(F.conv2d(x, w, stride=2, padding=1).shape))
    lhs = (F.conv2d(x, w, stride=2, padding=1) * y).sum().item()
    rhs = (x * F.conv_transpose2d(y, w, stride=2, padding=1)).sum().item()
    assert lhs == pytest.approx(rhs, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Parameters and errors
# ---------------------------------------------------------------------------------------------

def test_parameter_shapes_and_init_bounds():
    conv = nn.Conv2d(6, 8, (3, 5), groups=2)
    assert tuple(conv.weight.shape) == (8, 3, 3, 5) and tuple(conv.bias.shape) == (8,)
    bound = 1 / np.sqrt(3 * 3 * 5)
    assert np.abs(conv.weight.detach().numpy()).max() <= bound and np.abs(conv.bias.detach().numpy()).max() <= bound
    assert np.abs(conv.weight.detach().numpy()).max() > 0.8 * bound  # really spread over the range
    tconv = nn.ConvTranspose2d(6, 8, 3, groups=2, bias=False)
    assert tuple(tconv.weight.shape) == (6, 4, 3, 3) and tconv.bias is None
    assert list(tconv.state_dict()) == ["weight"]
    assert tuple(nn.Conv1d(2, 5, 4).weight.shape) == (5, 2, 4)


def test_wrong_channel_count_names_the_layer():
    conv = nn.Conv2d(in_channels=3, out_channels=8, kernel_size=3)
    with pytest.raises(RuntimeError, match=r"Conv2d\(in_channels=3, .* 4 channels"):
        conv(mg.zeros(2, 4, 5, 5))
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d\(in_channels=3, .* 2 channels"):
        nn.ConvTranspose2d(3, 2, 3)(mg.zeros(1, 2, 5, 5))
    with pytest.raises(RuntimeError, match=r"expects an input with 3 channels.* 4 channels"):
        mg.nn.functional.conv2d(mg.zeros(1, 4, 5, 5), mg.zeros(2, 3, 3, 3))


def test_kernel_larger_than_padded_input():
    conv = nn.Conv2d(3, 2, kernel_size=5, padding=1)
    with pytest.raises(RuntimeError, match=r"Conv2d\(in_channels=3.*padded input is 4 x 4 .*"
                                           r"kernel is 5 x 5"):
        conv(mg.zeros(1, 3, 2, 2))


def test_bad_arguments():
    with pytest.raises(ValueError, match="in_channels \\(3\\) must be divisible by groups \\(2\\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='ConvTranspose2d: only "zeros" padding mode'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(RuntimeError, match="Conv2d: in_channels and out_channels must be >= 0"):
        nn.Conv2d(-1, 4, 3)
    with pytest.raises(ValueError, match="output_padding"):
        mg.nn.functional.conv_transpose2d(mg.zeros(1, 2, 3, 3), mg.zeros(2, 2, 3, 3),
                                          stride=2, output_padding=2)


def test_conv2d_on_register_tiles_gradcheck_and_gradgradcheck(monkeypatch):
    """Enough channels (32 in, 32 out, a 2x1 kernel: 64 products per output) that the Numba
    kernels run the forward and the input gradient on register tiles (conv2d_numba.py); the
    weight gradient's tiles need more, so their thresholds are lowered here."""
    conv2d_numba = pytest.importorskip("minigrad.kernels.conv2d_numba")
    monkeypatch.setattr(conv2d_numba, "WGRAD_TILED_MIN_K", 1)
    monkeypatch.setattr(conv2d_numba, "WGRAD_TILED_MIN_F", 1)
    rng = np.random.default_rng(4)
    module = nn.Conv2d(32, 32, (2, 1), padding=(1, 0))
    x = leaf(rng, 1, 32, 1, 2)
    with mg.kernels.use("numba"):
        module_gradcheck(module, x)
        module_gradgradcheck(module, x)


def test_conv2d_bias_is_part_of_the_conv_op():
    """The bias is added inside the Conv2d op (one graph node with x, w and bias as its
    inputs), and its gradient, gy summed over N, H, W, and the second derivatives through it
    are right."""
    rng = np.random.default_rng(5)
    x, w, b = leaf(rng, 2, 3, 5, 4), leaf(rng, 5, 3, 3, 2), leaf(rng, 5)
    y = mg.nn.functional.conv2d(x, w, b, padding=1)
    assert y.grad_fn.name == "Conv2d"
    assert [node.variable for node, _ in y.grad_fn.next_functions[:3]] == [x, w, b]

    def conv(x, w, b):
        return mg.nn.functional.conv2d(x, w, b, stride=(1, 2), padding=1)

    assert mg.autograd.gradcheck(conv, (x, w, b))
    assert mg.autograd.gradgradcheck(conv, (x, w, b))
