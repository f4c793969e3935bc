"""mg.save / mg.load: round trips, and clear errors (never code execution) on bad files."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import secrets
import stat
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim, serialization
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
    back.array[0] = 5
    assert t.array[0] == 1


def test_module_and_optimizer_checkpoint(tmp_path):
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


def test_a_model_or_optimizer_is_refused_with_the_two_state_dict_lines(tmp_path):
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU())
    opt = optim.SGD(model.parameters(), lr=0.1)
    cases = [(model, "a Sequential object .at the top level.", "model"),
             (opt, "a SGD object .at the top level.", "optimizer"),
             ({"net": model}, "a Sequential object .at net.", "model")]
    for obj, where, name in cases:
        with pytest.raises(TypeError, match=where) as info:
            save(obj, tmp_path / "ck.npz")
        message = str(info.value)
        assert f"mg.save({name}.state_dict(), path)" in message
        assert f"{name}.load_state_dict(mg.load(path))" in message
    with pytest.raises(TypeError, match="(?s)can.t store a set.*mg.save.model.state_dict.., path."):
        save({"s": {1}}, tmp_path / "ck.npz")
    assert os.listdir(tmp_path) == []


# -- atomic saves and their temporary files -------------------------------------------------------

def temp_files(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".mgtmp"))


@pytest.mark.parametrize("fails_in", ["_write_npz", "fsync"])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_an_error_while_saving_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch,
                                                                     fails_in, error):
    path = tmp_path / "ck.npz"
    save({"who": "old"}, path)

    def fail(out, *args):
        if fails_in == "_write_npz":
            out.write(b"PK\x03\x04 half an archive")
        raise error

    monkeypatch.setattr(serialization if fails_in == "_write_npz" else os, fails_in, fail)
    with pytest.raises(type(error)):
        save({"who": "new", "w": mg.ones(100)}, path)
    assert os.listdir(tmp_path) == ["ck.npz"]
    assert load(path) == {"who": "old"}


@pytest.mark.skipif(os.name == "nt", reason="Windows can't fsync a folder")
def test_data_is_synced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save({"w": mg.ones(3)}, tmp_path / "ck.npz")
    assert events == ["fsync file", "replace", "fsync folder"]


# A child process that saves {"who": "child", "w": <4 MB>} to argv[1] and stops after writing
# the first 1 MB of the archive: it prints "stalled" and waits for a line on stdin to finish.
STALLING_SAVE = r"""
import sys
import numpy as np
from minigrad import serialization

real_write_npz = serialization._write_npz

class StallHalfWay:
    def __init__(self, out):
        self.out, self.written = out, 0
    def write(self, data):
        before = self.written
        self.written += len(data)
        if before <= 1_000_000 < self.written:  # this write crosses 1 MB: stall right there
            self.out.write(data[:1_000_000 - before])
            self.out.flush()
            print("stalled", flush=True)
            sys.stdin.readline()
            data = data[1_000_000 - before:]
        return self.out.write(data)
    def __getattr__(self, name):
        return getattr(self.out, name)

serialization._write_npz = lambda out, arrays: real_write_npz(StallHalfWay(out), arrays)
serialization.save({"who": "child", "w": np.ones(1_000_000, np.float32)}, sys.argv[1])
"""


@pytest.fixture
def stalled_save():
    """``start(path)``: a child process in the middle of saving ``path``."""
    children = []

    def start(path):
        child = subprocess.Popen([sys.executable, "-c", STALLING_SAVE, str(path)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 cwd=Path(__file__).resolve().parents[1])
        children.append(child)
        line = child.stdout.readline()
        if line != "stalled\n":
            child.kill()
            raise AssertionError(f"the child did not stall: {line!r} {child.communicate()}")
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate()


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_a_killed_save_keeps_the_old_file_and_the_next_save_removes_its_temp(tmp_path,
                                                                              stalled_save):
    path = tmp_path / "ck.npz"
    save({"who": "old"}, path)
    child = stalled_save(path)
    temps = temp_files(tmp_path)
    assert len(temps) == 1 and (tmp_path / temps[0]).stat().st_size == 1_000_000
    child.kill()  # SIGKILL: no except clause, no finally, no cleanup
    child.wait()
    assert load(path) == {"who": "old"}
    assert temp_files(tmp_path) == temps
    save({"who": "new"}, path)
    assert os.listdir(tmp_path) == ["ck.npz"]
    assert load(path) == {"who": "new"}


def test_a_save_running_in_another_process_keeps_its_temp(tmp_path, stalled_save):
    path = tmp_path / "ck.npz"
    child = stalled_save(path)
    temps = temp_files(tmp_path)
    save({"who": "parent"}, path)  # the same path, while the child is writing its temporary
    assert temp_files(tmp_path) == temps
    assert load(path) == {"who": "parent"}
    _, err = child.communicate("go on\n", timeout=120)
    assert child.returncode == 0, err
    assert os.listdir(tmp_path) == ["ck.npz"]
    assert load(path)["who"] == "child"  # the last rename wins, and it is a whole checkpoint


def test_a_temp_deleted_by_a_cleanup_before_it_was_locked_is_not_used(tmp_path, monkeypatch):
    """Another save's cleanup can see a new temporary in the instant before its lock is taken."""
    real = pytest.importorskip("fcntl")

    class CleanupRacesTheFirstLock:
        LOCK_EX, LOCK_NB = real.LOCK_EX, real.LOCK_NB
        raced = False

        def flock(self, fd, operation):
            if operation == real.LOCK_EX and not self.raced:
                self.raced = True
                for name in temp_files(tmp_path):  # what the other process's cleanup does
                    os.unlink(tmp_path / name)
            real.flock(fd, operation)

    racing = CleanupRacesTheFirstLock()
    monkeypatch.setattr(serialization, "fcntl", racing)
    save({"v": 1}, tmp_path / "ck.npz")
    assert racing.raced and os.listdir(tmp_path) == ["ck.npz"]
    assert load(tmp_path / "ck.npz") == {"v": 1}


@pytest.mark.parametrize("target", ["ck.npz", "run (1)+[best].pt"])
def test_only_abandoned_temps_of_this_very_target_are_removed(tmp_path, target):
    token = secrets.token_hex(8)
    abandoned = [f".{target}.{token}.mgtmp", f".{target}.{secrets.token_hex(8)}.mgtmp"]
    others = [f".{target}.{token}.mgtmp.bak", f".{target}.{token[:8]}.mgtmp",
              f".{target}.{token.upper()}.mgtmp", f"{target}.{token}.mgtmp",
              f".x{target}.{token}.mgtmp", f".other.npz.{token}.mgtmp", f".{target}.tmp"]
    for name in abandoned + others:
        (tmp_path / name).write_bytes(b"half a checkpoint")
    save({"v": 1}, tmp_path / target)
    assert sorted(os.listdir(tmp_path)) == sorted(others + [target])


def test_without_file_locks_only_long_untouched_temps_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "fcntl", None)  # as on Windows
    fresh, old = (f".ck.npz.{secrets.token_hex(8)}.mgtmp" for _ in range(2))
    for name in (fresh, old):
        (tmp_path / name).write_bytes(b"half a checkpoint")
    long_ago = time.time() - serialization.ABANDONED_AFTER_S - 60
    os.utime(tmp_path / old, (long_ago, long_ago))
    save({"v": 1}, tmp_path / "ck.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(["ck.npz", fresh])
    assert load(tmp_path / "ck.npz") == {"v": 1}


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_permissions_follow_the_umask_or_the_replaced_file(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    save({"v": 1}, tmp_path / "new.npz")
    assert stat.S_IMODE((tmp_path / "new.npz").stat().st_mode) == 0o666 & ~umask
    (tmp_path / "private.npz").write_bytes(b"")
    os.chmod(tmp_path / "private.npz", 0o600)
    save({"v": 1}, tmp_path / "private.npz")
    assert stat.S_IMODE((tmp_path / "private.npz").stat().st_mode) == 0o600


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_saving_through_a_symlink_writes_its_target_like_torch_save(tmp_path):
    (tmp_path / "runs").mkdir()
    save({"epoch": 3}, tmp_path / "runs" / "epoch3.npz")
    (tmp_path / "latest.npz").symlink_to(tmp_path / "runs" / "epoch3.npz")
    save({"epoch": 4}, tmp_path / "latest.npz")
    assert (tmp_path / "latest.npz").is_symlink()
    assert load(tmp_path / "runs" / "epoch3.npz") == {"epoch": 4}
    assert os.listdir(tmp_path / "runs") == ["epoch3.npz"]


def test_saving_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*nope does not exist"):
        save({"v": 1}, tmp_path / "nope" / "ck.npz")


def test_a_file_object_is_written_at_its_position(tmp_path):
    buf = io.BytesIO()
    buf.write(b"something before")
    save({"w": mg.arange(5)}, buf)
    buf.seek(len(b"something before"))
    assert_same(load(buf), {"w": mg.arange(5)})

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
    with pytest.raises(ValueError, match="entry 'evil' holds Python objects .dtype object.*"
                                         "never unpickles"):
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


# -- hand-made files: every check of the loader ---------------------------------------------------

def npy(descr, shape, data=b"", fortran_order=False, version=(1, 0)):
    """A .npy file written byte by byte: magic, version, header length, header, data."""
    header = repr({"descr": descr, "fortran_order": fortran_order, "shape": tuple(shape)})
    header = header.encode("latin1")
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"  # the header ends on 64 bytes
    return b"\x93NUMPY" + bytes(version) + struct.pack("<H", len(header)) + header + data


def manifest_npy(root):
    raw = json.dumps({"format": "minigrad.save", "version": 1, "root": root}).encode()
    return npy("|u1", (len(raw),), raw)


def one_tensor_manifest(dtype, shape):
    return manifest_npy({"type": "dict", "items": [["w", {
        "type": "tensor", "entry": "w", "dtype": dtype, "shape": list(shape),
        "requires_grad": False}]]})


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name test
        with zipfile.ZipFile(path, "w", compression) as archive:
            for name, data in members:
                archive.writestr(name, data)


def checkpoint_with(path, w_npy, dtype="<f4", shape=(2,), extra=()):
    """A minigrad checkpoint made by hand: a manifest for tensor 'w', and ``w_npy`` as w.npy."""
    write_zip(path, [(MANIFEST + ".npy", one_tensor_manifest(dtype, shape)),
                     ("w.npy", w_npy), *extra])
    return path


def test_hand_made_checkpoint_loads(tmp_path):
    data = np.array([1.5, -2.0], np.float32)
    path = checkpoint_with(tmp_path / "ck.npz", npy("<f4", (2,), data.tobytes()))
    assert load(path)["w"].tolist() == [1.5, -2.0]  # the helpers make valid files


HUGE = (100_000, 100_000, 1000)  # float32: 40 TB


@pytest.mark.parametrize("mmap", [False, True])
def test_a_header_declaring_a_huge_array_is_refused_before_allocating(tmp_path, mmap):
    path = checkpoint_with(tmp_path / "huge.npz", npy("<f4", HUGE, bytes(16)), shape=HUGE)
    with pytest.raises(ValueError) as info:
        load(path, mmap=mmap)
    message = str(info.value)
    assert message.startswith(f"{path}: entry 'w' declares a float32 array of shape "
                              "(100000, 100000, 1000), 40,000,000,000,000 bytes (40.0 TB), but "
                              "the archive holds 16 bytes of data for it (the whole file is "
                              f"{path.stat().st_size:,} bytes")


@pytest.mark.parametrize("data_bytes", [0, 36, 44])
def test_data_shorter_or_longer_than_the_header_says(tmp_path, data_bytes):
    path = checkpoint_with(tmp_path / "ck.npz", npy("<f4", (10,), bytes(data_bytes)),
                           shape=(10,))
    with pytest.raises(ValueError, match=r"ck.npz: entry 'w' declares a float32 array of shape "
                                         rf"\(10,\), 40 bytes, but the archive holds "
                                         rf"{data_bytes} bytes"):
        load(path)


def test_an_object_array_written_by_hand_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "pwned"
    evil = npy("|O", (1,), pickle.dumps([Exploit(str(marker))]))
    path = checkpoint_with(tmp_path / "ck.npz", evil, dtype="|O", shape=(1,))
    with pytest.raises(ValueError, match="entry 'w' holds Python objects .dtype object.*never "
                                         "unpickles"):
        load(path)
    assert not marker.exists()


@pytest.mark.parametrize("w_npy,match", [
    (b"not an npy file at all", "entry 'w' is not a .npy array"),
    (b"", "entry 'w' is not a .npy array"),
    (npy("<f4", (2,), bytes(8), version=(3, 0)), r"format version \(3, 0\)"),
    (npy("<f4", (2,))[:20], "entry 'w' has a malformed .npy header"),
    (npy("<f4", (-1, 2), bytes(8)), r"entry 'w' declares a negative shape \(-1, 2\)"),
])
def test_a_member_that_is_not_a_valid_npy(tmp_path, w_npy, match):
    path = checkpoint_with(tmp_path / "ck.npz", w_npy)
    with pytest.raises(ValueError, match="ck.npz: .*" + match):
        load(path)


@pytest.mark.parametrize("extra,match", [
    ([("notes.txt", b"hello")], "member 'notes.txt' is not a .npy array"),
    ([("folder/", b"")], "member 'folder/' is not a .npy array"),
    ([("w.npy", npy("<f4", (2,), bytes(8)))], "entry 'w' appears twice"),
])
def test_members_that_dont_belong(tmp_path, extra, match):
    path = checkpoint_with(tmp_path / "ck.npz", npy("<f4", (2,), bytes(8)), extra=extra)
    with pytest.raises(ValueError, match="ck.npz: " + match):
        load(path)


def patch_central_directory(path, member, **fields):
    """Overwrite fields of ``member``'s record in the zip's central directory."""
    offsets = {"flag_bits": (8, "<H"), "compress_size": (20, "<I"), "file_size": (24, "<I")}
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")
    while raw[at + 46: at + 46 + struct.unpack_from("<H", raw, at + 28)[0]] != member.encode():
        at = raw.index(b"PK\x01\x02", at + 4)
    for name, value in fields.items():
        offset, fmt = offsets[name]
        struct.pack_into(fmt, raw, at + offset, value)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("compression,fields,match", [
    (zipfile.ZIP_STORED, {"compress_size": 2**31 + 128, "file_size": 2**31 + 128},
     "entry 'w' runs past the end of the file"),
    (zipfile.ZIP_STORED, {"file_size": 2**31 + 128}, "stored uncompressed, yet its sizes differ"),
    (zipfile.ZIP_DEFLATED, {"file_size": 2**31 + 128}, "more than deflate can produce"),
    (zipfile.ZIP_STORED, {"flag_bits": 1}, "entry 'w' is encrypted"),
])
def test_zip_sizes_that_cant_be_true(tmp_path, compression, fields, match):
    """A zip directory claiming a 2 GB member whose .npy header agrees, in a 1 kB file."""
    path = tmp_path / "ck.npz"
    write_zip(path, [(MANIFEST + ".npy", one_tensor_manifest("|u1", (2**31,))),
                     ("w.npy", npy("|u1", (2**31,), bytes(100)))], compression)
    patch_central_directory(path, "w.npy", **fields)
    with pytest.raises(ValueError, match="ck.npz: .*" + match):
        load(path)


def test_a_compression_method_other_than_deflate_is_refused(tmp_path):
    path = tmp_path / "ck.npz"
    write_zip(path, [(MANIFEST + ".npy", one_tensor_manifest("<f4", (2,))),
                     ("w.npy", npy("<f4", (2,), bytes(8)))], zipfile.ZIP_BZIP2)
    with pytest.raises(ValueError, match="compression method 12; mg.load reads stored or "
                                         "deflated"):
        load(path)


def test_a_deflated_archive_loads_like_savez_compressed(tmp_path):
    obj = {"w": mg.randn(30, 7), "epoch": 4}
    save(obj, tmp_path / "ck.npz")
    with zipfile.ZipFile(tmp_path / "ck.npz") as plain, \
            zipfile.ZipFile(tmp_path / "deflated.npz", "w", zipfile.ZIP_DEFLATED) as packed:
        for name in plain.namelist():
            packed.writestr(name, plain.read(name))
    assert_same(load(tmp_path / "deflated.npz"), obj)
    assert_same(load(tmp_path / "deflated.npz", mmap=True), obj)  # read, not mapped


@pytest.mark.parametrize("content,match", [
    (b"", "not a minigrad checkpoint: the file is empty"),
    (b"hello, world\n" * 10, r"not a minigrad checkpoint: not an .npz \(zip\) archive"),
    (pickle.dumps({"w": [1.0, 2.0]}), "not a minigrad checkpoint: a pickle"),
    (b"PK\x03\x04" + bytes(100), "not a readable zip archive: truncated or corrupt"),
    (npy("<f4", (2,), bytes(8)), "this is a single .npy array"),
])
def test_files_that_are_not_zip_archives(tmp_path, content, match):
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="x.pt: " + match):
        load(path)


def test_zip_archives_without_a_manifest(tmp_path):
    write_zip(tmp_path / "a.zip", [("readme.txt", b"hi"), ("w.npy", npy("<f4", (2,), bytes(8)))])
    with pytest.raises(ValueError, match=r"a.zip: a zip archive but not a minigrad checkpoint "
                                         r"\(no __minigrad_manifest__ entry; its members are "
                                         r"\['readme.txt', 'w.npy'\]\)"):
        load(tmp_path / "a.zip")
    write_zip(tmp_path / "t.pt", [("archive/data.pkl", b"\x80\x02}q\x00."),
                                  ("archive/version", b"3\n")])
    with pytest.raises(ValueError, match="t.pt: not a minigrad checkpoint: a PyTorch checkpoint"):
        load(tmp_path / "t.pt")


def test_real_torch_save_files_are_refused_without_unpickling(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "new.pt")
    with pytest.raises(ValueError, match="new.pt: not a minigrad checkpoint: a PyTorch check"):
        load(tmp_path / "new.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="old.pt: not a minigrad checkpoint: a pickle"):
        load(tmp_path / "old.pt")


# -- torch.load's keywords ------------------------------------------------------------------------

def test_torch_load_keywords_are_accepted(tmp_path):
    path = good_file(tmp_path)
    for kwargs in [{}, {"weights_only": True}, {"weights_only": None}, {"map_location": "cpu"},
                   {"map_location": mg.device("cpu")}, {"mmap": False}, {"mmap": None}]:
        ck = load(path, **kwargs)
        assert ck["epoch"] == 2 and ck["w"].device == "cpu"
    assert load(path, "cpu", None)["epoch"] == 2  # torch.load's positional order


@pytest.mark.parametrize("kwargs,match", [
    ({"weights_only": False}, "weights_only=False"),
    ({"pickle_module": pickle}, "a pickle_module"),
])
def test_asking_to_unpickle_is_refused(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match="mg.load never unpickles.*" + match):
        load(good_file(tmp_path), **kwargs)


@pytest.mark.parametrize("map_location,error,match", [
    ({"cuda:0": "cpu"}, TypeError, "map_location must be a device or a string.*got dict"),
    (lambda storage, loc: storage, TypeError, "got function"),
    ("tpu", ValueError, "unknown device 'tpu'"),
])
def test_map_location_forms_minigrad_does_not_have(tmp_path, map_location, error, match):
    with pytest.raises(error, match=match):
        load(good_file(tmp_path), map_location=map_location)


def test_map_location_cuda_moves_tensors_only(tmp_path):
    path = tmp_path / "ck.npz"
    save({"t": mg.ones(3), "p": Parameter(mg.zeros(2)), "a": np.ones(2)}, path)
    if not mg.cuda.is_available():
        with pytest.raises(RuntimeError, match="no usable GPU"):
            load(path, map_location="cuda")
        return
    ck = load(path, map_location="cuda:0")
    assert ck["t"].device == "cuda:0" and ck["p"].device == "cuda:0"
    assert isinstance(ck["p"], Parameter) and ck["p"].requires_grad
    assert isinstance(ck["a"], np.ndarray)
    assert ck["t"].cpu().tolist() == [1.0, 1.0, 1.0]


def test_mmap_maps_the_arrays_copy_on_write(tmp_path):
    rng = np.random.default_rng(3)
    obj = {"w": mg.tensor(rng.standard_normal((7, 13)).astype(np.float32)),
           "fortran": np.asfortranarray(rng.standard_normal((5, 3))),
           "p": Parameter(mg.tensor(rng.standard_normal(11))), "scalar": np.float64(2.5),
           "empty": mg.zeros(0, 3), "zero_d": np.array(7, np.int16), "step": 7}
    path = tmp_path / "ck.npz"
    save(obj, path)
    back = load(path, mmap=True)
    assert_same(back, obj)
    assert isinstance(back["w"].array.base, np.memmap)
    assert back["fortran"].flags.f_contiguous
    back["w"].array[0, 0] = 123.0  # writable; the change stays in memory
    assert load(path)["w"].array[0, 0] == obj["w"].array[0, 0]
    save({"w": mg.zeros(7, 13)}, path)  # a new file under the name: the mapped one is intact
    np.testing.assert_array_equal(back["w"].array[1:], obj["w"].array[1:])


def test_mmap_needs_a_path(tmp_path):
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
        load(io.BytesIO(good_file(tmp_path).read_bytes()), mmap=True)
