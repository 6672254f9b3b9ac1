"""Adagrad: per-coordinate steps shrinking with the sum of squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import kernels
from compgraph.optim.optimizer import Optimizer, Params


class Adagrad(Optimizer):
    """s ← s + g²,  θ ← θ − lr/(1 + (t − 1)·lr_decay) · g / (√s + ε)   (Duchi et al., 2011).

    g = ∇ + λ·θ; s starts at ``initial_accumulator_value``.

    Args:
        params: the parameters to update, or a list of group dicts.
        lr: the learning rate.
        lr_decay: shrinks the learning rate with the step count t.
        weight_decay: λ.
        initial_accumulator_value: s before the first step, ≥ 0.
        eps: ε, added to the denominator.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {"lr": float(lr), "lr_decay": float(lr_decay),
                    "weight_decay": float(weight_decay),
                    "initial_accumulator_value": float(initial_accumulator_value),
                    "eps": float(eps)}  # fmt: skip
        super().__init__(params, defaults)

    def check_settings(self, group: dict[str, Any]) -> None:
        super().check_settings(group)
        if group["lr_decay"] < 0 or group["initial_accumulator_value"] < 0:
            raise ValueError("Adagrad: lr_decay and initial_accumulator_value must be ≥ 0")

    def buffer_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("sum",)

    def initial_state(self, data: NDArray[Any], group: dict[str, Any]) -> dict[str, NDArray[Any]]:
        return {"sum": np.full_like(data, group["initial_accumulator_value"])}

    def _update(
        self,
        data: NDArray[Any],
        grad: NDArray[Any],
        state: dict[str, NDArray[Any]],
        group: dict[str, Any],
        first: bool,
    ) -> None:
        kernels.adagrad_step(
            data, grad, state["sum"], self.step_count, group["lr"], group["lr_decay"],
            group["weight_decay"], group["eps"],
        )  # fmt: skip
