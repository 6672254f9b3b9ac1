"""DataLoader batching and shuffling, and one_hot."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compgraph.data import DataLoader, one_hot


def numbered(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose first pixel encodes their row, so every batch row can be traced back."""
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(n) % 256
    images[:, 27, 27] = 255
    return images, np.arange(n) % 10


def epoch(loader: DataLoader) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*loader, strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_dataset_batches_are_flat_float32_in_unit_range() -> None:
    images, labels = numbered(250)
    dataset = SimpleNamespace(images=images, labels=labels.astype(np.uint8))
    loader = DataLoader(dataset, batch_size=100, seed=0)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [len(y) for _, y in batches] == [100, 100, 50]
    x, y = batches[0]
    assert x.dtype == np.float32 and x.shape == (100, 784)
    assert y.dtype == np.int64
    assert x.min() >= 0 and x.max() == 1.0
    # Each batch row traced back to its image through the first pixel.
    rows = np.rint(x[:, 0] * 255).astype(int)
    np.testing.assert_array_equal(rows % 10, y)
    np.testing.assert_allclose(x, images[rows].reshape(100, 784) / 255, rtol=1e-7)


def test_unflattened_batches_have_a_channel_axis() -> None:
    images, labels = numbered(10)
    x, _ = next(iter(DataLoader((images, labels), batch_size=4, flatten=False, shuffle=False)))
    assert x.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(x[:, 0], images[:4] / np.float32(255))


def test_every_epoch_is_a_permutation_and_epochs_differ() -> None:
    images, _ = numbered(103)
    loader = DataLoader((images, np.arange(103)), batch_size=10, seed=1)
    first_x, first = epoch(loader)
    _, second = epoch(loader)
    np.testing.assert_array_equal(np.sort(first), np.arange(103))
    np.testing.assert_array_equal(np.sort(second), np.arange(103))
    assert not np.array_equal(first, np.arange(103))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(np.rint(first_x[:, 0] * 255), first % 256)


def test_same_seed_same_epochs_other_seed_other_epochs() -> None:
    data = (np.zeros((64, 2), dtype=np.float32), np.arange(64))
    runs = [DataLoader(data, batch_size=8, seed=seed) for seed in (5, 5, 6)]
    epochs = [[epoch(loader)[1] for _ in range(3)] for loader in runs]
    for k in range(3):
        np.testing.assert_array_equal(epochs[0][k], epochs[1][k])
        assert not np.array_equal(epochs[0][k], epochs[2][k])


def test_unshuffled_order_and_drop_last() -> None:
    data = (np.arange(23, dtype=np.float64)[:, None], np.arange(23))
    loader = DataLoader(data, batch_size=5, shuffle=False, drop_last=True)
    assert len(loader) == 4
    x, y = epoch(loader)
    np.testing.assert_array_equal(y, np.arange(20))
    assert x.dtype == np.float32 and x.shape == (20, 1)


def test_bytes_stay_bytes_until_their_batch_is_converted() -> None:
    images, labels = numbered(200)
    flat = images.reshape(200, 784)
    flat[:, 1:] = np.arange(200 * 783).reshape(200, 783) % 256  # every byte value occurs
    loader = DataLoader((images, labels), batch_size=64, seed=0)
    assert loader._x.dtype == np.uint8  # a quarter of the memory float32 would take
    x, _ = epoch(loader)
    rows = np.rint(x[:, 0] * 255).astype(int)
    np.testing.assert_array_equal(x, np.divide(flat[rows], 255, dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_belong_to_the_caller(dtype, shuffle: bool) -> None:
    images, labels = numbered(12)
    images = images.astype(dtype)
    loader = DataLoader((images, labels), batch_size=12, shuffle=shuffle, seed=0)
    x, y = next(iter(loader))
    x[:] = -1
    y[:] = -1
    x2, y2 = next(iter(loader))
    assert x2.min() == 0 and y2.min() == 0
    assert images[:, 27, 27].min() == 255  # input untouched


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ((np.zeros((3, 2)), np.zeros(4, int)), "3 examples but 4 labels"),
        ((np.zeros((3, 2)), np.zeros(3)), "labels must be integers"),
        ((np.zeros((3, 2), dtype=np.int32), np.zeros(3, int)), "uint8 or floating"),
        ((np.zeros(3),), "pair"),
        ("images", "dataset"),
    ],
)
def test_bad_inputs(data, error) -> None:
    with pytest.raises((TypeError, ValueError), match=error):
        DataLoader(data, batch_size=2)


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader((np.zeros((3, 2)), np.zeros(3, int)), batch_size=0)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 60), batch=st.integers(1, 25), drop=st.booleans(), shuffle=st.booleans())
def test_len_matches_batches_yielded(n: int, batch: int, drop: bool, shuffle: bool) -> None:
    loader = DataLoader(
        (np.zeros((n, 3), np.float32), np.arange(n)), batch, shuffle=shuffle, drop_last=drop
    )
    sizes = [len(y) for _, y in loader]
    assert len(sizes) == len(loader)
    assert sum(sizes) == (n - n % batch if drop else n)
    assert len(loader) == (n // batch if drop else math.ceil(n / batch))


def test_one_hot() -> None:
    labels = np.array([[3, 0], [1, 3]])
    encoded = one_hot(labels, 5)
    assert encoded.shape == (2, 2, 5) and encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded.argmax(-1), labels)
    np.testing.assert_array_equal(encoded.sum(-1), np.ones((2, 2)))
    assert one_hot(np.array([0, 2]), dtype=np.int64).tolist() == [[1, 0, 0], [0, 0, 1]]


@pytest.mark.parametrize(
    ("labels", "error"), [([0, 5], r"\[0, 5\)"), ([-1], "found -1"), ([0.5], "integers")]
)
def test_one_hot_refuses_bad_labels(labels, error) -> None:
    with pytest.raises((ValueError, TypeError), match=error):
        one_hot(np.array(labels), 5)
