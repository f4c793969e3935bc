"""minigrad: a from-scratch deep-learning framework for teaching.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x ** 2).sum()
    y.backward()
    x.grad            # tensor([2., 4., 6.])

Layers, bottom to top (imports only point down): kernels -> backend -> tensor + autograd ->
ops -> nn -> optim / data / viz / serialization.
"""

from __future__ import annotations

import numpy as _np

# ops attaches the Tensor methods; accelerator and backends answer PyTorch's availability
# queries. Nothing here changes the process: that waits for the first kernel call
# (ops/kernel_calls.py).
from . import accelerator, autograd, backend, backends, cuda, ops  # noqa: F401
from .autograd import enable_grad, no_grad, set_grad_enabled  # noqa: F401
from .autograd.grad_mode import (  # noqa: F401
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
)
from .backend import Device as device  # noqa: F401
from .ops.compare import (  # noqa: F401
    allclose,
    argsort,
    ceil,
    eq,
    equal,
    floor,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    lt,
    ne,
    nonzero,
    round,
    sort,
    topk,
    trunc,
)
from .ops.elementwise import (  # noqa: F401
    abs,
    add,
    clamp,
    cos,
    div,
    erf,
    exp,
    lerp,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    reciprocal,
    relu,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tanh,
    where,
)
from .ops.indexing import gather, scatter_add  # noqa: F401
from .ops.join import cat, chunk, concat, split, stack, unbind  # noqa: F401
from .ops.matmul import addmm, bmm, dot, matmul, mm, outer  # noqa: F401
from .ops.movement import (  # noqa: F401
    broadcast_to,
    clone,
    expand,
    flatten,
    permute,
    reshape,
    squeeze,
    t,
    transpose,
    unflatten,
    unsqueeze,
)
from .ops.reduce import (  # noqa: F401
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
)
from .ops.subscript import flip, masked_fill  # noqa: F401
from .tensor import (  # noqa: F401
    Size,
    Tensor,
    arange,
    channels_last,
    channels_last_3d,
    contiguous_format,
    default_generator,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    get_default_dtype,
    is_tensor,
    layout,
    linspace,
    manual_seed,
    memory_format,
    normal,
    ones,
    ones_like,
    preserve_format,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    set_default_dtype,
    strided,
    tensor,
    zeros,
    zeros_like,
)

clip = clamp

# dtypes, under PyTorch's names
float32 = float = _np.dtype(_np.float32)
float64 = double = _np.dtype(_np.float64)
float16 = half = _np.dtype(_np.float16)
int64 = long = _np.dtype(_np.int64)
int32 = int = _np.dtype(_np.int32)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
bool = _np.dtype(_np.bool_)

__version__ = "0.1.0"

# layers (layer 5), then optimizers, data and checkpoints (layer 6): imported last, they
# build on everything above
from . import (  # noqa: E402,F401  (viz imports matplotlib lazily)
    data,
    nn,  # noqa: E402,F401
    optim,
    viz,
)
from .nn.functional import log_softmax, softmax  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401

# more ops: scans, indexing, rearranging, pointwise, statistics, linear algebra (mg.linalg)
# isort: split
from . import linalg  # noqa: E402,F401
from .ops.creation import empty_like, zero_  # noqa: E402,F401
from .ops.indexing import (  # noqa: E402,F401
    index_add,
    index_select,
    masked_select,
    narrow,
    scatter,
    scatter_reduce,
    select,
    take_along_dim,
)
from .ops.linalg import baddbmm, einsum, mv  # noqa: E402,F401
from .ops.pointwise import (  # noqa: E402,F401
    acos,
    acosh,
    addcdiv,
    addcmul,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    clamp_max,
    clamp_min,
    copysign,
    cosh,
    deg2rad,
    erfc,
    exp2,
    expm1,
    float_power,
    floor_divide,
    fmax,
    fmin,
    fmod,
    frac,
    hypot,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    logit,
    nan_to_num,
    rad2deg,
    remainder,
    sinc,
    sinh,
    tan,
    xlogy,
)
from .ops.rearrange import (  # noqa: E402,F401
    diagonal,
    hstack,
    moveaxis,
    movedim,
    repeat_interleave,
    roll,
    tile,
    tril,
    triu,
    vstack,
)
from .ops.scan import cumprod, cumsum  # noqa: E402,F401
from .ops.statistics import median, searchsorted, std_mean, unique, var_mean  # noqa: E402,F401

arctan2 = atan2

from .ops.sampling import multinomial  # noqa: E402,F401

# process-wide settings, random state, dtype limits (PyTorch's top-level utilities)
# isort: split
from .random import Generator, get_rng_state, initial_seed, seed, set_rng_state  # noqa: E402,F401
from .runtime import (  # noqa: E402,F401
    are_deterministic_algorithms_enabled,
    as_tensor,
    e,
    finfo,
    get_num_threads,
    iinfo,
    inf,
    is_complex,
    is_deterministic_algorithms_warn_only_enabled,
    is_floating_point,
    nan,
    numel,
    pi,
    set_num_threads,
    set_printoptions,
    use_deterministic_algorithms,
)

Tensor.multinomial = multinomial

# counting and NaN-skipping reductions, flips and rotations, ravel, trace, argwhere, splits,
# grids and broadcasting of several tensors, diagonal matrices, take, inner, kron
# isort: split
from .ops.compare import argwhere  # noqa: E402,F401
from .ops.indexing import take  # noqa: E402,F401
from .ops.join import dsplit, hsplit, tensor_split, vsplit  # noqa: E402,F401
from .ops.linalg import inner, kron, trace  # noqa: E402,F401
from .ops.movement import broadcast_tensors, ravel  # noqa: E402,F401
from .ops.rearrange import (  # noqa: E402,F401
    cartesian_prod,
    diag,
    diag_embed,
    diagflat,
    meshgrid,
)
from .ops.reduce import aminmax, count_nonzero, nanmean, nansum  # noqa: E402,F401
from .ops.subscript import fliplr, flipud, rot90  # noqa: E402,F401

# special functions (lgamma, digamma, polygamma, erfinv)
# isort: split
from .ops.special import digamma, erfinv, lgamma, polygamma  # noqa: E402,F401

# scans and statistics with indices, quantiles, covariance, counting, distances, tensordot
# isort: split
from .ops.distance import cdist  # noqa: E402,F401
from .ops.linalg import tensordot  # noqa: E402,F401
from .ops.scan import cummax, cummin  # noqa: E402,F401
from .ops.statistics import (  # noqa: E402,F401
    bincount,
    corrcoef,
    cov,
    kthvalue,
    mode,
    nanquantile,
    quantile,
)
