"""draw_graph: the computation graph behind a tensor, as a Graphviz drawing.

One box per node application (its class and output shape), one per parameter
and per input, and an edge from every input to the node that takes it. Nodes
applied inside ``nn`` modules are grouped in one cluster per module, nested as
the modules are. A legend explains the colours and lines. The DOT text is
written here, by hand, so it is available even where the ``graphviz`` Python
package is not; see :mod:`compgraph.viz.dot`.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field
from typing import Any

from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.tensor import Tensor
from compgraph.viz.dot import make_graph, quote
from compgraph.viz.modules import ModuleNames
from compgraph.viz.summary import SMALL, format_shape, summary_lines
from compgraph.viz.walk import topological_order

# Fill colours by kind of box (describe_box's kinds), and what each kind is, for the legend.
COLOURS = {"node": "#dbe8f7", "parameter": "#fdf0c2", "input": "#e6e6e6", "constant": "#ffffff"}
KINDS = {
    "node": "an operation: its class and output shape",
    "parameter": "a trained parameter",
    "input": "data, labels, other inputs",
    "constant": "a number in a formula",
}
GRAPH_ATTRIBUTES = {
    "fontname": "Helvetica",
    "nodesep": "0.25",
    "ranksep": "0.35",
    "ordering": "in",  # a node's inputs side by side in the order it takes them
}
NODE_ATTRIBUTES = {
    "shape": "box",
    "style": "rounded,filled",
    "fontname": "Helvetica",
    "fontsize": "11",
    "margin": "0.12,0.06",
}
EDGE_ATTRIBUTES = {"arrowsize": "0.7", "color": "#555555"}
CLUSTER_STYLE = 'style="rounded,dashed"; color="#888888"; fontsize=10; labeljust=l'
RANKDIRS = ("LR", "TB", "RL", "BT")
#: Lines of numbers longer than this are wrapped (a bias of 10 values takes two lines).
WIDTH = 48


@dataclass
class Cluster:
    """A module's frame: the boxes drawn directly in it and the modules nested in it."""

    label: str
    boxes: list[str] = field(default_factory=list)
    children: dict[int, Cluster] = field(default_factory=dict)


def draw_graph(
    tensor: Tensor,
    values: bool = False,
    grads: bool = False,
    model: Module | None = None,
    rankdir: str = "TB",
    order: bool = False,
    legend: bool = True,
) -> Any:
    """The graph that produced ``tensor``, as a ``graphviz.Digraph``.

    Args:
        tensor: usually the loss; its graph is walked back to the leaves.
        values: also show each box's forward value: every number (to four
            significant digits) for a tensor of at most 12 elements, otherwise
            mean and standard deviation.
        grads: also show each box's gradient dL/d(box), summarised the same way, where
            ``.grad`` is set:
            parameters and inputs that require grad, after ``backward()``, and
            intermediate results whose gradient was retained (call
            ``viz.retain_grads(loss)`` before ``loss.backward(retain_graph=True)``).
        model: the model that computed ``tensor``; it names parameters and
            clusters by their dotted paths (``0.weight``). Without it, the
            outermost module that ran each node names them just as well, so it
            is needed only for parameters used outside any module call.
        rankdir: ``"LR"`` draws data flowing left to right, ``"TB"`` top to bottom.
        order: number the nodes in the order ``backward()`` runs them: ``#1`` is
            the node that computed ``tensor``, as in ``viz.trace_backward``.
        legend: add a table explaining the colours and the lines in the boxes.

    Returns:
        A ``graphviz.Digraph``: display it in a notebook, ``.render()`` it, or
        read its ``.source``. Without the ``graphviz`` package, a
        :class:`~compgraph.viz.dot.DotGraph` holding the same DOT source.

    Raises:
        GraphReleasedError: ``backward()`` already released the graph; call
            ``loss.backward(retain_graph=True)`` to draw it afterwards.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}, not {rankdir!r}")
    tensors = topological_order(tensor)
    names = module_names(tensors, model)
    ran = {tuple(map(id, t.node.scope)) for t in tensors if t.node is not None}
    ids = {id(t): f"n{index}" for index, t in enumerate(tensors)}
    steps = backward_steps(tensors) if order else {}

    uses: dict[int, int] = {}  # how many node inputs each tensor feeds
    for t in tensors:
        for source in t.node.inputs if t.node is not None else ():
            uses[id(source)] = uses.get(id(source), 0) + 1

    top = Cluster("")
    frames: dict[tuple[int, ...], Cluster] = {(): top}
    frame_of: dict[int, Cluster] = {}
    flipped: set[tuple[int, int]] = set()  # (input, node) edges laid out right to left
    for t in tensors:
        kind, title, chain = _describe(t, names)
        if kind == "parameter" and tuple(map(id, chain)) not in ran:
            chain = ()  # its module never ran here: no frame holding only a parameter
        frame = frame_of[id(t)] = _frame(frames, chain, names)
        if id(t) in steps:
            title = f"#{steps[id(t)]} {title}"
        label = quote(_label(t, title, values, grads))
        colour = quote(COLOURS["constant" if title == "constant" else kind])
        bold = ", penwidth=2" if t is tensor else ""
        frame.boxes.append(f"{ids[id(t)]} [label={label}, fillcolor={colour}{bold}]")
        # Parameters beside the node that uses them rather than a row above it: each
        # module's frame then takes one row, and the frames stack along the data path.
        # W goes on the left and b on the right, so that no edge runs around a box.
        beside = _own_parameters(t, frame, frame_of, uses)
        if beside:
            row = [beside[0], t, *beside[1:]]
            frame.boxes.append("{rank=same; " + "; ".join(ids[id(x)] for x in row) + "}")
            flipped.update((id(p), id(t)) for p in beside[1:])

    body = _frame_lines(top)
    for t in tensors:  # edges in data-flow order: each node's inputs, first to last
        for source in t.node.inputs if t.node is not None else ():
            tail, head = ids[id(source)], ids[id(t)]
            if (id(source), id(t)) in flipped:
                # dot lays a same-row edge out tail first; reversed, with its arrow turned
                # back, the edge puts b to the right and still points into the node.
                body.append(f"{head} -> {tail} [dir=back]")
            elif source.node is not None:  # a heavier edge keeps the data's path straight
                body.append(f"{tail} -> {head} [weight=4]")
            else:
                body.append(f"{tail} -> {head}")
    if legend:
        body.append(_legend(values, grads, order))
    graph_attributes = {**GRAPH_ATTRIBUTES, "rankdir": rankdir}
    return make_graph(body, graph_attributes, NODE_ATTRIBUTES, EDGE_ATTRIBUTES)


def module_names(tensors: list[Tensor], model: Module | None = None) -> ModuleNames:
    """Names for the modules that applied the nodes among ``tensors`` (and ``model``'s)."""
    roots = [model] if model is not None else []
    roots += [t.node.scope[0] for t in tensors if t.node is not None and t.node.scope]
    return ModuleNames(roots)


def backward_steps(tensors: list[Tensor]) -> dict[int, int]:
    """Each node's step (1, 2, …) in backward()'s walk of ``tensors`` (a topological order).

    The engine runs the nodes in reverse topological order, from the output back to
    the leaves; keyed by ``id`` of each node's output tensor.
    """
    nodes = [t for t in reversed(tensors) if t.node is not None]
    return {id(t): step for step, t in enumerate(nodes, start=1)}


def _own_parameters(
    t: Tensor, frame: Cluster, frame_of: dict[int, Cluster], uses: dict[int, int]
) -> list[Tensor]:
    """The parameters that only node ``t`` uses, drawn in its frame, each once."""
    if t.node is None:
        return []
    found: dict[int, Tensor] = {}
    for p in t.node.inputs:
        if isinstance(p, Parameter) and uses[id(p)] == 1 and frame_of.get(id(p)) is frame:
            found[id(p)] = p
    return list(found.values())


def describe_box(t: Tensor, names: ModuleNames) -> tuple[str, str, str | None]:
    """(kind, title, label of the innermost module around it) of one box.

    The kind is "node", "parameter", "input" or "constant" (a number in a formula).
    """
    kind, title, chain = _describe(t, names)
    if kind == "input" and title == "constant":
        kind = "constant"
    return kind, title, names.module(chain[-1]) if chain else None


def _describe(t: Tensor, names: ModuleNames) -> tuple[str, str, tuple[Module, ...]]:
    """(kind, title, modules around it) of one box."""
    if t.node is not None:
        kind = type(t.node).__name__
        return "node", f"{t.name} = {kind}" if t.name else kind, tuple(t.node.scope)
    if isinstance(t, Parameter):
        found = names.parameter(t)
        return ("parameter", *found) if found else ("parameter", t.name or "parameter", ())
    if t.name:
        return "input", t.name, ()
    if t.size == 1 and not t.requires_grad:
        return "input", "constant", ()  # a number in the formula, such as the 2 in x * 2
    return "input", "input", ()


def _label(t: Tensor, title: str, values: bool, grads: bool) -> str:
    shape = format_shape(t.shape)
    if t.dtype.kind != "f":
        shape += f" {t.dtype}"  # integer class labels, masks: worth saying
    lines = [title, shape]
    if title == "constant":
        lines = [title, *summary_lines(t.data, align=False)]  # its value is its meaning
    elif values:
        lines += _titled("value", summary_lines(t.data, align=False))
    # _grad, not .grad: reading .grad of a non-leaf whose gradient was not kept warns.
    if grads and t._grad is not None:
        lines += _titled("grad", summary_lines(t._grad, align=False))
    return "\n".join(lines)


def _titled(name: str, lines: list[str]) -> list[str]:
    """``value: [1, 2]`` on one line; the rows of a matrix, or a long row wrapped, under it."""
    if len(lines) == 1 and len(lines[0]) + len(name) + 2 <= WIDTH:
        return [f"{name}: {lines[0]}"]
    wrap = textwrap.TextWrapper(WIDTH, break_long_words=False, break_on_hyphens=False)
    return [f"{name}:", *(part for line in lines for part in wrap.wrap(line.strip()))]


def _legend(values: bool, grads: bool, order: bool) -> str:
    """A table node explaining the colours, the thick border and the lines in the boxes."""
    rows = ['<tr><td colspan="2"><b>legend</b></td></tr>']
    for kind, meaning in KINDS.items():
        rows.append(f'<tr><td bgcolor="{COLOURS[kind]}">{kind}</td><td align="left">'
                    f"{html.escape(meaning)}</td></tr>")  # fmt: skip
    notes = [("thick border", "the tensor drawn from (the loss)")]
    if order:
        notes.append(("#n", "the n-th node backward() runs; #1 computed the loss"))
    if values:
        notes.append(("value:", "the forward value"))
    if grads:
        notes.append(("grad:", "dL/d(box): how the loss L changes with this tensor"))
    if values or grads:
        notes.append(("[…]", f"every number, for at most {SMALL}; else mean and std"))
    for mark, meaning in notes:
        rows.append(f"<tr><td>{html.escape(mark)}</td>"
                    f'<td align="left">{html.escape(meaning)}</td></tr>')  # fmt: skip
    table = (
        '<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
        + "".join(rows)
        + "</table>"
    )
    # shape first: the legend is no box of the graph, and its label is HTML, not a string.
    return f"legend [shape=plain, style=solid, fontsize=10, label=<{table}>]"


def _frame(
    frames: dict[tuple[int, ...], Cluster], chain: tuple[Module, ...], names: ModuleNames
) -> Cluster:
    """The cluster for a chain of modules (outermost first), made with its parents if new."""
    for depth in range(1, len(chain) + 1):
        key = tuple(map(id, chain[:depth]))
        if key not in frames:
            parent = frames[key[:-1]]
            frames[key] = parent.children[key[-1]] = Cluster(names.module(chain[depth - 1]))
    return frames[tuple(map(id, chain))]


def _frame_lines(top: Cluster) -> list[str]:
    """DOT lines for the boxes, each inside ``subgraph cluster_…`` blocks as nested."""
    lines: list[str] = []
    count = 0
    # An explicit stack, like the graph walk: ("open", cluster) or ("close", None).
    stack: list[tuple[str, Cluster | None]] = [("body", top)]
    while stack:
        action, cluster = stack.pop()
        if action == "close" or cluster is None:
            lines.append("}")
            continue
        if action == "open":
            lines.append(f"subgraph cluster_{count} {{")
            lines.append(f"label={quote(cluster.label)}; {CLUSTER_STYLE}")
            count += 1
        lines.extend(cluster.boxes)
        if action == "open":
            stack.append(("close", None))
        stack.extend(("open", child) for child in reversed(cluster.children.values()))
    return lines
