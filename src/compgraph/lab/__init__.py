"""The lab: a student writes the backward passes, :func:`compgraph.check_node` checks them.

``compgraph lab DIR`` (or :func:`write_lab`) writes two notebooks made from one
template, ``template.ipynb`` beside this file:

- ``lab.ipynb``, the student's: every node's ``forward`` is written, its ``backward``
  is a stub to fill; after each node a cell prints ``check_node``'s report; the
  training cells run the student's own nodes once every check passes, and say what is
  left until then;
- ``solutions.ipynb``, the teacher's: the same notebook with the backward passes
  written (separate, not secret).

In the template, a solution sits between ``### BEGIN SOLUTION`` and ``### END
SOLUTION`` lines; the student's copy has, in its place, ``pass`` and the comment that
follows ``### STUB`` (the gradient to write), so an unfinished backward returns None
and its check reports the missing ``return``.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from compgraph import files

#: The notebooks ``write_lab`` writes.
STUDENT, SOLUTIONS = "lab.ipynb", "solutions.ipynb"
BEGIN, END, STUB = "### BEGIN SOLUTION", "### END SOLUTION", "### STUB"


class LabFolderError(Exception):
    """The lab cannot be written where asked; the message says why and what to do."""


def template() -> dict[str, Any]:
    """The template notebook, solutions marked."""
    text = resources.files(__package__).joinpath("template.ipynb").read_text(encoding="utf-8")
    notebook: dict[str, Any] = json.loads(text)
    return notebook


def notebook(kind: str) -> dict[str, Any]:
    """The student's (``"student"``) or the teacher's (``"solutions"``) notebook."""
    if kind not in ("student", "solutions"):
        raise ValueError(f"kind must be 'student' or 'solutions', got {kind!r}")
    made = template()
    for cell in made["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and BEGIN in source:
            source = _solved(source) if kind == "solutions" else _stubbed(source)
        if kind == "solutions":
            source = source.replace("(student's copy)", "(solutions)")
        cell["source"] = source.splitlines(keepends=True)
    return made


def write_lab(folder: str | os.PathLike[str], overwrite: bool = False) -> list[Path]:
    """Write ``lab.ipynb`` and ``solutions.ipynb`` into ``folder`` (created if missing).

    A student's work is never overwritten by accident: if either notebook exists, this
    raises :class:`LabFolderError` unless ``overwrite``. Each file is written whole or
    not at all.
    """
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise LabFolderError(f"{target} is a file, not a folder")
    present = [name for name in (STUDENT, SOLUTIONS) if (target / name).exists()]
    if present and not overwrite:
        raise LabFolderError(
            f"{target} already holds {' and '.join(present)}; a student's work is never "
            "overwritten: choose another folder, or pass --overwrite to replace them"
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, kind in ((STUDENT, "student"), (SOLUTIONS, "solutions")):
        text = json.dumps(notebook(kind), indent=1, ensure_ascii=False) + "\n"
        written.append(files.write_text(target / name, text))
    return written


def _blocks(source: str) -> list[tuple[str, list[str], str]]:
    """Split a cell into (text before, solution lines, stub comment) blocks; the rest last."""
    blocks: list[tuple[str, list[str], str]] = []
    before: list[str] = []
    solution: list[str] | None = None
    stub = ""
    for line in source.splitlines(keepends=True):
        marker = line.strip()
        if marker == BEGIN:
            solution, stub = [], ""
        elif marker == END and solution is not None:
            blocks.append(("".join(before), solution, stub))
            before, solution = [], None
        elif solution is not None and marker.startswith(STUB):
            stub = marker[len(STUB) :].strip()
        elif solution is not None:
            solution.append(line)
        else:
            before.append(line)
    if solution is not None:
        raise ValueError(f"template cell has {BEGIN} without {END}:\n{source}")
    blocks.append(("".join(before), [], ""))
    return blocks


def _solved(source: str) -> str:
    return "".join(before + "".join(solution) for before, solution, _ in _blocks(source))


def _stubbed(source: str) -> str:
    parts = []
    for before, solution, stub in _blocks(source):
        parts.append(before)
        if solution:
            first = solution[0]
            indent = first[: len(first) - len(first.lstrip())]
            parts.append(f"{indent}pass  # {stub or 'your code here'}\n")
    return "".join(parts)
