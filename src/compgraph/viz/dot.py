"""From DOT text to a ``graphviz.Digraph``, and from there to SVG or PNG files.

Drawing needs two optional pieces: the ``graphviz`` Python package (``pip
install graphviz``) and the Graphviz ``dot`` program that lays the graph out
(``apt-get install graphviz``, ``brew install graphviz``, ``conda install
graphviz``). Without the package, :func:`make_graph` returns a :class:`DotGraph`
that still holds the DOT source; without ``dot``, rendering raises
:class:`RendererMissingError` saying how to install it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from compgraph import files

INSTALL_HINT = (
    "install Graphviz's dot program (Debian/Ubuntu: apt-get install graphviz; macOS: "
    "brew install graphviz; conda: conda install graphviz) and the Python package "
    "(pip install graphviz)"
)
FORMATS = ("svg", "png", "pdf", "dot", "gv")


class RendererMissingError(RuntimeError):
    """Graphviz (the ``dot`` program or the ``graphviz`` package) is not installed."""


def quote(text: str) -> str:
    """A DOT string literal; a newline becomes DOT's centred line break ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _attribute_list(attributes: dict[str, str]) -> str:
    return " ".join(f"{key}={quote(value)}" for key, value in attributes.items())


class DotGraph:
    """The DOT source of a drawing, for when the ``graphviz`` package is missing.

    ``.source`` is the text ``dot`` reads; :meth:`save` writes it. Rendering
    needs Graphviz, and says how to install it.
    """

    def __init__(self, source: str) -> None:
        self.source = source

    def save(self, filename: str | os.PathLike[str]) -> str:
        Path(filename).write_text(self.source)
        return str(filename)

    def render(self, *args: Any, **kwargs: Any) -> str:
        raise RendererMissingError(f"drawing needs Graphviz: {INSTALL_HINT}")

    def pipe(self, *args: Any, **kwargs: Any) -> bytes:
        raise RendererMissingError(f"drawing needs Graphviz: {INSTALL_HINT}")

    def __str__(self) -> str:
        return self.source

    def _repr_markdown_(self) -> str:  # what a notebook shows instead of a picture
        return f"*Graphviz is not installed: {INSTALL_HINT}.*\n\n```dot\n{self.source}```"


def make_graph(
    body: list[str],
    graph_attributes: dict[str, str],
    node_attributes: dict[str, str],
    edge_attributes: dict[str, str],
) -> Any:
    """A ``graphviz.Digraph`` of these DOT lines, or a :class:`DotGraph` without the package."""
    try:
        import graphviz
    except ImportError:
        header = [
            "digraph compgraph {",
            f"graph [{_attribute_list(graph_attributes)}]",
            f"node [{_attribute_list(node_attributes)}]",
            f"edge [{_attribute_list(edge_attributes)}]",
        ]
        return DotGraph("\n\t".join(header + body) + "\n}\n")
    return graphviz.Digraph(
        "compgraph",
        graph_attr=graph_attributes,
        node_attr=node_attributes,
        edge_attr=edge_attributes,
        body=[f"\t{line}\n" for line in body],
    )


def has_renderer() -> bool:
    """Whether drawings can be rendered here: the package and ``dot`` are both installed."""
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def render(graph: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``graph`` to ``path`` in the format its suffix names (.svg, .png, .pdf, .dot).

    A ``.dot`` (or ``.gv``) file is the source itself and needs no Graphviz.
    The file is written to a temporary name and renamed, so no half-drawn file is left.

    Raises:
        ValueError: an unknown suffix.
        RendererMissingError: the picture needs Graphviz and it is not installed.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"cannot tell the format of {path}: use one of .{', .'.join(FORMATS)}")
    if fmt in ("dot", "gv"):
        return files.write_text(path, graph.source)
    if not has_renderer():
        raise RendererMissingError(f"writing {path.name} needs Graphviz: {INSTALL_HINT}")
    return files.write_bytes(path, graph.pipe(format=fmt))
