"""2-D convolution as matrix products over the image's patches (im2col)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import kernels
from compgraph.kernels.windows import output_size
from compgraph.node import Node

Array = NDArray[Any]


class Conv2d(Node):
    """y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · x[n, c, s·i + u − p, s·j + v − p].

    Gradient: dL/dWm = (dL/dy)ᵀ · X (its last column is dL/db = Σ_pixels dL/dy),
    dL/dx = col2im(dL/dy · Wm).

    As matrix products: let X hold one row per output pixel (n, i, j) — the
    kh×kw×C patch of x that the kernel meets there (im2col), columns ordered
    (u, v, c), and a last column of ones — and let Wm = [W as an (O, kh·kw·C)
    matrix | b]. Then y = X · Wmᵀ (a row of O channels per output pixel), and
    col2im adds each row of dL/dX = dL/dy · Wm back onto the pixels its patch was
    taken from. Saves X (when W or b needs a gradient) and Wm. Without a bias, X has
    no column of ones and Wm no column b.

    Args:
        stride: s, the step between patches.
        padding: p, zeros added on every side of the image.

    Inputs: x (N, C, H, W), W (O, C, kh, kw), optional b (O,). Output: (N, O, Ho, Wo).
    """

    def __init__(self, stride: int = 1, padding: int = 0) -> None:
        self.stride, self.padding = stride, padding

    def forward(self, x: Array, weight: Array, bias: Array | None = None) -> Array:
        self._check(x, weight, bias)
        n, _, height, width = x.shape
        out_channels, _, kh, kw = weight.shape
        s, p = self.stride, self.padding
        ho, wo = output_size(height, kh, s, p), output_size(width, kw, s, p)
        cols = kernels.im2col(x, (kh, kw), s, p, ones_column=bias is not None)
        # W as (O, kh, kw, C), flattened: columns in the (u, v, c) order of the patches
        weight_matrix = weight.transpose(0, 2, 3, 1).reshape(out_channels, -1)
        if bias is not None:
            weight_matrix = np.concatenate([weight_matrix, bias[:, np.newaxis]], axis=1)
        self.weight_matrix, self.x_shape, self.kernel_hw = weight_matrix, x.shape, (kh, kw)
        if self.needs_input_grad[1] or (bias is not None and self.needs_input_grad[2]):
            self.cols = cols
        rows = cols @ weight_matrix.T  # (N·Ho·Wo, O)
        # The rows are pixels (n, i, j): as (N, O, Ho, Wo) without a copy, so in memory the
        # output is channels-last, which the next convolution's im2col reads fastest.
        return rows.reshape(n, ho, wo, out_channels).transpose(0, 3, 1, 2)

    def backward(self, grad_out: Array) -> tuple[Array | None, ...]:
        (kh, kw), out_channels = self.kernel_hw, self.weight_matrix.shape[0]
        patch_size = kh * kw * self.x_shape[1]
        grad_rows = grad_out.transpose(0, 2, 3, 1).reshape(-1, out_channels)  # dL/dy per pixel
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            grad_cols = grad_rows @ self.weight_matrix[:, :patch_size]  # dL/dX
            grad_x = kernels.col2im(grad_cols, self.x_shape, (kh, kw), self.stride, self.padding)
        with_bias = len(self.needs_input_grad) == 3
        if self.needs_input_grad[1] or (with_bias and self.needs_input_grad[2]):
            grad_matrix = kernels.transpose_matmul(grad_rows, self.cols)  # dL/dWm
            grad_w = grad_matrix[:, :patch_size].reshape(out_channels, kh, kw, -1)
            grad_w = grad_w.transpose(0, 3, 1, 2)  # back to W's (O, C, kh, kw)
            if with_bias:
                grad_b = grad_matrix[:, patch_size]
        return (grad_x, grad_w, grad_b) if with_bias else (grad_x, grad_w)

    def _check(self, x: Array, weight: Array, bias: Array | None) -> None:
        if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
            raise self.shape_error(
                f"x has shape {x.shape} and W has shape {weight.shape}; expected x (N, C, H, W) "
                f"and W (O, C, kh, kw) with the same C"
            )
        if bias is not None and bias.shape != (weight.shape[0],):
            raise self.shape_error(f"b has shape {bias.shape}, expected ({weight.shape[0]},)")
        kh, kw = weight.shape[2:]
        height, width = x.shape[2:]
        s, p = self.stride, self.padding
        if output_size(height, kh, s, p) < 1 or output_size(width, kw, s, p) < 1:
            raise self.shape_error(f"a {kh}×{kw} kernel does not fit the {height}×{width} input")
