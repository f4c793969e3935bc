"""ParameterList and ParameterDict: registration, state_dict keys, iteration, editing, repr."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def _param(rng, *shape):
    return nn.Parameter(mg.tensor(rng.standard_normal(shape)))


class _Model(nn.Module):
    def __init__(self, rng):
        super().__init__()
        self.scales = nn.ParameterList([_param(rng, 3) for _ in range(3)])
        self.heads = nn.ParameterDict({"cls": _param(rng, 3, 5), "box": _param(rng, 3, 4)})

    def forward(self, x):
        for s in self.scales:
            x = x * s
        return (x @ self.heads["cls"]).sum() + (x @ self.heads["box"]).sum()


def test_entries_are_registered_and_train():
    rng = np.random.default_rng(0)
    model = _Model(rng)
    # a plain dict's keys are sorted, as PyTorch's ParameterDict does
    assert list(model.state_dict()) == ["scales.0", "scales.1", "scales.2", "heads.box",
                                        "heads.cls"]
    assert len(list(model.parameters())) == 5
    model(mg.tensor(rng.standard_normal((7, 3)))).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.float()                                   # .to() reaches the entries too
    assert model.scales[0].dtype == np.float32 and model.heads["box"].dtype == np.float32


def test_parameter_list_editing_and_indexing():
    rng = np.random.default_rng(1)
    plist = nn.ParameterList()
    assert len(plist) == 0 and repr(plist) == "ParameterList()"
    first = _param(rng, 2)
    plist.append(first).extend([mg.zeros(4), _param(rng, 1)])
    plist += [mg.ones(5)]
    assert len(plist) == 4 and plist[0] is first and plist[-1].shape == (5,)
    assert isinstance(plist[1], nn.Parameter) and plist[1].requires_grad   # wrapped, as torch
    assert list(plist.state_dict()) == ["0", "1", "2", "3"]
    assert [p.shape for p in plist[1:3]] == [(4,), (1,)]
    assert [p.shape for p in plist] == [(2,), (4,), (1,), (5,)]
    plist[0] = mg.ones(3, 3)
    assert plist[0].shape == (3, 3) and plist.state_dict()["0"].shape == (3, 3)
    with pytest.raises(IndexError, match="ParameterList: index 4 is out of range"):
        plist[4]
    with pytest.raises(TypeError, match="iterable"):
        plist.extend(mg.zeros(2))
    with pytest.raises(RuntimeError, match="should not be called"):
        plist(mg.zeros(2))


def test_parameter_dict_editing():
    rng = np.random.default_rng(2)
    pdict = nn.ParameterDict([("a", _param(rng, 2)), ("b", mg.zeros(3))])
    pdict.update({"c": mg.ones(1)})
    pdict["a"] = mg.ones(6)
    assert list(pdict) == ["a", "b", "c"] and list(pdict.state_dict()) == ["a", "b", "c"]
    assert pdict["a"].shape == (6,) and "b" in pdict and "z" not in pdict
    assert [k for k, _ in pdict.items()] == list(pdict.keys())
    assert pdict.pop("b").shape == (3,) and list(pdict.state_dict()) == ["a", "c"]
    assert pdict.get("b") is None and pdict.setdefault("d", mg.zeros(2)).shape == (2,)
    assert pdict.popitem()[0] == "d"
    merged = pdict | {"e": mg.zeros(1)}
    assert list(merged) == ["a", "c", "e"] and merged["a"] is pdict["a"]
    del pdict["a"]
    assert list(pdict) == ["c"] and len(list(pdict.parameters())) == 1
    pdict.clear()
    assert len(pdict) == 0 and list(pdict.state_dict()) == []
    with pytest.raises(TypeError, match="keys must be strings"):
        pdict[1] = mg.zeros(1)
    with pytest.raises(KeyError):
        pdict["missing"]
    with pytest.raises(ValueError, match="pair"):
        pdict.update([("a", mg.zeros(1), 3)])


def test_load_state_dict_round_trip():
    rng = np.random.default_rng(3)
    a, b = _Model(rng), _Model(rng)
    b.load_state_dict(a.state_dict())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.array, pb.array)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(2, 3), (3,)]]
    ours = nn.ParameterList([nn.Parameter(mg.tensor(arrays[0])), mg.tensor(arrays[1])])
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(arrays[0])),
                                     torch.tensor(arrays[1])])
    assert repr(ours).replace("float32", "torch.float32") == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(nn.ParameterList([1, "x"])) == repr(torch.nn.ParameterList([1, "x"]))
    ours_d = nn.ParameterDict({"w": mg.tensor(arrays[0]), "b": mg.tensor(arrays[1])})
    theirs_d = torch.nn.ParameterDict({"w": torch.tensor(arrays[0]),
                                       "b": torch.tensor(arrays[1])})
    assert repr(ours_d) == repr(theirs_d)
    assert list(ours_d.state_dict()) == list(theirs_d.state_dict())


def test_buffer_assignment_registers_a_buffer(rng):
    data = mg.tensor(rng.standard_normal(3))
    model = nn.Module()
    model.stats = nn.Buffer(data)
    model.cache = nn.Buffer(mg.zeros(2), persistent=False)
    assert list(model.state_dict()) == ["stats"]                 # cache: not persistent
    assert [n for n, _ in model.named_buffers()] == ["stats", "cache"]
    assert list(model.parameters()) == []
    model.stats.array[0] = 7.0                                    # shares data's memory
    assert data.array[0] == 7.0
    model.stats = mg.ones(4)                                      # stays a buffer
    assert list(model.state_dict()) == ["stats"] and model.state_dict()["stats"].shape == (4,)
    model.double()
    assert model.cache.dtype == np.float64


def test_buffer_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Module(), torch.nn.Module()
    for module, lib in ((ours, mg), (theirs, torch)):
        module.a = lib.nn.Buffer(lib.zeros(2))
        module.b = lib.nn.Buffer(lib.ones(1), persistent=False)
        module.c = lib.nn.Buffer()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert ours.c.shape == tuple(theirs.c.shape)
