"""The chapter exercises (notebooks/exercises/): every check is tested three ways.

(a) it passes the reference solution (``solutions_chNN.py``);
(b) it fails, with a message that says what is wrong, on plausible wrong answers written here
    (a flipped sign, a missing term, a wrong shape...): at least one per exercise;
(c) on the untouched stub from the notebook it prints "not done yet" instead of raising.

The exercises are discovered from the registry the ``checks_chNN`` modules fill, and each
notebook's exercise section is cross-checked against it: the same exercises, numbers and
titles, one stub per exercise with nothing but a docstring and the NotImplementedError in it,
and one check cell calling the right check.
"""

from __future__ import annotations

import ast
import importlib
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.data import Dataset

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))          # where the chapters import `exercises` from

from exercises import checking  # noqa: E402
from exercises.checking import ExerciseFailed, assert_close, attempt  # noqa: E402

EXERCISES = checking.loaded_checks()
CHAPTERS = sorted({e.chapter for e in EXERCISES})


def _id(ex):
    return f"ch{ex.chapter:02d}-ex{ex.number}-{ex.answer}"


def _solution(ex):
    return getattr(importlib.import_module(f"exercises.solutions_ch{ex.chapter:02d}"), ex.answer)


def _sol(chapter, name):
    return getattr(importlib.import_module(f"exercises.solutions_ch{chapter:02d}"), name)


# -- plausible wrong answers, and a word or two their failure message must contain ------------
def _edges(node):
    return [e[0] for e in node.next_edges if e is not None and e[1] >= 0]


def topo_preorder(root):
    """Lists a node before visiting its inputs: wrong where one node feeds several others."""
    out, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            out.append(node)
            for child in _edges(node):
                visit(child)

    visit(root)
    return out


def topo_not_reversed(root):
    return _sol(1, "topological_order")(root)[::-1]


def topo_no_visited_set(root):
    out = []

    def visit(node):
        for child in _edges(node):
            visit(child)
        out.append(node)

    visit(root)
    return out[::-1]


def topo_with_leaves(root):
    order = _sol(1, "topological_order")(root)
    return order + [e[0] for n in order for e in n.next_edges if e is not None and e[1] < 0]


class SiLUBackwardSignFlipped(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x.sigmoid()

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return grad_y * s * (1 - x * (1 - s))


class SiLUForwardIsSigmoid(SiLUBackwardSignFlipped):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sigmoid()


class SiLUForwardInNumPy(SiLUBackwardSignFlipped):
    """Forward computed on the array and returned as one: a Function's forward returns
    Tensors."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xn = x.detach().numpy()
        return xn / (1 + np.exp(-xn))


class SiLUBackwardInNumPy(SiLUBackwardSignFlipped):
    """Right first derivative, but computed on NumPy values: not differentiable again."""

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        xn = x.detach().numpy()
        s = 1 / (1 + np.exp(-xn))
        return grad_y * mg.tensor(s * (1 + xn * (1 - s)))


def newton_gradient_descent(f, x0, steps=20):
    x = mg.tensor(float(x0), dtype=mg.float64, requires_grad=True)
    for _ in range(steps):
        (d1,) = mg.autograd.grad(f(x), x)
        with mg.no_grad():
            x -= d1
    return x.item()


def newton_never_updates(f, x0, steps=20):
    x = mg.tensor(float(x0), dtype=mg.float64, requires_grad=True)
    for _ in range(steps):
        (d1,) = mg.autograd.grad(f(x), x, create_graph=True)
        (d2,) = mg.autograd.grad(d1, x)
        x_new = x - d1 / d2                      # computed, then forgotten
    del x_new
    return x.item()


def newton_returns_array(f, x0, steps=20):
    return np.array([_sol(1, "newton")(f, x0, steps)])


def ridge_penalises_bias(Xt, y, lam):
    return np.linalg.solve(Xt.T @ Xt + len(Xt) * lam * np.eye(Xt.shape[1]), Xt.T @ y)


def ridge_without_n(Xt, y, lam):
    D = np.eye(Xt.shape[1])
    D[-1, -1] = 0
    return np.linalg.solve(Xt.T @ Xt + lam * D, Xt.T @ y)


def ridge_drops_bias(Xt, y, lam):
    return _sol(2, "ridge_closed_form")(Xt, y, lam)[:-1]


def bce_grad_sum(X, y, w, b):
    r = 1 / (1 + np.exp(-(X @ w + b))) - y
    return X.T @ r, r.sum()


def bce_grad_sign(X, y, w, b):
    gw, gb = _sol(2, "bce_grad")(X, y, w, b)
    return -gw, -gb


def bce_grad_only_w(X, y, w, b):
    return _sol(2, "bce_grad")(X, y, w, b)[0]


def max_lr_without_ones(X):
    return 2.0 / np.linalg.eigvalsh(2 / len(X) * X.T @ X)[-1]


def max_lr_one_over_lambda(X):
    return _sol(2, "max_stable_lr")(X) / 2


def accuracy_tensor(logits, targets):
    return (logits.argmax(dim=1) == targets).float().mean()


def accuracy_count(logits, targets):
    return (logits.argmax(dim=1) == targets).float().sum().item()


def cross_entropy_sum(logits, targets):
    picked = logits.gather(1, targets.unsqueeze(1)).squeeze(1)
    return (logits.logsumexp(dim=1) - picked).sum()


def cross_entropy_no_graph(logits, targets):
    return mg.tensor(_sol(3, "cross_entropy")(logits, targets).item())


def cross_entropy_dim0(logits, targets):
    picked = logits.gather(1, targets.unsqueeze(1)).squeeze(1)
    return (logits.logsumexp(dim=0).mean() - picked).mean()


def confusion_transposed(y_true, y_pred, n):
    return _sol(3, "confusion_matrix")(y_pred, y_true, n)


def confusion_no_minlength(y_true, y_pred, n):
    return np.bincount(n * y_true + y_pred).reshape(n, n)


class NoisyOnce(Dataset):
    """Draws the noise once, in __init__: every epoch sees the same 'augmented' images."""

    def __init__(self, X, y, std=0.3, seed=0):
        rng = np.random.default_rng(seed)
        self.X = (X + rng.normal(0, std, X.shape)).astype(np.float32)
        self.y = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return mg.tensor(self.X[i]), int(self.y[i])


def _noisy_with(std_of):
    sol = _sol(3, "NoisyDigits")

    class Noisy(sol):
        def __getitem__(self, i):
            noise = self.rng.normal(0, std_of(self.std), self.X[i].shape).astype(np.float32)
            return mg.tensor(self.X[i] + noise), int(self.y[i])

    return Noisy


class NoisyWrongLength(_sol(3, "NoisyDigits")):
    def __len__(self):
        return self.X.shape[1]


def momentum_with_dampening(params, grads, bufs, lr, momentum):
    for i, (p, g) in enumerate(zip(params, grads)):
        bufs[i] = g.copy() if bufs[i] is None else momentum * bufs[i] + (1 - momentum) * g
        p -= lr * bufs[i]


def momentum_not_in_place(params, grads, bufs, lr, momentum):
    for i, (p, g) in enumerate(zip(params, grads)):
        bufs[i] = g.copy() if bufs[i] is None else momentum * bufs[i] + g
        p = p - lr * bufs[i]                     # a new array: the caller's is unchanged


def adam_no_bias_correction(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    state["s"] = b2 * state.get("s", 0.0) + (1 - b2) * g * g
    p -= lr * state["m"] / (np.sqrt(state["s"]) + eps)


def adam_forgets_state(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8):
    _sol(4, "adam_step")(p, g, {}, lr, betas, eps)


def cosine_without_eta_min(epoch, lr0, T_max, eta_min=0.0):
    return 0.5 * lr0 * (1 + np.cos(np.pi * epoch / T_max))


def conv_out_no_dilation(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - k) // stride + 1


def conv_out_float(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (k - 1) - 1) / stride + 1


def avg_pool_ignores_stride(x, k, stride):
    return _sol(5, "avg_pool2d_naive")(x, k, k)


def avg_pool_sum(x, k, stride):
    return _sol(5, "avg_pool2d_naive")(x, k, stride) * k * k


def conv2d_through_numpy(x, w, padding=0):
    return mg.tensor(F.conv2d(x.detach(), w.detach(), padding=padding).numpy())


def conv2d_wrong_patch_order(x, w, padding=0):
    N, C, H, W = x.shape
    C_out, _, kh, kw = w.shape
    xp = F.pad(x, (padding,) * 4)
    OH, OW = H + 2 * padding - kh + 1, W + 2 * padding - kw + 1
    patches = [xp[:, :, u:u + OH, v:v + OW] for u in range(kh) for v in range(kw)]
    cols = mg.stack(patches, dim=1).reshape(N, C * kh * kw, OH * OW)    # offset-major: wrong
    return (w.reshape(C_out, -1) @ cols).reshape(N, C_out, OH, OW)


def lenet_params_bn_4c(batch_norm):
    return _sol(5, "lenet_params")(False) + (4 * (16 + 32) if batch_norm else 0)


def lenet_params_no_biases(batch_norm):
    return _sol(5, "lenet_params")(batch_norm) - (16 + 32 + 64 + 10)


def lstm_step_keras_gate_order(x, h, c, W_ih, W_hh, b_ih, b_hh):
    def sig(a):
        return 1 / (1 + np.exp(-a))

    i, f, o, g = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=-1)
    c = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def lstm_step_returns_h(x, h, c, *weights):
    return _sol(6, "lstm_step")(x, h, c, *weights)[0]


def clip_each_array(grads, max_norm):
    total = np.sqrt(sum((g ** 2).sum() for g in grads))
    for g in grads:
        norm = np.sqrt((g ** 2).sum())
        if norm > max_norm:
            g *= max_norm / (norm + 1e-6)
    return total


def clip_always(grads, max_norm):
    total = np.sqrt(sum((g ** 2).sum() for g in grads))
    for g in grads:
        g *= max_norm / (total + 1e-6)
    return total


def clip_returns_norm_after(grads, max_norm):
    _sol(6, "clip_by_total_norm")(grads, max_norm)
    return np.sqrt(sum((g ** 2).sum() for g in grads))


def softmax_overflows(z, tau):
    e = np.exp(np.asarray(z, dtype=np.float64) / tau)
    return e / e.sum()


def softmax_times_tau(z, tau):
    z = np.asarray(z, dtype=np.float64) * tau
    e = np.exp(z - z.max())
    return e / e.sum()


def mask_upper(L):
    i = mg.arange(L)
    return i[:, None] <= i[None, :]


def mask_float(L):
    return mg.tensor(np.tril(np.ones((L, L))))


def mask_strict(L):
    i = mg.arange(L)
    return i[:, None] > i[None, :]


def shift_transposed(k, dim):
    return _sol(7, "shift_matrix")(k, dim).T


def shift_identity(k, dim):
    return np.eye(dim)


def encoder_params_no_norms(E, F_):
    return _sol(7, "encoder_layer_params")(E, F_) - 4 * E


def soft_grad_without_t_squared(s, t, T):
    return _sol(9, "soft_term_grad")(s, t, T) / T**2


def soft_grad_p_minus_q(s, t, T):
    return -_sol(9, "soft_term_grad")(s, t, T)


def soft_grad_summed(s, t, T):
    return _sol(9, "soft_term_grad")(s, t, T) * len(s)


def logit_matching_uncentred(s, t):
    N, C = s.shape
    return (s - t) / (C * N)


def logit_matching_without_c(s, t):
    return _sol(9, "logit_matching_grad")(s, t) * s.shape[1]


def ensemble_of_mean_logits(teacher_logits, T):
    return F.log_softmax(mg.stack(teacher_logits).mean(dim=0) / T, dim=1)


def ensemble_log_of_mean_probs(teacher_logits, T):
    return mg.stack([F.softmax(z / T, dim=1) for z in teacher_logits]).mean(dim=0).log()


def ensemble_probs_not_logs(teacher_logits, T):
    return _sol(9, "ensemble_log_targets")(teacher_logits, T).exp()


def ensemble_as_numpy(teacher_logits, T):
    return _sol(9, "ensemble_log_targets")(teacher_logits, T).numpy()


def smoothing_over_other_classes(labels, num_classes, eps):
    one_hot = F.one_hot(labels, num_classes).float()
    return (1 - eps) * one_hot + eps / (num_classes - 1) * (1 - one_hot)


def smoothing_without_one_minus_eps(labels, num_classes, eps):
    return F.one_hot(labels, num_classes).float() + eps / num_classes

def dice_grad_sign_flipped(p, t, eps=1.0):
    return -_sol(10, "dice_grad")(p, t, eps)          # the gradient of D, not of 1 - D


def dice_grad_total_held_fixed(p, t, eps=1.0):
    p, t = np.asarray(p, dtype=np.float64), np.asarray(t, dtype=np.float64)
    return -2 * t / (p.sum() + t.sum() + eps)          # forgets that S depends on p too


def interp_no_clamp(n_in, n_out, align_corners):
    if align_corners:
        return _sol(10, "interp_matrix")(n_in, n_out, True)
    src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5     # negative for the first outputs
    left = np.clip(np.floor(src).astype(int), 0, n_in - 1)
    right = np.minimum(left + 1, n_in - 1)
    M = np.zeros((n_out, n_in))
    np.add.at(M, (np.arange(n_out), left), 1 - (src - left))
    np.add.at(M, (np.arange(n_out), right), src - left)
    return M


def interp_corners_swapped(n_in, n_out, align_corners):
    return _sol(10, "interp_matrix")(n_in, n_out, not align_corners)


def interp_transposed(n_in, n_out, align_corners):
    return _sol(10, "interp_matrix")(n_in, n_out, align_corners).T


def conv_transpose_kernel_flipped(x, w, stride):
    return _sol(10, "conv_transpose2d_naive")(x, w[:, :, ::-1, ::-1], stride)


def conv_transpose_stride_ignored(x, w, stride):
    return _sol(10, "conv_transpose2d_naive")(x, w, 1)


def receptive_field_ignores_stride(layers):
    return 1 + sum(k - 1 for k, _ in layers)


def receptive_field_float(layers):
    return float(_sol(10, "receptive_field")(layers))


def iou_no_clamp(box_a, box_b):
    (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = box_a, box_b
    inter = (min(ax2, bx2) - max(ax1, bx1)) * (min(ay2, by2) - max(ay1, by1))
    return inter / ((ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter)


def iou_union_is_sum(box_a, box_b):
    iou = _sol(11, "iou")(box_a, box_b)
    return iou / (1 + iou)            # inter / (|A| + |B|): the intersection counted twice


def nms_index_order(boxes, scores, iou_threshold):
    return sorted(_sol(11, "nms_by_hand")(boxes, scores, iou_threshold))


def nms_dropped_boxes_suppress(boxes, scores, iou_threshold):
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    iou = _sol(11, "iou")
    return [i for n, i in enumerate(order)
            if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in order[:n])]


def nms_at_threshold_suppresses(boxes, scores, iou_threshold):
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    iou, keep = _sol(11, "iou"), []
    for i in order:
        if all(iou(boxes[i], boxes[k]) < iou_threshold for k in keep):
            keep.append(i)
    return keep


def nms_only_previous(boxes, scores, iou_threshold):
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    iou, keep = _sol(11, "iou"), []
    for i in order:
        if not keep or iou(boxes[i], boxes[keep[-1]]) <= iou_threshold:
            keep.append(i)
    return keep


def ap_11_point_raw_precision(precision, recall):
    # the precision at the first point that reaches each level, not the best one after it
    return np.mean([precision[np.argmax(recall >= r - 1e-12)] if (recall >= r - 1e-12).any()
                    else 0.0 for r in np.linspace(0, 1, 11)])


def ap_11_point_ten_levels(precision, recall):
    return _sol(11, "ap_11_point")(precision, recall) * 11 / 10


def decode_cell_swapped(t, row, col, stride, prior):
    return _sol(11, "decode_cell")(t, col, row, stride, prior)


def decode_cell_no_sigmoid(t, row, col, stride, prior):
    tx, ty, tw, th = t
    cx, cy, w, h = (col + tx) * stride, (row + ty) * stride, prior * np.exp(tw), prior * np.exp(th)
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def decode_cell_cxcywh(t, row, col, stride, prior):
    x1, y1, x2, y2 = _sol(11, "decode_cell")(t, row, col, stride, prior)
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])


def wordpiece_without_hashes(word, vocab):
    return _sol(8, "wordpiece")(word, vocab | {v[2:] for v in vocab if v.startswith("##")}
                                | {"##" + v for v in vocab})


def wordpiece_shortest_first(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        for end in range(start + 1, len(word) + 1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                pieces.append(piece)
                start = end
                break
        else:
            return ["[UNK]"]
    return pieces


def wordpiece_unknown_rest(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                pieces.append(piece)
                start = end
                break
        else:
            return pieces + ["[UNK]"]
    return pieces


def wordpiece_backtracking(word, vocab, start=0):
    """Any split into known pieces (longest first, trying shorter ones when stuck): not greedy."""
    if start == len(word):
        return []
    for end in range(len(word), start, -1):
        piece = word[start:end] if start == 0 else "##" + word[start:end]
        if piece in vocab:
            rest = wordpiece_backtracking(word, vocab, end)
            if rest != ["[UNK]"]:
                return [piece] + rest
    return ["[UNK]"]


def mlm_loss_over_all_positions(logits, labels):
    valid = labels != -100
    safe = mg.where(valid, labels, mg.zeros_like(labels))
    picked = F.log_softmax(logits, dim=-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return -(picked * valid.float()).mean()


def mlm_loss_sum(logits, labels):
    return _sol(8, "mlm_loss")(logits, labels) * (labels != -100).sum()


def mlm_loss_through_numpy(logits, labels):
    return mg.tensor(_sol(8, "mlm_loss")(logits.detach(), labels).item())


def mlm_loss_gathers_minus_100(logits, labels):
    picked = F.log_softmax(logits, dim=-1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    return -picked[labels != -100].mean()


def groups_one_lr(model, body_lr, head_lr, weight_decay):
    return [{"params": [p for p in model.parameters() if p.requires_grad], "lr": body_lr,
             "weight_decay": weight_decay}]


def groups_decay_everything(model, body_lr, head_lr, weight_decay):
    groups = _sol(8, "fine_tuning_groups")(model, body_lr, head_lr, weight_decay)
    return [{**g, "weight_decay": weight_decay} for g in groups]


def groups_with_frozen(model, body_lr, head_lr, weight_decay):
    groups = _sol(8, "fine_tuning_groups")(model, body_lr, head_lr, weight_decay)
    frozen = [p for p in model.parameters() if not p.requires_grad]
    return groups + [{"params": frozen, "lr": body_lr, "weight_decay": weight_decay}]


def groups_matrices_only(model, body_lr, head_lr, weight_decay):
    return [{"params": [p for n, p in model.named_parameters() if p.ndim >= 2 and p.requires_grad
                        and n.startswith("head.") == head], "lr": lr,
             "weight_decay": weight_decay} for head, lr in ((False, body_lr), (True, head_lr))]



def kl_without_half(mu, logvar):
    return (mu ** 2 + logvar.exp() - 1 - logvar).sum(dim=1)


def kl_without_log_term(mu, logvar):
    return 0.5 * (mu ** 2 + logvar.exp() - 1).sum(dim=1)


def kl_summed_over_batch(mu, logvar):
    return _sol(12, "gaussian_kl")(mu, logvar).sum()


def kl_through_numpy(mu, logvar):
    return mg.tensor(_sol(12, "gaussian_kl")(mu, logvar).detach().numpy())


def reparameterize_std_is_variance(mu, logvar, eps):
    return mu + logvar.exp() * eps


def reparameterize_detached(mu, logvar, eps):
    return mg.tensor(_sol(12, "reparameterize")(mu, logvar, eps).detach().numpy())


def reparameterize_logvar_as_sigma(mu, logvar, eps):
    return mu + logvar * eps


def generator_loss_minimax(fake_logits):
    return -F.binary_cross_entropy_with_logits(fake_logits, mg.zeros_like(fake_logits))


def generator_loss_log_of_sigmoid(fake_logits):
    return -fake_logits.sigmoid().log().mean()


def generator_loss_summed(fake_logits):
    return F.binary_cross_entropy_with_logits(fake_logits, mg.ones_like(fake_logits),
                                              reduction="sum")


def tiled_intensity_untiled(M, K, N, T, itemsize):
    """Every matrix moved once: the tile size plays no part."""
    return 2 * M * N * K / (itemsize * (M * K + K * N + M * N))


def tiled_intensity_one_op_per_term(M, K, N, T, itemsize):
    return _sol(13, "tiled_gemm_intensity")(M, K, N, T, itemsize) / 2


def tiled_intensity_in_elements(M, K, N, T, itemsize):
    return _sol(13, "tiled_gemm_intensity")(M, K, N, T, 1)


def merge_without_rescaling(m1, s1, m2, s2):
    return np.maximum(m1, m2), s1 + s2


def merge_unguarded(m1, s1, m2, s2):
    m = np.maximum(m1, m2)
    return m, s1 * np.exp(m1 - m) + s2 * np.exp(m2 - m)


def merge_exponent_flipped(m1, s1, m2, s2):
    m = np.maximum(m1, m2)
    safe = np.where(np.isneginf(m), 0.0, m)
    return m, s1 * np.exp(safe - m1) + s2 * np.exp(safe - m2)


def gelu_tanh_form(x):
    y = np.empty_like(x)
    for i in range(x.size):
        u = math.sqrt(2.0 / math.pi) * (x[i] + 0.044715 * x[i] ** 3)
        y[i] = 0.5 * x[i] * (1.0 + math.tanh(u))
    return y


def gelu_erf_without_sqrt2(x):
    y = np.empty_like(x)
    for i in range(x.size):
        y[i] = 0.5 * x[i] * (1.0 + math.erf(x[i]))
    return y


def gelu_always_float64(x):
    y = np.empty(x.size)
    for i in range(x.size):
        y[i] = 0.5 * x[i] * (1.0 + math.erf(x[i] / math.sqrt(2.0)))
    return y


def gelu_not_compilable(x):
    """statistics.NormalDist is a Python class: Numba cannot compile it."""
    import statistics
    cdf = statistics.NormalDist().cdf
    return np.array([x[i] * cdf(x[i]) for i in range(x.size)], dtype=x.dtype)


def _gelu_function(backward_kernel, as_tensor=True):
    """A GELU Function on the reference forward kernel and the given backward kernel."""
    forward_kernel = _sol(13, "gelu_forward_numba")

    class WrongGELU(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            y = forward_kernel(np.ascontiguousarray(x.detach().numpy()).ravel())
            return mg.tensor(y.reshape(x.shape)) if as_tensor else y.reshape(x.shape)

        @staticmethod
        def backward(ctx, grad_y):
            (x,) = ctx.saved_tensors
            gx = backward_kernel(np.ascontiguousarray(x.detach().numpy()).ravel(),
                                 np.ascontiguousarray(grad_y.detach().numpy()).ravel())
            return mg.tensor(gx.reshape(x.shape))

    return WrongGELU


def gelu_backward_cdf_only(x, gy):
    """Forgets the x * pdf(x) term: the derivative of x * Phi(x) as if x were a constant."""
    return gy * 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def gelu_backward_sign_flipped(x, gy):
    return -_sol(13, "gelu_backward")(x, gy)


def rd_to_root_and_back(arrays):
    p, total = len(arrays), np.sum(arrays, axis=0)
    return [total.copy() for _ in range(p)], [(p - 1) * total.size if r == 0 else total.size
                                              for r in range(p)]


def rd_one_step_only(arrays):
    p = len(arrays)
    values = [np.array(a, dtype=np.float64) for a in arrays]
    if p > 1:
        values = [values[r] + values[r ^ 1] for r in range(p)]
    return values, [values[0].size * int(math.log2(p))] * p


def rd_in_place(arrays):
    results, sent = _sol(14, "recursive_doubling_allreduce")(arrays)
    for a, r in zip(arrays, results):
        a += r
    return results, sent


def ring_time_one_phase(nbytes, p, bandwidth, latency):
    return (p - 1) * (latency + nbytes / p / bandwidth)


def ring_time_whole_buffer(nbytes, p, bandwidth, latency):
    return 2 * (p - 1) * (latency + nbytes / bandwidth)


def ring_time_no_latency(nbytes, p, bandwidth, latency):
    return 2 * (p - 1) * nbytes / p / bandwidth


def zero_adam_8_bytes(n_params, n_gpus, stage):
    full = _sol(14, "zero_bytes_per_gpu")(n_params, n_gpus, stage)
    return full - 4 * n_params / (n_gpus if stage >= 1 else 1)


def zero_stage2_shards_weights(n_params, n_gpus, stage):
    return _sol(14, "zero_bytes_per_gpu")(n_params, n_gpus, 3 if stage == 2 else stage)


WRONG = {
    (1, 1): [(topo_preorder, "comes before"), (topo_not_reversed, "exactly backwards"),
             (topo_no_visited_set, "times"), (topo_with_leaves, "not a node")],
    (1, 2): [(SiLUBackwardSignFlipped, "gradcheck of your SiLU.backward failed"),
             (SiLUForwardIsSigmoid, "forward pass) differs at"),
             (SiLUForwardInNumPy, "must return Tensors"),
             (SiLUBackwardInNumPy, "minigrad ops")],
    (1, 3): [(lambda w, x, y: -_sol(1, "logistic_grad")(w, x, y), "sign is flipped"),
             (lambda w, x, y: -y * x / (1 + np.exp(-y * (w @ x))), "differs at"),
             (lambda w, x, y: float(w @ x), "has shape ()")],
    (1, 4): [(newton_gradient_descent, "returned nan, expected 1.13"), (newton_never_updates, "x0 itself"),
             (newton_returns_array, "one number")],
    (2, 1): [(ridge_penalises_bias, "bias must not be penalised"),
             (ridge_without_n, "n * lam"), (ridge_drops_bias, "shape (4,)")],
    (2, 2): [(bce_grad_sum, "40 times"), (bce_grad_sign, "sign is flipped"),
             (bce_grad_only_w, "two things")],
    (2, 3): [(max_lr_without_ones, "column of ones"), (max_lr_one_over_lambda, "expected 0.12")],
    (3, 1): [(accuracy_tensor, "Python float"), (accuracy_count, "differs")],
    (3, 2): [(cross_entropy_sum, "8 times"), (cross_entropy_no_graph, "without a graph"),
             (cross_entropy_dim0, "differs")],
    (3, 3): [(confusion_transposed, "transpose"), (confusion_no_minlength, "reshape")],
    (3, 4): [(NoisyOnce, "same image twice"), (_noisy_with(lambda std: std ** 2),
                                               "standard deviation 0.0897"),
             (NoisyWrongLength, "len(dataset) is 64")],
    (4, 1): [(momentum_with_dampening, "after step 2"), (momentum_not_in_place, "unchanged")],
    (4, 2): [(adam_no_bias_correction, "after step 1"), (adam_forgets_state, "after step 2")],
    (4, 3): [(cosine_without_eta_min, "differs at")],
    (5, 1): [(conv_out_no_dilation, "F.conv2d's output is"), (conv_out_float, "a float")],
    (5, 2): [(avg_pool_ignores_stride, "has shape"), (avg_pool_sum, "4 times")],
    (5, 3): [(conv2d_through_numpy, "no graph"), (conv2d_wrong_patch_order, "differs at")],
    (5, 4): [(lenet_params_bn_4c, "off by 96"), (lenet_params_no_biases, "off by -122")],
    (6, 1): [(lstm_step_keras_gate_order, "h after step t = 0 differs"),
             (lstm_step_returns_h, "the pair (h, c)")],
    (6, 2): [(clip_each_array, "after clipping differs"), (clip_always, "total norm 0.489"),
             (clip_returns_norm_after, "before clipping")],
    (6, 3): [(softmax_overflows, "nan"), (softmax_times_tau, "divide the logits by tau")],
    (7, 1): [(mask_upper, "a later position"), (mask_float, "dtype"), (mask_strict, "itself")],
    (7, 2): [(shift_transposed, "signs of its sines"), (shift_identity, "differs at")],
    (7, 3): [(encoder_params_no_norms, "off by -256")],
    (9, 1): [(soft_grad_without_t_squared, "0.0625 times"), (soft_grad_p_minus_q, "sign is flipped"),
             (soft_grad_summed, "3 times")],
    (9, 2): [(logit_matching_uncentred, "that row's mean"),
             (logit_matching_without_c, "exact gradient at T = 10000) differs")],
    (9, 3): [(ensemble_of_mean_logits, "averaging the logits first"),
             (ensemble_log_of_mean_probs, "is -inf at"),
             (ensemble_probs_not_logs, "mean probabilities themselves"),
             (ensemble_as_numpy, "return a Tensor")],
    (9, 4): [(smoothing_over_other_classes, "expected 0.02, got 0.025"),
             (smoothing_without_one_minus_eps, "expected 0.92, got 1.02")],
    (10, 1): [(dice_grad_sign_flipped, "sign is flipped"),
              (dice_grad_total_held_fixed, "appears in S")],
    (10, 2): [(interp_no_clamp, "its clamp at 0"), (interp_corners_swapped, "differs at"),
              (interp_transposed, "(transposed?)")],
    (10, 3): [(conv_transpose_kernel_flipped, "differs at"),
              (conv_transpose_stride_ignored, "has shape")],
    (10, 4): [(receptive_field_ignores_stride, "off by -2"), (receptive_field_float, "an int")],
    (8, 1): [(wordpiece_without_hashes, "'##' in front"), (wordpiece_shortest_first, "not 'p'"),
             (wordpiece_unknown_rest, "as a whole"), (wordpiece_backtracking, "no going back")],
    (8, 2): [(mlm_loss_over_all_positions, "averages over all 15"), (mlm_loss_sum, "differs"),
             (mlm_loss_through_numpy, "no graph"), (mlm_loss_gathers_minus_100, "raised")],
    (14, 1): [(rd_to_root_and_back, "recursive doubling takes log2(p)"),
              (rd_one_step_only, "differs at"), (rd_in_place, "changed rank 0's input")],
    (14, 2): [(ring_time_one_phase, "That is half"), (ring_time_whole_buffer, "not the whole"),
              (ring_time_no_latency, "also pays the latency")],
    (14, 3): [(zero_adam_8_bytes, "the fp32 copy"),
              (zero_stage2_shards_weights, "2 the gradients too")],
    (8, 3): [(groups_one_lr, "gets lr"), (groups_decay_everything, "gets weight_decay"),
             (groups_with_frozen, "frozen"), (groups_matrices_only, "is in no group")],
    (11, 1): [(iou_no_clamp, "clamp each at 0"), (iou_union_is_sum, "counted in both areas")],
    (11, 2): [(nms_index_order, "best score first"), (nms_dropped_boxes_suppress, "removed too much"),
              (nms_at_threshold_suppresses, "not equal to it"),
              (nms_only_previous, "You kept boxes that overlap")],
    (11, 3): [(ap_11_point_raw_precision, "best precision at a recall >= the level"),
              (ap_11_point_ten_levels, "differs")],
    (11, 4): [(decode_cell_swapped, "swapped"), (decode_cell_no_sigmoid, "differs at"),
              (decode_cell_cxcywh, "differs at")],
    (12, 1): [(kl_without_half, "2 times"), (kl_without_log_term, "differs at"),
              (kl_summed_over_batch, "has shape ()"), (kl_through_numpy, "has no graph")],
    (12, 2): [(reparameterize_std_is_variance, "not exp(logvar)"),
              (reparameterize_detached, "has no graph"),
              (reparameterize_logvar_as_sigma, "differs at")],
    (12, 3): [(generator_loss_minimax, "differs"), (generator_loss_log_of_sigmoid, "log of 0"),
              (generator_loss_summed, "7 times")],
    (13, 1): [(tiled_intensity_untiled, "differs"),
              (tiled_intensity_one_op_per_term, "0.5 times"),
              (tiled_intensity_in_elements, "differs")],
    (13, 2): [(merge_without_rescaling, "the merged sum s differs"),
              (merge_unguarded, "nan for row 4"), (merge_exponent_flipped, "nan")],
    (13, 3): [(gelu_tanh_form, "tanh approximation"), (gelu_erf_without_sqrt2, "differs at"),
              (gelu_always_float64, "keep the input's dtype"), (gelu_not_compilable, "raised")],
    (13, 4): [(_gelu_function(gelu_backward_cdf_only), "gradcheck of your GELU.backward"),
              (_gelu_function(gelu_backward_sign_flipped), "gradcheck of your GELU.backward"),
              (_gelu_function(_sol(13, "gelu_backward"), as_tensor=False), "Tensor")],
}

WRONG_CASES = [(ex, wrong, words) for ex in EXERCISES
               for wrong, words in WRONG.get((ex.chapter, ex.number), [])]


def test_exercises_are_registered():
    assert len(EXERCISES) >= 20, [_id(e) for e in EXERCISES]
    # every chapter notebook has exercises, and every chapter with checks has a notebook
    assert CHAPTERS == sorted(int(p.name[:2]) for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    for chapter in CHAPTERS:
        numbers = [e.number for e in EXERCISES if e.chapter == chapter]
        assert numbers == list(range(1, len(numbers) + 1)), (chapter, numbers)


# -- (a) ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("ex", EXERCISES, ids=_id)
def test_reference_solution_passes(ex, capsys):
    assert ex.check(_solution(ex)) is True
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"Exercise {ex.number}: ") and "\n" not in out, out


# -- (b) ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("ex", EXERCISES, ids=_id)
def test_every_exercise_has_wrong_answers(ex):
    assert WRONG.get((ex.chapter, ex.number)), f"no wrong answer tested for {_id(ex)}"


@pytest.mark.parametrize("ex, wrong, words", WRONG_CASES,
                         ids=[f"{_id(e)}-{getattr(w, '__name__', 'lambda')}-{i}"
                              for i, (e, w, _) in enumerate(WRONG_CASES)])
def test_wrong_answer_fails_with_words(ex, wrong, words, capsys):
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailed) as info:
        ex.check(wrong)
    message = str(info.value)
    assert message.startswith(f"Exercise {ex.number} ({ex.title}): "), message
    assert words in message, message
    assert "Exercise" not in capsys.readouterr().out     # no success line, no "not done yet"


# -- (c) and the cross-check with the notebooks -----------------------------------------------
def _notebook(chapter):
    nbformat = pytest.importorskip("nbformat")
    (path,) = NOTEBOOKS.glob(f"{chapter:02d}_*.ipynb")
    return nbformat.read(path, as_version=4)


def _exercise_cells(chapter):
    cells = _notebook(chapter).cells
    starts = [i for i, c in enumerate(cells)
              if c.cell_type == "markdown" and c.source.startswith("## Exercises")]
    assert len(starts) == 1, f"chapter {chapter}: no cell starting with '## Exercises'"
    return cells[starts[0]:]


def _defines(source, name):
    return any(isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name
               for node in ast.parse(source).body)


def _stub_source(ex):
    stubs = [c.source for c in _exercise_cells(ex.chapter)
             if c.cell_type == "code" and _defines(c.source, ex.answer)]
    assert len(stubs) == 1, f"{_id(ex)}: {len(stubs)} cells define {ex.answer}"
    return stubs[0]


STUB_GLOBALS = {"np": np, "mg": mg, "nn": nn, "F": F, "optim": optim, "Dataset": Dataset,
                "math": math}


@pytest.mark.parametrize("ex", EXERCISES, ids=_id)
def test_untouched_stub_says_not_done_yet(ex, capsys):
    namespace = dict(STUB_GLOBALS)
    exec(_stub_source(ex), namespace)
    assert ex.check(namespace[ex.answer]) is False
    out = capsys.readouterr().out
    assert f"Exercise {ex.number} ({ex.title}) is not done yet" in out, out
    assert f"exercises/solutions_ch{ex.chapter:02d}.py" in out, out


@pytest.mark.parametrize("ex", EXERCISES, ids=_id)
def test_stub_holds_no_solution(ex):
    """Every function in the stub is `raise NotImplementedError("Exercise N: ...")`, after a
    docstring or not: the answer is not in the notebook."""
    tree = ast.parse(_stub_source(ex))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert functions
    for fn in functions:
        body = fn.body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]                                           # the docstring
        assert len(body) == 1 and isinstance(body[0], ast.Raise), \
            f"{_id(ex)}: {fn.name} should hold a docstring and a raise only"
        message = body[0].exc.args[0].value
        assert message.startswith(f"Exercise {ex.number}: "), message


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_notebook_exercises_match_the_registry(chapter):
    registered = [e for e in EXERCISES if e.chapter == chapter]
    cells = _exercise_cells(chapter)
    headings = [(int(m.group(1)), m.group(2).strip().replace("`", ""))
                for c in cells if c.cell_type == "markdown"
                for m in re.finditer(r"^### Exercise (\d+) — (.+)$", c.source, re.M)]
    assert headings == [(e.number, e.title) for e in registered]
    code = [c.source for c in cells if c.cell_type == "code"]
    assert code[0] == f"from exercises import checks_ch{chapter:02d} as check"
    calls = [name for src in code for name in re.findall(r"\bcheck\.(\w+)\(", src)]
    assert calls == [e.check.__name__ for e in registered]
    for e in registered:      # the check cell comes right after the stub it checks
        stub_at = code.index(_stub_source(e))
        assert f"check.{e.check.__name__}({e.answer}" in code[stub_at + 1]
    intro = _notebook(chapter).cells[0].source
    assert "How the exercises work" in intro and f"solutions_ch{chapter:02d}.py" in intro


# -- the helpers the checks use ----------------------------------------------------------------
def test_assert_close_names_the_first_differing_entry():
    expected = np.arange(12.0).reshape(3, 4)
    got = expected.copy()
    got[2, 3], got[1, 0] = -0.5, 7.25
    with pytest.raises(ExerciseFailed, match=re.escape(
            "your gradient differs at [1, 0]: expected 4, got 7.25 (2 of 12 entries differ)")):
        assert_close("your gradient", got, expected)


def test_assert_close_shape_and_common_slips():
    a = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(ExerciseFailed, match=re.escape(
            "has shape (3, 4), expected (4, 3) (transposed?)")):
        assert_close("f(x)", a.T, a)
    with pytest.raises(ExerciseFailed, match="sign is flipped everywhere"):
        assert_close("f(x)", -a, a)
    with pytest.raises(ExerciseFailed, match="Every entry is 3 times the expected one"):
        assert_close("f(x)", 3 * a, a)
    with pytest.raises(ExerciseFailed, match="is None: did you forget a `return`"):
        assert_close("f(x)", None, a)
    with pytest.raises(ExerciseFailed, match="contains nan"):
        assert_close("f(x)", np.full_like(a, np.nan), a)
    assert_close("f(x)", mg.tensor(a, requires_grad=True), a)      # Tensors are compared too


def test_attempt_tells_the_stub_from_other_errors():
    def stub():
        raise NotImplementedError("Exercise 2: write f")

    def missing_feature():
        raise NotImplementedError("complex numbers")

    def broken():
        return np.ones(3) @ np.ones(4)

    with pytest.raises(checking.StubNotFilled):
        attempt("f()", stub)
    with pytest.raises(ExerciseFailed, match=r"f\(\) raised NotImplementedError: complex"):
        attempt("f()", missing_feature)
    with pytest.raises(ExerciseFailed, match=r"f\(\) raised ValueError") as info:
        attempt("f()", broken)
    assert isinstance(info.value.__cause__, ValueError)    # the student's traceback is kept


def test_checks_leave_minigrad_random_stream_alone():
    """A check cell must not change the random numbers of the cells after it."""
    ex = next(e for e in EXERCISES if (e.chapter, e.number) == (6, 1))
    mg.manual_seed(123)
    expected = mg.randn(5).numpy()
    mg.manual_seed(123)
    ex.check(_solution(ex))
    np.testing.assert_array_equal(mg.randn(5).numpy(), expected)
