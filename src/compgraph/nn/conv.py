"""nn.Conv2d: a learnable 2-D convolution over NCHW images."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from compgraph.functional import check_dtype, conv_padding, pair, square
from compgraph.nn import init
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.nodes.conv import Conv2d as Conv2dNode
from compgraph.random import generator as get_generator
from compgraph.tensor import Tensor


class Conv2d(Module):
    """y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c]: a bank of learnable 2-D filters.

    Args:
        in_channels: C, channels of the input.
        out_channels: O, number of filters.
        kernel_size: the filters' size: an int k (k×k) or a pair (kh, kw).
        stride: the step between positions: an int, or a pair of equal ints.
        padding: zeros added on every side: an int, a pair of equal ints, ``"valid"``
            (0) or ``"same"`` (output size = input size: stride 1 and an odd square
            kernel; compgraph pads every side equally, so an even kernel is refused).
        bias: whether to add a learnable b per filter.
        init: ``"default"``: PyTorch's, U(−k, k) with k = 1/√fan_in for W and b,
            fan_in = C·kh·kw; ``"kaiming"``: He-uniform W for ReLU, U(−b, b) with
            b = √(6 / fan_in), and b as in ``"default"``.
        dtype: dtype of the parameters. Float64 data into a float32 layer raises a
            TypeError saying how to convert it; see ``functional.check_dtype``.
        rng: a ``numpy.random.Generator`` or a seed for the initialisation; None draws
            from the global generator (``compgraph.manual_seed``).

    The settings are kept as ints (``padding="same"`` becomes the number of zeros), so
    ``config()`` and checkpoints hold plain numbers.

    Shape:
        input (N, C, H, W) → output (N, O, Ho, Wo), Ho = (H + 2·padding − kh) // stride + 1.

    Attributes:
        weight: W of shape (O, C, kh, kw), PyTorch's layout; initialised as ``init`` says.
        bias: b of shape (O,), U(−1/√fan_in, 1/√fan_in) as in PyTorch.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> conv = cg.nn.Conv2d(1, 32, 3, padding="same", rng=0)
        >>> conv(cg.tensor(np.zeros((8, 1, 28, 28), np.float32))).shape
        (8, 32, 28, 28)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        bias: bool = True,
        init: str = "default",
        dtype: DTypeLike = np.float32,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        if init not in INITIALISATIONS:
            raise ValueError(f"Conv2d: unknown init {init!r}; choose from {INITIALISATIONS}")
        kernel = pair("Conv2d", "kernel_size", kernel_size)
        self.in_channels, self.out_channels, self.init = in_channels, out_channels, init
        self.kernel_size: int | tuple[int, int] = kernel[0] if kernel[0] == kernel[1] else kernel
        self.stride = square("Conv2d", "stride", stride)
        self.padding = conv_padding("Conv2d", padding, kernel, self.stride)
        shapes = self.state_shapes(in_channels, out_channels, kernel, bias=bias)
        self.weight = Parameter(np.empty(shapes["weight"], dtype=dtype))
        self.bias = Parameter(np.empty(shapes["bias"], dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    @classmethod
    def state_shapes(  # type: ignore[override]
        cls,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] | list[int],
        bias: bool = True,
        **_: Any,
    ) -> dict[str, tuple[int, ...]]:
        kh, kw = pair("Conv2d", "kernel_size", kernel_size)
        shapes: dict[str, tuple[int, ...]] = {"weight": (out_channels, in_channels, kh, kw)}
        return {**shapes, "bias": (out_channels,)} if bias else shapes

    def reset_parameters(self, rng: np.random.Generator | int | None = None) -> None:
        generator = get_generator(rng)  # rng=None: the global one (manual_seed)
        fan_in = init.fans(self.weight.shape)[0]
        if self.init == "kaiming":
            init.kaiming_uniform_(self.weight, generator)
        else:
            init.pytorch_default_(self.weight, generator, fan_in)
        if self.bias is not None:
            init.pytorch_default_(self.bias, generator, fan_in)

    def forward(self, x: Tensor) -> Tensor:
        node = Conv2dNode(self.stride, self.padding)
        y = node(x, self.weight) if self.bias is None else node(x, self.weight, self.bias)
        # After the node, so that a shape error (the more basic mistake) is reported first;
        # NumPy promotes float32 weights and float64 data to float64: refuse that here.
        if y.dtype != self.weight.dtype:
            check_dtype(type(self).__name__, x, self.weight)
        return y

    def config(self) -> dict[str, Any]:
        kernel = self.kernel_size
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": kernel if isinstance(kernel, int) else list(kernel),
            "stride": self.stride,
            "padding": self.padding,
            "bias": self.bias is not None,
            "init": self.init,
            "dtype": np.dtype(self.weight.dtype).name,
        }

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )


INITIALISATIONS = ("default", "kaiming")
