"""The Tensor: an array, the node that produced it, and its gradient.

Every operation on a tensor is an explicit method that applies one node from
:mod:`compgraph.nodes`; nothing is attached at run time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from compgraph import graph, hints
from compgraph.node import Node, apply
from compgraph.nodes import activation, elementwise, linalg, reduction
from compgraph.nodes import shape as shape_nodes  # `shape` is also a Tensor property

Axis = int | tuple[int, ...] | None


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    Args:
        data: an array, a nested list, a number, or another Tensor (its data is used).
        requires_grad: whether ``backward()`` should compute ``.grad`` for this tensor.
        dtype: the element type; None keeps the array's own (float32 stays float32,
            integer labels stay integer; Python floats become float64, as in NumPy).
        name: an optional label, shown in reprs, errors and graph drawings.

    The array is shared, not copied, when ``data`` is already an ndarray of that dtype.

    Attributes:
        data: the value, an ndarray.
        grad: dL/d(this tensor) after ``backward()``, accumulated across calls; None before.
        requires_grad: whether gradients flow to this tensor.

    Example:
        >>> import compgraph as cg
        >>> x = cg.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        array([2., 4., 6.])
    """

    __slots__ = ("__weakref__", "_grad", "_node", "_retains_grad", "data", "name", "requires_grad")
    # Make NumPy hand `ndarray + Tensor` to Tensor.__radd__ instead of looping over elements.
    __array_ufunc__ = None

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: DTypeLike | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        array = np.asarray(data, dtype=dtype)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {array.dtype}; "
                "pass dtype=np.float32 or np.float64"
            )
        self.data: NDArray[Any] = array
        self.requires_grad = bool(requires_grad)
        self._grad: NDArray[Any] | None = None
        self.name = name
        self._node: Node | None = None
        self._retains_grad = False

    @classmethod
    def _from_node(cls, data: NDArray[Any], node: Node | None) -> Tensor:
        """A node's output: skips the checks of ``__init__`` on the hot path."""
        out = object.__new__(cls)
        out.data = data
        out.requires_grad = node is not None
        out._grad = None
        out.name = None
        out._node = node
        out._retains_grad = False
        return out

    # ----------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def node(self) -> Node | None:
        """The node application that produced this tensor (None for a leaf)."""
        return self._node

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad(self) -> NDArray[Any] | None:
        """dL/d(this tensor) after ``backward()``; None before, and for a non-leaf
        unless ``retain_grad()`` was called (reading that None warns, saying so)."""
        grad = self._grad
        if (
            grad is None
            and self._node is not None
            and not self._retains_grad
            and not hints.called_from_compgraph(1)  # the engine reads it before filling it
        ):
            hints.warn_non_leaf_grad(self)
        return grad

    @grad.setter
    def grad(self, value: NDArray[Any] | None) -> None:
        self._grad = value

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, threshold=20, prefix="tensor(")
        extras = [f"dtype={self.dtype}"]
        if self._node is not None:
            extras.append(f"node={type(self._node).__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"tensor({body}, {', '.join(extras)})"

    # ----------------------------------------------------------------- conversions
    def numpy(self) -> NDArray[Any]:
        """The value as an ndarray (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element, this one has shape {self.shape}"
            )
        return self.data.item()

    def detach(self) -> Tensor:
        """The same values, cut from the graph (no gradient flows through)."""
        return Tensor(self.data)

    # ----------------------------------------------------------------- autograd
    def backward(
        self,
        grad: Any = None,
        retain_graph: bool = False,
        retain_grads: bool = False,
        trace: bool = False,
    ) -> None:
        """Back-propagate from this tensor, adding into ``.grad`` of every leaf that requires it.

        Args:
            grad: dL/d(this tensor); may be omitted for a one-element tensor (taken as 1).
            retain_graph: keep the saved arrays so that backward can run through this
                graph again. By default they are released to free memory.
            retain_grads: also keep ``.grad`` on every intermediate result, and the graph:
                what ``viz.draw_graph(loss, grads=True)`` needs to draw every gradient.
            trace: print every node as the engine runs it, with the gradient that reached
                it and those it returned (``viz.trace_backward``, which also returns the
                text). The gradients are the same; only a trace records anything.
        """
        if trace:
            from compgraph.viz.trace import trace_backward  # viz sits above the engine

            trace_backward(self, grad, retain_graph=retain_graph, retain_grads=retain_grads)
            return
        graph.backward(self, grad, retain_graph=retain_graph, retain_grads=retain_grads)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def retain_grad(self) -> Tensor:
        """Ask ``backward()`` to also fill ``.grad`` of this non-leaf tensor.

        Call it before ``backward()``: without it, backward leaves ``.grad`` of a
        tensor a node produced at None (reading it then gives a CompgraphWarning).
        ``loss.backward(retain_grads=True)`` does this for every intermediate result.
        """
        self._retains_grad = True
        return self

    # ----------------------------------------------------------------- arithmetic
    def _operand(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, bool)):
            # A Python number takes this tensor's dtype, as in NumPy: float32 + 1.0 stays float32.
            return Tensor(np.asarray(other, dtype=np.result_type(self.dtype, other)))
        return Tensor(other)

    def __add__(self, other: Any) -> Tensor:
        return apply(elementwise.Add(), (self, self._operand(other)), fresh=True)

    def __radd__(self, other: Any) -> Tensor:
        return apply(elementwise.Add(), (self._operand(other), self), fresh=True)

    def __sub__(self, other: Any) -> Tensor:
        return apply(elementwise.Sub(), (self, self._operand(other)), fresh=True)

    def __rsub__(self, other: Any) -> Tensor:
        return apply(elementwise.Sub(), (self._operand(other), self), fresh=True)

    def __mul__(self, other: Any) -> Tensor:
        return apply(elementwise.Mul(), (self, self._operand(other)), fresh=True)

    def __rmul__(self, other: Any) -> Tensor:
        return apply(elementwise.Mul(), (self._operand(other), self), fresh=True)

    def __truediv__(self, other: Any) -> Tensor:
        return apply(elementwise.Div(), (self, self._operand(other)), fresh=True)

    def __rtruediv__(self, other: Any) -> Tensor:
        return apply(elementwise.Div(), (self._operand(other), self), fresh=True)

    def __matmul__(self, other: Any) -> Tensor:
        return apply(linalg.MatMul(), (self, self._operand(other)), fresh=True)

    def __rmatmul__(self, other: Any) -> Tensor:
        return apply(linalg.MatMul(), (self._operand(other), self), fresh=True)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, (int, float)):
            return apply(elementwise.PowScalar(exponent), (self,), fresh=True)
        return apply(elementwise.Pow(), (self, self._operand(exponent)), fresh=True)

    def __rpow__(self, base: Any) -> Tensor:
        return apply(elementwise.Pow(), (self._operand(base), self), fresh=True)

    def __neg__(self) -> Tensor:
        return apply(elementwise.Neg(), (self,), fresh=True)

    def exp(self) -> Tensor:
        return apply(elementwise.Exp(), (self,), fresh=True)

    def log(self) -> Tensor:
        return apply(elementwise.Log(), (self,), fresh=True)

    # ----------------------------------------------------------------- activations
    def sigmoid(self) -> Tensor:
        return apply(activation.Sigmoid(), (self,), fresh=True)

    def relu(self) -> Tensor:
        return apply(activation.ReLU(), (self,), fresh=True)

    def tanh(self) -> Tensor:
        return apply(activation.Tanh(), (self,), fresh=True)

    def softmax(self, axis: int = -1) -> Tensor:
        return apply(activation.Softmax(axis), (self,), fresh=True)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return apply(activation.LogSoftmax(axis), (self,), fresh=True)

    # ----------------------------------------------------------------- reductions
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return apply(reduction.Sum(axis, keepdims), (self,), fresh=True)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return apply(reduction.Mean(axis, keepdims), (self,), fresh=True)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return apply(reduction.Max(axis, keepdims), (self,), fresh=True)

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        """``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(shape_nodes.Reshape(shape), (self,), fresh=True)

    def transpose(self, *axes: Any) -> Tensor:
        """Reverse the axes, or permute them: ``t.transpose(1, 0, 2)``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(shape_nodes.Transpose(axes or None), (self,), fresh=True)

    def __getitem__(self, index: Any) -> Tensor:
        return apply(shape_nodes.GetItem(_unwrap_index(index)), (self,), fresh=True)


def _unwrap_index(index: Any) -> Any:
    """Replace tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(part.data if isinstance(part, Tensor) else part for part in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def tensor(
    data: Any,
    requires_grad: bool = False,
    dtype: DTypeLike | None = None,
    name: str | None = None,
) -> Tensor:
    """Make a :class:`Tensor` (see its documentation)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)
