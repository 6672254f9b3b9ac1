"""What the explorer shows of an array, and the recording of a backward pass, step by step."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.tensor import Tensor
from compgraph.viz.summary import summarize

#: Histogram bins of an array's values, and how many leading values are shown as numbers.
BINS, SHOWN = 20, 16


def _number(value: Any) -> float | None:
    """A float for JSON; None for NaN and ±inf (JSON has no such numbers)."""
    value = float(value)
    return value if math.isfinite(value) else None


def describe(array: NDArray[Any]) -> dict[str, Any]:
    """Shape, dtype, mean, std, min, max, a histogram and the first values of an array."""
    array = np.asarray(array)
    flat = array.reshape(-1)
    finite = flat[np.isfinite(flat)] if array.dtype.kind == "f" else flat
    summary: dict[str, Any] = {
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "size": int(array.size),
        "nonfinite": int(flat.size - finite.size),
        "values": [_number(v) for v in flat[:SHOWN]],
        "text": summarize(array),
        "mean": None, "std": None, "min": None, "max": None, "hist": None,
    }  # fmt: skip
    if finite.size:
        values = finite.astype(np.float64)
        summary.update(
            mean=_number(values.mean()), std=_number(values.std()),
            min=_number(values.min()), max=_number(values.max()),
        )  # fmt: skip
        if finite.size > 1:
            counts, edges = np.histogram(values, bins=BINS)
            summary["hist"] = {
                "lo": _number(edges[0]), "hi": _number(edges[-1]), "counts": counts.tolist()
            }  # fmt: skip
    return summary


class Recording:
    """The engine's backward pass as it ran (a ``compgraph.graph.Recorder``).

    Each step: the box whose node ran, the gradient that arrived at its output, and,
    for each input that received one, that gradient and the input's running sum after
    it (where a tensor feeds several nodes, its gradient is a sum of their parts).
    """

    def __init__(self, ids: dict[int, str], edge_ids: dict[tuple[int, int, int], str]) -> None:
        self.ids, self.edge_ids = ids, edge_ids
        self.steps: list[dict[str, Any]] = []
        self.parts: dict[int, int] = {}  # contributions each tensor has received so far
        self.arrived: dict[int, NDArray[Any]] = {}  # the gradient each node's output got

    def step(self, output: Tensor, grad: NDArray[Any], leaving: list[Any]) -> None:
        self.arrived[id(output)] = grad
        gradients = []
        for index, source, input_grad, total in leaving:
            self.parts[id(source)] = self.parts.get(id(source), 0) + 1
            gradients.append({
                "edge": self.edge_ids[(id(source), id(output), index)],
                "to": self.ids[id(source)],
                "input": index,
                "grad": describe(input_grad),
                "total": describe(total),
                "part": self.parts[id(source)],
            })  # fmt: skip
        self.steps.append({"box": self.ids[id(output)], "arriving": describe(grad),
                           "leaving": gradients})  # fmt: skip
