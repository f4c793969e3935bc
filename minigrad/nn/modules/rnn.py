"""Recurrent layers: RNN, LSTM, GRU and their one-step cells RNNCell, LSTMCell, GRUCell.

A recurrent layer applies one *cell* at every time step t, carrying a state from step to step:

    h_t = cell(x_t, h_{t-1})

The cells (PyTorch's equations and gate order; W_i* act on x_t, W_h* on h_{t-1}):

    RNN    h' = tanh(W_ih x + b_ih + W_hh h + b_hh)             (or relu)
    LSTM   i, f, g, o = chunks of W_ih x + b_ih + W_hh h + b_hh   (input, forget, cell, output)
           c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
           h' = sigmoid(o) * tanh(c')
    GRU    r, z  = sigmoid of chunks 0, 1 of W_ih x + b_ih + W_hh h + b_hh   (reset, update)
           n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))        (r gates the *hidden* part)
           h' = (1 - z) * n + z * h

Training is backpropagation through time (BPTT). The *Cell modules record one step per call,
so a time loop you write yourself records every step in the graph and ``backward`` walks the
unrolled network back through all of them. RNN, LSTM and GRU do not record per step: each
layer and direction is one op, ``ops/lstm_sequence.py``, ``ops/gru_sequence.py`` or
``ops/rnn_sequence.py``, whose forward runs the time loop on arrays (for LSTM one kernel call,
``kernels.lstm_sequence``; for GRU and RNN a Python loop multiplying by W_hh through
``kernels.matmul_by``) and whose backward is BPTT written out by hand, with dW_hh one product
after the loop. That backward is an op of its own (``LSTMSequenceBackward``, ...), whose own
backward recomputes the layer step by step with differentiable ops (the same equations) and
differentiates the recomputation (``ops/recompute.py``), so second derivatives work. The step
functions below (``rnn_tanh_step``, ``lstm_step``; ``gru_step`` from ops/gru_sequence.py) and
the cells built from them (``rnn_tanh_cell``, ``lstm_cell``, ``gru_cell``, ...) are what the *Cell
modules run and the references the sequence ops are tested against.

Multi-layer, bidirectional: layer l > 0 reads the outputs of layer l - 1. A bidirectional
layer runs a second cell from t = L-1 down to 0 with its own weights (suffix ``_reverse``) and
concatenates both directions' h_t as its output at t. Parameter names, shapes, the order of
``parameters()`` and the initialisation U(-1/sqrt(hidden_size), +1/sqrt(hidden_size)) are
PyTorch's, so a state_dict moves between the two unchanged.
"""

from __future__ import annotations

import math
import warnings

from ...ops.dropout import dropout as dropout_op
from ...ops.elementwise import relu, tanh
from ...ops.gru_sequence import gru_sequence, gru_step
from ...ops.join import cat, stack
from ...ops.linear import linear_op
from ...ops.lstm_gates import lstm_gates
from ...ops.lstm_sequence import lstm_sequence, lstm_sequence_projected
from ...ops.matmul import addmm
from ...ops.movement import squeeze, transpose, unsqueeze
from ...ops.rnn_sequence import rnn_sequence
from ...tensor import Tensor, empty, zeros
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


# ---------------------------------------------------------------------------------------------
# One time step of each cell (x: (N, input_size), h and c: (N, hidden_size))
# ---------------------------------------------------------------------------------------------


def _linear(x: Tensor, w: Tensor, b) -> Tensor:
    """x W^T + b (b may be None): the linear layer's op (one graph node; the bias is added in
    place to the fresh product instead of in one more array)."""
    return linear_op(x, w, b)


# Each cell is written once, as a *step* on the already projected input x_proj = x W_ih^T + b_ih
# and the hidden state, with W_hh given transposed. The multi-layer modules project the whole
# sequence through W_ih in one matmul (it does not depend on the previous step) and transpose
# W_hh once; the single-step ``*_cell`` functions (and RNNCell, LSTMCell, GRUCell) project one x.

def _recurrent_sum(x_proj, h, w_hh_t, b_hh):
    """x_proj + h W_hh^T + b_hh, with one addmm node (b_hh is None when the caller folded it
    into x_proj)."""
    return addmm(_bias(x_proj, b_hh), h, w_hh_t)


def rnn_tanh_step(x_proj, h, w_hh_t, b_hh=None) -> Tensor:
    """h' = tanh(x_proj + h W_hh^T + b_hh)."""
    return tanh(_recurrent_sum(x_proj, h, w_hh_t, b_hh))


def rnn_relu_step(x_proj, h, w_hh_t, b_hh=None) -> Tensor:
    """h' = relu(x_proj + h W_hh^T + b_hh)."""
    return relu(_recurrent_sum(x_proj, h, w_hh_t, b_hh))


def lstm_step(x_proj, state, w_hh_t, b_hh=None):
    """(h, c) -> (h', c'). The forget gate f decides how much of the old cell state c to
    keep; i decides how much of the candidate g to write; o how much of c' to show as h'."""
    h, c = state
    gates = _recurrent_sum(x_proj, h, w_hh_t, b_hh)
    # c' = sigmoid(f) * c + sigmoid(i) * tanh(g),  h' = sigmoid(o) * tanh(c'), as one fused
    # op (ops/lstm_gates.py shows it written out; the tests check the two agree)
    return lstm_gates(gates, c)


def _bias(y, b):
    return y if b is None else y + b


def _cell(step):
    """The one-step cell ``cell(x, state, w_ih, w_hh, b_ih, b_hh)`` built from ``step``."""
    def cell(x, state, w_ih, w_hh, b_ih=None, b_hh=None):
        return step(_linear(x, w_ih, b_ih), state, transpose(w_hh, 0, 1), b_hh)
    cell.__name__ = step.__name__.replace("_step", "_cell")
    cell.__doc__ = step.__doc__
    return cell


rnn_tanh_cell = _cell(rnn_tanh_step)
rnn_relu_cell = _cell(rnn_relu_step)
lstm_cell = _cell(lstm_step)
gru_cell = _cell(gru_step)

# mode -> (one-step cell, number of gates stacked in W_ih / W_hh)
_CELLS = {
    "RNN_TANH": (rnn_tanh_cell, 1),
    "RNN_RELU": (rnn_relu_cell, 1),
    "LSTM": (lstm_cell, 4),
    "GRU": (gru_cell, 3),
}


def _rnn_mode(nonlinearity: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


def _new_weight(*shape, dtype=None, device=None) -> Parameter:
    return Parameter(empty(*shape, dtype=dtype, device=device))


def _reset_uniform(module: Module) -> None:
    """PyTorch's default for every recurrent weight and bias: U(-1/sqrt(hidden), +)."""
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_proj_size(name: str, proj_size, hidden_size: int) -> None:
    """PyTorch's rules: 0 (no projection) or a positive int below hidden_size."""
    if isinstance(proj_size, bool) or not isinstance(proj_size, int):
        raise TypeError(f"{name}: proj_size should be of type int, got: "
                        f"{type(proj_size).__name__}")
    if proj_size < 0:
        raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable "
                         f"projections, got {proj_size}")
    if proj_size >= hidden_size:
        raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got "
                         f"proj_size={proj_size} and hidden_size={hidden_size}")


def _check_features(label: str, input: Tensor, input_size: int):  # noqa: A002
    if input.shape[-1] != input_size:
        raise RuntimeError(f"{label}: input of shape {tuple(input.shape)} has "
                           f"{input.shape[-1]} features in its last dimension, expected "
                           f"input_size={input_size}")


# ---------------------------------------------------------------------------------------------
# Multi-layer, optionally bidirectional recurrent layers
# ---------------------------------------------------------------------------------------------


class RNNBase(Module):
    """The loop over layers, directions and time steps that RNN, LSTM and GRU share."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        name = "RNN" if mode.startswith("RNN") else mode
        if not isinstance(input_size, int) or input_size <= 0:
            raise ValueError(f"{name}: input_size must be a positive integer, got {input_size}")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive integer, got {hidden_size}")
        _check_proj_size(name, proj_size, hidden_size)
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers}")
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"{name}: dropout should be a number in [0, 1], got {dropout}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        gates = _CELLS[mode][1]
        directions = 2 if bidirectional else 1
        rows, kw = gates * hidden_size, dict(dtype=dtype, device=device)
        # what a layer outputs and feeds back at every step: h_t, or its projection r_t
        state_size = self._state_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else state_size * directions
            for suffix in ("", "_reverse")[:directions]:
                w_ih, w_hh, b_ih, b_hh, w_hr = self._names(layer, suffix)
                setattr(self, w_ih, _new_weight(rows, layer_input, **kw))
                setattr(self, w_hh, _new_weight(rows, state_size, **kw))
                if bias:
                    setattr(self, b_ih, _new_weight(rows, **kw))
                    setattr(self, b_hh, _new_weight(rows, **kw))
                if proj_size:
                    setattr(self, w_hr, _new_weight(proj_size, hidden_size, **kw))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self)

    @staticmethod
    def _names(layer: int, suffix: str):
        return tuple(f"{kind}_l{layer}{suffix}" for kind in
                     ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def _weights(self, layer: int, direction: int):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction (biases None if
        bias=False, w_hr None without a projection)."""
        names = self._names(layer, "_reverse" if direction else "")
        return tuple(self._parameters.get(n) for n in names)

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _state_size(self) -> int:
        """The size of h: proj_size for a projected LSTM, else hidden_size."""
        return self.proj_size or self.hidden_size

    def _label(self) -> str:
        proj = f", proj_size={self.proj_size}" if self.proj_size else ""
        return (f"{type(self).__name__}(input_size={self.input_size}, "
                f"hidden_size={self.hidden_size}{proj}, num_layers={self.num_layers})")

    # -- the state: a tuple (h,) for RNN/GRU and (h, c) for LSTM -----------------------------
    def _initial_state(self, hx, batch: int, like: Tensor, unbatched: bool):
        n_parts = 2 if self.mode == "LSTM" else 1
        # h has proj_size features in a projected LSTM, c always hidden_size
        sizes = (("h_0", self._state_size, "proj_size" if self.proj_size else "hidden_size"),
                 ("c_0", self.hidden_size, "hidden_size"))[:n_parts]
        states = self.num_layers * self._directions
        if hx is None:
            return tuple(zeros(states, batch, size, dtype=like.dtype, device=like.device)
                         for _, size, _ in sizes)
        parts = tuple(hx) if n_parts == 2 else (hx,)
        if len(parts) != n_parts:
            raise RuntimeError(f"{self._label()}: hx must be a tuple (h_0, c_0)")
        for (name, size, size_name), part in zip(sizes, parts):
            expected = (states, size) if unbatched else (states, batch, size)
            if tuple(part.shape) != expected:
                raise RuntimeError(f"{self._label()}: expected {name} of shape {expected} "
                                   f"(num_layers * num_directions, [batch,] {size_name}), got "
                                   f"{tuple(part.shape)}")
        return tuple(unsqueeze(p, 1) if unbatched else p for p in parts)

    def _run_direction(self, seq, state, weights, reverse: bool):
        """Run one cell over the sequence seq (L, N, F); return h_t for every t, stacked in
        time order as (L, N, H), and the final state."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        if b_hh is not None and self.mode != "GRU":
            # b_hh is added at every step: fold it into the bias of the input projection, one
            # (4H,) sum instead of one more pass over all L projections (GRU keeps it apart:
            # its reset gate multiplies W_hn h + b_hn, bias included)
            b_ih, b_hh = b_ih + b_hh, None
        projected = _linear(seq, w_ih, b_ih)              # all L input projections at once
        # the whole sequence as one op with a hand-written backward through time
        # (ops/{lstm,gru,rnn}_sequence.py; the per-step cells above are what they must equal)
        if self.mode == "LSTM" and w_hr is not None:
            # the projection folded into the fused layer (see lstm_sequence_projected)
            hs, h_n, c_n = lstm_sequence_projected(projected, *state, w_hh, w_hr, reverse)
            return hs, (h_n, c_n)
        if self.mode == "LSTM":
            hs, h_n, c_n = lstm_sequence(projected, *state, w_hh, reverse=reverse)
            return hs, (h_n, c_n)
        if self.mode == "GRU":
            hs, h_n = gru_sequence(projected, state[0], w_hh, b_hh, reverse=reverse)
            return hs, (h_n,)
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        hs, h_n = rnn_sequence(projected, state[0], w_hh, nonlinearity, reverse=reverse)
        return hs, (h_n,)

    def forward(self, input, hx=None):  # noqa: A002
        """input (L, N, input_size), or (N, L, input_size) with batch_first, or unbatched
        (L, input_size); hx: h_0 (or (h_0, c_0) for LSTM) of shape
        (num_layers * num_directions, N, hidden_size), zeros if not given.

        Returns output (L, N, num_directions * hidden_size) (batch_first: (N, L, ...)), the
        last layer's h_t for every t, and h_n (LSTM: (h_n, c_n)), every layer's final state.
        With an LSTM's proj_size, h_0, h_n and the output have proj_size features instead of
        hidden_size (c_0 and c_n keep hidden_size).
        """
        if input.ndim not in (2, 3):
            raise RuntimeError(f"{self._label()}: expected a 2-D (unbatched) or 3-D input, got "
                               f"shape {tuple(input.shape)}")
        _check_features(self._label(), input, self.input_size)
        unbatched = input.ndim == 2
        seq = unsqueeze(input, 1) if unbatched else \
            (transpose(input, 0, 1) if self.batch_first else input)     # (L, N, features)
        if seq.shape[0] == 0:
            raise RuntimeError(f"{self._label()}: expected a sequence length larger than 0, "
                               f"got input of shape {tuple(input.shape)}"
                               f"{' (batch_first)' if self.batch_first else ''}")
        state = self._initial_state(hx, seq.shape[1], seq, unbatched)

        finals = []
        for layer in range(self.num_layers):
            per_direction = []
            for d in range(self._directions):
                k = layer * self._directions + d
                outs, final = self._run_direction(seq, tuple(s[k] for s in state),
                                                  self._weights(layer, d), reverse=d == 1)
                per_direction.append(outs)
                finals.append(final)
            seq = cat(per_direction, dim=-1) if len(per_direction) > 1 else per_direction[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                seq = dropout_op(seq, self.dropout, training=True)

        output = transpose(seq, 0, 1) if self.batch_first and not unbatched else seq
        h_n = tuple(stack([f[i] for f in finals], dim=0) for i in range(len(state)))
        if unbatched:
            output = squeeze(output, 1)
            h_n = tuple(squeeze(h, 1) for h in h_n)
        return output, (h_n if self.mode == "LSTM" else h_n[0])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), per layer."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__(_rnn_mode(nonlinearity), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; forward returns output, (h_n, c_n). Gate order i, f, g, o.

    ``proj_size`` P > 0 (PyTorch's LSTM with projections): each layer and direction gets a
    weight_hr (P, hidden_size), and feeds back and outputs r_t = h_t W_hr^T (P features)
    instead of h_t, so weight_hh is (4 * hidden_size, P) and a layer above reads P features
    per direction; the cell state c keeps hidden_size."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit; gate order r, z, n (reset, update, new)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# Single cells: one step, for writing the time loop yourself
# ---------------------------------------------------------------------------------------------


class RNNCellBase(Module):
    """weight_ih (gates * hidden, input), weight_hh (gates * hidden, hidden), bias_ih, bias_hh."""

    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self._mode = mode
        cell, gates = _CELLS[mode]
        self._cell = cell
        rows, kw = gates * hidden_size, dict(dtype=dtype, device=device)
        self.weight_ih = _new_weight(rows, input_size, **kw)
        self.weight_hh = _new_weight(rows, hidden_size, **kw)
        if bias:
            self.bias_ih = _new_weight(rows, **kw)
            self.bias_hh = _new_weight(rows, **kw)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self)

    def _label(self) -> str:
        return (f"{type(self).__name__}(input_size={self.input_size}, "
                f"hidden_size={self.hidden_size})")

    def _prepare(self, input, hx):  # noqa: A002
        """Check shapes, add a batch dim to unbatched input, default the state to zeros."""
        if input.ndim not in (1, 2):
            raise RuntimeError(f"{self._label()}: expected a 1-D (unbatched) or 2-D input, got "
                               f"shape {tuple(input.shape)}")
        _check_features(self._label(), input, self.input_size)
        unbatched = input.ndim == 1
        x = unsqueeze(input, 0) if unbatched else input
        n_parts = 2 if self._mode == "LSTM" else 1
        if hx is None:
            shape = (x.shape[0], self.hidden_size)
            return x, tuple(zeros(*shape, dtype=x.dtype, device=x.device)
                            for _ in range(n_parts)), unbatched
        parts = tuple(hx) if n_parts == 2 else (hx,)
        expected = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
        for p in parts:
            if tuple(p.shape) != expected:
                raise RuntimeError(f"{self._label()}: expected a hidden state of shape "
                                   f"{expected}, got {tuple(p.shape)}")
        parts = tuple(unsqueeze(p, 0) for p in parts) if unbatched else parts
        return x, parts, unbatched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self._mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(_rnn_mode(nonlinearity), input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):  # noqa: A002
        x, (h,), unbatched = self._prepare(input, hx)
        h = self._cell(x, h, *self._weights())
        return squeeze(h, 0) if unbatched else h


class LSTMCell(RNNCellBase):
    """(h, c) -> (h', c'), see ``lstm_cell``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):  # noqa: A002
        x, state, unbatched = self._prepare(input, hx)
        h, c = self._cell(x, state, *self._weights())
        return (squeeze(h, 0), squeeze(c, 0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """h' = (1 - z) * n + z * h, see ``gru_cell``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):  # noqa: A002
        x, (h,), unbatched = self._prepare(input, hx)
        h = self._cell(x, h, *self._weights())
        return squeeze(h, 0) if unbatched else h
