"""MNIST / FashionMNIST loaders and the IDX parser, on small files the tests write themselves.

Nothing here touches the network: "downloads" come from file:// URLs or a replaced fetch().
"""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest

from minigrad.data import mnist
from minigrad.data.mnist import MNIST, FashionMNIST, parse_idx, read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    big_endian = array.dtype.newbyteorder(">")
    code = next(k for k, v in mnist.IDX_DTYPES.items() if np.dtype(v) == big_endian)
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_gz(path, payload: bytes) -> str:
    path.write_bytes(gzip.compress(payload))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local 'mirror' with tiny train (5 images) and test (3 images) sets, served by file://,
    and the dataset classes pointed at it."""
    rng = np.random.default_rng(0)
    src = tmp_path / "mirror"
    src.mkdir()
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte.gz": np.array([5, 0, 4, 1, 9], np.uint8),
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte.gz": np.array([7, 2, 1], np.uint8)}
    resources = tuple((name, write_gz(src / name, idx_bytes(a))) for name, a in arrays.items())
    for cls in (MNIST, FashionMNIST):
        monkeypatch.setattr(cls, "resources", resources)
        monkeypatch.setattr(cls, "mirrors", (src.as_uri() + "/",))
    return src, arrays


def test_download_parse_and_samples(mirror, tmp_path):
    src, arrays = mirror
    root = tmp_path / "cache"
    train = MNIST(root=root, train=True, download=True)
    assert len(train) == 5 and (root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists()
    np.testing.assert_array_equal(train.data.numpy(), arrays["train-images-idx3-ubyte.gz"])
    assert train.targets.dtype == np.int64 and train.targets.tolist() == [5, 0, 4, 1, 9]
    image, label = train[2]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and label == 4
    np.testing.assert_allclose(image.numpy()[0],
                               arrays["train-images-idx3-ubyte.gz"][2] / 255.0, rtol=1e-6)
    test = MNIST(root=root, train=False, download=True)
    assert len(test) == 3 and test[0][1] == 7
    assert not list((root / "MNIST" / "raw").glob("*.part"))  # no temporary files left


def test_cached_files_are_used_without_download(mirror, tmp_path, monkeypatch):
    MNIST(root=tmp_path, download=True)

    def no_network(url, destination):
        raise AssertionError("should not download again")
    monkeypatch.setattr(mnist, "fetch", no_network)
    assert len(MNIST(root=tmp_path, download=True)) == 5


def test_transforms(mirror, tmp_path):
    ds = MNIST(root=tmp_path, download=True, transform=lambda x: x.reshape(-1),
               target_transform=lambda y: y + 100)
    x, y = ds[0]
    assert x.shape == (784,) and y == 105


def test_missing_without_download(mirror, tmp_path):
    with pytest.raises(RuntimeError, match="download=True"):
        MNIST(root=tmp_path)


def test_fashion_mnist_uses_its_own_folder(mirror, tmp_path):
    ds = FashionMNIST(root=tmp_path, download=True)
    assert (tmp_path / "FashionMNIST" / "raw").is_dir() and len(ds) == 5
    assert ds.classes[0] == "T-shirt/top"


def test_default_root_from_environment(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "envroot"))
    assert mnist.default_root() == tmp_path / "envroot"
    MNIST(download=True)
    assert (tmp_path / "envroot" / "MNIST" / "raw").is_dir()
    monkeypatch.delenv("MINIGRAD_DATA")
    assert mnist.default_root().parts[-2:] == (".cache", "minigrad")


def test_checksum_mismatch_keeps_nothing(mirror, tmp_path, monkeypatch):
    src, _ = mirror
    (src / "train-images-idx3-ubyte.gz").write_bytes(b"tampered")
    with pytest.raises(RuntimeError, match="SHA-256 mismatch"):
        MNIST(root=tmp_path, download=True)
    raw = tmp_path / "MNIST" / "raw"
    assert not (raw / "train-images-idx3-ubyte.gz").exists()
    assert not list(raw.glob("*.part"))


def test_falls_back_to_the_next_mirror(mirror, tmp_path, monkeypatch):
    src, _ = mirror
    monkeypatch.setattr(MNIST, "mirrors", ("file:///nonexistent/mirror/", src.as_uri()))
    assert len(MNIST(root=tmp_path, download=True)) == 5


def test_all_mirrors_failing_lists_each(mirror, tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", ("https://a.invalid/", "https://b.invalid/"))

    def offline(url, destination):
        raise OSError("network unreachable")
    monkeypatch.setattr(mnist, "fetch", offline)
    with pytest.raises(RuntimeError, match="a.invalid.*unreachable.*\n.*b.invalid"):
        MNIST(root=tmp_path, download=True)


def test_corrupted_cache_is_detected(mirror, tmp_path):
    MNIST(root=tmp_path, download=True)
    cached = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz"
    cached.write_bytes(cached.read_bytes()[:-3])
    with pytest.raises(RuntimeError, match="SHA-256 mismatch.*Delete it"):
        MNIST(root=tmp_path)


def test_images_and_labels_must_agree(mirror, tmp_path, monkeypatch):
    src, _ = mirror
    sha = write_gz(src / "train-labels-idx1-ubyte.gz", idx_bytes(np.arange(4, dtype=np.uint8)))
    res = list(MNIST.resources)
    res[1] = ("train-labels-idx1-ubyte.gz", sha)
    monkeypatch.setattr(MNIST, "resources", tuple(res))
    with pytest.raises(ValueError, match="5 images but .* 4 labels"):
        MNIST(root=tmp_path, download=True)


# -- the IDX parser -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_idx_round_trip(dtype, tmp_path):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        a = a + 5
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(a))
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, a)


def test_idx_errors(tmp_path):
    good = idx_bytes(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="too short"):
        parse_idx(b"\x00\x00")
    with pytest.raises(ValueError, match="not an IDX file.*magic"):
        parse_idx(b"\x1f\x8b\x08\x00" + good[4:])  # e.g. a gzip file read without gunzip
    with pytest.raises(ValueError, match="not an IDX file"):
        parse_idx(b"\x00\x00\x07\x02" + good[4:])  # unknown type code
    with pytest.raises(ValueError, match="truncated IDX header"):
        parse_idx(good[:6])
    with pytest.raises(ValueError, match="truncated: the header says shape \\(2, 3\\)"):
        parse_idx(good[:-1], name="x.idx")
    with pytest.raises(ValueError, match="trailing bytes"):
        parse_idx(good + b"\x00")
    with pytest.raises(ValueError, match="2 dimensions, expected 3"):
        parse_idx(good, expected_ndim=3)
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(good)[:-10])
    with pytest.raises(ValueError, match="cut.gz: can't decompress"):
        read_idx(path)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="cut.gz"):
        read_idx(path)


def test_real_checksums_are_pinned():
    """The published SHA-256 of every file is in the code (64 hex digits each)."""
    for cls in (MNIST, FashionMNIST):
        names = [name for name, _ in cls.resources]
        assert names == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        for _, sha in cls.resources:
            assert len(sha) == 64 and int(sha, 16) >= 0
