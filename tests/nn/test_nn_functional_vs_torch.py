"""nn.functional against PyTorch: same inputs (float64), same outputs, same gradients.

Every loss is run with every option; gradients are compared for the input and, where PyTorch
defines one, for the target.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

ATOL = 1e-10


def _pair(array, grad):
    """The same numbers as a minigrad Tensor and a torch tensor (float arrays may need grad)."""
    array = np.asarray(array)
    if array.dtype.kind != "f":
        return mg.tensor(array), torch.from_numpy(array.copy())
    m = mg.tensor(array, dtype=mg.float64, requires_grad=grad)
    tt = torch.tensor(array, dtype=torch.float64, requires_grad=grad)
    return m, tt


def compare(mg_fn, torch_fn, *arrays, grad=(0,), atol=ATOL):
    """Run both functions on the same arrays; compare outputs and gradients of every input
    index in ``grad`` (a random upstream gradient, so all output entries matter)."""
    pairs = [_pair(a, i in grad) for i, a in enumerate(arrays)]
    out_m = mg_fn(*[p[0] for p in pairs])
    out_t = torch_fn(*[p[1] for p in pairs])
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=atol,
                               rtol=1e-7)
    if not grad:
        return
    up = np.random.default_rng(0).standard_normal(out_t.shape)
    out_m.backward(mg.tensor(up))
    out_t.backward(torch.from_numpy(up))
    for i in grad:
        np.testing.assert_allclose(pairs[i][0].grad.numpy(), pairs[i][1].grad.numpy(),
                                   atol=atol, rtol=1e-7, err_msg=f"gradient of input {i}")


@pytest.fixture
def r():
    return np.random.default_rng(3)


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------

ACTIVATIONS = [
    ("relu", {}), ("sigmoid", {}), ("tanh", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.3}), ("elu", {}),
    ("elu", {"alpha": 0.7}), ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("logsigmoid", {}),
]


@pytest.mark.parametrize("name,kw", ACTIVATIONS, ids=[f"{n}-{k}" for n, k in ACTIVATIONS])
def test_activation(name, kw, r):
    x = r.uniform(-5, 5, size=(4, 7))
    x[0, :3] = [-100.0, 100.0, 0.5]
    compare(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_family(fn, dim, r):
    x = r.normal(size=(3, 4, 5)) * 4
    x[0, 0, 0] = 80.0
    compare(lambda a: getattr(F, fn)(a, dim=dim), lambda a: getattr(TF, fn)(a, dim=dim), x)


def test_softmax_float32_through_the_kernels(r):
    x = r.normal(size=(6, 33)).astype(np.float32)
    np.testing.assert_allclose(F.softmax(mg.tensor(x), 1).numpy(),
                               TF.softmax(torch.from_numpy(x), 1).numpy(), atol=1e-6)
    np.testing.assert_allclose(F.log_softmax(mg.tensor(x), 0).numpy(),
                               TF.log_softmax(torch.from_numpy(x), 0).numpy(), atol=1e-5)


def test_softmax_implicit_dim_warns_like_pytorch(r):
    x = r.normal(size=(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(mg.tensor(x))
    np.testing.assert_allclose(out.numpy(), TF.softmax(torch.from_numpy(x), dim=1).numpy())


def test_normalize(r):
    x = r.normal(size=(4, 5))
    x[1] = 0.0  # the zero vector: eps keeps it finite
    for kw in [{}, {"dim": 0}, {"p": 1.0}, {"p": 3.0, "dim": 1}]:
        compare(lambda a, kw=kw: F.normalize(a, **kw), lambda a, kw=kw: TF.normalize(a, **kw), x)


def test_one_hot():
    idx = np.array([[0, 3], [2, 1]])
    out = F.one_hot(mg.tensor(idx), 5)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), TF.one_hot(torch.from_numpy(idx), 5).numpy())
    np.testing.assert_array_equal(F.one_hot(mg.tensor(idx)).numpy(),
                                  TF.one_hot(torch.from_numpy(idx)).numpy())


# ---------------------------------------------------------------------------------------------
# Layers as functions
# ---------------------------------------------------------------------------------------------

def test_linear(r):
    compare(F.linear, TF.linear, r.normal(size=(2, 3, 4)), r.normal(size=(5, 4)),
            r.normal(size=5), grad=(0, 1, 2))
    compare(F.linear, TF.linear, r.normal(size=4), r.normal(size=(5, 4)), grad=(0, 1))


@pytest.mark.parametrize("shape,norm", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((3, 6), 6)])
def test_layer_norm(shape, norm, r):
    ns = (norm,) if isinstance(norm, int) else norm
    x, w, b = r.normal(size=shape) * 3 + 1, r.normal(size=ns), r.normal(size=ns)
    compare(lambda a, c, d: F.layer_norm(a, norm, c, d), lambda a, c, d: TF.layer_norm(
        a, ns, c, d), x, w, b, grad=(0, 1, 2))
    compare(lambda a: F.layer_norm(a, norm, eps=0.1), lambda a: TF.layer_norm(a, ns, eps=0.1),
            x)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
def test_batch_norm_training_and_running_stats(shape, r):
    c = shape[1]
    x, w, b = r.normal(size=shape) * 2 + 3, r.normal(size=c), r.normal(size=c)
    rm_m, rv_m = mg.zeros(c, dtype=mg.float64), mg.ones(c, dtype=mg.float64)
    rm_t, rv_t = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    compare(lambda a, c_, d: F.batch_norm(a, rm_m, rv_m, c_, d, training=True, momentum=0.3),
            lambda a, c_, d: TF.batch_norm(a, rm_t, rv_t, c_, d, training=True, momentum=0.3),
            x, w, b, grad=(0, 1, 2))
    np.testing.assert_allclose(rm_m.numpy(), rm_t.numpy(), atol=ATOL)
    np.testing.assert_allclose(rv_m.numpy(), rv_t.numpy(), atol=ATOL)
    compare(lambda a, c_, d: F.batch_norm(a, rm_m, rv_m, c_, d, training=False),
            lambda a, c_, d: TF.batch_norm(a, rm_t, rv_t, c_, d, training=False),
            x, w, b, grad=(0, 1, 2))


def test_embedding_padding_idx_and_freq_scaling(r):
    idx = np.array([[0, 2, 2], [4, 0, 1]])
    w = r.normal(size=(5, 3))
    for kw in [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
               {"padding_idx": 0, "scale_grad_by_freq": True}]:
        compare(lambda i, a, kw=kw: F.embedding(i, a, **kw),
                lambda i, a, kw=kw: TF.embedding(i, a, **kw), idx, w, grad=(1,))


def test_embedding_max_norm_renormalises_rows_in_place(r):
    idx = np.array([0, 3, 3])
    w = r.normal(size=(5, 4)) * 3
    wm, wt = mg.tensor(w.copy()), torch.tensor(w.copy())
    out_m = F.embedding(mg.tensor(idx), wm, max_norm=1.5)
    out_t = TF.embedding(torch.from_numpy(idx), wt, max_norm=1.5)
    np.testing.assert_allclose(out_m.numpy(), out_t.numpy(), atol=1e-7)
    np.testing.assert_allclose(wm.numpy(), wt.numpy(), atol=1e-7)


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss"])
def test_regression_losses(fn, reduction, r):
    x, y = r.normal(size=(3, 5)), r.normal(size=(3, 5))
    y[0, 0] = x[0, 0] + 0.5
    compare(lambda a, b: getattr(F, fn)(a, b, reduction=reduction),
            lambda a, b: getattr(TF, fn)(a, b, reduction=reduction), x, y, grad=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn, option, value", [("huber_loss", "delta", 1.0),
                                               ("huber_loss", "delta", 0.3),
                                               ("smooth_l1_loss", "beta", 1.0),
                                               ("smooth_l1_loss", "beta", 0.3),
                                               ("smooth_l1_loss", "beta", 0.0)])
def test_robust_regression_losses(fn, option, value, reduction, r):
    x, y = r.normal(size=(4, 7)) * 2, r.normal(size=(4, 7))
    compare(lambda a, b: getattr(F, fn)(a, b, reduction=reduction, **{option: value}),
            lambda a, b: getattr(TF, fn)(a, b, reduction=reduction, **{option: value}), x, y,
            grad=(0, 1))


def test_robust_loss_modules_and_bad_options():
    x, y = mg.tensor([0.0, 2.0, -3.0]), mg.tensor([0.5, 0.0, 0.0])
    np.testing.assert_allclose(mg.nn.HuberLoss(delta=1.0)(x, y).item(),
                               (0.125 + 1.5 + 2.5) / 3, rtol=1e-6)
    np.testing.assert_allclose(mg.nn.SmoothL1Loss(beta=2.0, reduction="sum")(x, y).item(),
                               0.0625 + 1.0 + 2.0, rtol=1e-6)
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0"):
        F.huber_loss(x, y, delta=0)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be >= 0, got -1"):
        F.smooth_l1_loss(x, y, beta=-1)


CE_OPTIONS = list(itertools.product(REDUCTIONS, [None, "weight"], [-100, 1], [0.0, 0.25]))


@pytest.mark.parametrize("reduction,weight,ignore_index,smoothing", CE_OPTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 2, 3), (4,)])
def test_cross_entropy_class_indices(shape, reduction, weight, ignore_index, smoothing, r):
    c = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    x = r.normal(size=shape) * 2
    target = r.integers(0, c, size=tshape)
    if target.ndim:
        target.reshape(-1)[::3] = ignore_index if ignore_index >= 0 else -100
    w = r.uniform(0.5, 2.0, size=c) if weight else None
    kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    compare(lambda a, t: F.cross_entropy(a, t, weight=None if w is None else mg.tensor(w), **kw),
            lambda a, t: TF.cross_entropy(a, t, weight=None if w is None
                                          else torch.from_numpy(w), **kw), x, target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weight", [False, True])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)])
def test_cross_entropy_probability_targets(shape, weight, smoothing, reduction, r):
    x = r.normal(size=shape)
    p = r.uniform(size=shape)
    p /= p.sum(axis=1, keepdims=True)
    w = r.uniform(0.5, 2.0, size=shape[1]) if weight else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    compare(lambda a, t: F.cross_entropy(a, t, weight=None if w is None else mg.tensor(w), **kw),
            lambda a, t: TF.cross_entropy(a, t, weight=None if w is None
                                          else torch.from_numpy(w), **kw), x, p, grad=(0, 1))


def test_cross_entropy_all_targets_ignored_gives_nan_like_pytorch(r):
    x = r.normal(size=(3, 4))
    t = np.full(3, -100)
    with np.errstate(invalid="ignore"):
        out = F.cross_entropy(mg.tensor(x), mg.tensor(t))
    assert np.isnan(out.item()) and np.isnan(TF.cross_entropy(torch.from_numpy(x),
                                                              torch.from_numpy(t)).item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [False, True])
def test_nll_loss(reduction, weight, r):
    logp = np.log(r.dirichlet(np.ones(4), size=6))
    t = r.integers(0, 4, size=6)
    t[2] = -100
    w = r.uniform(0.5, 2, size=4) if weight else None
    compare(lambda a, b: F.nll_loss(a, b, None if w is None else mg.tensor(w),
                                    reduction=reduction),
            lambda a, b: TF.nll_loss(a, b, None if w is None else torch.from_numpy(w),
                                     reduction=reduction), logp, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [False, True])
def test_binary_cross_entropy(reduction, weight, r):
    x = r.uniform(0.05, 0.95, size=(3, 4))
    y = r.uniform(size=(3, 4))
    w = r.uniform(size=(3, 4)) if weight else None
    compare(lambda a, b: F.binary_cross_entropy(a, b, None if w is None else mg.tensor(w),
                                                reduction=reduction),
            lambda a, b: TF.binary_cross_entropy(a, b, None if w is None
                                                 else torch.from_numpy(w), reduction=reduction),
            x, y, grad=(0, 1))


def test_binary_cross_entropy_at_exact_zero_and_one():
    x, y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    compare(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
            lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"), x, y, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [False, True])
@pytest.mark.parametrize("weight", [False, True])
def test_bce_with_logits(reduction, pos_weight, weight, r):
    x = r.normal(size=(3, 4)) * 3
    x[0, :2] = [100.0, -100.0]  # stable at |logit| = 100
    y = r.uniform(size=(3, 4))
    y[0, :2] = [0.0, 1.0]  # the worst cases: confidently wrong
    pw = r.uniform(0.5, 3, size=4) if pos_weight else None
    w = r.uniform(size=(3, 4)) if weight else None

    def conv(a, lib):
        return None if a is None else (mg.tensor(a) if lib == "mg" else torch.from_numpy(a))

    compare(lambda a, b: F.binary_cross_entropy_with_logits(
                a, b, conv(w, "mg"), reduction=reduction, pos_weight=conv(pw, "mg")),
            lambda a, b: TF.binary_cross_entropy_with_logits(
                a, b, conv(w, "t"), reduction=reduction, pos_weight=conv(pw, "t")),
            x, y, grad=(0, 1))


def test_bce_with_logits_is_finite_at_100_in_float32():
    x = mg.tensor([100.0, -100.0], requires_grad=True)
    y = mg.tensor([0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0])


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target, r):
    logq = np.log(r.dirichlet(np.ones(5), size=3))
    p = r.dirichlet(np.ones(5), size=3)
    p[0, 0] = 0.0  # target 0: contributes 0 (0 * log 0 := 0)
    target = np.log(p + 1e-3) if log_target else p
    kw = dict(reduction=reduction, log_target=log_target)
    with pytest.warns(UserWarning) if reduction == "mean" else _no_warning():
        compare(lambda a, b: F.kl_div(a, b, **kw), lambda a, b: TF.kl_div(a, b, **kw),
                logq, target, grad=(0, 1) if log_target else (0,))


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_legacy_size_average_reduce_flags(r):
    x, y = r.normal(size=4), r.normal(size=4)
    with pytest.warns(UserWarning, match="deprecated"):
        out = F.mse_loss(mg.tensor(x), mg.tensor(y), size_average=False)
    np.testing.assert_allclose(out.item(), ((x - y) ** 2).sum())
