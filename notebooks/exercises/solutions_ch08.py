"""Reference solutions for the exercises of Chapter 8. Try them yourself first."""

import minigrad as mg
import minigrad.nn.functional as F


# Exercise 1: take the longest prefix in the vocabulary, again and again; no going back
def wordpiece(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):          # longest first
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                pieces.append(piece)
                start = end
                break
        else:                                            # no prefix of the rest is known
            return ["[UNK]"]
    return pieces


# Exercise 2: gather with a valid index everywhere (0 where the label is -100), then mask
def mlm_loss(logits, labels):
    valid = labels != -100
    safe = mg.where(valid, labels, mg.zeros_like(labels))
    picked = F.log_softmax(logits, dim=-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return -(picked * valid.float()).sum() / valid.sum()


# Exercise 3
def fine_tuning_groups(model, body_lr, head_lr, weight_decay):
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        lr = head_lr if name.startswith("head.") else body_lr
        wd = weight_decay if p.ndim >= 2 else 0.0
        groups.setdefault((lr, wd), []).append(p)
    return [{"params": params, "lr": lr, "weight_decay": wd}
            for (lr, wd), params in groups.items()]
