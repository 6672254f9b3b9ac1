"""nn.Linear: the seed's Linear layer as a module with its own parameters."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.nodes.linalg import Linear as LinearNode
from compgraph.tensor import Tensor


class Linear(Module):
    """y = x·W + b: a fully connected layer.

    Args:
        in_features: size of each input row.
        out_features: size of each output row.
        bias: whether to add the learnable bias b.
        dtype: dtype of the parameters (float32 for training; gradcheck casts to float64).
        rng: a ``numpy.random.Generator`` or a seed for the initialisation.

    Shape:
        input (..., in_features) → output (..., out_features).

    Attributes:
        weight: W of shape (in_features, out_features) — the seed's layout, so that
            y = x·W reads as written (PyTorch stores the transpose).
        bias: b of shape (out_features,).
        Both start as U(−k, k) with k = 1/√in_features, PyTorch's default.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> layer = cg.nn.Linear(6, 4, rng=0)
        >>> layer(cg.tensor(np.ones((5, 6), np.float32))).shape
        (5, 4)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((in_features, out_features), dtype=dtype))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng: np.random.Generator | int | None = None) -> None:
        generator = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(self.in_features)
        self.weight.data[...] = generator.uniform(-bound, bound, self.weight.shape)
        if self.bias is not None:
            self.bias.data[...] = generator.uniform(-bound, bound, self.bias.shape)

    def forward(self, x: Tensor) -> Tensor:
        node = _LINEAR
        if self.bias is None:
            return node(x, self.weight)
        return node(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        has_bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={has_bias}"


_LINEAR = LinearNode()  # stateless template: each call works on its own copy
