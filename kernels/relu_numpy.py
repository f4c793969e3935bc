"""ReLU and its backward, reference implementation (NumPy or CuPy).

    relu(x)              y = max(x, 0)
    relu_backward(gy, y) gx = gy where y > 0, else 0

The backward takes the forward's *output* y, not x: y > 0 exactly where x > 0, so the
framework keeps only y. dy/dx is 1 for x > 0 and 0 for x < 0; at x = 0 ReLU has no
derivative and, as in PyTorch, the gradient there is 0.

NaN: relu(NaN) = NaN (``maximum`` propagates NaN, as PyTorch's relu does), and NaN > 0 is
False, so its gradient is 0 (PyTorch's ``threshold_backward`` gives 0 there too). The
backward is a *select*, not a product: gy = inf or NaN where y <= 0 gives 0, where
``gy * (y > 0)`` would give NaN.

Both return a new C-contiguous array, whatever the inputs' layout. On the CPU NumPy is slow
at both (relu_numba.py): ``maximum`` does not take its fastest loop, and ``where`` on a mask
that is true for half the elements at random costs ~4 ns per element (3.3 ms on a
(64, 16, 28, 28) float32 array, where ``gy * (y > 0)`` takes 0.18 ms but is not the same
function). On a GPU this file runs through CuPy, where ``where`` is a plain elementwise kernel.
"""

from __future__ import annotations

from ._device import array_module


def relu(x):
    """max(x, 0), elementwise, in x's dtype."""
    xp = array_module(x)
    out = xp.empty(x.shape, dtype=x.dtype)
    return xp.maximum(x, 0, out=out)


def relu_backward(gy, y):
    """gy where y > 0, else 0, in gy's dtype."""
    xp = array_module(gy)
    # where() keeps its inputs' layout (a transposed gy gives a transposed result): make it C
    return xp.where(y > 0, gy, 0).astype(gy.dtype, order="C", copy=False)
