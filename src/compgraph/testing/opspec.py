"""OpSpec: how one operation is tested, and the shapes most specs share.

The registry itself is :mod:`compgraph.testing.specs`, which gathers the spec lists
(``specs_tensor.py`` for the tensor operations PyTorch users expect, ``specs_nn.py``
for the layers' nodes); each list is made of :class:`OpSpec` from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.node import Node
from compgraph.tensor import Tensor, tensor
from compgraph.testing.makers import Maker, noncontiguous, standard_normal, uniform

Shapes = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class OpSpec:
    """How to test one operation.

    Attributes:
        name: the test id, and the name ``check_node(node, spec=name)`` takes.
        fn: the operation, applied to tensors.
        cases: the input shapes of each case.
        nodes: the node classes ``fn`` applies (its output's node must be one of them).
        reference: the same computation in plain NumPy.
        makers: how to draw each input (default: standard normal).
        torch_fn: the same computation in PyTorch, for the comparison tests.
        methods: the Tensor methods this spec exercises.
        keeps_dtype: float32 inputs give a float32 output (False where a constant promotes).
        grad_inputs: the positions of the inputs that are differentiated (default:
            every floating-point input); a target, for instance, may need no gradient.
        lab_cases: the cases a node written the notebook's way is meant for, which
            ``check_node`` uses (default: all ``cases``); the notebook's Linear, for
            instance, computes ``x.T @ grad_out`` and so takes 2-d x only.
    """

    name: str
    fn: Callable[..., Tensor]
    cases: Sequence[Shapes]
    nodes: tuple[type[Node], ...]
    reference: Callable[..., NDArray[Any]]
    makers: Sequence[Maker] | None = None
    torch_fn: Callable[..., Any] | None = None
    methods: tuple[str, ...] = field(default=())
    keeps_dtype: bool = True
    grad_inputs: tuple[int, ...] | None = None
    lab_cases: Sequence[Shapes] | None = None

    def make_inputs(self, rng: np.random.Generator, shapes: Shapes) -> list[NDArray[Any]]:
        """One array per input, drawn by the spec's makers (float64, or integer labels)."""
        makers = self.makers or [standard_normal] * len(shapes)
        return [make(rng, shape) for make, shape in zip(makers, shapes, strict=True)]

    def make_tensors(
        self,
        shapes: Shapes,
        dtype: Any = np.float64,
        layout: str = "contiguous",
        seed: int = 0,
    ) -> list[Tensor]:
        """The inputs as tensors: floating ones cast to ``dtype``, ``requires_grad`` where
        ``grad_inputs`` says; ``layout="noncontiguous"`` gives strided views."""
        arrays = self.make_inputs(np.random.default_rng(seed), shapes)
        tensors = []
        for position, array in enumerate(arrays):
            floating = np.issubdtype(array.dtype, np.floating)
            if floating:
                array = array.astype(dtype)
            if layout == "noncontiguous":
                array = noncontiguous(array)
            wanted = self.grad_inputs is None or position in self.grad_inputs
            tensors.append(tensor(array, requires_grad=floating and wanted))
        return tensors

    def case_ids(self) -> list[str]:
        """One readable id per case, e.g. ``"3,4x1,4"``."""
        return case_ids(self)


def case_ids(spec: OpSpec) -> list[str]:
    return ["x".join(",".join(map(str, s)) or "scalar" for s in shapes) for shapes in spec.cases]


BINARY = ((3, 4), (3, 4)), ((1, 4), (3, 1)), ((4,), (2, 3, 4)), ((1, 1), (1, 1))
UNARY = ((3, 4),), ((1, 5),), ((2, 3, 4),)
ELEMENTWISE = (*UNARY, ((),))  # element-wise operations also take 0-d arrays
POSITIVE = uniform(0.5, 2.0)
