"""2-D convolution on the CPU with Numba: two algorithms around our own GEMM micro-kernel.

The math, im2col and col2im are explained in conv2d_numpy.py (read that first).

**Stride 1 (most layers): implicit GEMM, no im2col copy.** Pad the input once and lay it out
channel by channel, (C, N, Hp, Wp), as one flat array. Number the outputs on the *padded*
grid of every sample, l = n * Hp*Wp + i * Wp + j. Output l reads, for channel c and kernel
offset (p, q), the input at flat position

    l + offset(c, p, q),     offset(c, p, q) = c * N*Hp*Wp + p*dh * Wp + q*dw

so row (c, p, q) of im2col's matrix is the flat array *shifted* by offset(c, p, q): a view,
not a copy. The broadcast GEMM (gemm_broadcast_numba.py) reads its B matrix as rows that
start anywhere in a flat buffer, so it multiplies W (F x C*KH*KW) by these overlapping rows directly, in one GEMM
as wide as the whole batch (N*Hp*Wp columns). The price: outputs are computed on the padded
Hp x Wp grid instead of OH x OW, and the border is thrown away (60 of 256 on a 14x14 map with
3x3 'same' padding, 116 of 900 on 28x28); those outputs read across row and sample
boundaries, which is harmless because they are discarded. im2col instead copies KH*KW times
the input.

* forward: Y = W @ shifted(x), tiled and parallel like any GEMM, then cropped;
* backward input: the gradient of a stride-1 correlation is a stride-1 correlation of gy with
  the kernel flipped (w[f, c, KH-1-p, KW-1-q]) and its in/out channels swapped, padded by
  dh*(KH-1) - ph: the same kernel again;
* backward weight: dW (F x C*KH*KW) = gy @ shifted(x)^T, the long pixel axis now the
  GEMM's inner axis and contiguous in both operands, so each entry of dW is a dot product of
  two rows: ``gemm_nt`` (gemm_nt_numba.py), which keeps its sums in vector registers, split in
  chunks of the pixel axis summed at the end (split-K) so that both threads have work. The
  thrown-away outputs meet zeros in gy there, which would turn an infinite input into NaN
  (0 * inf), so an input with inf/NaN takes the im2col path instead.

**Enough filters (F >= 32, or F >= 16 with C*KH*KW < 64): the same correlation on register
tiles.** The packed GEMM's register tile (gemm_packed_numba.py, _gemm_tiles.py; 4 x 64
float32 where Numba compiles AVX-512, 4 x 16 for AVX2: ``tile_width``) keeps a tile of the
output in registers for the whole sum, where the broadcast GEMM reloads its rows of C every 4
values of k (with C*KH*KW = 27, a first layer's 3 x 3 x 3, it loads and stores every output
seven times). Here the tile is 4 filters by V output pixels of one sample (V = 64 on
AVX-512): W is packed once into panels of 4 filters, and for each chunk of V pixels its im2col
columns (a K x V B panel) are copied from the flat padded input as runs along output rows just before
the tiles use it. The tiles write straight into the NCHW output: only real outputs are
computed (not the padded grid's border) and no crop or transpose follows
(``_correlate_stride1_tiles``). Forward and input gradient: 3.8x the broadcast GEMM on
3 -> 64 channels at 32x32, 1.3x on 64 -> 128 at 16x16 (numbers at ``TILED_MIN_K``). From 512
products per output and 64 filters on, the weight gradient as well, as
dW^T = im2col(x) @ gy^T with gy packed as the B panels (``_weight_grad_tiles``).

**Other strides: im2col + GEMM.**

* ``im2col_into`` fills the (C*KH*KW, N*OH*OW) matrix directly from the unpadded input, with
  one thread per group of rows of cols. Out-of-range positions (the padding) are written as 0
  instead of building a padded copy of the input first.
* the products run on ``gemm`` (gemm_broadcast_numba.py), our cache-blocked parallel GEMM
  (not BLAS), and the weight gradient GY @ cols^T on ``gemm_nt`` (gemm_nt_numba.py, dot
  products of rows).
* ``col2im_into`` scatters gradients back with one thread per (sample, channel) image plane.
  Two kernel windows can add to the same pixel, but only within one plane, and one plane
  belongs to one thread: no two threads ever write the same pixel, so no atomics or locks.
"""

from __future__ import annotations

import numpy as np

from ._numba_cpu import compiled_with_slp, njit, parallel_njit, prange
from .conv2d_numpy import gy_matrix
from .gemm_broadcast_numba import MICRO_ROWS, gemm, gemm_views_into, row_starts
from .gemm_nt_numba import gemm_nt
from .gemm_packed_numba import TILE_ROWS, Tile, pack_lhs_into, run_tile, tile_width


@njit(inline="always", cache=True, error_model="numpy")
def _valid_outputs(size, offset, stride, count):
    """The range [lo, hi) of output indices j in [0, count) whose input index
    j*stride + offset lies inside [0, size). Looping over it needs no bounds test per element,
    which keeps the inner loops simple enough to vectorise."""
    lo = max(0, (-offset + stride - 1) // stride)            # ceil(-offset / stride)
    hi = min(count, (size - offset + stride - 1) // stride)  # ceil((size - offset) / stride)
    return lo, max(lo, hi)


@parallel_njit(cache=True, error_model="numpy")
def im2col_into(x, g, cols):
    """cols[(c, p, q), (n, i, j)] = x[n, c, i*sh - ph + p*dh, j*sw - pw + q*dw] (0 outside)."""
    for row in prange(g.C * g.KH * g.KW):
        c = row // (g.KH * g.KW)
        p = (row // g.KW) % g.KH
        q = row % g.KW
        offset_w = q * g.dil_w - g.pad_w
        lo, hi = _valid_outputs(g.W, offset_w, g.stride_w, g.OW)
        for n in range(g.N):
            for i in range(g.OH):
                h = i * g.stride_h - g.pad_h + p * g.dil_h
                start = (n * g.OH + i) * g.OW
                out = cols[row, start:start + g.OW]
                if h < 0 or h >= g.H:               # the whole output row reads padding
                    out[:] = 0
                    continue
                out[:lo] = 0                        # left padding
                out[hi:] = 0                        # right padding
                first = lo * g.stride_w + offset_w
                if g.stride_w == 1:                 # contiguous: a plain (vectorised) copy
                    out[lo:hi] = x[n, c, h, first:first + hi - lo]
                else:
                    src = x[n, c, h]
                    for j in range(hi - lo):
                        out[lo + j] = src[first + j * g.stride_w]


@parallel_njit(cache=True, error_model="numpy")
def col2im_into(cols, g, gx):
    """gx[n, c, h, v] += every cols entry that im2col took from x[n, c, h, v]; gx zeroed."""
    for plane in prange(g.N * g.C):
        n = plane // g.C
        c = plane % g.C
        for p in range(g.KH):
            for q in range(g.KW):
                row = (c * g.KH + p) * g.KW + q
                offset_w = q * g.dil_w - g.pad_w
                lo, hi = _valid_outputs(g.W, offset_w, g.stride_w, g.OW)
                first = lo * g.stride_w + offset_w
                for i in range(g.OH):
                    h = i * g.stride_h - g.pad_h + p * g.dil_h
                    if h < 0 or h >= g.H:
                        continue
                    start = (n * g.OH + i) * g.OW + lo
                    src = cols[row, start:start + hi - lo]
                    if g.stride_w == 1:              # contiguous: a loop LLVM vectorises
                        dst = gx[n, c, h, first:first + hi - lo]
                        for j in range(hi - lo):
                            dst[j] += src[j]
                    else:
                        dst = gx[n, c, h]
                        for j in range(hi - lo):
                            dst[first + j * g.stride_w] += src[j]


def im2col(x, g):
    cols = np.empty((g.C * g.KH * g.KW, g.N * g.OH * g.OW), dtype=x.dtype)
    im2col_into(np.ascontiguousarray(x), g, cols)
    return cols


def conv2d_im2col(x, w, g):
    """y = W @ im2col(x) with W = w as (F, C*KH*KW), reshaped to (N, F, OH, OW)."""
    y = gemm(w.reshape(g.F, -1), im2col(x, g))                       # (F, N*OH*OW)
    return np.ascontiguousarray(y.reshape(g.F, g.N, g.OH, g.OW).transpose(1, 0, 2, 3))


def conv2d_backward_input_im2col(gy, w, g):
    """dL/dx = col2im(W.T @ GY)."""
    grad_cols = gemm(w.reshape(g.F, -1).T, gy_matrix(gy, g))        # (C*KH*KW, N*OH*OW)
    gx = np.zeros(g.x_shape, dtype=gy.dtype)
    col2im_into(grad_cols, g, gx)
    return gx


def conv2d_backward_weight_im2col(x, gy, g):
    """dL/dw = GY @ im2col(x)^T: both GY (F, N*OH*OW) and cols (C*KH*KW, N*OH*OW) have the
    long pixel axis along their rows, so every entry of dW is a dot product of two rows
    (``gemm_nt``)."""
    gy_rows = np.ascontiguousarray(gy_matrix(gy, g))                  # copy: f x (n, i, j)
    cols = im2col(x, g)
    k_len = g.N * g.OH * g.OW
    grad_w = gemm_nt(gy_rows.ravel(), row_starts(g.F, k_len), cols.ravel(),
                     row_starts(cols.shape[0], k_len), k_len)         # (F, C*KH*KW)
    return grad_w.reshape(g.w_shape)


# ---------------------------------------------------------------------------------------------
# Stride 1: implicit GEMM on shifted views of the flat padded input
# ---------------------------------------------------------------------------------------------

# Elements left between two channels' planes in the flat padded input (and between the rows of
# the weight gradient's gy grid). Without the gap, a 64-sample 16x16 padded plane is 64 KiB of
# float32, so the rows that one step of the micro-kernel reads from successive channels all sit
# at the same address modulo 4 KiB: they fall into the same set of the L1 cache and evict each
# other (on the layer 16->32 at 14x14: 84-101 GFLOP/s serial without the gap, 99-104 with it).
CHANNEL_GAP = 16


def _plane_stride(plane: int) -> int:
    """Distance between two channels' planes of ``plane`` elements: the plane plus the gap."""
    return plane + CHANNEL_GAP


def _padded_flat(x, pad_h, pad_w, tail):
    """x (N, C, H, W) zero-padded and laid out channel by channel, (C, N, Hp, Wp), returned
    flat with ``tail`` more zeros (the last shifted row reads past the end of the last image);
    channel c starts at c * stride (the plane plus CHANNEL_GAP zeros).

    Channel-major, so that one shifted row runs through *all* samples of its channel: the
    GEMM's width is then N * Hp * Wp, wide enough to tile well even for small images."""
    N, C, H, W = x.shape
    hp, wp = H + 2 * pad_h, W + 2 * pad_w
    plane = N * hp * wp
    stride = _plane_stride(plane)
    flat = np.zeros(C * stride + tail, dtype=x.dtype)
    grid = flat[:C * stride].reshape(C, stride)[:, :plane].reshape(C, N, hp, wp)
    grid[:, :, pad_h:pad_h + H, pad_w:pad_w + W] = x.transpose(1, 0, 2, 3)
    return flat, hp, wp, stride


def _shifted_rows(x, KH, KW, pad_h, pad_w, dil_h, dil_w):
    """The im2col matrix of x as a row view, without the copy: (flat, starts, Hp, Wp) with
    row (c, p, q) = flat[starts[(c, p, q)] + l] for l over every sample's padded grid,
    starts = c * stride + p*dh * Wp + q*dw (stride: a channel's plane N*Hp*Wp plus the gap)."""
    N, C, H, W = x.shape
    wp = W + 2 * pad_w
    tail = (KH - 1) * dil_h * wp + (KW - 1) * dil_w
    flat, hp, wp, stride = _padded_flat(x, pad_h, pad_w, tail)
    c, p, q = np.meshgrid(np.arange(C), np.arange(KH), np.arange(KW), indexing="ij")
    starts = (c * stride + p * dil_h * wp + q * dil_w).ravel().astype(np.int64)
    return flat, starts, hp, wp


# The register tiles below compute every stride-1 correlation with at least TILED_MIN_F
# filters, and those with fewer than TILED_MIN_K products per output (C*KH*KW) from
# TILED_SMALL_K_MIN_F filters on; the rest take the broadcast GEMM on the padded grid. CPU ms,
# one thread, batch 32, 3x3 'same', 2-core Zen 5 VM (shared), broadcast GEMM + crop against
# tiles: 3 -> 64 channels at 32x32 3.18 vs 0.83; 1 -> 16 at 28x28 0.30 vs 0.18; 16 -> 32 at
# 14x14 0.78 vs 0.69; 64 -> 128 at 16x16 8.76 vs 6.69; 128 -> 128 at 8x8 4.03 vs 3.50. With
# many products and few filters a tile of 4 filters is mostly loads of its B panel: 32 -> 16 at
# 14x14 (the input gradient of 16 -> 32) 0.97 vs 1.05; 3 -> 5 at 9x9 0.05 vs 0.07.
TILED_MIN_K = 64
TILED_MIN_F = 32
TILED_SMALL_K_MIN_F = 16


def _takes_tiles(k_len: int, n_filters: int) -> bool:
    """Whether a stride-1 correlation with ``k_len`` products per output and ``n_filters``
    filters runs on the register tiles (``_correlate_stride1_tiles``)."""
    return n_filters >= TILED_MIN_F or (k_len < TILED_MIN_K
                                        and n_filters >= TILED_SMALL_K_MIN_F)


@njit(inline="always", cache=True, error_model="numpy")
def _gather_b_panel(flat, starts, runs, sources, targets, lengths, width, b_panel):
    """b_panel[k * width + v] = flat[starts[k] + (padded-grid place of the chunk's pixel v)],
    copied as ``runs`` contiguous runs (one per output row the chunk touches)."""
    for k in range(starts.shape[0]):
        s = starts[k]
        for r in range(runs):
            dst = b_panel[k * width + targets[r]:k * width + targets[r] + lengths[r]]
            src = flat[s + sources[r]:s + sources[r] + lengths[r]]
            for e in range(lengths[r]):
                dst[e] = src[e]


@compiled_with_slp
@parallel_njit(cache=True, error_model="numpy")
def _correlate_tiles_into(flat, starts, plane, wp, ow, a_panels, n_filters, width, tile, y):
    """y[n * F + f, l] = sum over k of W[f, k] * flat[starts[k] + place(n, l)] for every
    sample n and output pixel l = i * OW + j of it (place(n, l) = n*Hp*Wp + i*Wp + j on the
    padded grid): the correlation in 4 x ``width`` register tiles, written straight into the
    NCHW output y viewed as (N * F, OH * OW).

    One task per sample and chunk of ``width`` output pixels: the chunk's im2col columns are
    gathered into a B panel (K x width, in L1/L2), which then meets every packed panel of 4
    filters (``a_panels``). A chunk at the end of a sample, and the last panel when F is not
    a multiple of 4, go through a small scratch tile (a whole tile would spill into the next
    sample's rows)."""
    k_len = starts.shape[0]
    n_samples = y.shape[0] // n_filters
    pixels = y.shape[1]
    chunks = (pixels + width - 1) // width
    for task in prange(n_samples * chunks):
        n = task // chunks
        l0 = (task % chunks) * width
        count = min(width, pixels - l0)
        # the chunk's pixels as runs along output rows: run r copies lengths[r] values from
        # padded-grid place sources[r] to panel column targets[r]
        sources = np.empty(width, dtype=np.int64)
        targets = np.empty(width, dtype=np.int64)
        lengths = np.empty(width, dtype=np.int64)
        runs = 0
        v = 0
        while v < count:
            j = (l0 + v) % ow
            length = min(ow - j, count - v)
            sources[runs] = n * plane + ((l0 + v) // ow) * wp + j
            targets[runs] = v
            lengths[runs] = length
            runs += 1
            v += length
        b_panel = np.empty(k_len * width, dtype=flat.dtype)
        if count < width:               # columns past the chunk: zeros, results dropped
            b_panel[:] = 0
        _gather_b_panel(flat, starts, runs, sources, targets, lengths, width, b_panel)
        scratch = np.empty((TILE_ROWS, width), dtype=flat.dtype)
        row0 = n * n_filters
        for ib in range(a_panels.shape[0]):
            f0 = ib * TILE_ROWS
            whole = count == width and f0 + TILE_ROWS <= n_filters
            out, i, j = (y, row0 + f0, l0) if whole else (scratch, 0, 0)
            run_tile(tile, a_panels[ib], b_panel, k_len, out, i, j)
            if not whole:
                for r in range(min(TILE_ROWS, n_filters - f0)):
                    y[row0 + f0 + r, l0:l0 + count] = scratch[r, :count]


def _correlate_stride1_tiles(x, w, pad_h, pad_w, dil_h, dil_w):
    """``_correlate_stride1`` on register tiles: y[n] (F, OH*OW) = W (F, C*KH*KW) @ im2col of
    sample n, its columns gathered chunk by chunk from the flat padded input
    (``_correlate_tiles_into``), only real outputs computed, written in NCHW directly."""
    N = x.shape[0]
    F, C, KH, KW = w.shape
    flat, starts, hp, wp = _shifted_rows(x, KH, KW, pad_h, pad_w, dil_h, dil_w)
    oh, ow = hp - dil_h * (KH - 1), wp - dil_w * (KW - 1)
    k_len = C * KH * KW
    a_panels = np.empty((-(-F // TILE_ROWS), k_len * TILE_ROWS), dtype=x.dtype)
    pack_lhs_into(np.ascontiguousarray(w).reshape(F, k_len), a_panels)
    y = np.empty((N, F, oh, ow), dtype=x.dtype)
    width = tile_width(x.dtype, oh * ow)
    _correlate_tiles_into(flat, starts, hp * wp, wp, ow, a_panels, F, width,
                          Tile(width), y.reshape(N * F, oh * ow))
    return y


def _output_positions(N, hp, wp, oh, ow):
    """Where each output (n, i, j) sits on the padded grid, n*Hp*Wp + i*Wp + j, in output
    order, padded with zeros (a harmless read, its result dropped) to whole tiles of 4."""
    count = N * oh * ow
    positions = np.zeros(-(-count // TILE_ROWS) * TILE_ROWS, dtype=np.int64)
    positions[:count] = (np.arange(N)[:, None, None] * (hp * wp)
                         + np.arange(oh)[:, None] * wp + np.arange(ow)).ravel()
    return positions


# The weight gradient on register tiles from this many products per output and filters on:
# 64 -> 128 channels at 16x16, batch 32: 9.4 vs 10.8 ms; 128 -> 128 at 8x8: 4.5 vs 6.3 ms;
# but 16 -> 32 at 14x14 (K = 144): 1.8 vs 1.2 ms (one thread, CPU time, shared 2-core VM).
WGRAD_TILED_MIN_K = 512
WGRAD_TILED_MIN_F = 64

# Output pixels summed per task of ``_weight_grad_tiles_into`` (split-K): the task's slice of
# packed gy (1024 x 64 float32, 256 KiB) stays in L2, its A panel (16 KiB) in L1.
PIXELS_PER_CHUNK = 1024


@njit(cache=True, error_model="numpy")
def _pack_gy_into(gy, panels):
    """panels[jb, l * V + v] = gy[n, V jb + v, i, j] for output pixel l = (n, i, j), 0 for
    filters past F: gy^T (pixels x filters) packed as the tiles' B panels."""
    N, F, OH, OW = gy.shape
    pixels = OH * OW
    width = panels.shape[1] // (N * pixels)
    panels[:] = 0
    for n in range(N):
        for f in range(F):
            plane = gy[n, f].ravel()
            dst = panels[f // width]
            v = f % width
            for p in range(pixels):
                dst[(n * pixels + p) * width + v] = plane[p]


@compiled_with_slp
@parallel_njit(cache=True, error_model="numpy")
def _weight_grad_tiles_into(flat, starts, positions, gy_panels, partial, tile):
    """partial[chunk, k, f] = sum over the chunk's output pixels l of
    flat[starts[k] + positions[l]] * gy[f, l]: dW^T in 4 x V tiles, one task per 4 rows of k
    and chunk of PIXELS_PER_CHUNK pixels (summed over chunks by the caller)."""
    k_len = starts.shape[0]
    count = positions.shape[0]
    k_tiles = partial.shape[1] // TILE_ROWS
    width = gy_panels.shape[1] // count
    for task in prange(k_tiles * partial.shape[0]):
        chunk = task // k_tiles              # neighbouring tasks share a chunk of gy
        k0 = (task % k_tiles) * TILE_ROWS
        l0 = chunk * PIXELS_PER_CHUNK
        length = min(count, l0 + PIXELS_PER_CHUNK) - l0
        a_panel = np.empty(length * TILE_ROWS, dtype=flat.dtype)
        s0 = starts[min(k0, k_len - 1)]      # rows past K repeat the last (results dropped)
        s1 = starts[min(k0 + 1, k_len - 1)]
        s2 = starts[min(k0 + 2, k_len - 1)]
        s3 = starts[min(k0 + 3, k_len - 1)]
        for l in range(length):
            p = positions[l0 + l]
            a_panel[4 * l] = flat[s0 + p]
            a_panel[4 * l + 1] = flat[s1 + p]
            a_panel[4 * l + 2] = flat[s2 + p]
            a_panel[4 * l + 3] = flat[s3 + p]
        for jb in range(gy_panels.shape[0]):
            b_panel = gy_panels[jb, l0 * width:(l0 + length) * width]
            run_tile(tile, a_panel, b_panel, length, partial[chunk], k0, jb * width)


def _weight_grad_tiles(x, gy, g):
    """dW = gy @ im2col(x)^T over the real outputs only, as dW^T = im2col(x) @ gy^T on
    register tiles: A panels gathered from the flat padded input (as in the forward), gy
    packed once; split over chunks of pixels, the chunks' sums added at the end."""
    flat, starts, hp, wp = _shifted_rows(x, g.KH, g.KW, g.pad_h, g.pad_w, g.dil_h, g.dil_w)
    count = g.N * g.OH * g.OW
    positions = _output_positions(g.N, hp, wp, g.OH, g.OW)[:count]
    width = tile_width(gy.dtype, g.F)
    gy_panels = np.empty((-(-g.F // width), count * width), dtype=gy.dtype)
    _pack_gy_into(np.ascontiguousarray(gy), gy_panels)
    k_len = starts.shape[0]
    chunks = -(-count // PIXELS_PER_CHUNK)
    partial = np.empty((chunks, -(-k_len // TILE_ROWS) * TILE_ROWS, gy_panels.shape[0] * width),
                       dtype=x.dtype)
    _weight_grad_tiles_into(flat, starts, positions, gy_panels, partial, Tile(width))
    grad_w_t = partial.sum(axis=0)[:k_len, :g.F]                      # (C*KH*KW, F)
    return np.ascontiguousarray(grad_w_t.T).reshape(g.w_shape)


def _correlate_stride1(x, w, pad_h, pad_w, dil_h, dil_w):
    """Stride-1 cross-correlation of x (N, C, H, W) with w (F, C, KH, KW): (N, F, OH, OW).

    One GEMM, (F, C*KH*KW) @ (C*KH*KW, N*Hp*Wp), whose B rows are shifted views of the
    padded input; the result covers every sample's padded grid and is cropped to OH x OW.
    With enough filters (``_takes_tiles``), the register tiles instead
    (``_correlate_stride1_tiles``), which compute only the real outputs, in NCHW."""
    N = x.shape[0]
    F, C, KH, KW = w.shape
    if _takes_tiles(C * KH * KW, F):
        return _correlate_stride1_tiles(x, w, pad_h, pad_w, dil_h, dil_w)
    flat, starts, hp, wp = _shifted_rows(x, KH, KW, pad_h, pad_w, dil_h, dil_w)
    oh, ow = hp - dil_h * (KH - 1), wp - dil_w * (KW - 1)
    w_mat = np.ascontiguousarray(w).reshape(F, C * KH * KW)
    y = np.empty((F, N * hp * wp), dtype=x.dtype)            # every sample's padded grid
    gemm_views_into(w_mat.ravel(), row_starts(F, C * KH * KW), flat, starts, y)
    return np.ascontiguousarray(y.reshape(F, N, hp, wp)[:, :, :oh, :ow].transpose(1, 0, 2, 3))


def conv2d(x, w, g):
    if g.stride_h == 1 and g.stride_w == 1:
        return _correlate_stride1(x, w, g.pad_h, g.pad_w, g.dil_h, g.dil_w)
    return conv2d_im2col(x, w, g)


def conv2d_backward_input(gy, w, g):
    """Stride 1: correlate gy with the flipped, channel-swapped kernel (see the docstring)."""
    pad_h, pad_w = g.dil_h * (g.KH - 1) - g.pad_h, g.dil_w * (g.KW - 1) - g.pad_w
    if g.stride_h != 1 or g.stride_w != 1 or pad_h < 0 or pad_w < 0 or g.C < MICRO_ROWS:
        # (with fewer than 4 input channels the product has fewer rows than the micro-kernel:
        # 5.4 ms against 3.2 ms for im2col on a 3-channel 64x64 layer)
        return conv2d_backward_input_im2col(gy, w, g)
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)          # (C, F, KH, KW)
    return _correlate_stride1(gy, flipped, pad_h, pad_w, g.dil_h, g.dil_w)


def conv2d_backward_weight(x, gy, g):
    """Stride 1, finite input: dW = gy @ shifted(x)^T, each entry a dot product along the
    pixel axis (``gemm_nt``; see the docstring)."""
    if g.stride_h != 1 or g.stride_w != 1 or not np.isfinite(x).all():
        return conv2d_backward_weight_im2col(x, gy, g)
    if g.C * g.KH * g.KW >= WGRAD_TILED_MIN_K and g.F >= WGRAD_TILED_MIN_F:
        return _weight_grad_tiles(x, gy, g)
    flat, starts, hp, wp = _shifted_rows(x, g.KH, g.KW, g.pad_h, g.pad_w, g.dil_h, g.dil_w)
    # gy on every sample's padded grid, channel by channel, zeros where no output is
    k_len = g.N * hp * wp
    stride = _plane_stride(k_len)
    gy_rows = np.zeros((g.F, stride), dtype=gy.dtype)
    gy_grid = gy_rows[:, :k_len].reshape(g.F, g.N, hp, wp)
    gy_grid[:, :, :g.OH, :g.OW] = gy.transpose(1, 0, 2, 3)
    gy_starts = np.arange(g.F, dtype=np.int64) * stride
    grad_w = gemm_nt(gy_rows.ravel(), gy_starts, flat, starts, k_len)
    return grad_w.reshape(g.w_shape)                                  # (F, C*KH*KW)
