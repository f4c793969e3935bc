"""Both builds of every parallel Numba kernel give the reference's numbers.

Each ``@parallel_njit`` kernel is compiled twice (kernels/_threads.py): ``parallel=True`` for
large inputs, serial for small ones. The other kernel tests use small shapes, so they mostly
exercise the serial build; here ``SMALL_WORK`` is moved so the same small inputs run through
each build in turn, with odd sizes so threads get uneven shares.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_testing import assert_close, random_array
from minigrad.kernels import _threads

from minigrad import kernels as K

pytest.importorskip("numba")


def calls(rng):
    """(name, function of impl) pairs covering every Numba kernel, on odd shapes."""
    a, b = random_array(rng, (37, 29), np.float64), random_array(rng, (29, 41), np.float64)
    x = random_array(rng, (13, 9, 11), np.float64)
    y = K.softmax(x, axis=1, impl="numpy")
    gy = random_array(rng, x.shape, np.float64)
    img, w = random_array(rng, (3, 4, 9, 7), np.float64), random_array(rng, (5, 4, 3, 3), np.float64)
    conv_gy = random_array(rng, (3, 5, 9, 7), np.float64)
    w_tiled = random_array(rng, (18, 4, 3, 3), np.float64)     # register tiles (conv2d_numba)
    channel_w, channel_b = random_array(rng, (9,), np.float64), random_array(rng, (9,), np.float64)
    rstd = 1.0 / np.sqrt(x.var(axis=(0, 2)) + 1e-5)
    pooled, idx = K.max_pool2d(img, 3, 2, 1, impl="numpy")
    return [
        ("matmul", lambda impl: K.matmul(a, b, impl=impl)),
        ("softmax", lambda impl: K.softmax(x, axis=1, impl=impl)),
        ("log_softmax", lambda impl: K.log_softmax(x, axis=1, impl=impl)),
        ("softmax_backward", lambda impl: K.softmax_backward(y, gy, axis=1, impl=impl)),
        ("log_softmax_backward", lambda impl: K.log_softmax_backward(y, gy, axis=1, impl=impl)),
        ("conv2d", lambda impl: K.conv2d(img, w, 1, 1, impl=impl)),
        ("conv2d_backward_input",
         lambda impl: K.conv2d_backward_input(conv_gy, w, img.shape, 1, 1, impl=impl)),
        ("conv2d_backward_weight",
         lambda impl: K.conv2d_backward_weight(img, conv_gy, w.shape, 1, 1, impl=impl)),
        ("conv2d on tiles", lambda impl: K.conv2d(img, w_tiled, 1, 1, impl=impl)),
        ("batch_norm", lambda impl: K.batch_norm(x, channel_w, channel_b, impl=impl)[0]),
        ("batch_norm_backward",
         lambda impl: K.batch_norm_backward(gy, x, rstd, channel_w, impl=impl)[0]),
        ("max_pool2d", lambda impl: K.max_pool2d(img, 3, 2, 1, impl=impl)[0]),
        ("max_pool2d_indices", lambda impl: K.max_pool2d(img, 3, 2, 1, impl=impl)[1]),
        ("max_pool2d_backward",
         lambda impl: K.max_pool2d_backward(pooled, idx, img.shape, 3, 2, 1, impl=impl)),
    ]


@pytest.mark.parametrize("build, small_work", [("parallel", 0), ("serial", 1 << 40)])
def test_every_numba_kernel_matches_the_reference(build, small_work, monkeypatch, kernel_rng):
    monkeypatch.setattr(_threads, "SMALL_WORK", small_work)
    for name, run in calls(kernel_rng):
        actual, expected = run("numba"), run("numpy")
        if expected.dtype.kind == "i":
            np.testing.assert_array_equal(actual, expected, err_msg=name)
        else:
            assert_close(actual, expected, scale=10)
