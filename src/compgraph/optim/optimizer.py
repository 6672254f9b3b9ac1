"""Optimizer: the shared bookkeeping of every optimizer — parameter groups, state, checkpoints.

Each optimizer's update is one kernel (:mod:`compgraph.kernels`), applied in
place: compiled, it is one pass over each parameter and allocates nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.nn.parameter import Parameter

#: What ``Optimizer(params)`` accepts: parameters, or PyTorch-style group dicts.
Params = Iterable[Parameter] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``state_dict``, as in PyTorch.

    Args:
        params: the parameters to update (``model.parameters()``), or a list of
            dicts, each with ``'params'`` and any of the optimizer's settings, which
            override the constructor's for that group.
        defaults: the constructor's settings (``lr``, ``weight_decay``, …).

    Attributes:
        param_groups: one dict per group: ``'params'`` (a list of Parameters), ``'lr'``
            and the optimizer's other settings; ``step()`` reads them every step.
        params: every parameter, in group order.
        state: one dict of named arrays (momentum buffers, moments) per parameter of
            ``params``.
        step_count: the number of ``step()`` calls (one count for all parameters).
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.params: list[Parameter] = []
        self.state: list[dict[str, NDArray[Any]]] = []
        self.step_count = 0
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimise")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return float(self.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = float(value)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own settings (the constructor's by default)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}: a parameter group is a dict with 'params'")
        params = group["params"]
        params = [params] if isinstance(params, Parameter) else list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: a parameter group has no parameters")
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown group settings {sorted(unknown)}")
        known = {id(parameter) for parameter in self.params}
        if any(id(parameter) in known for parameter in params) or len(
            {id(p) for p in params}
        ) < len(params):
            raise ValueError(f"{type(self).__name__}: a parameter appears in two groups")
        settings = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        if not settings["lr"] > 0:
            raise ValueError(
                f"{type(self).__name__}: learning rate must be positive, got {settings['lr']}"
            )
        self.check_settings(settings)
        self.param_groups.append({"params": params, **settings})
        self.params += params
        self.state += [{} for _ in params]

    def check_settings(self, group: dict[str, Any]) -> None:
        """Raise ValueError for settings out of range (subclasses check their own too).

        A learning rate of 0 passes here (a schedule may end there, and a checkpoint
        then holds it); a new group needs a positive one.
        """
        name = type(self).__name__
        if not group["lr"] >= 0:
            raise ValueError(f"{name}: learning rate must be ≥ 0, got {group['lr']}")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"{name}: weight_decay must be ≥ 0, got {group['weight_decay']}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``.grad = None``, or zeros in place."""
        for parameter in self.params:
            if set_to_none:
                parameter.grad = None
            elif parameter.grad is not None:
                parameter.grad.fill(0)

    def step(self) -> None:
        """Update every parameter that has a gradient, with its group's settings."""
        self.step_count += 1
        index = 0
        for group in self.param_groups:
            buffers = self.buffer_names(group)
            for parameter in group["params"]:
                state = self.state[index]
                index += 1
                if parameter.grad is None:
                    continue
                first = len(state) < len(buffers)
                if first:  # allocated once, on the parameter's first step
                    for name, array in self.initial_state(parameter.data, group).items():
                        state.setdefault(name, array)
                self._update(parameter.data, parameter.grad, state, group, first)

    def buffer_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The per-parameter arrays this optimizer keeps with ``group``'s settings."""
        return ()

    def initial_state(self, data: NDArray[Any], group: dict[str, Any]) -> dict[str, NDArray[Any]]:
        """The buffers before the first step: zeros unless the optimizer says otherwise."""
        return {name: np.zeros_like(data) for name in self.buffer_names(group)}

    def _update(
        self,
        data: NDArray[Any],
        grad: NDArray[Any],
        state: dict[str, NDArray[Any]],
        group: dict[str, Any],
        first: bool,
    ) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The state as ``name → array`` (``<index>.<buffer>``, ``lr``, ``step_count``).

        ``param_groups`` (each group's settings, its ``params`` as indices into
        ``self.params``) and ``optimizer`` (the class name) are JSON-ready values;
        :func:`compgraph.checkpoint.save` writes them as JSON text.
        """
        result: dict[str, Any] = {
            "lr": np.asarray(self.lr),
            "step_count": np.asarray(self.step_count),
            "optimizer": type(self).__name__,
        }
        groups, start = [], 0
        for group in self.param_groups:
            count = len(group["params"])
            settings = {k: list(v) if isinstance(v, tuple) else v for k, v in group.items()}
            groups.append({**settings, "params": list(range(start, start + count))})
            start += count
        result["param_groups"] = groups
        for index, state in enumerate(self.state):
            for key, array in state.items():
                result[f"{index}.{key}"] = array.copy()
        return result

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved; ValueError if it is another optimizer's.

        A state without ``param_groups`` (saved before compgraph had groups) sets
        every group's learning rate to its ``lr``.
        """
        name = type(self).__name__
        saved_name = _decoded(state.get("optimizer", name))
        if saved_name != name:
            raise ValueError(f"the optimizer state is {saved_name}'s, not {name}'s")
        groups = _decoded(state.get("param_groups"))
        settings = self._saved_settings(groups) if groups is not None else None
        restored: list[dict[str, NDArray[Any]]] = [{} for _ in self.params]
        allowed = [
            set(self.buffer_names(group if settings is None else settings[number]))
            for number, group in enumerate(self.param_groups)
            for _ in group["params"]
        ]
        for key, array in state.items():
            if key in ("lr", "step_count", "optimizer", "param_groups"):
                continue
            index_text, buffer = key.split(".", 1)
            index = int(index_text)
            if index >= len(self.params) or np.shape(array) != self.params[index].shape:
                raise ValueError(
                    f"optimizer state {key!r} does not fit parameter {index} of "
                    f"{len(self.params)} (shape {np.shape(array)})"
                )
            if buffer not in allowed[index]:
                raise ValueError(f"optimizer state {key!r} is not one {name} keeps")
            restored[index][buffer] = np.array(array, dtype=self.params[index].dtype)
        if settings is None:
            self.lr = float(state["lr"])
        else:
            for group, saved in zip(self.param_groups, settings, strict=True):
                group.update(saved)
        self.step_count = int(state["step_count"])
        self.state = restored

    def _saved_settings(self, groups: Any) -> list[dict[str, Any]]:
        """The saved groups' settings, checked against these groups."""
        name = type(self).__name__
        sizes = [len(group["params"]) for group in self.param_groups]
        if (
            not isinstance(groups, list)
            or [len(g.get("params", ())) if isinstance(g, dict) else -1 for g in groups] != sizes
        ):
            raise ValueError(f"the optimizer state's parameter groups do not fit {name}'s {sizes}")
        settings = []
        for group in groups:
            values = {k: v for k, v in group.items() if k != "params"}
            missing = sorted(set(self.defaults) - set(values))
            if missing:  # extra keys (a scheduler's initial_lr) are kept, as in PyTorch
                raise ValueError(f"the optimizer state's groups lack {name}'s settings {missing}")
            values = {
                k: tuple(v) if isinstance(self.defaults.get(k), tuple) else v
                for k, v in values.items()
            }
            self.check_settings(values)
            settings.append(values)
        return settings


def _decoded(value: Any) -> Any:
    """A value as :meth:`Optimizer.state_dict` made it: JSON text read from a file is parsed."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "U":
        try:
            return json.loads(str(value))
        except (ValueError, RecursionError):
            raise ValueError("the optimizer state holds unreadable JSON") from None
    return value
