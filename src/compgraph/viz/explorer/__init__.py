"""The explorer: a page in which to step through a graph's forward and backward passes.

``explore(loss)`` runs ``loss``'s backward pass itself, recording what the engine
does at every node, and returns an :class:`Explorer`: a self-contained HTML page
(its script, styles and data inline: viewing it needs no network) showing the
graph. Click a box for its node's formula and gradient, its value's shape,
statistics and histogram, and the gradient that reached it; step forwards or
backwards through either pass, in the engine's own order, with the gradient
arriving at each node, those leaving it, and the running sums where a tensor feeds
several nodes. In Jupyter the object displays itself; ``.save("graph.html")``
writes the page.

Recording happens only here: a plain ``backward()`` records nothing and costs
nothing extra.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from compgraph import files
from compgraph.nn.module import Module
from compgraph.tensor import Tensor
from compgraph.viz.explorer.page import build_data, render


class ExplorerError(RuntimeError):
    """explore() was given what it cannot explore; the message says what to do."""


class Explorer:
    """An explorer page: ``html`` (the page), ``data`` (what it shows), ``save(path)``."""

    def __init__(self, page: str, data: dict[str, Any]) -> None:
        self.html, self.data = page, data

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (whole or not at all)."""
        return files.write_text(path, self.html)

    def _repr_html_(self) -> str:
        """Jupyter shows the page in a frame of its own, scripts running."""
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'style="width: 100%; height: 720px; border: 1px solid #ccc"></iframe>'
        )


def explore(loss: Tensor, model: Module | None = None, title: str = "") -> Explorer:
    """Run ``loss.backward()``, recording every step, and return the page that replays it.

    Args:
        loss: a tensor (usually the loss) whose graph is alive: computed, not yet
            back-propagated. Afterwards every leaf's ``.grad`` is filled, as by
            ``loss.backward()``, and the graph is released.
        model: the model that computed it; names parameters by their dotted paths.
        title: a heading for the page.

    Raises:
        ExplorerError: the graph was already released by ``backward()``, or ``loss``
            needs no gradient.
    """
    from compgraph.viz.walk import GraphReleasedError

    if not isinstance(loss, Tensor):
        raise ExplorerError(f"explore() takes a tensor (the loss), not a {type(loss).__name__}")
    if not loss.requires_grad:
        raise ExplorerError(
            "explore(): this tensor needs no gradient (nothing that computed it requires "
            "grad), so there is no backward pass to show"
        )
    try:
        data = build_data(loss, model, title)
    except GraphReleasedError:
        raise ExplorerError(
            "explore(loss) runs the backward pass itself, and this loss's graph was "
            "already released by backward(): compute the loss again and call "
            "viz.explore(loss) instead of loss.backward()"
        ) from None
    return Explorer(render(data), data)


__all__ = ["Explorer", "ExplorerError", "explore"]
