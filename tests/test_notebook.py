"""examples/computation_graphs.ipynb: committed without outputs, and runs top to bottom."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "computation_graphs.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, "the notebook has no code"
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"]


def test_notebook_runs_top_to_bottom(tmp_path, monkeypatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot (apt-get install graphviz)")
    # The kernel inherits this: 2,000 training images and one epoch, a few seconds.
    monkeypatch.setenv("COMPGRAPH_NOTEBOOK_FAST", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # any file it writes lands here
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output["output_type"] == "error"]
    kinds = {kind for output in outputs for kind in output.get("data", {})}
    assert {"image/svg+xml", "image/png"} <= kinds  # graphs drawn, figures shown
    printed = "".join(output.get("text", "") for output in outputs)
    assert "gradcheck failed for input 0" in printed  # the broken Sigmoid is caught
    assert "backward(retain_grads=True)" in printed  # and so is drawing a released graph
    assert "SeedLinear   True" in printed  # the seed's own Linear, parameters checked
    pages = [out["data"]["text/html"] for out in outputs if "text/html" in out.get("data", {})]
    explorer = [page for page in pages if page.startswith("<iframe srcdoc=")]
    assert explorer and all(name in explorer[0] for name in ("Linear", "Softmax", "Mean"))
