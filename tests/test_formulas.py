"""Every built-in node states its formula and gradient in the one form the explorer reads."""

from __future__ import annotations

import pytest

import compgraph as cg
from compgraph.node import Node
from compgraph.viz.formulas import node_formulas

BUILTIN = sorted(
    (cls for name, cls in Node.registry.items()
     if name.startswith("compgraph.nodes.") and not cls.__name__.startswith("_")),
    key=lambda cls: cls.__name__,
)  # fmt: skip


@pytest.mark.parametrize("cls", BUILTIN, ids=lambda cls: cls.__name__)
def test_a_builtin_node_has_a_formula_and_a_gradient(cls: type) -> None:
    found = node_formulas(cls)
    assert found.formula.startswith("y") and "=" in found.formula, found.formula
    assert "dL/d" in found.gradient, f"{cls.__name__}: no 'Gradient: dL/d…' paragraph"


def test_the_form_is_read_as_written() -> None:
    found = node_formulas(cg.nodes.Conv2d)
    assert found.formula.startswith("y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v]")
    assert found.gradient.startswith("dL/dWm = (dL/dy)ᵀ · X")
    assert node_formulas(cg.nodes.ReLU).formula == "y = max(x, 0)."

    class Undocumented(cg.Node):
        pass

    assert node_formulas(Undocumented).formula == ""  # not Node's own docstring
