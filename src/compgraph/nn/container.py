"""Sequential: modules applied one after another."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compgraph.nn.module import Module
from compgraph.tensor import Tensor


class Sequential(Module):
    """y = f_n(… f_2(f_1(x))): the given modules applied in order.

    Args:
        modules: the layers, first to last. They are named "0", "1", … in
            ``named_parameters()`` and ``state_dict()``.

    Example:
        >>> import compgraph as cg
        >>> model = cg.nn.Sequential(cg.nn.Linear(784, 10), cg.nn.Softmax())
        >>> [name for name, _ in model.named_parameters()]
        ['0.weight', '0.bias']
    """

    def __init__(self, *modules: Module) -> None:
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {index} is a {type(module).__name__}, not a Module"
                )
            setattr(self, str(index), module)

    def __iter__(self) -> Iterator[Module]:
        return (module for _, module in self.named_children())

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __getitem__(self, index: int) -> Module:
        return list(self)[index]

    def config(self) -> dict[str, Any]:
        from compgraph.nn.config import to_config  # config imports every module class

        return {"layers": [to_config(module) for module in self]}

    @classmethod
    def from_layers(cls, layers: list[dict[str, Any]]) -> Sequential:
        from compgraph.nn.config import from_config

        return cls(*(from_config(layer) for layer in layers))

    def forward(self, x: Tensor) -> Tensor:
        for module in self:
            x = module(x)
        return x
