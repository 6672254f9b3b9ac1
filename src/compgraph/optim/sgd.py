"""Stochastic gradient descent: momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from compgraph import kernels
from compgraph.optim.optimizer import Optimizer, Params


class SGD(Optimizer):
    """θ ← θ − lr · v, with v = g (plain), or v ← μ·v + (1 − d)·g (momentum), as in PyTorch.

    g = ∇ + λ·θ. The first momentum step sets v = g. With ``nesterov=True`` the step
    uses g + μ·v instead of v.

    Args:
        params: the parameters to update, or a list of group dicts.
        lr: the learning rate (the notebook uses 0.5). PyTorch's default is 1e-3.
        momentum: μ, in [0, 1).
        dampening: d, in [0, 1]; scales the gradient added to v.
        weight_decay: λ, the L2 penalty.
        nesterov: use Nesterov's look-ahead form (needs momentum > 0 and no dampening).

    Example:
        >>> import numpy as np, compgraph as cg
        >>> w = cg.nn.Parameter(np.ones(2))
        >>> optimizer = cg.optim.SGD([{"params": [w], "lr": 0.1}], lr=0.01, momentum=0.9)
        >>> optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["momentum"]
        (0.1, 0.9)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {"lr": float(lr), "momentum": float(momentum), "dampening": float(dampening),
                    "weight_decay": float(weight_decay), "nesterov": bool(nesterov)}  # fmt: skip
        super().__init__(params, defaults)

    def check_settings(self, group: dict[str, Any]) -> None:
        super().check_settings(group)
        if not 0 <= group["momentum"] < 1:
            raise ValueError(f"SGD: momentum must lie in [0, 1), got {group['momentum']}")
        if not 0 <= group["dampening"] <= 1:
            raise ValueError(f"SGD: dampening must lie in [0, 1], got {group['dampening']}")
        if group["nesterov"] and (group["momentum"] == 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov=True needs a momentum > 0 and zero dampening")

    def buffer_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("velocity",) if group["momentum"] else ()

    def _update(
        self,
        data: NDArray[Any],
        grad: NDArray[Any],
        state: dict[str, NDArray[Any]],
        group: dict[str, Any],
        first: bool,
    ) -> None:
        # The velocity starts at 0; with no dampening on the first step it becomes g, as in
        # PyTorch.
        velocity = state["velocity"] if group["momentum"] else None
        kernels.sgd_step(
            data, grad, velocity, group["lr"], group["momentum"], group["nesterov"],
            group["weight_decay"], 0.0 if first else group["dampening"],
        )  # fmt: skip
