"""The op set: one module per family. Importing it attaches the Tensor methods."""

from . import compare, elementwise, matmul, movement, reduce  # noqa: F401
from . import tensor_methods  # noqa: F401  (attaches x.exp(), a + b, ... to Tensor)
