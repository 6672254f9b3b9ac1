"""summary(model): a table of a model's layers, their output shapes and parameter counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from compgraph.grad_mode import no_grad
from compgraph.nn import module as module_file
from compgraph.nn.module import Module
from compgraph.tensor import Tensor


@dataclass(frozen=True)
class SummaryRow:
    """One module of the model: its dotted name ("" for the model), class, output shape
    (None when not run, or when it was not called) and parameter count (its sub-modules'
    included)."""

    name: str
    type: str
    output_shape: tuple[int, ...] | None
    parameters: int


@dataclass(frozen=True)
class Summary:
    """What :func:`summary` returns: printed (or shown in a notebook), the table."""

    rows: tuple[SummaryRow, ...]
    total_parameters: int

    def __str__(self) -> str:
        header = ("Layer", "Type", "Output shape", "Parameters")
        cells = [header] + [
            (
                "  " * (row.name.count(".") + 1) + row.name if row.name else "(model)",
                row.type,
                "-" if row.output_shape is None else str(row.output_shape),
                f"{row.parameters:,}",
            )
            for row in self.rows
        ]
        widths = [max(len(line[column]) for line in cells) for column in range(4)]
        lines = [
            "  ".join(
                cell.rjust(width) if column == 3 else cell.ljust(width)
                for column, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
            for line in cells
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        lines.append(f"Total parameters: {self.total_parameters:,}")
        return "\n".join(lines)

    __repr__ = __str__


def summary(
    model: Module, input_shape: tuple[int, ...] | None = None, dtype: DTypeLike = np.float32
) -> Summary:
    """Every module of ``model`` (depth first, dotted names) with its parameter count and,
    given ``input_shape``, the shape of its output for an input of that shape.

    The output shapes come from one forward pass on zeros of ``input_shape`` and
    ``dtype`` (an integer dtype for an Embedding), without gradients and in eval mode
    (so BatchNorm's running statistics do not move); each module's training mode is
    restored afterwards. A module called twice shows its last output.

    Example:
        >>> import compgraph as cg
        >>> model = cg.nn.Sequential(cg.nn.Linear(4, 8), cg.nn.ReLU(), cg.nn.Linear(8, 2))
        >>> print(cg.nn.summary(model, input_shape=(5, 4)))
        Layer    Type        Output shape  Parameters
        -------  ----------  ------------  ----------
        (model)  Sequential  (5, 2)                58
          0      Linear      (5, 8)                40
          1      ReLU        (5, 8)                 0
          2      Linear      (5, 2)                18
        Total parameters: 58
    """
    shapes: dict[int, tuple[int, ...]] = {}
    if input_shape is not None:

        def record(module: Module, output: Any) -> None:
            if isinstance(output, Tensor):
                shapes[id(module)] = output.shape

        modes = [(module, module.training) for module in model.modules()]
        model.eval()
        module_file._call_observers.append(record)
        try:
            with no_grad():
                model(Tensor(np.zeros(input_shape, dtype=dtype)))
        finally:
            module_file._call_observers.remove(record)
            for module, training in modes:
                module.training = training
    rows = tuple(
        SummaryRow(name, type(module).__name__, shapes.get(id(module)), module.num_parameters())
        for name, module in model.named_modules()
    )
    return Summary(rows, model.num_parameters())
