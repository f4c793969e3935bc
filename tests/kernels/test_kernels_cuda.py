"""The "cuda" implementations against the NumPy reference.

Runs in-process when the CUDA kernels can run here: under Numba's simulator
(NUMBA_ENABLE_CUDASIM=1, NumPy arrays, tiny shapes) or on a real GPU (CuPy arrays). A plain
`pytest` run without either still covers this file: test_kernels_cuda_simulator.py runs it in
a subprocess with the simulator switched on. Tests marked ``gpu`` use realistic sizes and need
a real GPU.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest
from kernel_testing import DTYPES, assert_close, random_array
from minigrad.kernels import _device

from minigrad import kernels as K

SIMULATOR = _device.cuda_simulator_enabled()
REAL_GPU = _device.real_gpu_available() and not SIMULATOR

if "cuda" not in K.available("matmul"):
    pytest.skip(
        "the CUDA kernels need a GPU (through CuPy) or NUMBA_ENABLE_CUDASIM=1; "
        "test_kernels_cuda_simulator.py runs this file in a subprocess under the simulator",
        allow_module_level=True,
    )

# Kernels written in this file use the module-level name ``cuda``: the simulator runs a kernel
# by swapping the ``cuda`` in its module's globals for its fake one.
from numba import cuda, float32, float64, int32  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def fast_simulator_thread_switching():
    """The simulator runs each CUDA thread as a Python thread and syncthreads() waits on a
    barrier; with Python's default 5 ms thread switch interval every barrier costs
    milliseconds. A short interval makes the simulated kernels ~10x faster."""
    previous = sys.getswitchinterval()
    if SIMULATOR:
        sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(previous)


def to_device(array):
    """NumPy arrays in the simulator, CuPy arrays on a real GPU."""
    if SIMULATOR:
        return array
    return _device.cupy_module().asarray(array)


def to_host(array):
    return array if isinstance(array, np.ndarray) else array.get()


def run_cuda(op, *arrays, **kwargs):
    """kernels.<op>(...) with impl="cuda" on device copies of ``arrays``; result on the host."""
    out = getattr(K, op)(*[to_device(a) for a in arrays], impl="cuda", **kwargs)
    return to_host(out)


# ---------------------------------------------------------------------------------------------
# matmul: the tiled, register-blocked GEMM
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, k, n", [(5, 7, 3), (1, 1, 1), (9, 13, 17), (16, 8, 8)])
def test_matmul(dtype, m, k, n, kernel_rng):
    a, b = random_array(kernel_rng, (m, k), dtype), random_array(kernel_rng, (k, n), dtype)
    c = run_cuda("matmul", a, b)
    assert c.dtype == dtype
    assert_close(c, a.astype(np.float64) @ b.astype(np.float64), scale=np.sqrt(k))


@pytest.mark.parametrize(
    "tiles",
    [(8, 8, 4, 2, 2), (4, 8, 3, 2, 2), (8, 4, 5, 4, 1)],   # odd slab depth, non-square tiles
    ids=str,
)
def test_matmul_tile_shapes_and_split_k(tiles, kernel_rng):
    from minigrad.kernels.matmul_cuda import GemmTiles, gemm

    a = random_array(kernel_rng, (9, 23), np.float64)
    b = random_array(kernel_rng, (23, 10), np.float64)
    for split_k in (1, 3):
        c = to_host(gemm(to_device(a), to_device(b), GemmTiles(*tiles), split_k=split_k))
        assert_close(c, a @ b)


ODD_SHAPES = [(m, k, n) for m in (1, 3, 9) for k in (1, 5, 11) for n in (2, 7, 10)]


@pytest.mark.parametrize("tiles", [None, (4, 8, 3, 2, 2)], ids=str)
def test_matmul_sizes_not_multiples_of_the_tile(tiles, kernel_rng):
    """Edge tiles everywhere: partial slabs of k (which must be zero-padded, or NaN from the
    simulator's unwritten shared memory leaks into real outputs), rows and columns past C."""
    from minigrad.kernels.matmul_cuda import GemmTiles, gemm

    tiles = GemmTiles(*tiles) if tiles else None
    for m, k, n in ODD_SHAPES:
        a, b = random_array(kernel_rng, (m, k), np.float32), random_array(kernel_rng, (k, n),
                                                                           np.float32)
        c = to_host(gemm(to_device(a), to_device(b), tiles))
        assert_close(c, a.astype(np.float64) @ b.astype(np.float64), scale=np.sqrt(k))


simulator_only = pytest.mark.skipif(not SIMULATOR, reason="tests Numba's CUDA simulator")


@pytest.fixture
def thread_switch_inside_shared_allocation(monkeypatch):
    """Make every thread of a simulated block look up its shared array at the same moment.

    The simulator finds a launch's shared arrays in a dict. Here each lookup sleeps (letting
    the other threads run) between finding nothing and storing the new array: without a lock
    around lookup and store, every thread would create and fill a private "shared" array."""
    from numba.cuda.simulator import kernelapi

    class SlowLookups(dict):
        def get(self, key, default=None):
            found = super().get(key, default)
            time.sleep(1e-3)                  # releases the GIL: the other threads run now
            return found

    original_init = kernelapi.FakeCUDAShared.__init__

    def init_with_slow_lookups(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self._allocations = SlowLookups()

    monkeypatch.setattr(kernelapi.FakeCUDAShared, "__init__", init_with_slow_lookups)


@simulator_only
def test_simulator_threads_of_a_block_share_one_array(thread_switch_inside_shared_allocation):
    threads = 8

    @cuda.jit
    def read_the_neighbours_value(out):
        shared = cuda.shared.array(threads, float64)
        t = cuda.threadIdx.x
        shared[t] = t
        cuda.syncthreads()
        out[t] = shared[(t + 1) % threads]

    out = np.zeros(threads)
    read_the_neighbours_value[1, threads](out)
    np.testing.assert_array_equal(out, np.roll(np.arange(threads), -1))


@simulator_only
def test_simulator_matmul_and_softmax_when_threads_switch_mid_allocation(
        thread_switch_inside_shared_allocation, kernel_rng):
    a, b = random_array(kernel_rng, (5, 7), np.float32), random_array(kernel_rng, (7, 3),
                                                                       np.float32)
    assert_close(run_cuda("matmul", a, b), a.astype(np.float64) @ b, scale=np.sqrt(7))
    x = random_array(kernel_rng, (2, 11), np.float64)
    assert_close(run_cuda("softmax", x), K.softmax(x, impl="numpy"))


@simulator_only
def test_simulator_shared_memory_starts_as_nan():
    """A kernel reading shared memory it never wrote gets NaN every time, not leftovers."""
    @cuda.jit
    def read_before_write(floats_out, ints_out):
        floats = cuda.shared.array(4, float32)
        ints = cuda.shared.array(4, int32)
        floats_out[cuda.threadIdx.x] = floats[cuda.threadIdx.x]
        ints_out[cuda.threadIdx.x] = ints[cuda.threadIdx.x]

    floats_out, ints_out = np.zeros(4, np.float32), np.zeros(4, np.int32)
    read_before_write[1, 4](floats_out, ints_out)
    assert np.isnan(floats_out).all()
    assert (ints_out == np.iinfo(np.int32).max).all()


def test_default_on_numpy_arrays_stays_on_the_cpu():
    if not SIMULATOR:
        pytest.skip("only the simulator runs CUDA kernels on NumPy arrays")
    x = np.ones((2, 3), np.float32)
    assert K.default_impl("softmax", "cpu") != "cuda"
    with K.use("cuda"):
        assert_close(K.softmax(x), np.full((2, 3), 1 / 3, np.float32))


# ---------------------------------------------------------------------------------------------
# softmax family: one block per row, online softmax, tree reductions
# ---------------------------------------------------------------------------------------------

def softmax_input(rng, dtype):
    x = random_array(rng, (3, 4, 5), dtype, scale=3.0)
    x[0, 0, :] = [1000.0, -1000.0, 1000.0, 0.0, -1000.0]     # exp overflows without the max
    x[1, :, 1] = -np.inf                                      # masked positions
    return x


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # NumPy's reference on a -inf row
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_softmax_forward_and_backward(dtype, axis, kernel_rng):
    x = softmax_input(kernel_rng, dtype)
    gy = random_array(kernel_rng, x.shape, dtype)
    for op in ("softmax", "log_softmax"):
        y = getattr(K, op)(x, axis, impl="numpy")
        assert_close(run_cuda(op, x, axis=axis), y)
        y_finite = np.where(np.isfinite(y), y, -1e30 if op == "log_softmax" else 0).astype(dtype)
        backward = op + "_backward"
        assert_close(run_cuda(backward, y_finite, gy, axis=axis),
                     getattr(K, backward)(y_finite, gy, axis, impl="numpy"), scale=10)


def test_softmax_rows_longer_than_a_block(kernel_rng):
    """Each thread walks many elements of its row (online update), then the block merges."""
    x = random_array(kernel_rng, (2, 37), np.float32, scale=10.0)
    assert_close(run_cuda("softmax", x), K.softmax(x, impl="numpy"))
    assert_close(run_cuda("log_softmax", x), K.log_softmax(x, impl="numpy"))


# ---------------------------------------------------------------------------------------------
# conv2d: im2col kernel + tiled GEMM + gather col2im kernel
# ---------------------------------------------------------------------------------------------

CONV_CASES = [
    ((2, 3, 6, 5), (4, 3, 3, 2), 1, 0, 1),
    ((1, 2, 7, 6), (3, 2, 3, 3), 2, 1, 1),
    ((2, 2, 6, 7), (2, 2, 2, 3), (1, 2), (1, 0), (2, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_forward_and_backward(dtype, case, kernel_rng):
    x_shape, w_shape, stride, padding, dilation = case
    hyper = dict(stride=stride, padding=padding, dilation=dilation)
    x, w = random_array(kernel_rng, x_shape, dtype), random_array(kernel_rng, w_shape, dtype)
    y = K.conv2d(x, w, **hyper, impl="numpy")
    gy = random_array(kernel_rng, y.shape, dtype)
    assert_close(run_cuda("conv2d", x, w, **hyper), y, scale=5)
    assert_close(run_cuda("conv2d_backward_input", gy, w, x_shape=x.shape, **hyper),
                 K.conv2d_backward_input(gy, w, x.shape, **hyper, impl="numpy"), scale=5)
    assert_close(run_cuda("conv2d_backward_weight", x, gy, w_shape=w.shape, **hyper),
                 K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl="numpy"), scale=5)


# ---------------------------------------------------------------------------------------------
# max_pool2d: one thread per output; backward gathers per input pixel
# ---------------------------------------------------------------------------------------------

POOL_CASES = [
    ((1, 2, 5, 7), dict(kernel_size=2)),
    ((1, 2, 5, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 1, 6, 5), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 1))),
    ((1, 1, 1, 4), dict(kernel_size=2, stride=1, padding=1, dilation=2)),   # empty windows
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool2d_forward_and_backward(dtype, case, kernel_rng):
    x_shape, hyper = case
    x = random_array(kernel_rng, x_shape, dtype)
    x[0, 0, 0, 1] = np.nan
    x[-1, -1, -1, :2] = -np.inf
    y, idx = (to_host(a) for a in K.max_pool2d(to_device(x), **hyper, impl="cuda"))
    y_ref, idx_ref = K.max_pool2d(x, **hyper, impl="numpy")
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    gy = random_array(kernel_rng, y.shape, dtype)
    assert_close(run_cuda("max_pool2d_backward", gy, idx, x_shape=x.shape, **hyper),
                 K.max_pool2d_backward(gy, idx, x.shape, **hyper, impl="numpy"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell_forward_and_backward(dtype, kernel_rng):
    n, hidden = 3, 5                                  # 15 threads: a tiny, odd grid
    gates = random_array(kernel_rng, (n, 4 * hidden), dtype, scale=3.0)
    c = random_array(kernel_rng, (n, hidden), dtype)
    outs = [to_host(a) for a in K.lstm_cell(to_device(gates), to_device(c), impl="cuda")]
    refs = K.lstm_cell(gates, c, impl="numpy")
    for out, ref in zip(outs, refs):
        assert_close(out, ref)
    acts, tanh_c = refs[2], refs[3]
    gh, gc = (random_array(kernel_rng, (n, hidden), dtype) for _ in range(2))
    outs = [to_host(a) for a in K.lstm_cell_backward(
        *(to_device(a) for a in (acts, tanh_c, c, gh, gc)), impl="cuda")]
    for out, ref in zip(outs, K.lstm_cell_backward(acts, tanh_c, c, gh, gc, impl="numpy")):
        assert_close(out, ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_forward_and_backward(dtype, kernel_rng):
    x = random_array(kernel_rng, (9, 5), dtype).T   # 45 elements: more than the simulator's
    x[0, :4] = [np.nan, np.inf, -np.inf, 0.0]       # 4 x 8 threads, so threads loop; a view
    y = run_cuda("relu", x)
    y_ref = K.relu(x, impl="numpy")
    assert y.dtype == dtype and y.flags.c_contiguous
    np.testing.assert_array_equal(y, y_ref)
    gy = random_array(kernel_rng, x.shape, dtype)
    gy[0, :4] = [1.0, np.nan, np.inf, np.nan]       # NaN passes where y > 0; 0 where y <= 0
    np.testing.assert_array_equal(run_cuda("relu_backward", gy, y_ref),
                                  K.relu_backward(gy, y_ref, impl="numpy"))
    empty = np.zeros((0, 3), dtype)
    assert run_cuda("relu", empty).shape == (0, 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_forward_and_backward(dtype, approximate, kernel_rng):
    x = random_array(kernel_rng, (9, 5), dtype, scale=3.0).T   # 45 elements, a view
    gy = random_array(kernel_rng, x.shape, dtype)
    y = run_cuda("gelu", x, approximate=approximate)
    assert y.dtype == dtype and y.flags.c_contiguous
    assert_close(y, K.gelu(x, approximate, impl="numpy"))
    assert_close(run_cuda("gelu_backward", gy, x, approximate=approximate),
                 K.gelu_backward(gy, x, approximate, impl="numpy"))
    assert run_cuda("gelu", np.zeros((0, 3), dtype)).shape == (0, 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_affine", [True, False])
def test_layer_norm_forward_and_backward(dtype, with_affine, kernel_rng):
    x = random_array(kernel_rng, (11, 7), dtype) + dtype(2)   # 11 rows: threads loop
    g = random_array(kernel_rng, x.shape, dtype)
    w, b = ((random_array(kernel_rng, (7,), dtype) if with_affine else None) for _ in range(2))
    outs = [to_host(a) for a in K.layer_norm(*(None if a is None else to_device(a)
                                                 for a in (x, w, b)), impl="cuda")]
    refs = K.layer_norm(x, w, b, impl="numpy")
    for out, ref in zip(outs, refs):
        assert out.dtype == dtype
        assert_close(out, ref)
    rstd = (1.0 / np.sqrt(refs[2].astype(np.float64) + 1e-5)).astype(dtype)
    grads = K.layer_norm_backward(*(None if a is None else to_device(a)
                                    for a in (g, x, rstd, w)), impl="cuda")
    for out, ref in zip(grads, K.layer_norm_backward(g, x, rstd, w, impl="numpy")):
        assert_close(to_host(out), ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_affine", [True, False])
def test_batch_norm_forward_and_backward(dtype, with_affine, kernel_rng):
    x = random_array(kernel_rng, (3, 5, 4), dtype) + dtype(2)   # 5 channels, a few values each
    g = random_array(kernel_rng, x.shape, dtype)
    w, b = ((random_array(kernel_rng, (5,), dtype) if with_affine else None) for _ in range(2))
    outs = [to_host(a) for a in K.batch_norm(*(None if a is None else to_device(a)
                                                 for a in (x, w, b)), impl="cuda")]
    refs = K.batch_norm(x, w, b, impl="numpy")
    for out, ref in zip(outs, refs):
        assert out.dtype == dtype
        assert_close(out, ref)
    rstd = (1.0 / np.sqrt(refs[2].astype(np.float64) + 1e-5)).astype(dtype)
    grads = K.batch_norm_backward(*(None if a is None else to_device(a)
                                    for a in (g, x, rstd, w)), impl="cuda")
    for out, ref in zip(grads, K.batch_norm_backward(g, x, rstd, w, impl="numpy")):
        assert_close(to_host(out), ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_step(dtype, amsgrad, kernel_rng):
    """In place on device arrays, one of them a transposed view (updated through a copy that
    is written back); 45 elements, so the simulator's threads loop."""
    p, g, m = (random_array(kernel_rng, (9, 5), dtype) for _ in range(3))
    v = np.abs(random_array(kernel_rng, (9, 5), dtype))
    v_max = np.abs(random_array(kernel_rng, (9, 5), dtype)) if amsgrad else None
    scalars = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, step=3)
    refs = [None if a is None else a.copy() for a in (p, m, v, v_max)]
    K.adam_step(refs[0], g, refs[1], refs[2], refs[3], impl="numpy", **scalars)
    on_device = [None if a is None else to_device(a.T.copy()).T for a in (p, m, v, v_max)]
    K.adam_step(on_device[0], to_device(g), on_device[1], on_device[2], on_device[3],
                impl="cuda", **scalars)
    for out, ref in zip(on_device, refs):
        if ref is not None:
            assert_close(to_host(out), ref)


# ---------------------------------------------------------------------------------------------
# Realistic sizes: a real GPU only
# ---------------------------------------------------------------------------------------------

needs_gpu = pytest.mark.skipif(not REAL_GPU, reason="needs a real CUDA GPU (CuPy)")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("m, k, n", [(1000, 1000, 1000), (1023, 257, 513), (4096, 64, 4096)])
def test_gpu_matmul_large(m, k, n, kernel_rng):
    a = random_array(kernel_rng, (m, k), np.float32)
    b = random_array(kernel_rng, (k, n), np.float32)
    c = run_cuda("matmul", a, b)
    assert_close(c, a.astype(np.float64) @ b.astype(np.float64), scale=np.sqrt(k))


@pytest.mark.gpu
@needs_gpu
def test_gpu_softmax_large(kernel_rng):
    x = random_array(kernel_rng, (512, 10_000), np.float32, scale=20.0)
    for op in ("softmax", "log_softmax"):
        assert_close(run_cuda(op, x), getattr(K, op)(x, impl="numpy"))


@pytest.mark.gpu
@needs_gpu
def test_gpu_max_pool2d_layer(kernel_rng):
    x = random_array(kernel_rng, (64, 32, 28, 28), np.float32)
    y, idx = (to_host(a) for a in K.max_pool2d(to_device(x), 2, impl="cuda"))
    y_ref, idx_ref = K.max_pool2d(x, 2, impl="numpy")
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    assert_close(run_cuda("max_pool2d_backward", y, idx, x_shape=x.shape, kernel_size=2),
                 K.max_pool2d_backward(y, idx, x.shape, 2, impl="numpy"))


@pytest.mark.gpu
@needs_gpu
def test_gpu_conv2d_layer(kernel_rng):
    x = random_array(kernel_rng, (32, 32, 28, 28), np.float32)
    w = random_array(kernel_rng, (32, 32, 3, 3), np.float32)
    gy = random_array(kernel_rng, (32, 32, 28, 28), np.float32)
    hyper = dict(stride=1, padding=1, dilation=1)
    assert_close(run_cuda("conv2d", x, w, **hyper), K.conv2d(x, w, **hyper, impl="numpy"),
                 scale=20)
    assert_close(run_cuda("conv2d_backward_input", gy, w, x_shape=x.shape, **hyper),
                 K.conv2d_backward_input(gy, w, x.shape, **hyper, impl="numpy"), scale=20)
    assert_close(run_cuda("conv2d_backward_weight", x, gy, w_shape=w.shape, **hyper),
                 K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl="numpy"), scale=200)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_sequence_forward_and_backward(dtype, kernel_rng):
    steps, n, hidden = 2, 3, 2                        # the CUDA cell kernel at every step
    x_proj = random_array(kernel_rng, (steps, n, 4 * hidden), dtype, scale=2.0)
    h0, c0 = (random_array(kernel_rng, (n, hidden), dtype) for _ in range(2))
    w_hh = random_array(kernel_rng, (4 * hidden, hidden), dtype)
    refs = K.lstm_sequence(x_proj, h0, c0, w_hh, impl="numpy")
    outs = K.lstm_sequence(*(to_device(a) for a in (x_proj, h0, c0, w_hh)), impl="cuda")
    for out, ref in zip(outs, refs):
        assert_close(to_host(out), ref)
    hs, cs, acts, tanh_cs = refs
    g_hs = random_array(kernel_rng, (steps, n, hidden), dtype)
    g_hn, g_cn = (random_array(kernel_rng, (n, hidden), dtype) for _ in range(2))
    args = (acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn)
    outs = K.lstm_sequence_backward(*(to_device(a) for a in args), impl="cuda")
    for out, ref in zip(outs, K.lstm_sequence_backward(*args, impl="numpy")):
        assert_close(to_host(out), ref)
