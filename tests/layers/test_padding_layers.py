"""Padding layers (Zero/Constant/Reflection/Replication/CircularPad 1d/2d/3d): outputs and
gradients against torch, float64 gradcheck, reprs, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import compare_with_torch, module_gradcheck

import minigrad as mg
from minigrad import nn

# (class name, constructor arguments, input shape)
CASES = [
    ("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad2d", ((1, 0, 2, -1),), (2, 3, 4, 5)),
    ("ZeroPad3d", (1,), (3, 2, 3, 4)),
    ("ConstantPad1d", ((1, 3), 2.5), (3, 5)), ("ConstantPad2d", (2, -1.0), (1, 2, 3, 3)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (1, 2, 2, 3, 2)),
    ("ReflectionPad1d", ((3, 1),), (2, 3, 5)), ("ReflectionPad2d", (2,), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), (2, 3, 3, 2)),
    ("ReplicationPad1d", ((2, 4),), (3, 5)), ("ReplicationPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)),
    ("ReplicationPad3d", (2,), (1, 2, 2, 3, 2)),
    ("CircularPad1d", ((2, 3),), (2, 3, 5)), ("CircularPad2d", ((1, 2, 2, 0),), (3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 2, 3)),
]


@pytest.mark.parametrize("name,args,shape", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(rng, name, args, shape):
    x = mg.tensor(rng.standard_normal(shape), dtype=mg.float64, requires_grad=True)
    module_gradcheck(getattr(nn, name)(*args), x)


@pytest.mark.parametrize("name,args,shape", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(rng, name, args, shape):
    torch = pytest.importorskip("torch")
    mine, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(mine) == repr(theirs)
    compare_with_torch(mine, theirs, (rng.standard_normal(shape),), rng=rng)


def test_bad_input_names_the_layer():
    with pytest.raises(ValueError, match=r"CircularPad1d: expected 2D or 3D input \(got 4D "
                                         r"input of shape \(2, 3, 4, 5\)\)"):
        nn.CircularPad1d(1)(mg.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"ReflectionPad2d: expected 3D or 4D input"):
        nn.ReflectionPad2d(1)(mg.ones(4, 5))
    with pytest.raises(ValueError, match=r"ReflectionPad2d: padding must be an int or 4 ints"):
        nn.ReflectionPad2d((1, 2, 3))
    with pytest.raises(RuntimeError):              # reflection needs padding < size
        nn.ReflectionPad1d(4)(mg.ones(2, 3, 4))


def test_zero_pad_values(rng):
    x = rng.standard_normal((2, 3))
    y = nn.ZeroPad1d((1, 2))(mg.tensor(x)).array
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (1, 2))))
