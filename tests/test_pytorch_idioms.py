"""Idioms that PyTorch programs use, run the same way on minigrad: formatting a loss,
legacy type names, walking grad_fn.next_functions, device-selection boilerplate."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_format_spec_on_a_0d_tensor_formats_its_number():
    loss = (mg.tensor([1.25, 2.5]) * 2).sum()
    assert f"{loss:.4f}" == "7.5000"
    assert f"{mg.tensor(3):>4d}" == "   3"
    assert f"{loss}" == "7.5"                        # PyTorch too: the number, not the repr
    assert f"{mg.tensor([1.0])}" == str(mg.tensor([1.0]))
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{mg.tensor([1.0, 2.0]):.2f}"


@pytest.mark.parametrize("dtype, name", [
    (mg.float32, "torch.FloatTensor"), (mg.float64, "torch.DoubleTensor"),
    (mg.int64, "torch.LongTensor"), (mg.bool, "torch.BoolTensor"), (mg.uint8, "torch.ByteTensor"),
])
def test_type_names_and_conversions(dtype, name):
    x = mg.zeros(2, dtype=dtype)
    assert x.type() == name
    assert mg.ones(3).type(dtype).dtype == dtype
    assert mg.ones(3).type(name).dtype == dtype
    with pytest.raises(ValueError, match="invalid type 'torch.NoSuchTensor'"):
        x.type("torch.NoSuchTensor")


def test_next_functions_walks_the_graph_to_the_leaves():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([0.5, 0.5])
    y = (w * b).exp()
    (mul, index), = [e for e in y.grad_fn.next_functions if e[0] is not None]
    assert index == 0 and mul.name == "Mul"
    leaf_edges = mul.next_functions
    assert leaf_edges[0][0].name() == "AccumulateGrad" and leaf_edges[0][0].variable is w
    assert leaf_edges[1] == (None, 0)


def test_device_selection_boilerplate_runs_and_answers_truthfully():
    if mg.cuda.is_available():
        device = "cuda"
    elif mg.backends.mps.is_available():
        device = "mps"
    else:
        device = "cpu"
    assert device == ("cuda" if mg.cuda.is_available() else "cpu")
    assert mg.backends.mps.is_available() is False and mg.backends.mps.is_built() is False
    assert mg.backends.cudnn.is_available() is False
    mg.backends.cudnn.benchmark = True                    # accepted, no effect
    assert mg.accelerator.is_available() == mg.cuda.is_available()
    current = mg.accelerator.current_accelerator()
    assert (current is None) == (not mg.cuda.is_available())
    x = mg.ones(2, device=device)
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])
