"""LayerNorm: each sample standardised over its last axes, then scaled and shifted."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from compgraph.nn import init
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.nodes.normalization import LayerNorm as LayerNormNode
from compgraph.tensor import Tensor


class LayerNorm(Module):
    """y = γ · (x − μ) / √(σ² + ε) + β, μ and σ² each sample's mean and (biased) variance
    over the last ``len(normalized_shape)`` axes.

    As PyTorch's ``nn.LayerNorm``: the statistics are each sample's own, so there are no
    running estimates and training and evaluation compute the same thing.

    Args:
        normalized_shape: the shape of the last axes to normalise over (an int: the last).
        eps: ε.
        elementwise_affine: whether to learn γ and β (else y = x̂).
        bias: whether to learn β (with ``elementwise_affine``).
        dtype: dtype of γ and β.

    Shape: (…, *normalized_shape) → same.

    Attributes:
        weight: γ of shape ``normalized_shape``, ones (None without elementwise_affine).
        bias: β of shape ``normalized_shape``, zeros (None without it, or with bias=False).

    Example:
        >>> import numpy as np, compgraph as cg
        >>> norm = cg.nn.LayerNorm(4)
        >>> y = norm(cg.tensor(np.arange(8.0).reshape(2, 4)))
        >>> np.round(y.data.mean(axis=-1), 6).tolist()
        [0.0, 0.0]
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        shapes = self.state_shapes(self.normalized_shape, elementwise_affine, bias)
        if "weight" in shapes:
            self.weight = Parameter(np.empty(shapes["weight"], dtype=dtype))
        if "bias" in shapes:
            self.bias = Parameter(np.empty(shapes["bias"], dtype=dtype))
        self.reset_parameters()
        self.node = LayerNormNode(self.normalized_shape, eps)

    @classmethod
    def state_shapes(  # type: ignore[override]
        cls,
        normalized_shape: int | tuple[int, ...] | list[int],
        elementwise_affine: bool = True,
        bias: bool = True,
        **_: Any,
    ) -> dict[str, tuple[int, ...]]:
        if not elementwise_affine:
            return {}
        shape = _as_shape(normalized_shape)
        return {"weight": shape, "bias": shape} if bias else {"weight": shape}

    def reset_parameters(self) -> None:
        """γ = 1, β = 0, as in PyTorch."""
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        affine = [p for p in (self.weight, self.bias) if p is not None]
        return self.node(x, *affine)

    def config(self) -> dict[str, Any]:
        return {
            "normalized_shape": list(self.normalized_shape),
            "eps": self.eps,
            "elementwise_affine": self.elementwise_affine,
            "bias": self.bias is not None or not self.elementwise_affine,
            "dtype": np.dtype(self.weight.dtype if self.weight is not None else "float32").name,
        }

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


def _as_shape(normalized_shape: int | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(size) for size in normalized_shape)
