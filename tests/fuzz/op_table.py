"""THE op table: one row per fuzzed op. Adding an op is adding one row.

    Op(name, call, cases, names=(), rtol=None)

* ``call(L, *args, **kwargs)``: the call, with ``L`` either ``minigrad`` or ``torch`` (same
  API, so one lambda serves both);
* ``cases``: an argument builder from ``arguments.py`` (``draw -> (args, kwargs)``);
* ``names``: the words a clear error of the op may use to name it (default: ``name``);
* ``rtol``: a looser relative tolerance, for ops whose float32 result sums many terms.

The name is also the test id (``test_ops.py::test_op[var]``) and what known failures
match on (``known_failures.py``).
"""

from __future__ import annotations

import numpy as np

from . import arguments as A
from .harness import Op, WithLeaves, fill_parameters


def _F(L):
    return L.nn.functional


def _module(name):
    """Build ``L.nn.<name>(**init)``, give its parameters seeded values, call it on the
    inputs; its parameters' gradients are compared too."""
    def call(L, *inputs, seed, init, forward=None):
        module = getattr(L.nn, name)(**init)
        named = sorted(module.named_parameters())
        fill_parameters(L, named, seed)
        out = module(*inputs, **(forward or {}))
        return WithLeaves(out, [p for _, p in named], [n for n, _ in named])
    return call


def _window_all_padding(case, outputs):
    """A max-pooling window that dilation made step over the whole plane holds only padding
    (-inf): minigrad gives it no gradient (documented in kernels/ops.py, index -1), PyTorch
    routes its gradient to some element."""
    return any(np.isneginf(o.detach().numpy()).any() for o in outputs[:1]) and not any(
        np.isneginf(x.values).any() for x in case.tensors() if x.dtype.kind == "f")


def _topk(L, x, k, **kw):
    """topk; with sorted=False the order is unspecified, so both results are sorted here."""
    values, indices = L.topk(x, k, **kw)
    if kw.get("sorted", True):
        return values, indices
    dim = kw.get("dim", -1)
    values, order = L.sort(values, dim=dim)
    return values, L.gather(indices, dim, order)


OPS = [
    # elementwise, one operand ---------------------------------------------------------------
    Op("exp", lambda L, x: L.exp(x), A.unary()),
    Op("log", lambda L, x: L.log(x), A.unary(kind="positive")),
    Op("sqrt", lambda L, x: L.sqrt(x), A.unary(kind="positive")),
    Op("abs", lambda L, x: L.abs(x), A.unary()),
    Op("tanh", lambda L, x: L.tanh(x), A.unary()),
    Op("sigmoid", lambda L, x: L.sigmoid(x), A.unary()),
    Op("relu", lambda L, x: L.relu(x), A.unary()),
    Op("neg", lambda L, x: L.neg(x), A.unary(), names=("neg", "negative")),
    Op("clamp", lambda L, x, lo, hi: L.clamp(x, lo, hi), A.clamp_args),
    Op("pow", lambda L, a, b: a ** b, A.pow_args),
    # elementwise, two operands (broadcasting, dtype promotion, Python scalars) -------------
    Op("add", lambda L, a, b: a + b, A.binary()),
    Op("sub", lambda L, a, b: a - b, A.binary(), names=("sub", "subtract", "rsub")),
    Op("mul", lambda L, a, b: a * b, A.binary(), names=("mul", "multiply")),
    Op("div", lambda L, a, b: a / b, A.binary(divisor=True), names=("div", "divide")),
    Op("floor_divide", lambda L, a, b: a // b, A.binary(A.NUMERIC, divisor=True)),
    Op("remainder", lambda L, a, b: a % b, A.binary(A.NUMERIC, divisor=True)),
    Op("maximum", lambda L, a, b: L.maximum(a, b), A.binary(scalars=False)),
    Op("minimum", lambda L, a, b: L.minimum(a, b), A.binary(scalars=False)),
    Op("where", lambda L, c, x, y: L.where(c, x, y), A.where_args),
    Op("eq", lambda L, a, b: a == b, A.binary(), names=("eq", "equal")),
    Op("ne", lambda L, a, b: a != b, A.binary(), names=("ne", "not_equal")),
    Op("lt", lambda L, a, b: a < b, A.binary(), names=("lt", "less")),
    Op("le", lambda L, a, b: a <= b, A.binary(), names=("le", "less_equal")),
    Op("gt", lambda L, a, b: a > b, A.binary(), names=("gt", "greater")),
    Op("ge", lambda L, a, b: a >= b, A.binary(), names=("ge", "greater_equal")),
    # reductions ----------------------------------------------------------------------------
    Op("sum", lambda L, x, **kw: L.sum(x, **kw), A.reduction(A.ALL)),
    Op("mean", lambda L, x, **kw: L.mean(x, **kw), A.reduction()),
    # (no dim=() for var/std: PyTorch 2.13's gradient of var(x, dim=()) has the wrong sign)
    Op("var", lambda L, x, **kw: L.var(x, **kw), A.reduction(extra=A.var_extra,
                                                              empty_tuple=False)),
    Op("std", lambda L, x, **kw: L.std(x, **kw), A.reduction(extra=A.var_extra,
                                                              empty_tuple=False)),
    Op("max", lambda L, x, **kw: L.max(x, **kw), A.reduction(multiple=False, kind="distinct")),
    Op("min", lambda L, x, **kw: L.min(x, **kw), A.reduction(multiple=False, kind="distinct")),
    Op("amax", lambda L, x, **kw: L.amax(x, **kw), A.reduction(kind="distinct")),
    Op("amin", lambda L, x, **kw: L.amin(x, **kw), A.reduction(kind="distinct")),
    Op("argmax", lambda L, x, **kw: L.argmax(x, **kw),
       A.reduction(multiple=False, kind="distinct")),
    Op("argmin", lambda L, x, **kw: L.argmin(x, **kw),
       A.reduction(multiple=False, kind="distinct")),
    Op("logsumexp", lambda L, x, **kw: L.logsumexp(x, **kw),
       A.reduction(A.FLOAT, none=False, empty_tuple=False)),   # PyTorch fails on dim=()
    Op("prod", lambda L, x, **kw: L.prod(x, **kw), A.reduction(multiple=False)),
    Op("norm", lambda L, x, **kw: L.norm(x, **kw), A.reduction(A.FLOAT, extra=A.norm_extra)),
    # movement and indexing -----------------------------------------------------------------
    Op("reshape", lambda L, x, s: x.reshape(s), A.reshape_args),
    Op("view", lambda L, x, s: x.view(s), A.reshape_args),
    Op("transpose", lambda L, x, d0, d1: L.transpose(x, d0, d1), A.transpose_args),
    Op("permute", lambda L, x, order: x.permute(order), A.permute_args),
    Op("squeeze", lambda L, x, *d: L.squeeze(x, *d), A.squeeze_args),
    Op("unsqueeze", lambda L, x, d: L.unsqueeze(x, d), A.unsqueeze_args),
    Op("flatten", lambda L, x, **kw: L.flatten(x, **kw), A.flatten_args),
    Op("expand", lambda L, x, s: x.expand(s), A.expand_args),
    Op("repeat", lambda L, x, r: x.repeat(r), A.repeat_args),
    Op("cat", lambda L, ts, **kw: L.cat(ts, **kw), A.tensor_list(same_shape=False)),
    Op("stack", lambda L, ts, **kw: L.stack(ts, **kw), A.tensor_list(same_shape=True)),
    Op("split", lambda L, x, how, **kw: L.split(x, how, **kw), A.split_args),
    Op("chunk", lambda L, x, n, **kw: L.chunk(x, n, **kw), A.chunk_args),
    Op("gather", lambda L, x, d, i: L.gather(x, d, i), A.gather_args),
    Op("scatter_add", lambda L, x, d, i, src: L.scatter_add(x, d, i, src), A.scatter_add_args),
    Op("index", lambda L, x, idx: x[idx], A.index_args, names=("index", "getitem")),
    Op("topk", lambda L, x, k, **kw: _topk(L, x, k, **kw), A.topk_args),
    Op("sort", lambda L, x, **kw: L.sort(x, **kw), A.sort_args),
    # products ------------------------------------------------------------------------------
    Op("matmul", lambda L, a, b: a @ b, A.matmul_args),
    # nn.functional -------------------------------------------------------------------------
    Op("softmax", lambda L, x, **kw: _F(L).softmax(x, **kw), A.softmax_args),
    Op("log_softmax", lambda L, x, **kw: _F(L).log_softmax(x, **kw), A.softmax_args),
    Op("cross_entropy", lambda L, x, t, **kw: _F(L).cross_entropy(x, t, **kw),
       A.cross_entropy_args),
    Op("nll_loss", lambda L, x, t, **kw: _F(L).nll_loss(x, t, **kw), A.nll_loss_args),
    Op("mse_loss", lambda L, a, b, **kw: _F(L).mse_loss(a, b, **kw), A.mse_args),
    Op("linear", lambda L, x, w, b: _F(L).linear(x, w, b), A.linear_args),
    Op("conv2d", lambda L, x, w, b, **kw: _F(L).conv2d(x, w, b, **kw), A.conv2d_args),
    Op("max_pool2d", lambda L, x, **kw: _F(L).max_pool2d(x, **kw), A.pool2d_args(avg=False),
       grads_differ=_window_all_padding),
    Op("avg_pool2d", lambda L, x, **kw: _F(L).avg_pool2d(x, **kw), A.pool2d_args(avg=True)),
    Op("adaptive_avg_pool2d", lambda L, x, size: _F(L).adaptive_avg_pool2d(x, size),
       A.adaptive_pool_args),
    Op("layer_norm", lambda L, x, s, w, b, eps: _F(L).layer_norm(x, s, w, b, eps),
       A.layer_norm_args, atol=1e-3),          # (x - mean) / sqrt(eps) amplifies rounding
    Op("embedding", lambda L, i, w, **kw: _F(L).embedding(i, w, **kw), A.embedding_args),
    Op("dropout", lambda L, x, **kw: _F(L).dropout(x, **kw), A.dropout_args),
    # factories -----------------------------------------------------------------------------
    Op("arange", lambda L, *a, **kw: L.arange(*a, **kw), A.arange_args),
    Op("zeros", lambda L, *size, **kw: L.zeros(*size, **kw), A.sizes_args),
    Op("randn", lambda L, *size, **kw: L.randn(*size, **kw), A.sizes_args, values=False),
    # modules (parameters get the same seeded values in both libraries) ---------------------
    Op("nn.Linear", _module("Linear"), A.linear_module_args, names=("Linear", "linear")),
    Op("nn.Conv2d", _module("Conv2d"), A.conv2d_module_args, names=("Conv2d", "conv2d")),
    Op("nn.LSTM", _module("LSTM"), A.lstm_module_args, names=("LSTM", "lstm"), rtol=1e-3),
    Op("nn.MultiheadAttention", _module("MultiheadAttention"), A.mha_module_args,
       names=("MultiheadAttention", "multi_head_attention_forward", "attention"), rtol=1e-3),
]

OPS_BY_NAME = {op.name: op for op in OPS}
assert len(OPS_BY_NAME) == len(OPS), "op names must be unique: they are the test ids"
