"""Optimizer: the shared bookkeeping of SGD, Adam and AdamW.

Each optimizer's update is one kernel (:mod:`compgraph.kernels`), applied in
place: compiled, it is one pass over each parameter and allocates nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.nn.parameter import Parameter


class Optimizer:
    """Base class: holds the parameters, the learning rate and per-parameter state.

    Args:
        params: the parameters to update (``model.parameters()``).
        lr: the learning rate, > 0. Schedulers change ``optimizer.lr``.
        weight_decay: L2 penalty coefficient, ≥ 0.
    """

    def __init__(self, params: Iterable[Parameter], lr: float, weight_decay: float = 0.0) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimise")
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be positive, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be ≥ 0, got {weight_decay}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.step_count = 0
        #: One dict of named arrays per parameter (momentum buffers, moments).
        self.state: list[dict[str, NDArray[Any]]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``)."""
        for parameter in self.params:
            parameter.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        self.step_count += 1
        buffers = self.buffer_names()
        for parameter, state in zip(self.params, self.state, strict=True):
            if parameter.grad is None:
                continue
            if len(state) < len(buffers):  # allocated once, on the first step
                for name in buffers:
                    state.setdefault(name, np.zeros_like(parameter.data))
            self._update(parameter.data, parameter.grad, state)

    def buffer_names(self) -> tuple[str, ...]:
        """The per-parameter arrays this optimizer keeps, each starting at zero."""
        return ()

    def _update(
        self, data: NDArray[Any], grad: NDArray[Any], state: dict[str, NDArray[Any]]
    ) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, NDArray[Any]]:
        """Flat name → array mapping, ready for ``np.savez``."""
        result = {"lr": np.asarray(self.lr), "step_count": np.asarray(self.step_count)}
        for index, state in enumerate(self.state):
            for key, array in state.items():
                result[f"{index}.{key}"] = array.copy()
        return result

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved, checking it belongs to these parameters."""
        self.lr = float(state["lr"])
        self.step_count = int(state["step_count"])
        restored: list[dict[str, NDArray[Any]]] = [{} for _ in self.params]
        for name, array in state.items():
            if name in ("lr", "step_count"):
                continue
            index_text, key = name.split(".", 1)
            index = int(index_text)
            if index >= len(self.params) or np.shape(array) != self.params[index].shape:
                raise ValueError(
                    f"optimizer state {name!r} does not fit parameter {index} of "
                    f"{len(self.params)} (shape {np.shape(array)})"
                )
            restored[index][key] = np.array(array, dtype=self.params[index].dtype)
        self.state = restored
