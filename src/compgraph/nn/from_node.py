"""FromNode: a node instance used as a module, so that it can go into Sequential."""

from __future__ import annotations

from typing import Any

from compgraph.held import held_parameters, node_parameters
from compgraph.nn.module import Module
from compgraph.node import Node
from compgraph.tensor import Tensor


class FromNode(Module):
    """y = node(x): a node (compgraph's, or your own Node subclass) as a layer.

    ``Sequential`` wraps a node given among its layers in a FromNode itself, so
    ``nn.Sequential(nn.Linear(784, 10), MySigmoid())`` works as written.

    Args:
        node: an instance of a :class:`~compgraph.Node` subclass. It is applied as
            ``node(x)``: each call works on a copy, so one instance serves every step.

    Shape:
        whatever the node computes.

    Attributes:
        node: the wrapped node.
        param_0, param_1, …: for a node that holds its own parameters, as the
            notebook's Linear does (``self.parameters = [W, b]``): Parameters sharing
            the memory of ``node.parameters[0]``, ``[1]``, … (``cg.node_parameters``), so
            ``parameters()`` and an optimizer train them, ``state_dict()`` saves them
            under those names and ``load_state_dict()`` writes into the node's arrays.
            Arrays the node later replaces (rather than updates in place) are not followed.

    A node object cannot be rebuilt from a JSON architecture, so ``compgraph.save``
    refuses a model holding a FromNode (its ``config()`` raises ValueError): save
    ``model.state_dict()`` and rebuild the model in code instead.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> class Square(cg.Node):
        ...     def forward(self, x):
        ...         self.x = x
        ...         return x * x
        ...     def backward(self, grad_out):
        ...         return 2 * self.x * grad_out
        >>> model = cg.nn.Sequential(cg.nn.Linear(3, 2, rng=0), Square())
        >>> model[1]
        FromNode(Square())
        >>> model(cg.tensor(np.ones((4, 3), np.float32))).shape
        (4, 2)
    """

    def __init__(self, node: Node) -> None:
        if isinstance(node, type):
            raise TypeError(
                f"FromNode takes a node instance, not the class {node.__name__}: "
                f"write FromNode({node.__name__}())"
            )
        if not isinstance(node, Node):
            raise TypeError(
                f"FromNode takes an instance of a Node subclass, not a {type(node).__name__}"
            )
        self.node = node
        if held_parameters(node) is not None:
            for index, parameter in enumerate(node_parameters(node)):
                setattr(self, f"param_{index}", parameter)

    def forward(self, *inputs: Any) -> Tensor:
        return self.node(*inputs)

    def config(self) -> dict[str, Any]:
        # A ValueError, not the TypeError of a module without config(): compgraph.save
        # writes weights only for those, and a checkpoint compgraph.load cannot rebuild
        # is better refused when it is written than found out when it is read.
        raise ValueError(
            f"{self!r} wraps a node object, which an architecture saved as JSON cannot "
            "rebuild; save model.state_dict() instead (np.savez(path, **model.state_dict())) "
            "and rebuild the model in code before load_state_dict()"
        )

    @classmethod
    def state_shapes(cls, **config: Any) -> dict[str, tuple[int, ...]]:
        raise TypeError("a FromNode cannot be built from an architecture saved as JSON")

    def extra_repr(self) -> str:
        return repr(self.node)
