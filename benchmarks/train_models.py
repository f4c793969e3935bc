"""The models of the training-step benchmarks, written once for both libraries.

Every builder takes ``lib`` (the ``minigrad`` or the ``torch`` module) and uses only the API
the two share (PyTorch's), so the same source builds both models. ``build(lib, name, quick)``
returns a ``Bench``: the model, an input batch and its targets as NumPy arrays (the same
arrays for both libraries, from seeded generators), and the loss. ``quick`` shrinks every
size to a few units, so a test can run every model in seconds.

Sizes (float32, batch first):

==================  ===========================================================================
``mlp``             64 -> 256 -> 256 -> 10, batch 128
``mlp784``          784 -> 512 -> 512 -> 10 (MNIST-sized), batch 128
``cnn``             conv(1->16, 3) relu pool, conv(16->32, 3) relu pool, linear; 28x28, batch 64
``cnn_bn``          3 x [conv 3x3, BatchNorm, relu, pool], 3->64->128->128 channels; 32x32,
                    batch 32
``lstm``            LSTM 32 -> 128, sequence 32, batch 32, linear head on the last step
``lstm64``          LSTM 64 -> 128, sequence 32, batch 32
``char_lstm``       chapter 6's character model: embedding 90 -> 32, LSTM 32 -> 128, linear to
                    90 logits at every position; sequence 48, batch 32
``transformer``     encoder layer d_model 128, 4 heads, feed-forward 256, sequence 32, batch 32
``transformer_t64`` the same layer, sequence 64
``transformer_d256`` d_model 256, 8 heads, feed-forward 512, sequence 64, batch 16
``gpt``             character-level GPT: 4 blocks, n_embd 128, 4 heads, context 64, batch 16,
                    vocabulary 65; causal mask from ``tril``, applied with ``masked_fill``
==================  ===========================================================================

The encoder layers have no dropout (``dropout=0.0``) and end in a mean over the sequence and a
linear head; the GPT's tokens are random (a step's time does not depend on the text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NAMES = ["mlp", "cnn", "lstm", "transformer", "mlp784", "cnn_bn", "lstm64", "char_lstm",
         "transformer_t64", "transformer_d256", "gpt"]


@dataclass
class Bench:
    model: object
    x: np.ndarray
    y: np.ndarray
    loss: object            # loss(lib, output, target) -> scalar Tensor


def _data(x_shape, classes, n, rng_seed=0):
    x = np.random.default_rng(rng_seed).standard_normal(x_shape).astype(np.float32)
    y = np.random.default_rng(rng_seed + 1).integers(0, classes, n)
    return x, y


def _classify(lib, out, y):
    return lib.nn.functional.cross_entropy(out, y)


def mlp(lib, sizes, batch):
    nn = lib.nn
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))
    return Bench(model, *_data((batch, sizes[0]), sizes[-1], batch), _classify)


def cnn(lib, batch, side, width):
    nn = lib.nn
    model = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(2 * width * (side // 4) ** 2, 10))
    return Bench(model, *_data((batch, 1, side, side), 10, batch), _classify)


def cnn_bn(lib, batch, side, channels):
    nn = lib.nn
    layers, before = [], 3
    for c in channels:
        layers += [nn.Conv2d(before, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
                   nn.MaxPool2d(2)]
        before = c
    side_out = side // 2 ** len(channels)
    model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(before * side_out ** 2, 10))
    return Bench(model, *_data((batch, 3, side, side), 10, batch), _classify)


def lstm(lib, inputs, hidden, steps, batch):
    nn = lib.nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(inputs, hidden, batch_first=True)
            self.head = nn.Linear(hidden, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])
    return Bench(LSTMClassifier(), *_data((batch, steps, inputs), 10, batch), _classify)


def char_lstm(lib, vocab, embed, hidden, steps, batch):
    nn, F = lib.nn, lib.nn.functional

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, embed)
            self.lstm = nn.LSTM(embed, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, idx):
            out, _ = self.lstm(self.emb(idx))
            return self.head(out)

    def loss(lib, logits, targets):
        return F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))

    tokens = np.random.default_rng(0).integers(0, vocab, (batch, steps + 1))
    return Bench(CharLSTM(), tokens[:, :-1], tokens[:, 1:], loss)


def transformer(lib, d_model, heads, feedforward, steps, batch):
    nn = lib.nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerEncoderLayer(d_model, heads,
                                                    dim_feedforward=feedforward,
                                                    dropout=0.0, batch_first=True)
            self.head = nn.Linear(d_model, 10)

        def forward(self, x):
            return self.head(self.layer(x).mean(1))
    return Bench(Encoder(), *_data((batch, steps, d_model), 10, batch), _classify)


def gpt(lib, vocab, n_embd, heads, blocks, context, batch):
    """A minimal GPT (nanoGPT's layout): token + position embeddings, pre-norm blocks of
    causal self-attention and a 4x GELU MLP, a final LayerNorm and a linear head."""
    nn, F = lib.nn, lib.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(n_embd, 3 * n_embd)
            self.proj = nn.Linear(n_embd, n_embd)
            mask = lib.tril(lib.ones(context, context)).view(1, 1, context, context)
            self.register_buffer("mask", mask, persistent=False)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(x).split(n_embd, dim=2)
            q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // heads))
            att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
            self.attn = CausalSelfAttention()
            self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(),
                                     nn.Linear(4 * n_embd, n_embd))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(vocab, n_embd)
            self.positions = nn.Embedding(context, n_embd)
            self.blocks = nn.Sequential(*[Block() for _ in range(blocks)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.head = nn.Linear(n_embd, vocab, bias=False)

        def forward(self, idx):
            T = idx.shape[1]
            x = self.tokens(idx) + self.positions(lib.arange(T))
            return self.head(self.ln_f(self.blocks(x)))

    def loss(lib, logits, targets):
        return F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))

    rng = np.random.default_rng(0)
    tokens = rng.integers(0, vocab, (batch, context + 1))
    return Bench(GPT(), tokens[:, :-1], tokens[:, 1:], loss)


# name -> (builder, full-size arguments, quick arguments)
SIZES = {
    "mlp": (mlp, dict(sizes=(64, 256, 256, 10), batch=128), dict(sizes=(9, 12, 12, 10), batch=6)),
    "mlp784": (mlp, dict(sizes=(784, 512, 512, 10), batch=128),
               dict(sizes=(20, 16, 16, 10), batch=6)),
    "cnn": (cnn, dict(batch=64, side=28, width=16), dict(batch=3, side=8, width=2)),
    "cnn_bn": (cnn_bn, dict(batch=32, side=32, channels=(64, 128, 128)),
               dict(batch=3, side=8, channels=(3, 4, 4))),
    "lstm": (lstm, dict(inputs=32, hidden=128, steps=32, batch=32),
             dict(inputs=3, hidden=5, steps=4, batch=3)),
    "lstm64": (lstm, dict(inputs=64, hidden=128, steps=32, batch=32),
               dict(inputs=4, hidden=6, steps=4, batch=3)),
    "char_lstm": (char_lstm, dict(vocab=90, embed=32, hidden=128, steps=48, batch=32),
                  dict(vocab=7, embed=3, hidden=5, steps=4, batch=2)),
    "transformer": (transformer, dict(d_model=128, heads=4, feedforward=256, steps=32, batch=32),
                    dict(d_model=8, heads=2, feedforward=12, steps=5, batch=3)),
    "transformer_t64": (transformer,
                        dict(d_model=128, heads=4, feedforward=256, steps=64, batch=32),
                        dict(d_model=8, heads=2, feedforward=12, steps=6, batch=3)),
    "transformer_d256": (transformer,
                         dict(d_model=256, heads=8, feedforward=512, steps=64, batch=16),
                         dict(d_model=8, heads=4, feedforward=12, steps=6, batch=2)),
    "gpt": (gpt, dict(vocab=65, n_embd=128, heads=4, blocks=4, context=64, batch=16),
            dict(vocab=11, n_embd=8, heads=2, blocks=2, context=6, batch=2)),
}
assert set(SIZES) == set(NAMES)


def build(lib, name, quick=False):
    """The ``Bench`` of model ``name`` built with ``lib``, its weights from ``lib``'s own
    (seeded) initialisation: copy a reference's weights in with ``load_weights``."""
    builder, full, small = SIZES[name]
    return builder(lib, **(small if quick else full))


def weights(model) -> dict:
    """The model's state_dict as NumPy arrays (from either library)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def load_weights(lib, model, arrays):
    model.load_state_dict({k: lib.tensor(v) for k, v in arrays.items()})


def make_step(lib, bench, lr=1e-3):
    """``step()``: zero the gradients, forward, loss, backward, one AdamW step; returns the
    loss. ``step.forward`` (model and loss), ``step.model`` and ``step.optimizer`` are there
    for profiling one stage at a time."""
    model = bench.model
    x, y = lib.tensor(bench.x), lib.tensor(bench.y)
    opt = lib.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()

    def forward():
        return bench.loss(lib, model(x), y)

    def step():
        opt.zero_grad()
        loss = forward()
        loss.backward()
        opt.step()
        return loss
    step.model, step.optimizer, step.forward = model, opt, forward
    return step
