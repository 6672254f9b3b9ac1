"""The Tensor: an array, the node that produced it, and its gradient.

Every operation on a tensor is an explicit method that applies one node from
:mod:`compgraph.nodes`; nothing is attached at run time.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, overload

import numpy as np
from numpy.lib.array_utils import normalize_axis_index
from numpy.typing import DTypeLike, NDArray

from compgraph import graph, hints
from compgraph.node import Node, apply
from compgraph.nodes import activation, elementwise, linalg, reduction
from compgraph.nodes import shape as shape_nodes  # `shape` is also a Tensor property

Axis = int | tuple[int, ...] | None
Real = float  # for annotations inside Tensor, where `float` names its method


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    Args:
        data: an array, a nested list, a number, or another Tensor (its data is used).
        requires_grad: whether ``backward()`` should compute ``.grad`` for this tensor.
        dtype: the element type; None keeps the array's own (float32 stays float32,
            integer labels stay integer; Python floats become float64, as in NumPy).
        name: an optional label, shown in reprs, errors and graph drawings.

    The array is shared, not copied, when ``data`` is already an ndarray of that dtype.

    NumPy's and PyTorch's names both work (``axis``/``dim``, ``keepdims``/``keepdim``,
    ``reshape``/``view``, ``transpose``/``permute``, ``clip``/``clamp``, ``astype``/``float``),
    so a PyTorch model ports line by line. Where one spelling means two things, the
    method's docstring says which it does: ``size``, ``max``/``min`` with ``dim=``,
    ``var``/``std``, ``transpose`` of two axes, ``view``, ``flatten``, ``squeeze``.
    Comparisons, ``argmax`` and ``argmin`` give tensors outside the graph; a number
    (Python's or NumPy's) never promotes a float32 tensor to float64.

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
    def size(self) -> Size:
        """The number of elements, an int, as NumPy's ``a.size``; calling it,
        ``t.size()`` or ``t.size(dim)``, gives the shape or one length, as PyTorch's."""
        return Size(self.data.shape)

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``t.size``)."""
        return self.data.size

    def dim(self) -> int:
        """The number of axes (PyTorch's name for ``t.ndim``)."""
        return self.data.ndim

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

    def __bool__(self) -> bool:
        """The truth of a one-element tensor (``if loss < 0.1:``); any other size is an error."""
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements (shape "
                f"{self.shape}) is ambiguous; use t.any() or t.all()"
            )
        return bool(self.data.reshape(()))

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

    def tolist(self) -> Any:
        """The value as (nested) Python lists of Python numbers; a number for a 0-d tensor."""
        return self.data.tolist()

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
        number = _scalar(other)
        if number is not None:
            # A number takes this tensor's dtype where it fits, as in NumPy for Python numbers
            # and in PyTorch for every scalar: float32 * np.float64(2) stays float32.
            return Tensor(np.asarray(number, dtype=np.result_type(self.dtype, number)))
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
        number = _scalar(exponent)
        if number is not None:
            return apply(elementwise.PowScalar(number), (self,), fresh=True)
        return apply(elementwise.Pow(), (self, self._operand(exponent)), fresh=True)

    def __rpow__(self, base: Any) -> Tensor:
        return apply(elementwise.Pow(), (self._operand(base), self), fresh=True)

    def __neg__(self) -> Tensor:
        return apply(elementwise.Neg(), (self,), fresh=True)

    def exp(self) -> Tensor:
        return apply(elementwise.Exp(), (self,), fresh=True)

    def log(self) -> Tensor:
        return apply(elementwise.Log(), (self,), fresh=True)

    def abs(self) -> Tensor:
        return apply(elementwise.Abs(), (self,), fresh=True)

    __abs__ = abs  # abs(t)

    def sqrt(self) -> Tensor:
        return apply(elementwise.Sqrt(), (self,), fresh=True)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # PyTorch's and NumPy's names
        """Limit the values to [min, max]; a bound left None is not applied (``clip`` too).

        Bounds are numbers: a NumPy scalar keeps a float32 tensor float32, as a Python one does.
        """
        if min is None and max is None:
            raise TypeError("clamp() needs min=, max= or both")
        bounds = [None if b is None else _scalar(b) for b in (min, max)]
        if any(
            b is None and given is not None for b, given in zip(bounds, (min, max), strict=True)
        ):
            raise TypeError(
                f"clamp() takes numbers as bounds, got {type(min).__name__}, "
                f"{type(max).__name__}; use cg.where for tensor bounds"
            )
        return apply(elementwise.Clamp(bounds[0], bounds[1]), (self,), fresh=True)

    clip = clamp  # NumPy's name

    # ----------------------------------------------------------------- dtypes
    def astype(self, dtype: DTypeLike) -> Tensor:
        """The values in another dtype (a copy, as NumPy's ``astype``).

        Differentiable between floating dtypes: the gradient is cast back. A cast to an
        integer or boolean dtype gives a tensor outside the graph.
        """
        return apply(elementwise.Cast(dtype), (self,), fresh=True)

    def float(self) -> Tensor:
        """``astype(np.float32)``, as PyTorch's ``.float()`` (differentiable)."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """``astype(np.float64)``, as PyTorch's ``.double()`` (differentiable)."""
        return self.astype(np.float64)

    def long(self) -> Tensor:
        """``astype(np.int64)``, as PyTorch's ``.long()``: class labels; outside the graph."""
        return self.astype(np.int64)

    # ----------------------------------------------------------------- comparisons
    # Each gives a boolean tensor outside the graph, as in NumPy and PyTorch:
    # ``(pred == y).float().mean()`` is the accuracy. Tensors stay hashable by identity
    # (the engine and the modules keep them in sets and dicts).
    __hash__ = object.__hash__

    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        if not isinstance(other, (Tensor, np.ndarray, np.generic, int, float, list)):
            return NotImplemented
        return Tensor(ufunc(self.data, self._operand(other).data))

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def any(
        self,
        axis: Axis = None,
        keepdims: bool | None = None,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Whether any element is true (non-zero), over ``axis``/``dim``; outside the graph."""
        axis, keep = axis_names("any", axis, dim, keepdims, keepdim)
        return Tensor(np.asarray(self.data.any(axis=axis, keepdims=keep)))

    def all(
        self,
        axis: Axis = None,
        keepdims: bool | None = None,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Whether every element is true (non-zero), over ``axis``/``dim``; outside the graph."""
        axis, keep = axis_names("all", axis, dim, keepdims, keepdim)
        return Tensor(np.asarray(self.data.all(axis=axis, keepdims=keep)))

    # ----------------------------------------------------------------- activations
    def sigmoid(self) -> Tensor:
        return apply(activation.Sigmoid(), (self,), fresh=True)

    def relu(self) -> Tensor:
        return apply(activation.ReLU(), (self,), fresh=True)

    def tanh(self) -> Tensor:
        return apply(activation.Tanh(), (self,), fresh=True)

    def softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Softmax over ``axis`` (or PyTorch's ``dim``); the last axis by default."""
        chosen, _ = axis_names("softmax", axis, dim, None, None)
        return apply(activation.Softmax(-1 if chosen is None else chosen), (self,), fresh=True)

    def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """log(softmax) over ``axis`` (or PyTorch's ``dim``); the last axis by default."""
        chosen, _ = axis_names("log_softmax", axis, dim, None, None)
        return apply(activation.LogSoftmax(-1 if chosen is None else chosen), (self,), fresh=True)

    # ----------------------------------------------------------------- reductions
    # Every axis-taking method takes NumPy's ``axis``/``keepdims`` or PyTorch's ``dim``/``keepdim``.
    def sum(
        self,
        axis: Axis = None,
        keepdims: bool | None = None,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        axis, keep = axis_names("sum", axis, dim, keepdims, keepdim)
        return apply(reduction.Sum(axis, keep), (self,), fresh=True)

    def mean(
        self,
        axis: Axis = None,
        keepdims: bool | None = None,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        axis, keep = axis_names("mean", axis, dim, keepdims, keepdim)
        return apply(reduction.Mean(axis, keep), (self,), fresh=True)

    @overload
    def max(
        self, *, axis: Axis = None, keepdims: bool | None = None, keepdim: bool | None = None
    ) -> Tensor: ...
    @overload
    def max(
        self, *, dim: int, keepdims: bool | None = None, keepdim: bool | None = None
    ) -> ValuesAndIndices: ...
    def max(
        self,
        *positional: Any,
        axis: Axis = None,
        dim: int | None = None,
        keepdims: bool | None = None,
        keepdim: bool | None = None,
    ) -> Any:
        """The largest values over ``axis``; ties share the gradient (see ``nodes.Max``).

        ``t.max(axis=1)`` gives the values, as NumPy; ``t.max(dim=1)`` gives
        ``(values, indices)``, as PyTorch (the indices, those of ``argmax``, are outside
        the graph). ``t.max(1)`` means one in NumPy and the other in PyTorch, so it is
        refused, with a message naming both spellings.
        """
        return self._extreme(
            "max", reduction.Max, np.argmax, positional, axis, dim, keepdims, keepdim
        )

    @overload
    def min(
        self, *, axis: Axis = None, keepdims: bool | None = None, keepdim: bool | None = None
    ) -> Tensor: ...
    @overload
    def min(
        self, *, dim: int, keepdims: bool | None = None, keepdim: bool | None = None
    ) -> ValuesAndIndices: ...
    def min(
        self,
        *positional: Any,
        axis: Axis = None,
        dim: int | None = None,
        keepdims: bool | None = None,
        keepdim: bool | None = None,
    ) -> Any:
        """The smallest values over ``axis``; ties share the gradient (see ``nodes.Min``).

        ``t.min(axis=1)`` gives the values (NumPy), ``t.min(dim=1)`` gives
        ``(values, indices)`` (PyTorch), ``t.min(1)`` is refused: as for ``max``.
        """
        return self._extreme(
            "min", reduction.Min, np.argmin, positional, axis, dim, keepdims, keepdim
        )

    def _extreme(
        self,
        method: str,
        node: type[reduction.Max | reduction.Min],
        arg: Any,
        positional: tuple[Any, ...],
        axis: Axis,
        dim: int | None,
        keepdims: bool | None,
        keepdim: bool | None,
    ) -> Any:
        if positional:
            raise TypeError(
                f"t.{method}({', '.join(map(repr, positional))}) means the values in NumPy but "
                f"(values, indices) in PyTorch: write t.{method}(axis=...) for the values, "
                f"t.{method}(dim=...) for (values, indices)"
            )
        chosen, keep = axis_names(method, axis, dim, keepdims, keepdim)
        if dim is not None and not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{method}(dim=) takes one axis, as in PyTorch; use axis= for several")
        values = apply(node(chosen, keep), (self,), fresh=True)
        if dim is None:
            return values
        indices = Tensor(np.asarray(arg(self.data, axis=dim, keepdims=keep)))
        return ValuesAndIndices(values, indices)

    def argmax(
        self,
        axis: int | None = None,
        keepdims: bool | None = None,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The index of the (first) largest value over ``axis``, of the flattened tensor when
        None; an int64 tensor outside the graph (``(t.argmax(dim=1) == y).float().mean()``)."""
        axis, keep = axis_names("argmax", axis, dim, keepdims, keepdim)
        return Tensor(np.asarray(np.argmax(self.data, axis=axis, keepdims=keep)))

    def argmin(
        self,
        axis: int | None = None,
        keepdims: bool | None = None,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The index of the (first) smallest value over ``axis``: as ``argmax``."""
        axis, keep = axis_names("argmin", axis, dim, keepdims, keepdim)
        return Tensor(np.asarray(np.argmin(self.data, axis=axis, keepdims=keep)))

    def var(
        self,
        axis_or_dim: Axis = None,
        /,
        *,
        axis: Axis = None,
        dim: Axis = None,
        keepdims: bool | None = None,
        keepdim: bool | None = None,
        ddof: Real | None = None,
        correction: Real | None = None,
        unbiased: bool | None = None,
    ) -> Tensor:
        """The variance Σ(x − x̄)² / (N − c) over the axes (``nodes.Var``).

        NumPy divides by N (``ddof=0``) and PyTorch by N − 1 (``correction=1``) by default,
        so the divisor is never guessed:

        - ``ddof=c`` (NumPy), ``correction=c`` or ``unbiased=True/False`` (PyTorch) say it;
        - otherwise the spelling of the axis does: ``axis=`` divides by N, as NumPy's
          ``var(axis=)``; ``dim=`` by N − 1, as PyTorch's ``var(dim=)``;
        - otherwise (``t.var()``, ``t.var(0)``) it is an error that names both.
        """
        divisor = _correction("var", axis_or_dim, axis, dim, ddof, correction, unbiased)
        if axis_or_dim is not None:
            axis = axis_or_dim
        axis, keep = axis_names("var", axis, dim, keepdims, keepdim)
        return apply(reduction.Var(axis, keep, divisor), (self,), fresh=True)

    def std(
        self,
        axis_or_dim: Axis = None,
        /,
        *,
        axis: Axis = None,
        dim: Axis = None,
        keepdims: bool | None = None,
        keepdim: bool | None = None,
        ddof: Real | None = None,
        correction: Real | None = None,
        unbiased: bool | None = None,
    ) -> Tensor:
        """The standard deviation, √var: the divisor N or N − 1 follows ``var``'s rule."""
        divisor = _correction("std", axis_or_dim, axis, dim, ddof, correction, unbiased)
        if axis_or_dim is not None:
            axis = axis_or_dim
        axis, keep = axis_names("std", axis, dim, keepdims, keepdim)
        variance = apply(reduction.Var(axis, keep, divisor), (self,), fresh=True)
        return variance.sqrt()

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        """``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(shape_nodes.Reshape(shape), (self,), fresh=True)

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's ``view(*shape)``: the same as ``reshape`` (a Reshape node).

        NumPy's ``view(dtype)`` reinterprets the memory instead; a dtype is refused here
        (use ``astype`` to convert the values).
        """
        if any(isinstance(s, (type, np.dtype, str)) for s in shape):
            raise TypeError(
                "view() takes a shape, as PyTorch's; NumPy's view(dtype) reinterprets the bytes, "
                "which a tensor in a graph does not do: use astype(dtype) to convert the values"
            )
        return self.reshape(*shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Join the axes start_dim..end_dim into one, as PyTorch's ``flatten``
        (``t.flatten(1)`` keeps the batch axis). NumPy's ``flatten(order)`` is refused."""
        if isinstance(start_dim, str):
            raise TypeError(
                "flatten(start_dim, end_dim) as in PyTorch; NumPy's order "
                "argument is not taken (use reshape(-1))"
            )
        shape = self.shape
        if not shape:
            return self.reshape(1)
        start = normalize_axis_index(start_dim, len(shape))
        end = normalize_axis_index(end_dim, len(shape))
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        joined = math.prod(shape[start : end + 1])
        return self.reshape(*shape[:start], joined, *shape[end + 1 :])

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Drop axes of length 1: all of them, or those of ``axis``/``dim`` that have length 1.

        An axis given whose length is not 1 stays, as in PyTorch (NumPy raises there).
        """
        chosen, _ = axis_names("squeeze", axis, dim, None, None)
        ndim = self.ndim
        if chosen is None:
            drop = {a for a, n in enumerate(self.shape) if n == 1}
        else:
            axes = (chosen,) if isinstance(chosen, (int, np.integer)) else chosen
            given = {normalize_axis_index(int(a), ndim) for a in axes}
            drop = {a for a in given if self.shape[a] == 1}
        return self.reshape(*(n for a, n in enumerate(self.shape) if a not in drop))

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Insert an axis of length 1 at ``axis``/``dim`` (NumPy's ``expand_dims``)."""
        chosen, _ = axis_names("unsqueeze", axis, dim, None, None)
        if chosen is None:
            raise TypeError("unsqueeze() needs the position of the new axis (axis= or dim=)")
        position = normalize_axis_index(chosen, self.ndim + 1)
        shape = self.shape
        return self.reshape(*shape[:position], 1, *shape[position:])

    def transpose(self, *axes: Any) -> Tensor:
        """Reverse the axes (``t.transpose()``), permute them (``t.transpose(1, 0, 2)``, as
        NumPy), or swap two (``t.transpose(0, 1)``, as PyTorch).

        Two axes always swap: on a 2-d tensor NumPy's ``transpose(0, 1)`` is the identity
        permutation, which nobody writes; PyTorch's swaps, which is what ported code means.
        """
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if len(axes) == 2:
            first, second = (normalize_axis_index(a, self.ndim) for a in axes)
            order = list(range(self.ndim))
            order[first], order[second] = order[second], order[first]
            axes = tuple(order)
        return apply(shape_nodes.Transpose(axes or None), (self,), fresh=True)

    def permute(self, *axes: Any) -> Tensor:
        """Put the axes in a new order, as PyTorch's ``permute`` (NumPy's ``transpose(axes)``)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(shape_nodes.Transpose(tuple(axes)), (self,), fresh=True)

    def __getitem__(self, index: Any) -> Tensor:
        return apply(shape_nodes.GetItem(_unwrap_index(index)), (self,), fresh=True)


class ValuesAndIndices(NamedTuple):
    """What ``t.max(dim=)`` and ``t.min(dim=)`` return, as PyTorch's ``torch.return_types``."""

    values: Tensor
    indices: Tensor


class Size(int):
    """``t.size``: the element count, an int (NumPy), that can be called as PyTorch's
    ``t.size()`` (the shape, a tuple) or ``t.size(dim)`` (one length)."""

    shape: tuple[int, ...]

    def __new__(cls, shape: tuple[int, ...]) -> Size:
        size = super().__new__(cls, math.prod(shape))
        size.shape = shape
        return size

    def __call__(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def __reduce__(self) -> tuple[type[int], tuple[int]]:
        return int, (int(self),)  # pickled, copied: a plain int


def _scalar(value: Any) -> bool | int | float | None:
    """A Python, NumPy or 0-d array number as a Python number; None for anything else.

    NumPy's first (np.float64 is a subclass of float, yet promotes as an array would).
    """
    if isinstance(value, (np.generic, np.ndarray)):
        if value.ndim == 0 and value.dtype.kind in "biuf":
            number: bool | int | float = value.item()
            return number
        return None
    if isinstance(value, (bool, int, float)):
        return value
    return None


def axis_names(
    method: str, axis: Any, dim: Any, keepdims: bool | None, keepdim: bool | None
) -> tuple[Any, bool]:
    """The axis and keepdims from NumPy's spelling (axis, keepdims) or PyTorch's (dim,
    keepdim); giving both spellings of one is an error."""
    if axis is not None and dim is not None:
        raise TypeError(
            f"{method}() got axis= and dim=, NumPy's and PyTorch's names for one argument: pass one"
        )
    if keepdims is not None and keepdim is not None:
        raise TypeError(
            f"{method}() got keepdims= and keepdim=, NumPy's and PyTorch's names "
            "for one argument: pass one"
        )
    chosen = dim if axis is None else axis
    if isinstance(chosen, list):
        chosen = tuple(chosen)
    return chosen, bool(keepdim if keepdims is None else keepdims)


def _correction(
    method: str,
    axis_or_dim: Any,
    axis: Any,
    dim: Any,
    ddof: Real | None,
    correction: Real | None,
    unbiased: bool | None,
) -> float:
    """c in var's N − c: said by ddof/correction/unbiased, else by the axis's spelling."""
    said = {"ddof": ddof, "correction": correction, "unbiased": unbiased}
    given = [name for name, value in said.items() if value is not None]
    if len(given) > 1:
        raise TypeError(f"{method}() got {' and '.join(given)}: pass one")
    if axis_or_dim is not None and (axis is not None or dim is not None):
        raise TypeError(f"{method}() got the axis twice: positionally and by name")
    if ddof is not None:
        return ddof
    if correction is not None:
        return correction
    if unbiased is not None:
        return 1 if unbiased else 0
    if dim is not None:
        return 1
    if axis is not None:
        return 0
    raise TypeError(
        f"{method}() does not know its divisor: NumPy divides by N (ddof=0), PyTorch by "
        f"N - 1 (correction=1). Say which: t.{method}(axis=...) or ddof=0 for N, "
        f"t.{method}(dim=...) or correction=1 for N - 1"
    )


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
