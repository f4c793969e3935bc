"""The op set: one module per family. Importing it attaches the Tensor methods."""

from . import (  # noqa: F401
    cast,
    compare,
    elementwise,
    indexing,
    join,
    matmul,
    movement,
    padding,
    reduce,
    subscript,
    tensor_methods,  # noqa: F401  (attaches x.exp(), a + b, ... to Tensor)
)
