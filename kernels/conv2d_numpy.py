"""2-D convolution, reference implementation: im2col + one matrix product (NumPy or CuPy).

Deep learning's "convolution" is a cross-correlation (the kernel is not flipped):

    y[n, f, i, j] = sum_{c, p, q} w[f, c, p, q] * xpad[n, c, i*sh + p*dh, j*sw + q*dw]

with xpad the input padded by (ph, pw) zeros, strides (sh, sw) and dilations (dh, dw); sizes are
in ``ConvGeometry`` (kernels/_validate.py).

im2col ("image to columns") turns this into a matrix product. For each output position
(n, i, j), the C*KH*KW input values its kernel window covers become one column of a matrix

    cols[(c, p, q), (n, i, j)] = xpad[n, c, i*sh + p*dh, j*sw + q*dw]    shape (C*KH*KW, N*OH*OW)

and then y = W @ cols with W = w viewed as (F, C*KH*KW): one large GEMM, the fastest thing a
BLAS (or cuBLAS) does. The price is memory: every input value is copied into up to KH*KW
columns.

We build cols without any Python loop: ``as_strided`` gives a *view* of xpad with shape
(N, C, KH, KW, OH, OW) whose strides step by dh/dw rows/columns along the kernel axes and by
sh/sw along the output axes (no data moves); the reshape to 2-D then makes the one copy.

Backward (gy = dL/dy, viewed as GY (F, N*OH*OW)):

    dL/dW    = GY @ cols.T                  (F, C*KH*KW): the same im2col, another GEMM
    dL/dcols = W.T @ GY                     (C*KH*KW, N*OH*OW)
    dL/dx    = col2im(dL/dcols)             each column adds its values back where im2col
                                            took them from ("scatter-add")

col2im loops over the KH*KW kernel offsets (p, q): for a fixed offset, the positions written
form a strided slice of xpad, distinct for distinct (i, j), so one vectorised ``+=`` per
offset adds all of them without conflicts. Where windows overlap, different offsets write the
same pixel, which is why the offsets are a loop and not one more axis.
"""

from __future__ import annotations

from ._device import array_module


def _pad(x, g):
    xp = array_module(x)
    if g.pad_h == 0 and g.pad_w == 0:
        return x
    return xp.pad(x, ((0, 0), (0, 0), (g.pad_h, g.pad_h), (g.pad_w, g.pad_w)))


def _windows(xpad, g):
    """View of xpad with shape (N, C, KH, KW, OH, OW): [n, c, p, q, i, j] is the pixel that
    kernel offset (p, q) sees at output position (i, j). No copy."""
    xp = array_module(xpad)
    s_n, s_c, s_h, s_w = xpad.strides
    return xp.lib.stride_tricks.as_strided(
        xpad,
        (g.N, g.C, g.KH, g.KW, g.OH, g.OW),
        (s_n, s_c, s_h * g.dil_h, s_w * g.dil_w, s_h * g.stride_h, s_w * g.stride_w),
    )


def im2col(x, g):
    """cols (C*KH*KW, N*OH*OW): column (n, i, j) holds the window under output (n, i, j)."""
    windows = _windows(_pad(x, g), g)                    # (N, C, KH, KW, OH, OW) view
    return windows.transpose(1, 2, 3, 0, 4, 5).reshape(g.C * g.KH * g.KW, g.N * g.OH * g.OW)


def col2im(cols, g):
    """Adjoint of im2col: add every column's values back into an (N, C, H, W) image."""
    xp = array_module(cols)
    cols = cols.reshape(g.C, g.KH, g.KW, g.N, g.OH, g.OW)
    padded = xp.zeros((g.N, g.C, g.H + 2 * g.pad_h, g.W + 2 * g.pad_w), dtype=cols.dtype)
    rows_span = g.stride_h * (g.OH - 1) + 1        # rows touched by one kernel offset
    cols_span = g.stride_w * (g.OW - 1) + 1
    for p in range(g.KH):
        for q in range(g.KW):
            top, left = p * g.dil_h, q * g.dil_w
            padded[:, :, top:top + rows_span:g.stride_h, left:left + cols_span:g.stride_w] += (
                cols[:, p, q].transpose(1, 0, 2, 3)    # (C, N, OH, OW) -> (N, C, OH, OW)
            )
    return xp.ascontiguousarray(padded[:, :, g.pad_h:g.pad_h + g.H, g.pad_w:g.pad_w + g.W])


def gy_matrix(gy, g):
    """gy (N, F, OH, OW) as the (F, N*OH*OW) matrix GY that matches cols' column order."""
    return gy.transpose(1, 0, 2, 3).reshape(g.F, g.N * g.OH * g.OW)


def conv2d(x, w, g):
    """y = W @ im2col(x), reshaped to (N, F, OH, OW)."""
    xp = array_module(x)
    y = w.reshape(g.F, -1) @ im2col(x, g)                 # (F, N*OH*OW)
    return xp.ascontiguousarray(y.reshape(g.F, g.N, g.OH, g.OW).transpose(1, 0, 2, 3))


def conv2d_backward_input(gy, w, g):
    """dL/dx = col2im(W.T @ GY)."""
    return col2im(w.reshape(g.F, -1).T @ gy_matrix(gy, g), g)


def conv2d_backward_weight(x, gy, g):
    """dL/dw = GY @ im2col(x).T, reshaped to (F, C, KH, KW)."""
    return (gy_matrix(gy, g) @ im2col(x, g).T).reshape(g.w_shape)
