"""Parameter initialisers, each drawing from an explicit ``numpy.random.Generator``.

Every function fills ``tensor.data`` in place and returns the tensor. ``fan_in``
and ``fan_out`` follow the seed's weight layout, W of shape (in, out); for a
convolution kernel (out, in, kh, kw) the receptive field multiplies both.
"""

from __future__ import annotations

import math

import numpy as np

from compgraph.tensor import Tensor


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (in, out) for a matrix, (out, in, *k) for a kernel."""
    if len(shape) < 2:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def normal_(
    tensor: Tensor, rng: np.random.Generator, mean: float = 0.0, std: float = 1.0
) -> Tensor:
    """N(mean, std²): the notebook's initialisation is ``normal_(w, rng, std=0.1)``."""
    tensor.data[...] = rng.normal(mean, std, tensor.shape)
    return tensor


def uniform_(tensor: Tensor, rng: np.random.Generator, low: float, high: float) -> Tensor:
    """U(low, high)."""
    tensor.data[...] = rng.uniform(low, high, tensor.shape)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    tensor.data[...] = 0
    return tensor


def kaiming_uniform_(
    tensor: Tensor, rng: np.random.Generator, gain: float = math.sqrt(2)
) -> Tensor:
    """He et al. (2015) for ReLU layers: U(−b, b), b = gain·√(3 / fan_in)."""
    fan_in, _ = fans(tensor.shape)
    bound = gain * math.sqrt(3.0 / fan_in)
    return uniform_(tensor, rng, -bound, bound)


def kaiming_normal_(tensor: Tensor, rng: np.random.Generator, gain: float = math.sqrt(2)) -> Tensor:
    """He et al. (2015) for ReLU layers: N(0, gain² / fan_in)."""
    fan_in, _ = fans(tensor.shape)
    return normal_(tensor, rng, std=gain / math.sqrt(fan_in))


def xavier_uniform_(tensor: Tensor, rng: np.random.Generator, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010) for tanh/sigmoid: U(−b, b), b = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(tensor.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, rng, -bound, bound)


def xavier_normal_(tensor: Tensor, rng: np.random.Generator, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): N(0, gain² · 2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(tensor.shape)
    return normal_(tensor, rng, std=gain * math.sqrt(2.0 / (fan_in + fan_out)))
