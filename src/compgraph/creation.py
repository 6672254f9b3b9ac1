"""Making tensors: from a shape (``zeros``, ``randn``, ``arange``) or from other tensors
(``cat``, ``stack``, ``where``).

The names and arguments are PyTorch's, so a model ports line by line: a shape is given
as integers or as one tuple (``cg.zeros(2, 3)`` or ``cg.zeros((2, 3))``), and the
default dtype is float32, the dtype compgraph trains in (PyTorch's default too; NumPy's
is float64). Random tensors come from a NumPy ``Generator`` (``rng=``, also spelled
``generator=``): a seed or a Generator; without one, from the global generator that
``cg.manual_seed`` seeds (as layers and ``DataLoader`` do).

Example:
    >>> import compgraph as cg
    >>> cg.zeros(2, 3).shape
    (2, 3)
    >>> cg.cat([cg.ones(1, 2), cg.zeros(1, 2)], dim=0).tolist()
    [[1.0, 1.0], [0.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from compgraph.node import apply
from compgraph.nodes.join import Concat, Stack, Where
from compgraph.random import generator as seeded_generator
from compgraph.tensor import Tensor, axis_names

Seed = int | np.random.Generator | None


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """``(2, 3)`` from ``f(2, 3)`` or ``f((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _generator(rng: Seed, generator: Seed) -> np.random.Generator:
    if rng is not None and generator is not None:
        raise TypeError("got rng= and generator=, two names for one argument: pass one")
    chosen = rng if generator is None else generator
    if chosen is not None and not isinstance(chosen, (int, np.integer, np.random.Generator)):
        raise TypeError(
            f"rng/generator takes a seed or a numpy.random.Generator, got {type(chosen).__name__}"
        )
    return seeded_generator(chosen)


def zeros(*shape: Any, dtype: DTypeLike = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``cg.zeros(2, 3)`` or ``cg.zeros((2, 3))``; float32 by default."""
    return Tensor(np.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: DTypeLike = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``cg.ones(2, 3)`` or ``cg.ones((2, 3))``; float32 by default."""
    return Tensor(np.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def full(
    shape: Any, fill_value: Any, dtype: DTypeLike | None = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of one value: ``cg.full((2, 3), 7.0)``.

    Without ``dtype``, as PyTorch: float32 for a float, int64 for an int, bool for a bool.
    """
    if dtype is None:
        dtype = _default_dtype(fill_value)
    size = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return Tensor(np.full(size, fill_value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(like: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``like``'s shape and (unless ``dtype`` says) dtype."""
    array = like.data if isinstance(like, Tensor) else np.asarray(like)
    return Tensor(np.zeros_like(array, dtype=dtype), requires_grad=requires_grad)


def ones_like(like: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``like``'s shape and (unless ``dtype`` says) dtype."""
    array = like.data if isinstance(like, Tensor) else np.asarray(like)
    return Tensor(np.ones_like(array, dtype=dtype), requires_grad=requires_grad)


def full_like(
    like: Any, fill_value: Any, dtype: DTypeLike | None = None, requires_grad: bool = False
) -> Tensor:
    """``fill_value`` in ``like``'s shape and (unless ``dtype`` says) dtype."""
    array = like.data if isinstance(like, Tensor) else np.asarray(like)
    return Tensor(np.full_like(array, fill_value, dtype=dtype), requires_grad=requires_grad)


def randn(
    *shape: Any,
    rng: Seed = None,
    generator: Seed = None,
    dtype: DTypeLike = np.float32,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal values: ``cg.randn(2, 3, rng=0)``.

    ``rng`` (or PyTorch's name, ``generator``) is a seed or a ``numpy.random.Generator``;
    None draws from the global generator (``cg.manual_seed(n)`` makes a run repeat).
    The values are drawn in float64 and then cast, so one seed gives the same values,
    rounded, in every dtype. They are not PyTorch's values for the same seed.
    """
    values = _generator(rng, generator).standard_normal(_shape(shape))
    return Tensor(values.astype(dtype), requires_grad=requires_grad)


def rand(
    *shape: Any,
    rng: Seed = None,
    generator: Seed = None,
    dtype: DTypeLike = np.float32,
    requires_grad: bool = False,
) -> Tensor:
    """Values drawn uniformly from [0, 1): ``cg.rand(2, 3, rng=0)``; ``rng`` as in ``randn``."""
    values = _generator(rng, generator).random(_shape(shape))
    return Tensor(values.astype(dtype), requires_grad=requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Any = (),
    rng: Seed = None,
    generator: Seed = None,
    dtype: DTypeLike = np.int64,
) -> Tensor:
    """Integers drawn uniformly from [low, high), or [0, low) without ``high``
    (``cg.randint(10, size=(4,))``: class labels); ``rng`` as in ``randn``."""
    if high is None:
        low, high = 0, low
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return Tensor(_generator(rng, generator).integers(low, high, size, dtype=dtype))


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    dtype: DTypeLike | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, … up to (not including) end; ``cg.arange(n)`` is 0 … n − 1.

    Without ``dtype``, as PyTorch: int64 when every argument is an integer, else float32.
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        integers = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if integers else np.float32
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: DTypeLike = np.float32,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``steps`` evenly spaced values from start to end, both included; float32 by default."""
    values = np.linspace(start, end, steps, dtype=np.float64)
    return Tensor(values.astype(dtype), requires_grad=requires_grad)


def eye(
    n: int, m: int | None = None, dtype: DTypeLike = np.float32, requires_grad: bool = False
) -> Tensor:
    """The n × m identity (n × n without m); float32 by default."""
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def _default_dtype(value: Any) -> DTypeLike:
    if isinstance(value, (bool, np.bool_)):
        return np.bool_
    if isinstance(value, (int, np.integer)):
        return np.int64
    return np.float32


# ----------------------------------------------------------------- from other tensors
def cat(tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors end to end along an existing axis (``axis`` or ``dim``, default 0):
    ``cg.cat([a, b], dim=1)`` (a Concat node; NumPy's ``concatenate``)."""
    chosen, _ = axis_names("cat", axis, dim, None, None)
    return apply(Concat(0 if chosen is None else chosen), _inputs("cat", tensors), fresh=True)


def stack(tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Stack tensors of one shape along a new axis (``axis`` or ``dim``, default 0):
    ``cg.stack([a, b])`` (a Stack node)."""
    chosen, _ = axis_names("stack", axis, dim, None, None)
    return apply(Stack(0 if chosen is None else chosen), _inputs("stack", tensors), fresh=True)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where ``condition`` holds, else y, element-wise (a Where node).

    ``condition`` is a boolean tensor or array (``cg.where(t > 0, t, 0.0)``), not
    differentiated. A number for x or y takes the other's dtype: float32 stays float32.
    """
    mask = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if mask.dtype != np.bool_:
        raise TypeError(
            f"where() takes a boolean condition (such as t > 0), got dtype {mask.dtype}"
        )
    if isinstance(x, Tensor):
        y = x._operand(y)
    elif isinstance(y, Tensor):
        x = y._operand(x)
    return apply(Where(mask), (x, y), fresh=True)


def _inputs(name: str, tensors: Sequence[Any]) -> tuple[Any, ...]:
    if isinstance(tensors, (Tensor, np.ndarray)):
        raise TypeError(
            f"{name}() takes a list or tuple of tensors, got one {type(tensors).__name__}"
        )
    joined = tuple(tensors)
    if not joined:
        raise ValueError(f"{name}() needs at least one tensor")
    return joined
