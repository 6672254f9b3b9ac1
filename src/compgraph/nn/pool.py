"""Pooling modules: MaxPool2d and AvgPool2d."""

from __future__ import annotations

from typing import Any

from compgraph.functional import square
from compgraph.nn.module import Module
from compgraph.nodes import pool
from compgraph.tensor import Tensor


class MaxPool2d(Module):
    """y = the maximum of each k×k window (step ``stride``, default k).

    Args:
        kernel_size: k, an int or a pair of equal ints such as (2, 2) (only square
            windows are supported).
        stride: the step between windows, likewise; None (the default) means k.

    The settings are kept as ints, so ``config()`` and checkpoints hold plain numbers.

    Shape: (N, C, H, W) → (N, C, (H − k) // stride + 1, (W − k) // stride + 1).
    """

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ) -> None:
        layer = type(self).__name__
        self.kernel_size = square(layer, "kernel_size", kernel_size)
        self.stride = None if stride is None else square(layer, "stride", stride)

    def forward(self, x: Tensor) -> Tensor:
        return pool.MaxPool2d(self.kernel_size, self.stride)(x)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride}

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}"


class AvgPool2d(MaxPool2d):
    """y = the mean of each k×k window (step ``stride``, default k).

    Args: as :class:`MaxPool2d`.

    Shape: (N, C, H, W) → (N, C, (H − k) // stride + 1, (W − k) // stride + 1).
    """

    def forward(self, x: Tensor) -> Tensor:
        return pool.AvgPool2d(self.kernel_size, self.stride)(x)
