"""The convolution's patch gather and scatter, and aᵀ·b over chunks of rows: the fast path.

Patch rows are ordered (n, i, j) and their columns (u, v, c), as in
:mod:`compgraph.kernels.reference.conv`; the images are read and written as
(N, H, W, C), so a patch row is kh·kw runs of C contiguous channels when the images
are channels-last (every activation after a convolution is).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from compgraph.kernels import reference
from compgraph.kernels.compiled._jit import compilable, compile_kernel, run
from compgraph.kernels.windows import output_size

Array = NDArray[Any]

#: Below this many channels a patch row is too short to copy efficiently, so the
#: patch matrix is stored column-major (one long contiguous run per kernel offset).
COLUMN_MAJOR_BELOW = 8


def im2col(
    x: Array, kernel: tuple[int, int], stride: int, padding: int, ones_column: bool
) -> Array:
    """The patch matrix by one NumPy assignment from a sliding-window view of x.

    Not compiled: the copy already runs at memory speed. Measured for the cnn
    preset's layers (2-core VM, 2026-11-29): 0.29 ms for the first (C = 1, the
    matrix column-major) and 1.0 ms for the second (C = 32), against 2.8 and 1.1 ms
    for a numba loop writing row by row.
    """
    n, channels, height, width = x.shape
    (kh, kw), p = kernel, padding
    ho, wo = output_size(height, kh, stride, p), output_size(width, kw, stride, p)
    x_last = x.transpose(0, 2, 3, 1)  # free when x is channels-last in memory
    if p:
        padded = np.zeros((n, height + 2 * p, width + 2 * p, channels), x.dtype)
        padded[:, p : p + height, p : p + width, :] = x_last
        x_last = padded
    patch_size = kh * kw * channels
    shape = (n * ho * wo, patch_size + ones_column)
    cols = np.empty(shape, x.dtype, order="F" if channels < COLUMN_MAJOR_BELOW else "C")
    if ones_column:
        cols[:, patch_size] = 1
    windows = sliding_window_view(x_last, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    patches = cols[:, :patch_size].view()
    patches.shape = (n, ho, wo, kh, kw, channels)  # raises rather than copy
    patches[...] = windows[:, :ho, :wo].transpose(0, 1, 2, 4, 5, 3)
    return cols


@compile_kernel
def _col2im(
    grad_cols: Array, kh: int, kw: int, s: int, p: int, grad_x: Array, start: int, stop: int
) -> None:
    _, height, width, channels = grad_x.shape
    ho, wo = (height + 2 * p - kh) // s + 1, (width + 2 * p - kw) // s + 1
    # This chunk's images and their patch rows, indexed from 0 (see compiled/pool.py).
    grad_cols, grad_x = grad_cols[start * ho * wo : stop * ho * wo], grad_x[start:stop]
    grad_x[...] = 0
    for image in range(grad_x.shape[0]):
        for i in range(ho):
            for j in range(wo):
                row = grad_cols[(image * ho + i) * wo + j]
                for u in range(kh):
                    h = i * s + u - p
                    for v in range(kw):
                        w = j * s + v - p
                        if 0 <= h < height and 0 <= w < width:
                            out, column = grad_x[image, h, w], (u * kw + v) * channels
                            for c in range(channels):
                                out[c] += row[column + c]


def col2im(
    grad_cols: Array,
    input_shape: tuple[int, ...],
    kernel: tuple[int, int],
    stride: int,
    padding: int,
) -> Array:
    """dL/dx by one compiled pass over dL/dX, adding each patch back onto its pixels.

    Measured for the cnn preset's second convolution (15,488 × 288 float32; 2-core
    VM, 2026-11-29): 3.1 ms on one thread. Together with one product for all of
    dL/dX it replaces kh·kw products and NumPy scatters, one per kernel offset.
    """
    if not compilable(grad_cols):
        return reference.col2im(grad_cols, input_shape, kernel, stride, padding)
    n, channels, height, width = input_shape
    grad_x = np.empty((n, height, width, channels), grad_cols.dtype)  # channels-last
    run(_col2im, n, 2 * grad_cols.size, grad_cols, *kernel, stride, padding, grad_x)
    return grad_x.transpose(0, 3, 1, 2)


#: Row chunks of :func:`transpose_matmul`, and the largest result it chunks for.
CHUNK_ROWS, SMALL_RESULT = 2048, 4096


def transpose_matmul(a: Array, b: Array) -> Array:
    """aᵀ·b for a (R, P) and b (R, Q) with many rows R, e.g. dL/dW = (dL/dy)ᵀ·X.

    When the result is small and R long (a first convolution: P·Q = 32·10, R =
    86,528), OpenBLAS runs the product on one core at ~20 GFLOP/s. Cut into chunks
    of rows, as one stacked product whose partial results are summed, it ran ~4×
    faster (2.1 → 0.5 ms per step, 2026-11-26). Larger results are left to one
    product (chunking was no faster for the 64×289 result of a second convolution).
    """
    rows, p, q = a.shape[0], a.shape[1], b.shape[1]
    chunks = rows // CHUNK_ROWS
    if p * q > SMALL_RESULT or chunks < 4:
        return a.T @ b
    split = chunks * CHUNK_ROWS
    a_chunks = _row_chunks(a, chunks).transpose(0, 2, 1)  # (chunks, P, rows per chunk)
    result = np.matmul(a_chunks, _row_chunks(b, chunks)).sum(axis=0)
    if split < rows:
        result += a[split:].T @ b[split:]
    return result


def _row_chunks(x: Array, chunks: int) -> Array:
    """The first chunks·CHUNK_ROWS rows of a 2-D x as (chunks, CHUNK_ROWS, columns).

    Reshaped through xᵀ, which is a view whether x is stored by rows or by columns.
    """
    columns = x.shape[1]
    split = x.T[:, : chunks * CHUNK_ROWS].reshape(columns, chunks, CHUNK_ROWS)
    return split.transpose(1, 2, 0)
