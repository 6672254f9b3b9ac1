"""The convolution's patch matrix (im2col), its scatter back (col2im), and aᵀ·b, in NumPy.

Patch rows are ordered (n, i, j) — one row per output pixel — and their columns
(u, v, c): kernel row, kernel column, input channel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from compgraph.kernels.windows import output_size, shifted_views

Array = NDArray[Any]


def im2col(
    x: Array, kernel: tuple[int, int], stride: int, padding: int, ones_column: bool
) -> Array:
    """X: one row per output pixel, holding the kh×kw×C patch of x that the kernel meets there.

    Args:
        x: images (N, C, H, W).
        kernel: (kh, kw).
        stride, padding: the convolution's.
        ones_column: append a column of ones (it carries the bias through X·Wmᵀ).

    Returns:
        (N·Ho·Wo, kh·kw·C [+ 1]) in x's dtype.
    """
    n, _, height, width = x.shape
    (kh, kw), p = kernel, padding
    ho, wo = output_size(height, kh, stride, p), output_size(width, kw, stride, p)
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    # (N, C, Ho, Wo, kh, kw) → rows (n, i, j), columns (u, v, c)
    patches = windows[:, :, :ho, :wo].transpose(0, 2, 3, 4, 5, 1).reshape(n * ho * wo, -1)
    if ones_column:
        patches = np.concatenate([patches, np.ones((len(patches), 1), x.dtype)], axis=1)
    return patches


def col2im(
    grad_cols: Array,
    input_shape: tuple[int, ...],
    kernel: tuple[int, int],
    stride: int,
    padding: int,
) -> Array:
    """dL/dx from dL/dX: each patch row's gradient added back onto the pixels it came from.

    ``grad_cols`` is (N·Ho·Wo, kh·kw·C), ordered as :func:`im2col`'s patches; pixels
    shared by several patches receive the sum.
    """
    n, channels, height, width = input_shape
    (kh, kw), p = kernel, padding
    ho, wo = output_size(height, kh, stride, p), output_size(width, kw, stride, p)
    patches = grad_cols.reshape(n, ho, wo, kh, kw, channels)
    grad_padded = np.zeros((n, channels, height + 2 * p, width + 2 * p), grad_cols.dtype)
    for (u, v), view in shifted_views(grad_padded, (kh, kw), stride, (ho, wo)).items():
        view += patches[:, :, :, u, v, :].transpose(0, 3, 1, 2)
    return grad_padded[:, :, p : p + height, p : p + width]


def transpose_matmul(a: Array, b: Array) -> Array:
    """aᵀ·b for a (R, P) and b (R, Q): a sum over the R rows, e.g. dL/dW = (dL/dy)ᵀ·X."""
    return a.T @ b
