"""The original notebook's unit of computation: a node with an explicit forward and backward.

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

The contract, checked by the engine:

- ``forward`` receives one NumPy array per input, each a read-only view (the
  memory is the caller's, or a parameter's), and returns one array (a NumPy or
  Python number also serves). Anything else, None from a forgotten ``return``
  included, is a :class:`ForwardError`.
- ``backward`` receives ``grad_out``, dL/d(output), as a read-only view (the same
  array may be on its way to another node too), and returns one gradient per
  input: one array for a node with one input, else a tuple (or list) with one
  entry per input. None is allowed only where ``needs_input_grad`` is False, and
  a node whose other inputs need no gradient (a loss and its target) may return
  the first input's gradient alone. Anything else is a ``BackwardError``
  (:mod:`compgraph.graph`), None from a forgotten ``return`` included.
- Writing into any of these views (``x += 1``, ``x[x < 0] = 0``,
  ``np.exp(x, out=x)``) raises :class:`InPlaceEditError`, naming the node and the
  array: copy first (``x = x.copy()``) or compute a new array. (NumPy's
  ``np.add.at`` and other ``ufunc.at`` calls ignore the read-only flag, as of
  NumPy 2.4: they are not caught.) What forward returns is not guarded: an
  output that is a view of an input (``x.reshape``) is writeable, as before.
- A forward that refuses its inputs raises ``self.shape_error(...)``
  (:class:`ShapeError`) or ``self.value_error(...)`` (:class:`InputValueError`,
  e.g. a class label out of range); both pass through unchanged. Any other
  ValueError (NumPy's broadcasting errors) becomes a ShapeError naming the node.

Each call works on a shallow copy of the node, so one instance can be applied
many times (even twice in one graph) and every application keeps its own saved
arrays. Settings given to ``__init__`` (an axis, a stride) are shared by the
copies. A node may also hold its own parameters, as the notebook's Linear does
(``self.parameters = [W, b]``, filling ``self.parameters_deltas`` in backward):
see :mod:`compgraph.held`.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import re
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


class InputValueError(ValueError):
    """An input's values are invalid for the node (a class label out of range); the
    message names the node once. ``apply`` passes it on unchanged, as a ShapeError."""


class ForwardError(TypeError):
    """A node's forward returned something other than its output array.

    forward works on NumPy arrays and returns one array (or a number). None means a
    forgotten ``return``; a Tensor, a list or a tuple are not one array. The message
    names the node and says what to return.
    """


class InPlaceEditError(ValueError):
    """A node's forward wrote into an input, or its backward into ``grad_out``.

    Both methods receive read-only views, because those arrays are not theirs: an
    input is the caller's array (or a parameter), and ``grad_out`` may be on its way
    to another node as well. The message names the node, the method and the array,
    and says to copy first (``x = x.copy()``) or to compute a new array; the
    exception is chained from NumPy's "read-only" ValueError.
    """


class Node:
    """Base class of every operation in the graph.

    Subclasses implement ``forward(*arrays) -> array`` and
    ``backward(grad_out) -> array | tuple`` (one entry per input, ``None``
    where no gradient is needed). Both receive read-only views and must not
    write into them (:class:`InPlaceEditError`): an input is the caller's array,
    and ``grad_out`` may also be on its way to another node. The engine, not the
    node, sums a gradient over broadcast axes back to its input's shape, and
    checks its shape and dtype.

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

    def value_error(self, message: str) -> InputValueError:
        """An InputValueError (a ValueError) whose message starts with this node's name:
        for input values the node cannot take, such as a class label out of range."""
        return InputValueError(f"{type(self).__name__}: {message}")


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

    # Read-only views: a forward that writes into an input (x += 1) would change the
    # caller's array or a parameter. A view and its flag cost about 0.45 µs per input.
    arrays = []
    for t in tensors:
        view = t.data.view()
        view.setflags(write=False)  # faster than view.flags.writeable = False
        arrays.append(view)
    try:
        output = node.forward(*arrays)
    except (ShapeError, InputValueError, InPlaceEditError):
        raise
    except ValueError as error:  # NumPy's broadcasting and matmul errors name no node
        edit = in_place_error(node, "forward", error, arrays)
        if edit is not None:
            raise edit from error
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ShapeError(f"{type(node).__name__}: {error} (input shapes {shapes})") from error
    if type(output) is not np.ndarray:
        output = _forward_output(node, output)
    if output.base is not None and not output.flags.writeable:
        output = _writeable_again(output)

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


def _forward_output(node: Node, output: Any) -> NDArray[Any]:
    """A forward result that is not exactly an ndarray, as one; or the ForwardError."""
    if isinstance(output, np.ndarray):  # a subclass, kept as it is
        return output
    if isinstance(output, (np.generic, int, float, complex)):  # the notebook's Mean: a number
        return np.asarray(output)
    name = type(node).__name__
    if output is None:
        message = "returned None: did you forget `return`? Return the output, a NumPy array"
    elif hasattr(output, "_node"):
        message = (
            "returned a Tensor, but forward works on NumPy arrays (its inputs are arrays): "
            "compute the output with NumPy and return that array"
        )
    elif isinstance(output, (list, tuple)):
        message = (
            f"returned a {type(output).__name__} of {len(output)} item(s); return one array "
            "(a node has one output: stack the results, or make one node per output)"
        )
    else:
        message = f"returned a {type(output).__name__}; return the output, a NumPy array"
    raise ForwardError(f"{name}.forward {message}")


def _writeable_again(output: NDArray[Any]) -> NDArray[Any]:
    """An output that is a view of a read-only input view (``x.reshape``, ``x.T``, or the
    input itself), made writeable as it was before inputs were read-only: the views guard
    the node's inputs, not what it returns. A new view, so that what the node saved (the
    input view itself) stays read-only. Memory that was read-only already (a read-only
    array of the caller's) stays so."""
    writeable = output.view()
    with contextlib.suppress(ValueError):
        writeable.setflags(write=True)
    return writeable


#: NumPy's own frames are skipped when looking for the line that wrote into a view.
_NUMPY_FOLDER = os.path.dirname(np.__file__) + os.sep
_OUT_ARGUMENT = re.compile(r"\bout\s*=\s*\(?\s*([A-Za-z_][\w.]*)")
_DOTTED_NAME = re.compile(r"[A-Za-z_][\w.]*")


def in_place_error(
    node: Node, method: str, error: Exception, views: list[NDArray[Any]] | tuple[Any, ...]
) -> InPlaceEditError | None:
    """The InPlaceEditError for NumPy's read-only error raised in ``node.<method>``.

    ``views`` are the read-only views the method was handed (the inputs, or
    ``grad_out``). None when ``error`` is some other ValueError.
    """
    if isinstance(error, InPlaceEditError) or "read-only" not in str(error):
        return None
    variable, index, line = _written_array(error, views)
    x = variable or "x"
    if index is not None and method == "forward":
        what, effect = f"input {index} (`{x}`)", ", which would change the caller's array"
        why = "forward receives read-only views"
    elif index is not None:
        what = "grad_out" if x == "grad_out" else f"grad_out (`{x}`)"
        effect = ", which may also be on its way to another node"
        why = "backward receives a read-only view"
    else:
        what, effect = ("a read-only array" if variable is None else f"`{x}`"), ""
        why = "forward's inputs, and what a node keeps of them, are read-only views"
    at = f" at `{line}`" if line else ""
    return InPlaceEditError(
        f"{type(node).__name__}.{method} writes into {what} in place{at}{effect} ({why}); "
        f"copy it first (`{x} = {x}.copy()`) or compute a new array (`{x} * 2` rather than "
        f"`{x} *= 2`, `np.maximum({x}, 0)` rather than `{x}[{x} < 0] = 0`)"
    )


def _written_array(
    error: Exception, views: list[NDArray[Any]] | tuple[Any, ...]
) -> tuple[str | None, int | None, str]:
    """The name of the read-only array the failing line wrote into, which view it is,
    and the line.

    Looks at the innermost frame of the traceback outside NumPy: the ``out=`` argument
    of its line, else the name the line starts with (``x[...] = 0``, ``x += 1``), else
    any name on it, that is a read-only array there.
    """
    frames = []
    traceback = error.__traceback__
    while traceback is not None:
        frames.append((traceback.tb_frame, traceback.tb_lineno))
        traceback = traceback.tb_next
    for frame, line_number in reversed(frames):
        if frame.f_code.co_filename.startswith(_NUMPY_FOLDER):
            continue
        line = linecache.getline(frame.f_code.co_filename, line_number).strip()
        names = _OUT_ARGUMENT.findall(line) + _DOTTED_NAME.findall(line)
        for dotted in names:
            parts = dotted.split(".")
            for length in range(len(parts), 0, -1):  # x.fill: not an array, but x is
                value = _look_up(frame.f_locals, parts[:length])
                if isinstance(value, np.ndarray) and not value.flags.writeable:
                    return ".".join(parts[:length]), _view_index(value, views), line
        return None, None, line
    return None, None, ""


def _look_up(names: dict[str, Any], parts: list[str]) -> Any:
    value = names.get(parts[0])
    try:
        for part in parts[1:]:
            value = getattr(value, part, None)
    except Exception:  # a property that raises: not the array we look for
        return None
    return value


def _view_index(array: NDArray[Any], views: list[NDArray[Any]] | tuple[Any, ...]) -> int | None:
    for index, view in enumerate(views):
        if array is view:
            return index
    for index, view in enumerate(views):
        if np.may_share_memory(array, view):
            return index
    return None


def release(node: Node) -> None:
    """Drop what a node saved (and its inputs), keeping a mark for a clear error later."""
    node.__dict__.clear()
    node._released = True


def is_released(node: Node) -> bool:
    return "_released" in node.__dict__


# Last, and as a module: compgraph.tensor imports this module and the nodes, so
# Tensor is looked up when a node is applied, whichever module was imported first.
import compgraph.tensor as _tensor_module  # noqa: E402
