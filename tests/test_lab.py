"""``compgraph lab DIR``: the student's notebook and its solutions, from one template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compgraph import lab
from compgraph.cli import main

NODES = ("Sigmoid", "Softmax", "CrossEntropy", "Mean", "Linear", "Tanh", "ReLU",
         "SoftmaxCrossEntropy")  # fmt: skip


def code_of(notebook: dict[str, Any]) -> str:
    return "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")


def test_the_lab_command_writes_both_notebooks(tmp_path, capsys) -> None:
    folder = tmp_path / "lab"
    assert main(["lab", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["lab.ipynb", "solutions.ipynb"]
    out = capsys.readouterr().out
    assert "lab.ipynb" in out and "solutions.ipynb" in out
    for name in ("lab.ipynb", "solutions.ipynb"):
        notebook = json.loads((folder / name).read_text())
        assert notebook["nbformat"] == 4
        assert all(c.get("outputs", []) == [] for c in notebook["cells"])


def test_the_student_gets_stubs_and_the_teacher_the_solutions() -> None:
    student, solutions = code_of(lab.notebook("student")), code_of(lab.notebook("solutions"))
    for text in (student, solutions):
        assert lab.BEGIN not in text and lab.END not in text and lab.STUB not in text
        for name in NODES:
            assert f"class {name}(cg.Node)" in text
            assert f"cg.check_node({name}())" in text
    assert "grad_out * self.y * (1 - self.y)" in solutions  # Sigmoid's backward, written
    assert "grad_out * self.y * (1 - self.y)" not in student
    # Each stub is `pass` with the gradient to write: a backward that returns None.
    assert student.count("pass  # return dL/d") >= len(NODES)
    # Only the backward passes differ: every forward is given in both.
    assert "return x @ W + b" in student and "return x @ W + b" in solutions


def test_an_existing_lab_is_never_overwritten(tmp_path, capsys) -> None:
    folder = tmp_path / "lab"
    assert main(["lab", str(folder)]) == 0
    (folder / "lab.ipynb").write_text("a student's work")
    capsys.readouterr()
    assert main(["lab", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err and "lab.ipynb" in err
    assert (folder / "lab.ipynb").read_text() == "a student's work"
    assert main(["lab", str(folder), "--overwrite"]) == 0
    assert json.loads((folder / "lab.ipynb").read_text())["nbformat"] == 4


def test_a_file_in_place_of_the_folder_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "lab"
    path.write_text("not a folder")
    assert main(["lab", str(path)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert path.read_text() == "not a folder"


def test_the_template_ships_with_the_package() -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"lab/template.ipynb"' in pyproject
    assert lab.template()["cells"]


def run_notebook(path: Path, monkeypatch) -> tuple[str, list[dict[str, Any]]]:
    """Execute a notebook in fast mode; return what it printed and its error outputs."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("COMPGRAPH_NOTEBOOK_FAST", "1")  # the synthetic set, one epoch
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    printed = "".join(output.get("text", "") for output in outputs)
    errors = [output for output in outputs if output["output_type"] == "error"]
    return printed, errors


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lab")
    lab.write_lab(folder)
    return folder


def test_the_solutions_notebook_runs_green(written, monkeypatch) -> None:
    printed, errors = run_notebook(written / "solutions.ipynb", monkeypatch)
    assert not errors
    for name in NODES:
        assert f"{name:20} passes" in printed
    assert "FAIL" not in printed and "skipped" not in printed
    accuracies = [float(line.rsplit(" ", 1)[1]) for line in printed.splitlines()
                  if "test accuracy" in line]  # fmt: skip
    assert len(accuracies) == 2  # softmax regression, then the MLP, on the student's nodes
    assert min(accuracies) > 0.5  # far above the 0.1 of chance on the synthetic set


def test_the_student_notebook_runs_to_the_end_with_every_check_failing(
    written, monkeypatch
) -> None:
    printed, errors = run_notebook(written / "lab.ipynb", monkeypatch)
    assert not errors  # a stub never stops the notebook: its check reports it
    for name in NODES:
        assert f"{name:20} FAILS" in printed and f"{name:20} passes" not in printed
    assert printed.count("missing return") >= len(NODES)  # the kind each stub's report names
    assert printed.count("skipped: finish the checks above first") == 2
    assert "test accuracy" not in printed


def test_jupyter_can_open_the_template_for_editing() -> None:
    # A teacher edits template.ipynb; it must stay a valid notebook with its markers paired.
    nbformat = pytest.importorskip("nbformat")
    template = Path(lab.__file__).with_name("template.ipynb")
    nbformat.validate(nbformat.read(template, as_version=4))
    for cell in lab.template()["cells"]:
        source = "".join(cell["source"])
        assert source.count(lab.BEGIN) == source.count(lab.END)
