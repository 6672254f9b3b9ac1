"""Regenerate docs/computation_graphs.ipynb: the example notebook, run, with its outputs.

examples/computation_graphs.ipynb is committed without outputs, so that its diffs show
only what was written; this copy is the one to read without running anything (GitHub
and nbviewer show its drawings and figures). The one command, from the repository root:

    .venv/bin/python docs/execute_notebook.py [--out docs/computation_graphs.ipynb]

(``python3 run.py test tests/test_notebook.py`` creates .venv with nbclient and
ipykernel; ``pip install -e ".[notebook]"`` installs them too.)

It is the FULL run, exactly what a reader who opens the notebook gets: all 60,000 MNIST
training images, 5 epochs of softmax regression and 3 of the MLP, not the test suite's
``COMPGRAPH_NOTEBOOK_FAST`` one (2,000 images, one epoch). About a minute and a half on
two cores; the copy is about 1 MB.

Needs Graphviz's ``dot`` (``apt-get install graphviz``) and MNIST (downloaded and
verified on first use, as ``compgraph train`` does): a copy trained on the offline
stand-in would not show what the text describes, so the script refuses to write one,
and it refuses a copy with an error or anything printed to stderr (a stray warning).
tests/test_notebook.py checks that this copy has the example's cells, in order, each
with the source it has now: edit the example, then run this.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from compgraph import files

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "computation_graphs.ipynb"
DOCS_COPY = ROOT / "docs" / "computation_graphs.ipynb"
OFFLINE = "MNIST is unavailable"  # what the notebook prints when it falls back


def execute(source: Path) -> Any:
    """The notebook at ``source``, run top to bottom in a fresh kernel (a full run)."""
    import nbclient
    import nbformat

    notebook = nbformat.read(source, as_version=4)
    os.environ.pop("COMPGRAPH_NOTEBOOK_FAST", None)  # the kernel inherits the environment
    with tempfile.TemporaryDirectory() as folder:  # any file the notebook writes lands here
        client = nbclient.NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            record_timing=False,  # no timestamps: a rerun changes only what really changed
            resources={"metadata": {"path": folder}},
        )
        client.execute()  # raises CellExecutionError, naming the cell, on any error
    return notebook


def coalesce_streams(notebook: Any) -> None:
    """Join each cell's consecutive stdout (or stderr) outputs into one, as Jupyter shows them.

    A loop that prints now and then reaches the client as several outputs; one per cell
    keeps the file smaller and its diffs readable.
    """
    for cell in notebook.cells:
        merged: list[Any] = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def problems(notebook: Any) -> list[str]:
    """Why the run must not be published: the offline stand-in, errors, stray stderr."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if OFFLINE in text:
                found.append(f"cell {index}: {OFFLINE} (offline?): trained on the stand-in")
            if output.output_type == "error":
                found.append(f"cell {index}: {output.ename}: {output.evalue}")
            if output.get("name") == "stderr":
                found.append(f"cell {index} printed to stderr: {text.strip()[:300]}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS_COPY)
    args = parser.parse_args()
    try:
        import nbclient  # noqa: F401
        import nbformat
    except ImportError:
        print("needs nbclient, nbformat and ipykernel: python3 run.py test", file=sys.stderr)
        return 2
    if shutil.which("dot") is None:
        print("needs Graphviz's dot: apt-get install graphviz", file=sys.stderr)
        return 2
    start = time.perf_counter()
    notebook = execute(EXAMPLE)
    coalesce_streams(notebook)
    found = problems(notebook)
    if found:
        print("not writing the copy:", *found, sep="\n  ", file=sys.stderr)
        return 1
    notebook.metadata["compgraph"] = {
        "executed_by": "docs/execute_notebook.py",
        "run": "full: all of MNIST, 5 + 3 epochs (not COMPGRAPH_NOTEBOOK_FAST)",
    }
    text = nbformat.writes(notebook) + "\n"
    files.write_bytes(args.out, text.encode("utf-8"))
    size = len(text.encode("utf-8")) / 1e6
    print(f"wrote {args.out} ({size:.2f} MB) in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
