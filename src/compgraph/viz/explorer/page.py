"""The explorer's data — boxes, edges, the two passes' steps — and the page that shows it.

The page (``page.html`` beside this file: markup, styles and script in one file) reads
one JSON object, embedded in it:

- ``boxes``: one per tensor, in topological order (``b0``, ``b1``, …): ``kind``
  (node, parameter, input or constant), ``label`` and ``detail`` (the two lines in the
  box), ``module``, ``class``, ``formula``, ``gradient``, its place (``x``, ``y``,
  ``w``, ``h``), ``value`` and ``grad`` (summaries, see :func:`record.describe`;
  ``grad`` is None where no gradient reached it);
- ``edges``: ``id``, ``from``, ``to`` (box ids) and ``input`` (which input of ``to``);
- ``forward``: the nodes in the order they ran: ``box`` and the ``edges`` into it;
- ``backward``: the engine's steps: ``box``, ``arriving`` (dL/d output),
  ``out_edges`` (the edges along which that gradient came) and ``leaving`` (per input
  that received a gradient: ``edge``, ``to``, ``input``, ``grad``, ``total`` — the
  input's running sum after it — and ``part``, its count of parts so far, out of
  ``parts`` in that input's box);
- ``width``, ``height``, ``title``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from compgraph import graph
from compgraph.nn.module import Module
from compgraph.tensor import Tensor
from compgraph.viz.explorer.layout import layout
from compgraph.viz.explorer.record import Recording, describe
from compgraph.viz.formulas import node_formulas
from compgraph.viz.graph import describe_box
from compgraph.viz.modules import ModuleNames
from compgraph.viz.summary import format_shape
from compgraph.viz.walk import topological_order

#: Where the page expects its data.
DATA_MARK = "/*EXPLORER_DATA*/null"


def build_data(loss: Tensor, model: Module | None, title: str) -> dict[str, Any]:
    """Everything the page shows; runs ``loss``'s backward pass, recording it."""
    order = topological_order(loss)  # raises GraphReleasedError for a released graph
    roots = [model] if model is not None else []
    roots += [t.node.scope[0] for t in order if t.node is not None and t.node.scope]
    names = ModuleNames(roots)
    ids = {id(t): f"b{index}" for index, t in enumerate(order)}
    boxes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    forward: list[dict[str, Any]] = []
    inputs: dict[str, list[str]] = {}
    edge_ids: dict[tuple[int, int, int], str] = {}
    consumers: dict[str, list[str]] = {}
    for t in order:
        box = ids[id(t)]
        kind, label, module = describe_box(t, names)
        node = t.node
        found = node_formulas(type(node)) if node is not None else None
        detail = format_shape(t.shape) + ("" if t.dtype.kind == "f" else f" {t.dtype}")
        boxes.append({
            "id": box, "kind": kind, "label": label, "detail": detail, "module": module,
            "class": type(node).__name__ if node is not None else None,
            "formula": found.formula if found else None,
            "gradient": found.gradient if found else None,
            "value": describe(t.data), "grad": None,
        })  # fmt: skip
        if node is not None:
            into = []
            for index, source in enumerate(node.inputs):
                edge = f"e{len(edges)}"
                edge_ids[(id(source), id(t), index)] = edge
                edges.append({"id": edge, "from": ids[id(source)], "to": box, "input": index})
                consumers.setdefault(ids[id(source)], []).append(edge)
                into.append(edge)
            forward.append({"box": box, "edges": into})
            inputs[box] = [ids[id(s)] for s in node.inputs]
    recording = Recording(ids, edge_ids)
    graph.backward(loss, recorder=recording)
    by_id = {b["id"]: b for b in boxes}
    for t in order:
        grad = t.grad if t.node is None else recording.arrived.get(id(t))
        if grad is not None:
            by_id[ids[id(t)]]["grad"] = describe(grad)
    for step in recording.steps:
        step["out_edges"] = consumers.get(step["box"], [])
    for entry, t in zip(boxes, order, strict=True):
        entry["parts"] = recording.parts.get(id(t), 0)
    labels = {b["id"]: [b["label"], b["detail"]] for b in boxes}
    beside = {
        edge["from"]: edge["to"]
        for edge in edges
        if by_id[edge["from"]]["kind"] == "parameter" and len(consumers[edge["from"]]) == 1
    }
    places, width, height = layout([b["id"] for b in boxes], labels, inputs, beside)
    for placed in boxes:
        place = places[placed["id"]]
        placed.update(x=place.x, y=place.y, w=place.w, h=place.h)
    return {"title": title, "boxes": boxes, "edges": edges, "forward": forward,
            "backward": recording.steps, "width": width, "height": height}  # fmt: skip


def render(data: dict[str, Any]) -> str:
    """The page, its data embedded (``</`` escaped so no string ends the script early)."""
    template = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
    payload = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    if DATA_MARK not in template:
        raise RuntimeError(f"page.html has no {DATA_MARK} to put the data in")
    return template.replace(DATA_MARK, payload, 1)
