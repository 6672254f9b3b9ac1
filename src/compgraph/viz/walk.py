"""Walking the graph that produced a tensor: inputs before the nodes that use them.

The walk is the engine's own (``compgraph.graph.topological_order``): iterative,
so a graph 10,000 nodes deep does not hit Python's recursion limit.
"""

from __future__ import annotations

from compgraph import graph
from compgraph.tensor import Tensor


class GraphReleasedError(RuntimeError):
    """The graph was released by ``backward()``; there is nothing left to walk."""


RELEASED_MESSAGE = (
    "this graph was released by backward(), which frees every node's inputs and saved "
    "arrays; to draw it with its gradients, call loss.backward(retain_grads=True) instead, "
    "or draw it before calling backward()"
)


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor in the graph of ``root``, leaves included, inputs before their consumers.

    Raises:
        GraphReleasedError: a node on the way was released by ``backward()``.
    """
    return graph.topological_order(
        root, include_leaves=True, released=lambda node: GraphReleasedError(RELEASED_MESSAGE)
    )


def retain_grads(root: Tensor) -> Tensor:
    """Ask ``backward()`` to keep ``.grad`` on every intermediate tensor of the graph.

    ``loss.backward(retain_grads=True)`` does the same in one call, and keeps the
    graph too: that is the way to draw gradients. Returns ``root``, so it chains:
    ``retain_grads(loss).backward(retain_graph=True)``.
    """
    for tensor in topological_order(root):
        if tensor.node is not None:
            tensor.retain_grad()
    return root
