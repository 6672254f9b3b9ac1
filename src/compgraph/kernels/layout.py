"""Memory layouts: which axis is innermost, so that a kernel can walk an array in memory order.

After a convolution, activations are NCHW by shape and NHWC in memory (the
matrix product's rows are pixels, channels innermost, like PyTorch's
``channels_last``). Element-wise kernels stay fast on such arrays by walking them
as one flat run of memory, whatever the order of their axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


def memory_order(array: Array) -> tuple[int, ...] | None:
    """The axes from outermost to innermost in memory, if ``array`` fills its memory densely.

    None for arrays with gaps or repeats (slices with a step, broadcast views).
    """
    if array.flags.c_contiguous:
        return tuple(range(array.ndim))
    axes = tuple(sorted(range(array.ndim), key=lambda axis: -array.strides[axis]))
    return axes if array.transpose(axes).flags.c_contiguous else None


def flat_views(*arrays: Array) -> list[Array] | None:
    """One-dimensional views of same-shaped arrays that share a dense memory order, else None.

    Element i of every view is the same logical element, so an element-wise kernel
    over the views computes the element-wise result, in one pass through memory.
    """
    first = arrays[0]
    if first.flags.c_contiguous:  # the common case, checked first
        for array in arrays:
            if not array.flags.c_contiguous or array.shape != first.shape:
                break
        else:
            return [array.reshape(-1) for array in arrays]
    axes = memory_order(first)
    if axes is None:
        return None
    views = []
    for array in arrays:
        if array.shape != arrays[0].shape:
            return None
        ordered = array.transpose(axes)
        if not ordered.flags.c_contiguous:
            return None
        views.append(ordered.reshape(-1))
    return views


def channels_last(images: Array) -> Array | None:
    """The (N, H, W, C) view of (N, C, H, W) images, if it is C-contiguous (no copy)."""
    view = images.transpose(0, 2, 3, 1)
    return view if view.flags.c_contiguous else None


def empty_channels_last(shape: tuple[int, ...], dtype: Any) -> Array:
    """An uninitialised (N, C, H, W) array laid out as (N, H, W, C) in memory."""
    n, c, h, w = shape
    return np.empty((n, h, w, c), dtype).transpose(0, 3, 1, 2)
