"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

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
        return ("m", "v", "decayed_grad") if self.weight_decay else ("m", "v")

    def _decay(
        self, data: NDArray[Any], grad: NDArray[Any], state: dict[str, NDArray[Any]]
    ) -> NDArray[Any]:
        """L2 weight decay: the gradient of λ/2·‖θ‖² joins g."""
        if not self.weight_decay:
            return grad
        decayed = state["decayed_grad"]
        np.multiply(data, self.weight_decay, out=decayed)
        decayed += grad
        return decayed

    def _update(
        self, data: NDArray[Any], grad: NDArray[Any], state: dict[str, NDArray[Any]]
    ) -> None:
        grad = self._decay(data, grad, state)
        beta1, beta2 = self.betas
        scratch = state["scratch"]
        m, v = state["m"], state["v"]
        m *= beta1
        np.multiply(grad, 1 - beta1, out=scratch)
        m += scratch
        v *= beta2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - beta2
        v += scratch
        t = self.step_count
        # denominator √v̂ + ε = √v / √(1 − β₂ᵗ) + ε, then the step lr/(1 − β₁ᵗ) · m / denominator
        np.sqrt(v, out=scratch)
        scratch *= 1 / math.sqrt(1 - beta2**t)
        scratch += self.eps
        np.divide(m, scratch, out=scratch)
        scratch *= self.lr / (1 - beta1**t)
        data -= scratch


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    θ ← θ·(1 − lr·λ) before each Adam step, instead of adding λ·θ to the gradient.

    Args: as :class:`Adam`; ``weight_decay`` defaults to 0.01.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def buffer_names(self) -> tuple[str, ...]:
        return ("m", "v")  # the decay is applied to θ directly, no decayed gradient

    def _decay(
        self, data: NDArray[Any], grad: NDArray[Any], state: dict[str, NDArray[Any]]
    ) -> NDArray[Any]:
        if self.weight_decay:
            data *= 1 - self.lr * self.weight_decay
        return grad
