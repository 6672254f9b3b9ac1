"""Sequential: modules applied one after another."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compgraph.nn.config import to_config
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

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if isinstance(value, Module) or name.isdigit():
            # The layers in order, kept as a tuple: forward() runs every step.
            layers = tuple(child for _, child in self.named_children())
            super().__setattr__("_layers", layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.__dict__.get("_layers", ()))

    def __len__(self) -> int:
        return len(self.__dict__.get("_layers", ()))

    def __getitem__(self, index: int) -> Module:
        return self.__dict__.get("_layers", ())[index]  # type: ignore[no-any-return]

    def config(self) -> dict[str, Any]:
        return {"layers": [to_config(module) for module in self]}

    def forward(self, x: Tensor) -> Tensor:
        for module in self.__dict__.get("_layers", ()):
            x = module(x)
        return x
