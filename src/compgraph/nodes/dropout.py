"""Dropout as nodes: multiply by a fixed random mask (per element, or per channel), scaled
to keep the expectation."""

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


class Dropout2d(Node):
    """y[n, c, …] = x[n, c, …] · m[n, c]: each channel of each sample kept whole
    (m = 1/(1 − p)) or dropped whole (m = 0).

    Gradient: dL/dx[n, c, …] = dL/dy[n, c, …] · m[n, c]. Saves nothing beyond the mask.

    As :class:`Dropout`, the mask is a setting, drawn by :class:`compgraph.nn.Dropout2d`
    for each call, so the node is deterministic.

    Args:
        scaled_mask: the array m, of shape (N, C) for x of shape (N, C, …).
    """

    def __init__(self, scaled_mask: Array) -> None:
        self.scaled_mask = scaled_mask

    def forward(self, x: Array) -> Array:
        if x.ndim < 2 or self.scaled_mask.shape != x.shape[:2]:
            raise self.shape_error(
                f"x has shape {x.shape} and the mask {self.scaled_mask.shape}; expected a "
                "mask of shape (N, C) for x of shape (N, C, …)"
            )
        self.channel_mask = self.scaled_mask.reshape(x.shape[:2] + (1,) * (x.ndim - 2))
        return x * self.channel_mask

    def backward(self, grad_out: Array) -> Array:
        return grad_out * self.channel_mask
