"""Max and average pooling in plain NumPy: the formulas, over the k² shifted views.

Every window's elements are the kh·kw views x[:, :, s·i + u, s·j + v] (see
:func:`compgraph.kernels.windows.shifted_views`), so a window's maximum or mean
is an element-wise maximum or sum over those views: k² array operations, no loop
over pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.kernels.windows import output_size, shifted_views

Array = NDArray[Any]


def window_index_dtype(kernel_size: int) -> np.dtype[Any]:
    """The smallest unsigned integer type that numbers the k² positions of a window."""
    return np.dtype(np.uint8 if kernel_size * kernel_size <= 256 else np.uint32)


def _out_hw(shape: tuple[int, ...], kernel_size: int, stride: int) -> tuple[int, int]:
    return output_size(shape[2], kernel_size, stride), output_size(shape[3], kernel_size, stride)


def max_pool2d_forward(x: Array, kernel_size: int, stride: int) -> tuple[Array, Array]:
    """y = the maximum of each k×k window, and the index u·k + v of its first maximum.

    Ties go to the first position in the window (row by row), as in PyTorch; a NaN
    in the first position stays the maximum.
    """
    k = kernel_size
    views = list(shifted_views(x, (k, k), stride, _out_hw(x.shape, k, stride)).values())
    y = views[0].copy(order="K")  # keeps x's memory layout
    argmax = np.zeros(y.shape, window_index_dtype(k))
    for index, view in enumerate(views[1:], start=1):
        beats = view > y
        y[beats] = view[beats]
        argmax[beats] = index
    return y, argmax


def max_pool2d_backward(
    grad_out: Array, argmax: Array, input_shape: tuple[int, ...], kernel_size: int, stride: int
) -> Array:
    """dL/dx = dL/dy at each window's maximum, 0 elsewhere; summed where windows overlap."""
    k = kernel_size
    grad_x = np.zeros(input_shape, grad_out.dtype)
    views = shifted_views(grad_x, (k, k), stride, argmax.shape[2:])
    for index, view in enumerate(views.values()):
        view += np.where(argmax == index, grad_out, 0)
    return grad_x


def avg_pool2d_forward(x: Array, kernel_size: int, stride: int) -> Array:
    """y = (1/k²) Σ over each k×k window."""
    k = kernel_size
    total = sum(shifted_views(x, (k, k), stride, _out_hw(x.shape, k, stride)).values())
    return np.asarray(total * (1.0 / (k * k)), dtype=x.dtype)


def avg_pool2d_backward(
    grad_out: Array, input_shape: tuple[int, ...], kernel_size: int, stride: int
) -> Array:
    """dL/dx = dL/dy / k² on every element of the window; summed where windows overlap."""
    k = kernel_size
    grad_x = np.zeros(input_shape, grad_out.dtype)
    share = grad_out * (1.0 / (k * k))
    for view in shifted_views(grad_x, (k, k), stride, grad_out.shape[2:]).values():
        view += share
    return grad_x
