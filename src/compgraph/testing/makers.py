"""Input makers for the op specs: each draws an array of a shape from a seeded generator.

A maker keeps its inputs inside the operation's domain and away from its kinks
(ReLU at 0, a tie between maxima), where central differences would disagree with
any backward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
Maker = Callable[[np.random.Generator, tuple[int, ...]], Array]


def standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    return rng.standard_normal(shape)


def uniform(low: float, high: float) -> Maker:
    """Values drawn uniformly from [low, high)."""
    return lambda rng, shape: rng.uniform(low, high, shape)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    """Values in ±[0.2, 2]: no input within reach of a kink at 0."""
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    """Values at least 0.1 apart, so a maximum never ties, even after a perturbation."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.1 + rng.uniform(0, 0.01, size)).reshape(shape)


def distribution(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    """Positive rows (last axis) that sum to 1, no probability below about 0.01."""
    values = rng.uniform(0.1, 1.0, shape)
    return values / values.sum(axis=-1, keepdims=True)


def labels_for(classes: int) -> Maker:
    """Integer class labels in [0, classes)."""
    return lambda rng, shape: rng.integers(0, classes, shape)


def noncontiguous(array: Array) -> Array:
    """The same values in a strided view: every other element of a buffer twice as long."""
    if array.ndim == 0:
        return array
    buffer = np.zeros((*array.shape[:-1], 2 * array.shape[-1]), dtype=array.dtype)
    buffer[..., ::2] = array
    view = buffer[..., ::2]
    assert not view.flags.c_contiguous or view.size <= 1
    return view
