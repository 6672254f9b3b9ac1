"""A node's formula and gradient, read from its docstring (one form for every node).

A node's docstring starts with its formula — the first paragraph — and has a paragraph
that starts with ``Gradient:``. The explorer shows both; a test holds every built-in
node to the form. A node of a user's own with no such docstring shows its first line,
or nothing.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass


@dataclass(frozen=True)
class Formulas:
    """What a node computes (``y = …``) and its gradient (``dL/dx = …``); '' if unknown."""

    formula: str
    gradient: str


def node_formulas(cls: type) -> Formulas:
    """The formula and gradient in ``cls``'s own docstring (not one it inherits)."""
    doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    if not paragraphs:
        return Formulas("", "")
    gradient = next((p for p in paragraphs if p.startswith("Gradient:")), "")
    return Formulas(paragraphs[0], gradient.removeprefix("Gradient:").strip())
