"""Checks for the exercises of Chapter 5 (convolutional networks)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

from .checking import assert_close, attempt, exercise, fail, seeded


# -- Exercise 1 -------------------------------------------------------------------------------
@exercise(1, "output sizes", "conv_out")
def conv_out(conv_out):
    kernel = mg.zeros(1, 1, 3, 3)
    tried = 0
    for n in (5, 8, 11):
        for s in (1, 2, 3):
            for p in (0, 1, 2):
                for d in (1, 2):
                    if n + 2 * p < d * 2 + 1:           # the dilated kernel doesn't fit
                        continue
                    width = F.conv2d(mg.zeros(1, 1, n, n), kernel, stride=s, padding=p,
                                     dilation=d).shape[-1]
                    call = f"conv_out(n={n}, k=3, stride={s}, padding={p}, dilation={d})"
                    got = attempt(call, conv_out, n, 3, stride=s, padding=p, dilation=d)
                    if not isinstance(got, (int, np.integer)):
                        fail(f"{call} returned {got!r}, a {type(got).__name__}; a size is an "
                             "int (floor division is //).")
                    if got != width:
                        fail(f"{call} returned {got}, but F.conv2d's output is {width} wide.")
                    tried += 1
    return f"conv_out matches F.conv2d in {tried} settings"


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "average pooling by hand", "avg_pool2d_naive")
def avg_pool2d_naive(avg_pool2d_naive):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 7))
    for k, s in [(2, 2), (3, 1), (3, 2)]:
        call = f"avg_pool2d_naive(x, k={k}, stride={s})"
        got = attempt(call, avg_pool2d_naive, x.copy(), k, s)
        assert_close(call, got, F.avg_pool2d(mg.tensor(x), k, stride=s).numpy(), rtol=1e-12)
    return "avg_pool2d_naive matches F.avg_pool2d, overlapping windows included"


# -- Exercise 3 -------------------------------------------------------------------------------
@exercise(3, "a differentiable im2col convolution", "conv2d_mg")
def conv2d_mg(conv2d_mg):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    for padding in (0, 1):
        call = f"conv2d_mg(x, w, padding={padding})"
        y = attempt(call, conv2d_mg, x, w, padding)
        assert_close(call, y, F.conv2d(x, w, padding=padding).detach().numpy(), rtol=1e-10,
                     atol=1e-12)
    if not isinstance(y, mg.Tensor) or y.grad_fn is None:
        fail("conv2d_mg's output has no graph (grad_fn is None): build it from minigrad ops "
             "(F.pad, slicing, mg.stack, reshape, @) on the Tensors x and w, without NumPy.")
    attempt("gradcheck(conv2d_mg, (x, w))", mg.autograd.gradcheck,
            lambda a, b: conv2d_mg(a, b, 1), (x, w))
    return "conv2d_mg matches F.conv2d and passes gradcheck"


# -- Exercise 4 -------------------------------------------------------------------------------
def chapter_lenet(batch_norm=False):
    """The chapter's LeNet (section 4), for checking without the notebook."""
    norm = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), norm(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), norm(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10))


@exercise(4, "counting parameters", "lenet_params")
def lenet_params(lenet_params, lenet=chapter_lenet):
    counts = []
    for batch_norm in (False, True):
        call = f"lenet_params(batch_norm={batch_norm})"
        got = attempt(call, lenet_params, batch_norm)
        with seeded(0):                     # building a model draws its initial weights
            expected = sum(p.numel() for p in lenet(batch_norm).parameters())
        if got != expected:
            fail(f"{call} returned {got}, but lenet({batch_norm}) has {expected} parameters "
                 f"(off by {got - expected}).")
        counts.append(got)
    return f"parameter counts match: {counts[0]} without batch norm, {counts[1]} with"


__all__ = ["conv_out", "avg_pool2d_naive", "conv2d_mg", "lenet_params", "chapter_lenet"]
