"""Activation modules: each applies one node from compgraph.nodes.activation."""

from __future__ import annotations

from typing import Any

from compgraph.nn.module import Module
from compgraph.nodes import activation
from compgraph.tensor import Tensor


class Sigmoid(Module):
    """y = 1 / (1 + e^(−x)), element-wise. Shape: any → same."""

    def forward(self, x: Tensor) -> Tensor:
        return activation.Sigmoid()(x)

    def config(self) -> dict[str, Any]:
        return {}


class ReLU(Module):
    """y = max(x, 0), element-wise. Shape: any → same."""

    def forward(self, x: Tensor) -> Tensor:
        return activation.ReLU()(x)

    def config(self) -> dict[str, Any]:
        return {}


class Tanh(Module):
    """y = tanh x, element-wise. Shape: any → same."""

    def forward(self, x: Tensor) -> Tensor:
        return activation.Tanh()(x)

    def config(self) -> dict[str, Any]:
        return {}


class Softmax(Module):
    """y_j = e^(x_j) / Σ_i e^(x_i) along ``axis``. Shape: any → same.

    Args:
        axis: the axis whose entries sum to one (default: the last).
    """

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        return activation.Softmax(self.axis)(x)

    def config(self) -> dict[str, Any]:
        return {"axis": self.axis}

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """y_j = x_j − log Σ_i e^(x_i) along ``axis``. Shape: any → same.

    Args:
        axis: the axis to normalise over (default: the last).
    """

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        return activation.LogSoftmax(self.axis)(x)

    def config(self) -> dict[str, Any]:
        return {"axis": self.axis}

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class GELU(Module):
    """y = x · Φ(x), Φ the standard normal CDF (``approximate="tanh"``:
    y = ½ · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))). Shape: any → same.

    As PyTorch's ``nn.GELU``; the exact form agrees with ``torch.nn.functional.gelu`` to
    float64's precision (NumPy has no erf: :func:`compgraph.nodes.activation.erf`
    computes it).

    Args:
        approximate: ``"none"`` (exact, the default) or ``"tanh"``.
    """

    def __init__(self, approximate: str = "none") -> None:
        self.node = activation.GELU(approximate)  # checks the name once, here
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return self.node(x)

    def config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"
