"""matmul: every CPU implementation against a float64 product, plus argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_testing import CPU_IMPLS, DTYPES, assert_close, random_array

from minigrad import kernels as K


def truth(a, b):
    return np.asarray(a, np.float64) @ np.asarray(b, np.float64)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "m, k, n",
    [
        (1, 1, 1),
        (5, 7, 3),        # smaller than every tile
        (4, 4, 4),        # exactly one 4x4 micro-kernel step
        (67, 261, 515),   # crosses the 64-row tile, the 256-deep K block, the 512-column tile,
                          # and leaves remainders (67 % 4, 261 % 4) for the clean-up loops
        (130, 9, 33),
    ],
)
def test_matches_float64_product(impl, dtype, m, k, n, kernel_rng):
    a = random_array(kernel_rng, (m, k), dtype)
    b = random_array(kernel_rng, (k, n), dtype)
    c = K.matmul(a, b, impl=impl)
    assert c.dtype == dtype and c.shape == (m, n)
    assert_close(c, truth(a, b), scale=np.sqrt(k))


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(1, 40), k=st.integers(1, 40), n=st.integers(1, 40),
    dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**31 - 1),
)
@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_random_odd_shapes(impl, m, k, n, dtype, seed):
    rng = np.random.default_rng(seed)
    a, b = random_array(rng, (m, k), dtype), random_array(rng, (k, n), dtype)
    assert_close(K.matmul(a, b, impl=impl), truth(a, b), scale=np.sqrt(k))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_non_contiguous_operands(impl, kernel_rng):
    a = random_array(kernel_rng, (9, 6), np.float64).T        # (6, 9), Fortran order
    b = random_array(kernel_rng, (9, 22), np.float64)[:, ::2]  # (9, 11), strided
    assert_close(K.matmul(a, b, impl=impl), truth(a, b))


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("m, k, n", [(0, 3, 2), (3, 0, 2), (3, 2, 0)])
def test_empty(impl, m, k, n):
    c = K.matmul(np.ones((m, k), np.float32), np.ones((k, n), np.float32), impl=impl)
    assert c.shape == (m, n) and c.dtype == np.float32
    assert not c.any()                          # an empty sum is zero


def test_shape_mismatch_names_op_shapes_and_dtypes():
    a, b = np.ones((3, 4), np.float32), np.ones((5, 2), np.float32)
    with pytest.raises(ValueError) as err:
        K.matmul(a, b)
    message = str(err.value)
    for part in ("kernels.matmul", "(3, 4)", "(5, 2)", "float32", "4 != 5"):
        assert part in message


@pytest.mark.parametrize(
    "a, b, why",
    [
        (np.ones((3, 4), np.float32), np.ones((4, 2), np.float64), "dtypes differ"),
        (np.ones((3, 4), np.int64), np.ones((4, 2), np.int64), "float32 or float64"),
        (np.ones(4, np.float32), np.ones((4, 2), np.float32), "2-D"),
        (np.ones((2, 3, 4), np.float32), np.ones((4, 2), np.float32), "2-D"),
    ],
)
def test_invalid_operands(a, b, why):
    with pytest.raises(ValueError, match=why):
        K.matmul(a, b)


def test_non_array_argument():
    with pytest.raises(TypeError, match="kernels.matmul"):
        K.matmul([[1.0]], np.ones((1, 1)))


# ---------------------------------------------------------------------------------------------
# The broadcast GEMM on row views (the convolution's forward and input-gradient product)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (7, 5, 3), (70, 300, 530)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcast_gemm(m, k, n, dtype, kernel_rng):
    """70 x 300 x 530 crosses the 64-row tiles, the 256-deep K blocks and the 512-column
    tiles, and leaves rows over after groups of 4 (the one-row clean-up)."""
    broadcast = pytest.importorskip("minigrad.kernels.gemm_broadcast_numba")
    a = random_array(kernel_rng, (m, k), dtype)
    b = random_array(kernel_rng, (k, n), dtype)
    c = broadcast.gemm(a, b)
    assert c.dtype == dtype and c.shape == (m, n)
    assert_close(c, truth(a, b), scale=np.sqrt(k))


def test_the_gemms_are_importable_from_matmul_numba():
    """matmul_numba.py names the three GEMM modules' public functions too, so code that
    imports them from there keeps working."""
    matmul_numba = pytest.importorskip("minigrad.kernels.matmul_numba")
    from minigrad.kernels import gemm_broadcast_numba, gemm_nt_numba, gemm_packed_numba
    for module in (gemm_broadcast_numba, gemm_nt_numba, gemm_packed_numba):
        public = [name for name in vars(module) if not name.startswith("_")
                  and getattr(getattr(module, name), "__module__", None) == module.__name__]
        assert public
        for name in public:
            assert getattr(matmul_numba, name) is getattr(module, name), name


# ---------------------------------------------------------------------------------------------
# The Numba "NT" kernel, C = A @ B^T on row views (the convolution weight gradient's product)
# ---------------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(
    m=st.integers(1, 11), n=st.integers(1, 11), k=st.integers(1, 1300),
    dtype=st.sampled_from(DTYPES), build=st.sampled_from(["parallel", "serial"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_gemm_nt_on_row_views(m, n, k, dtype, build, seed):
    """Rows that start anywhere in one flat buffer, overlapping like a convolution's shifted
    rows; K up to 1300 crosses the 512-long chunks and uneven split-K groups; m, n not
    multiples of 4 exercise the 4x1 and 1x1 clean-up kernels."""
    numba_kernels = pytest.importorskip("minigrad.kernels.gemm_nt_numba")
    from minigrad.kernels import _threads
    rng = np.random.default_rng(seed)
    flat_a = random_array(rng, (m * 3 + k,), dtype)
    flat_b = random_array(rng, (n * 5 + k,), dtype)
    a_rows = rng.integers(0, m * 3 + 1, m)
    b_rows = rng.integers(0, n * 5 + 1, n)
    a = np.stack([flat_a[s:s + k] for s in a_rows])
    b = np.stack([flat_b[s:s + k] for s in b_rows])
    old = _threads.SMALL_WORK
    _threads.SMALL_WORK = 0 if build == "parallel" else 1 << 40
    try:
        with _threads.threads_for(m * k + n * k):
            c = numba_kernels.gemm_nt(flat_a, a_rows, flat_b, b_rows, k)
    finally:
        _threads.SMALL_WORK = old
    assert c.dtype == dtype and c.shape == (m, n)
    assert_close(c, truth(a, b.T), scale=np.sqrt(k))


# ---------------------------------------------------------------------------------------------
# The packed GEMM (register tiles from packed panels) and its generated micro-kernels
# ---------------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(
    m=st.integers(1, 70), k=st.integers(1, 150), n=st.integers(1, 140),
    dtype=st.sampled_from(DTYPES), build=st.sampled_from(["parallel", "serial"]),
    transposed=st.booleans(), b_transposed=st.booleans(), seed=st.integers(0, 2**31 - 1),
)
def test_gemm_packed(m, k, n, dtype, build, transposed, b_transposed, seed):
    """Odd sizes leave partial tiles on both edges (4 rows, 64 or 32 columns), which the
    panels pad with zeros and the result crops; A and B may be any layout (transposed views:
    B's columns contiguous take the other packing loop)."""
    numba_kernels = pytest.importorskip("minigrad.kernels.gemm_packed_numba")
    from minigrad.kernels import _threads
    rng = np.random.default_rng(seed)
    a = random_array(rng, (k, m), dtype).T if transposed else random_array(rng, (m, k), dtype)
    b = random_array(rng, (n, k), dtype).T if b_transposed else random_array(rng, (k, n), dtype)
    old = _threads.SMALL_WORK
    _threads.SMALL_WORK = 0 if build == "parallel" else 1 << 40
    try:
        with _threads.threads_for(a.size + b.size):
            c = numba_kernels.gemm_packed(a, numba_kernels.pack_rhs(b), n)
    finally:
        _threads.SMALL_WORK = old
    assert c.dtype == dtype and c.shape == (m, n) and c.flags.c_contiguous
    assert_close(c, truth(a, b), scale=np.sqrt(k))


@pytest.mark.parametrize("build", ["parallel", "serial"])
@pytest.mark.parametrize("group", [1, 3, 8])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_row_groups(dtype, group, build, kernel_rng):
    """The row-group driver: groups that do not divide the row tiles (the last group short,
    its last tile partial), A a transposed view, N over two panels with a partial one."""
    numba_kernels = pytest.importorskip("minigrad.kernels.gemm_packed_numba")
    m, k, n = 4 * 3 * group + 4 * group + 3, 41, 83
    a = random_array(kernel_rng, (k, m), dtype).T
    b = random_array(kernel_rng, (k, n), dtype)
    panels = numba_kernels.pack_rhs(b)
    tile = numba_kernels.panel_tile(panels, k)
    c = numba_kernels.padded_product(m, panels, k, dtype)
    getattr(numba_kernels.gemm_row_groups_into, build)(a, panels, c, tile, group)
    assert_close(c[:m, :n], truth(a, b), scale=np.sqrt(k))


@pytest.mark.parametrize(("m", "k", "n", "driver"), [
    (301, 71, 45, "gemm_row_groups_into"),       # B small, K >= ROW_GROUPS_MIN_K
    (301, 37, 45, "gemm_packed_into"),           # K small: A's serial packing is short
    (37, 301, 1100, "gemm_packed_into"),         # B's panels over SMALL_B_BYTES
])
def test_gemm_packed_parallel_picks_its_driver(m, k, n, driver, monkeypatch, kernel_rng):
    """gemm_packed's parallel build runs the row groups for a small B and a K of 64 or more,
    gemm_packed_into otherwise; both give the product."""
    numba_kernels = pytest.importorskip("minigrad.kernels.gemm_packed_numba")
    from minigrad.kernels import _threads
    monkeypatch.setattr(_threads._load, "threads", lambda: 2)     # however busy the machine
    ran = []
    for name in ("gemm_row_groups_into", "gemm_packed_into"):
        kernel = getattr(numba_kernels, name)
        monkeypatch.setattr(kernel, "parallel",
                            lambda *args, _run=kernel.parallel, _name=name: (ran.append(_name),
                                                                            _run(*args)))
    a, b = random_array(kernel_rng, (m, k), np.float32), random_array(kernel_rng, (k, n),
                                                                        np.float32)
    c = numba_kernels.gemm_packed(a, numba_kernels.pack_rhs(b), n, build="parallel")
    assert c.shape == (m, n) and c.flags.c_contiguous
    assert_close(c, truth(a, b), scale=np.sqrt(k))
    assert ran == [driver]


def test_row_group_leaves_every_thread_several_tasks():
    numba_kernels = pytest.importorskip("minigrad.kernels.gemm_packed_numba")
    assert numba_kernels._row_group(384, 2) == 8          # (1536, K) @ B: 48 tasks of 8 panels
    assert numba_kernels._row_group(32, 2) == 4           # 8 tasks
    assert numba_kernels._row_group(5, 16) == 1           # fewer panels than threads


def _tile_widths():
    from minigrad.kernels import _make_gemm_tiles
    return _make_gemm_tiles.all_widths()


@pytest.mark.parametrize("build", ["parallel", "serial"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("width", _tile_widths())
def test_gemm_packed_on_every_tile_width(width, dtype, build, kernel_rng):
    """Every micro-kernel, whichever vector width picks it: an odd M (a partial tile of
    rows), and N of two whole panels plus a partial one."""
    numba_kernels = pytest.importorskip("minigrad.kernels.gemm_packed_numba")
    m, k, n = 37, 29, 2 * width + (width + 1) // 2
    a, b = random_array(kernel_rng, (m, k), dtype), random_array(kernel_rng, (k, n), dtype)
    panels = numba_kernels.pack_rhs(b, width)
    assert panels.shape == (3, k * width)
    c = numba_kernels.gemm_packed(a, panels, n, build=build)
    assert c.dtype == dtype and c.shape == (m, n) and c.flags.c_contiguous
    assert_close(c, truth(a, b), scale=np.sqrt(k))


@pytest.mark.parametrize(("bits", "float32", "float64"), [
    (512, (64, 32), (32, 16)),      # AVX-512: 4 x 4 registers of 16 / 8 lanes, narrow: 2
    (256, (16, 8), (8, 4)),         # AVX2: 4 x 2 registers (16 of them: no spills)
    (128, (8, 4), (4, 2)),
], ids=["avx512", "avx2", "128-bit"])
def test_tile_width_follows_the_vector_width(bits, float32, float64, monkeypatch):
    """(wide, narrow) per dtype; the narrow tile for a result no wider than it."""
    numba_kernels = pytest.importorskip("minigrad.kernels.gemm_packed_numba")
    monkeypatch.setattr(numba_kernels, "vector_bits", lambda: bits)
    for dtype, (wide, narrow) in ((np.float32, float32), (np.float64, float64)):
        assert numba_kernels.tile_width(dtype, 1000) == wide
        assert numba_kernels.tile_width(dtype, narrow + 1) == wide
        assert numba_kernels.tile_width(dtype, narrow) == narrow
        assert numba_kernels.tile_width(dtype, 1) == narrow


def test_vector_bits_is_the_compiled_codes():
    """512, 256 or 128, and AVX-512 only where the CPU Numba targets has it."""
    from minigrad.kernels import _cpu_isa
    bits = _cpu_isa.vector_bits()
    assert bits in (512, 256, 128)
    if bits == 512:
        import llvmlite.binding as llvm
        from numba.core import config
        features = config.CPU_FEATURES
        if features is None:
            features = llvm.get_host_cpu_features().flatten()
        assert "+avx512f" in features or config.CPU_NAME is not None


def test_tile_rejects_a_width_without_micro_kernel():
    numba_kernels = pytest.importorskip("minigrad.kernels.gemm_packed_numba")
    with pytest.raises(ValueError, match=r"Tile: no micro-kernel 4 x 24; the widths are"):
        numba_kernels.Tile(24)
    with pytest.raises(ValueError, match="no micro-kernel 4 x 5"):
        numba_kernels.pack_rhs(np.ones((3, 3), np.float32), 5)


def test_packed_rhs_is_reused_unchanged(kernel_rng):
    """One packing of B serves many products (an RNN's W_hh at every step)."""
    numba_kernels = pytest.importorskip("minigrad.kernels.gemm_packed_numba")
    b = random_array(kernel_rng, (37, 70), np.float32)
    panels = numba_kernels.pack_rhs(b)
    before = panels.copy()
    for m in (1, 5, 32):
        a = random_array(kernel_rng, (m, 37), np.float32)
        assert_close(numba_kernels.gemm_packed(a, panels, 70), truth(a, b), scale=np.sqrt(37))
    np.testing.assert_array_equal(panels, before)


def test_generated_tiles_are_up_to_date():
    """kernels/_gemm_tiles.py is exactly what kernels/_make_gemm_tiles.py writes."""
    from minigrad.kernels import _make_gemm_tiles
    assert _make_gemm_tiles.target().read_text() == _make_gemm_tiles.module_source(), (
        "kernels/_gemm_tiles.py is stale: run python -m minigrad.kernels._make_gemm_tiles")


@pytest.mark.parametrize("b, why", [
    (np.ones(3, np.float32), "must be 2-D"),
    (np.ones((3, 2), np.int64), "must be float32 or float64"),
])
def test_matmul_by_rejects_a_bad_right_operand(b, why):
    with pytest.raises(ValueError, match=rf"kernels\.matmul_by: b {why}"):
        K.matmul_by(b)
