"""Op specs for the losses a PyTorch user expects (NLL, BCE, L1, smooth L1, …).

Gathered into :data:`compgraph.testing.specs.SPECS`; see :class:`~compgraph.testing.opspec.OpSpec`.
"""

from __future__ import annotations

from compgraph.testing.opspec import OpSpec

LOSS_SPECS: list[OpSpec] = []
