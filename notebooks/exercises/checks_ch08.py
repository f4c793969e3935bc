"""Checks for the exercises of Chapter 8 (pre-training and fine-tuning)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim

from .checking import assert_close, attempt, exercise, fail, fmt, seeded

# -- Exercise 1 -------------------------------------------------------------------------------
# (vocabulary, word, expected pieces, what the case is about)
WORDPIECE_CASES = [
    ({"un", "##watch", "##able", "watch"}, "unwatchable", ["un", "##watch", "##able"],
     "three pieces"),
    ({"un", "##watch", "##able", "watch"}, "watch", ["watch"], "a whole word in the vocabulary"),
    ({"p", "play", "##l", "##ay", "##ing"}, "playing", ["play", "##ing"],
     "the longest piece first: 'play', not 'p'"),
    ({"ab", "a", "##c", "##bc"}, "abc", ["ab", "##c"],
     "greedy: 'ab' is the longest first piece, even though 'a' + '##bc' would also work"),
    ({"ab", "a", "##bc"}, "abc", ["[UNK]"],
     "greedy, no going back: after 'ab' the rest 'c' has no piece, so the word is unknown"),
    ({"un", "watch"}, "unwatch", ["[UNK]"],
     "a piece after the first must be in the vocabulary with '##' in front"),
    ({"un", "##watch", "##able", "watch"}, "unwatched", ["[UNK]"],
     "no piece for 'ed': the whole word is [UNK], not a partial split"),
]


def _fmt_vocab(vocab):
    return "{" + ", ".join(repr(v) for v in sorted(vocab)) + "}"


@exercise(1, "WordPiece", "wordpiece")
def wordpiece(wordpiece):
    for vocab, word, expected, about in WORDPIECE_CASES:
        call = f"wordpiece({word!r}, {_fmt_vocab(vocab)})"
        got = attempt(call, wordpiece, word, set(vocab))
        if not isinstance(got, (list, tuple)) or not all(isinstance(t, str) for t in got):
            fail(f"{call} returned {got!r}; expected a list of str such as {expected!r}.")
        got = list(got)
        if got == expected:
            continue
        hint = ""
        if "[UNK]" in got and len(got) > 1:
            hint = " A word that cannot be split becomes ['[UNK]'] as a whole."
        elif any(not t.startswith("##") for t in got[1:]) and expected != ["[UNK]"]:
            hint = " Every piece after the first is written with '##' in front."
        elif expected == ["[UNK]"] and "".join(t.removeprefix("##") for t in got) == word:
            hint = (" Each piece must be in the vocabulary as written ('##' in front of all "
                    "but the first), and the pieces are chosen greedily, longest first, "
                    "without trying other splits.")
        fail(f"{call} returned {got!r}, expected {expected!r} ({about}).{hint}")
    return (f"wordpiece splits all {len(WORDPIECE_CASES)} words as BERT's tokenizer does "
            "(greedy longest match first, [UNK] for the whole word)")


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "the masked-language-modelling loss", "mlm_loss")
def mlm_loss(mlm_loss):
    rng = np.random.default_rng(0)
    N, L, V = 3, 5, 7
    with seeded(0):
        logits = (3 * mg.randn(N, L, V, dtype=mg.float64)).requires_grad_()
    labels = rng.integers(0, V, (N, L))
    labels[rng.random((N, L)) < 0.5] = -100
    labels[0, 0], labels[1, :] = 3, -100          # one sure target, one row without any
    labels = mg.tensor(labels)
    expected = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
    (expected_grad,) = mg.autograd.grad(expected, logits)
    call = "mlm_loss(logits, labels)"
    got = attempt(call, mlm_loss, logits, labels)
    if not isinstance(got, mg.Tensor):
        fail(f"{call} returned a {type(got).__name__}; expected a scalar Tensor.")
    if got.numel() != 1:
        fail(f"{call} has shape {tuple(got.shape)}; expected a scalar (the mean loss).")
    n_valid, n_all = int((labels != -100).sum().item()), N * L
    value, want = float(got.detach().reshape(()).item()), float(expected.item())
    if np.isclose(value, want * n_valid / n_all, rtol=1e-6):
        fail(f"{call} is {fmt(value)}, expected {fmt(want)}: it averages over all {n_all} "
             f"positions; the mean is over the {n_valid} whose label is not -100.")
    assert_close(f"the value of {call}", value, want, rtol=1e-6,
                 hint="(the mean of -log softmax(logits)[label] over the positions whose "
                      "label is not -100)")
    if not got.requires_grad:
        fail(f"{call} has the right value but no graph: compute it with minigrad ops on "
             "`logits` (log_softmax, gather, ...), not through NumPy.")
    (grad,) = attempt(f"the gradient of {call}", mg.autograd.grad, got.reshape(()), logits)
    assert_close(f"the gradient of {call} with respect to the logits", grad,
                 expected_grad.numpy(), rtol=1e-7, atol=1e-12,
                 hint="(positions whose label is -100 must get a zero gradient)")
    return (f"mlm_loss matches F.cross_entropy(ignore_index=-100): value and gradient, "
            f"{n_valid} of {n_all} positions counted")


# -- Exercise 3 -------------------------------------------------------------------------------
class _Tagger(nn.Module):
    """A model to check the groups on: an embedding that is frozen, a body, a head."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 6)
        self.embed.requires_grad_(False)
        self.body = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 8))
        self.head = nn.Linear(8, 3)


@exercise(3, "parameter groups for fine-tuning", "fine_tuning_groups")
def fine_tuning_groups(fine_tuning_groups):
    with seeded(0):
        model = _Tagger()
    body_lr, head_lr, wd = 1e-4, 3e-3, 0.05
    call = f"fine_tuning_groups(model, body_lr={body_lr}, head_lr={head_lr}, weight_decay={wd})"
    groups = attempt(call, fine_tuning_groups, model, body_lr, head_lr, wd)
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
        fail(f"{call} returned {type(groups).__name__}; expected a list of dicts, "
             "each with 'params', 'lr' and 'weight_decay'.")
    for i, group in enumerate(groups):
        missing = [k for k in ("params", "lr", "weight_decay") if k not in group]
        if missing:
            fail(f"group {i} of {call} has no {', '.join(repr(k) for k in missing)}.")
        group["params"] = list(group["params"])        # a generator can be read only once
    names = {id(p): n for n, p in model.named_parameters()}
    seen: dict[int, int] = {}
    for i, group in enumerate(groups):
        for p in group["params"]:
            name = names.get(id(p), "a tensor that is not a parameter of the model")
            if id(p) in seen:
                fail(f"{name} is in group {seen[id(p)]} and again in group {i}: every "
                     "parameter belongs to exactly one group.")
            seen[id(p)] = i
    for name, p in model.named_parameters():
        if not p.requires_grad and id(p) in seen:
            fail(f"{name} is frozen (requires_grad False) but in group {seen[id(p)]}: leave "
                 "frozen parameters out.")
        if p.requires_grad and id(p) not in seen:
            fail(f"{name} (shape {tuple(p.shape)}) is in no group: the optimizer would never "
                 "update it.")
    opt = attempt(f"optim.AdamW({call})", optim.AdamW, groups, lr=1.0)
    settings = [(names[id(p)], p, group) for group in opt.param_groups for p in group["params"]]
    for name, _, group in settings:                     # learning rates first
        want_lr = head_lr if name.startswith("head.") else body_lr
        if group["lr"] != want_lr:
            fail(f"{name} gets lr {fmt(group['lr'])}, expected {fmt(want_lr)} "
                 f"({'the head' if name.startswith('head.') else 'the body'}).")
    for name, p, group in settings:
        want_wd = wd if p.ndim >= 2 else 0.0
        if group["weight_decay"] != want_wd:
            kind = "a matrix" if p.ndim >= 2 else "one-dimensional (a bias or a norm weight)"
            fail(f"{name} (shape {tuple(p.shape)}, {kind}) gets weight_decay "
                 f"{fmt(group['weight_decay'])}, expected {fmt(want_wd)}.")
    counted = sum(p.numel() for g in opt.param_groups for p in g["params"])
    return (f"{len(groups)} groups cover the {counted} trainable parameters once each, "
            "with the right lr and weight decay")


__all__ = ["wordpiece", "mlm_loss", "fine_tuning_groups"]
