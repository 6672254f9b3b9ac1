"""Walking the graph that produced a tensor: inputs before the nodes that use them.

The walk is iterative (an explicit stack), like ``backward()``, so a graph
10,000 nodes deep does not hit Python's recursion limit.
"""

from __future__ import annotations

from compgraph.node import is_released
from compgraph.tensor import Tensor


class GraphReleasedError(RuntimeError):
    """The graph was released by ``backward()``; there is nothing left to walk."""


RELEASED_MESSAGE = (
    "this graph was released by backward(), which frees every node's inputs and saved "
    "arrays; to look at it after back propagation, call loss.backward(retain_graph=True), "
    "or draw it before calling backward()"
)


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor in the graph of ``root``, each once, inputs before their consumers.

    Leaves come where they are first used; a node's inputs are visited in the
    order it takes them, so the order reads like the forward computation.

    Raises:
        GraphReleasedError: a node on the way was released by ``backward()``.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    # (tensor, expanded): a tensor is pushed once to expand its inputs and once more,
    # beneath them, to be emitted after all of them.
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        node = tensor.node
        if node is None:
            continue
        if is_released(node):
            raise GraphReleasedError(RELEASED_MESSAGE)
        stack.extend((source, False) for source in reversed(node.inputs))
    return order


def retain_grads(root: Tensor) -> Tensor:
    """Ask ``backward()`` to keep ``.grad`` on every intermediate tensor of the graph.

    By default only leaves (parameters, inputs) keep a gradient. Call this on the
    loss before ``loss.backward(retain_graph=True)`` and ``draw_graph(loss,
    grads=True)`` shows dL/d(output) at every node, the loss's own 1 included.
    Returns ``root``, so it chains: ``retain_grads(loss).backward(retain_graph=True)``.
    """
    for tensor in topological_order(root):
        if tensor.node is not None:
            tensor.retain_grad()
    return root
