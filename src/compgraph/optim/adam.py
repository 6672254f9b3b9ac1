"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from compgraph import kernels
from compgraph.optim.optimizer import Optimizer, Params


class Adam(Optimizer):
    """Kingma & Ba (2015).

    m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²,
    θ ← θ − lr · m̂ / (√v̂ + ε),  with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).

    Weight decay (Adam's L2 form) adds λ·θ to g; see :class:`AdamW` for the decoupled
    form. AMSGrad uses the running maximum of v in place of v.

    Args:
        params: the parameters to update, or a list of group dicts.
        lr: the learning rate.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε, keeps the denominator away from zero.
        weight_decay: λ.
        amsgrad: keep max(v) over the steps (Reddi et al., 2018).
    """

    #: AdamW decays θ itself instead of adding λ·θ to the gradient.
    decoupled_weight_decay = False

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        defaults = {"lr": float(lr), "betas": (float(betas[0]), float(betas[1])),
                    "eps": float(eps), "weight_decay": float(weight_decay),
                    "amsgrad": bool(amsgrad)}  # fmt: skip
        super().__init__(params, defaults)

    def check_settings(self, group: dict[str, Any]) -> None:
        super().check_settings(group)
        group["betas"] = tuple(float(beta) for beta in group["betas"])
        if len(group["betas"]) != 2 or not all(0 <= beta < 1 for beta in group["betas"]):
            raise ValueError(
                f"{type(self).__name__}: betas must lie in [0, 1), got {group['betas']}"
            )

    def buffer_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("m", "v", "max_v") if group["amsgrad"] else ("m", "v")

    def _update(
        self,
        data: NDArray[Any],
        grad: NDArray[Any],
        state: dict[str, NDArray[Any]],
        group: dict[str, Any],
        first: bool,
    ) -> None:
        kernels.adam_step(
            data, grad, state["m"], state["v"], self.step_count, group["lr"], group["betas"],
            group["eps"], group["weight_decay"], self.decoupled_weight_decay, state.get("max_v"),
        )  # fmt: skip


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    θ ← θ·(1 − lr·λ) before each Adam step, instead of adding λ·θ to the gradient.

    Args: as :class:`Adam`; ``weight_decay`` defaults to 0.01.
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
