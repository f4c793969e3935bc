"""Loss functions, with PyTorch's signatures, defaults and reductions.

Every loss first computes one value per element (or per sample), then reduces:
``reduction="mean"`` (the default) averages, ``"sum"`` adds, ``"none"`` returns them all.
(The old ``size_average``/``reduce`` flags are accepted and translated, as PyTorch does.)

Most losses here are short compositions of differentiable ops (log_softmax, gather, sums), so
their gradients, and second derivatives, come from those ops. Binary cross-entropy is an op of
its own because its textbook gradient (x - t) / (x (1 - x)) is both simpler and safer than the
chain rule through two logs. cross_entropy with class-index targets (and no label
smoothing) is one op too, CrossEntropyLoss: log_softmax and the pick in one node, its backward
on arrays (two nodes cost a small classifier's training step more than their arithmetic).

Numerical care, in one place each:
* cross_entropy works on log_softmax(logits), never log(softmax(logits)): finite for any logit.
* binary_cross_entropy_with_logits uses softplus(-x) = log(1 + exp(-x)) in its overflow-free
  form, so a logit of +-100 gives an exact loss, not inf or nan.
* binary_cross_entropy clamps log(x) at -100, as PyTorch does, so x = 0 or 1 stays finite.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from . import kernel_calls
from .activation import LogSoftmax, LogSoftmaxBackward, Softplus, log_softmax
from .elementwise import clamp, exp, log, where
from .movement import reshape

_REDUCTIONS = ("none", "mean", "sum")


# ---------------------------------------------------------------------------------------------
# Shared pieces: reductions, argument checks
# ---------------------------------------------------------------------------------------------

def legacy_reduction(size_average, reduce, reduction: str, stacklevel: int = 3) -> str:
    """Translate the deprecated ``size_average``/``reduce`` flags into ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction="
                  "'mean', 'sum' or 'none' instead.", stacklevel=stacklevel)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduction(op: str, size_average, reduce, reduction: str, allowed=_REDUCTIONS) -> str:
    """The reduction a loss applies: the legacy flags translated, then checked."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    _check_reduction(op, reduction, allowed)
    return reduction


def _check_reduction(op: str, reduction: str, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; use one of "
                         + ", ".join(repr(r) for r in allowed))


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor_like(op: str, target, input: Tensor) -> Tensor:  # noqa: A002
    if isinstance(target, Tensor):
        return target
    if isinstance(target, (int, float)):
        raise TypeError(f"{op}: target must be a Tensor, got a Python {type(target).__name__}")
    return Tensor._make(backend.array_module(input.array).asarray(target))


def _float_target(op: str, target, input: Tensor) -> Tensor:  # noqa: A002
    """Regression-style targets: any array or number type, used in the input's float dtype."""
    target = _as_tensor_like(op, target, input)
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return target


def _promoted_pair(op: str, input: Tensor, target) -> tuple:  # noqa: A002
    """(input, target) in their promoted dtype: PyTorch's mse_loss and l1_loss compute in it
    (a float32 input with a float64 target gives float64; an int target takes the input's)."""
    target = _as_tensor_like(op, target, input)
    dtype = backend.promote_types(input.dtype, target.dtype)
    return (input if input.dtype == dtype else input.to(dtype),
            target if target.dtype == dtype else target.to(dtype))


def _warn_if_broadcasting(op: str, input: Tensor, target: Tensor):  # noqa: A002
    """mse_loss(pred of shape (N, 1), target of shape (N,)) silently broadcasts to (N, N): a
    classic bug. PyTorch warns, and so do we; shapes that don't broadcast at all are an error
    that names the loss (not the subtraction inside it)."""
    if input.shape != target.shape:
        try:
            np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:
            raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} and target of shape "
                               f"{tuple(target.shape)} can't be broadcast together; they "
                               f"should have the same shape") from None
        warnings.warn(f"{op}: Using a target size {tuple(target.shape)} that is different to "
                      f"the input size {tuple(input.shape)}. This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", stacklevel=3)


def _require_same_shape(op: str, input: Tensor, target: Tensor):  # noqa: A002
    if input.shape != target.shape:
        raise ValueError(f"{op}: target size {tuple(target.shape)} must be the same as input "
                         f"size {tuple(input.shape)}")


# ---------------------------------------------------------------------------------------------
# Regression losses
# ---------------------------------------------------------------------------------------------

def _check_float_input(op, input):  # noqa: A002
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        got = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"{op}: expected a floating point input tensor, got {got}")


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    """(input - target)^2, reduced."""
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    _check_float_input("mse_loss", input)
    input, target = _promoted_pair("mse_loss", input, target)
    _warn_if_broadcasting("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
            reduction: str = "mean") -> Tensor:
    """|input - target|, reduced. (Its gradient at input == target is 0, as in PyTorch.)"""
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    _check_float_input("l1_loss", input)
    input, target = _promoted_pair("l1_loss", input, target)
    _warn_if_broadcasting("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def _huber(diff: Tensor, delta: float) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) beyond: a parabola near 0 joined to
    two lines with the same slope (+-delta) where they meet, so the gradient is continuous and
    never larger than delta. That is why it is robust: an outlier pulls with force delta, not
    with force |d| as in mse_loss."""
    magnitude = diff.abs()
    return where(magnitude < delta, 0.5 * diff * diff, delta * (magnitude - 0.5 * delta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """Huber loss: quadratic for |input - target| < delta, linear beyond, reduced."""
    _check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _float_target("huber_loss", target, input)
    _warn_if_broadcasting("huber_loss", input, target)
    return _reduce(_huber(input - target, delta), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1 (Fast R-CNN's box loss): 0.5 d^2 / beta for |d| < beta, |d| - beta / 2
    beyond, reduced. It is huber_loss with delta = beta, divided by beta, so its linear part
    has slope 1 like l1_loss (beta = 0 is exactly l1_loss)."""
    reduction = _reduction("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    target = _float_target("smooth_l1_loss", target, input)
    _warn_if_broadcasting("smooth_l1_loss", input, target)
    diff = input - target
    per_element = diff.abs() if beta == 0 else _huber(diff, beta) / beta
    return _reduce(per_element, reduction)


# ---------------------------------------------------------------------------------------------
# Classification: nll_loss and cross_entropy
# ---------------------------------------------------------------------------------------------

def _class_dim(op: str, input: Tensor) -> int:  # noqa: A002
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension: shape (C,), (N, C) or "
                         f"(N, C, d1, ...); got a 0-d tensor")
    return 0 if input.ndim == 1 else 1


def _check_class_targets(op: str, input: Tensor, target: Tensor, ignore_index: int):  # noqa: A002
    """Class-index targets: integers of shape (N, d1, ...) for input (N, C, d1, ...), each in
    0..C-1 or equal to ignore_index. Returns the target as an integer array."""
    cdim = _class_dim(op, input)
    c = input.shape[cdim]
    expected = tuple(s for i, s in enumerate(input.shape) if i != cdim)
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index targets must be integers (int64), got {target.dtype} with shape "
            f"{tuple(target.shape)}. Convert with target.long(); for class probabilities, the "
            f"target must have the input's shape {tuple(input.shape)}.")
    if tuple(target.shape) != expected:
        if input.ndim >= 2 and target.ndim >= 1 and target.shape[0] != input.shape[0]:
            raise ValueError(f"{op}: Expected input batch_size ({input.shape[0]}) to match "
                             f"target batch_size ({target.shape[0]}); input shape "
                             f"{tuple(input.shape)}, target shape {tuple(target.shape)}")
        raise ValueError(f"{op}: for input of shape {tuple(input.shape)} (classes in dim "
                         f"{cdim}) the target must have shape {expected}, got "
                         f"{tuple(target.shape)}")
    t = target.array
    valid = t != ignore_index
    if t.size and not (0 <= t.min() and t.max() < c) \
            and bool(((t < 0) | (t >= c))[valid].any()):   # the min and max settle most calls
        bad = t[valid & ((t < 0) | (t >= c))]
        raise IndexError(f"{op}: target contains class {int(bad.reshape(-1)[0])}, which is out "
                         f"of range for C={c} classes (valid targets are 0..{c - 1}, or "
                         f"ignore_index={ignore_index})")
    return t, valid, cdim


def _check_weight(op: str, weight, c: int):
    if weight is not None and tuple(weight.shape) != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},), one value per class, got "
                         f"{tuple(weight.shape)}")


def _nll_operands(op: str, scores: Tensor, target: Tensor, weight, ignore_index: int):
    """The target, checked, as NLLLoss and CrossEntropyLoss take it: (class index per sample,
    0 where ignored; weight per sample, 0 where ignored; the non-ignored mask; class dim)."""
    t, valid, cdim = _check_class_targets(op, scores, target, ignore_index)
    c = scores.shape[cdim]
    _check_weight(op, weight, c)
    xp = backend.array_module(t)
    safe_t = xp.where(valid, t, 0)  # ignored positions pick class 0, then get weight 0
    w = valid.astype(scores.dtype)
    if weight is not None:
        w = w * weight.array.astype(scores.dtype)[safe_t]
    return safe_t, w, valid, cdim


def _nll(op: str, logp: Tensor, target: Tensor, weight, ignore_index: int, reduction: str):
    """-weight[t] * logp[t] per sample (0 where t == ignore_index), reduced.

    "mean" divides by the total weight of the non-ignored targets, sum(weight[t]), not by the
    number of samples: with class weights that is a weighted average, as in PyTorch.
    """
    safe_t, w, valid, cdim = _nll_operands(op, logp, target, weight, ignore_index)
    return NLLLoss.apply(logp, safe_t, w, valid, cdim, reduction)


def _picks(index, cdim, shape):
    """The advanced index of the picked entries [n, t_n, d1, ...] of an array of ``shape``
    whose classes are along ``cdim``: ``index`` along it, an arange along every other dim
    (shaped to broadcast with ``index``). Plain indexing with it is several times cheaper
    than ``take_along_axis``/``put_along_axis`` on a small batch."""
    if cdim == 0:                                   # one sample: (C,) and a 0-d index
        return (index,)
    xp = backend.array_module(index)
    picks = []
    for i, size in enumerate(shape):
        if i == cdim:
            picks.append(index)
            continue
        j = i if i < cdim else i - 1                # this dim's position in index's shape
        at = [1] * index.ndim
        at[j] = size
        picks.append(xp.arange(size).reshape(at))
    return tuple(picks)


def _mean_coefficient(xp, coef, total, valid):
    """coef / total, 0 at ignored samples: when every target is ignored "mean" is 0 / 0 and
    the ignored samples must still get exactly 0 (a ``where``, not a product)."""
    if xp is np and 0 < total < np.inf:             # the usual case: nothing to silence
        return xp.where(valid, coef / total, 0).astype(coef.dtype, copy=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        return xp.where(valid, coef / total, 0).astype(coef.dtype, copy=False)


def _picked_loss(ctx, logp, index, w, valid, cdim, reduction):
    """NLLLoss's forward on arrays (its docstring has the formulas): the loss, with what the
    gradient needs stored on ``ctx``: ``picks`` (the targets' entries, see ``_picks``) and
    ``coef``, d loss / d logp[n, t_n] per sample before the incoming gradient."""
    xp = backend.array_module(logp)
    picks = _picks(index, cdim, logp.shape)
    per_sample = -xp.asarray(logp[picks]) * w
    ctx.picks, ctx.cdim, ctx.reduction, ctx.shape = picks, cdim, reduction, logp.shape
    ctx.coef = -w
    acc = np.float32 if logp.dtype == np.float16 else logp.dtype  # float16 sums in float32
    if reduction == "mean":
        total = w.sum(dtype=acc)
        ctx.coef = _mean_coefficient(xp, ctx.coef, total, valid)
        with np.errstate(invalid="ignore", divide="ignore"):   # all ignored: nan, as torch
            return xp.asarray(per_sample.sum(dtype=acc) / total, dtype=logp.dtype)
    if reduction == "sum":
        return xp.asarray(per_sample.sum(dtype=acc), dtype=logp.dtype)
    return per_sample


def _picked_gradient(ctx, g: Tensor) -> Tensor:
    """d loss / d logp as a Tensor: ``coef`` times the incoming gradient at [n, t_n], 0
    elsewhere (a constant array times g, so differentiable again)."""
    xp = backend.array_module(ctx.coef)
    dense = xp.zeros(ctx.shape, dtype=ctx.coef.dtype)
    dense[ctx.picks] = ctx.coef
    if ctx.reduction == "none":
        g = g.unsqueeze(ctx.cdim)
    return Tensor._make(dense) * g


class NLLLoss(ArrayFunction):
    """The negative log-likelihood of picked log-probabilities, as one op:

        l_n = -w_n logp[n, t_n]            (t_n: the target class, w_n: its weight, 0 if ignored)
        "none": l      "sum": sum_n l_n      "mean": sum_n l_n / sum_n w_n

    Written with gather, multiply and two sums it was seven graph nodes, a sizeable part of a
    small model's training step (92 us forward, 232 us with backward, for 32 x 10 logits).
    The gradient is -w_n / (sum_n w_n, for "mean") times the incoming gradient at [n, t_n],
    zero elsewhere: a constant array times g, so it is differentiable again (the second
    derivative with respect to logp is zero).

    When every target is ignored, "mean" is 0 / 0 = nan, and the gradient is 0 (the ignored
    samples get exactly 0, not -0 / 0), as in PyTorch. A target that is not ignored but has
    class weight 0, with a total weight of 0, still gets -0 / 0 = nan there, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, logp, index, w, valid, cdim, reduction):
        return _picked_loss(ctx, logp, index, w, valid, cdim, reduction)

    @staticmethod
    def backward(ctx, g):
        return _picked_gradient(ctx, g), None, None, None, None, None


class CrossEntropyLoss(ArrayFunction):
    """cross_entropy with class-index targets and no label smoothing, as one op:
    NLLLoss(log_softmax(x)) (the formulas in NLLLoss), from the logits x.

    Two nodes, LogSoftmax and NLLLoss, cost a training step of a small classifier more than
    their arithmetic (for 128 x 10 logits, ~370 us forward and backward together against
    PyTorch's ~50 us): each builds a node, and the backward makes a dense gradient, wraps it in
    a Tensor, multiplies it by g, then runs the log-softmax backward kernel. Here the forward is
    the log-softmax kernel and a pick, and the backward, with G = d loss / d logp (coef_n g_n
    at [n, t_n], 0 elsewhere), is

        dx = G - softmax(x) * sum_c G = G - exp(logp) * (coef_n g_n)

    on arrays (``backward_arrays``). That is not differentiable in x (softmax(x) enters as a
    constant), so when the backward itself is recorded (``create_graph=True``) the engine runs
    ``backward`` instead: the two ops' backwards on Tensors, from log_softmax(x) recomputed.
    """

    @staticmethod
    def forward(ctx, x, index, w, valid, cdim, reduction):
        logp = kernel_calls.log_softmax(x, cdim)
        ctx.logp = logp
        ctx.save_for_backward(x)
        return _picked_loss(ctx, logp, index, w, valid, cdim, reduction)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        logp = LogSoftmax.apply(x, ctx.cdim)
        gx = LogSoftmaxBackward.apply(_picked_gradient(ctx, g), logp, ctx.cdim)
        return gx, None, None, None, None, None

    @staticmethod
    def backward_arrays(ctx, g):
        xp = backend.array_module(ctx.logp)
        scale = ctx.coef * g                           # coef_n g_n, one per sample
        gx = xp.exp(ctx.logp)
        on_class_dim = scale.reshape(scale.shape[:ctx.cdim] + (1,) + scale.shape[ctx.cdim:])
        gx *= 0 - on_class_dim                         # not -scale: 0 there must give +0
        gx[ctx.picks] += scale                         # each sample's entry once: no repeats
        return gx, None, None, None, None, None


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class-index targets, given log-probabilities ``input``
    (N, C) or (N, C, d1, ...) (usually the output of ``log_softmax(logits, dim=1)``)."""
    reduction = _reduction("nll_loss", size_average, reduce, reduction)
    target = _as_tensor_like("nll_loss", target, input)
    return _nll("nll_loss", input, target, weight, ignore_index, reduction)


def _class_weight_view(weight: Tensor, ndim: int, cdim: int) -> Tensor:
    """(C,) -> a shape that broadcasts over the class dim of an ndim-D input."""
    shape = [1] * ndim
    shape[cdim] = -1
    return reshape(weight, tuple(shape))


def _smoothing_term(logp, t, valid, cdim, weight, reduction):
    """The label-smoothing part of cross_entropy for class-index targets (PyTorch's
    definition): -sum_c weight[c] * logp[c] per sample, 0 at ignored samples; "mean" divides
    by the same denominator as the NLL part (total weight of the non-ignored targets).

    Ignored samples are set to 0 with ``where``, not multiplied by 0: when every target is
    ignored, "mean" divides by 0 and its gradient 1 / 0 = inf must still give them exactly 0.
    """
    weighted = logp if weight is None else logp * _class_weight_view(weight, logp.ndim, cdim)
    smooth = where(Tensor._make(valid), -weighted.sum(cdim), 0.0)
    if reduction != "mean":
        return _reduce(smooth, reduction)
    if weight is None:
        denom = float(valid.sum())
    else:
        denom = float(weight.array[t[valid]].sum())
    return smooth.sum() / denom


def _soft_target_ce(logp, target, weight, cdim, reduction, label_smoothing):
    """Cross-entropy against class probabilities: -sum_c weight[c] target[c] logp[c].

    "mean" divides by the number of samples (N * d1 * ...), whatever the weights.
    """
    c = logp.shape[cdim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / c
    prod = logp * target
    if weight is not None:
        prod = prod * _class_weight_view(weight, logp.ndim, cdim)
    per_sample = -prod.sum(cdim)
    return _reduce(per_sample, reduction)


# Logit dtypes that take CrossEntropyLoss (float16 keeps the composite path, whose kernels
# compute in float32).
_FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits ``input`` and ``target``: log_softmax over the class dim
    (dim 1, or 0 for a 1-D input), then the negative log-likelihood.

    ``target`` is either class indices (integers, shape (N, d1, ...)), or class probabilities
    (floats, the input's shape). ``ignore_index`` drops targets equal to it (class indices
    only); ``label_smoothing`` = eps mixes the target with the uniform distribution:
    (1 - eps) * target + eps / C.
    """
    reduction = _reduction("cross_entropy", size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    target = _as_tensor_like("cross_entropy", target, input)
    cdim = _class_dim("cross_entropy", input)
    c = input.shape[cdim]
    _check_weight("cross_entropy", weight, c)
    if label_smoothing == 0.0 and target.dtype.kind in "iu" and input.dtype in _FUSED_DTYPES:
        operands = _nll_operands("cross_entropy", input, target, weight, ignore_index)
        return CrossEntropyLoss.apply(input, *operands, reduction)
    logp = log_softmax(input, cdim)

    if target.dtype.kind == "f" and target.shape == input.shape:
        dtype = backend.promote_types(input.dtype, target.dtype)   # as PyTorch computes it
        logp, target = logp.to(dtype), target.to(dtype)
        return _soft_target_ce(logp, target, weight, cdim, reduction, label_smoothing)

    nll = _nll("cross_entropy", logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return nll
    t = target.array
    valid = t != ignore_index
    smooth = _smoothing_term(logp, t, valid, cdim, weight, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / c)


# ---------------------------------------------------------------------------------------------
# Binary classification
# ---------------------------------------------------------------------------------------------

_LOG_FLOOR = -100.0  # PyTorch clamps log(x) at -100 in binary_cross_entropy


class BinaryCrossEntropy(ArrayFunction):
    """l = -(t log x + (1 - t) log(1 - x)),  x in [0, 1] (a probability), logs clamped >= -100.

    dl/dx = (x - t) / (x (1 - x))   (denominator clamped >= 1e-12, as in PyTorch)
    dl/dt = log(1 - x) - log(x)
    """

    @staticmethod
    def forward(ctx, x, t):
        xp = backend.array_module(x)
        with np.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), _LOG_FLOOR)
            log_1mx = xp.maximum(xp.log(1 - x), _LOG_FLOOR)
        ctx.save_for_backward(x, t)
        return (-(t * log_x + (1 - t) * log_1mx)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad
        gx = g * (x - t) / clamp(x * (1 - x), min=1e-12) if need_x else None
        gt = None
        if need_t:
            gt = g * (_clamped_log(1 - x) - _clamped_log(x))
        return gx, gt


def _clamped_log(x: Tensor) -> Tensor:
    # log(max(x, e^-100)) equals max(log x, -100) and has a finite gradient at x = 0
    return log(clamp(x, min=math.exp(_LOG_FLOOR)))


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """BCE between probabilities ``input`` (in [0, 1], e.g. after sigmoid) and ``target``.

    Prefer ``binary_cross_entropy_with_logits`` on the logits: it is stabler than sigmoid
    followed by this.
    """
    reduction = _reduction("binary_cross_entropy", size_average, reduce, reduction)
    target = _float_target("binary_cross_entropy", target, input)
    _require_same_shape("binary_cross_entropy", input, target)
    x = input.array
    if x.size and (bool((x < 0).any()) or bool((x > 1).any())):
        raise RuntimeError(
            f"binary_cross_entropy: all elements of input should be between 0 and 1 (found "
            f"values from {float(x.min()):.4g} to {float(x.max()):.4g}). Apply sigmoid first, "
            "or use binary_cross_entropy_with_logits on the raw scores.")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on logits x: l = -(p * t * log sigmoid(x) + (1 - t) * log(1 - sigmoid(x))).

    With log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -x - softplus(-x):

        l = (1 - t) * x + (1 + (p - 1) t) * softplus(-x)

    and softplus(-x) = log(1 + exp(-x)) is computed without overflow for any x.
    ``pos_weight`` p (one per class, broadcast over the last dim) weights the positives.
    """
    reduction = _reduction("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    target = _float_target("binary_cross_entropy_with_logits", target, input)
    _require_same_shape("binary_cross_entropy_with_logits", input, target)
    softplus_neg = Softplus.apply(-input, 1.0, math.inf)  # log(1 + exp(-x)), no threshold
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Distributions: KL divergence
# ---------------------------------------------------------------------------------------------

def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || model) pointwise, with ``input`` the model's *log*-probabilities:

        l = target * (log(target) - input)       (0 where target == 0, as xlogy does)
        l = exp(target) * (target - input)       if log_target (target given as log-probs)

    ``reduction="batchmean"`` (sum / batch size) gives the true KL divergence per sample;
    "mean" divides by the number of elements, which is not the KL (PyTorch warns, so do we).
    Input and target broadcast against each other and compute in their promoted float dtype;
    a negative probability target gives nan, as in PyTorch (log of a negative number).
    """
    reduction = _reduction("kl_div", size_average, reduce, reduction,
                           _REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn("kl_div: reduction: 'mean' divides the total loss by both the batch size "
                      "and the support size. 'batchmean' divides only by the batch size, and "
                      "aligns with the KL div math definition.", stacklevel=2)
    input, target = _kl_div_operands(input, target, log_target)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        zero = target == 0
        # xlogy(target, target): 0 at target == 0 (the limit of t log t), with a log that is
        # never taken of 0, so that no inf * 0 = nan reaches the value or the gradient
        t_log_t = where(zero, 0.0, target * log(where(zero, 1.0, target)))
        loss = t_log_t - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def _kl_div_operands(input, target, log_target: bool) -> tuple:  # noqa: A002
    """kl_div's (input, target): Tensors of floating dtypes whose shapes broadcast, both in
    their promoted dtype (PyTorch's type promotion: float32 with float64 gives float64)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"kl_div: input must be a Tensor of log-probabilities, got "
                        f"{type(input).__name__}")
    target = _as_tensor_like("kl_div", target, input)
    what = "log-probabilities" if log_target else "probabilities"
    for name, t in (("input", input), ("target", target)):
        if t.dtype.kind != "f":
            raise RuntimeError(f"kl_div: integral inputs are not supported: {name} has dtype "
                               f"{t.dtype} (input holds log-probabilities, target {what}; "
                               f"both must be floating point)")
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    except ValueError:
        raise RuntimeError(f"kl_div: input of shape {tuple(input.shape)} and target of shape "
                           f"{tuple(target.shape)} cannot be broadcast together (expected the "
                           f"same shape, e.g. (batch, classes) for both)") from None
    dtype = backend.result_type(input.dtype, input.ndim, target.dtype, target.ndim)
    return (input if input.dtype == dtype else input.to(dtype),
            target if target.dtype == dtype else target.to(dtype))
