"""Parameter: a tensor that a module owns and an optimizer updates."""

from __future__ import annotations

from typing import Any

from compgraph.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that always requires grad; modules list it in ``parameters()``."""

    __slots__ = ()

    def __init__(self, data: Any, name: str | None = None) -> None:
        super().__init__(data, requires_grad=True, name=name)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"
