"""``mg.save`` / ``mg.load``: checkpoints as ``.npz`` files, never pickle.

PyTorch's ``torch.save`` uses pickle, and unpickling a file can run arbitrary code: opening a
checkpoint from the internet is then as dangerous as running a script from it. minigrad
stores only *data*, in a format anyone can inspect with NumPy alone:

* every array (a Tensor's values, an optimizer buffer) is one entry of an ``.npz`` archive,
  named by its dotted path in the saved object (``model.fc.weight``,
  ``optimizer.state.0.exp_avg``);
* one more entry, ``__minigrad_manifest__``, holds a small JSON document (stored as a uint8
  array) describing the structure: which dicts, lists and tuples there were, their keys
  (strings or ints), the numbers, strings, bools and Nones, and which entry each array is.

Loading reads with ``np.load(..., allow_pickle=False)``, rebuilds the structure from the
manifest, and checks everything on the way: a corrupt, truncated or foreign file, or one with
a pickled (object) array inside, raises a ``ValueError`` that names the file and the problem.
The object is built only after every entry has been read and checked, so a failed load never
returns anything half-loaded. A save writes to a temporary file first and renames it, so an
interrupted save never leaves a half-written checkpoint behind.

What is stored: dicts (str or int keys, OrderedDict kept), lists, tuples, Tensors (and
Parameters), NumPy arrays and scalars, Python int/float/bool/str/None. Tensors load on the
CPU; a tensor referenced twice is stored (and loaded) as two copies.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np

from . import backend
from .tensor import Tensor

MANIFEST = "__minigrad_manifest__"
FORMAT, VERSION = "minigrad.save", 1


# ---------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------

def save(obj, f) -> None:
    """Save ``obj`` (a state dict, an optimizer state dict, a checkpoint dict...) to ``f``.

    ``f`` is a path (any extension; the content is always an ``.npz`` archive) or a binary
    file object.
    """
    arrays: dict[str, np.ndarray] = {}
    root = _describe(obj, [], arrays)
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "root": root})
    arrays[MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        _write_npz(f, arrays)
        return
    path = Path(f)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # same folder: rename is atomic
    try:
        with open(tmp, "wb") as out:
            _write_npz(out, arrays)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
        node = _array_node(obj.data, path, arrays)
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
    raise TypeError(f"mg.save can't store a {type(obj).__name__} (at "
                    f"{_dotted(path) or 'the top level'}): only dicts, lists, tuples, Tensors, "
                    "arrays, numbers, strings and None are saved (never pickled objects)")


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

def load(f):
    """Load what ``save`` wrote. ``f`` is a path or a binary file object.

    Raises ``ValueError`` (naming the file) when it isn't a minigrad checkpoint or is damaged.
    """
    name = str(f) if not hasattr(f, "read") else getattr(f, "name", "<file object>")
    try:
        entries, manifest = _read_entries(f, name)
    except CheckpointError as e:
        raise ValueError(f"{name}: {e}") from None
    try:
        used = set()
        obj = _build(manifest["root"], entries, used)
        _check_all_used(entries, used)
        return obj
    except CheckpointError as e:
        raise ValueError(f"{name}: the manifest is inconsistent with the file: {e}") from None


class CheckpointError(Exception):
    """What is wrong with a checkpoint (turned into a ValueError naming the file)."""


def _read_entries(f, name: str):
    """Every array of the archive and the parsed manifest, all read and checked."""
    try:
        archive = np.load(f, allow_pickle=False)
    except FileNotFoundError:
        raise
    except ValueError:  # neither .npz nor .npy: NumPy would fall back to unpickling it
        raise CheckpointError("not a minigrad checkpoint: not an .npz archive (a pickle, like "
                              "torch.save writes, or another format; minigrad never unpickles)") \
            from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"not a readable .npz archive (corrupt or truncated?): {e}") \
            from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CheckpointError("this is a single .npy array, not a minigrad .npz checkpoint")
    with archive:
        if MANIFEST not in archive.files:
            raise CheckpointError(f"an .npz archive but not a minigrad checkpoint (no "
                                  f"{MANIFEST} entry; its entries are {archive.files[:5]}"
                                  f"{'...' if len(archive.files) > 5 else ''})")
        entries = {}
        for key in archive.files:
            try:
                entries[key] = archive[key]
            except ValueError as e:
                raise CheckpointError(f"entry {key!r} can't be loaded without pickle (an "
                                      f"object array?): {e}") from None
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
                raise CheckpointError(f"entry {key!r} is corrupt or truncated: {e}") from None
    manifest = _parse_manifest(entries.pop(MANIFEST))
    return entries, manifest


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


def _build(node, entries: dict, used: set):
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
            out[item[0]] = _build(item[1], entries, used)
        return out
    if kind in ("list", "tuple"):
        items = [_build(v, entries, used) for v in _items(node)]
        return tuple(items) if kind == "tuple" else items
    if kind in ("array", "tensor", "parameter", "numpy_scalar"):
        return _build_array(node, kind, entries, used)
    raise CheckpointError(f"unknown node type {kind!r}")


def _items(node) -> list:
    items = node.get("items")
    if not isinstance(items, list):
        raise CheckpointError(f"a {node['type']} node without an item list")
    return items


def _build_array(node: dict, kind: str, entries: dict, used: set):
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

