"""Checks for the exercises of Chapter 10 (semantic segmentation with U-Net)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

from .checking import assert_close, attempt, exercise, fail, seeded, to_array


# -- Exercise 1 -------------------------------------------------------------------------------
def _soft_dice_loss(p, t, eps):
    """1 - soft Dice of one class, on Tensors: what dice_grad differentiates."""
    inter, total = (p * t).sum(), p.sum() + t.sum()
    return 1 - (2 * inter + eps) / (total + eps)


@exercise(1, "the gradient of soft Dice", "dice_grad")
def dice_grad(dice_grad):
    rng = np.random.default_rng(0)
    shape = (2, 5, 7)
    t_some = (rng.random(shape) < 0.2).astype(np.float64)
    cases = [("a mask with 20% foreground", rng.random(shape), t_some, 1.0),
             ("the same with eps = 0.01", rng.random(shape), t_some, 0.01),
             ("a class absent from the target (t = 0 everywhere)", rng.random(shape) * 0.1,
              np.zeros(shape), 1.0)]
    for what, p, t, eps in cases:
        call = f"dice_grad(p, t, eps={eps}) for {what}"
        got = attempt(call, dice_grad, p.copy(), t.copy(), eps)
        p_t = mg.tensor(p, requires_grad=True)
        _soft_dice_loss(p_t, mg.tensor(t), eps).backward()
        assert_close(call, got, p_t.grad.numpy(), rtol=1e-8, atol=1e-12,
                     hint="(expected: autograd's gradient of L = 1 - (2 I + eps) / (S + eps), "
                          "with I = sum p t and S = sum p + sum t: every p_i appears in S "
                          "too, not only in I)")
    return "dice_grad matches autograd's gradient of 1 - soft Dice, eps and empty masks included"


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "the linear interpolation matrix", "interp_matrix")
def interp_matrix(interp_matrix):
    sizes = [(4, 8), (5, 3), (3, 7), (6, 6), (7, 2), (1, 4)]
    for align_corners in (False, True):
        for n_in, n_out in sizes:
            call = f"interp_matrix({n_in}, {n_out}, align_corners={align_corners})"
            M = to_array(attempt(call, interp_matrix, n_in, n_out, align_corners), call)
            if M.shape != (n_out, n_in):
                fail(f"{call} has shape {M.shape}, expected ({n_out}, {n_in}): one row per "
                     f"output, one column per input (y = M @ x)."
                     + (" (transposed?)" if M.shape == (n_in, n_out) else ""))
            basis = mg.tensor(np.eye(n_in)[:, None, :])              # (n_in, 1, n_in)
            columns = F.interpolate(basis, size=n_out, mode="linear",
                                    align_corners=align_corners).numpy()[:, 0]
            assert_close(f"{call} (rows: outputs j, columns: inputs i)", M, columns.T,
                         rtol=1e-10, atol=1e-12,
                         hint="(expected: F.interpolate(x, size=n_out, mode='linear', "
                              f"align_corners={align_corners}) of the unit vectors. Check the "
                              "source position of output j"
                              + (", and its clamp at 0" if not align_corners else "") + ")")
    return ("interp_matrix gives F.interpolate(mode='linear') for up- and downsampling, "
            "align_corners both ways")


# -- Exercise 3 -------------------------------------------------------------------------------
@exercise(3, "transposed convolution by painting", "conv_transpose2d_naive")
def conv_transpose2d_naive(conv_transpose2d_naive):
    rng = np.random.default_rng(0)
    for k, stride in [(2, 2), (3, 2), (3, 1), (4, 3)]:
        x = rng.standard_normal((2, 3, 4, 5))
        w = rng.standard_normal((3, 2, k, k))
        call = f"conv_transpose2d_naive(x, w, stride={stride}) with a {k}x{k} kernel"
        got = attempt(call, conv_transpose2d_naive, x.copy(), w.copy(), stride)
        expected = F.conv_transpose2d(mg.tensor(x), mg.tensor(w), stride=stride).numpy()
        assert_close(call, got, expected, rtol=1e-10, atol=1e-12,
                     hint="(expected: F.conv_transpose2d. The weight is (C_in, C_out, k, k): "
                          "input channel c paints w[c] into all output channels)")
    return "conv_transpose2d_naive matches F.conv_transpose2d, overlapping strokes included"


# -- Exercise 4 -------------------------------------------------------------------------------
def _measured_field(layers):
    """The receptive field of one output pixel of a stack of layers (k, stride), measured:
    the width of the region of the input that has a nonzero gradient. The layers alternate
    between convolutions with all weights 1 and average poolings; both spread the gradient
    over their whole window, so no weight can cancel another."""
    modules = []
    for i, (k, stride) in enumerate(layers):
        if i % 2 == 0:
            with seeded(0):             # building a layer draws its initial weights
                conv = nn.Conv2d(1, 1, k, stride=stride, bias=False).double()
            conv.weight.data.fill_(1.0)
            modules.append(conv)
        else:
            modules.append(nn.AvgPool2d(k, stride=stride))
    net = nn.Sequential(*modules)
    size = 1
    for k, stride in reversed(layers):   # an input just big enough for a 1x1 output
        size = (size - 1) * stride + k
    x = mg.zeros(1, 1, size, size, dtype=mg.float64, requires_grad=True)
    net(x).sum().backward()
    touched = np.nonzero(x.grad.numpy()[0, 0].any(axis=0))[0]
    return int(touched.max() - touched.min() + 1)


@exercise(4, "the receptive field", "receptive_field")
def receptive_field(receptive_field):
    stacks = [[(3, 1)], [(3, 1), (3, 1)], [(3, 1), (2, 2), (3, 1)],
              [(5, 2), (3, 2), (3, 1)], [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2),
                                         (3, 1), (3, 1)]]
    for layers in stacks:
        call = f"receptive_field({layers})"
        got = attempt(call, receptive_field, layers)
        if not isinstance(got, (int, np.integer)):
            fail(f"{call} returned {got!r}, a {type(got).__name__}; a width in pixels is "
                 "an int.")
        expected = _measured_field(layers)
        if got != expected:
            fail(f"{call} returned {got}, but the gradient of one output pixel reaches "
                 f"{expected} input pixels across (off by {got - expected}). A layer after a "
                 "stride sees inputs that are the stride apart.")
    return (f"receptive fields match the gradient; the chapter's encoder sees "
            f"{receptive_field(stacks[-1])} x {receptive_field(stacks[-1])} pixels")


__all__ = ["dice_grad", "interp_matrix", "conv_transpose2d_naive", "receptive_field"]
