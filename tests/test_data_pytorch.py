"""The data side of a PyTorch script ported line by line: map-style datasets, Normalize,
``manual_seed``, and the documented differences (shuffle default, arrays out)."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import compgraph as cg
from compgraph.data import DataLoader, Normalize
from compgraph.random import generator, manual_seed


@pytest.fixture(autouse=True)
def restore_global_generator() -> Iterator[None]:
    """Leave the global generator as found, for the tests that run after these."""
    state = generator().bit_generator.state
    yield
    generator().bit_generator.state = state


class ListDataset:
    """A map-style dataset as torch.utils.data.Dataset: ``dataset[i]`` is one (x, y)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels_ = images, labels
        self.reads = 0

    def __len__(self) -> int:
        return len(self.labels_)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        self.reads += 1
        return self.images[index], int(self.labels_[index])


def pair(n: int = 23, dtype: Any = np.uint8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (n, 28, 28)).astype(dtype)
    return images, rng.integers(0, 10, n)


def batches(loader: DataLoader) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(loader)


@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("flatten", [False, True])
def test_map_style_dataset_yields_the_array_paths_batches(dtype, shuffle, flatten) -> None:
    images, labels = pair(dtype=dtype)
    dataset = ListDataset(images, labels)
    options = {"shuffle": shuffle, "seed": 4, "flatten": flatten, "drop_last": False}
    from_items = batches(DataLoader(dataset, 5, **options))
    from_arrays = batches(DataLoader((images, labels), 5, **options))
    assert len(from_items) == len(from_arrays) == 5
    for (x_items, y_items), (x_arrays, y_arrays) in zip(from_items, from_arrays, strict=True):
        assert x_items.dtype == x_arrays.dtype == np.float32
        assert y_items.dtype == y_arrays.dtype == np.int64
        np.testing.assert_array_equal(x_items, x_arrays)
        np.testing.assert_array_equal(y_items, y_arrays)
    assert dataset.reads == len(labels)  # one __getitem__ per example per epoch


def test_map_style_dataset_len_drop_last_and_transform() -> None:
    images, labels = pair(n=11)
    loader = DataLoader(ListDataset(images, labels), 4, drop_last=True, transform=lambda x: -x)
    assert len(loader) == 2
    xs = [x for x, _ in loader]
    assert [len(x) for x in xs] == [4, 4] and all(x.max() <= 0 for x in xs)


def test_an_object_that_is_no_dataset_is_refused_with_the_three_kinds() -> None:
    for not_a_dataset in (object(), "images", np.zeros((4, 784), np.float32)):
        with pytest.raises(TypeError, match="map-style dataset"):
            DataLoader(not_a_dataset, 4)


def test_loader_dataset_is_what_was_given() -> None:
    arrays = pair()
    dataset = ListDataset(*arrays)
    mnist_like = cg.data.Synthetic("train", n=20)
    assert DataLoader(arrays, 4).dataset is arrays
    assert DataLoader(dataset, 4).dataset is dataset
    assert DataLoader(mnist_like, 4).dataset is mnist_like


def test_normalize_matches_the_formula_per_batch_and_per_channel() -> None:
    x = np.random.default_rng(0).random((6, 1, 28, 28), dtype=np.float32)
    for normalize in (Normalize(0.1307, 0.3081), Normalize((0.1307,), (0.3081,))):
        y = normalize(x)
        assert y.dtype == np.float32 and y.shape == x.shape and y is not x
        np.testing.assert_allclose(y, (x - 0.1307) / 0.3081, rtol=1e-6, atol=1e-6)
    rgb = np.random.default_rng(1).random((2, 3, 4, 4), dtype=np.float32)
    y = Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))(rgb)
    expected = (rgb - np.array([0.1, 0.2, 0.3])[:, None, None]) / np.array([0.5, 0.25, 2.0])[
        :, None, None
    ]
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    one_image = Normalize((0.1, 0.2, 0.3), 1.0)(rgb[0])  # (C, H, W), one std for all
    np.testing.assert_allclose(
        one_image, y[0] * np.array([0.5, 0.25, 2.0])[:, None, None], rtol=1e-6
    )


def test_normalize_refuses_bytes_mismatched_channels_and_zero_std() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        Normalize(0.5, 0.5)(np.zeros((2, 784), np.uint8))
    with pytest.raises(ValueError, match="3 channels"):
        Normalize((0.1, 0.2, 0.3), (1.0, 1.0, 1.0))(np.zeros((2, 784), np.float32))
    with pytest.raises(ValueError, match="positive"):
        Normalize(0.5, 0.0)
    assert repr(Normalize(0.1307, 0.3081)) == "Normalize(mean=(0.1307,), std=(0.3081,))"


def test_normalize_as_the_loaders_transform() -> None:
    images, labels = pair()
    plain = batches(DataLoader((images, labels), 8, seed=2, flatten=False))
    normal = batches(
        DataLoader((images, labels), 8, seed=2, flatten=False, transform=Normalize(0.1307, 0.3081))
    )
    for (x, y), (x_normal, y_normal) in zip(plain, normal, strict=True):
        assert x_normal.dtype == np.float32
        np.testing.assert_allclose(
            x_normal, (x - np.float32(0.1307)) / np.float32(0.3081), rtol=1e-6
        )
        np.testing.assert_array_equal(y, y_normal)


# README "Coming from PyTorch" rows: each documented difference pinned by a test.


def test_row_shuffle_defaults_to_true_unlike_pytorch() -> None:
    """`DataLoader(data, batch_size)` shuffles (PyTorch's default is shuffle=False):
    compgraph's loader is the training loader; pass shuffle=False for a test set."""
    assert inspect.signature(DataLoader).parameters["shuffle"].default is True
    images, _ = pair(n=50)
    _, y = next(iter(DataLoader((images, np.arange(50)), 50, seed=0)))
    assert not np.array_equal(y, np.arange(50))
    _, y = next(iter(DataLoader((images, np.arange(50)), 50, shuffle=False)))
    np.testing.assert_array_equal(y, np.arange(50))


def test_row_batches_are_numpy_arrays_not_tensors() -> None:
    """Batches are NumPy arrays (PyTorch yields tensors); a model takes them as they are."""
    x, y = next(iter(DataLoader(pair(), 4, flatten=False)))
    assert type(x) is np.ndarray and type(y) is np.ndarray
    conv = cg.nn.Conv2d(1, 2, 3, rng=0)
    assert isinstance(conv(x), cg.Tensor)


def test_row_batches_are_flat_by_default_and_images_with_flatten_false() -> None:
    """`DataLoader(mnist, 64)` gives (64, 784) rows, for the MLPs compgraph started with;
    PyTorch's MNIST gives (64, 1, 28, 28), which `flatten=False` gives too."""
    images, labels = pair()
    assert next(iter(DataLoader((images, labels), 8)))[0].shape == (8, 784)
    assert next(iter(DataLoader((images, labels), 8, flatten=False)))[0].shape == (8, 1, 28, 28)


def model_weights() -> list[np.ndarray]:
    model = cg.nn.Sequential(cg.nn.Conv2d(1, 2, 3), cg.nn.Linear(4, 3), cg.nn.Embedding(5, 2))
    return [p.numpy().copy() for p in model.parameters()]


def dropout_mask() -> np.ndarray:
    return cg.nn.Dropout(0.5)(cg.ones(4, 8)).numpy()


def first_epoch(seed: int | None = None) -> np.ndarray:
    loader = DataLoader((np.zeros((30, 2)), np.arange(30)), 10, seed=seed)
    return np.concatenate([y for _, y in loader])


def test_manual_seed_makes_builds_masks_and_shuffles_repeat() -> None:
    manual_seed(3)
    weights, mask, order = model_weights(), dropout_mask(), first_epoch()
    manual_seed(3)
    again = model_weights()
    assert all(np.array_equal(a, b) for a, b in zip(weights, again, strict=True))
    np.testing.assert_array_equal(dropout_mask(), mask)
    np.testing.assert_array_equal(first_epoch(), order)
    # The generator is shared and advancing: a second build after the seed differs.
    assert not np.array_equal(model_weights()[0], weights[0])


BUILD = "import compgraph as cg; print(cg.nn.Linear(3, 2).weight.numpy().tolist())"


def test_without_manual_seed_builds_differ_within_and_across_runs() -> None:
    first, second = model_weights(), model_weights()
    assert not np.array_equal(first[0], second[0])
    runs = [
        subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert runs[0].stdout != runs[1].stdout


def test_dropout_kept_before_manual_seed_follows_it() -> None:
    dropout = cg.nn.Dropout(0.5)
    manual_seed(5)
    mask = dropout(cg.ones(4, 8)).numpy()
    manual_seed(5)
    np.testing.assert_array_equal(dropout(cg.ones(4, 8)).numpy(), mask)


def test_explicit_generators_are_untouched_by_manual_seed() -> None:
    manual_seed(0)
    a = cg.nn.Linear(4, 3, rng=11).weight.numpy().copy()
    state = generator().bit_generator.state
    b = cg.nn.Linear(4, 3, rng=np.random.default_rng(11)).weight.numpy()
    order = first_epoch(seed=9)
    assert generator().bit_generator.state == state  # nothing drawn from the global one
    manual_seed(1)
    np.testing.assert_array_equal(cg.nn.Linear(4, 3, rng=11).weight.numpy(), a)
    np.testing.assert_array_equal(a, b)
    again = first_epoch(seed=9)
    np.testing.assert_array_equal(again, order)


def test_manual_seed_draws_as_default_rng_and_refuses_non_integers() -> None:
    assert manual_seed(42) is generator()
    np.testing.assert_array_equal(generator().random(3), np.random.default_rng(42).random(3))
    with pytest.raises(TypeError):
        manual_seed(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        manual_seed(-1)
