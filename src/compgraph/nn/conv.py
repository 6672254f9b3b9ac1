"""nn.Conv2d: a learnable 2-D convolution over NCHW images."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from compgraph.nn import init
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.nodes.conv import Conv2d as Conv2dNode
from compgraph.tensor import Tensor


class Conv2d(Module):
    """y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c]: a bank of learnable 2-D filters.

    Args:
        in_channels: C, channels of the input.
        out_channels: O, number of filters.
        kernel_size: k, the filters' side (square k×k).
        stride: the step between positions.
        padding: zeros added on each side.
        bias: whether to add a learnable b per filter.
        dtype: dtype of the parameters.
        rng: a ``numpy.random.Generator`` or a seed for the initialisation.

    Shape:
        input (N, C, H, W) → output (N, O, Ho, Wo), Ho = (H + 2·padding − k) // stride + 1.

    Attributes:
        weight: W of shape (O, C, k, k), PyTorch's layout; Kaiming-uniform (for ReLU).
        bias: b of shape (O,), U(−1/√fan_in, 1/√fan_in) as in PyTorch.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> conv = cg.nn.Conv2d(1, 32, 3, rng=0)
        >>> conv(cg.tensor(np.zeros((8, 1, 28, 28), np.float32))).shape
        (8, 32, 26, 26)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        shapes = self.state_shapes(in_channels, out_channels, kernel_size, bias=bias)
        self.weight = Parameter(np.empty(shapes["weight"], dtype=dtype))
        self.bias = Parameter(np.empty(shapes["bias"], dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    @classmethod
    def state_shapes(  # type: ignore[override]
        cls, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True, **_: Any
    ) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {
            "weight": (out_channels, in_channels, kernel_size, kernel_size)
        }
        return {**shapes, "bias": (out_channels,)} if bias else shapes

    def reset_parameters(self, rng: np.random.Generator | int | None = None) -> None:
        generator = np.random.default_rng(rng)
        init.kaiming_uniform_(self.weight, generator)
        if self.bias is not None:
            bound = 1.0 / np.sqrt(init.fans(self.weight.shape)[0])
            init.uniform_(self.bias, generator, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        node = Conv2dNode(self.stride, self.padding)
        if self.bias is None:
            return node(x, self.weight)
        return node(x, self.weight, self.bias)

    def config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "bias": self.bias is not None,
            "dtype": np.dtype(self.weight.dtype).name,
        }

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )
