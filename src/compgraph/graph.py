"""Back propagation: walk the graph once, from the output back to the leaves.

The walk is iterative (an explicit stack), so a graph 10,000 nodes deep does
not hit Python's recursion limit. For every node, in reverse topological order,
it calls ``backward`` with the summed gradient of the node's output, brings each
returned gradient to its input's shape (summing over broadcast axes) and dtype,
and passes it on: to the next node, or into ``.grad`` of a leaf.

What ``backward`` receives and may return, one rule for every node:

- ``grad_out`` arrives as a read-only view: the same array may also be on its way
  to another node, so writing into it raises :class:`~compgraph.node.InPlaceEditError`.
- It returns one array for a node with one input; a tuple or list with one entry
  per input, None where ``needs_input_grad`` is False; or, for a node with several
  inputs of which only the first needs a gradient (the notebook's CrossEntropy,
  whose second input is the target), that one array.
- Anything else is a :class:`BackwardError` naming the node and the input: None for
  an input that needs a gradient (a forgotten ``return``), a wrong count, a Tensor,
  an integer array, a shape that broadcasting cannot explain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from compgraph import anomaly
from compgraph.held import store_deltas
from compgraph.node import Node, in_place_error, is_released, release

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from compgraph.tensor import Tensor


class Recorder(Protocol):
    """Watches a backward pass (the explorer's recording); no cost when absent."""

    def step(self, output: Tensor, grad: NDArray[Any], leaving: list[Leaving]) -> None:
        """``output``'s node ran with ``grad`` arriving; ``leaving`` its input gradients."""


#: (input index, input tensor, the gradient it received, its running sum after it)
Leaving = tuple[int, "Tensor", "NDArray[Any]", "NDArray[Any]"]


def backward(
    root: Tensor,
    grad_out: Any = None,
    retain_graph: bool = False,
    retain_grads: bool = False,
    recorder: Recorder | None = None,
) -> None:
    """Accumulate d(root)/d(leaf), weighted by ``grad_out``, into every leaf's ``.grad``.

    ``retain_grads`` also keeps ``.grad`` on every intermediate tensor, and the graph
    (for drawing gradients afterwards); ``recorder`` is told every step.
    """
    retain_graph = retain_graph or retain_grads
    if not root.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad: no input of the "
            "computation had requires_grad=True, or it was computed under no_grad()"
        )
    grad = _initial_gradient(root, grad_out)
    # Arrays already stored somewhere this pass: a second store copies, so no two
    # .grad arrays share memory and an in-place optimizer update touches only one.
    stored: set[int] = {id(grad)}
    if root._node is None:
        _accumulate_leaf(root, grad, stored)
        return
    pending: dict[int, NDArray[Any]] = {id(root): grad}
    held_sums: dict[int, list[NDArray[Any]]] = {}  # nodes holding their own parameters
    for tensor in reversed(topological_order(root)):  # from the output back to the inputs
        node = tensor._node
        assert node is not None
        if id(tensor) not in pending:  # every path to this tensor returned None
            if not retain_graph:
                release(node)
            continue
        grad = pending.pop(id(tensor))
        if tensor._retains_grad or retain_grads:
            _accumulate_leaf(tensor, grad, stored)
        input_grads = _call_backward(node, grad, tensor)
        if "_template" in node.__dict__:
            store_deltas(node, held_sums)
        leaving: list[Leaving] | None = [] if recorder is not None else None
        for index, source in enumerate(node.inputs):
            input_grad = input_grads[index]
            if input_grad is None or not node.needs_input_grad[index]:
                if input_grad is None and node.needs_input_grad[index]:
                    raise _missing_gradient(node, index, input_grads)
                continue
            data = source.data
            if not (  # the common case, checked inline: nothing to fit
                type(input_grad) is np.ndarray
                and input_grad.shape == data.shape
                and input_grad.dtype == data.dtype
            ):
                input_grad = _fit_to_input(node, index, source, input_grad, tensor)
            if anomaly._enabled:
                anomaly.check_finite(input_grad, node, f"backward gradient for input {index}")
            if source._node is None:
                _accumulate_leaf(source, input_grad, stored)
            else:
                previous = pending.get(id(source))
                pending[id(source)] = input_grad if previous is None else previous + input_grad
            if leaving is not None:
                total = pending[id(source)] if source._node is not None else source._grad
                leaving.append((index, source, input_grad, input_grad if total is None else total))
        if recorder is not None and leaving is not None:
            recorder.step(tensor, grad, leaving)
        if not retain_graph:
            release(node)


def _initial_gradient(root: Tensor, grad_out: Any) -> NDArray[Any]:
    if grad_out is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient needs a scalar output, but this tensor has "
                f"shape {root.shape}; call backward(grad) with a gradient of that shape"
            )
        grad = np.empty(root.shape, root.dtype)
        grad.fill(1)  # np.ones, without its Python-level wrapper: this runs every step
        return grad
    grad = getattr(grad_out, "data", grad_out)
    grad = np.asarray(grad, dtype=root.dtype)
    if grad.shape != root.shape:
        raise ValueError(
            f"backward(grad): grad has shape {grad.shape} but the tensor has shape {root.shape}"
        )
    return grad


def _second_backward(node: Node) -> Exception:
    return RuntimeError(
        f"cannot back-propagate through {type(node).__name__} a second time: its saved "
        "arrays were released after the first backward(). Call "
        "backward(retain_graph=True) the first time to keep them, or recompute the forward"
    )


def topological_order(
    root: Tensor,
    include_leaves: bool = False,
    released: Callable[[Node], Exception] = _second_backward,
) -> list[Tensor]:
    """The tensors of ``root``'s graph, each once, every tensor after all its inputs.

    A node's inputs are visited in the order it takes them, so the order reads like
    the forward computation. Leaves are left out unless ``include_leaves``.

    Raises:
        the exception ``released(node)`` builds, for a node that backward() released.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    # (tensor, expanded): pushed once to expand its inputs, and once more, beneath
    # them, to be emitted after all of them.
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    push, pop = stack.append, stack.pop
    while stack:
        tensor, expanded = pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        node = tensor._node
        if node is None:
            if include_leaves:
                order.append(tensor)
            continue
        if is_released(node):
            raise released(node)
        push((tensor, True))
        for source in reversed(node.inputs):
            if include_leaves or source._node is not None:
                push((source, False))
    return order


class BackwardError(TypeError, ValueError):
    """A node's backward returned something the engine cannot use; the message names the
    node and says what to return. (A TypeError for a wrong type, a ValueError for a wrong
    shape: it is both, so either ``except`` catches it.)"""


def _call_backward(node: Node, grad: NDArray[Any], output: Tensor) -> tuple[Any, ...]:
    """Call ``node.backward`` with a read-only view of ``grad`` and return one entry per
    input (None where none is needed), by the rule in this module's docstring."""
    view = grad.view()  # read-only: grad may also be on its way to another node
    view.setflags(write=False)
    try:
        returned = node.backward(view)
    except ValueError as error:
        edit = in_place_error(node, "backward", error, (view,))
        if edit is None:
            raise
        raise edit from error
    count = len(node.inputs)
    if isinstance(returned, (tuple, list)):
        if len(returned) != count:
            raise BackwardError(
                f"{type(node).__name__}.backward returned {len(returned)} gradient(s) for "
                f"{count} input(s); return one per input, None where no gradient is needed"
            )
        return tuple(returned)
    if count == 1:
        return (returned,)
    needing = [index for index, needed in enumerate(node.needs_input_grad) if needed]
    if returned is None or needing == [0]:
        return (returned,) + (None,) * (count - 1)
    raise BackwardError(
        f"{type(node).__name__}.backward returned one gradient, but the node has {count} "
        f"inputs and inputs {needing} need gradients; return a tuple with one gradient per "
        "input, None where no gradient is needed"
    )


def _missing_gradient(node: Node, index: int, input_grads: tuple[Any, ...]) -> BackwardError:
    name = type(node).__name__
    if all(grad is None for grad in input_grads):
        return BackwardError(
            f"{name}.backward returned None, but input {index} needs a gradient: did you "
            "forget `return`? Return one gradient per input (a tuple for several inputs)"
        )
    return BackwardError(
        f"{name}.backward returned None for input {index}, which needs a gradient "
        f"(needs_input_grad[{index}] is True); return its gradient there: None is only for "
        "inputs that need none"
    )


def sum_to_shape(
    grad: NDArray[Any], shape: tuple[int, ...], output_shape: tuple[int, ...]
) -> NDArray[Any] | None:
    """Sum ``grad`` back to an input's ``shape`` by broadcasting's own rule; None if it cannot be.

    Broadcasting an input of ``shape`` into a node's output of ``output_shape`` adds
    leading axes and stretches axes of size 1. Only those axes are summed: leading axes
    the input lacks, and axes where the input has size 1 and the output does not. Any
    other difference is a wrong gradient, not one to sum.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0 or grad.ndim > len(output_shape):
        return None
    axes = list(range(extra))
    offset = len(output_shape) - len(shape)  # shapes are aligned from the right
    for axis, size in enumerate(shape):
        grad_size = grad.shape[axis + extra]
        if grad_size == size:
            continue
        if size == 1 and output_shape[axis + offset] != 1:
            axes.append(axis + extra)
        else:
            return None
    return grad.sum(axis=tuple(axes), keepdims=True).reshape(shape)


def _fit_to_input(
    node: Node, index: int, source: Tensor, grad: Any, output: Tensor
) -> NDArray[Any]:
    """Bring a returned gradient to its input's shape and dtype, or explain why it cannot be."""
    name = type(node).__name__
    data = source.data
    if not isinstance(grad, np.ndarray):
        if isinstance(grad, (np.generic, int, float)):  # a number for a scalar input
            grad = np.asarray(grad)
        else:
            kind = "a Tensor" if hasattr(grad, "_node") else f"a {type(grad).__name__}"
            fix = "; return its array (.data)" if hasattr(grad, "_node") else ""
            raise BackwardError(
                f"{name}.backward returned {kind} for input {index}; return a NumPy array of "
                f"the input's shape {source.shape}{fix}"
            )
    if grad.dtype.kind != "f":
        raise BackwardError(
            f"{name}.backward returned a {grad.dtype} gradient for input {index} of dtype "
            f"{source.dtype}; gradients are real floating-point arrays"
        )
    if grad.shape == data.shape and grad.dtype == data.dtype:  # the common case, checked first
        return grad
    fitted = sum_to_shape(grad, data.shape, output.shape)
    if fitted is None:
        raise BackwardError(
            f"{name}.backward returned a gradient of shape {grad.shape} for input {index}, "
            f"which has shape {source.shape} (the output has shape {output.shape}); a "
            "gradient has its input's shape, or the output's where the input was broadcast"
        )
    if fitted.dtype != source.dtype:
        # A promoting node (float32 * float64 -> float64) legitimately computes its
        # gradients in the wider type; a node that keeps its input's dtype must not.
        if output.dtype == source.dtype:
            raise BackwardError(
                f"{name}.backward returned a {fitted.dtype} gradient for input {index} of "
                f"dtype {source.dtype}; compute it in the input's dtype"
            )
        fitted = fitted.astype(source.dtype)
    return fitted


def _accumulate_leaf(leaf: Tensor, grad: NDArray[Any], stored: set[int]) -> None:
    # ._grad, not .grad: the property warns about a non-leaf's None, and this may be one
    # that retains its gradient.
    if leaf._grad is None:
        # Own the array: no read-only view (of grad_out, or a broadcast), no view of
        # another array, nothing already given to another tensor this pass.
        if not grad.flags.writeable or grad.base is not None or id(grad) in stored:
            grad = grad.copy()
        stored.add(id(grad))
        leaf._grad = grad
    else:
        leaf._grad = leaf._grad + grad
        stored.add(id(leaf._grad))
