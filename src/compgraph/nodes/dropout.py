"""Dropout as a node: multiply by a fixed random mask, scaled to keep the expectation."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from compgraph.node import Node

Array = NDArray[Any]


class Dropout(Node):
    """y = x · m, where m holds 0 (dropped) or 1/(1 − p) (kept) for each element.

    Gradient: dL/dx = dL/dy · m. Saves nothing beyond the mask it was given.

    The mask is a setting, drawn by :class:`compgraph.nn.Dropout` for each
    call, so the node itself is deterministic (and can be gradchecked).

    Args:
        scaled_mask: the array m, of x's shape (or broadcastable to it) and dtype.
    """

    def __init__(self, scaled_mask: Array) -> None:
        self.scaled_mask = scaled_mask

    def forward(self, x: Array) -> Array:
        return x * self.scaled_mask

    def backward(self, grad_out: Array) -> Array:
        return grad_out * self.scaled_mask
