"""The packed GEMM: A and B copied into panels, a tile of C (4 rows by 4 vector registers on
AVX-512: 4 x 64 float32; 2 registers with AVX2: 4 x 16) held in registers for the whole sum
over k.

``gemm_packed`` multiplies A by a B packed in advance (``pack_rhs``), so a product repeated
with one B packs it once: ``matmul_numba.matmul`` and ``matmul_by`` run on it, and so do the
compiled LSTM time loops in lstm_cell_numba.py (``pack_rhs``, ``gemm_packed_into``). The
micro-kernels are generated into _gemm_tiles.py.
"""

# The broadcast GEMM (gemm_broadcast_numba.py) loads and stores rows of C for every 4 values
# of k. The fastest GEMMs (GotoBLAS, BLIS, OpenBLAS) keep a tile of C in registers for the
# *whole* sum over k, and copy ("pack") A and B first so that the tile's inputs lie contiguously in the order the
# inner loop reads them:
#
#     A panel ib (4 rows):      a_panels[ib, k * 4 + r]  = A[4 ib + r, k]
#     B panel jb (V columns):   b_panels[jb, k * V + v]  = B[k, V jb + v]     (V: tile_width)
#
# Each tile C[4 ib : 4 ib + 4, V jb : V jb + V] is then one call of the micro-kernel
# ``tile_4xV`` (_gemm_tiles.py, generated): k_len steps of R vector loads of B, 4 broadcasts
# of A and 4 R vector FMAs, with all 4 x V sums in registers (R = 4 registers a row on
# AVX-512, V = 64 float32; R = 2 on AVX2, V = 16: ``tile_width``). Panels are zero-padded to whole
# tiles, so every tile is full; C is computed padded and cropped if M or N is not a multiple.
#
# Packing costs one pass over A and one over B. A product repeated with the same B (an RNN's
# W_hh at every time step) packs B once: ``pack_rhs`` + ``gemm_packed``. Timed by hand on the
# 2-core Zen 5 VM, one thread: 21 us for (32 x 128) @ (128 x 512) with B packed in
# advance, against 42 us for OpenBLAS on one thread (25 us on two); ~200 GFLOP/s, where the
# broadcast kernel reaches ~110. With benchmarks/kernels.py on the same VM, two threads:
# 1.17-1.77x OpenBLAS from 128^3 to 2048^3 float32 (5.43 vs 9.05 ms at 1024^3;
# benchmarks/results/cpu-amd-epyc-avx512-2core/kernels-matmul.md).

from __future__ import annotations

import numpy as np
from numba.core import types
from numba.extending import NativeValue, models, overload, register_model, typeof_impl, unbox

from . import _threads as threads
from ._cpu_isa import vector_bits
from ._gemm_tiles import TILES
from ._make_gemm_tiles import ROWS as TILE_ROWS
from ._make_gemm_tiles import tile_widths
from ._numba_cpu import compiled_with_slp, njit, numba, parallel_njit, prange


def tile_width(dtype, n: int) -> int:
    """Columns of C in one tile for the vector registers of the CPU Numba compiles for
    (_cpu_isa.vector_bits; the table: _make_gemm_tiles.tile_widths): 4 x 64 float32 on
    AVX-512, 4 x 16 on AVX2. The narrow tile (half the registers a row: 32 float32 on
    AVX-512, 8 on AVX2) for a result no wider than it (a linear layer's weight gradient for 32 input features), where
    the wide tile would be half padding (512x1024 @ 1024x32 on AVX-512: 207 us with 64-wide
    tiles, 147 us with 32-wide ones; OpenBLAS 174 us)."""
    wide, narrow = tile_widths(vector_bits(), np.dtype(dtype).itemsize)
    return narrow if n <= narrow else wide


# Which micro-kernel a compiled driver calls. The drivers below take a ``Tile`` argument whose
# *Numba type* carries the width, so ``run_tile`` picks the micro-kernel while the driver
# compiles: each width gets its own compiled (and cached) driver, and only the micro-kernels
# in use are ever compiled. (Picking by a plain integer at run time would compile all of
# them into every driver: seconds per micro-kernel.)

class Tile:
    """The register tile of width ``width`` (columns of C), as an argument of a driver."""

    __slots__ = ("width",)

    def __init__(self, width: int):
        if width not in TILES:
            raise ValueError(f"Tile: no micro-kernel {TILE_ROWS} x {width}; "
                             f"the widths are {sorted(TILES)}")
        self.width = width

    def __repr__(self):
        return f"Tile({self.width})"


class TileType(types.Type):
    """Numba's type of a ``Tile``: one type per width; the value itself holds nothing."""

    def __init__(self, width: int):
        self.width = width
        super().__init__(name=f"Tile({width})")


_TILE_TYPES: dict[int, TileType] = {}


@typeof_impl.register(Tile)
def _typeof_tile(tile, context):
    # Numba asks at every call from Python; making the type anew each time (Numba interns
    # types, through a hash of their key) cost ~7 us, as much as a whole 4x4 product
    tile_type = _TILE_TYPES.get(tile.width)
    if tile_type is None:
        tile_type = _TILE_TYPES[tile.width] = TileType(tile.width)
    return tile_type


register_model(TileType)(models.OpaqueModel)


@unbox(TileType)
def _unbox_tile(typ, obj, c):
    return NativeValue(c.context.get_dummy_value())


def run_tile(tile, a_panel, b_panel, k_len, c, i, j):
    """c[i:i+4, j:j+V] = (packed A panel) @ (packed B panel), k_len terms, with the
    micro-kernel of ``tile`` (V = tile.width). Compiled code calls it through the overload
    below; this Python version runs the same micro-kernel."""
    TILES[tile.width](a_panel, b_panel, k_len, c, i, j)


@overload(run_tile)
def _run_tile_compiled(tile, a_panel, b_panel, k_len, c, i, j):
    if not isinstance(tile, TileType):
        return None                       # Numba reports "no implementation" for the call
    kernel = TILES[tile.width]

    def call_kernel(tile, a_panel, b_panel, k_len, c, i, j):
        kernel(a_panel, b_panel, k_len, c, i, j)
    return call_kernel


def panel_tile(panels, k_len: int) -> Tile:
    """The ``Tile`` of packed panels (``pack_rhs``) of a B with ``k_len`` rows."""
    return Tile(panels.shape[1] // k_len)


@njit(cache=True, error_model="numpy")
def pack_lhs_into(a, panels):
    """panels[ib, k * 4 + r] = A[4 ib + r, k] (0 past the last row). a: any 2-D layout."""
    M, K = a.shape
    full = M // TILE_ROWS
    for ib in range(full):                       # four whole rows: no test per element
        dst = panels[ib]
        row0, row1 = a[ib * TILE_ROWS], a[ib * TILE_ROWS + 1]
        row2, row3 = a[ib * TILE_ROWS + 2], a[ib * TILE_ROWS + 3]
        for k in range(K):
            dst[k * TILE_ROWS] = row0[k]
            dst[k * TILE_ROWS + 1] = row1[k]
            dst[k * TILE_ROWS + 2] = row2[k]
            dst[k * TILE_ROWS + 3] = row3[k]
    for ib in range(full, panels.shape[0]):      # the last rows, padded with zeros
        for k in range(K):
            for r in range(TILE_ROWS):
                i = ib * TILE_ROWS + r
                panels[ib, k * TILE_ROWS + r] = a[i, k] if i < M else 0


@njit(cache=True, error_model="numpy")
def pack_rhs_into(b, panels):
    """panels[jb, k * V + v] = B[k, V jb + v] (0 past the last column), V = the panel width."""
    K, N = b.shape
    width = panels.shape[1] // K
    if b.strides[0] < b.strides[1]:       # B's columns are contiguous (a transposed view):
        panels[:] = 0                      # read it down the columns
        for j in range(N):
            jb, v = j // width, j % width
            for k in range(K):
                panels[jb, k * width + v] = b[k, j]
        return
    for jb in range(panels.shape[0]):
        for k in range(K):
            row = panels[jb, k * width:(k + 1) * width]
            for v in range(width):
                j = jb * width + v
                row[v] = b[k, j] if j < N else 0


@compiled_with_slp
@parallel_njit(cache=True, error_model="numpy")
def gemm_packed_into(a, b_panels, c, tile):
    """c (M rounded up to 4, V * panels of B) = A @ B: packs A, then one task per tile, spread
    over threads (tiles are independent: no two tasks write the same element). tile: the
    panels' ``Tile`` (``panel_tile``)."""
    M, k_len = a.shape
    tiles_down = (M + TILE_ROWS - 1) // TILE_ROWS
    a_panels = np.empty((tiles_down, k_len * TILE_ROWS), dtype=a.dtype)
    pack_lhs_into(a, a_panels)                # before the parallel loop: the calling thread
    width = b_panels.shape[1] // k_len
    for task in prange(tiles_down * b_panels.shape[0]):
        ib = task % tiles_down                 # neighbouring tasks share a B panel (cache)
        jb = task // tiles_down
        run_tile(tile, a_panels[ib], b_panels[jb], k_len, c, ib * TILE_ROWS, jb * width)


# A product whose packed B is small (a linear layer's weight, at most a few hundred KB) is
# run by row groups instead: each task packs its own few 4-row panels of A (a buffer that stays
# in L1/L2) and multiplies them by every panel of B, which all tasks read from their caches.
# ``gemm_packed_into`` packs all of A on the calling thread before its parallel loop, a serial
# pass over A that the other threads wait for; here the packing is spread over the threads
# with the tiles, in the same parallel loop (no second launch and barrier). Measured on the
# 2-core EPYC VM (2 threads, machine shared: best of 40 interleaved calls, operands hot, us,
# gemm_packed_into -> row groups of 8 panels): a linear layer's weight gradient
# (512 x 1536)^T-view @ (1536 x 32) 625 -> 375, (1536 x 512) @ (512 x 32) 204 -> 166,
# (1536 x 128) @ (128 x 90) 163 -> 153, (1536 x 90) @ (90 x 128) 107 -> 100,
# but (1536 x 32) @ (32 x 512) 130 -> 139 (146 -> 154 and 139 -> 151 in two later runs): with
# K = 32, A is small, its serial packing short, and each group's own allocation shows; so
# row groups run from K = 64 up. With a large B (the LSTM's dW_hh, (128 x 1536)^T @
# (1536 x 512), 3 MB of panels) every group would read all of B again: 777 -> 1008, so that
# keeps ``gemm_packed_into``. On one thread the two orders run in the same time (the tiles
# are the same; packing A costs the same either way).
SMALL_B_BYTES = 256 << 10
ROW_GROUPS_MIN_K = 64


@compiled_with_slp
@parallel_njit(cache=True, error_model="numpy")
def gemm_row_groups_into(a, b_panels, c, tile, group):
    """c = A @ B as ``gemm_packed_into``, one task per ``group`` 4-row panels of A, each
    packing its own panels and running them by every panel of B."""
    M, k_len = a.shape
    tiles_down = (M + TILE_ROWS - 1) // TILE_ROWS
    width = b_panels.shape[1] // k_len
    for task in prange((tiles_down + group - 1) // group):
        first = task * group
        count = min(group, tiles_down - first)
        a_panels = np.empty((count, k_len * TILE_ROWS), dtype=a.dtype)
        pack_lhs_into(a[first * TILE_ROWS:(first + count) * TILE_ROWS], a_panels)
        for jb in range(b_panels.shape[0]):
            for ib in range(count):
                run_tile(tile, a_panels[ib], b_panels[jb], k_len, c, (first + ib) * TILE_ROWS,
                         jb * width)


def _row_group(tiles_down: int, threads_now: int) -> int:
    """Panels of A per task of ``gemm_row_groups_into``: up to 8 (32 rows), fewer when that
    would leave under 4 tasks per thread."""
    return max(1, min(8, tiles_down // (4 * threads_now)))


def _run_parallel(a, b_panels, c, tile):
    """The parallel build of the driver that suits the sizes (see SMALL_B_BYTES)."""
    if b_panels.nbytes > SMALL_B_BYTES or a.shape[1] < ROW_GROUPS_MIN_K:
        gemm_packed_into.parallel(a, b_panels, c, tile)
        return
    tiles_down = -(-a.shape[0] // TILE_ROWS)
    gemm_row_groups_into.parallel(a, b_panels, c, tile,
                                  _row_group(tiles_down, numba.get_num_threads()))


def pack_rhs(b, width=None):
    """B (K, N) packed into panels of ``width`` columns (default ``tile_width``; another
    width of ``TILES`` for tests and benchmarks), for ``gemm_packed``."""
    K, N = b.shape
    width = tile_width(b.dtype, N) if width is None else Tile(width).width
    panels = np.empty(((N + width - 1) // width, K * width), dtype=b.dtype)
    pack_rhs_into(b, panels)
    return panels


def padded_product(rows, b_panels, k_len, dtype):
    """An uninitialised C for ``gemm_packed_into``: ``rows`` rounded up to whole tiles, by
    every column of the packed B (k_len rows of B)."""
    width = b_panels.shape[1] // k_len
    return np.empty((-(-rows // TILE_ROWS) * TILE_ROWS, b_panels.shape[0] * width), dtype=dtype)


def gemm_packed(a, b_panels, n, build=None):
    """A @ B for A (M, K) and B given packed (``pack_rhs(B)``, B with ``n`` columns).

    ``build``: "serial" or "parallel" to choose the driver's build (kernels/_threads.py);
    None lets the caller's ``threads_for`` block decide."""
    M, K = a.shape
    c = padded_product(M, b_panels, K, a.dtype)
    tile = panel_tile(b_panels, K)
    if build is None:
        build = "serial" if threads.serial_requested() else "parallel"
    if build == "serial":
        gemm_packed_into.serial(a, b_panels, c, tile)
    else:
        threads.launch(lambda: _run_parallel(a, b_panels, c, tile),
                       lambda: gemm_packed_into.serial(a, b_panels, c, tile))
    if c.shape != (M, n):
        return np.ascontiguousarray(c[:M, :n])
    return c
