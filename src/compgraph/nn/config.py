"""Architectures as JSON-ready dicts, so a checkpoint can rebuild its model without pickle.

A config is ``{"type": "Linear", "args": {...}}``; ``type`` must name a class in
``compgraph.nn``, so loading a file can only ever build compgraph's own layers.
"""

from __future__ import annotations

from typing import Any

from compgraph.nn.module import Module


def to_config(module: Module) -> dict[str, Any]:
    """Describe ``module`` (and, for Sequential, its layers) as plain data."""
    return {"type": type(module).__name__, "args": module.config()}


def from_config(config: dict[str, Any]) -> Module:
    """Build the module a config describes (with fresh parameters; load weights after)."""
    import compgraph.nn as nn  # the package's namespace is the registry of buildable types

    name = config.get("type") if isinstance(config, dict) else None
    cls = getattr(nn, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise ValueError(f"unknown layer type {name!r} in architecture")
    args = dict(config.get("args", {}))
    if cls is nn.Sequential:
        return nn.Sequential.from_layers(args.get("layers", []))
    return cls(**args)
