"""RMSprop: divide the gradient by a running root mean square, as in PyTorch."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from compgraph import kernels
from compgraph.optim.optimizer import Optimizer, Params


class RMSprop(Optimizer):
    """s ← α·s + (1 − α)·g²,  θ ← θ − lr · g / (√s + ε)   (Hinton, 2012).

    g = ∇ + λ·θ. Centred, the denominator is √(s − ḡ²) + ε with ḡ ← α·ḡ + (1 − α)·g;
    with momentum μ, b ← μ·b + g/(…) and θ ← θ − lr·b.

    Args:
        params: the parameters to update, or a list of group dicts.
        lr: the learning rate.
        alpha: α, the smoothing constant, in [0, 1).
        eps: ε, added to the denominator.
        weight_decay: λ.
        momentum: μ, ≥ 0.
        centered: normalise by the estimated variance instead of the second moment.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = {"lr": float(lr), "alpha": float(alpha), "eps": float(eps),
                    "weight_decay": float(weight_decay), "momentum": float(momentum),
                    "centered": bool(centered)}  # fmt: skip
        super().__init__(params, defaults)

    def check_settings(self, group: dict[str, Any]) -> None:
        super().check_settings(group)
        if not 0 <= group["alpha"] < 1:
            raise ValueError(f"RMSprop: alpha must lie in [0, 1), got {group['alpha']}")
        if group["momentum"] < 0 or group["eps"] < 0:
            raise ValueError("RMSprop: momentum and eps must be ≥ 0")

    def buffer_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        optional = ("grad_avg",) * group["centered"] + ("velocity",) * (group["momentum"] > 0)
        return ("square_avg", *optional)

    def _update(
        self,
        data: NDArray[Any],
        grad: NDArray[Any],
        state: dict[str, NDArray[Any]],
        group: dict[str, Any],
        first: bool,
    ) -> None:
        kernels.rmsprop_step(
            data, grad, state["square_avg"], state.get("grad_avg"), state.get("velocity"),
            group["lr"], group["alpha"], group["eps"], group["weight_decay"], group["momentum"],
        )  # fmt: skip
