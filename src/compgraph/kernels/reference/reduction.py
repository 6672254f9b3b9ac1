"""Sums in NumPy."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

Array = NDArray[Any]


def sum_rows(x: Array) -> Array:
    """Σ_r x[r]: the sum over the first axis (a bias gradient; a total of per-row losses)."""
    return x.sum(axis=0)
