"""Shape operations: Reshape, Transpose and GetItem (indexing)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.node import Node

Array = NDArray[Any]


class Reshape(Node):
    """y = x with a new shape (same elements, same order).

    Gradient: dL/dx = dL/dy reshaped to x's shape. Saves x's shape.

    Args:
        shape: the new shape; one entry may be -1.
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x: Array) -> Array:
        self.input_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, grad_out: Array) -> Array:
        return grad_out.reshape(self.input_shape)


class Transpose(Node):
    """y = x with its axes permuted (reversed when ``axes`` is None).

    Gradient: dL/dx = dL/dy permuted by the inverse permutation. Saves nothing.

    Args:
        axes: a permutation of x's axes, or None.
    """

    def __init__(self, axes: tuple[int, ...] | None = None) -> None:
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x: Array) -> Array:
        return np.transpose(x, self.axes)

    def backward(self, grad_out: Array) -> Array:
        if self.axes is None:
            return np.transpose(grad_out)
        return np.transpose(grad_out, np.argsort(self.axes))


def _is_basic_index(index: Any) -> bool:
    """True when ``x[index]`` selects every element at most once (ints, slices, masks)."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if part is None or part is Ellipsis or isinstance(part, (int, np.integer, slice)):
            continue
        if isinstance(part, np.ndarray) and part.dtype == bool:
            continue
        return False
    return True


class GetItem(Node):
    """y = x[index], NumPy's basic and integer-array indexing.

    Gradient: dL/dx = zeros of x's shape with dL/dy scattered to the selected
    positions; positions selected more than once receive the sum.
    Saves x's shape and dtype.

    Args:
        index: anything NumPy accepts between the brackets.
    """

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: Array) -> Array:
        self.input_shape, self.input_dtype = x.shape, x.dtype
        return np.asarray(x[self.index])

    def backward(self, grad_out: Array) -> Array:
        grad_x = np.zeros(self.input_shape, dtype=self.input_dtype)
        if _is_basic_index(self.index):
            grad_x[self.index] = grad_out
        else:  # integer arrays may repeat a position: add.at sums instead of overwriting
            np.add.at(grad_x, self.index, grad_out)
        return grad_x
