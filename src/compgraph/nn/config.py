"""Architectures as JSON-ready dicts, so a checkpoint can rebuild its model without pickle.

A config is ``{"type": "Linear", "args": {...}}``; ``type`` must name a class in
``compgraph.nn``, so loading a file can only ever build compgraph's own layers.
:func:`state_shapes` tells the shapes of the weights a config would build, without
building it, so a checkpoint's weights are checked before anything is allocated.
"""

from __future__ import annotations

from typing import Any

from compgraph.nn.init import RENAMED
from compgraph.nn.module import Module

#: The deepest nesting of containers a config may have (a hostile file could nest
#: thousands to exhaust Python's recursion limit).
MAX_DEPTH = 32


def to_config(module: Module) -> dict[str, Any]:
    """Describe ``module`` (and, for Sequential, its layers) as plain data."""
    return {"type": type(module).__name__, "args": module.config()}


def from_config(config: dict[str, Any], depth: int = 0) -> Module:
    """Build the module a config describes (with fresh parameters; load weights after).

    Raises:
        ValueError: an unknown type, arguments that are not a JSON object, or nesting
            deeper than :data:`MAX_DEPTH`.
    """
    import compgraph.nn as nn  # the package's namespace is the registry of buildable types

    cls, args = _parse(config, depth)
    if cls is nn.Sequential:
        return nn.Sequential(*(from_config(layer, depth + 1) for layer in _layers(args)))
    return cls(**_current_init(args))


def state_shapes(config: Any, prefix: str = "", depth: int = 0) -> dict[str, tuple[int, ...]]:
    """The name and shape of every parameter and buffer the config's module would have.

    Raises:
        ValueError: as :func:`from_config`, or for sizes that are not integers ≥ 0.
    """
    import compgraph.nn as nn

    cls, args = _parse(config, depth)
    if cls is nn.Sequential:
        shapes: dict[str, tuple[int, ...]] = {}
        for index, layer in enumerate(_layers(args)):
            shapes.update(state_shapes(layer, f"{prefix}{index}.", depth + 1))
        return shapes
    try:
        declared = cls.state_shapes(**args)
    except TypeError as error:
        raise ValueError(f"{cls.__name__}: {error}") from None
    for shape in declared.values():
        if not all(isinstance(size, int) and not isinstance(size, bool) for size in shape):
            raise ValueError(f"{cls.__name__}: sizes must be integers, got {shape}")
        if any(size < 0 for size in shape):
            raise ValueError(f"{cls.__name__}: sizes must be ≥ 0, got {shape}")
    return {f"{prefix}{name}": tuple(shape) for name, shape in declared.items()}


def _parse(config: Any, depth: int) -> tuple[type[Module], dict[str, Any]]:
    import compgraph.nn as nn

    if depth > MAX_DEPTH:
        raise ValueError(f"architecture nests modules more than {MAX_DEPTH} deep")
    name = config.get("type") if isinstance(config, dict) else None
    cls = getattr(nn, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise ValueError(f"unknown layer type {name!r} in architecture")
    args = config.get("args", {})
    if not isinstance(args, dict):
        raise ValueError(f"{name}: arguments must be a JSON object, got {args!r:.40}")
    return cls, args


def _current_init(args: dict[str, Any]) -> dict[str, Any]:
    """``args`` with an ``init`` saved under its old name (before a rename) under its new one."""
    name = args.get("init")
    if isinstance(name, str) and name in RENAMED:
        return {**args, "init": RENAMED[name]}
    return args


def _layers(args: dict[str, Any]) -> list[Any]:
    layers = args.get("layers", [])
    if not isinstance(layers, list):
        raise ValueError(f"Sequential: layers must be a list, got {layers!r:.40}")
    return layers
