"""MNIST and FashionMNIST: where files are found, how they are verified, the real data."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from dataset_helpers import FakeDataset

from compgraph.data import (
    MNIST,
    DatasetUnavailableError,
    FashionMNIST,
    default_root,
    download,
    search_roots,
)
from compgraph.data import sources as sources_module

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def check_split(dataset, fake: FakeDataset, images: str, labels: str) -> None:
    np.testing.assert_array_equal(dataset.images, fake.arrays[images])
    np.testing.assert_array_equal(dataset.labels, fake.arrays[labels])
    assert dataset.images.dtype == np.uint8 and dataset.labels.dtype == np.uint8
    assert len(dataset) == len(fake.arrays[labels])


@pytest.mark.parametrize("compress", [True, False])
def test_loads_both_splits_from_the_default_root(fake_mnist, data_root, compress) -> None:
    fake_mnist.write(data_root / "mnist", compress=compress)
    train = MNIST(download=False)
    test = MNIST(split="test", download=False)
    check_split(train, fake_mnist, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    check_split(test, fake_mnist, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    image, label = train[2]
    np.testing.assert_array_equal(image, fake_mnist.arrays["train-images-idx3-ubyte"][2])
    assert label == fake_mnist.arrays["train-labels-idx1-ubyte"][2]
    assert train.classes == [str(d) for d in range(10)]
    assert len(train[1:4][0]) == 3


def test_default_root_follows_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("COMPGRAPH_DATA", str(tmp_path / "elsewhere"))
    assert default_root() == tmp_path / "elsewhere"
    monkeypatch.delenv("COMPGRAPH_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_root() == tmp_path / "home" / ".cache" / "compgraph"


def test_explicit_root_comes_before_system_roots(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(sources_module, "SYSTEM_ROOTS", [tmp_path / "sys", tmp_path / "sys"])
    assert search_roots(tmp_path / "mine") == [tmp_path / "mine", tmp_path / "sys"]


def test_recompressed_copy_verifies(fake_mnist, data_root) -> None:
    folder = data_root / "mnist"
    for name, data in fake_mnist.encoded.items():
        (folder / f"{name}.gz").parent.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=1, mtime=12345))
    check_split(
        MNIST(download=False), fake_mnist, "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
    )


def test_tampered_copy_is_refused(fake_mnist, data_root, announcements) -> None:
    lines, announce = announcements
    fake_mnist.write(data_root / "mnist", compress=False)
    path = data_root / "mnist" / "t10k-images-idx3-ubyte"
    data = bytearray(path.read_bytes())
    data[500] ^= 0xFF  # one pixel: a well-formed IDX file, but not the published one
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetUnavailableError) as caught:
        MNIST(split="test", download=False, announce=announce)
    assert "t10k-images-idx3-ubyte" in caught.value.missing
    assert "t10k-labels-idx1-ubyte" not in caught.value.missing
    assert any(str(path) in line and "checksum mismatch" in line for line in lines)
    assert "--data-dir" in str(caught.value)


def test_system_root_is_used_without_download(fake_mnist, data_root, monkeypatch, tmp_path):
    system = tmp_path / "usr-share-datasets"
    fake_mnist.write(system / "mnist")
    monkeypatch.setattr(sources_module, "SYSTEM_ROOTS", [system])
    lines: list[str] = []
    test = MNIST(split="test", sources=[], announce=lines.append)
    check_split(test, fake_mnist, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    assert lines == []
    assert not data_root.exists()  # nothing was written to the writable root


def test_good_system_copy_wins_over_tampered_root_copy(
    fake_mnist, data_root, monkeypatch, tmp_path
):
    system = tmp_path / "system"
    fake_mnist.write(system / "mnist")
    monkeypatch.setattr(sources_module, "SYSTEM_ROOTS", [system])
    (data_root / "mnist").mkdir(parents=True)
    (data_root / "mnist" / "train-labels-idx1-ubyte").write_bytes(
        b"\x00\x00\x08\x01\x00\x00\x00\x00"
    )
    train = MNIST(sources=[], announce=lambda _: None)
    check_split(train, fake_mnist, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def test_unknown_split_and_dataset_names(fake_mnist) -> None:
    with pytest.raises(ValueError, match="validation"):
        MNIST(split="validation")
    with pytest.raises(ValueError, match="known datasets: fashion-mnist, mnist"):
        download("cifar10")


DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="needs Debian's dataset-fashion-mnist")
def test_debian_fashion_mnist_is_found_without_download(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COMPGRAPH_DATA", str(tmp_path / "empty"))
    lines: list[str] = []
    train = FashionMNIST(download=False, announce=lines.append)
    test = FashionMNIST(split="test", download=False, announce=lines.append)
    assert lines == []
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert train.classes[9] == "Ankle boot"


def cached_mnist() -> bool:
    folder = Path(os.environ.get("COMPGRAPH_DATA") or Path.home() / ".cache" / "compgraph")
    return len(list((folder / "mnist").glob("*-idx?-ubyte*"))) >= 4


@pytest.mark.skipif(not cached_mnist(), reason="MNIST is not in the default data root")
def test_cached_mnist_has_the_known_label_counts() -> None:
    train = MNIST(download=False)
    test = MNIST(split="test", download=False)
    assert np.bincount(train.labels).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test.labels).tolist() == MNIST_TEST_COUNTS


@pytest.mark.network
def test_mnist_downloads_into_an_empty_root(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sources_module, "SYSTEM_ROOTS", [])
    train = MNIST(root=tmp_path, split="train")
    test = MNIST(root=tmp_path, split="test", download=False)
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert np.bincount(train.labels).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test.labels).tolist() == MNIST_TEST_COUNTS
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(
        f"{name}.gz"
        for name in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    )
