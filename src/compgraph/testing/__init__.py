"""Testing tools: the op specs every node is tested on, and :func:`check_node`.

- :mod:`compgraph.testing.specs`: the registry, one :class:`OpSpec`
  (:mod:`compgraph.testing.opspec`) per operation (input makers,
  shapes, which inputs are differentiated, a NumPy and a PyTorch reference), in
  :data:`SPECS`; :func:`spec_for` finds one by node class name or spec name.
- :mod:`compgraph.testing.makers`: the input makers and :func:`noncontiguous`.
- :func:`check_node`: the lab's autograder; returns a :class:`NodeReport` whose
  failures each have a ``kind`` from :data:`KINDS`.

Imports neither pytest nor hypothesis; PyTorch only inside the functions that use it.
"""

from compgraph.testing.check import check_node
from compgraph.testing.makers import noncontiguous
from compgraph.testing.opspec import OpSpec, case_ids
from compgraph.testing.report import KINDS, Failure, NodeReport
from compgraph.testing.specs import BY_NAME, LAB_SPECS, NOT_OPERATIONS, SPECS, spec_for

__all__ = [
    "BY_NAME",
    "KINDS",
    "LAB_SPECS",
    "NOT_OPERATIONS",
    "SPECS",
    "Failure",
    "NodeReport",
    "OpSpec",
    "case_ids",
    "check_node",
    "noncontiguous",
    "spec_for",
]
