"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from numpy.typing import NDArray

from compgraph import kernels
from compgraph.nn.parameter import Parameter
from compgraph.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Kingma & Ba (2015).

    m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²,
    θ ← θ − lr · m̂ / (√v̂ + ε),  with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).

    Weight decay (Adam's L2 form) adds λ·θ to g; see :class:`AdamW` for the decoupled form.

    Args:
        params: the parameters to update.
        lr: the learning rate.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε, keeps the denominator away from zero.
        weight_decay: λ.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1), got {betas}")
        self.betas, self.eps = (float(betas[0]), float(betas[1])), float(eps)

    def buffer_names(self) -> tuple[str, ...]:
        return ("m", "v")

    #: AdamW decays θ itself instead of adding λ·θ to the gradient.
    decoupled_weight_decay = False

    def _update(
        self, data: NDArray[Any], grad: NDArray[Any], state: dict[str, NDArray[Any]]
    ) -> None:
        kernels.adam_step(
            data, grad, state["m"], state["v"], self.step_count, self.lr, self.betas,
            self.eps, self.weight_decay, decoupled=self.decoupled_weight_decay,
        )  # fmt: skip


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    θ ← θ·(1 − lr·λ) before each Adam step, instead of adding λ·θ to the gradient.

    Args: as :class:`Adam`; ``weight_decay`` defaults to 0.01.
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
