"""BatchNorm1d and BatchNorm2d: batch statistics in training, running statistics in eval."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from compgraph.functional import check_dtype
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.node import apply
from compgraph.nodes.normalization import BatchNorm
from compgraph.tensor import Tensor


class BatchNorm2d(Module):
    """y = γ · (x − μ) / √(σ² + ε) + β per channel.

    In training, μ and σ² are the batch's (over N, H, W), and the running
    estimates move towards them: r ← (1 − momentum)·r + momentum·batch (the
    running variance uses the unbiased batch variance, as in PyTorch). In eval,
    the running estimates are used. Both running arrays are in ``state_dict``.

    Args:
        num_features: C.
        eps: ε.
        momentum: weight of the newest batch in the running estimates.
        dtype: dtype of γ, β and the running estimates (float64 data into float32 ones
            raises a TypeError, see ``functional.check_dtype``).

    Shape: (N, C, H, W) → same (BatchNorm1d: (N, C) → same).

    Attributes:
        weight: γ, ones. bias: β, zeros. running_mean: zeros. running_var: ones.
    """

    expected_ndim = 4
    running_mean: NDArray[Any]
    running_var: NDArray[Any]

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        dtype: DTypeLike = np.float32,
    ) -> None:
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        shape = self.state_shapes(num_features)["weight"]
        self.weight = Parameter(np.ones(shape, dtype=dtype))
        self.bias = Parameter(np.zeros(shape, dtype=dtype))
        self.register_buffer("running_mean", np.zeros(shape, dtype=dtype))
        self.register_buffer("running_var", np.ones(shape, dtype=dtype))

    @classmethod
    def state_shapes(  # type: ignore[override]
        cls, num_features: int, **_: Any
    ) -> dict[str, tuple[int, ...]]:
        names = ("weight", "bias", "running_mean", "running_var")
        return dict.fromkeys(names, (num_features,))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != self.expected_ndim:
            raise ValueError(
                f"{type(self).__name__} expects {self.expected_ndim}-D input, got shape {x.shape}"
            )
        if getattr(x, "dtype", None) != self.weight.dtype:
            check_dtype(type(self).__name__, x, self.weight)
        if not self.training:
            node = BatchNorm(self.eps, self.running_mean, self.running_var)
            return node(x, self.weight, self.bias)
        node = BatchNorm(self.eps)
        y = apply(node, (x, self.weight, self.bias), fresh=True)  # node itself keeps the stats
        count = x.size // self.num_features
        unbiased = node.batch_var * (count / max(count - 1, 1))
        self.running_mean *= 1 - self.momentum
        self.running_mean += self.momentum * node.batch_mean
        self.running_var *= 1 - self.momentum
        self.running_var += self.momentum * unbiased
        return y

    def config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "dtype": np.dtype(self.weight.dtype).name,
        }

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(BatchNorm2d):
    """BatchNorm2d's computation for (N, C) inputs: statistics over the batch axis."""

    expected_ndim = 2
