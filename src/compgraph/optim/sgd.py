"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from numpy.typing import NDArray

from compgraph import kernels
from compgraph.nn.parameter import Parameter
from compgraph.optim.optimizer import Optimizer


class SGD(Optimizer):
    """θ ← θ − lr · v, with v = g (plain), or v = μ·v + g (momentum), as in PyTorch.

    With ``nesterov=True`` the step uses g + μ·v instead of v. Weight decay adds
    λ·θ to g first.

    Args:
        params: the parameters to update.
        lr: the learning rate (the notebook uses 0.5).
        momentum: μ, in [0, 1).
        nesterov: use Nesterov's look-ahead form (needs momentum > 0).
        weight_decay: λ, the L2 penalty.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must lie in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.momentum, self.nesterov = float(momentum), nesterov

    def buffer_names(self) -> tuple[str, ...]:
        return ("velocity",) if self.momentum else ()

    def _update(
        self, data: NDArray[Any], grad: NDArray[Any], state: dict[str, NDArray[Any]]
    ) -> None:
        # The velocity starts at 0, so the first step sets it to g, as in PyTorch.
        velocity = state["velocity"] if self.momentum else None
        kernels.sgd_step(
            data, grad, velocity, self.lr, self.momentum, self.nesterov, self.weight_decay
        )
