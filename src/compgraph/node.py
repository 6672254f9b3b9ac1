"""The seed's unit of computation: a node with an explicit forward and backward.

A node class takes plain arrays in :meth:`Node.forward`, saves on ``self``
whatever :meth:`Node.backward` will need, and returns one gradient per input
from ``backward``. Calling a node on tensors (``Sigmoid()(x)``) runs forward
and records the application in the graph::

    class Square(Node):
        '''y = x², dL/dx = 2·x·dL/dy'''
        def forward(self, x):
            self.x = x
            return x * x
        def backward(self, grad_out):
            return 2 * self.x * grad_out

Each call works on a shallow copy of the node, so one instance can be applied
many times (even twice in one graph) and every application keeps its own saved
arrays. Settings given to ``__init__`` (an axis, a stride) are shared by the
copies. A node may also hold its own parameters, as the notebook's Linear does
(``self.parameters = [W, b]``, filling ``self.parameters_deltas`` in backward):
see :mod:`compgraph.held`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from compgraph import anomaly, grad_mode, scope
from compgraph.held import held_parameters

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from compgraph.tensor import Tensor


_ENGINE_ATTRIBUTES = frozenset({"inputs", "needs_input_grad", "scope"})


class ShapeError(ValueError):
    """Inputs of incompatible shapes; the message names the node and the shapes."""


class Node:
    """Base class of every operation in the graph.

    Subclasses implement ``forward(*arrays) -> array`` and
    ``backward(grad_out) -> array | tuple`` (one entry per input, ``None``
    where no gradient is needed). ``backward`` must not modify ``grad_out`` in
    place: the same array may also be on its way to another node. The engine,
    not the node, sums a gradient over broadcast axes back to its input's
    shape, and checks its shape and dtype.

    Attributes set by the engine on each application:
        inputs: the input tensors (only while the graph is alive).
        needs_input_grad: one bool per input; a backward may skip the others.
        scope: the modules (outermost first) whose forward applied the node, if any.
    """

    #: Every Node subclass, by qualified name, so tests can list them all.
    registry: ClassVar[dict[str, type[Node]]] = {}

    inputs: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    scope: tuple[Any, ...] = ()
    _created_at: str  # only under detect_anomaly()
    _released: bool  # only once backward() has released the saved arrays
    _template: Node  # only for a node holding its own parameters: the instance applied

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Node.registry[f"{cls.__module__}.{cls.__qualname__}"] = cls

    if TYPE_CHECKING:
        # Each node declares its own inputs, so type checkers see no fixed signature here.
        forward: Callable[..., NDArray[Any]]
        backward: Callable[..., Any]
    else:

        def forward(self, *arrays):
            raise NotImplementedError(f"{type(self).__name__} does not define forward()")

        def backward(self, grad_out):
            raise NotImplementedError(f"{type(self).__name__} does not define backward()")

    def __call__(self, *inputs: Any) -> Tensor:
        return apply(self, inputs)

    def __repr__(self) -> str:
        settings = ", ".join(
            f"{key}={value!r}"
            for key, value in vars(self).items()
            if key not in _ENGINE_ATTRIBUTES
            and not key.startswith("_")
            and (value is None or np.isscalar(value) or isinstance(value, tuple))
        )
        return f"{type(self).__name__}({settings})"

    def shape_error(self, message: str) -> ShapeError:
        """A ShapeError whose message starts with this node's name."""
        return ShapeError(f"{type(self).__name__}: {message}")


def apply(template: Node, inputs: tuple[Any, ...], fresh: bool = False) -> Tensor:
    """Run ``template``'s forward on a copy of it and record that copy in the graph.

    ``fresh=True`` says the caller made ``template`` for this one application
    (as Tensor's methods do), so it is used as it is, without a copy.
    """
    tensor_class = _tensor_module.Tensor
    # Plain loops and direct reads of the mode flags: this runs for every node of every step.
    tensors = tuple([x if isinstance(x, tensor_class) else tensor_class(x) for x in inputs])
    if fresh:
        node = template
    else:
        node = object.__new__(type(template))
        node.__dict__.update(template.__dict__)
    wanted = [t.requires_grad for t in tensors]
    # A node that holds its own parameters (the notebook's Linear) is recorded even when
    # no input needs a gradient: its parameters do.
    holds = "parameters" in node.__dict__ and held_parameters(node) is not None
    record = grad_mode._enabled and (True in wanted or holds)
    node.needs_input_grad = tuple(wanted) if record else (False,) * len(wanted)
    if holds:
        node._template = template
    if anomaly._enabled:
        node._created_at = anomaly.creation_site()
    if scope._stack:
        node.scope = tuple(scope._stack)

    arrays = [t.data for t in tensors]
    try:
        output = node.forward(*arrays)
    except ShapeError:
        raise
    except ValueError as error:  # NumPy's broadcasting and matmul errors name no node
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ShapeError(f"{type(node).__name__}: {error} (input shapes {shapes})") from error
    if not isinstance(output, np.ndarray):
        output = np.asarray(output)

    if anomaly._enabled:
        anomaly.check_finite(output, node, "forward output")
    if record and output.dtype.kind == "f":
        node.inputs = tensors
        return tensor_class._from_node(output, node)
    if record and output.dtype.kind == "c":
        raise TypeError(
            f"{type(node).__name__}: the output is {output.dtype}, and compgraph "
            "differentiates real floating-point values only; take the real part (or keep "
            "complex values out of the graph) before applying a node to a tensor that "
            "requires grad"
        )
    return tensor_class._from_node(output, None)


def release(node: Node) -> None:
    """Drop what a node saved (and its inputs), keeping a mark for a clear error later."""
    node.__dict__.clear()
    node._released = True


def is_released(node: Node) -> bool:
    return "_released" in node.__dict__


# Last, and as a module: compgraph.tensor imports this module and the nodes, so
# Tensor is looked up when a node is applied, whichever module was imported first.
import compgraph.tensor as _tensor_module  # noqa: E402
