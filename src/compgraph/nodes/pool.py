"""2-D max and average pooling over NCHW inputs.

Both are computed from the kh·kw strided views x[:, :, u::s, v::s] — one per
offset (u, v) inside the window. When the window tiles the input this is the
reshape (N, C, Ho, k, Wo, k) seen from the other side; measured here, a NumPy
maximum over two small axes of that reshape is about 50 times slower than k²
element-wise maxima of the strided views, which also keep the input's memory
layout (channels-last after a convolution).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.backend import array_module
from compgraph.node import Node
from compgraph.nodes.conv import output_size
from compgraph.parallel import over_batch

Array = NDArray[Any]


class _Pool2d(Node):
    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def _output_shape(self, x: Array) -> tuple[int, int, int, int]:
        if x.ndim != 4:
            raise self.shape_error(f"expected an (N, C, H, W) input, got shape {x.shape}")
        k, s = self.kernel_size, self.stride
        ho, wo = output_size(x.shape[2], k, s, 0), output_size(x.shape[3], k, s, 0)
        if ho < 1 or wo < 1:
            raise self.shape_error(f"a {k}×{k} window does not fit the input of shape {x.shape}")
        self.input_shape = x.shape
        self.output_hw = (ho, wo)
        self.channels_last = x.transpose(0, 2, 3, 1).flags.c_contiguous
        return (x.shape[0], x.shape[1], ho, wo)

    def _windows(self, x: Array) -> list[Array]:
        """The k² strided views of x (or of its gradient), one per offset in the window."""
        k, s = self.kernel_size, self.stride
        ho, wo = self.output_hw
        return [
            x[:, :, u : u + s * (ho - 1) + 1 : s, v : v + s * (wo - 1) + 1 : s]
            for u in range(k)
            for v in range(k)
        ]

    def _empty(self, like: Array, shape: tuple[int, ...], dtype: Any, zero: bool = False) -> Array:
        """An (N, C, H, W) array in the input's layout (channels-last after a convolution)."""
        n, c, h, w = shape
        make = array_module(like).zeros if zero else array_module(like).empty
        if self.channels_last:
            return make((n, h, w, c), dtype).transpose(0, 3, 1, 2)
        return make((n, c, h, w), dtype)


class MaxPool2d(_Pool2d):
    """y[n, c, i, j] = max over the k×k window at (s·i, s·j) of x[n, c].

    Gradient: dL/dx at the window's maximum = dL/dy (summed where windows
    overlap); 0 elsewhere. On ties the first maximum in the window takes it, as
    in PyTorch. Saves the index of each window's maximum (one byte per output).

    Max-pooling commutes with ReLU: MaxPool2d then ReLU gives the same values
    and gradients as ReLU then MaxPool2d, with the ReLU on 1/k² of the values.

    Args:
        kernel_size: k, the window's side.
        stride: s, the step between windows (default: k, windows that tile).
    """

    def forward(self, x: Array) -> Array:
        shape = self._output_shape(x)
        best = self._empty(x, shape, x.dtype)
        self.argmax = self._empty(x, shape, np.uint8, zero=True)

        def pool(rows: slice) -> None:
            windows = self._windows(x[rows])
            top, argmax = best[rows], self.argmax[rows]
            top[...] = windows[0]
            for index, window in enumerate(windows[1:], start=1):
                beats = window > top
                np.maximum(top, window, out=top)
                # bytes arithmetic: masked copies (np.copyto where=) are ~10× slower
                argmax += beats * (index - argmax)  # index where beats, else unchanged

        over_batch(pool, shape[0])
        return best

    def backward(self, grad_out: Array) -> Array:
        # Windows that tile the input write each element once: no zero fill, no read-add.
        tiles = self.stride == self.kernel_size
        grad_x = self._empty(grad_out, self.input_shape, grad_out.dtype, zero=not tiles)

        def scatter(rows: slice) -> None:
            argmax, grad = self.argmax[rows], grad_out[rows]
            windows = self._windows(grad_x[rows])
            for index, grad_window in enumerate(windows):
                if tiles:
                    np.multiply(grad, argmax == index, out=grad_window)
                else:
                    grad_window += grad * (argmax == index)
            if tiles:  # rows and columns no window reached (the floor in the output size)
                covered_h, covered_w = (size * self.kernel_size for size in argmax.shape[2:])
                grad_x[rows, :, covered_h:, :] = 0
                grad_x[rows, :, :covered_h, covered_w:] = 0

        over_batch(scatter, self.input_shape[0])
        return grad_x


class AvgPool2d(_Pool2d):
    """y[n, c, i, j] = (1/k²) Σ over the k×k window at (s·i, s·j) of x[n, c].

    Gradient: dL/dx = dL/dy / k² on every element of the window (summed where
    windows overlap). Saves x's shape.

    Args:
        kernel_size: k, the window's side.
        stride: s, the step between windows (default: k, windows that tile).
    """

    def forward(self, x: Array) -> Array:
        shape = self._output_shape(x)
        total = self._empty(x, shape, x.dtype, zero=True)
        for window in self._windows(x):
            total += window
        total *= 1.0 / self.kernel_size**2
        return total

    def backward(self, grad_out: Array) -> Array:
        grad_x = self._empty(grad_out, self.input_shape, grad_out.dtype, zero=True)
        share = grad_out * (1.0 / self.kernel_size**2)
        for grad_window in self._windows(grad_x):
            grad_window += share
        return grad_x
