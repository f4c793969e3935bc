"""PyTorch's top-level utilities: constants, inference_mode, random state and Generator,
as_tensor, finfo/iinfo, threads, determinism and print options."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg


def test_constants_are_pythons():
    assert (mg.pi, mg.e, mg.inf) == (math.pi, math.e, math.inf)
    assert math.isnan(mg.nan)


def test_inference_mode_turns_recording_off_and_says_so():
    x = mg.randn(3, requires_grad=True)
    with mg.inference_mode():
        assert mg.is_inference_mode_enabled() and not mg.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert not mg.is_inference_mode_enabled() and mg.is_grad_enabled()
    with mg.inference_mode(False):
        assert not mg.is_inference_mode_enabled() and (x * 2).requires_grad


@pytest.mark.parametrize("bare", [True, False])
def test_inference_mode_as_decorator(bare):
    def f(x):
        return mg.is_inference_mode_enabled(), (x * 2).requires_grad

    wrapped = mg.inference_mode(f) if bare else mg.inference_mode()(f)
    assert wrapped(mg.randn(2, requires_grad=True)) == (True, False)
    assert not mg.is_inference_mode_enabled()


def test_inference_mode_restores_after_an_exception():
    with pytest.raises(ValueError), mg.inference_mode():
        raise ValueError
    assert mg.is_grad_enabled() and not mg.is_inference_mode_enabled()


def test_rng_state_round_trip_repeats_the_draws():
    mg.manual_seed(5)
    mg.randn(3)                         # leave a state that is not the seed's first one
    state = mg.get_rng_state()
    assert state.dtype == mg.uint8 and state.shape == (37,)
    first = mg.randn(7).numpy()
    mg.set_rng_state(state)
    np.testing.assert_array_equal(mg.randn(7).numpy(), first)


def test_set_rng_state_refuses_what_get_rng_state_cannot_return():
    with pytest.raises(RuntimeError, match=r"set_rng_state: .*shape \(37,\)"):
        mg.set_rng_state(mg.zeros(5, dtype=mg.uint8))
    with pytest.raises(RuntimeError, match="set_rng_state: .*float32"):
        mg.set_rng_state(mg.zeros(37))
    with pytest.raises(TypeError, match="set_rng_state"):
        mg.set_rng_state(b"\x00" * 37)


def test_seed_and_initial_seed():
    mg.manual_seed(123)
    assert mg.initial_seed() == 123
    s = mg.seed()
    assert mg.initial_seed() == s and 0 <= s < 2**63
    a = mg.rand(4).numpy()
    mg.manual_seed(s)
    np.testing.assert_array_equal(mg.rand(4).numpy(), a)


def test_generator_is_independent_and_reproducible():
    g = mg.Generator().manual_seed(7)
    assert g.initial_seed() == 7
    mg.manual_seed(0)
    a = mg.randn(5, generator=g).numpy()
    b = mg.randperm(6, generator=g).numpy()
    state = g.get_state()
    c = mg.rand(3, generator=g).numpy()
    g.manual_seed(7)
    np.testing.assert_array_equal(mg.randn(5, generator=g).numpy(), a)
    np.testing.assert_array_equal(mg.randperm(6, generator=g).numpy(), b)
    g.set_state(state)
    np.testing.assert_array_equal(mg.rand(3, generator=g).numpy(), c)
    # the default generator was not touched
    default_first = mg.randn(2).numpy()
    mg.manual_seed(0)
    np.testing.assert_array_equal(mg.randn(2).numpy(), default_first)


def test_generator_in_data_and_init():
    ds = mg.data.TensorDataset(mg.arange(10))
    split = [s.indices for s in mg.data.random_split(ds, [5, 5],
                                                      generator=mg.Generator().manual_seed(1))]
    again = [s.indices for s in mg.data.random_split(ds, [5, 5],
                                                      generator=mg.Generator().manual_seed(1))]
    assert split == again
    w = mg.empty(3, 4)
    mg.nn.init.uniform_(w, generator=mg.Generator().manual_seed(2))
    w2 = mg.empty(3, 4)
    mg.nn.init.uniform_(w2, generator=mg.Generator().manual_seed(2))
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


def test_generator_refuses_other_devices():
    with pytest.raises(RuntimeError, match="Generator: .*cuda"):
        mg.Generator(device="cuda")


def test_as_tensor_shares_or_returns_the_same_tensor():
    x = mg.randn(3)
    assert mg.as_tensor(x) is x and mg.as_tensor(x, dtype=mg.float32) is x
    y = mg.as_tensor(x, dtype=mg.float64)
    assert y.dtype == mg.float64 and y is not x
    a = np.arange(5.0)
    t = mg.as_tensor(a)
    a[0] = 9.0
    assert t.dtype == mg.float64 and t[0].item() == 9.0
    copied = mg.as_tensor(a, dtype=mg.float32)
    a[1] = 7.0
    assert copied[1].item() == 1.0
    assert mg.as_tensor([1, 2]).dtype == mg.int64


def test_as_tensor_of_a_tensor_in_the_graph_stays_in_it():
    x = mg.randn(3, dtype=mg.float32, requires_grad=True)
    mg.as_tensor(x, dtype=mg.float64).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))


def test_numel_and_dtype_questions():
    x = mg.zeros(2, 3, 5)
    assert mg.numel(x) == 30
    assert mg.is_floating_point(x) and not mg.is_floating_point(mg.zeros(2, dtype=mg.int64))
    assert not mg.is_complex(x)
    with pytest.raises(TypeError, match="numel: expected a Tensor"):
        mg.numel([1, 2])


def test_finfo_iinfo_match_torch():
    torch = pytest.importorskip("torch")
    for mgd, td in ((mg.float32, torch.float32), (mg.float64, torch.float64),
                    (mg.float16, torch.float16)):
        a, b = mg.finfo(mgd), torch.finfo(td)
        assert (a.eps, a.max, a.min, a.tiny, a.bits) == (b.eps, b.max, b.min, b.tiny, b.bits)
    assert mg.finfo().eps == torch.finfo().eps
    for mgd, td in ((mg.int64, torch.int64), (mg.int32, torch.int32), (mg.uint8, torch.uint8)):
        a, b = mg.iinfo(mgd), torch.iinfo(td)
        assert (a.min, a.max, a.bits) == (b.min, b.max, b.bits)
    with pytest.raises(TypeError, match="finfo: expected a floating dtype, got int64"):
        mg.finfo(mg.int64)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype, got float32"):
        mg.iinfo(mg.float32)


def test_num_threads_round_trip():
    n = mg.get_num_threads()
    try:
        mg.set_num_threads(1)
        assert mg.get_num_threads() == 1
    finally:
        mg.set_num_threads(n)
    with pytest.raises(ValueError, match="set_num_threads: n must be between 1 and"):
        mg.set_num_threads(0)


def test_use_deterministic_algorithms_is_remembered():
    try:
        mg.use_deterministic_algorithms(True, warn_only=True)
        assert mg.are_deterministic_algorithms_enabled()
        assert mg.is_deterministic_algorithms_warn_only_enabled()
    finally:
        mg.use_deterministic_algorithms(False)
    assert not mg.are_deterministic_algorithms_enabled()


@pytest.fixture
def default_printoptions():
    yield
    mg.set_printoptions(profile="default")


def test_set_printoptions_matches_torch(default_printoptions):
    torch = pytest.importorskip("torch")
    values = [[1.23456789, -20.5, 3.0], [0.001, 4.5, 6.25]]
    try:
        for kwargs in ({"precision": 2}, {"precision": 6}, {"sci_mode": True, "precision": 3}):
            mg.set_printoptions(**kwargs)
            torch.set_printoptions(**kwargs)
            assert repr(mg.tensor(values)) == repr(torch.tensor(values))
            mg.set_printoptions(profile="default")
            torch.set_printoptions(profile="default")
    finally:
        torch.set_printoptions(profile="default")


def test_set_printoptions_threshold_and_edgeitems(default_printoptions):
    mg.set_printoptions(threshold=5, edgeitems=2)
    assert repr(mg.arange(10)) == "tensor([0, 1, ..., 8, 9])"
    mg.set_printoptions(profile="full")
    assert "..." not in repr(mg.arange(2000))
    with pytest.raises(ValueError, match="set_printoptions: profile"):
        mg.set_printoptions(profile="long")
