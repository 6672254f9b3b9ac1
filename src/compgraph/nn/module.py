"""Module: a container of parameters and sub-modules with a ``forward``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compgraph.nn.parameter import Parameter
from compgraph.tensor import Tensor


class Module:
    """Base class of layers and models, in PyTorch's shape.

    A subclass assigns :class:`Parameter` and ``Module`` attributes in
    ``__init__`` and defines ``forward``; calling the module calls ``forward``.
    Parameters are found by walking the attributes in assignment order, so there
    is no registration step to forget.

    Example:
        >>> import compgraph as cg
        >>> class TwoLayer(cg.nn.Module):
        ...     def __init__(self):
        ...         self.hidden = cg.nn.Linear(4, 8)
        ...         self.out = cg.nn.Linear(8, 2)
        ...     def forward(self, x):
        ...         return self.out(self.hidden(x).relu())
        >>> [name for name, _ in TwoLayer().named_parameters()]
        ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    def forward(self, *args: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any) -> Tensor:
        return self.forward(*args)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs in assignment order, each parameter once."""
        yield from self._named_parameters(prefix, set())

    def _named_parameters(self, prefix: str, seen: set[int]) -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            full_name = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Parameter):
                if id(value) not in seen:
                    seen.add(id(value))
                    yield full_name, value
            elif isinstance(value, Module):
                yield from value._named_parameters(full_name, seen)

    def parameters(self) -> list[Parameter]:
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``)."""
        for parameter in self.parameters():
            parameter.grad = None

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): {child!r}".replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""
