"""Loss modules, in PyTorch's spelling: each forward calls its ``compgraph.functional`` form.

``criterion = nn.CrossEntropyLoss(label_smoothing=0.1)`` and ``criterion(logits, labels)``
port from PyTorch as written: the constructor arguments and defaults are PyTorch's.
"""

from __future__ import annotations

from typing import Any

from compgraph import functional
from compgraph.nn.module import Module
from compgraph.nodes.loss import check_reduction
from compgraph.tensor import Tensor

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
]


class _Loss(Module):
    """A loss: no parameters, one ``reduction`` ('none', 'mean' or 'sum')."""

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = check_reduction(type(self).__name__, reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """ℓ_n = −Σ_c w_c · q_nc · log softmax(x_n)_c, q the (smoothed) target, then reduced.

    Args:
        weight: one weight per class (C,), or None.
        ignore_index: the class index of samples to leave out.
        reduction: ``"none"``, ``"mean"`` (divided by Σ w_(t_n) over the samples kept) or
            ``"sum"``.
        label_smoothing: ε in [0, 1]: q = (1 − ε) · target + ε / C.

    Shape: logits (N, C), (C,) or (N, C, d1, …); target class indices of that shape
    without C, or class probabilities of the logits' shape.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> criterion = cg.nn.CrossEntropyLoss()
        >>> round(criterion(cg.tensor([[0.0, 0.0]]), np.array([1])).item(), 4)  # log 2
        0.6931
    """

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return functional.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(_Loss):
    """ℓ_n = −w_(t_n) · x_(n, t_n) for log-probabilities x, then reduced.

    Args:
        weight: one weight per class (C,), or None.
        ignore_index: the class index of samples to leave out.
        reduction: ``"none"``, ``"mean"`` (divided by Σ w_(t_n) over the samples kept) or
            ``"sum"``.

    Shape: x (N, C), (C,) or (N, C, d1, …); target class indices, x's shape without C.
    """

    def __init__(
        self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return functional.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    """ℓ_i = (x_i − t_i)², then reduced. Shape: x and target alike (no broadcasting)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return functional.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """ℓ_i = |x_i − t_i|, then reduced. Shape: x and target alike (no broadcasting)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return functional.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """ℓ_i = ½ d_i² / β where |d_i| < β, else |d_i| − ½ β, d = x − t, then reduced.

    Args:
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        beta: β ≥ 0 (0 gives the L1 loss).
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return functional.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """ℓ_i = ½ d_i² where |d_i| < δ, else δ · (|d_i| − ½ δ), d = x − t, then reduced.

    Args:
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        delta: δ > 0.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return functional.huber_loss(input, target, self.reduction, self.delta)


class BCELoss(_Loss):
    """ℓ_i = −w_i · (t_i · log x_i + (1 − t_i) · log(1 − x_i)), logs clamped at ≥ −100.

    Args:
        weight: broadcast to x's shape, or None.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Shape: x (probabilities in [0, 1]) and target alike.
    """

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return functional.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """ℓ_i = −w_i · (p · t_i · log σ(z_i) + (1 − t_i) · log(1 − σ(z_i))), computed stably.

    Args:
        weight: broadcast to z's shape, or None.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        pos_weight: p, one per class (broadcast along the last axis), or None.

    Shape: logits z and target alike.
    """

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return functional.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )
