"""2-D max and average pooling over NCHW inputs."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from compgraph import kernels
from compgraph.kernels.windows import output_size
from compgraph.node import Node

Array = NDArray[Any]


class _Pool2d(Node):
    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def _check(self, x: Array) -> None:
        if x.ndim != 4:
            raise self.shape_error(f"expected an (N, C, H, W) input, got shape {x.shape}")
        k, s = self.kernel_size, self.stride
        if output_size(x.shape[2], k, s) < 1 or output_size(x.shape[3], k, s) < 1:
            raise self.shape_error(f"a {k}×{k} window does not fit the input of shape {x.shape}")
        self.input_shape = x.shape


class MaxPool2d(_Pool2d):
    """y[n, c, i, j] = max over the k×k window at (s·i, s·j) of x[n, c].

    Gradient: dL/dx at the window's maximum = dL/dy (summed where windows
    overlap); 0 elsewhere. On ties the first maximum in the window takes it, as
    in PyTorch. Saves the position of each window's maximum (one byte per output).

    Max-pooling commutes with ReLU: MaxPool2d then ReLU gives the same values
    and gradients as ReLU then MaxPool2d, with the ReLU on 1/k² of the values.

    Args:
        kernel_size: k, the window's side.
        stride: s, the step between windows (default: k, windows that tile).
    """

    def forward(self, x: Array) -> Array:
        self._check(x)
        y, self.argmax = kernels.max_pool2d_forward(x, self.kernel_size, self.stride)
        return y

    def backward(self, grad_out: Array) -> Array:
        return kernels.max_pool2d_backward(
            grad_out, self.argmax, self.input_shape, self.kernel_size, self.stride
        )


class AvgPool2d(_Pool2d):
    """y[n, c, i, j] = (1/k²) Σ over the k×k window at (s·i, s·j) of x[n, c].

    Gradient: dL/dx = dL/dy / k² on every element of the window (summed where
    windows overlap). Saves x's shape.

    Args:
        kernel_size: k, the window's side.
        stride: s, the step between windows (default: k, windows that tile).
    """

    def forward(self, x: Array) -> Array:
        self._check(x)
        return kernels.avg_pool2d_forward(x, self.kernel_size, self.stride)

    def backward(self, grad_out: Array) -> Array:
        return kernels.avg_pool2d_backward(
            grad_out, self.input_shape, self.kernel_size, self.stride
        )
