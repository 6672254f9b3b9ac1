"""Where the explorer draws each box: rows by data flow, top to bottom, no Graphviz needed.

A node sits one row below the lowest of its inputs that are themselves results. A
parameter that one node alone takes sits beside that node, in its row (the first on
its left, the others on its right), as in ``draw_graph``; any other input sits in the
row just above the first node that takes it. Within a row, nodes are ordered by the
mean position of what feeds them (one downward sweep), which keeps a chain of layers
in one straight column.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Sizes in SVG units: a character's width, a box's height, the gaps between boxes.
CHAR, HEIGHT, PADDING, GAP, ROW = 7.2, 44.0, 16.0, 22.0, 86.0


@dataclass
class Placed:
    """A box's top-left corner and size."""

    x: float
    y: float
    w: float
    h: float


def layout(
    boxes: list[str],
    labels: dict[str, list[str]],
    inputs: dict[str, list[str]],
    beside: dict[str, str],
) -> tuple[dict[str, Placed], float, float]:
    """Place ``boxes`` (in topological order); ``inputs`` lists each box's input boxes,
    and ``beside`` maps a parameter to the one node it is drawn beside.

    Returns the places, and the drawing's width and height.
    """
    consumers: dict[str, list[str]] = {box: [] for box in boxes}
    for box in boxes:
        for source in inputs.get(box, []):
            consumers[source].append(box)
    row: dict[str, int] = {}
    for box in boxes:  # results: below the lowest input that is a result
        if inputs.get(box):
            row[box] = 1 + max((row.get(s, 0) for s in inputs[box] if inputs.get(s)), default=0)
    for box in boxes:  # leaves: beside their node, or just above the first that takes them
        if box in beside:
            row[box] = row[beside[box]]
        elif not inputs.get(box):
            row[box] = min((row[c] for c in consumers[box]), default=1) - 1
    rows: dict[int, list[str]] = {}
    for box in boxes:
        if box not in beside:
            rows.setdefault(row[box], []).append(box)
    flank: dict[str, list[str]] = {}
    for parameter, node in beside.items():
        flank.setdefault(node, []).append(parameter)
    width = {b: max(len(line) for line in labels[b]) * CHAR + 2 * PADDING for b in boxes}
    centre: dict[str, float] = {}
    for number in sorted(rows):
        members = rows[number]

        # Order a row by where its boxes' sources stand; leaves by where their consumers'
        # other inputs stand, else in the order they came.
        position = {box: float(index) for index, box in enumerate(members)}

        def anchor(box: str, position: dict[str, float] = position) -> float:
            near = [centre[s] for s in inputs.get(box, []) if s in centre]
            return sum(near) / len(near) if near else position[box]

        fed = {box: anchor(box) for box in members if any(s in centre for s in inputs.get(box, []))}
        members.sort(key=anchor)
        laid = []
        for box in members:  # a node between its own parameters: W on the left, b right
            side = flank.get(box, [])
            laid += [*side[:1], box, *side[1:]]
        rows[number] = laid
        x = 0.0
        for box in laid:
            centre[box] = x + width[box] / 2
            x += width[box] + GAP
        # Shift the row so that its nodes stand, on average, under what feeds them (a
        # chain of layers in one straight column, its parameters out to the sides); a
        # row fed by nothing placed yet is centred on 0.
        if fed:
            shift = sum(where - centre[box] for box, where in fed.items()) / len(fed)
        else:
            shift = -(x - GAP) / 2
        for box in laid:
            centre[box] += shift
    left = min(centre[b] - width[b] / 2 for b in boxes)
    right = max(centre[b] + width[b] / 2 for b in boxes)
    top = min(rows)
    places = {}
    for box in boxes:
        height = HEIGHT + 14.0 * (len(labels[box]) - 2)
        places[box] = Placed(centre[box] - width[box] / 2 - left, (row[box] - top) * ROW,
                             width[box], height)  # fmt: skip
    return places, right - left, max(p.y + p.h for p in places.values())
