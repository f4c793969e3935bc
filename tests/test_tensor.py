"""Tensor creation, dtypes, devices, conversion, printing and clear errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg


def test_default_dtypes_follow_pytorch():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True]).dtype == mg.bool
    assert mg.tensor(np.zeros(3)).dtype == mg.float64        # NumPy float64 stays float64
    assert mg.tensor(np.zeros(3, np.int32)).dtype == mg.int64
    assert mg.zeros(2, 3).dtype == mg.float32
    assert mg.arange(5).dtype == mg.int64 and mg.arange(0.0, 1.0, 0.25).dtype == mg.float32
    assert mg.randn(2, dtype=mg.float64).dtype == mg.float64


@pytest.mark.parametrize("a, b, expected", [
    (mg.float32, mg.float64, mg.float64),
    (mg.int64, mg.float32, mg.float32),      # NumPy would say float64; PyTorch says float32
    (mg.bool, mg.int64, mg.int64),
    (mg.bool, mg.float32, mg.float32),
    (mg.int32, mg.int64, mg.int64),
])
def test_promotion_between_tensors(a, b, expected):
    x = mg.ones(2, dtype=a) if a != mg.bool else mg.tensor([True, False])
    y = mg.ones(2, dtype=b) if b != mg.bool else mg.tensor([True, False])
    assert (x + y).dtype == expected and (y * x).dtype == expected


def test_python_scalars_do_not_widen():
    x = mg.ones(3)
    assert (x * 2.5).dtype == mg.float32 and (2.5 * x).dtype == mg.float32
    assert (mg.arange(3) * 2.5).dtype == mg.float32
    assert (mg.arange(3) + 1).dtype == mg.int64
    assert (mg.arange(3) / 2).dtype == mg.float32          # true division gives floats
    assert (mg.ones(2, dtype=mg.float64) * 3).dtype == mg.float64


def test_float64_gradients_stay_float64():
    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    (x * 2.0).sum().backward()
    assert x.grad.dtype == mg.float64


def test_mixed_dtype_gradients_come_back_in_each_inputs_dtype():
    a = mg.randn(3, requires_grad=True)
    b = mg.randn(3, dtype=mg.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == mg.float32 and b.grad.dtype == mg.float64


def test_numpy_interop():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(x.numpy(), np.ndarray)
    np.testing.assert_array_equal(np.asarray(x), [[1, 2], [3, 4]])
    a = np.arange(3.0)
    t = mg.from_numpy(a)
    a[0] = 7
    assert t[0].item() == 7
    with pytest.raises(RuntimeError, match="detach"):
        mg.randn(2, requires_grad=True).numpy()


def test_attributes():
    x = mg.randn(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.numel() == 24 and x.size(1) == 3
    assert repr(x.shape) == "Size([2, 3, 4])"
    assert x.device == "cpu" and str(x.device) == "cpu"
    assert len(x) == 2
    assert mg.tensor(3.5).item() == 3.5
    assert x.is_leaf and not x.requires_grad


def test_repr_reads_like_pytorch():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert "requires_grad=True" in repr(mg.tensor([1.0], requires_grad=True))
    assert "dtype=float64" in repr(mg.tensor([1.0], dtype=mg.float64))
    x = mg.tensor([1.0], requires_grad=True)
    assert "grad_fn=<MulBackward>" in repr(x * 2)


def test_only_float_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], requires_grad=True)


def test_cuda_detection_is_by_cupy_not_numba():
    """Under NUMBA_ENABLE_CUDASIM numba says a GPU exists; minigrad must not believe it."""
    import importlib.util
    if importlib.util.find_spec("cupy") is None:
        assert mg.cuda.is_available() is False
    if not mg.cuda.is_available():
        with pytest.raises(RuntimeError, match="no usable GPU"):
            mg.ones(2).to("cuda")


def test_device_objects():
    d = mg.device("cuda:1")
    assert d.type == "cuda" and d.index == 1 and str(d) == "cuda:1"
    assert mg.device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        mg.device("tpu")


def test_to_changes_dtype_and_is_differentiable():
    x = mg.randn(3, requires_grad=True)
    y = x.to(mg.float64)
    assert y.dtype == mg.float64
    y.sum().backward()
    assert x.grad.dtype == mg.float32
    assert x.to(x) is x


def test_max_min_with_dim_return_named_tuple():
    x = mg.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    r = x.max(dim=1)
    np.testing.assert_array_equal(r.values.numpy(), [5, 6])
    np.testing.assert_array_equal(r.indices.numpy(), [1, 2])
    assert x.max(dim=1)[0].shape == (2,)
    assert r.indices.dtype == mg.int64
    assert x.max().item() == 6 and x.min().item() == 1
    vals, idx = x.min(0, keepdim=True)
    assert vals.shape == (1, 3) and idx.shape == (1, 3)


def test_var_unbiased_and_logsumexp_stable():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(np.var([1, 2, 3, 4], ddof=1))
    assert x.var(unbiased=False).item() == pytest.approx(np.var([1, 2, 3, 4]))
    big = mg.tensor([1000.0, 1000.0, -1000.0])
    assert mg.logsumexp(big, dim=0).item() == pytest.approx(1000 + np.log(2))
    assert mg.logsumexp(-big, dim=0).item() == pytest.approx(1000)
    x = mg.tensor([1000.0, -1000.0], requires_grad=True)
    mg.logsumexp(x, 0).backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0])


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_sigmoid_is_stable_and_accurate_in_both_tails(dtype):
    """exp(-x) overflows to inf for x = -1000; 1 / (1 + inf) = 0 is right and must come
    without a warning, a NaN or a lost tail (sigmoid(-30) = 9.36e-14, not 0)."""
    x = mg.tensor([-1000.0, -30.0, -1.0, 0.0, 2.5, 30.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.sigmoid().numpy()
    exact = [1 / (1 + math.exp(-v)) if v > -700 else 0.0 for v in x.numpy().tolist()]
    np.testing.assert_allclose(y, exact, rtol=1e-6 if dtype == mg.float32 else 1e-13, atol=0)
    assert y.dtype == np.dtype(dtype.name if hasattr(dtype, "name") else dtype)
    assert np.isnan(mg.tensor([np.nan], dtype=dtype).sigmoid().numpy()).all()


def test_getitem_with_repeated_integer_indices_accumulates():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 1])


def test_getitem_boolean_mask_and_errors():
    x = mg.tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    y = x[x > 0]
    np.testing.assert_array_equal(y.detach().numpy(), [1, 3])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0], [1, 0]])
    with pytest.raises(IndexError, match=r"shape \(2, 2\)"):
        x[5]
    with pytest.raises(IndexError, match=r"shape \(2, 2\)"):
        x[[0, 9]]


def test_split_chunk_gather():
    x = mg.arange(10.0)
    assert [p.shape[0] for p in x.split(3)] == [3, 3, 3, 1]
    assert [p.shape[0] for p in x.chunk(3)] == [4, 4, 2]
    assert [p.shape[0] for p in x.split([2, 8])] == [2, 8]
    src = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = mg.gather(src, 1, mg.tensor([[0, 0], [1, 0]]))
    np.testing.assert_array_equal(out.numpy(), [[1, 1], [4, 3]])


def test_matmul_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"\(2, 3\) and \(4, 5\).*\(3\).*\(4\)"):
        mg.randn(2, 3) @ mg.randn(4, 5)


def test_broadcast_error_names_the_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        mg.randn(2, 3) + mg.randn(4)


def test_reshape_error():
    with pytest.raises(RuntimeError, match=r"shape \[4, 4\] is invalid for a tensor of 6"):
        mg.randn(2, 3).reshape(4, 4)


def test_inplace_shape_mismatch_is_clear():
    x = mg.zeros(3)
    with pytest.raises(RuntimeError, match=r"result has shape \(2, 3\)"):
        x += mg.zeros(2, 3)


def test_expand_and_write_needs_clone():
    x = mg.zeros(1, 3).expand(2, 3)
    for write in (lambda: x.add_(1.0), lambda: x.fill_(1.0), x.zero_):
        with pytest.raises(RuntimeError, match="read-only"):
            write()
    y = x.clone()
    y.add_(1.0)
    np.testing.assert_array_equal(y.numpy(), np.ones((2, 3)))


def test_manual_seed_makes_randomness_reproducible():
    mg.manual_seed(3)
    a = mg.randn(4)
    mg.manual_seed(3)
    b = mg.randn(4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_factories():
    assert mg.eye(3).numpy().trace() == 3
    assert mg.full((2, 2), 7.0).sum().item() == 28
    assert mg.zeros_like(mg.ones(2, dtype=mg.float64)).dtype == mg.float64
    assert mg.linspace(0, 1, 5).shape == (5,)
    assert mg.randint(0, 10, (3, 4)).dtype == mg.int64
    assert sorted(mg.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    assert mg.tensor([[1, 2], [3, 4]]).T.tolist() == [[1, 3], [2, 4]]


def test_comparisons_have_no_grad():
    x = mg.randn(3, requires_grad=True)
    m = x > 0
    assert m.dtype == mg.bool and not m.requires_grad


def test_where_and_clamp_values():
    x = mg.tensor([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(mg.where(x > 0, x, 0.0).numpy(), [0, 0.5, 3])
    np.testing.assert_array_equal(x.clamp(-1, 1).numpy(), [-1, 0.5, 1])
    np.testing.assert_array_equal(mg.maximum(x, mg.zeros(3)).numpy(), [0, 0.5, 3])


def test_maximum_splits_gradient_at_ties_like_pytorch():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([1.0, 3.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1])


def test_mixing_devices_in_one_op_is_a_clear_error(monkeypatch):
    """No GPU here: a stand-in array type plays the CuPy array; the check is by array type."""
    from minigrad import backend

    class FakeGpuArray(np.ndarray):
        pass

    gpu = mg.Tensor._make(np.ones(3).view(FakeGpuArray).view(FakeGpuArray))
    monkeypatch.setattr(mg.autograd.function, "_check_same_device",
                        lambda cls, args, a, b: mg.autograd.function._raise_device_mismatch(
                            cls, args))
    real_device_of = backend.device_of
    monkeypatch.setattr(backend, "device_of", lambda a: backend.Device("cuda") if isinstance(
        a, FakeGpuArray) else real_device_of(a))
    with pytest.raises(RuntimeError, match=r"Mul: expected all tensors on the same device.*"
                                           r"arg 0: cpu \(3,\), arg 1: cuda:0 \(3,\)"):
        mg.ones(3, dtype=mg.float64) * gpu


def test_numpy_scalars_and_zero_dim_results():
    t = mg.ones(3)
    assert isinstance(np.float32(2) * t, mg.Tensor)
    assert (mg.tensor(5) // 2).item() == 2
    assert mg.tensor(2.0).sign().item() == 1.0
    assert repr(mg.tensor(3.0).isnan()) == "tensor(False)"
    assert mg.tensor([1.0, 2.0]).all().item() is True


def test_inplace_under_no_grad_is_seen_by_views():
    x = mg.arange(6.0).reshape(2, 3)
    row = x[0]
    with mg.no_grad():
        x += 1
    np.testing.assert_array_equal(row.numpy(), [1, 2, 3])


def test_setitem_on_a_clone_passes_gradient_around_the_overwritten_part():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.clone()
    y[0] = 5.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1])


def test_addmm_matches_its_definition_and_checks_shapes():
    rng = np.random.default_rng(3)
    c, a, b = rng.standard_normal(5), rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    y = mg.addmm(mg.tensor(c), mg.tensor(a), mg.tensor(b), beta=0.5, alpha=2.0)
    np.testing.assert_allclose(y.numpy(), 0.5 * c + 2.0 * (a @ b), rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"addmm: input of shape \(4,\) can't be broadcast to "
                                           r"the product's shape \(3, 5\)"):
        mg.addmm(mg.tensor(rng.standard_normal(4)), mg.tensor(a), mg.tensor(b))
    with pytest.raises(RuntimeError, match="addmm: mat1 and mat2 must be 2-D"):
        mg.addmm(mg.tensor(c), mg.tensor(rng.standard_normal(4)), mg.tensor(b))
