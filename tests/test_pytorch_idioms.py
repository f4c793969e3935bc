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


def test_randint_with_high_and_size_only():
    # torch.randint(high, size): the second positional argument is the shape
    mg.manual_seed(3)
    x = mg.randint(7, (5, 3))
    assert tuple(x.shape) == (5, 3) and x.dtype == mg.int64
    assert 0 <= x.min().item() and x.max().item() < 7
    y = mg.randint(2, 9, (11,))
    assert tuple(y.shape) == (11,) and 2 <= y.min().item() and y.max().item() < 9


def test_multinomial_draws_indices_in_proportion_to_weights():
    mg.manual_seed(5)
    weights = mg.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]])     # rows need not sum to 1
    draws = mg.multinomial(weights, 4000, replacement=True)
    assert tuple(draws.shape) == (2, 4000) and draws.dtype == mg.int64
    counts = np.bincount(draws.numpy()[0], minlength=3) / 4000
    np.testing.assert_allclose(counts, [0.25, 0.0, 0.75], atol=0.03)
    assert (draws.numpy()[1] == 1).all()
    one = weights[0].multinomial(1)
    assert tuple(one.shape) == (1,) and one.item() in (0, 2)


def test_multinomial_without_replacement_draws_each_index_once():
    mg.manual_seed(7)
    draws = mg.multinomial(mg.rand(6, 9) + 0.1, 9)
    for row in draws.numpy():
        assert sorted(row.tolist()) == list(range(9))


@pytest.mark.parametrize("weights, num_samples, replacement, message", [
    ([[1.0, -1.0]], 1, True, "element < 0"),
    ([[1.0, float("nan")]], 1, True, "inf, nan or element < 0"),
    ([[0.0, 0.0]], 1, True, r"sum of probabilities <= 0"),
    ([[1.0, 2.0]], 3, False, "cannot sample n_sample > prob_dist.size"),
    ([[[1.0]]], 1, True, "must be 1 or 2 dim"),
    ([[1.0, 2.0]], 0, True, "num_samples must be a positive int"),
])
def test_multinomial_refuses_bad_input_by_name(weights, num_samples, replacement, message):
    with pytest.raises(RuntimeError, match="multinomial: .*" + message):
        mg.multinomial(mg.tensor(weights), num_samples, replacement)


def test_multinomial_matches_torch_on_what_is_deterministic():
    torch = pytest.importorskip("torch")
    weights = [[0.0, 5.0, 0.0], [2.0, 0.0, 0.0]]
    ours = mg.multinomial(mg.tensor(weights), 1)
    theirs = torch.multinomial(torch.tensor(weights), 1)
    assert ours.tolist() == theirs.tolist()
    # without replacement, zero-weight categories fill in once the nonzero ones run out
    ours = mg.multinomial(mg.tensor([[0.0, 0.0, 4.0, 0.0]]), 3).tolist()[0]
    theirs = torch.multinomial(torch.tensor([[0.0, 0.0, 4.0, 0.0]]), 3).tolist()[0]
    assert ours[0] == theirs[0] == 2 and len(set(ours)) == len(set(theirs)) == 3
    assert mg.randint(7, (5, 3)).shape == tuple(torch.randint(7, (5, 3)).shape)


def test_set_default_dtype_changes_what_new_float_tensors_get():
    assert mg.get_default_dtype() == mg.float32
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.get_default_dtype() == mg.float64
        made = [mg.tensor(1.5), mg.tensor([[0.5, 2.0]]), mg.zeros(3), mg.randn(2, 5),
                mg.arange(0.0, 3.0), mg.full((2,), 0.25), mg.tensor([1, 2]) * 2.5,
                mg.nn.Linear(3, 7).weight, mg.nn.LayerNorm(5).bias]
        assert [t.dtype for t in made] == [mg.float64] * len(made)
        assert mg.tensor([1, 2]).dtype == mg.int64          # integers keep int64
        assert mg.ones(2).float().dtype == mg.float32       # .float() is always float32
    finally:
        mg.set_default_dtype(mg.float32)
    assert mg.tensor(1.5).dtype == mg.float32


@pytest.mark.parametrize("bad", [mg.int64, mg.bool, "float64", 3])
def test_set_default_dtype_accepts_only_float_dtypes(bad):
    with pytest.raises(TypeError, match="set_default_dtype: only floating-point types"):
        mg.set_default_dtype(bad)
    assert mg.get_default_dtype() == mg.float32
