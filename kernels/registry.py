"""Every kernel op and the function each implementation runs for it, in one place.

Ops come in families, and a family keeps one file per implementation side by side:
``<family>_numpy.py`` (the reference: NumPy, or CuPy on GPU arrays), ``<family>_numba.py``
(Numba, CPU) and ``<family>_cuda.py`` (Numba CUDA). Below, each family is a function that
imports the file of one implementation and returns the family's table, op -> the function
that computes it. The import sits inside the function so that ``import minigrad.kernels``
imports neither Numba nor CuPy: a family's Numba file is imported the first time one of its
Numba kernels runs, and then remembered.

    kernel("conv2d", "numba")        # conv2d_numba.conv2d

The functions in the tables take arguments that ops.py has checked and laid out (2-D rows for
softmax, a ``ConvGeometry`` for the convolutions, ...): call the entry points in ops.py, not
these. Which implementation runs is decided in dispatch.py.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

IMPLEMENTATIONS = ("numpy", "numba", "cuda")


def _unknown(family: str, impl: str) -> ValueError:
    return ValueError(f"kernels: the {family} family has no implementation {impl!r}; "
                      f"choose one of {', '.join(IMPLEMENTATIONS)}")


def _matmul(impl: str) -> dict[str, Callable]:
    """C = A @ B: BLAS; the packed GEMM; shared-memory tiles."""
    if impl == "numpy":
        from . import matmul_numpy as module
    elif impl == "numba":
        from . import matmul_numba as module
    elif impl == "cuda":
        from . import matmul_cuda as module
    else:
        raise _unknown("matmul", impl)
    return {"matmul": module.matmul}


def _softmax(impl: str) -> dict[str, Callable]:
    """Softmax and log-softmax over the rows of a 2-D array, and their backward passes."""
    if impl == "numpy":
        from . import softmax_numpy as module
    elif impl == "numba":
        from . import softmax_numba as module
    elif impl == "cuda":
        from . import softmax_cuda as module
    else:
        raise _unknown("softmax", impl)
    return {"softmax": module.softmax, "log_softmax": module.log_softmax,
            "softmax_backward": module.softmax_backward,
            "log_softmax_backward": module.log_softmax_backward}


def _conv2d(impl: str) -> dict[str, Callable]:
    """2-D convolution (NCHW) and the gradients of its input and its weight."""
    if impl == "numpy":
        from . import conv2d_numpy as module
    elif impl == "numba":
        from . import conv2d_numba as module
    elif impl == "cuda":
        from . import conv2d_cuda as module
    else:
        raise _unknown("conv2d", impl)
    return {"conv2d": module.conv2d, "conv2d_backward_input": module.conv2d_backward_input,
            "conv2d_backward_weight": module.conv2d_backward_weight}


def _maxpool2d(impl: str) -> dict[str, Callable]:
    """2-D max pooling with the winners' positions, and the scatter of gradients back."""
    if impl == "numpy":
        from . import maxpool2d_numpy as module
    elif impl == "numba":
        from . import maxpool2d_numba as module
    elif impl == "cuda":
        from . import maxpool2d_cuda as module
    else:
        raise _unknown("maxpool2d", impl)
    return {"max_pool2d": module.max_pool2d, "max_pool2d_backward": module.max_pool2d_backward}


def _lstm_cell(impl: str) -> dict[str, Callable]:
    """An LSTM step after its products, a layer's whole time loop, and their backward passes."""
    if impl == "numpy":
        from . import lstm_cell_numpy as module
    elif impl == "numba":
        from . import lstm_cell_numba as module
    elif impl == "cuda":
        from . import lstm_cell_cuda as module
    else:
        raise _unknown("lstm_cell", impl)
    return {"lstm_cell": module.lstm_cell, "lstm_cell_backward": module.lstm_cell_backward,
            "lstm_sequence": module.lstm_sequence,
            "lstm_sequence_backward": module.lstm_sequence_backward}


def _relu(impl: str) -> dict[str, Callable]:
    """max(x, 0) and its gradient (a select on the forward's output)."""
    if impl == "numpy":
        from . import relu_numpy as module
    elif impl == "numba":
        from . import relu_numba as module
    elif impl == "cuda":
        from . import relu_cuda as module
    else:
        raise _unknown("relu", impl)
    return {"relu": module.relu, "relu_backward": module.relu_backward}


def _gelu(impl: str) -> dict[str, Callable]:
    """GELU (exact or tanh approximation) and its gradient, elementwise."""
    if impl == "numpy":
        from . import gelu_numpy as module
    elif impl == "numba":
        from . import gelu_numba as module
    elif impl == "cuda":
        from . import gelu_cuda as module
    else:
        raise _unknown("gelu", impl)
    return {"gelu": module.gelu, "gelu_backward": module.gelu_backward}


def _layer_norm(impl: str) -> dict[str, Callable]:
    """Layer normalization of the rows of a 2-D array, and its gradients."""
    if impl == "numpy":
        from . import layer_norm_numpy as module
    elif impl == "numba":
        from . import layer_norm_numba as module
    elif impl == "cuda":
        from . import layer_norm_cuda as module
    else:
        raise _unknown("layer_norm", impl)
    return {"layer_norm": module.layer_norm, "layer_norm_backward": module.layer_norm_backward}


def _batch_norm(impl: str) -> dict[str, Callable]:
    """Batch normalization of the channels of an (N, C, M) array, and its gradients."""
    if impl == "numpy":
        from . import batch_norm_numpy as module
    elif impl == "numba":
        from . import batch_norm_numba as module
    elif impl == "cuda":
        from . import batch_norm_cuda as module
    else:
        raise _unknown("batch_norm", impl)
    return {"batch_norm": module.batch_norm, "batch_norm_backward": module.batch_norm_backward}


def _adam(impl: str) -> dict[str, Callable]:
    """One Adam step on one parameter, in place."""
    if impl == "numpy":
        from . import adam_numpy as module
    elif impl == "numba":
        from . import adam_numba as module
    elif impl == "cuda":
        from . import adam_cuda as module
    else:
        raise _unknown("adam", impl)
    return {"adam_step": module.adam_step}


class Family(NamedTuple):
    """A kernel family: its name (the files' prefix), its ops, and the function that loads
    one implementation's table of them."""
    name: str
    ops: tuple[str, ...]
    load: Callable[[str], dict[str, Callable]]


FAMILIES = (
    Family("matmul", ("matmul",), _matmul),
    Family("softmax", ("softmax", "log_softmax", "softmax_backward", "log_softmax_backward"),
           _softmax),
    Family("conv2d", ("conv2d", "conv2d_backward_input", "conv2d_backward_weight"), _conv2d),
    Family("maxpool2d", ("max_pool2d", "max_pool2d_backward"), _maxpool2d),
    Family("lstm_cell", ("lstm_cell", "lstm_cell_backward", "lstm_sequence",
                         "lstm_sequence_backward"), _lstm_cell),
    Family("relu", ("relu", "relu_backward"), _relu),
    Family("adam", ("adam_step",), _adam),
    Family("gelu", ("gelu", "gelu_backward"), _gelu),
    Family("layer_norm", ("layer_norm", "layer_norm_backward"), _layer_norm),
    Family("batch_norm", ("batch_norm", "batch_norm_backward"), _batch_norm),
)

FAMILY_OF = {op: family for family in FAMILIES for op in family.ops}
OPS = tuple(FAMILY_OF)

_loaded: dict[tuple[str, str], Callable] = {}


def kernel(op: str, impl: str) -> Callable:
    """The function implementation ``impl`` runs for ``op``; the first call for a family and
    implementation imports its file."""
    function = _loaded.get((op, impl))
    if function is None:
        family = FAMILY_OF[op]
        for name, loaded in family.load(impl).items():
            _loaded[name, impl] = loaded
        function = _loaded[op, impl]
    return function
