"""Activations: Sigmoid, ReLU, Tanh, Softmax, LogSoftmax and GELU (with erf, which NumPy lacks)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import kernels
from compgraph.node import Node

Array = NDArray[Any]


class Sigmoid(Node):
    """y = 1 / (1 + e^(−x)).

    Gradient: dL/dx = dL/dy · y · (1 − y). Saves y.

    Stability: computed as ½·(1 + tanh(x/2)), which equals the formula and
    never overflows, where ``exp(-x)`` does for x < −88 in float32.
    """

    def forward(self, x: Array) -> Array:
        self.y = 0.5 * (1 + np.tanh(0.5 * x))
        return self.y

    def backward(self, grad_out: Array) -> Array:
        return grad_out * self.y * (1 - self.y)


class ReLU(Node):
    """y = max(x, 0).

    Gradient: dL/dx = dL/dy where x > 0, else 0 (0 at the kink x = 0). Saves y
    (y > 0 exactly where x > 0).
    """

    def forward(self, x: Array) -> Array:
        self.y = kernels.relu_forward(x)
        return self.y

    def backward(self, grad_out: Array) -> Array:
        return kernels.relu_backward(grad_out, self.y)


class Tanh(Node):
    """y = tanh x.

    Gradient: dL/dx = dL/dy · (1 − y²). Saves y.
    """

    def forward(self, x: Array) -> Array:
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_out: Array) -> Array:
        return grad_out * (1 - self.y * self.y)


class Softmax(Node):
    """y_j = e^(x_j) / Σ_i e^(x_i) along ``axis`` (the last by default).

    Gradient: dL/dx_j = y_j · (dL/dy_j − Σ_i dL/dy_i · y_i). Saves y.

    Stability: subtracts max_i x_i before exponentiating, so no e^x overflows.

    Args:
        axis: the axis whose entries sum to one.
    """

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Array) -> Array:
        exps = np.exp(x - x.max(axis=self.axis, keepdims=True))
        exps /= exps.sum(axis=self.axis, keepdims=True)
        self.y = exps
        return exps

    def backward(self, grad_out: Array) -> Array:
        y = self.y
        return y * (grad_out - (grad_out * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Node):
    """y_j = x_j − log Σ_i e^(x_i) along ``axis`` (the last by default).

    Gradient: dL/dx_j = dL/dy_j − softmax(x)_j · Σ_i dL/dy_i. Saves softmax(x).

    Stability: log-sum-exp with the maximum subtracted, finite for logits of any size.

    Args:
        axis: the axis to normalise over.
    """

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Array) -> Array:
        shifted = x - x.max(axis=self.axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.softmax = np.exp(y)
        return y

    def backward(self, grad_out: Array) -> Array:
        return grad_out - self.softmax * grad_out.sum(axis=self.axis, keepdims=True)


class GELU(Node):
    """y = x · Φ(x), where Φ(x) = ½ · (1 + erf(x / √2)) is the standard normal CDF; with
    ``approximate="tanh"``, y = ½ · x · (1 + tanh u), u = √(2/π) · (x + 0.044715 · x³).

    Gradient: dL/dx = dL/dy · (Φ(x) + x · φ(x)), φ(x) = e^(−x²/2) / √(2π) the normal
    density; with ``approximate="tanh"``, dL/dx = dL/dy · (½ · (1 + tanh u) + ½ · x ·
    (1 − tanh² u) · √(2/π) · (1 + 3 · 0.044715 · x²)). Saves x and Φ(x) (or tanh u).

    Accuracy: NumPy has no erf, so Φ is computed by :func:`normal_cdf` (W. J. Cody's
    rational approximations, accurate to float64's precision); for x < 0 it uses
    erfc, so 1 + erf(x/√2) loses no digits to cancellation.

    Args:
        approximate: ``"none"`` (the exact GELU) or ``"tanh"``, as in PyTorch.
    """

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', not {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Array) -> Array:
        self.x = x
        if self.approximate == "tanh":
            self.tanh_u = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
            return 0.5 * x * (1 + self.tanh_u)
        self.cdf = normal_cdf(x)
        return x * self.cdf

    def backward(self, grad_out: Array) -> Array:
        x = self.x
        if self.approximate == "tanh":
            t = self.tanh_u
            du_dx = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return grad_out * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du_dx)
        density = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return grad_out * (self.cdf + x * density)


_SQRT_2_OVER_PI = 0.7978845608028654  # √(2/π)
_INV_SQRT_2PI = 0.3989422804014327  # 1/√(2π)
_GELU_CUBIC = 0.044715


# ------------------------------------------------------------------ erf, for GELU
# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
# (1969), as in SPECFUN's CALERF: erf on |x| ≤ 0.46875, erfc on (0.46875, 4] and above 4.
_THRESHOLD = 0.46875
_SMALL_NUM = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
              3.20937758913846947e03, 1.85777706184603153e-1)  # fmt: skip
_SMALL_DEN = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
              2.84423683343917062e03)  # fmt: skip
_MIDDLE_NUM = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
               2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
               2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)  # fmt: skip
_MIDDLE_DEN = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
               1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
               3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
_LARGE_NUM = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
              1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)  # fmt: skip
_LARGE_DEN = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
              6.05183413124413191e-2, 2.33520497626869185e-3)  # fmt: skip
_INV_SQRT_PI = 5.6418958354775628695e-1  # 1/√π


def _erf_small(x: Array) -> Array:
    """erf x for |x| ≤ 0.46875: x · P(x²) / Q(x²)."""
    square = x * x
    num, den = _SMALL_NUM[4] * square, square
    for a, b in zip(_SMALL_NUM[:3], _SMALL_DEN[:3], strict=True):
        num, den = (num + a) * square, (den + b) * square
    return x * (num + _SMALL_NUM[3]) / (den + _SMALL_DEN[3])


def _erfc_large(y: Array) -> Array:
    """erfc y for y > 0.46875: e^(−y²) · R(y), R rational in y (y ≤ 4) or in 1/y² (y > 4)."""
    y = np.minimum(y, 27.0)  # erfc(27) underflows to 0 anyway; keeps 1/y² and y² finite
    ratio = np.empty_like(y)
    middle = y <= 4.0
    ym = y[middle]
    num, den = _MIDDLE_NUM[8] * ym, ym
    for c, d in zip(_MIDDLE_NUM[:7], _MIDDLE_DEN[:7], strict=True):
        num, den = (num + c) * ym, (den + d) * ym
    ratio[middle] = (num + _MIDDLE_NUM[7]) / (den + _MIDDLE_DEN[7])
    yl = y[~middle]
    inverse = 1 / (yl * yl)
    num, den = _LARGE_NUM[5] * inverse, inverse
    for p, q in zip(_LARGE_NUM[:4], _LARGE_DEN[:4], strict=True):
        num, den = (num + p) * inverse, (den + q) * inverse
    ratio[~middle] = (_INV_SQRT_PI - inverse * (num + _LARGE_NUM[4]) / (den + _LARGE_DEN[4])) / yl
    # e^(−y²) as e^(−r²) · e^(−(y − r)(y + r)), r = y rounded down to 1/16: r² is exact,
    # so the rounding error of y² is not magnified by the exponential.
    rounded = np.trunc(y * 16) / 16
    return np.exp(-rounded * rounded) * np.exp(-(y - rounded) * (y + rounded)) * ratio


def erf(x: Array) -> Array:
    """erf x = 2/√π · ∫₀ˣ e^(−t²) dt, element-wise, to float64's precision (NumPy has no erf).

    Cody's rational approximations: erf itself for |x| ≤ 0.46875, else ±(1 − erfc |x|).
    The dtype of x (float32 or float64) is kept.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    y = np.abs(x)
    result = np.empty_like(y)
    small = y <= _THRESHOLD
    result[small] = _erf_small(x[small])
    large = ~small
    result[large] = np.copysign(1 - _erfc_large(y[large]), x[large])
    return result


def normal_cdf(x: Array) -> Array:
    """Φ(x) = ½ · (1 + erf(x/√2)), the standard normal CDF, element-wise.

    For x/√2 below −0.46875 it is ½ · erfc(−x/√2), which keeps every digit of the small
    values that 1 + erf would cancel away.
    """
    z = np.asarray(x) * 0.7071067811865476  # x / √2
    y = np.abs(z)
    result = np.empty_like(y)
    small = y <= _THRESHOLD
    result[small] = 0.5 + 0.5 * _erf_small(z[small])
    large = ~small
    tail = 0.5 * _erfc_large(y[large])
    result[large] = np.where(z[large] > 0, 1 - tail, tail)
    return result
