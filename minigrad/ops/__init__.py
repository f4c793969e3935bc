"""The op set: one module per family. Importing it attaches the Tensor methods."""

from . import (  # noqa: F401
    compare,
    elementwise,
    matmul,
    movement,
    reduce,
    tensor_methods,  # noqa: F401  (attaches x.exp(), a + b, ... to Tensor)
)
