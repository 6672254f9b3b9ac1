"""Element-wise arithmetic: the nodes behind ``+ - * / **``, ``exp``, ``log``, ``abs``,
``sqrt``, ``clamp`` and the dtype casts (``astype``, ``float``, ``double``).

Binary nodes follow NumPy broadcasting. Their ``backward`` returns gradients
in the broadcast output shape; the engine sums them back to each input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.node import Node

Array = NDArray[Any]


class Add(Node):
    """y = a + b.

    Gradient: dL/da = dL/dy, dL/db = dL/dy. Saves nothing.
    """

    def forward(self, a: Array, b: Array) -> Array:
        return a + b

    def backward(self, grad_out: Array) -> tuple[Array, Array]:
        return grad_out, grad_out


class Sub(Node):
    """y = a − b.

    Gradient: dL/da = dL/dy, dL/db = −dL/dy. Saves nothing.
    """

    def forward(self, a: Array, b: Array) -> Array:
        return a - b

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        return grad_out, (-grad_out if self.needs_input_grad[1] else None)


class Mul(Node):
    """y = a · b (element-wise).

    Gradient: dL/da = dL/dy · b, dL/db = dL/dy · a. Saves a and b.
    """

    def forward(self, a: Array, b: Array) -> Array:
        self.a, self.b = a, b
        return a * b

    def backward(self, grad_out: Array) -> tuple[Array | None, Array | None]:
        grad_a = grad_out * self.b if self.needs_input_grad[0] else None
        grad_b = grad_out * self.a if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Node):
    """y = a / b.

    Gradient: dL/da = dL/dy / b, dL/db = −dL/dy · a / b² = −dL/dy · y / b.
    Saves b and y.
    """

    def forward(self, a: Array, b: Array) -> Array:
        self.b = b
        self.y = a / b
        return self.y

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        grad_a = grad_out / self.b
        grad_b = -grad_a * self.y if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Node):
    """y = −x.

    Gradient: dL/dx = −dL/dy. Saves nothing.
    """

    def forward(self, x: Array) -> Array:
        return -x

    def backward(self, grad_out: Array) -> Array:
        return -grad_out


class PowScalar(Node):
    """y = x^c for a constant exponent c (``x ** 2``).

    Gradient: dL/dx = dL/dy · c · x^(c−1). Saves x.

    Args:
        exponent: the constant c.
    """

    def __init__(self, exponent: float) -> None:
        self.exponent = float(exponent)  # a Python float keeps float32 inputs float32

    def forward(self, x: Array) -> Array:
        self.x = x
        return x**self.exponent

    def backward(self, grad_out: Array) -> Array:
        c = self.exponent
        return grad_out * c * self.x ** (c - 1)


class Pow(Node):
    """y = a^b, both tensors.

    Gradient: dL/da = dL/dy · b · a^(b−1), dL/db = dL/dy · y · log a (defined for a > 0).
    Saves a, b and y.
    """

    def forward(self, a: Array, b: Array) -> Array:
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, grad_out: Array) -> tuple[Array | None, Array | None]:
        grad_a = grad_out * self.b * self.a ** (self.b - 1) if self.needs_input_grad[0] else None
        grad_b = grad_out * self.y * np.log(self.a) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Exp(Node):
    """y = eˣ.

    Gradient: dL/dx = dL/dy · y. Saves y.
    """

    def forward(self, x: Array) -> Array:
        self.y = np.exp(x)
        return self.y

    def backward(self, grad_out: Array) -> Array:
        return grad_out * self.y


class Log(Node):
    """y = log x (natural logarithm).

    Gradient: dL/dx = dL/dy / x. Saves x.
    """

    def forward(self, x: Array) -> Array:
        self.x = x
        return np.log(x)

    def backward(self, grad_out: Array) -> Array:
        return grad_out / self.x


class Abs(Node):
    """y = |x|.

    Gradient: dL/dx = dL/dy · sign(x) (0 at x = 0, as in PyTorch). Saves x.
    """

    def forward(self, x: Array) -> Array:
        self.x = x
        return np.abs(x)

    def backward(self, grad_out: Array) -> Array:
        return grad_out * np.sign(self.x)


class Sqrt(Node):
    """y = √x.

    Gradient: dL/dx = dL/dy / (2·y) (infinite at x = 0). Saves y.
    """

    def forward(self, x: Array) -> Array:
        self.y = np.sqrt(x)
        return self.y

    def backward(self, grad_out: Array) -> Array:
        return grad_out / (2 * self.y)


class Clamp(Node):
    """y = min(max(x, low), high); a bound that is None is not applied (``clamp``, ``clip``).

    Gradient: dL/dx = dL/dy where low ≤ x ≤ high, else 0 (the bounds themselves pass
    the gradient, as in PyTorch). Saves that mask.

    Args:
        low: the lower bound, or None.
        high: the upper bound, or None.
    """

    def __init__(self, low: float | None = None, high: float | None = None) -> None:
        # Python floats: a bound never promotes a float32 input to float64.
        self.low = None if low is None else float(low)
        self.high = None if high is None else float(high)

    def forward(self, x: Array) -> Array:
        y, inside = x, np.ones(x.shape, dtype=bool)
        if self.low is not None:
            y, inside = np.maximum(y, self.low), inside & (x >= self.low)
        if self.high is not None:
            y, inside = np.minimum(y, self.high), inside & (x <= self.high)
        self.inside = inside
        return np.asarray(y)

    def backward(self, grad_out: Array) -> Array:
        return grad_out * self.inside


class Cast(Node):
    """y = x converted to another dtype (``astype``, ``float``, ``double``).

    Gradient: dL/dx = dL/dy converted back to x's dtype. Saves x's dtype.
    A cast to a non-floating dtype makes a tensor that is not in the graph.

    Args:
        dtype: the dtype of y.
    """

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def forward(self, x: Array) -> Array:
        self.input_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, grad_out: Array) -> Array:
        return grad_out.astype(self.input_dtype)
