"""More losses, with PyTorch's signatures, formulas and reductions: the ranking and embedding
losses (margin ranking, hinge embedding, cosine embedding, triplet margin), the soft-margin
classification losses (soft margin, multilabel soft margin, multi margin) and two likelihood
losses (Poisson and Gaussian negative log-likelihood).

Each is a composition of existing ops (so gradients, and second derivatives, come for free);
``reduction`` is "mean" (default), "sum" or "none", and the deprecated ``size_average`` /
``reduce`` flags are translated as in ``loss.py``.
"""

from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .activation import Softplus, logsigmoid
from .distance import pairwise_distance
from .elementwise import where
from .embedding import one_hot
from .loss import _check_float_input, _float_target, _reduce, _reduction


def _same_ndim(op: str, **tensors) -> None:
    dims = {name: t.ndim for name, t in tensors.items()}
    if len(set(dims.values())) > 1:
        shapes = ", ".join(f"{name} {tuple(t.shape)}" for name, t in tensors.items())
        raise RuntimeError(f"{op}: all input tensors should have the same number of "
                           f"dimensions, got {shapes}")


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -y * (x1 - x2) + margin): x1 should rank above x2 where y = 1, below where
    y = -1, by at least ``margin``."""
    op = "margin_ranking_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _same_ndim(op, input1=input1, input2=input2, target=target)
    target = _float_target(op, target, input1)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,  # noqa: A002
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (x is usually a distance); PyTorch's
    definition adds both terms, so a target other than +-1 gets both."""
    op = "hinge_embedding_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_float_input(op, input)
    target = _float_target(op, target, input)
    zeros = input * 0
    margin_part = where(target != 1, (margin - input).clamp(min=0), zeros)
    self_part = where(target != -1, input, zeros)
    return _reduce(margin_part + self_part, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor,
                          margin: float = 0, size_average=None, reduce=None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1; cosines along
    the last dim of (N, D) inputs with target (N,), or of (D,) inputs with a 0-d target."""
    op = "cosine_embedding_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if target.ndim not in (0, 1) or input1.ndim != target.ndim + 1 or \
            input2.ndim != target.ndim + 1:
        raise RuntimeError(f"{op}: expected inputs of shape (N, D) with a target of shape (N,), "
                           f"or inputs (D,) with a 0-d target, got input1 "
                           f"{tuple(input1.shape)}, input2 {tuple(input2.shape)}, target "
                           f"{tuple(target.shape)}")
    eps = 1e-12                       # PyTorch's EPSILON, inside both squared norms
    dim = input1.ndim - 1
    dot = (input1 * input2).sum(dim)
    norms = ((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)
    cos = dot / norms.sqrt()
    zeros = cos * 0
    positive = where(target == 1, 1 - cos, zeros)
    negative = where(target == -1, (cos - margin).clamp(min=0), zeros)
    return _reduce(positive + negative, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm distance (``pairwise_distance``);
    ``swap`` uses min(d(a, n), d(p, n)) as the negative distance (Balntas et al., 2016)."""
    op = "triplet_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"{op}: the anchor, positive, and negative tensors are expected to "
                           f"have the same number of dimensions, but got: anchor "
                           f"{anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None,  # noqa: A002
                     reduce=None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y * x)): logistic loss for targets y = +-1."""
    op = "soft_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_float_input(op, input)
    target = _float_target(op, target, input)
    return _reduce(Softplus.apply(-target * input, 1.0, math.inf), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor,  # noqa: A002
                                weight: Tensor | None = None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy with logits per class, averaged over the C classes (last dim) of
    each sample: -(y log sigmoid(x) + (1 - y) log sigmoid(-x)), times ``weight`` per class."""
    op = "multilabel_soft_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_float_input(op, input)
    target = _float_target(op, target, input)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    return _reduce(loss.sum(class_dim) / input.shape[class_dim], reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1,  # noqa: A002
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: for each sample, sum over the classes j other than the target
    y of max(0, margin - x[y] + x[j])^p, divided by the number of classes C (and times
    ``weight[y]``). Input (N, C) or (C,), target (N,) or 0-d class indices."""
    op = "multi_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_float_input(op, input)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got p={p}")
    unbatched = input.ndim <= 1                    # (C,), or 0-d: one sample of one class
    x = input.reshape(1, -1) if unbatched else input
    y = target.reshape(-1) if isinstance(target, Tensor) else Tensor(target).reshape(-1)
    if x.ndim != 2 or y.shape[0] != x.shape[0]:
        raise RuntimeError(f"{op}: expected input (N, C) with target (N,), or input (C,) with "
                           f"a 0-d target, got input {tuple(input.shape)} and target "
                           f"{tuple(target.shape)}")
    n_classes = x.shape[1]
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise IndexError(f"{op}: target values must be in [0, {n_classes - 1}] for an input "
                         f"with {n_classes} classes, got {y.array.tolist()}")
    y = y.long()
    x_target = x.gather(1, y.unsqueeze(1))
    hinge = (margin - x_target + x).clamp(min=0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight[y].unsqueeze(1)
    others = 1 - one_hot(y, n_classes).to(x.dtype)          # every class but the target
    loss = (hinge * others).sum(1) / n_classes
    return _reduce(loss.reshape(()) if unbatched else loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,  # noqa: A002
                     full: bool = False, size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` counts under Poisson(rate): with ``log_input``
    the input is log(rate) and the loss exp(x) - y x, otherwise x - y log(x + eps). ``full``
    adds Stirling's approximation of log(y!) (for y > 1)."""
    op = "poisson_nll_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_float_input(op, input)
    target = _float_target(op, target, input)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        safe = where(target > 1, target, target * 0 + 2)          # no log(0) where unused
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(target > 1, stirling, stirling * 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,  # noqa: A002
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under N(input, var):
    0.5 * (log(var) + (input - target)^2 / var) (+ 0.5 log(2 pi) with ``full``).

    ``var`` has the input's shape (one variance per prediction), or one dimension fewer or
    one dimension of size 1 (shared), or is a float. It is clamped to at least ``eps`` for
    stability, without blocking its gradient (PyTorch clamps under no_grad)."""
    op = "gaussian_nll_loss"
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries (var={var})")
        var = input.detach() * 0 + float(var)
    elif bool((var < 0).any()):
        raise ValueError(f"{op}: var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"{op}: var is of incorrect size: var {tuple(var.shape)} for input "
                             f"{tuple(input.shape)}; expected the input's shape, that shape "
                             "without its last dimension, or one dimension of size 1")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{op}: {reduction} is not valid")
    with no_grad():
        lift = var.clamp(min=eps) - var          # 0 where var >= eps
    var = var + lift
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
