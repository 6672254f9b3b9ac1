"""Op specs for the tensor operations a PyTorch user expects (comparisons, joins, shapes).

Gathered into :data:`compgraph.testing.specs.SPECS`; see :class:`~compgraph.testing.opspec.OpSpec`.
"""

from __future__ import annotations

from compgraph.testing.opspec import OpSpec

TENSOR_SPECS: list[OpSpec] = []
