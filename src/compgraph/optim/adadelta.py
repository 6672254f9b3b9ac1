"""Adadelta: steps scaled by running averages of squared gradients and squared steps."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from compgraph import kernels
from compgraph.optim.optimizer import Optimizer, Params


class Adadelta(Optimizer):
    """Δ = √(u + ε)/√(s + ε) · g,  θ ← θ − lr·Δ   (Zeiler, 2012).

    g = ∇ + λ·θ,  s ← ρ·s + (1 − ρ)·g²,  u ← ρ·u + (1 − ρ)·Δ².

    Args:
        params: the parameters to update, or a list of group dicts.
        lr: scales Δ (1.0 is Zeiler's rule).
        rho: ρ, the smoothing constant, in [0, 1].
        eps: ε, inside both square roots.
        weight_decay: λ.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {"lr": float(lr), "rho": float(rho), "eps": float(eps),
                    "weight_decay": float(weight_decay)}  # fmt: skip
        super().__init__(params, defaults)

    def check_settings(self, group: dict[str, Any]) -> None:
        super().check_settings(group)
        if not 0 <= group["rho"] <= 1:
            raise ValueError(f"Adadelta: rho must lie in [0, 1], got {group['rho']}")

    def buffer_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("square_avg", "acc_delta")

    def _update(
        self,
        data: NDArray[Any],
        grad: NDArray[Any],
        state: dict[str, NDArray[Any]],
        group: dict[str, Any],
        first: bool,
    ) -> None:
        kernels.adadelta_step(
            data, grad, state["square_avg"], state["acc_delta"], group["lr"], group["rho"],
            group["eps"], group["weight_decay"],
        )  # fmt: skip
