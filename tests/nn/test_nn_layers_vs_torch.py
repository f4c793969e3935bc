"""Layers against PyTorch: the same weights loaded both ways, the same outputs, the same
gradients, the same running statistics, the same state_dict keys and reprs."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def to_torch_state(module):
    return {k: torch.from_numpy(v.numpy().copy()) for k, v in module.state_dict().items()}


def assert_same_state(m, t, atol=0.0):
    ms, ts = m.state_dict(), t.state_dict()
    assert list(ms) == list(ts)
    for k in ms:
        np.testing.assert_allclose(ms[k].numpy(), ts[k].numpy(), atol=atol, err_msg=k)


def run_both(m, t, x, atol=1e-5):
    """Forward both on the same input (with grad), backward the same random gradient, and
    compare outputs, input gradients and every parameter gradient (by name)."""
    xm = mg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ym, yt = m(xm), t(xt)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=1e-5)
    g = np.random.default_rng(1).standard_normal(yt.shape).astype(x.dtype)
    ym.backward(mg.tensor(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), atol=atol, rtol=1e-5)
    tgrads = dict(t.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), atol=atol,
                                   rtol=1e-5, err_msg=name)


@pytest.fixture
def r():
    return np.random.default_rng(11)


# ---------------------------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bias", [True, False])
def test_linear_torch_weights_into_minigrad(bias, r):
    t = tnn.Linear(6, 4, bias=bias)
    m = nn.Linear(6, 4, bias=bias)
    m.load_state_dict(t.state_dict())  # torch tensors accepted as they are
    assert_same_state(m, t)
    run_both(m, t, r.normal(size=(5, 6)).astype(np.float32))


def test_linear_minigrad_weights_into_torch_and_batched_input(r):
    m, t = nn.Linear(3, 2), tnn.Linear(3, 2)
    t.load_state_dict(to_torch_state(m))
    run_both(m, t, r.normal(size=(2, 4, 3)).astype(np.float32))


def test_linear_default_init_matches_pytorch_distribution():
    mg.manual_seed(0)
    lin = nn.Linear(400, 300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-b, b) has std b / sqrt(3); PyTorch's kaiming_uniform_(a=sqrt(5)) gives the same
    tw = tnn.Linear(400, 300).weight.detach().numpy()
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert abs(w.std() - tw.std()) < 0.01 * bound
    assert abs(w.mean()) < 0.01 * bound


# ---------------------------------------------------------------------------------------------
# BatchNorm
# ---------------------------------------------------------------------------------------------

BN_CASES = [
    (nn.BatchNorm1d, tnn.BatchNorm1d, (8, 3), {}),
    (nn.BatchNorm1d, tnn.BatchNorm1d, (4, 3, 5), {"momentum": 0.3}),
    (nn.BatchNorm1d, tnn.BatchNorm1d, (8, 3), {"momentum": None}),
    (nn.BatchNorm2d, tnn.BatchNorm2d, (4, 3, 5, 2), {}),
    (nn.BatchNorm2d, tnn.BatchNorm2d, (2, 3, 4, 4), {"affine": False}),
    (nn.BatchNorm2d, tnn.BatchNorm2d, (2, 3, 4, 4), {"bias": False, "eps": 1e-3}),
    (nn.BatchNorm1d, tnn.BatchNorm1d, (6, 3), {"track_running_stats": False}),
]


@pytest.mark.parametrize("mcls,tcls,shape,kw", BN_CASES,
                         ids=[f"{c[0].__name__}-{c[3]}" for c in BN_CASES])
def test_batch_norm_train_steps_then_eval(mcls, tcls, shape, kw, r):
    m, t = mcls(shape[1], **kw), tcls(shape[1], **kw)
    if m.weight is not None:  # non-trivial affine parameters, loaded into torch
        with mg.no_grad():
            m.weight.copy_(mg.tensor(r.uniform(0.5, 2, size=shape[1]).astype(np.float32)))
            if m.bias is not None:
                m.bias.copy_(mg.tensor(r.normal(size=shape[1]).astype(np.float32)))
        t.load_state_dict(to_torch_state(m))
    for step in range(3):  # running statistics after a few training steps
        m.zero_grad(), t.zero_grad()
        run_both(m, t, (r.normal(size=shape) * (step + 1) + step).astype(np.float32))
    assert_same_state(m, t, atol=1e-5)
    m.eval(), t.eval()
    x = r.normal(size=shape).astype(np.float32)
    m.zero_grad(), t.zero_grad()
    run_both(m, t, x)


def test_batch_norm_state_dict_loads_from_torch_with_int_counter(r):
    t = tnn.BatchNorm1d(4)
    t(torch.randn(10, 4))
    t(torch.randn(10, 4))
    m = nn.BatchNorm1d(4)
    m.load_state_dict(t.state_dict())
    assert m.num_batches_tracked.item() == 2 and m.num_batches_tracked.dtype == np.int64
    assert_same_state(m, t)


def test_batch_norm_channel_mismatch_message():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16\): expected input with 16 channels "
                                         r"\(dimension 1\), got input of shape \(8, 3, 5, 5\)"):
        nn.BatchNorm2d(16)(mg.zeros(8, 3, 5, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected 2D or 3D input \(got 4D"):
        nn.BatchNorm1d(3)(mg.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(mg.zeros(1, 3))


# ---------------------------------------------------------------------------------------------
# LayerNorm
# ---------------------------------------------------------------------------------------------

LN_CASES = [(5, {}, (4, 5)), ((3, 4), {}, (2, 3, 4)), (6, {"elementwise_affine": False}, (3, 6)),
            (6, {"bias": False, "eps": 1e-3}, (2, 2, 6))]


@pytest.mark.parametrize("shape,kw,xshape", LN_CASES)
def test_layer_norm(shape, kw, xshape, r):
    m, t = nn.LayerNorm(shape, **kw), tnn.LayerNorm(shape, **kw)
    assert list(m.state_dict()) == list(t.state_dict())
    if m.weight is not None:
        with mg.no_grad():
            m.weight.copy_(mg.tensor(r.uniform(0.5, 2, size=m.weight.shape).astype(np.float32)))
        t.load_state_dict(to_torch_state(m))
    run_both(m, t, (r.normal(size=xshape) * 3 + 2).astype(np.float32))


GN_CASES = [(2, 6, {}, (3, 6, 5)), (3, 6, {"eps": 1e-3}, (2, 6, 4, 5)), (1, 4, {}, (2, 4, 3)),
            (4, 4, {"affine": False}, (2, 4, 3, 3)), (2, 4, {"bias": False}, (1, 4, 7))]


@pytest.mark.parametrize("groups,channels,kw,xshape", GN_CASES)
def test_group_norm(groups, channels, kw, xshape, r):
    m, t = nn.GroupNorm(groups, channels, **kw), tnn.GroupNorm(groups, channels, **kw)
    assert list(m.state_dict()) == list(t.state_dict())
    assert repr(m) == repr(t)
    if m.weight is not None:
        with mg.no_grad():
            m.weight.copy_(mg.tensor(r.uniform(0.5, 2, size=channels).astype(np.float32)))
            if m.bias is not None:
                m.bias.copy_(mg.tensor(r.normal(size=channels).astype(np.float32)))
        t.load_state_dict(to_torch_state(m))
    run_both(m, t, (r.normal(size=xshape) * 3 + 2).astype(np.float32))


def test_group_norm_errors_name_the_numbers():
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(6\) must be divisible by "
                                         r"num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 6.*expected input of shape \(N, 6, "
                                         r"\*\), got shape \(3, 4, 5\)"):
        nn.GroupNorm(2, 6)(mg.zeros(3, 4, 5))
    with pytest.raises(RuntimeError, match=r"group_norm: expected the number of channels \(6\)"
                                           r".*divisible by num_groups=4"):
        nn.functional.group_norm(mg.zeros(2, 6, 3), 4)


def test_layer_norm_shape_mismatch_message():
    with pytest.raises(RuntimeError, match=r"LayerNorm\(\(5,\)\): normalized_shape=\(5,\) "
                                           r"expects an input of shape \(\*, 5\), but got "
                                           r"input of shape \(3, 4\)"):
        nn.LayerNorm(5)(mg.zeros(3, 4))


# ---------------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------------

def test_embedding_padding_idx_init_and_gradient(r):
    m, t = nn.Embedding(7, 3, padding_idx=2), tnn.Embedding(7, 3, padding_idx=2)
    assert np.all(m.weight.detach().numpy()[2] == 0)
    t.load_state_dict(to_torch_state(m))
    idx = np.array([[2, 0, 6], [2, 2, 1]])
    ym, yt = m(mg.tensor(idx)), t(torch.from_numpy(idx))
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy())
    g = r.normal(size=ym.shape).astype(np.float32)
    ym.backward(mg.tensor(g)), yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(m.weight.grad.numpy(), t.weight.grad.numpy(), atol=1e-6)
    assert np.all(m.weight.grad.numpy()[2] == 0)


def test_embedding_from_pretrained_and_errors():
    w = mg.tensor(np.arange(6.0).reshape(3, 2))
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(mg.tensor([2, 0])).numpy(), [[4, 5], [0, 1]])
    with pytest.raises(IndexError, match="index 3 is out of range for a table of 3 rows"):
        emb(mg.tensor([3]))
    with pytest.raises(TypeError, match="integer"):
        emb(mg.tensor([1.0]))


# ---------------------------------------------------------------------------------------------
# Loss modules, state_dict keys and reprs
# ---------------------------------------------------------------------------------------------

def test_loss_modules_match_torch(r):
    x = r.normal(size=(6, 4))
    cls = r.integers(0, 4, size=6)
    prob = r.uniform(size=(6, 4))
    w = r.uniform(0.5, 2, size=4)
    cases = [
        ("MSELoss", {}, x, prob), ("L1Loss", {"reduction": "sum"}, x, prob),
        ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 0}, x, cls),
        ("CrossEntropyLoss", {"weight": w}, x, cls),
        ("NLLLoss", {"reduction": "none"}, np.log(prob / prob.sum(1, keepdims=True)), cls),
        ("BCELoss", {"weight": w}, 1 / (1 + np.exp(-x)), prob),
        ("BCEWithLogitsLoss", {"pos_weight": w}, x, prob),
        ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, x, np.log(prob)),
    ]
    for name, kw, a, b in cases:
        mkw = {k: (mg.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        tkw = {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v)
               for k, v in kw.items()}
        mloss, tloss = getattr(nn, name)(**mkw), getattr(tnn, name)(**tkw)
        assert list(mloss.state_dict()) == list(tloss.state_dict()), name
        assert repr(mloss) == repr(tloss)
        am = mg.tensor(a, requires_grad=True)
        at = torch.tensor(a, requires_grad=True)
        lm = mloss(am, mg.tensor(b))
        lt = tloss(at, torch.from_numpy(b))
        np.testing.assert_allclose(lm.detach().numpy(), lt.detach().numpy(), atol=1e-10,
                                   err_msg=name)
        lm.sum().backward(), lt.sum().backward()
        np.testing.assert_allclose(am.grad.numpy(), at.grad.numpy(), atol=1e-10, err_msg=name)


REPRS = [
    ("Linear", (3, 4), {}), ("Linear", (3, 4), {"bias": False}), ("ReLU", (), {}),
    ("ReLU", (), {"inplace": True}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}),
    ("LeakyReLU", (0.2,), {}), ("ELU", (), {}), ("Tanh", (), {}), ("Sigmoid", (), {}),
    ("Softmax", (), {"dim": 1}), ("LogSoftmax", (), {"dim": -1}), ("Softplus", (), {}),
    ("Dropout", (0.1,), {}), ("BatchNorm1d", (4,), {"momentum": None}),
    ("BatchNorm2d", (3,), {"affine": False}), ("LayerNorm", ((2, 3),), {}),
    ("LayerNorm", (5,), {"elementwise_affine": False}), ("Embedding", (10, 3), {"padding_idx": 0}),
    ("Embedding", (10, 3), {"max_norm": 1.0}), ("Flatten", (), {}), ("Unflatten", (1, (2, 5)), {}),
    ("Identity", (), {}), ("CrossEntropyLoss", (), {}),
]


@pytest.mark.parametrize("name,args,kw", REPRS, ids=[f"{n}{a}{k}" for n, a, k in REPRS])
def test_repr_and_state_dict_keys_equal_pytorch(name, args, kw):
    m, t = getattr(nn, name)(*args, **kw), getattr(tnn, name)(*args, **kw)
    assert repr(m) == repr(t)
    assert list(m.state_dict()) == list(t.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    for (n, p), (_, q) in zip(m.named_parameters(), t.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape), n


# ---------------------------------------------------------------------------------------------
# A whole model, both ways
# ---------------------------------------------------------------------------------------------

def _model(lib):
    return lib.Sequential(lib.Linear(6, 8), lib.BatchNorm1d(8), lib.GELU(), lib.Dropout(0.2),
                          lib.Linear(8, 8), lib.LayerNorm(8), lib.SiLU(), lib.Linear(8, 3),
                          lib.LogSoftmax(dim=1))


def test_whole_model_round_trip_and_gradients(r):
    t, m = _model(tnn), _model(nn)
    assert repr(m) == repr(t)
    m.load_state_dict(t.state_dict())
    m.eval(), t.eval()  # dropout off, running statistics on
    run_both(m, t, r.normal(size=(5, 6)).astype(np.float32))
    # and back: minigrad's weights into a fresh torch model
    t2 = _model(tnn).eval()
    t2.load_state_dict(to_torch_state(m))
    x = r.normal(size=(4, 6)).astype(np.float32)
    np.testing.assert_allclose(m(mg.tensor(x)).detach().numpy(),
                               t2(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
