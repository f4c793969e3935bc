"""Normalization: layer_norm, batch_norm (one shared op underneath), and L_p ``normalize``.

Both norms standardise x over some axes and then apply a learned scale and shift:

    y = (x - mean) / sqrt(var + eps) * weight + bias        (var: the biased variance, / N)

LayerNorm takes mean and var over the last dims of each sample (the features of one token);
BatchNorm over the batch (and spatial) dims of each channel. Only the axes differ, so one
``ArrayFunction``, ``Normalize``, does the work for both. Its backward is an op of its own
(``NormalizeBackward``, differentiable again); when the backward is not recorded,
``backward_arrays`` runs that op's array code directly, with no node.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction, Context
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from . import kernel_calls
from .arguments import normalize_dim
from .elementwise import rsqrt, where
from .movement import _sum_to_array, expand, reshape, sum_to


class Normalize(ArrayFunction):
    """y = x_hat * weight + bias,   x_hat = (x - mean) * rstd,   rstd = 1 / sqrt(var + eps),
    with mean and var over ``axes``; weight and bias broadcast against x (or are None).

    Outputs (y, mean, var); mean and var (keepdim shape) carry no gradient: batch_norm uses
    them for its running statistics.

    Backward, with g' = g * weight and means taken over ``axes``:

        d bias   = g summed down to bias's shape
        d weight = g * x_hat summed down to weight's shape
        d x      = rstd * (g' - mean(g') - x_hat * mean(g' * x_hat))

    The last line is the chain rule through mean and var: shifting every x by the same amount
    changes nothing (hence - mean(g')), and scaling them changes nothing either
    (hence - x_hat * mean(g' x_hat)). The three lines are ``NormalizeBackward``, a Function of
    its own: array code forward (reusing x_hat and rstd from here), and a backward of its own
    for second derivatives.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        fused = _fused_forward(ctx, x, weight, bias, axes, eps, _RowStats)
        if fused is not None:
            return fused
        mean, var, x_hat, rstd = _statistics(x, axes, eps)
        y = x_hat
        if weight is not None:
            y = y * weight
        if bias is not None:
            y = y + bias
        return _keep_for_backward(ctx, x, weight, bias, axes, eps, (x_hat, rstd), mean, var,
                                  y if y is not x_hat else y.astype(x.dtype, copy=True))

    @staticmethod
    def backward(ctx, g, _g_mean, _g_var):
        return _normalize_backward(NormalizeBackward, ctx, g)

    @staticmethod
    def backward_arrays(ctx, g, _g_mean, _g_var):
        return _normalize_backward_arrays(NormalizeBackward, ctx, g)


def _keep_for_backward(ctx, x, weight, bias, axes, eps, stats, mean, var, y):
    """What every normalize forward leaves for its backward (the statistics in ``stats`` are
    reused instead of recomputed); returns (y in x's dtype, mean, var). y must not be x_hat
    itself: the backward keeps reading x_hat."""
    ctx.axes, ctx.eps = axes, eps
    ctx.bias_shape = None if bias is None else bias.shape
    ctx.stats = stats
    ctx.save_for_backward(x, weight)
    ctx.mark_non_differentiable(mean, var)
    return y.astype(x.dtype, copy=False), mean, var


def _keep_for_second_derivative(ctx, g, x, weight, axes, eps, wanted, stats, out):
    """What every normalize backward leaves for its own backward; returns the gradients
    ``out`` as the tuple forward returns."""
    ctx.axes, ctx.eps, ctx.wanted, ctx.stats = axes, eps, wanted, stats
    ctx.save_for_backward(g, x, weight)
    return tuple(out)


def _normalize_backward(backward_function, ctx, g):
    """The backward of a normalize forward: its gradients from ``backward_function``
    (``NormalizeBackward`` or a subclass), for the inputs that want one."""
    x, weight = ctx.saved_tensors
    wanted = ctx.needs_input_grad[:3]                        # (x, weight, bias)
    grads = iter(backward_function.apply(g, x, weight, ctx.axes, ctx.eps, ctx.bias_shape,
                                         wanted, ctx.stats))
    gx, gw, gb = (next(grads) if want else None for want in wanted)
    return gx, gw, gb, None, None


def _normalize_backward_arrays(backward_function, ctx, g):
    """``_normalize_backward`` on arrays: ``backward_function``'s forward called directly,
    given a scratch node for what it keeps for a second derivative (never needed here)."""
    x, weight = ctx.saved_arrays
    wanted = ctx.needs_input_grad[:3]
    scratch = Context(backward_function, ())
    grads = iter(backward_function.forward(scratch, g, x, weight, ctx.axes, ctx.eps,
                                           ctx.bias_shape, wanted, ctx.stats))
    gx, gw, gb = (next(grads) if want else None for want in wanted)
    return gx, gw, gb, None, None


class NormalizeBackward(ArrayFunction):
    """``Normalize``'s gradients (gx, gw, gb) from (g, x, weight); the ones in ``wanted``.

    Forward, on arrays, with g' = g * weight, P(v) = rstd * (v - M[v] - x_hat M[v x_hat]) and
    M[.] the mean over ``axes`` (keepdim):

        gx = P(g'),    gw = sum_to(g * x_hat, weight's shape),    gb = sum_to(g, bias's shape)

    P(v) is x_hat's own gradient for an incoming v; it is symmetric (<u, P(v)> = <P(u), v>)
    and is this Function with weight None (``project`` below).

    Backward, for incoming gradients (hx, hw, hb) of (gx, gw, gb), all per group of ``axes``:

        dg = weight * P(hx) + x_hat * hw + hb
        dw = sum_to(g * P(hx), weight's shape)
        dx = rstd^2 x_hat (M[hx x_hat] M[g' x_hat] - M[hx g'] + M[hx] M[g'])
             - rstd (M[g' x_hat] P(hx) + M[hx x_hat] P(g'))  +  P(g * hw)

    dx differentiates <hx, gx> through rstd (d rstd / dx = -rstd^2 x_hat / N) and through
    x_hat (whose gradient for an incoming v is P(v)); <hw, gw> = <g * hw, x_hat> gives the last
    term. x_hat and rstd are recomputed here with Tensor ops, and P is this Function again, so
    the second derivative is itself differentiable.
    """

    @staticmethod
    def forward(ctx, g, x, weight, axes, eps, bias_shape, wanted, stats):
        if isinstance(stats, _FusedStats):
            return stats.backward(ctx, g, x, weight, axes, eps, bias_shape, wanted)
        x_hat, rstd = stats if stats is not None else _statistics(x, axes, eps)[2:]
        want_x, want_w, want_b = wanted
        out = []
        if want_x:
            gp = g if weight is None else g * weight
            out.append(rstd * (gp - _mean(gp, axes) - x_hat * _mean(gp * x_hat, axes)))
        if want_w:
            out.append(_sum_to_array(g * x_hat, weight.shape))
        if want_b:
            out.append(_sum_to_array(g, bias_shape))
        return _keep_for_second_derivative(ctx, g, x, weight, axes, eps, wanted,
                                           (x_hat, rstd), out)

    @staticmethod
    def backward(ctx, *grads):
        g, x, weight = ctx.saved_tensors
        axes, eps = ctx.axes, ctx.eps
        need_g, need_x, need_w = ctx.needs_input_grad[:3]
        grads = iter(grads)
        hx, hw, hb = (next(grads) if want else None for want in ctx.wanted)
        x_hat, rstd = _standardize(x, axes, eps)       # Tensor ops: differentiable in x

        def mean(t):
            return t.mean(axes, keepdim=True)

        def project(v):                                # P(v)
            return NormalizeBackward.apply(v, x, None, axes, eps, None, (True, False, False),
                                           ctx.stats)[0]

        gp = g if weight is None else g * weight
        dg = dx = dw = None
        if hx is not None:
            p_hx = project(hx)
            if need_g:
                dg = p_hx if weight is None else p_hx * weight
            if need_w:
                dw = sum_to(g * p_hx, weight.shape)
            if need_x:
                hx_xh, gp_xh = mean(hx * x_hat), mean(gp * x_hat)
                dx = (rstd * rstd * x_hat * (hx_xh * gp_xh - mean(hx * gp) + mean(hx) * mean(gp))
                      - rstd * (gp_xh * p_hx + hx_xh * project(gp)))
        if hw is not None:
            if need_g:
                dg = _plus(dg, x_hat * hw)
            if need_x:
                dx = _plus(dx, project(g * hw))
        if hb is not None and need_g:
            dg = _plus(dg, expand(hb, tuple(g.shape)))
        return dg, dx, dw, None, None, None, None, None


# ---------------------------------------------------------------------------------------------
# The fused path: the statistics on the norm kernels, rows (layer_norm) or channels (batch_norm)
# ---------------------------------------------------------------------------------------------

class _FusedStats:
    """How a fused kernel takes the statistics, and what its forward keeps for the backward.

    A subclass names a layout of x and the pair of kernels that work on it: ``_RowStats``
    (layer_norm, group_norm: the trailing dims of x as the rows of (R, N)) and
    ``_ChannelStats`` (batch_norm: every dim but 1, x as (N, C, M), a channel at a time).
    In both layouts dim 1 has one weight and one bias per index (N features of a row,
    C channels). An instance keeps rstd (one per row or channel) and the layout; passed as
    ``stats`` to ``NormalizeBackward``, it selects the fused backward.
    """

    # The kernels, by their names in ``kernel_calls`` (looked up at each call, so that a test
    # can wrap them): forward (x laid out, weight, bias, eps) -> (y, mean, var), and backward
    # (g, x laid out, rstd, weight) -> (gx, gw, gb), all laid out.
    forward_kernel = backward_kernel = None

    def __init__(self, rstd, layout):
        self.rstd, self.layout = rstd, layout

    @staticmethod
    def layout_of(x, weight, bias, axes):
        """x's layout for the kernels when they can do this normalization, else None."""
        raise NotImplementedError

    @classmethod
    def fits(cls, x, weight, bias, axes):
        """The layout when the kernels can take x, weight and bias: float32/float64 of one
        dtype, x with at least one element, and ``layout_of`` agreeing; else None (the array
        code of ``_statistics``, which other axes and dtypes take)."""
        if x.size == 0 or x.dtype not in (np.float32, np.float64):
            return None
        if any(p is not None and p.dtype != x.dtype for p in (weight, bias)):
            return None
        return cls.layout_of(x, weight, bias, axes)

    def backward(self, ctx, g, x, weight, axes, eps, bias_shape, wanted):
        """``NormalizeBackward.forward`` on the fused backward kernel (gw and gb come with
        gx): the gradients ``wanted``, in the inputs' shapes."""
        layout = self.layout
        gx, gw, gb = getattr(kernel_calls, self.backward_kernel)(
            g.astype(x.dtype, copy=False).reshape(layout), x.reshape(layout), self.rstd,
            None if weight is None else weight.reshape(layout[1]))
        shapes = (x.shape, None if weight is None else weight.shape, bias_shape)
        out = [grad.reshape(shape) for grad, shape, want in zip((gx, gw, gb), shapes, wanted)
               if want]
        return _keep_for_second_derivative(ctx, g, x, weight, axes, eps, wanted, self, out)


class _RowStats(_FusedStats):
    """Statistics per row of x as (R, N), N the product of the trailing dims in ``axes``."""

    forward_kernel, backward_kernel = "layer_norm", "layer_norm_backward"

    @staticmethod
    def layout_of(x, weight, bias, axes):
        """(R, N) when ``axes`` are x's trailing dims and weight and bias are None or have
        exactly those dims' shape."""
        ndim = x.ndim
        if not axes or tuple(axes) != tuple(range(ndim - len(axes), ndim)):
            return None
        feature_shape = x.shape[ndim - len(axes):]
        if any(p is not None and p.shape != feature_shape for p in (weight, bias)):
            return None
        n = math.prod(feature_shape)
        return x.size // n, n


class _ChannelStats(_FusedStats):
    """Statistics per channel of x as (N, C, M): over every dim of x but dim 1."""

    forward_kernel, backward_kernel = "batch_norm", "batch_norm_backward"

    @staticmethod
    def layout_of(x, weight, bias, axes):
        """(N, C, M) when ``axes`` are every dim of x but dim 1 and weight and bias are None or
        hold one value per channel."""
        if x.ndim < 2 or tuple(axes) != (0,) + tuple(range(2, x.ndim)):
            return None
        if any(p is not None and p.size != x.shape[1] for p in (weight, bias)):
            return None
        return x.shape[0], x.shape[1], x.size // (x.shape[0] * x.shape[1])


def _fused_forward(ctx, x, weight, bias, axes, eps, stats_kind):
    """A normalize forward on ``stats_kind``'s fused kernel: (y, mean, var), mean and var in
    keepdim shape; None when that kernel cannot take these arrays."""
    layout = stats_kind.fits(x, weight, bias, axes)
    if layout is None:
        return None
    flat = (None if p is None else p.reshape(layout[1]) for p in (weight, bias))
    y, mean, var = getattr(kernel_calls, stats_kind.forward_kernel)(x.reshape(layout), *flat,
                                                                    eps)
    xp = backend.array_module(x)
    rstd = (1.0 / xp.sqrt(var.astype(np.float64) + eps)).astype(x.dtype)
    keep = tuple(1 if i in axes else size for i, size in enumerate(x.shape))
    return _keep_for_backward(ctx, x, weight, bias, axes, eps, stats_kind(rstd, layout),
                              mean.reshape(keep), var.reshape(keep), y.reshape(x.shape))


class BatchNormalize(Normalize):
    """``Normalize`` for batch_norm in training mode: the same outputs, in fewer passes.

    BatchNorm normalises a whole activation map per channel (a CNN layer's (32, 64, 32, 32)
    float32 output is 8 MiB), so each pass over it and each temporary it writes costs: a fresh
    array of that size is new memory, and the first write to every page of it faults.

    float32 and float64 run on the batch-norm kernels (``kernels.batch_norm``: one thread per
    channel, the channel in cache for every pass, x read once and y written once), and the
    backward keeps only x and rstd per channel (not x_hat). Other dtypes compute the
    statistics and x_hat in one buffer, updated in place ((x - first mean), minus the
    correction, times rstd: the same operations as ``_statistics`` in the same order, so the
    same numbers), and y = x_hat * weight + bias adds in place. Its backward is
    ``BatchNormBackward``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        fused = _fused_forward(ctx, x, weight, bias, axes, eps, _ChannelStats)
        if fused is not None:
            return fused
        xp = backend.array_module(x)
        first = x.mean(axis=axes, keepdims=True)
        x_hat = x - first                              # the centred x, then x_hat, in place
        correction = x_hat.mean(axis=axes, keepdims=True)
        x_hat -= correction
        mean = first + correction
        var = xp.square(x_hat).mean(axis=axes, keepdims=True)
        rstd = 1.0 / xp.sqrt(var + eps)
        x_hat *= rstd
        y = x_hat if weight is None else x_hat * weight
        if bias is not None:
            y = _add_in_place(y, bias) if y is not x_hat else y + bias
        return _keep_for_backward(ctx, x, weight, bias, axes, eps, (x_hat, rstd), mean, var,
                                  y if y is not x_hat else y.astype(x.dtype, copy=True))

    @staticmethod
    def backward(ctx, g, _g_mean, _g_var):
        return _normalize_backward(BatchNormBackward, ctx, g)

    @staticmethod
    def backward_arrays(ctx, g, _g_mean, _g_var):
        return _normalize_backward_arrays(BatchNormBackward, ctx, g)


class BatchNormBackward(NormalizeBackward):
    """``NormalizeBackward`` for a weight that is constant over ``axes`` (batch_norm's
    per-channel weight, or None): the same gradients from two per-channel sums.

    With S[.] the sum over ``axes`` (n terms) and s = rstd * weight, constant over ``axes``:
    M[g'] = weight S[g] / n and M[g' x_hat] = weight S[g x_hat] / n, so

        gx = s * g - x_hat * (s S[g x_hat] / n) - s S[g] / n
        gw = S[g x_hat],   gb = S[g]

    Two temporaries (g * x_hat, and gx) instead of one per operation; the second derivative
    is ``NormalizeBackward``'s, inherited.
    """

    @staticmethod
    def forward(ctx, g, x, weight, axes, eps, bias_shape, wanted, stats):
        if isinstance(stats, _FusedStats):
            return stats.backward(ctx, g, x, weight, axes, eps, bias_shape, wanted)
        x_hat, rstd = stats if stats is not None else _statistics(x, axes, eps)[2:]
        want_x, want_w, want_b = wanted
        n = math.prod(g.shape[i] for i in axes)
        out = []
        sum_g = g.sum(axis=axes, keepdims=True) if want_x or want_b else None
        if want_x or want_w:
            g_xh = g * x_hat
            sum_gxh = g_xh.sum(axis=axes, keepdims=True)
        if want_x:
            s = rstd if weight is None else rstd * weight
            gx = g * s
            gx -= _multiply_into(g_xh, x_hat, s * sum_gxh / n)     # g_xh's buffer reused
            gx -= s * sum_g / n
            out.append(gx)
        if want_w:
            out.append(_sum_to_array(sum_gxh, weight.shape))
        if want_b:
            out.append(_sum_to_array(sum_g, bias_shape))
        return _keep_for_second_derivative(ctx, g, x, weight, axes, eps, wanted,
                                           (x_hat, rstd), out)


def _add_in_place(a, b):
    """a + b, written into a when that gives the same dtype and shape."""
    xp = backend.array_module(a)
    if xp.result_type(a, b) == a.dtype and xp.broadcast_shapes(a.shape, b.shape) == a.shape:
        a += b
        return a
    return a + b


def _multiply_into(out, a, b):
    """a * b, written into ``out`` when that gives out's dtype and shape."""
    xp = backend.array_module(a)
    if xp.result_type(a, b) == out.dtype and xp.broadcast_shapes(a.shape, b.shape) == out.shape:
        return xp.multiply(a, b, out=out)
    return a * b


def _plus(total, term):
    return term if total is None else total + term


def _mean(a, axes):
    """The mean of an array over ``axes`` (keepdim), computed as ``Tensor.mean`` does."""
    n = math.prod(a.shape[i] for i in axes)
    s = a.sum(axis=axes, keepdims=True)
    return s / n if n else s * float("nan")


def _statistics(x, axes, eps):
    """(mean, var, x_hat, rstd) of an array over ``axes`` (keepdim), var the biased one."""
    xp = backend.array_module(x)
    with warnings.catch_warnings():   # an empty input: nan statistics, as in PyTorch,
        warnings.simplefilter("ignore", RuntimeWarning)     # without NumPy's warning
        mean, centred = _centre(x, axes)
        var = (centred * centred).mean(axis=axes, keepdims=True)
    rstd = 1.0 / xp.sqrt(var + eps)
    return mean, var, centred * rstd, rstd


def _centre(x, axes):
    """(mean, x - mean) over ``axes`` of an array, the mean corrected by a second pass.

    In float32, the mean of values near 1000 is off by up to ~1e-4 (its last bits), which is
    a tenth of a spread of 1e-3: x_hat's mean is then 0.01 instead of 0, and the gradient of
    layer_norm(x).sum(), which is exactly 0 in exact arithmetic, comes out as large as 2.
    Subtracting the first mean is exact (values near each other), so the mean of what is left,
    a small number, is accurate, and subtracting it centres x to rounding (x_hat's mean
    ~1e-9, that gradient ~1e-6).
    """
    first = x.mean(axis=axes, keepdims=True)
    rest = x - first
    correction = rest.mean(axis=axes, keepdims=True)
    return first + correction, rest - correction


def _standardize(x: Tensor, axes, eps):
    """(x_hat, rstd) of ``_statistics`` written with Tensor ops (the same two-pass centring;
    the first mean is a constant, since x - c - mean(x - c) = x - mean(x) for any c)."""
    rest = x - x.detach().mean(axes, keepdim=True)
    centred = rest - rest.mean(axes, keepdim=True)
    rstd = rsqrt((centred * centred).mean(axes, keepdim=True) + eps)
    return centred * rstd, rstd


# ---------------------------------------------------------------------------------------------
# layer_norm
# ---------------------------------------------------------------------------------------------

def _shape_tuple(normalized_shape) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def check_layer_norm_input(who: str, input: Tensor, normalized_shape) -> None:  # noqa: A002
    """The last dims of ``input`` must equal ``normalized_shape``; else a clear error."""
    n = len(normalized_shape)
    if input.ndim < n or tuple(input.shape[input.ndim - n:]) != tuple(normalized_shape):
        star = ", ".join(["*"] + [str(s) for s in normalized_shape])
        raise RuntimeError(f"{who}: normalized_shape={tuple(normalized_shape)} expects an input "
                           f"of shape ({star}), but got input of shape {tuple(input.shape)}")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Standardise each sample over its last ``len(normalized_shape)`` dims, then scale and
    shift by ``weight`` and ``bias`` (both of shape ``normalized_shape``)."""
    shape = _shape_tuple(normalized_shape)
    check_layer_norm_input("layer_norm", input, shape)
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(f"layer_norm: {name} has shape {tuple(p.shape)} but "
                               f"normalized_shape is {shape}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    return Normalize.apply(input, weight, bias, axes, float(eps))[0]


# ---------------------------------------------------------------------------------------------
# batch_norm
# ---------------------------------------------------------------------------------------------

def _per_channel(t: Tensor | None, ndim: int):
    """A (C,) tensor reshaped to (1, C, 1, ...) so that it broadcasts over (N, C, *)."""
    if t is None:
        return None
    return reshape(t, (1, -1) + (1,) * (ndim - 2))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Standardise each channel (dim 1 of an (N, C, *) input).

    ``training=True``: with the statistics of this batch (mean and biased variance over every
    dim but 1), and, if running_mean/running_var are given, update them in place:
    running = (1 - momentum) * running + momentum * batch_stat, where the variance that goes
    into running_var is the *unbiased* one (N / (N - 1) times the biased), as in PyTorch.

    ``training=False``: with running_mean and running_var; nothing is updated.

    An empty input (a batch of 0, or shape (0,)) gives the empty output, and the running
    statistics stay as they are, as in PyTorch.
    """
    if input.numel() == 0:
        return _empty_batch_norm(input, running_mean, running_var, weight, bias)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"batch_norm: {name} has shape {tuple(t.shape)}, but the input "
                               f"{tuple(input.shape)} has {c} channels (dim 1)")
    w, b = _per_channel(weight, input.ndim), _per_channel(bias, input.ndim)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given when "
                               "training=False (there are no batch statistics to use)")
        scale = _per_channel(rsqrt(running_var + eps), input.ndim)
        y = (input - _per_channel(running_mean, input.ndim)) * scale
        y = y * w if w is not None else y
        return y + b if b is not None else y

    n = input.numel() // c
    if n <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {tuple(input.shape)}")
    axes = (0,) + tuple(range(2, input.ndim))
    y, mean, var = BatchNormalize.apply(input, w, b, axes, float(eps))
    if running_mean is not None or running_var is not None:
        with no_grad():
            if running_mean is not None:
                running_mean.copy_(running_mean * (1 - momentum) + reshape(mean, (c,)) * momentum)
            if running_var is not None:
                unbiased = reshape(var, (c,)) * (n / (n - 1))
                running_var.copy_(running_var * (1 - momentum) + unbiased * momentum)
    return y


def _empty_batch_norm(input: Tensor, running_mean, running_var, weight, bias) -> Tensor:  # noqa: A002
    """batch_norm of an input with no elements: nothing to normalise. The output (empty, of the
    input's shape) stays in the graph, so weight and bias get zero gradients. A 1-D input has
    no channel dim: PyTorch counts 0 channels."""
    c = input.shape[1] if input.ndim >= 2 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"batch_norm: {name} has shape {tuple(t.shape)}, but the empty "
                               f"input {tuple(input.shape)} has {c} channels")
    y = input.clone()
    for p in (weight, bias):
        if p is not None:
            # p * 0 contributes nothing to y's (empty) values, only p's (zero) gradient
            y = y + (p * 0.0 if input.ndim < 2 else _per_channel(p * 0.0, input.ndim))
    return y


# ---------------------------------------------------------------------------------------------
# group_norm
# ---------------------------------------------------------------------------------------------

def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Standardise each sample's channels in ``num_groups`` groups of C / num_groups
    consecutive channels (each group over its channels and all positions), then scale and shift
    per channel. One group is layer norm over (C, *); C groups is instance norm. No batch
    statistics, so it behaves the same for a batch of 1 and in eval mode.

    It is ``Normalize`` on the input viewed as (N, G, C/G * positions), over the last axis."""
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    n, c = input.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise RuntimeError(f"group_norm: expected the number of channels ({c}) of the input "
                           f"of shape {tuple(input.shape)} to be divisible by num_groups="
                           f"{num_groups}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(f"group_norm: {name} has shape {tuple(p.shape)}, but the input "
                               f"{tuple(input.shape)} has {c} channels (dim 1)")
    # the group size spelt out: with n = 0, reshape could not infer a -1
    group_size = c // num_groups * math.prod(input.shape[2:])
    grouped = reshape(input, (n, num_groups, group_size))
    y = reshape(Normalize.apply(grouped, None, None, (2,), float(eps))[0], input.shape)
    if weight is not None:
        y = y * _per_channel(weight, input.ndim)
    return y + _per_channel(bias, input.ndim) if bias is not None else y


# ---------------------------------------------------------------------------------------------
# L_p normalisation of vectors
# ---------------------------------------------------------------------------------------------

def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out=None) -> Tensor:
    """input / max(||input||_p, eps) along ``dim`` (unit vectors; ``eps`` avoids 0 / 0).

    ||x||_p = (sum |x|^p)^(1/p). Its derivative is infinite at the zero vector, so the root is
    taken only where the sum is positive (the "double where" trick): the zero vector then gets
    the gradient of x / eps, as in PyTorch, instead of 0 * inf = nan.

    p = 0 counts the nonzero entries (a step function: no gradient flows through the count).
    A 0-d input is normalised as a vector of one element (dim 0 or -1).
    """
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; use the return value")
    if input.ndim == 0:
        normalize_dim("normalize", dim, 0)
        return reshape(normalize(reshape(input, (1,)), p, 0, eps), ())
    if p == 0:
        norm = (input != 0).sum(dim, keepdim=True).to(input.dtype)
    elif math.isinf(p):
        norm = input.abs().amax(dim, keepdim=True)
    else:
        s = (input.abs() ** p).sum(dim, keepdim=True)
        positive = s > 0
        norm = where(positive, where(positive, s, 1.0) ** (1.0 / p), 0.0)
    return input / norm.clamp(min=eps)
