"""Registry entries for the core ops (elementwise, reductions, shapes, indexing, matmul)."""

from __future__ import annotations

import numpy as np
from opinfo import Sample, register, t

import minigrad as mg

# ---- elementwise: unary ---------------------------------------------------------------------
register("exp", mg.exp, lambda r: [Sample(t(r, 3, 5))])
register("log", mg.log, lambda r: [Sample(t(r, 3, 5, positive=True))])
register("sqrt", mg.sqrt, lambda r: [Sample(t(r, 7, positive=True))])
register("rsqrt", mg.rsqrt, lambda r: [Sample(t(r, 2, 3, positive=True))])
register("abs", mg.abs, lambda r: [Sample(t(r, 3, 4, away_from=0.0))])
register("sin", mg.sin, lambda r: [Sample(t(r, 5))])
register("cos", mg.cos, lambda r: [Sample(t(r, 5))])
register("tanh", mg.tanh, lambda r: [Sample(t(r, 3, 5))])
register("sigmoid", mg.sigmoid, lambda r: [Sample(t(r, 3, 5)),
                                            Sample(t(r, 4, low=-30, high=30), desc="wide range")])
register("relu", mg.relu, lambda r: [Sample(t(r, 3, 5, away_from=0.0))])
register("erf", mg.erf, lambda r: [Sample(t(r, 3, 5))])
register("neg", mg.neg, lambda r: [Sample(t(r, 3, 2))])
register("square", mg.square, lambda r: [Sample(t(r, 3, 2))])
register("reciprocal", mg.reciprocal, lambda r: [Sample(t(r, 3, 2, positive=True))])
register("log1p", mg.log1p, lambda r: [Sample(t(r, 3, 2, positive=True))])
register("clamp", mg.clamp, lambda r: [
    Sample(t(r, 3, 5, away_from=0.5), min=-0.5 + 1e-3, max=0.5),
    Sample(t(r, 4, away_from=0.0), min=0.0),
    Sample(t(r, 4, away_from=1.0), max=1.0)], covers=("clip",))

# ---- elementwise: binary with broadcasting ----------------------------------------------------
_BROADCAST_PAIRS = [((3, 5), (3, 5)), ((3, 5), (5,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3))]


def _binary_samples(positive_b=False, positive_a=False):
    def samples(r):
        out = [Sample(t(r, *a, positive=positive_a), t(r, *b, positive=positive_b),
                      desc=f"{a} with {b}") for a, b in _BROADCAST_PAIRS]
        out.append(Sample(t(r, 3, 2, positive=positive_a), 2.5 if positive_b else -1.5,
                          desc="tensor, python scalar"))
        return out
    return samples


register("add", mg.add, _binary_samples())
register("sub", mg.sub, _binary_samples())
register("mul", mg.mul, _binary_samples())
register("div", mg.div, _binary_samples(positive_b=True))
register("pow", mg.pow, _binary_samples(positive_a=True))
register("pow_scalar_exponent", lambda x: x ** 3, lambda r: [Sample(t(r, 3, 4))])
register("rpow_scalar_base", lambda x: 2.0 ** x, lambda r: [Sample(t(r, 3, 4))])
register("rsub_rdiv", lambda x: (1.0 - x) / (3.0 + x * x), lambda r: [Sample(t(r, 5))])
register("maximum", mg.maximum, lambda r: [Sample(t(r, 3, 4), t(r, 4))])
register("minimum", mg.minimum, lambda r: [Sample(t(r, 3, 4), t(r, 3, 1))])
register("where", lambda c, a, b: mg.where(c, a, b), lambda r: [
    Sample(mg.tensor(r.random((3, 4)) > 0.5), t(r, 3, 4), t(r, 4))])
register("lerp", mg.lerp, lambda r: [Sample(t(r, 3), t(r, 3), 0.3)])

# ---- reductions -----------------------------------------------------------------------------
_dims = [dict(), dict(dim=1), dict(dim=(0, 2), keepdim=True), dict(dim=-1, keepdim=True)]
register("sum", mg.sum, lambda r: [Sample(t(r, 3, 4, 5), **k) for k in _dims])
register("mean", mg.mean, lambda r: [Sample(t(r, 3, 4, 5), **k) for k in _dims])
register("var", mg.var, lambda r: [Sample(t(r, 3, 4, 5), **k) for k in _dims] +
         [Sample(t(r, 5, 3), dim=0, unbiased=False)])
register("std", mg.std, lambda r: [Sample(t(r, 3, 5), dim=1), Sample(t(r, 4)),
                                    Sample(t(r, 2, 3), dim=0, correction=0)])
register("amax", mg.amax, lambda r: [Sample(t(r, 3, 5), dim=1), Sample(t(r, 3, 5))])
register("amin", mg.amin, lambda r: [Sample(t(r, 3, 5), dim=0, keepdim=True)])
register("max", lambda x, **k: mg.max(x, **k)[0] if "dim" in k else mg.max(x), lambda r: [
    Sample(t(r, 3, 5), dim=1), Sample(t(r, 3, 5), dim=0, keepdim=True), Sample(t(r, 4, 3))])
register("min", lambda x, **k: mg.min(x, **k)[0] if "dim" in k else mg.min(x), lambda r: [
    Sample(t(r, 3, 5), dim=-1), Sample(t(r, 4, 3))])
register("logsumexp", mg.logsumexp, lambda r: [Sample(t(r, 3, 5), dim=1),
                                                Sample(t(r, 2, 3, 4), dim=(0, 2), keepdim=True)])
register("prod", mg.prod, lambda r: [
    Sample(t(r, 3, 4, away_from=0.0), dim=1),
    Sample(mg.tensor([[0.0, 2.0, -1.5], [0.5, 0.0, 0.0], [1.0, -2.0, 0.5]], dtype=mg.float64,
                     requires_grad=True), dim=1, desc="rows with no, one and two zeros")])
register("norm", mg.norm, lambda r: [
    Sample(t(r, 3, 4)), Sample(t(r, 3, 4, away_from=0.0), p=1, dim=1),
    Sample(t(r, 3, 4, away_from=0.0), p=3, dim=0), Sample(t(r, 2, 5, away_from=0.0), p=0.5),
    Sample(t(r, 4, 3), p=float("inf"), dim=1, keepdim=True), Sample(t(r, 3, 4), p="nuc"),
    Sample(t(r, 2, 3, 4), p="nuc", dim=(0, 2), keepdim=True)])

# ---- shapes ---------------------------------------------------------------------------------
register("reshape", lambda x: mg.reshape(x, (5, -1)), lambda r: [Sample(t(r, 3, 5))],
         covers=("view", "view_as", "reshape_as"))
register("transpose", lambda x: mg.transpose(x, 0, 2), lambda r: [Sample(t(r, 2, 3, 4))],
         covers=("swapaxes", "swapdims", "mT"))
register("t", mg.t, lambda r: [Sample(t(r, 2, 3))])
register("permute", lambda x: mg.permute(x, (2, 0, 1)), lambda r: [Sample(t(r, 2, 3, 4))],
         covers=("T",))
register("squeeze", mg.squeeze, lambda r: [Sample(t(r, 3, 1, 2)), Sample(t(r, 1, 3), dim=0)])
register("unsqueeze", mg.unsqueeze, lambda r: [Sample(t(r, 3, 2), 1), Sample(t(r, 3), -1)])
register("flatten", mg.flatten, lambda r: [Sample(t(r, 2, 3, 2)), Sample(t(r, 2, 3, 2),
                                                                         start_dim=1)])
register("unflatten", mg.unflatten, lambda r: [Sample(t(r, 2, 6), 1, (3, 2))])
register("expand", lambda x: mg.expand(x, (4, 3, 5)), lambda r: [Sample(t(r, 3, 1))],
         covers=("broadcast_to", "expand_as"))
register("repeat", lambda x: x.repeat(2, 1, 3), lambda r: [Sample(t(r, 3, 2))])
register("clone", mg.clone, lambda r: [Sample(t(r, 3, 2))], covers=("contiguous",))
register("flip", mg.flip, lambda r: [Sample(t(r, 3, 4), (0, 1))])

# ---- indexing -------------------------------------------------------------------------------
_keys = [
    (1,), (slice(None, None, -2),), (slice(1, None), None, 2), (Ellipsis, 1),
    (np.array([0, 2, 2, 1]),), ([1, 1, 0], slice(None)), (np.array([[0, 1], [2, 2]]), 3),
]


def _getitem_samples(r):
    x = t(r, 3, 4, 5)
    samples = [Sample(x, k, desc=repr(k)) for k in _keys]
    samples.append(Sample(t(r, 3, 4), mg.tensor(r.random((3, 4)) > 0.5), desc="bool mask"))
    return samples


register("getitem", lambda x, k: x[k], _getitem_samples)
register("gather", lambda x, i: mg.gather(x, 1, i), lambda r: [
    Sample(t(r, 3, 4), mg.tensor(r.integers(0, 4, (3, 5))), desc="repeated indices"),
    Sample(t(r, 4, 3), mg.tensor(r.integers(0, 3, (2, 2))), desc="smaller index")])
register("scatter_add", lambda x, s, i: mg.scatter_add(x, 0, i, s), lambda r: [
    Sample(t(r, 3, 4), t(r, 2, 4), mg.tensor(r.integers(0, 3, (2, 4))))])
register("masked_fill", lambda x, m: x.masked_fill(m, -1.0), lambda r: [
    Sample(t(r, 3, 4), mg.tensor(r.random((3, 4)) > 0.5))])


def _setitem(x, v, key):
    y = x * 1.0  # a non-leaf copy, so the in-place write is recorded in the graph
    y[key] = v
    return y


register("setitem", _setitem, lambda r: [Sample(t(r, 3, 4), t(r, 4), 1),
                                         Sample(t(r, 3, 4), t(r, 3, 1), (slice(None), [0, 2]))])

# ---- joining / splitting --------------------------------------------------------------------
register("cat", lambda a, b, c: mg.cat([a, b, c], dim=1), lambda r: [
    Sample(t(r, 2, 3), t(r, 2, 1), t(r, 2, 2))], covers=("concat",))
register("stack", lambda a, b: mg.stack([a, b], dim=-1), lambda r: [Sample(t(r, 2, 3),
                                                                           t(r, 2, 3))])
register("split", lambda x: mg.split(x, 2, dim=1), lambda r: [Sample(t(r, 3, 5))])
register("chunk", lambda x: mg.chunk(x, 3, dim=0), lambda r: [Sample(t(r, 5, 2))])
register("unbind", lambda x: mg.unbind(x, 1), lambda r: [Sample(t(r, 2, 3))])
register("pad", mg.ops.padding.pad, lambda r: [
    Sample(t(r, 2, 3, 3), (1, 2, 0, 1), value=0.5),
    Sample(t(r, 2, 3, 5), (-1, 2, 1, -2), desc="constant, negative (cropping)"),
    Sample(t(r, 2, 3, 5), (2, 3), mode="reflect", desc="reflect 1-D"),
    Sample(t(r, 1, 2, 4, 5), (3, 1, 2, 3), mode="reflect", desc="reflect 2-D"),
    Sample(t(r, 2, 3, 4, 5), (1, 2, 2, 0, 1, 1), mode="replicate", desc="replicate 3-D"),
    Sample(t(r, 3, 5), (-2, 4), mode="replicate", desc="replicate, negative"),
    Sample(t(r, 1, 2, 3, 5), (5, 2, -1, 2), mode="circular", desc="circular 2-D, negative"),
], covers=("nn.functional.pad",))

# ---- matmul ---------------------------------------------------------------------------------
register("matmul", mg.matmul, lambda r: [
    Sample(t(r, 3, 4), t(r, 4, 5), desc="2-D"),
    Sample(t(r, 4), t(r, 4), desc="1-D . 1-D"),
    Sample(t(r, 4), t(r, 2, 4, 3), desc="1-D @ batched"),
    Sample(t(r, 2, 1, 3, 4), t(r, 3, 4, 2), desc="broadcast batch"),
    Sample(t(r, 2, 3, 4), t(r, 4, 5), desc="batch of rows @ one matrix (folded into 2-D)"),
    Sample(t(r, 2, 3, 4), t(r, 4), desc="batched @ 1-D")])
register("mm", mg.mm, lambda r: [Sample(t(r, 3, 4), t(r, 4, 2))])
register("addmm", mg.addmm, lambda r: [
    Sample(t(r, 3, 2), t(r, 3, 4), t(r, 4, 2), desc="same shape"),
    Sample(t(r, 2), t(r, 3, 4), t(r, 4, 2), desc="bias row broadcast"),
    Sample(t(r, 3, 1), t(r, 3, 5), t(r, 5, 2), beta=0.5, alpha=-2.0, desc="beta, alpha")])
register("bmm", mg.bmm, lambda r: [Sample(t(r, 2, 3, 4), t(r, 2, 4, 2))])
register("dot", mg.dot, lambda r: [Sample(t(r, 5), t(r, 5))])
register("outer", mg.outer, lambda r: [Sample(t(r, 3), t(r, 4))])

# ---- casts and sorting ----------------------------------------------------------------------
register("to_float32_and_back", lambda x: x.float().double() * x, lambda r: [Sample(t(r, 3))],
         atol=1e-4, gradgrad=False, covers=("float", "double", "to", "type_as"))
register("sort_values", lambda x: mg.sort(x, dim=1, descending=True)[0],
         lambda r: [Sample(t(r, 3, 4))], covers=("sort",))
register("topk_values", lambda x: mg.topk(x, 2, dim=1)[0], lambda r: [Sample(t(r, 3, 4))],
         covers=("topk",))
