"""Op specs for the nodes behind the layers a PyTorch user expects (LayerNorm, GELU, Dropout2d, …).

Gathered into :data:`compgraph.testing.specs.SPECS`; see :class:`~compgraph.testing.opspec.OpSpec`.
"""

from __future__ import annotations

from compgraph.testing.opspec import OpSpec

NN_SPECS: list[OpSpec] = []
