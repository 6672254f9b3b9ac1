"""Sequential: modules applied one after another."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compgraph.nn.config import to_config
from compgraph.nn.from_node import FromNode
from compgraph.nn.module import Module
from compgraph.node import Node, ShapeError
from compgraph.tensor import Tensor


class Sequential(Module):
    """y = f_n(… f_2(f_1(x))): the given modules applied in order.

    Args:
        modules: the layers, first to last. They are named "0", "1", … in
            ``named_parameters()`` and ``state_dict()``. A node instance (compgraph's,
            or your own Node subclass) is wrapped in :class:`FromNode`.

    A shape error in a layer names it: "layer 0 (Linear) of Sequential: …" (in a
    Sequential inside another, "layer 2.0 (Linear)": layer 0 of the outer one's layer 2).

    Example:
        >>> import compgraph as cg
        >>> model = cg.nn.Sequential(cg.nn.Linear(784, 10), cg.nn.Softmax())
        >>> [name for name, _ in model.named_parameters()]
        ['0.weight', '0.bias']
    """

    def __init__(self, *modules: Module | Node) -> None:
        for index, module in enumerate(modules):
            if isinstance(module, Node):
                module = FromNode(module)
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {index} is a {type(module).__name__}, not a Module "
                    "or a node instance"
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
        for index, module in enumerate(self.__dict__.get("_layers", ())):
            try:
                x = module(x)
            except ShapeError as error:
                _name_layer(error, index, module)
                raise  # the same exception, type and traceback kept
        return x


def _name_layer(error: ShapeError, index: int, module: Module) -> None:
    """Start ``error``'s message with the layer that raised it: "layer 0 (Linear) of
    Sequential: …". Named once: a Sequential around the one that named it adds its own
    index in front ("layer 2.0 (Linear)"); one around a custom module leaves it as it is."""
    named: tuple[str, str, str] | None = getattr(error, "_sequential_layer", None)
    if named is None:
        path, layer, message = str(index), type(module).__name__, str(error)
    elif isinstance(module, Sequential):
        path, layer, message = f"{index}.{named[0]}", named[1], named[2]
    else:
        return
    error._sequential_layer = (path, layer, message)  # type: ignore[attr-defined]
    error.args = (f"layer {path} ({layer}) of Sequential: {message}",)
