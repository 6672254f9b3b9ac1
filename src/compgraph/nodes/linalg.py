"""Linear algebra: the matrix product and the original notebook's Linear layer node."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import kernels
from compgraph.node import Node

Array = NDArray[Any]


class MatMul(Node):
    """y = a @ b, with NumPy's rules for 1-D operands and broadcast batch axes.

    Gradient: dL/da = dL/dy @ bᵀ, dL/db = aᵀ @ dL/dy (transposing the last two
    axes; batch axes are summed back by the engine). Saves a and b.
    """

    def forward(self, a: Array, b: Array) -> Array:
        if a.ndim == 0 or b.ndim == 0:
            raise self.shape_error(f"needs at least 1-D operands, got {a.shape} @ {b.shape}")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise self.shape_error(
                f"cannot multiply {a.shape} @ {b.shape}: a's last axis ({a.shape[-1]}) must "
                f"equal b's {'only' if b.ndim == 1 else 'second-to-last'} axis ({inner_b})"
            )
        self.a, self.b = a, b
        return np.matmul(a, b)

    def backward(self, grad_out: Array) -> tuple[Array | None, Array | None]:
        # Treat 1-D operands as a row (a) or a column (b), as matmul does.
        a = self.a[np.newaxis, :] if self.a.ndim == 1 else self.a
        b = self.b[:, np.newaxis] if self.b.ndim == 1 else self.b
        grad = grad_out
        if self.b.ndim == 1:  # first: for 1-D @ 1-D, grad_out is 0-D
            grad = np.expand_dims(grad, -1)
        if self.a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = np.matmul(grad, np.swapaxes(b, -1, -2))
            if self.a.ndim == 1:
                grad_a = grad_a[..., 0, :]
        if self.needs_input_grad[1]:
            grad_b = np.matmul(np.swapaxes(a, -1, -2), grad)
            if self.b.ndim == 1:
                grad_b = grad_b[..., 0]
        return grad_a, grad_b


class Linear(Node):
    """y = x·W + b, for x of shape (..., in), W of shape (in, out) and b of shape (out,).

    Gradient: dL/dx = dL/dy · Wᵀ,  dL/dW = xᵀ · dL/dy,  dL/db = Σ_rows dL/dy (the rows
    of x flattened into one batch axis).

    Saves x and W. The bias is optional: ``Linear()(x, W)`` computes x·W.
    """

    def forward(self, x: Array, weight: Array, bias: Array | None = None) -> Array:
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[0]:
            raise self.shape_error(
                f"x has shape {x.shape} and W has shape {weight.shape}; W must be (in, out) "
                f"with in equal to x's last axis{_flatten_hint(x.shape, weight.shape)}"
            )
        if bias is not None and bias.shape != (weight.shape[1],):
            raise self.shape_error(
                f"b has shape {bias.shape} but W has shape {weight.shape}; b must be "
                f"({weight.shape[1]},)"
            )
        self.x, self.weight = x, weight
        y = x @ weight
        if bias is not None:
            # In place saves a buffer, unless b's dtype is wider than the product's.
            y = y.__iadd__(bias) if bias.dtype == y.dtype else y + bias
        return y

    def backward(self, grad_out: Array) -> tuple[Array | None, ...]:
        grad_x = grad_out @ self.weight.T if self.needs_input_grad[0] else None
        grad_rows = grad_out.reshape(-1, grad_out.shape[-1])
        grad_w = None
        if self.needs_input_grad[1]:
            grad_w = self.x.reshape(-1, self.x.shape[-1]).T @ grad_rows
        if len(self.needs_input_grad) == 2:
            return grad_x, grad_w
        grad_b = kernels.sum_rows(grad_rows) if self.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def _flatten_hint(x_shape: tuple[int, ...], weight_shape: tuple[int, ...]) -> str:
    """For images (N, C, H, W) whose C·H·W equals W's rows: say to flatten them."""
    if len(x_shape) < 3 or len(weight_shape) != 2 or math.prod(x_shape[1:]) != weight_shape[0]:
        return ""
    return "; flatten the images first (nn.Flatten() or x.reshape(len(x), -1))"
