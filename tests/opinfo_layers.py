"""Registry entries for convolution, pooling and attention (``nn.functional``).

Shapes are tiny and odd (N=2, C=3, H=W=5, kernel 3) so that finite differences stay fast;
each sample exercises one option (stride, padding, dilation, groups, bias, masks, ...).
The conv ops are bilinear and their backward passes are conv ops again, so their second
derivatives are checked too, on a few even smaller samples (the ``.double_backward`` entries):
gradgradcheck costs one double backward per first-derivative element.
"""

from __future__ import annotations

from opinfo import Sample, register, t

import minigrad as mg
import minigrad.nn.functional as F

# ---------------------------------------------------------------------------------------------
# Convolutions
# ---------------------------------------------------------------------------------------------

register("nn.functional.conv2d", F.conv2d, lambda r: [
    Sample(t(r, 2, 3, 5, 5), t(r, 4, 3, 3, 3), t(r, 4), desc="bias"),
    Sample(t(r, 2, 3, 5, 5), t(r, 2, 3, 3, 3), stride=2, padding=1, desc="stride 2, padding 1"),
    Sample(t(r, 1, 2, 6, 5), t(r, 3, 2, 2, 3), stride=(2, 1), padding=(1, 0), dilation=(2, 1),
           desc="rectangular kernel, per-dim settings"),
    Sample(t(r, 2, 4, 5, 5), t(r, 6, 2, 3, 3), t(r, 6), padding=1, groups=2, desc="groups 2"),
    Sample(t(r, 1, 3, 5, 5), t(r, 3, 1, 3, 3), groups=3, dilation=2, padding=2,
           desc="depthwise, dilation 2"),
    Sample(t(r, 1, 2, 4, 5), t(r, 2, 2, 2, 2), padding="same", desc="'same', even kernel"),
    Sample(t(r, 2, 5, 5), t(r, 2, 2, 3, 3), padding="valid", desc="unbatched"),
], gradgrad=False)

register("nn.functional.conv2d.double_backward", F.conv2d, lambda r: [
    Sample(t(r, 1, 2, 5, 4), t(r, 2, 2, 3, 3), t(r, 2), stride=2, padding=1,
           desc="stride, padding, bias"),
    Sample(t(r, 1, 2, 5, 5), t(r, 2, 1, 2, 2), groups=2, dilation=2, desc="groups, dilation"),
], covers=("nn.functional.conv2d",))

register("nn.functional.conv1d", F.conv1d, lambda r: [
    Sample(t(r, 2, 3, 7), t(r, 4, 3, 3), t(r, 4), desc="bias"),
    Sample(t(r, 2, 4, 9), t(r, 2, 2, 3), stride=2, padding=1, dilation=2, groups=2,
           desc="stride, padding, dilation, groups"),
    Sample(t(r, 1, 2, 6), t(r, 3, 2, 4), padding="same", desc="'same', even kernel"),
], gradgrad=False)  # conv1d is conv2d on height 1: its double backward is checked above

register("nn.functional.conv_transpose2d", F.conv_transpose2d, lambda r: [
    Sample(t(r, 2, 3, 4, 4), t(r, 3, 2, 3, 3), t(r, 2), desc="bias"),
    Sample(t(r, 1, 3, 3, 4), t(r, 3, 2, 3, 2), stride=2, padding=1, output_padding=1,
           desc="stride 2, padding 1, output_padding 1"),
    Sample(t(r, 1, 4, 3, 3), t(r, 4, 1, 2, 3), t(r, 2), groups=2, dilation=2,
           desc="groups 2, dilation 2"),
    Sample(t(r, 1, 2, 3, 3), t(r, 2, 2, 3, 3), padding=1, output_padding=1, dilation=2,
           desc="output_padding >= stride (dilation 2)"),
], gradgrad=False)

register("nn.functional.conv_transpose1d", F.conv_transpose1d, lambda r: [
    Sample(t(r, 2, 3, 5), t(r, 3, 2, 3), t(r, 2), desc="bias"),
    Sample(t(r, 1, 4, 4), t(r, 4, 1, 2), stride=3, padding=1, output_padding=2, groups=2,
           desc="stride, padding, output_padding, groups"),
    Sample(t(r, 2, 5), t(r, 2, 3, 3), dilation=2, desc="unbatched, dilation"),
], gradgrad=False)  # conv_transpose2d on height 1: its double backward is checked below

register("nn.functional.conv_transpose2d.double_backward", F.conv_transpose2d, lambda r: [
    Sample(t(r, 1, 2, 3, 2), t(r, 2, 2, 3, 3), t(r, 2), stride=2, padding=1, output_padding=1,
           desc="stride, padding, output_padding, bias"),
    Sample(t(r, 1, 2, 2, 3), t(r, 2, 1, 2, 2), groups=2, dilation=2, desc="groups, dilation"),
], covers=("nn.functional.conv_transpose2d",))

# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------

register("nn.functional.max_pool2d", F.max_pool2d, lambda r: [
    Sample(t(r, 2, 3, 5, 5), 2, desc="kernel 2, default stride"),
    Sample(t(r, 2, 3, 5, 5), 3, stride=2, padding=1, desc="overlapping windows, padding"),
    Sample(t(r, 1, 2, 6, 5), (3, 2), stride=(2, 1), dilation=(2, 1), ceil_mode=True,
           desc="dilation, ceil_mode"),
    Sample(t(r, 2, 5, 5), 3, stride=2, desc="unbatched"),
])

register("nn.functional.avg_pool2d", F.avg_pool2d, lambda r: [
    Sample(t(r, 2, 3, 5, 5), 2, desc="kernel 2"),
    Sample(t(r, 2, 3, 5, 5), 3, stride=2, padding=1, desc="padding counted"),
    Sample(t(r, 1, 2, 6, 5), 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False,
           desc="ceil_mode, padding not counted"),
    Sample(t(r, 1, 2, 5, 5), (2, 3), divisor_override=4, desc="divisor_override"),
])

register("nn.functional.adaptive_avg_pool2d", F.adaptive_avg_pool2d, lambda r: [
    Sample(t(r, 2, 3, 5, 5), 1, desc="global average"),
    Sample(t(r, 1, 2, 5, 7), (2, 3), desc="overlapping uneven windows"),
    Sample(t(r, 2, 4, 5), (None, 2), desc="unbatched, keep height"),
])

# ---------------------------------------------------------------------------------------------
# Attention
# ---------------------------------------------------------------------------------------------


def _bool_mask(r, *shape):
    """A random True-means-attend mask where every query sees at least one key."""
    m = r.random(shape) > 0.4
    m[..., 0] = True
    return mg.tensor(m)


def _dead_row_mask(r, L, S):
    m = r.random((L, S)) > 0.4
    m[..., 0] = True
    m[1] = False  # query 1 sees nothing: zero output and zero gradient, as in PyTorch
    return mg.tensor(m)


register("nn.functional.scaled_dot_product_attention", F.scaled_dot_product_attention,
         lambda r: [
             Sample(t(r, 2, 3, 4), t(r, 2, 5, 4), t(r, 2, 5, 3), desc="no mask"),
             Sample(t(r, 1, 2, 3, 4), t(r, 1, 2, 4, 4), t(r, 1, 2, 4, 2),
                    attn_mask=_bool_mask(r, 3, 4), desc="bool mask, heads"),
             Sample(t(r, 2, 3, 4), t(r, 2, 4, 4), t(r, 2, 4, 3), t(r, 2, 3, 4),
                    desc="float mask (differentiable)"),
             Sample(t(r, 2, 4, 3), t(r, 2, 4, 3), t(r, 2, 4, 2), is_causal=True, scale=0.7,
                    desc="causal, custom scale"),
             Sample(t(r, 1, 3, 2), t(r, 1, 4, 2), t(r, 1, 4, 2),
                    attn_mask=_dead_row_mask(r, 3, 4), desc="a fully masked query"),
         ], gradgrad=False)

register("nn.functional.scaled_dot_product_attention.double_backward",
         F.scaled_dot_product_attention, lambda r: [
             Sample(t(r, 1, 2, 3), t(r, 1, 3, 3), t(r, 1, 3, 2), attn_mask=_bool_mask(r, 2, 3),
                    desc="bool mask"),
         ], covers=("nn.functional.scaled_dot_product_attention",))


# The fused LSTM gate op (ops/lstm_gates.py): first and second derivatives, both outputs used
def _lstm_gates_both(gates, c):
    from minigrad.ops.lstm_gates import lstm_gates
    h, c_new = lstm_gates(gates, c)
    return h * 1.5 + c_new * c_new


register("lstm_gates", _lstm_gates_both, lambda r: [Sample(t(r, 3, 8), t(r, 3, 2))])
