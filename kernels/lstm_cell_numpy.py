"""The LSTM cell's gate arithmetic, reference implementation (NumPy or CuPy).

An LSTM step first computes the gate *pre-activations*, one product per step,

    gates = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        (N, 4H): blocks i, f, g, o

and then, element by element (this file):

    i = sigmoid(gates_i)   f = sigmoid(gates_f)   g = tanh(gates_g)   o = sigmoid(gates_o)
    c_t = f * c_{t-1} + i * g                     h_t = o * tanh(c_t)

``acts`` keeps (i, f, g, o) side by side in one (N, 4H) array and ``tanh_c`` keeps tanh(c_t):
the backward needs exactly these. With s' = s (1 - s) for a sigmoid and t' = 1 - t^2 for a
tanh, the chain rule gives, for gradients gh = dL/dh_t and gc = dL/dc_t arriving at the step:

    gc_total = gc + gh * o * (1 - tanh(c_t)^2)       (c_t reaches L directly and through h_t)
    d gates_i = gc_total * g * i (1 - i)           d gates_f = gc_total * c_{t-1} * f (1 - f)
    d gates_g = gc_total * i * (1 - g^2)           d gates_o = gh * tanh(c_t) * o (1 - o)
    dL/dc_{t-1} = gc_total * f

Written with NumPy that is about 15 passes over small arrays per step, each a separate call
(lstm_cell_numba.py does one pass). ``gate_grads`` is written with nothing but arithmetic so
that the framework runs the very same formula on Tensors when it needs second derivatives.
"""

from __future__ import annotations

from ._device import array_module


def sigmoid(xp, z):
    """1 / (1 + exp(-z)) without overflow: exp of a non-positive number only."""
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def lstm_cell(gates, c):
    """(h_t, c_t, acts, tanh_c) from gates (N, 4H) and c = c_{t-1} (N, H)."""
    xp = array_module(gates)
    hidden = c.shape[1]
    acts = xp.empty(gates.shape, dtype=gates.dtype)       # C order, whatever gates' layout
    acts[:, :2 * hidden] = sigmoid(xp, gates[:, :2 * hidden])              # i, f
    acts[:, 2 * hidden:3 * hidden] = xp.tanh(gates[:, 2 * hidden:3 * hidden])
    acts[:, 3 * hidden:] = sigmoid(xp, gates[:, 3 * hidden:])              # o
    i, f, g, o = split_gates(acts, hidden)
    c_new = xp.ascontiguousarray(f * c + i * g)      # a transposed c would make it F order
    tanh_c = xp.tanh(c_new)
    return o * tanh_c, c_new, acts, tanh_c


def split_gates(acts, hidden):
    """The four (N, H) blocks i, f, g, o of an (N, 4H) array (views)."""
    return tuple(acts[:, k * hidden:(k + 1) * hidden] for k in range(4))


def gate_grads(i, f, g, o, tanh_c, c, gh, gc, concat):
    """(d gates, dL/dc_{t-1}): the module docstring's formula. Pure arithmetic, so it runs on
    arrays and on anything else with + - * (the framework's Tensors); ``concat`` joins the four
    (N, H) blocks along the last axis."""
    gc_total = gc + gh * o * (1 - tanh_c * tanh_c)
    d_gates = concat([
        gc_total * g * i * (1 - i),
        gc_total * c * f * (1 - f),
        gc_total * i * (1 - g * g),
        gh * tanh_c * o * (1 - o),
    ])
    return d_gates, gc_total * f


def lstm_cell_backward(acts, tanh_c, c, gh, gc):
    """(d gates (N, 4H), dL/dc_{t-1} (N, H)) from what ``lstm_cell`` kept and the incoming
    gradients gh = dL/dh_t and gc = dL/dc_t."""
    xp = array_module(acts)
    i, f, g, o = split_gates(acts, c.shape[1])
    return gate_grads(i, f, g, o, tanh_c, c, gh, gc, lambda parts: xp.concatenate(parts, axis=1))


# ---------------------------------------------------------------------------------------------
# A whole layer over a sequence: the time loops around the cell (ops/lstm_sequence.py)
# ---------------------------------------------------------------------------------------------
#
# forward, t = 0 .. L-1 (x_proj[t] = x_t W_ih^T + biases, in processing order):
#     gates_t = x_proj[t] + h_{t-1} W_hh^T          then the cell: h_t, c_t, acts_t, tanh(c_t)
# backward, t = L-1 .. 0 (dh, dc: the gradients arriving from step t+1; g_hs[t] = dL/dh_t from
# the layer's output):
#     dh += g_hs[t];   d gates_t, dc = the cell's backward;   dh = d gates_t W_hh


def lstm_sequence(x_proj, h0, c0, w_hh, cell=None):
    """(hs, cs, acts, tanh_cs): every step's h_t, c_t (L, N, H), acts (L, N, 4H) and tanh(c_t)
    (L, N, H), for x_proj (L, N, 4H) in processing order, h0, c0 (N, H), w_hh (4H, H).
    ``cell``: the step's cell function (this file's ``lstm_cell`` by default; the CUDA
    implementation passes its kernel)."""
    cell = cell or lstm_cell
    xp = array_module(x_proj)
    steps, n, hidden = x_proj.shape[0], h0.shape[0], h0.shape[1]
    hs, cs, tanh_cs = (xp.empty((steps, n, hidden), dtype=x_proj.dtype) for _ in range(3))
    acts = xp.empty(x_proj.shape, dtype=x_proj.dtype)
    h, c, w_t = h0, c0, w_hh.T
    for t in range(steps):
        h, c, acts[t], tanh_cs[t] = cell(x_proj[t] + h @ w_t, c)
        hs[t], cs[t] = h, c
    return hs, cs, acts, tanh_cs


def lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn, cell_backward=None):
    """(d_gates (L, N, 4H), dL/dh0, dL/dc0): backpropagation through time of ``lstm_sequence``
    given what it kept, its c0 and w_hh, and the gradients of every h_t (g_hs, (L, N, H)) and
    of the final state (g_hn, g_cn, (N, H)). ``cell_backward`` as ``cell`` above."""
    cell_backward = cell_backward or lstm_cell_backward
    xp = array_module(acts)
    d_gates = xp.empty(acts.shape, dtype=acts.dtype)
    dh, dc = g_hn, g_cn
    for t in range(acts.shape[0] - 1, -1, -1):
        dh = dh + g_hs[t]
        d_gates[t], dc = cell_backward(acts[t], tanh_cs[t], cs[t - 1] if t else c0, dh, dc)
        dh = d_gates[t] @ w_hh
    return d_gates, dh, dc
