"""Names for the modules and parameters of a drawing: dotted paths from the model."""

from __future__ import annotations

from collections.abc import Iterable

from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter


class ModuleNames:
    """Paths ("0", "hidden.1") of every module under the given roots, and their parameters.

    A root is labelled by its class name; a module under it by ``path: Class``.
    A module under no root (it cannot happen when the roots come from the
    nodes' scopes) is labelled by its class name and a count.
    """

    def __init__(self, roots: Iterable[Module]) -> None:
        self.paths: dict[int, str] = {}
        self.roots: set[int] = set()
        self.parameters: dict[int, tuple[str, tuple[Module, ...]]] = {}
        self.unknown: dict[int, str] = {}
        for root in roots:
            if id(root) not in self.paths:
                self.roots.add(id(root))
                self._add(root)

    def _add(self, root: Module) -> None:
        stack: list[tuple[Module, str, tuple[Module, ...]]] = [(root, "", (root,))]
        while stack:
            module, path, chain = stack.pop()
            if id(module) in self.paths and module is not root:
                continue  # shared sub-module: its first path names it
            self.paths[id(module)] = path
            for name, value in vars(module).items():
                if isinstance(value, Parameter) and id(value) not in self.parameters:
                    self.parameters[id(value)] = (f"{path}.{name}" if path else name, chain)
            children = list(module.named_children())
            for name, child in reversed(children):
                stack.append((child, f"{path}.{name}" if path else name, (*chain, child)))

    def module(self, module: Module) -> str:
        """The cluster label of ``module``."""
        kind = type(module).__name__
        if id(module) in self.roots:
            return kind
        if id(module) in self.paths:
            return f"{self.paths[id(module)]}: {kind}"
        if id(module) not in self.unknown:
            self.unknown[id(module)] = f"{kind} {len(self.unknown)}"
        return self.unknown[id(module)]

    def parameter(self, parameter: Parameter) -> tuple[str, tuple[Module, ...]] | None:
        """(dotted name, modules from the root to its owner), or None if no root holds it."""
        return self.parameters.get(id(parameter))
