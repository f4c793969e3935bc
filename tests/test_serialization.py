"""mg.save / mg.load: round trips, and clear errors (never code execution) on bad files."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.nn.parameter import Parameter
from minigrad.serialization import MANIFEST, load, save


def assert_same(a, b):
    """Deep equality with types: Tensor vs array vs number vs container all distinguished."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, mg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)  # same keys, same order, same key types
        assert all(type(k) is type(kb) for k, kb in zip(a, b))
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def round_trip(obj, tmp_path, name="ck.npz"):
    save(obj, tmp_path / name)
    return load(tmp_path / name)


# -- round trips --------------------------------------------------------------------------------

def test_tensors_of_every_dtype(tmp_path):
    sd = OrderedDict([
        ("fc.weight", mg.randn(3, 4)),
        ("fc.bias", mg.zeros(4, dtype=mg.float64)),
        ("bn.num_batches_tracked", mg.tensor(7)),
        ("mask", mg.tensor([True, False])),
        ("img", mg.tensor(np.arange(6, dtype=np.uint8).reshape(2, 3))),
        ("empty", mg.zeros(0, 5)),
        ("half", mg.ones(2, dtype=mg.float16)),
    ])
    assert_same(round_trip(sd, tmp_path), sd)


def test_python_values_and_arrays(tmp_path):
    obj = {"epoch": 3, "lr": 0.1, "best": float("inf"), "worst": -math.inf, "nan": math.nan,
           "name": "run-1", "none": None, "flag": True, "big": 2 ** 62,
           "list": [1, 2.5, "x", None, [mg.ones(2)]], "tuple": (1, (2, 3)),
           "np_array": np.arange(5.0), "np_scalar": np.float32(1.5), "np_int": np.int64(-3),
           "strings": np.array(["a", "bc"]), "nested": {"a": {"b": {"c": np.zeros((2, 0))}}},
           "empty_dict": {}, "empty_list": []}
    assert_same(round_trip(obj, tmp_path), obj)


def test_int_keys_orderdict_and_dotted_names(tmp_path):
    obj = {"state": {0: {"step": 1}, 10: {"step": 2}}, "file": np.ones(2),
           "allow_pickle": np.zeros(1),
           "a.b": {"c": mg.ones(1)}, "a": {"b.c": mg.zeros(1)}, "ordered": OrderedDict(z=1)}
    back = round_trip(obj, tmp_path)
    assert_same(back, obj)
    assert isinstance(back["ordered"], OrderedDict) and not isinstance(back, OrderedDict)
    assert sorted(np.load(tmp_path / "ck.npz").files) == [MANIFEST, "a.b.c", "a.b.c_",
                                                         "allow_pickle", "file"]


def test_parameters_and_requires_grad(tmp_path):
    obj = {"p": Parameter(mg.randn(2)), "frozen": Parameter(mg.randn(2), requires_grad=False),
           "t": mg.ones(2, requires_grad=True), "detached": mg.ones(2)}
    back = round_trip(obj, tmp_path)
    assert isinstance(back["p"], Parameter) and back["p"].requires_grad
    assert isinstance(back["frozen"], Parameter) and not back["frozen"].requires_grad
    assert back["t"].requires_grad and not back["detached"].requires_grad
    assert_same(back, obj)


def test_any_path_name_and_file_objects(tmp_path):
    save({"x": mg.ones(2)}, tmp_path / "weights.pt")  # written exactly there, no ".npz" added
    assert os.listdir(tmp_path) == ["weights.pt"]
    assert load(str(tmp_path / "weights.pt"))["x"].tolist() == [1.0, 1.0]
    buf = io.BytesIO()
    save([1, mg.zeros(3)], buf)
    buf.seek(0)
    assert_same(load(buf), [1, mg.zeros(3)])


def test_loaded_arrays_are_independent_and_writable(tmp_path):
    t = mg.ones(3)
    back = round_trip({"t": t}, tmp_path)["t"]
    back.data[0] = 5
    assert t.data[0] == 1


def test_module_and_optimizer_checkpoint(tmp_path):
    from minigrad import nn
    rng = np.random.default_rng(0)

    def make():
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
        return model, optim.Adam(model.parameters(), lr=0.01, amsgrad=True)

    def train(model, opt, steps):
        for _ in range(steps):
            x = mg.tensor(rng.standard_normal((8, 3)).astype(np.float32))
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()

    model, opt = make()
    train(model, opt, 3)
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3},
         tmp_path / "ck.npz")
    ck = load(tmp_path / "ck.npz")
    assert ck["epoch"] == 3 and list(ck["model"]) == list(model.state_dict())
    assert sorted(ck["optimizer"]["state"]) == [0, 1, 2, 3]

    model2, opt2 = make()
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["optimizer"])
    state = rng.bit_generator.state
    train(model, opt, 2)
    rng.bit_generator.state = state
    train(model2, opt2, 2)
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_optimizer_state_dict_round_trip(tmp_path):
    p = Parameter(mg.randn(4))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    p.grad = mg.ones(4)
    opt.step()
    sd = opt.state_dict()
    back = round_trip(sd, tmp_path)
    assert_same(back, sd)


# -- things that can't be saved -------------------------------------------------------------------

@pytest.mark.parametrize("obj,match", [
    ({"f": lambda x: x}, "can't store a function .at f"),
    ({"s": {1, 2}}, "can't store a set"),
    ({"c": 1j}, "can't store a complex"),
    ({(1, 2): 3}, "keys must be str or int"),
    ({True: 3}, "keys must be str or int"),
    ({"o": np.array([{}, None], dtype=object)}, "dtype object"),
])
def test_unsavable_objects_raise_and_write_nothing(obj, match, tmp_path):
    with pytest.raises(TypeError, match=match):
        save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []  # no file, no temporary left behind


def test_failed_save_keeps_the_previous_file(tmp_path):
    save({"v": 1}, tmp_path / "ck.npz")
    with pytest.raises(TypeError):
        save({"v": object()}, tmp_path / "ck.npz")
    assert load(tmp_path / "ck.npz") == {"v": 1}


# -- bad files ------------------------------------------------------------------------------------

def good_file(tmp_path):
    save({"w": mg.tensor(np.arange(1000, dtype=np.float32)), "epoch": 2}, tmp_path / "ck.npz")
    return tmp_path / "ck.npz"


def test_random_bytes(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(os.urandom(200))
    with pytest.raises(ValueError, match="junk.npz.*not"):
        load(path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="empty.npz"):
        load(tmp_path / "empty.npz")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(tmp_path, keep):
    path = good_file(tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(ValueError, match="ck.npz.*(corrupt|truncated)"):
        load(path)


def test_flipped_byte_in_array_data(tmp_path):
    path = good_file(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[raw.index(np.arange(500, 510, dtype=np.float32).tobytes())] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="ck.npz: entry 'w' is corrupt"):
        load(path)


def test_foreign_npz_and_npy(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3), b=np.ones(2))
    with pytest.raises(ValueError, match="plain.npz: an .npz archive but not a minigrad"):
        load(tmp_path / "plain.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single.npy: this is a single .npy array"):
        load(tmp_path / "single.npy")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


class Exploit:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_files_are_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"model": Exploit(str(marker))}))
    with pytest.raises(ValueError, match="evil.pt: not a minigrad checkpoint"):
        load(path)
    assert not marker.exists()


def test_pickled_object_array_inside_the_archive_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "ck.npz"
    save({"w": np.zeros(3)}, path)
    with zipfile.ZipFile(path, "a") as z:  # add an object array, which np.save pickles
        buf = io.BytesIO()
        np.save(buf, np.array([Exploit(str(marker))], dtype=object), allow_pickle=True)
        z.writestr("evil.npy", buf.getvalue())
    with pytest.raises(ValueError, match="entry 'evil' can't be loaded without pickle"):
        load(path)
    assert not marker.exists()


def rewrite(path, manifest=None, drop=(), add=None):
    """Rebuild an archive with a changed manifest / entries, to test consistency checks."""
    with np.load(path) as f:
        entries = {k: f[k] for k in f.files if k not in drop}
    if manifest is not None:
        entries[MANIFEST] = np.frombuffer(manifest.encode(), dtype=np.uint8)
    entries.update(add or {})
    with open(path, "wb") as out:
        np.savez(out, **entries)


def manifest_of(path):
    with np.load(path) as f:
        return json.loads(f[MANIFEST].tobytes())


@pytest.mark.parametrize("change,match", [
    (lambda m: m.update(format="other"), "not a minigrad checkpoint manifest"),
    (lambda m: m.update(version=99), "version 99"),
    (lambda m: m.pop("root"), "no 'root'"),
    (lambda m: m["root"]["items"][0][1].update(entry="nope"), "'nope' is missing"),
    (lambda m: m["root"]["items"][0][1].update(dtype="<f8"), "the manifest says <f8"),
    (lambda m: m["root"]["items"][0][1].update(shape=[10, 100]), "says <f4 \\[10, 100\\]"),
    (lambda m: m["root"]["items"][1][1].update(type="pickle"), "unknown node type"),
    (lambda m: m["root"].update(items=[["w", m["root"]["items"][0][1]]] * 2),
     "referenced twice"),
    (lambda m: m["root"]["items"].pop(0), "not described by the manifest: \\['w'\\]"),
    (lambda m: m["root"]["items"][1][1].update(value=[1, 2]), "bad value"),
])
def test_inconsistent_manifest(tmp_path, change, match):
    path = good_file(tmp_path)
    manifest = manifest_of(path)
    change(manifest)
    rewrite(path, json.dumps(manifest))
    with pytest.raises(ValueError, match="ck.npz: .*" + match):
        load(path)


def test_manifest_that_is_not_json(tmp_path):
    path = good_file(tmp_path)
    rewrite(path, "{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load(path)
    rewrite(path, drop=(MANIFEST,), add={MANIFEST: np.zeros(3, np.float32)})
    with pytest.raises(ValueError, match="1-D uint8"):
        load(path)
