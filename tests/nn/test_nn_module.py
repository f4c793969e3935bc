"""The Module API: registration, traversal order, state_dict, load_state_dict, modes, repr,
containers, devices/dtypes and hooks."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(mg.ones(1))
        self.register_buffer("steps", mg.zeros(1))
        self.register_buffer("cache", mg.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(mg.zeros(2))
        self.block = Block()
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2, bias=False))

    def forward(self, x):
        return self.head(self.block(x)) + self.alpha


# ---------------------------------------------------------------------------------------------
# Registration and traversal
# ---------------------------------------------------------------------------------------------

def test_named_parameters_order_is_own_first_then_children_in_assignment_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["alpha", "block.scale", "block.fc.weight", "block.fc.bias",
                     "block.bn.weight", "block.bn.bias", "head.1.weight"]


def test_state_dict_keys_params_then_persistent_buffers_per_module():
    keys = list(Net().state_dict())
    assert keys == ["alpha", "block.scale", "block.steps", "block.fc.weight", "block.fc.bias",
                    "block.bn.weight", "block.bn.bias", "block.bn.running_mean",
                    "block.bn.running_var", "block.bn.num_batches_tracked", "head.1.weight"]


def test_buffers_include_non_persistent_ones_and_need_no_grad():
    net = Net()
    names = [n for n, _ in net.named_buffers()]
    assert "block.cache" in names and "block.cache" not in net.state_dict()
    assert all(not b.requires_grad for b in net.buffers())
    assert all(p.requires_grad for p in net.parameters())


def test_modules_children_and_named_modules():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.bn", "head",
                                                   "head.0", "head.1"]
    assert len(list(net.modules())) == 7
    assert net.get_submodule("head.1") is net.head[1]
    with pytest.raises(AttributeError, match="no submodule `nope`"):
        net.get_submodule("block.nope")


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_reassigning_and_deleting_attributes():
    m = nn.Module()
    m.w = nn.Parameter(mg.ones(2))
    m.w = None  # a declared-but-absent parameter, like bias=False
    assert "w" in m._parameters and m.w is None and list(m.parameters()) == []
    m.w = nn.Parameter(mg.ones(3))
    m.sub = nn.Linear(2, 2)
    del m.sub
    assert not hasattr(m, "sub") and list(m.named_children()) == []
    m.plain = 3
    del m.plain
    assert not hasattr(m, "plain")


def test_assigning_a_plain_tensor_to_a_parameter_name_is_an_error():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        lin.weight = mg.zeros(2, 2)


def test_forgetting_super_init_gives_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\).*Bad.__init__"):
        Bad()


def test_register_buffer_and_parameter_validate_names_and_types():
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", mg.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None required"):
        m.register_buffer("b", np.zeros(1))
    with pytest.raises(TypeError, match="nn.Parameter or None required"):
        m.register_parameter("p", mg.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("training", mg.zeros(1))
    m.add_module("child", nn.ReLU())
    assert m.child is m._modules["child"]


def test_missing_attribute_message():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        nn.Linear(2, 2).wieght  # noqa: B018


def test_forward_missing():
    with pytest.raises(NotImplementedError, match=r'Module \[ModuleList\] is missing the '
                                                  r'required "forward" function'):
        nn.ModuleList([nn.ReLU()])(mg.zeros(1))


# ---------------------------------------------------------------------------------------------
# state_dict / load_state_dict
# ---------------------------------------------------------------------------------------------

def test_state_dict_values_are_detached_and_share_memory():
    lin = nn.Linear(2, 3)
    sd = lin.state_dict()
    assert not sd["weight"].requires_grad and sd["weight"].grad_fn is None
    with mg.no_grad():
        lin.weight.data[0, 0] = 42.0
    assert sd["weight"].array[0, 0] == 42.0
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight


def test_load_round_trip_copies_in_place_and_keeps_identity():
    mg.manual_seed(0)
    a, b = Net(), Net()
    params_before = list(b.parameters())
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert list(b.parameters()) == params_before  # same objects: an optimizer keeps working
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=k)
        assert va.dtype == vb.dtype


def test_load_accepts_numpy_arrays_and_casts_to_module_dtype():
    lin = nn.Linear(2, 3)
    w = np.arange(6, dtype=np.float64).reshape(3, 2)
    lin.load_state_dict({"weight": w, "bias": [1, 2, 3]})
    assert lin.weight.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.detach().numpy(), w.astype(np.float32))
    np.testing.assert_array_equal(lin.bias.detach().numpy(), [1, 2, 3])


def test_load_strict_lists_missing_and_unexpected_keys():
    lin = nn.Linear(2, 3)
    sd = {"weight": np.zeros((3, 2)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as err:
        lin.load_state_dict(sd)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Linear" in msg
    assert 'Missing key(s) in state_dict: "bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg


def test_load_non_strict_returns_the_keys():
    lin = nn.Linear(2, 3)
    result = lin.load_state_dict({"weight": np.zeros((3, 2)), "extra": 1}, strict=False)
    assert result == (["bias"], ["extra"])
    assert result.missing_keys == ["bias"]
    assert float(lin.weight.detach().abs().sum()) == 0.0


def test_shape_mismatch_names_key_and_both_shapes_even_when_not_strict():
    lin = nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with "
                                           r"shape \(2, 2\) from checkpoint, the shape in "
                                           r"current model is \(3, 2\)"):
        lin.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.zeros(3)}, strict=False)


def test_failed_load_leaves_module_unchanged():
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    bad = {k: np.full(v.shape, 7.0) for k, v in net.state_dict().items()}
    bad["head.1.weight"] = np.zeros((5, 5))  # the *last* key is wrong: nothing may be copied
    with pytest.raises(RuntimeError, match="size mismatch for head.1.weight"):
        net.load_state_dict(bad)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)


def test_load_state_dict_rejects_non_mappings():
    with pytest.raises(TypeError, match="dict-like"):
        nn.Linear(2, 2).load_state_dict([1, 2])


def test_deepcopy_gives_an_independent_module():
    net = Net()
    clone = copy.deepcopy(net)
    with mg.no_grad():
        clone.block.fc.weight.data[...] = 0
    assert float(net.block.fc.weight.detach().abs().sum()) > 0
    assert isinstance(clone.block.fc.weight, nn.Parameter)
    x = mg.randn(4, 3)
    net.train(False), clone.load_state_dict(net.state_dict()), clone.train(False)
    np.testing.assert_allclose(clone(x).detach().numpy(), net(x).detach().numpy())


# ---------------------------------------------------------------------------------------------
# Modes, gradients, apply
# ---------------------------------------------------------------------------------------------

def test_train_eval_propagate_and_return_self():
    net = Net()
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("no")


def test_zero_grad_set_to_none_and_zero():
    net = Net()
    net(mg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes():
    net = Net()
    net.block.requires_grad_(False)
    assert [n for n, p in net.named_parameters() if p.requires_grad] == ["alpha",
                                                                         "head.1.weight"]


def test_apply_visits_children_before_parent():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Block", "ReLU", "Linear", "Sequential", "Net"]


def test_apply_for_custom_init():
    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)

    net = Net().apply(init)
    assert float(net.head[1].weight.detach().min()) == 0.5


# ---------------------------------------------------------------------------------------------
# dtypes and devices
# ---------------------------------------------------------------------------------------------

def test_double_float_keep_parameter_objects_and_int_buffers():
    net = Net()
    params = list(net.parameters())
    net.double()
    assert list(net.parameters()) == params
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.block.bn.running_mean.dtype == np.float64
    assert net.block.bn.num_batches_tracked.dtype == np.int64
    net.to(mg.float32)
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.cpu() is net and net.to("cpu") is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(mg.int64)


def test_double_converts_existing_gradients():
    lin = nn.Linear(2, 2)
    lin(mg.randn(3, 2)).sum().backward()
    lin.double()
    assert lin.weight.grad.dtype == np.float64


# ---------------------------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------------------------

def test_forward_hooks_see_and_replace_outputs():
    lin = nn.Linear(2, 2)
    seen = []
    h = lin.register_forward_hook(lambda m, inp, out: seen.append(out.shape))
    pre = lin.register_forward_pre_hook(lambda m, inp: (inp[0] * 0,))
    out = lin(mg.ones(3, 2))
    assert seen == [mg.Size([3, 2])]
    np.testing.assert_allclose(out.detach().numpy(),
                               np.broadcast_to(lin.bias.detach().numpy(), (3, 2)))
    h.remove(), pre.remove()
    lin(mg.ones(1, 2))
    assert len(seen) == 1


# ---------------------------------------------------------------------------------------------
# repr
# ---------------------------------------------------------------------------------------------

def test_repr_nested_like_pytorch():
    expected = """Net(
  (block): Block(
    (fc): Linear(in_features=3, out_features=4, bias=True)
    (bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
  )
  (head): Sequential(
    (0): ReLU()
    (1): Linear(in_features=4, out_features=2, bias=False)
  )
)"""
    assert repr(Net()) == expected


def test_module_list_repr_groups_repeats():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])
    assert repr(ml) == ("ModuleList(\n  (0-1): 2 x Linear(in_features=2, out_features=2, "
                        "bias=True)\n  (2): ReLU()\n)")
    assert repr(nn.ModuleList()) == "ModuleList()"


# ---------------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------------

def test_sequential_indexing_slicing_append_insert_delete():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b
    assert seq.append(c) is seq and seq[2] is c
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]  # slicing keeps the names, as in PyTorch
    x = mg.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), c(b(a(x))).detach().numpy())
    del seq[1]
    assert list(seq._modules) == ["0", "1"] and seq[1] is c
    seq.insert(1, b)
    assert list(seq) == [a, b, c]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    with pytest.raises(IndexError, match="out of range"):
        seq[3]


def test_sequential_from_ordered_dict_names_keys():
    from collections import OrderedDict
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert seq.fc is seq[0]


def test_module_list_registers_and_reindexes():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(ml.parameters())) == 6
    assert list(ml.state_dict())[:2] == ["0.weight", "0.bias"]
    ml.append(nn.ReLU())
    del ml[0]
    assert [k for k, _ in ml.named_children()] == ["0", "1", "2"]
    ml.insert(0, nn.Tanh())
    assert isinstance(ml[0], nn.Tanh) and len(ml) == 4
    ml += [nn.ReLU()]
    assert len(ml) == 5 and isinstance(ml[1:], nn.ModuleList)


def test_module_dict():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert list(md) == ["enc", "dec"] and "enc" in md and len(md) == 2
    assert list(md.state_dict())[0] == "enc.weight"
    md["act"] = nn.ReLU()
    assert list(md.keys()) == ["enc", "dec", "act"]
    assert isinstance(md.pop("act"), nn.ReLU)
    assert [type(v).__name__ for v in md.values()] == ["Linear", "Linear"]
    md.clear()
    assert len(md) == 0


def test_plain_python_list_is_not_registered():
    """The classic mistake ModuleList exists for."""
    class Hidden(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]

    assert list(Hidden().parameters()) == []
