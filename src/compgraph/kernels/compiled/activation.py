"""ReLU compiled: one pass through memory, in whatever axis order the array is stored.

Measured on a 128×32×26×26 float32 activation (the cnn preset's first
convolution output, channels-last; 2-core VM, 2026-11-29): forward 0.9 ms on one
thread, against 1.9 ms for NumPy's ``maximum(x, 0)``, whose loop against a scalar
is not vectorised; backward 1.4 ms against 1.9 ms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.kernels import reference
from compgraph.kernels.compiled._jit import compilable, compile_kernel, run
from compgraph.kernels.layout import flat_views

Array = NDArray[Any]


# Each kernel slices its chunk first and loops from 0: numba then knows the index is not
# negative, skips its wraparound check and vectorises the loop (0.6 ms against 2.3 ms
# for range(start, stop) over the cnn preset's first activation).


@compile_kernel
def _relu(x: Array, y: Array, start: int, stop: int) -> None:
    x, y = x[start:stop], y[start:stop]
    for i in range(x.size):
        value = x[i]
        y[i] = 0 if value <= 0 else value  # NaN > 0 and NaN <= 0 are both false: NaN stays


@compile_kernel
def _relu_backward(grad_out: Array, y: Array, grad_x: Array, start: int, stop: int) -> None:
    grad_out, y, grad_x = grad_out[start:stop], y[start:stop], grad_x[start:stop]
    for i in range(y.size):
        grad = grad_out[i]
        grad_x[i] = grad if y[i] > 0 else grad * 0  # grad·0, as NumPy's product: inf·0 = NaN


def relu_forward(x: Array) -> Array:
    y = np.empty_like(x)  # x's memory layout
    views = flat_views(x, y) if compilable(x) else None
    if views is None:
        return reference.relu_forward(x)
    run(_relu, x.size, 2 * x.size, *views)
    return y


def relu_backward(grad_out: Array, y: Array) -> Array:
    grad_x = np.empty_like(y)
    if not (compilable(grad_out, y) and grad_out.dtype == y.dtype and grad_out.shape == y.shape):
        return reference.relu_backward(grad_out, y)
    views = flat_views(grad_out, y, grad_x)
    if views is None and flat_views(y, grad_x) is not None:
        # A gradient in another layout than y (NCHW after a Flatten, y channels-last):
        # copied into y's layout first, one pass that keeps the kernel's loop flat.
        grad_x[...] = grad_out
        views = flat_views(grad_x, y, grad_x)
    if views is None:
        return reference.relu_backward(grad_out, y)
    run(_relu_backward, y.size, 3 * y.size, *views)
    return grad_x
