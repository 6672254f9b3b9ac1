"""`import compgraph`: fast, and its subpackages reachable without importing them up front."""

from __future__ import annotations

import subprocess
import sys


def run_python(code: str) -> str:
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_data_train_viz_and_testing_are_reachable_and_imported_on_first_use() -> None:
    code = (
        "import sys, compgraph as cg\n"
        "lazy = ['compgraph.data', 'compgraph.train', 'compgraph.viz', 'compgraph.testing']\n"
        "print([m for m in lazy if m in sys.modules])\n"
        "print(cg.data.one_hot.__module__, cg.train.fit.__module__, cg.viz.draw_graph.__module__,"
        " cg.testing.check_node.__module__)\n"
        "print(cg.check_node is cg.testing.check_node)"
    )
    before, modules, same = run_python(code).splitlines()
    assert before == "[]"
    assert modules.split() == [
        "compgraph.data.loader", "compgraph.train.loop", "compgraph.viz.graph",
        "compgraph.testing.check",
    ]  # fmt: skip
    assert same == "True"


def test_import_compgraph_imports_no_test_tool() -> None:
    code = "import sys, compgraph; print([m for m in ('pytest', 'hypothesis') if m in sys.modules])"
    assert run_python(code) == "[]"


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    code = (
        "import compgraph\n"
        "try:\n    compgraph.nonexistent\nexcept AttributeError as e:\n    print(e)"
    )
    assert "has no attribute 'nonexistent'" in run_python(code)
