"""Joining and choosing: Concat and Stack (``cg.cat``, ``cg.stack``) and Where (``cg.where``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.node import Node

Array = NDArray[Any]


class Concat(Node):
    """y = [x_1, x_2, …, x_n], the inputs joined end to end along ``axis``.

    Gradient: dL/dx_k = the slice of dL/dy that x_k filled. Saves where each
    input ends along the axis.

    Args:
        axis: the axis to join along; every other axis must match.
    """

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs: Array) -> Array:
        if any(x.ndim == 0 for x in xs):
            raise self.shape_error("cannot join 0-d inputs end to end; use cg.stack")
        self.ends = np.cumsum([x.shape[self.axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        return tuple(np.split(grad_out, self.ends, axis=self.axis))


class Stack(Node):
    """y[…, k, …] = x_k: the inputs, all of one shape, stacked along a new ``axis``.

    Gradient: dL/dx_k = dL/dy[…, k, …], the k-th entry along the new axis. Saves nothing.

    Args:
        axis: where the new axis goes in y.
    """

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs: Array) -> Array:
        return np.stack(xs, axis=self.axis)

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        return tuple(np.moveaxis(grad_out, self.axis, 0))


class Where(Node):
    """y = a where the condition holds, else b (element-wise, broadcast together).

    Gradient: dL/da = dL/dy where the condition holds, else 0; dL/db = dL/dy where
    it does not, else 0. The condition is a setting, not an input: nothing flows
    to it. Saves nothing beyond it.

    Args:
        condition: a boolean array.
    """

    def __init__(self, condition: Array) -> None:
        self.condition = np.asarray(condition, dtype=bool)

    def forward(self, a: Array, b: Array) -> Array:
        return np.asarray(np.where(self.condition, a, b))

    def backward(self, grad_out: Array) -> tuple[Array | None, Array | None]:
        grad_a = np.where(self.condition, grad_out, 0) if self.needs_input_grad[0] else None
        grad_b = np.where(self.condition, 0, grad_out) if self.needs_input_grad[1] else None
        return grad_a, grad_b
