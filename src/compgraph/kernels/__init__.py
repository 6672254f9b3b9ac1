"""The speed path: the named kernels that nodes and optimizers call.

A node's ``forward`` and ``backward`` read as its formula. Where a step of it is
worth making fast — a pass over millions of activations, the gather of image
patches, an optimizer's update — the node calls a kernel from here by a name that
says what it computes. Every kernel has two implementations with the same
signature and results:

- :mod:`compgraph.kernels.reference` — plain NumPy: the formula itself, and what the
  tests hold the compiled kernels to;
- :mod:`compgraph.kernels.compiled` — compiled with numba on first use, cached on disk.

``COMPGRAPH_KERNELS=numpy`` or ``numba`` chooses; by default numba is used where it
imports. The choice is made at the first kernel call, so ``import compgraph`` never
imports numba.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from numpy.typing import NDArray

from compgraph.kernels import reference

Array = NDArray[Any]

#: The environment variable that chooses the implementation.
ENV_VAR = "COMPGRAPH_KERNELS"
MODES = ("numpy", "numba")
INSTALL_HINT = "pip install numba"

_active: ModuleType | None = None
_unavailable_reason = ""


class KernelsUnavailable(ImportError):
    """The compiled kernels were asked for, but numba does not import."""


def mode() -> str:
    """``"numba"`` or ``"numpy"``: the implementation in use (chosen now if not yet)."""
    return "numpy" if _implementation() is reference else "numba"


def why_not_compiled() -> str:
    """Why the NumPy reference is in use ('' when the compiled kernels are)."""
    _implementation()
    return _unavailable_reason


def use(name: str | None) -> None:
    """Use ``"numpy"`` or ``"numba"`` kernels from now on; None goes back to the default.

    Raises:
        KernelsUnavailable: for ``"numba"`` when numba does not import.
    """
    global _active
    _active = None if name is None else _load(name)


@contextmanager
def using(name: str) -> Iterator[None]:
    """Use ``"numpy"`` or ``"numba"`` kernels inside a ``with`` block."""
    global _active, _unavailable_reason
    previous = _active, _unavailable_reason
    use(name)
    try:
        yield
    finally:
        _active, _unavailable_reason = previous


def _implementation() -> ModuleType:
    global _active
    if _active is None:
        _active = _load(os.environ.get(ENV_VAR, ""))
    return _active


def _load(requested: str) -> ModuleType:
    global _unavailable_reason
    requested = requested.strip().lower()
    if requested not in ("", *MODES):
        raise ValueError(f"{ENV_VAR} must be 'numpy' or 'numba', not {requested!r}")
    if requested == "numpy":
        _unavailable_reason = f"{ENV_VAR}=numpy"
        return reference
    try:
        from compgraph.kernels import compiled
    except ImportError as error:  # numba missing, or built for another NumPy
        if requested == "numba":
            raise KernelsUnavailable(
                f"{ENV_VAR}=numba, but numba does not import ({error}); {INSTALL_HINT}, "
                f"or set {ENV_VAR}=numpy"
            ) from None
        _unavailable_reason = f"numba does not import ({error}); {INSTALL_HINT}"
        return reference
    _unavailable_reason = ""
    return compiled


# ------------------------------------------------------------------ the kernels
# Each forwards to the implementation in use; the docstrings are the reference's.


def relu_forward(x: Array) -> Array:
    return _implementation().relu_forward(x)


def relu_backward(grad_out: Array, y: Array) -> Array:
    return _implementation().relu_backward(grad_out, y)


def max_pool2d_forward(x: Array, kernel_size: int, stride: int) -> tuple[Array, Array]:
    return _implementation().max_pool2d_forward(x, kernel_size, stride)


def max_pool2d_backward(
    grad_out: Array, argmax: Array, input_shape: tuple[int, ...], kernel_size: int, stride: int
) -> Array:
    implementation = _implementation()
    return implementation.max_pool2d_backward(grad_out, argmax, input_shape, kernel_size, stride)


def avg_pool2d_forward(x: Array, kernel_size: int, stride: int) -> Array:
    return _implementation().avg_pool2d_forward(x, kernel_size, stride)


def avg_pool2d_backward(
    grad_out: Array, input_shape: tuple[int, ...], kernel_size: int, stride: int
) -> Array:
    return _implementation().avg_pool2d_backward(grad_out, input_shape, kernel_size, stride)


def im2col(
    x: Array, kernel: tuple[int, int], stride: int, padding: int, ones_column: bool
) -> Array:
    return _implementation().im2col(x, kernel, stride, padding, ones_column)


def col2im(
    grad_cols: Array,
    input_shape: tuple[int, ...],
    kernel: tuple[int, int],
    stride: int,
    padding: int,
) -> Array:
    return _implementation().col2im(grad_cols, input_shape, kernel, stride, padding)


def transpose_matmul(a: Array, b: Array) -> Array:
    return _implementation().transpose_matmul(a, b)


def softmax_cross_entropy(logits: Array, labels: Array) -> tuple[Array, Array]:
    return _implementation().softmax_cross_entropy(logits, labels)


def softmax_cross_entropy_backward(probs: Array, labels: Array, grad_losses: Array) -> Array:
    return _implementation().softmax_cross_entropy_backward(probs, labels, grad_losses)


def first_label_out_of_range(labels: Array, classes: int) -> int:
    return _implementation().first_label_out_of_range(labels, classes)


def sum_rows(x: Array) -> Array:
    return _implementation().sum_rows(x)


def sgd_step(
    param: Array,
    grad: Array,
    velocity: Array | None,
    lr: float,
    momentum: float,
    nesterov: bool,
    weight_decay: float,
    dampening: float = 0.0,
) -> None:
    implementation = _implementation()
    implementation.sgd_step(param, grad, velocity, lr, momentum, nesterov, weight_decay, dampening)


def adam_step(
    param: Array,
    grad: Array,
    m: Array,
    v: Array,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    decoupled: bool,
    max_v: Array | None = None,
) -> None:
    _implementation().adam_step(
        param, grad, m, v, step, lr, betas, eps, weight_decay, decoupled, max_v
    )


def rmsprop_step(
    param: Array,
    grad: Array,
    square_avg: Array,
    grad_avg: Array | None,
    velocity: Array | None,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
) -> None:
    _implementation().rmsprop_step(
        param, grad, square_avg, grad_avg, velocity, lr, alpha, eps, weight_decay, momentum
    )


def adagrad_step(
    param: Array,
    grad: Array,
    state_sum: Array,
    step: int,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
) -> None:
    _implementation().adagrad_step(param, grad, state_sum, step, lr, lr_decay, weight_decay, eps)


def adadelta_step(
    param: Array,
    grad: Array,
    square_avg: Array,
    acc_delta: Array,
    lr: float,
    rho: float,
    eps: float,
    weight_decay: float,
) -> None:
    _implementation().adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay)


#: Every kernel, by name: both implementations provide each (a test checks).
KERNELS = (
    "adadelta_step", "adagrad_step", "adam_step", "avg_pool2d_backward", "avg_pool2d_forward",
    "col2im", "first_label_out_of_range", "im2col", "max_pool2d_backward",
    "max_pool2d_forward", "relu_backward", "relu_forward", "rmsprop_step", "sgd_step",
    "softmax_cross_entropy", "softmax_cross_entropy_backward", "sum_rows", "transpose_matmul",
)  # fmt: skip

# The docstrings of the dispatchers are the reference's: one text per kernel.
for _name in KERNELS:
    globals()[_name].__doc__ = getattr(reference, _name).__doc__
del _name
