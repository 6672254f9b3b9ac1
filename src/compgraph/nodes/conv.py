"""2-D convolution as im2col plus one matrix product each for y, dL/dW and dL/dx.

Layout: the interface is NCHW, like PyTorch. In memory, the output is
channels-last (NHWC) — an NCHW-shaped view of the matrix product's rows — the
same trick as PyTorch's ``channels_last`` format. Element-wise nodes keep that
layout, so the next convolution gathers its patches as runs of C contiguous
channels, which is what makes im2col fast.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from compgraph.backend import array_module
from compgraph.node import Node

Array = NDArray[Any]

# Below this many channels a patch row is too short to copy efficiently, so the
# patch matrix is stored column-major (one contiguous run per kernel offset).
_COLUMN_MAJOR_BELOW = 8


def as_view(array: Array, shape: tuple[int, ...]) -> Array:
    """``array`` reshaped without copying (setting ``.shape`` raises rather than copy)."""
    view = array.view()
    view.shape = shape
    return view


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


#: Row chunks of :func:`tall_product`, and the largest result it chunks for.
_CHUNK_ROWS, _SMALL_RESULT = 2048, 4096


def tall_product(a: Array, b: Array) -> Array:
    """aᵀ·b for a (R, P) and b (R, Q) with many rows R, e.g. dL/dW = (dL/dy)ᵀ·X.

    When the result is small and R is long (a first convolution: P·Q = 32·10,
    R = 86,528), OpenBLAS runs the product on one core at ~20 GFLOP/s. Cut into
    chunks of rows, as one stacked product whose partial results are summed, it
    runs ~4× faster here. Larger results are left to one product (chunking was
    no faster for the 64×289 result of a second convolution).
    """
    rows, p, q = a.shape[0], a.shape[1], b.shape[1]
    chunks = rows // _CHUNK_ROWS
    if p * q > _SMALL_RESULT or chunks < 4:
        return a.T @ b
    split = chunks * _CHUNK_ROWS
    a_chunks = _row_chunks(a, chunks).transpose(0, 2, 1)  # (chunks, P, rows per chunk)
    result = np.matmul(a_chunks, _row_chunks(b, chunks)).sum(axis=0)
    if split < rows:
        result += a[split:].T @ b[split:]
    return result


def _row_chunks(x: Array, chunks: int) -> Array:
    """The first chunks·_CHUNK_ROWS rows of a 2-D x as (chunks, _CHUNK_ROWS, columns).

    Reshaped through xᵀ, which is a view whether x is stored by rows or by columns
    (a patch matrix with few channels is stored by columns).
    """
    columns = x.shape[1]
    split = x.T[:, : chunks * _CHUNK_ROWS].reshape(columns, chunks, _CHUNK_ROWS)
    return split.transpose(1, 2, 0)


class Conv2d(Node):
    """y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · x[n, c, s·i + u − p, s·j + v − p].

    With the patches of x as the rows of a matrix X (im2col, one row per output
    pixel, columns ordered (u, v, c)) and W as a matrix Wm of shape (O, kh·kw·C):
        y = X · Wmᵀ + b,  dL/dWm = (dL/dy)ᵀ · X,  dL/db = Σ_rows dL/dy,
        dL/dX = dL/dy · Wm, and dL/dx adds each row of dL/dX back onto its patch (col2im).
    y and dL/dWm are one matrix product each; dL/dX is computed in kh·kw column
    blocks, one per kernel offset, each scattered back at once (faster: see backward).
    Saves X (when W or b needs a gradient) and W. The bias rides along as a column of
    ones in X and a column b in Wm, so dL/db is the last column of dL/dWm.

    Args:
        stride: s, the step between patches.
        padding: p, zeros added on every side of the image.

    Inputs: x (N, C, H, W), W (O, C, kh, kw), optional b (O,). Output: (N, O, Ho, Wo).
    """

    def __init__(self, stride: int = 1, padding: int = 0) -> None:
        self.stride, self.padding = stride, padding

    def forward(self, x: Array, weight: Array, bias: Array | None = None) -> Array:
        if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
            raise self.shape_error(
                f"x has shape {x.shape} and W has shape {weight.shape}; expected x (N, C, H, W) "
                f"and W (O, C, kh, kw) with the same C"
            )
        if bias is not None and bias.shape != (weight.shape[0],):
            raise self.shape_error(f"b has shape {bias.shape}, expected ({weight.shape[0]},)")
        n, channels, height, width = x.shape
        out_channels, _, kh, kw = weight.shape
        s, p = self.stride, self.padding
        ho, wo = output_size(height, kh, s, p), output_size(width, kw, s, p)
        if ho < 1 or wo < 1:
            raise self.shape_error(f"a {kh}×{kw} kernel does not fit the {height}×{width} input")
        xp = self._padded_channels_last(x)
        patch_size = kh * kw * channels
        # A column of ones carries the bias through the product: y = [X 1]·[Wm b]ᵀ, and the
        # bias gradient comes out of dL/dWm's last column, saving two passes over y.
        width = patch_size + (bias is not None)
        order = "F" if channels < _COLUMN_MAJOR_BELOW else "C"
        cols = array_module(x).empty((n * ho * wo, width), x.dtype, order=order)
        if bias is not None:
            cols[:, patch_size] = 1
        # im2col through stride tricks: a view of every patch, copied by one assignment
        # into the patch matrix, columns in (u, v, c) order.
        windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::s, ::s]
        patches = as_view(cols[:, :patch_size], (n, ho, wo, kh, kw, channels))
        patches[...] = windows.transpose(0, 1, 2, 4, 5, 3)
        # (O, kh, kw, C) flattened: columns in the (u, v, c) order of the patches
        weight_matrix = weight.transpose(0, 2, 3, 1).reshape(out_channels, patch_size)
        if bias is not None:
            weight_matrix = np.concatenate([weight_matrix, bias[:, np.newaxis]], axis=1)
        self.weight_matrix = weight_matrix
        self.geometry = (x.shape, xp.shape, weight.shape, ho, wo)
        if self.needs_input_grad[1] or (bias is not None and self.needs_input_grad[2]):
            self.cols = cols
        rows = cols @ weight_matrix.T
        return rows.reshape(n, ho, wo, out_channels).transpose(0, 3, 1, 2)

    def _padded_channels_last(self, x: Array) -> Array:
        x_last = x.transpose(0, 2, 3, 1)  # free when x is already channels-last in memory
        p = self.padding
        if p == 0:
            return x_last
        n, height, width, channels = x_last.shape
        padded = array_module(x).zeros((n, height + 2 * p, width + 2 * p, channels), x.dtype)
        padded[:, p : p + height, p : p + width, :] = x_last
        return padded

    def backward(self, grad_out: Array) -> tuple[Array | None, ...]:
        (n, channels, height, width), padded_shape, weight_shape, ho, wo = self.geometry
        out_channels, _, kh, kw = weight_shape
        grad_rows = grad_out.transpose(0, 2, 3, 1).reshape(n * ho * wo, out_channels)
        grad_x = grad_w = None
        if self.needs_input_grad[0]:
            grad_padded = array_module(grad_rows).zeros(padded_shape, grad_rows.dtype)
            s = self.stride
            for u in range(kh):  # col2im, one kernel offset at a time
                for v in range(kw):
                    offset = (u * kw + v) * channels
                    # This offset's columns of dL/dX = dL/dy · Wm, added back onto its pixels
                    # while still in cache: 1.6× faster here than one product for all of
                    # dL/dX followed by the scatter, which reads it back from memory.
                    block = grad_rows @ self.weight_matrix[:, offset : offset + channels]
                    grad_padded[:, u : u + s * ho : s, v : v + s * wo : s, :] += as_view(
                        block, (n, ho, wo, channels)
                    )
            p = self.padding
            grad_last = grad_padded[:, p : p + height, p : p + width, :]
            grad_x = grad_last.transpose(0, 3, 1, 2)
        with_bias = len(self.needs_input_grad) == 3
        grad_b = None
        if self.needs_input_grad[1] or (with_bias and self.needs_input_grad[2]):
            grad_matrix = tall_product(grad_rows, self.cols)  # (O, kh·kw·C [+ 1 for the bias])
            patch_size = kh * kw * channels
            grad_w = grad_matrix[:, :patch_size].reshape(out_channels, kh, kw, channels)
            grad_w = grad_w.transpose(0, 3, 1, 2)
            if with_bias:
                grad_b = grad_matrix[:, patch_size]
        if not with_bias:
            return grad_x, grad_w
        return grad_x, grad_w, grad_b
