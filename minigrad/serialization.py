"""``mg.save`` / ``mg.load``: checkpoints as ``.npz`` files, never pickle.

PyTorch's ``torch.save`` uses pickle, and unpickling a file can run arbitrary code: opening a
checkpoint from the internet is then as dangerous as running a script from it. minigrad
stores only *data*, in a format anyone can inspect with NumPy alone:

* every array (a Tensor's values, an optimizer buffer) is one entry of an ``.npz`` archive (a
  zip of ``.npy`` files), named by its dotted path in the saved object (``model.fc.weight``,
  ``optimizer.state.0.exp_avg``);
* one more entry, ``__minigrad_manifest__``, holds a small JSON document (stored as a uint8
  array) describing the structure: which dicts, lists and tuples there were, their keys
  (strings or ints), the numbers, strings, bools and Nones, and which entry each array is.

What is stored: dicts (str or int keys, OrderedDict kept), lists, tuples, Tensors (and
Parameters), NumPy arrays and scalars, Python int/float/bool/str/None. A model or an
optimizer object is refused: save its ``state_dict()``. A tensor referenced twice is stored
(and loaded) as two copies.

Saving to a path is atomic and durable. The archive is written to a new temporary file in the
target's folder (``.<name>.<random>.mgtmp``), flushed to disk (fsync), renamed over the target
in one step (``os.replace``), and the folder is fsynced so the rename survives a power cut.
At every instant the target is either the old checkpoint or the new one, never a mix. A save
that fails removes its temporary file; one that is killed can't, so the next successful save
of the same path removes the temporaries that killed saves of that path left (see
``_remove_abandoned_temps`` for how it tells them from those of saves still running).

Loading never unpickles and checks everything before using it: that the file is a zip, that
every member is a ``.npy`` array without Python objects (``allow_pickle`` stays False), that
each array's declared size matches the bytes the archive really holds for it (so a crafted
header can't make it allocate terabytes), the CRC of the data, and that the manifest
describes exactly the entries there are. Any problem raises a ``ValueError`` naming the file
and what is wrong; the object is built only after every entry has been read and checked, so
a failed load never returns anything half-loaded. ``load`` takes PyTorch's keywords:
``weights_only`` (always true here), ``map_location`` (a device) and ``mmap``.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import stat
import struct
import time
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np

from . import backend
from .tensor import Tensor

try:
    import fcntl  # POSIX advisory file locks: how a save marks its temporary file as in use
except ImportError:  # Windows
    fcntl = None

MANIFEST = "__minigrad_manifest__"
FORMAT, VERSION = "minigrad.save", 1
TEMP_SUFFIX = ".mgtmp"
# Where file locks don't exist, a temporary file untouched for this long counts as abandoned.
ABANDONED_AFTER_S = 3600
# Deflate can't expand data by more than about 1032x: a member claiming more is lying.
MAX_DEFLATE_RATIO = 1032
SAVE_STATE_DICT_HINT = ("save its state dict instead:\n"
                        "    mg.save({name}.state_dict(), path)\n"
                        "    {name}.load_state_dict(mg.load(path))")


# ---------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------

def save(obj, f) -> None:
    """Save ``obj`` (a state dict, an optimizer state dict, a checkpoint dict...) to ``f``.

    ``f`` is a path (any extension; the content is always an ``.npz`` archive) or a binary
    file object. A path is written atomically (a crash or a kill leaves the previous file
    intact) and through a symlink, like ``torch.save``; a file object is written as is.
    """
    arrays: dict[str, np.ndarray] = {}
    root = _describe(obj, [], arrays)
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "root": root})
    arrays[MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        _write_npz(f, arrays)
    else:
        _save_atomically(arrays, Path(os.path.realpath(os.fsdecode(f))))


def _save_atomically(arrays: dict, path: Path) -> None:
    """Temporary file, fsync, rename over ``path``, fsync the folder, remove abandoned temps."""
    if not path.parent.is_dir():
        raise FileNotFoundError(f"mg.save: can't write {path}: the folder {path.parent} "
                                "does not exist")
    fd, tmp = _create_temp(path)
    try:
        with open(fd, "wb") as out:
            _write_npz(out, arrays)
            out.flush()
            os.fsync(out.fileno())  # the data is on disk before the name points at it
            if os.name != "nt":
                os.replace(tmp, path)  # while the file is still open, so still locked
        if os.name == "nt":
            os.replace(tmp, path)  # Windows can't rename an open file
    except BaseException:  # KeyboardInterrupt too: never leave a temporary behind
        _remove_quietly(tmp)
        raise
    _fsync_folder(path.parent)
    _remove_abandoned_temps(path)


def _temp_name_pattern(path: Path) -> re.Pattern:
    """The names ``_create_temp`` gives temporaries of ``path``, and no other names."""
    return re.compile(re.escape(f".{path.name}.") + "[0-9a-f]{16}" + re.escape(TEMP_SUFFIX))


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new, empty, locked temporary file next to ``path`` (same folder: the rename is atomic).

    Like ``tempfile.mkstemp`` (an unguessable name created with O_EXCL, so it is ours), but the
    permissions are what ``open`` would give (umask) or those of the file being replaced.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{TEMP_SUFFIX}")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        try:
            if _lock_new_temp(fd, tmp):
                _copy_permissions(path, fd)
                return fd, tmp
        except BaseException:
            os.close(fd)
            _remove_quietly(tmp)
            raise
        os.close(fd)  # a cleanup removed it before we locked it: try another name
    raise FileExistsError(f"mg.save: could not create a temporary file next to {path}")


def _lock_new_temp(fd: int, tmp: Path) -> bool:
    """Mark a new temporary file as in use; False if a cleanup deleted it first.

    The lock (``flock``, held until the file is closed after its rename) is what tells another
    save's cleanup that this file belongs to a running save. The kernel drops it when the
    process dies, however it dies, which is what makes a killed save's file recognisable.
    Between creating the file and locking it, a cleanup could see it unlocked and delete it;
    so once locked, check that the name still points at our file.
    """
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits only while a cleanup is looking at this file
    except OSError:
        return True  # a filesystem without locks: cleanups there go by age instead
    try:
        return os.path.samestat(os.fstat(fd), os.stat(tmp))
    except FileNotFoundError:
        return False


def _copy_permissions(path: Path, fd: int) -> None:
    """Keep the replaced file's permissions (a private checkpoint stays private)."""
    if hasattr(os, "fchmod"):
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            return  # no file there yet: the new one gets the umask's permissions, as open()
        os.fchmod(fd, mode)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable. POSIX only: Windows can't open a folder (nor needs to)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a folder; the data itself is already synced
    finally:
        os.close(fd)


def _remove_abandoned_temps(path: Path) -> None:
    """Delete the temporary files of ``path`` that killed saves left behind.

    Only names made by ``_create_temp`` for this very target are considered, and only files
    no running save is using: two processes may save the same path at once, each through its
    own temporary (the last rename wins, and either result is a whole checkpoint), and one
    must not delete the other's half-written file. With file locks (POSIX) "in use" is exact:
    a file is deleted only if its lock can be taken, i.e. the save that created it is gone.
    Without them (Windows, or a filesystem without locks) a file counts as abandoned once
    nobody has modified it for ``ABANDONED_AFTER_S`` seconds; Windows also refuses to delete
    a file another process has open. Cleanup failures are ignored: the save itself succeeded.
    """
    pattern = _temp_name_pattern(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if pattern.fullmatch(name):
            _remove_if_abandoned(path.parent / name)


def _remove_if_abandoned(tmp: Path) -> None:
    try:
        if fcntl is None:
            if _untouched_for_long(os.stat(tmp)):
                os.unlink(tmp)
            return
        fd = os.open(tmp, os.O_RDONLY)
        try:
            if _no_save_is_using(fd):
                os.unlink(tmp)  # while holding its lock (see _lock_new_temp)
        finally:
            os.close(fd)
    except OSError:
        pass  # removed by someone else meanwhile, in use, or not ours to delete: leave it


def _no_save_is_using(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False  # a running save holds it
    except OSError:
        return _untouched_for_long(os.fstat(fd))  # no locks on this filesystem


def _untouched_for_long(st: os.stat_result) -> bool:
    return time.time() - st.st_mtime > ABANDONED_AFTER_S


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_npz(out, arrays: dict) -> None:
    """What ``np.savez`` does: a zip archive with one ``<name>.npy`` file per array.

    (Written out because ``np.savez(out, **arrays)`` breaks on an entry named ``file``.)
    """
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def _describe(obj, path: list, arrays: dict) -> dict:
    """The manifest node for ``obj``; its arrays are added to ``arrays`` under dotted names."""
    if isinstance(obj, Tensor):
        from .nn.parameter import Parameter
        node = _array_node(obj.array, path, arrays)
        node.update(type="parameter" if isinstance(obj, Parameter) else "tensor",
                    requires_grad=bool(obj.requires_grad))
        return node
    if isinstance(obj, np.ndarray) or backend.device_of(obj).type == "cuda":
        return _array_node(obj, path, arrays)
    if isinstance(obj, np.generic):
        node = _array_node(np.asarray(obj), path, arrays)
        node["type"] = "numpy_scalar"
        return node
    if obj is None or isinstance(obj, (bool, str)):
        return {"type": "value", "value": obj}
    if isinstance(obj, int):
        return {"type": "value", "value": int(obj)}
    if isinstance(obj, float):
        return {"type": "float", "value": repr(obj)}  # repr: exact, and nan/inf survive JSON
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"mg.save: dict keys must be str or int, got {key!r} at "
                                f"{_dotted(path) or 'the top level'}")
            items.append([key, _describe(value, path + [key], arrays)])
        return {"type": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {"type": kind,
                "items": [_describe(v, path + [i], arrays) for i, v in enumerate(obj)]}
    raise TypeError(_unsavable(obj, path))


def _unsavable(obj, path: list) -> str:
    """Why ``obj`` can't be saved, and (for a model or an optimizer) what to save instead."""
    where = _dotted(path) or "the top level"
    if callable(getattr(obj, "state_dict", None)):
        return (f"mg.save can't store a {type(obj).__name__} object (at {where}): minigrad "
                f"saves data, never pickled objects; " +
                SAVE_STATE_DICT_HINT.format(name=_variable_name(obj)))
    return (f"mg.save can't store a {type(obj).__name__} (at {where}): only dicts, lists, "
            "tuples, Tensors, arrays, numbers, strings and None are saved (never pickled "
            "objects). To checkpoint a model, " + SAVE_STATE_DICT_HINT.format(name="model"))


def _variable_name(obj) -> str:
    from .nn.module import Module
    if isinstance(obj, Module):
        return "model"
    if hasattr(obj, "param_groups"):
        return "optimizer"
    if hasattr(obj, "last_epoch"):
        return "scheduler"
    return "obj"


def _array_node(array, path: list, arrays: dict) -> dict:
    array = backend.to_device(array, backend.CPU)  # CuPy arrays are copied off the GPU
    if array.dtype.kind not in "biufcUS":
        raise TypeError(f"mg.save: the array at {_dotted(path) or 'the top level'} has dtype "
                        f"{array.dtype}, which can't be stored without pickle")
    name = _dotted(path) or "root"
    while name in arrays or name == MANIFEST:  # "a.b" + "c" vs "a" + "b.c": keep both
        name += "_"
    arrays[name] = array
    return {"type": "array", "entry": name, "dtype": array.dtype.str,
            "shape": list(array.shape)}


def _dotted(path: list) -> str:
    return ".".join(str(p) for p in path)


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------

def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None):
    """Load what ``save`` wrote. ``f`` is a path or a binary file object.

    Takes ``torch.load``'s arguments:

    * ``weights_only``: loading is always "weights only" (data, never pickled objects), so
      ``None`` and ``True`` are accepted; ``False`` (or a ``pickle_module``) is refused.
    * ``map_location``: ``None`` or ``"cpu"`` puts Tensors (and Parameters) on the CPU;
      ``"cuda"``, ``"cuda:1"`` or an ``mg.device`` puts them there. NumPy arrays stay NumPy
      arrays. PyTorch's dict and function forms are not supported.
    * ``mmap=True`` (``f`` must be a path) maps each array from the file, copy-on-write,
      instead of reading it: loading a large checkpoint is instant and only the pages used
      take memory. Sizes and headers are still checked, the data's CRC is not.

    Raises ``ValueError`` (naming the file) when it isn't a minigrad checkpoint or is damaged.
    """
    _refuse_unpickling(weights_only, pickle_module)
    device = _load_device(map_location)
    is_path = not hasattr(f, "read")
    if mmap and not is_path:
        raise ValueError("mg.load: f must be a file path in order to use the mmap argument")
    name = os.fsdecode(f) if is_path else str(getattr(f, "name", "<file object>"))
    try:
        if is_path:
            with open(f, "rb") as fp:
                entries, manifest = _read_entries(fp, bool(mmap))
        else:
            entries, manifest = _read_entries(f, False)
    except CheckpointError as e:
        raise ValueError(f"{name}: {e}") from None
    try:
        used = set()
        obj = _build(manifest["root"], entries, used, device)
        _check_all_used(entries, used)
        return obj
    except CheckpointError as e:
        raise ValueError(f"{name}: the manifest is inconsistent with the file: {e}") from None


class CheckpointError(Exception):
    """What is wrong with a checkpoint (turned into a ValueError naming the file)."""


def _refuse_unpickling(weights_only, pickle_module) -> None:
    if weights_only not in (None, True) or pickle_module is not None:
        raise ValueError(
            "mg.load never unpickles: a minigrad checkpoint holds only data, so loading is "
            "always weights_only=True (pickle can run arbitrary code from the file). Don't pass "
            f"weights_only={weights_only!r}" +
            ("" if pickle_module is None else " or a pickle_module") +
            "; to checkpoint other objects, save their state_dict()")


def _load_device(map_location) -> backend.Device:
    if map_location is None:
        return backend.CPU
    if isinstance(map_location, (str, backend.Device)):
        return backend.Device(map_location)
    raise TypeError(f"mg.load: map_location must be a device or a string like 'cpu' or "
                    f"'cuda:0', got {type(map_location).__name__} (PyTorch's dict and "
                    "function forms are not supported: every tensor is saved from the CPU)")


def _read_entries(fp, mmap: bool):
    """Every array of the archive and the parsed manifest, all read and checked."""
    start = fp.tell()
    file_size = fp.seek(0, os.SEEK_END)
    fp.seek(start)
    try:
        archive = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        fp.seek(start)
        raise CheckpointError(_not_a_zip(fp.read(8), e)) from None
    with archive:
        members = _npy_members(archive)
        entries = {entry: _read_member(fp, archive, entry, info, file_size, mmap)
                   for entry, info in members.items()}
    return entries, _parse_manifest(entries.pop(MANIFEST))


def _not_a_zip(first_bytes: bytes, error: Exception) -> str:
    """What the file is instead of a zip archive, judged by its first bytes."""
    if not first_bytes:
        return "not a minigrad checkpoint: the file is empty"
    if first_bytes.startswith(b"\x93NUMPY"):
        return "this is a single .npy array, not a minigrad .npz checkpoint"
    if first_bytes.startswith(b"PK"):
        return f"not a readable zip archive: truncated or corrupt ({error})"
    if first_bytes.startswith(b"\x80"):
        return ("not a minigrad checkpoint: a pickle (what pickle.dump and older torch.save "
                "write); minigrad never unpickles, since that can run code from the file")
    return "not a minigrad checkpoint: not an .npz (zip) archive"


def _npy_members(archive: zipfile.ZipFile) -> dict:
    """``{entry name: ZipInfo}``; refuses foreign archives, non-.npy members and duplicates."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if MANIFEST + ".npy" not in names:
        raise CheckpointError(_foreign_archive(names))
    members = {}
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise CheckpointError(f"member {info.filename!r} is not a .npy array (a minigrad "
                                  "checkpoint holds only .npy members)")
        entry = info.filename[:-len(".npy")]
        if entry in members:
            raise CheckpointError(f"entry {entry!r} appears twice in the archive")
        members[entry] = info
    return members


def _foreign_archive(names: list) -> str:
    shown = f"{names[:5]}{'...' if len(names) > 5 else ''}"
    if any(name.endswith("data.pkl") for name in names):
        return ("not a minigrad checkpoint: a PyTorch checkpoint (torch.save's zip archive, "
                f"with a pickled data.pkl; its members are {shown}); minigrad never unpickles. "
                "Load it with torch.load and save the tensors' .numpy() arrays with mg.save")
    kind = "an .npz" if all(name.endswith(".npy") for name in names) else "a zip"
    return (f"{kind} archive but not a minigrad checkpoint (no {MANIFEST} entry; its members "
            f"are {shown})")


def _read_member(fp, archive, entry: str, info: zipfile.ZipInfo, file_size: int, mmap: bool):
    """One entry's array, after checking its header against the bytes the archive holds."""
    try:
        _check_member_sizes(entry, info, file_size)
        with archive.open(info) as member:
            shape, fortran_order, dtype = _read_npy_header(entry, member)
            data_start = member.tell()
            _check_declared_size(entry, shape, dtype, info.file_size - data_start, file_size)
            if mmap and info.compress_type == zipfile.ZIP_STORED and dtype.itemsize and \
                    math.prod(shape):
                return _map_member(fp, info, data_start, shape, fortran_order, dtype)
            member.seek(0)  # read_array reads the (now checked) header again
            return np.lib.format.read_array(member, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise CheckpointError(f"entry {entry!r} is corrupt or truncated: {e}") from None


def _check_member_sizes(entry: str, info: zipfile.ZipInfo, file_size: int) -> None:
    """The sizes the zip directory claims must be possible in a file of ``file_size`` bytes."""
    if info.flag_bits & 0x1:
        raise CheckpointError(f"entry {entry!r} is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise CheckpointError(f"entry {entry!r} is corrupt: stored uncompressed, yet its "
                                  f"sizes differ ({info.file_size} vs {info.compress_size})")
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        if info.file_size > MAX_DEFLATE_RATIO * info.compress_size:
            raise CheckpointError(f"entry {entry!r} is corrupt: it claims {_size(info.file_size)} "
                                  f"from {_size(info.compress_size)} of deflated data, more "
                                  "than deflate can produce")
    else:
        raise CheckpointError(f"entry {entry!r} uses zip compression method "
                              f"{info.compress_type}; mg.load reads stored or deflated members "
                              "(what np.savez and np.savez_compressed write)")
    if info.header_offset + info.compress_size > file_size:
        raise CheckpointError(f"entry {entry!r} runs past the end of the file ({_size(file_size)})"
                              ": truncated or corrupt")


def _read_npy_header(entry: str, member) -> tuple:
    """``(shape, fortran_order, dtype)`` from a ``.npy`` header, without reading any data."""
    try:
        version = np.lib.format.read_magic(member)
    except ValueError as e:
        raise CheckpointError(f"entry {entry!r} is not a .npy array: {e}") from None
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise CheckpointError(f"entry {entry!r} is a .npy file of format version {version}; "
                              "mg.load reads versions 1.0 and 2.0 (what mg.save writes)")
    try:
        return readers[version](member)
    except ValueError as e:
        raise CheckpointError(f"entry {entry!r} has a malformed .npy header: {e}") from None


def _check_declared_size(entry: str, shape: tuple, dtype: np.dtype, data_bytes: int,
                         file_size: int) -> None:
    """Before allocating anything: the header's shape must match the data really there."""
    if dtype.hasobject:
        raise CheckpointError(f"entry {entry!r} holds Python objects (dtype {dtype}), which "
                              "only pickle can load; minigrad never unpickles")
    if any(n < 0 for n in shape):
        raise CheckpointError(f"entry {entry!r} declares a negative shape {shape}")
    declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if declared != data_bytes:
        raise CheckpointError(f"entry {entry!r} declares a {dtype} array of shape {shape}, "
                              f"{_size(declared)}, but the archive holds {_size(data_bytes)} "
                              f"of data for it (the whole file is {_size(file_size)})")


def _size(n: int) -> str:
    """``4,000,000,000,000 bytes (4.0 TB)``: exact, and readable when large."""
    exact = f"{n:,} bytes"
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{exact} ({n / scale:.1f} {unit})"
    return exact


def _map_member(fp, info: zipfile.ZipInfo, data_start: int, shape, fortran_order, dtype):
    """A copy-on-write memory map of a stored member's array data (``load(..., mmap=True)``)."""
    fp.seek(info.header_offset)
    local_header = fp.read(30)  # the zip's local file header; its name and extra field follow
    if len(local_header) != 30 or not local_header.startswith(b"PK\x03\x04"):
        raise CheckpointError(f"entry {info.filename[:-4]!r} has a corrupt zip header")
    name_length, extra_length = struct.unpack("<HH", local_header[26:30])
    offset = info.header_offset + 30 + name_length + extra_length + data_start
    mapped = np.memmap(fp, dtype, "c", offset, shape, "F" if fortran_order else "C")
    return mapped.view(np.ndarray)  # a plain array; its base keeps the mapping alive


def _parse_manifest(raw: np.ndarray) -> dict:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"the manifest entry should be a 1-D uint8 array, it is "
                              f"{raw.dtype} of shape {raw.shape}")
    try:
        manifest = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"the manifest is not valid JSON: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError("the manifest is not a minigrad checkpoint manifest")
    if manifest.get("version") != VERSION:
        raise CheckpointError(f"checkpoint format version {manifest.get('version')!r}; this "
                              f"minigrad reads version {VERSION}")
    if "root" not in manifest:
        raise CheckpointError("the manifest has no 'root'")
    return manifest


def _build(node, entries: dict, used: set, device: backend.Device):
    """The object a manifest node describes (raises CheckpointError on any inconsistency)."""
    if not isinstance(node, dict) or "type" not in node:
        raise CheckpointError(f"malformed node {node!r:.80}")
    kind = node["type"]
    if kind == "value":
        value = node.get("value")
        if value is not None and not isinstance(value, (bool, int, str)):
            raise CheckpointError(f"bad value {value!r:.80}")
        return value
    if kind == "float":
        try:
            return float(node["value"])
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"bad float {node.get('value')!r:.80}") from None
    if kind in ("dict", "odict"):
        out = OrderedDict() if kind == "odict" else {}
        for item in _items(node):
            if not (isinstance(item, list) and len(item) == 2
                    and isinstance(item[0], (str, int)) and not isinstance(item[0], bool)):
                raise CheckpointError(f"bad dict item {item!r:.80}")
            out[item[0]] = _build(item[1], entries, used, device)
        return out
    if kind in ("list", "tuple"):
        items = [_build(v, entries, used, device) for v in _items(node)]
        return tuple(items) if kind == "tuple" else items
    if kind in ("array", "tensor", "parameter", "numpy_scalar"):
        return _build_array(node, kind, entries, used, device)
    raise CheckpointError(f"unknown node type {kind!r}")


def _items(node) -> list:
    items = node.get("items")
    if not isinstance(items, list):
        raise CheckpointError(f"a {node['type']} node without an item list")
    return items


def _build_array(node: dict, kind: str, entries: dict, used: set, device: backend.Device):
    name = node.get("entry")
    if name not in entries:
        raise CheckpointError(f"entry {name!r} is missing from the archive")
    if name in used:
        raise CheckpointError(f"entry {name!r} is referenced twice")
    used.add(name)
    array = entries[name]
    if array.dtype.str != node.get("dtype") or list(array.shape) != node.get("shape"):
        raise CheckpointError(f"entry {name!r} is {array.dtype.str} {list(array.shape)}, the "
                              f"manifest says {node.get('dtype')} {node.get('shape')}")
    if kind == "array":
        return array
    if kind == "numpy_scalar":
        return array[()]
    array = backend.to_device(array, device)  # map_location: only Tensors move
    if kind == "parameter":
        from .nn.parameter import Parameter
        return Parameter(Tensor._make(array), requires_grad=bool(node.get("requires_grad")))
    t = Tensor._make(array)
    if node.get("requires_grad"):
        t.requires_grad_(True)
    return t


def _check_all_used(entries: dict, used: set) -> None:
    extra = sorted(set(entries) - used)
    if extra:
        raise CheckpointError(f"entries not described by the manifest: {extra[:5]}")
