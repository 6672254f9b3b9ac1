"""Parameter initialisers, each drawing from an explicit ``numpy.random.Generator``.

Every function fills ``tensor.data`` in place and returns the tensor. ``fan_in``
and ``fan_out`` follow the original notebook's weight layout, W of shape (in, out);
for a convolution kernel (out, in, kh, kw) the receptive field multiplies both.

Layers name their initialisation with a string (``nn.Linear(init="notebook")``);
:data:`RENAMED` maps the names that were changed to the current ones.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from compgraph.tensor import Tensor

#: Initialisation names that were changed, old → new. ``"seed"`` meant the original
#: notebook's N(0, 0.1²) but read like a random seed. Checkpoints keep the name they were
#: saved with, so ``nn.config.from_config`` reads an old one as the new one, silently;
#: code that passes an old name gets a DeprecationWarning from :func:`current_name`.
RENAMED = {"seed": "notebook"}


def current_name(name: str, layer: str) -> str:
    """``name``, or its new name with a DeprecationWarning when it is an old one."""
    new = RENAMED.get(name)
    if new is None:
        return name
    warnings.warn(
        f"{layer}: init={name!r} is now init={new!r} (the same initialisation); "
        "the old name will stop working in a later version",
        DeprecationWarning,
        stacklevel=3,  # the line that built the layer
    )
    return new


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


def pytorch_default_(tensor: Tensor, rng: np.random.Generator, fan_in: int) -> Tensor:
    """U(−1/√fan_in, 1/√fan_in): PyTorch's default for Linear's and Conv2d's W and b.

    PyTorch draws W with ``kaiming_uniform_(a=√5)``: gain √(2 / (1 + a²)) = 1/√3, so the
    bound gain·√(3 / fan_in) is 1/√fan_in; b uses the same bound. ``fan_in`` is given,
    not read from the shape, because b's shape does not tell it (and Linear's W is (in,
    out) here, (out, in) in PyTorch): in_features for Linear, C·kh·kw for Conv2d.
    """
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform_(tensor, rng, -bound, bound)


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
