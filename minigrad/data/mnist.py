"""MNIST and Fashion-MNIST: downloaded once, checked by SHA-256, cached, parsed with NumPy.

    train = mg.data.MNIST(train=True, download=True)    # like torchvision.datasets.MNIST
    image, label = train[0]                              # float32 (1, 28, 28) in [0, 1], int

Files go to ``<root>/<ClassName>/raw/`` where ``root`` defaults to ``$MINIGRAD_DATA`` or else
``~/.cache/minigrad``. A download is written to a temporary name, its SHA-256 compared with the
published one, and only then renamed into place, so the cache never holds a partial or wrong
file; cached files are checked again each time they are opened.

The files are in IDX format (LeCun's): a 4-byte magic number — two zero bytes, a type code
(0x08 = uint8, ...) and the number of dimensions — then each dimension as a big-endian
uint32, then the values, big-endian. ``read_idx`` parses that with NumPy alone and checks
every part of it, so a corrupt or truncated file gives a clear error instead of garbage.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from .dataset import Dataset

# type code -> big-endian dtype
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def default_root() -> Path:
    """Where datasets are cached: ``$MINIGRAD_DATA``, or else ``~/.cache/minigrad``."""
    env = os.environ.get("MINIGRAD_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "minigrad"


# ---------------------------------------------------------------------------------------------
# IDX files
# ---------------------------------------------------------------------------------------------

def read_idx(path, expected_ndim: int | None = None) -> np.ndarray:
    """Parse an IDX file (gzip-compressed when its name ends in ``.gz``) into a NumPy array.

    Raises ``ValueError`` naming the file when the magic number, the header or the size is
    wrong (a truncated or corrupt file, or not an IDX file at all).
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: can't decompress this file (corrupt or truncated): {e}") \
            from None
    return parse_idx(raw, name=str(path), expected_ndim=expected_ndim)


def parse_idx(raw: bytes, name: str = "<bytes>", expected_ndim: int | None = None) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file; see ``read_idx``."""
    if len(raw) < 4:
        raise ValueError(f"{name}: too short to be an IDX file ({len(raw)} bytes)")
    zero1, zero2, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0 or type_code not in IDX_DTYPES:
        raise ValueError(f"{name}: not an IDX file (magic number "
                         f"0x{int.from_bytes(raw[:4], 'big'):08x}; expected 0x0000TTDD with a "
                         f"type code TT in {[hex(t) for t in IDX_DTYPES]})")
    if expected_ndim is not None and ndim != expected_ndim:
        raise ValueError(f"{name}: IDX file has {ndim} dimensions, expected {expected_ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[type_code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(f"{name}: IDX file {what}: the header says shape {shape} of "
                         f"{dtype.name} ({expected} bytes in all), the file has {len(raw)}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # native byte order (and a writable copy)


# ---------------------------------------------------------------------------------------------
# Download with checksum
# ---------------------------------------------------------------------------------------------

def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, destination: Path) -> None:
    """Copy ``url`` (http(s):// or file://) to ``destination``. Tests replace this function."""
    with urllib.request.urlopen(url, timeout=60) as response, open(destination, "wb") as out:
        shutil.copyfileobj(response, out)


def download_file(filename: str, sha256: str, mirrors, folder: Path) -> Path:
    """Download ``filename`` from the first mirror that serves it with the right SHA-256.

    The file is written under a temporary name in ``folder`` and renamed into place only once
    its checksum matches. Raises ``RuntimeError`` listing what went wrong at each mirror.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    errors = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        fd, tmp = tempfile.mkstemp(prefix=filename + ".", suffix=".part", dir=folder)
        os.close(fd)
        tmp = Path(tmp)
        try:
            fetch(url, tmp)
            digest = sha256_of(tmp)
            if digest != sha256:
                errors.append(f"{url}: SHA-256 mismatch (got {digest}, expected {sha256})")
                continue
            os.replace(tmp, target)
            return target
        except Exception as e:  # network errors come in many types; report them all
            errors.append(f"{url}: {type(e).__name__}: {e}")
        finally:
            tmp.unlink(missing_ok=True)
    raise RuntimeError(f"could not download {filename}:\n  " + "\n  ".join(errors))


# ---------------------------------------------------------------------------------------------
# The datasets
# ---------------------------------------------------------------------------------------------

class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28, labels 0-9.

    Args (as torchvision's):
        root: the cache directory (default: ``default_root()``); files live in
            ``root/MNIST/raw``.
        train: the training set (True) or the test set (False).
        download: fetch the files if they are not in the cache yet.
        transform: applied to each image tensor; target_transform: to each label.

    ``ds[i]`` is ``(image, label)``: a float32 tensor (1, 28, 28) scaled to [0, 1] (what
    torchvision's ``ToTensor()`` gives) and an int. ``ds.data`` holds all images (uint8
    tensor (N, 28, 28)) and ``ds.targets`` all labels (int64 tensor (N,)).
    """

    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/")
    # (file, SHA-256): train images, train labels, test images, test labels
    resources = (
        ("train-images-idx3-ubyte.gz",
         "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        ("train-labels-idx1-ubyte.gz",
         "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        ("t10k-images-idx3-ubyte.gz",
         "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        ("t10k-labels-idx1-ubyte.gz",
         "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    )
    classes = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine")

    def __init__(self, root=None, train: bool = True, download: bool = False, transform=None,
                 target_transform=None):
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        (images_file, images_sha), (labels_file, labels_sha) = \
            self.resources[0:2] if train else self.resources[2:4]
        images_path = self._file(images_file, images_sha, download)
        labels_path = self._file(labels_file, labels_sha, download)
        images = read_idx(images_path, expected_ndim=3)
        labels = read_idx(labels_path, expected_ndim=1)
        self._check(images, labels, images_path, labels_path)
        self.data = Tensor._make(images)
        self.targets = Tensor._make(labels.astype(np.int64))

    @property
    def raw_folder(self) -> Path:
        return self.root / type(self).__name__ / "raw"

    def _file(self, filename: str, sha256: str, download: bool) -> Path:
        path = self.raw_folder / filename
        if not path.exists():
            if not download:
                raise RuntimeError(f"{type(self).__name__}: {path} not found. Use "
                                   "download=True to fetch it (or copy the file there).")
            download_file(filename, sha256, self.mirrors, self.raw_folder)
        digest = sha256_of(path)
        if digest != sha256:
            raise RuntimeError(f"{path}: SHA-256 mismatch (got {digest}, expected {sha256}): "
                               "the cached file is corrupt or not the published one. Delete it "
                               "and load again with download=True.")
        return path

    @staticmethod
    def _check(images, labels, images_path, labels_path) -> None:
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise ValueError(f"{images_path} / {labels_path}: expected uint8 IDX files, got "
                             f"{images.dtype} images and {labels.dtype} labels")
        if len(images) != len(labels):
            raise ValueError(f"{images_path} has {len(images)} images but {labels_path} has "
                             f"{len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise ValueError(f"{labels_path}: labels must be 0..9, found {labels.max()}")

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index):
        image = Tensor._make(self.data.array[index, None].astype(np.float32) / np.float32(255))
        target = int(self.targets.array[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}: {len(self)} images, root={self.root})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: a drop-in replacement for MNIST with clothing images
    (same sizes and format, 10 classes), harder to classify. Same arguments as ``MNIST``;
    files live in ``root/FashionMNIST/raw``."""

    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources = (
        ("train-images-idx3-ubyte.gz",
         "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        ("train-labels-idx1-ubyte.gz",
         "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        ("t10k-images-idx3-ubyte.gz",
         "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        ("t10k-labels-idx1-ubyte.gz",
         "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    )
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
