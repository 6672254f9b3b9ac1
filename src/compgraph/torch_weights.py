"""Load a PyTorch model's ``state_dict()`` into the equivalent compgraph model.

compgraph's modules share PyTorch's names (Sequential items are "0", "1", …; a layer's
parameters are ``weight`` and ``bias``; BatchNorm's buffers ``running_mean`` and
``running_var``) and, except for one, PyTorch's layouts:

=============  ==========================  ==================================
layer          PyTorch                     compgraph
=============  ==========================  ==================================
Linear         weight (out, in)            weight (in, out): transposed here
Conv2d         weight (O, C, kh, kw)       the same
BatchNorm      num_batches_tracked         no such buffer: accepted, ignored
=============  ==========================  ==================================

A Linear is recognised by its module type, never by the weight's shape: a square
(n, n) weight fits either way round and would otherwise load untransposed.

torch is never imported: a value may be a NumPy array or anything with
``.detach().cpu().numpy()`` (a torch tensor).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.nn.batchnorm import BatchNorm2d
from compgraph.nn.linear import Linear
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.tensor import Tensor

#: Keys PyTorch writes that compgraph has no use for, by module type.
IGNORED = {BatchNorm2d: ("num_batches_tracked",)}


def load_torch_state_dict(module: Module, state_dict: Mapping[str, Any]) -> None:
    """Copy a PyTorch ``state_dict`` into ``module``'s parameters and buffers, in place.

    Each value is cast to its parameter's dtype; a Linear's weight is transposed from
    PyTorch's (out, in) to compgraph's (in, out). Nothing is written unless every key
    fits.

    Args:
        module: the compgraph model, built with the same layers as the PyTorch one.
        state_dict: name → NumPy array or torch tensor (``torch_model.state_dict()``).

    Raises:
        ValueError: in one line, the missing and unexpected keys, or a key whose shape
            does not fit (naming the key and both shapes).

    Example:
        >>> import numpy as np, compgraph as cg
        >>> model = cg.nn.Sequential(cg.nn.Linear(3, 2))
        >>> weight = np.arange(6.0).reshape(2, 3)  # PyTorch's (out, in)
        >>> cg.load_torch_state_dict(model, {"0.weight": weight, "0.bias": np.zeros(2)})
        >>> model[0].weight.shape
        (3, 2)
    """
    targets: dict[str, tuple[NDArray[Any], bool]] = {}  # name → (array, transpose?)
    ignored: set[str] = set()
    for prefix, owner in _named_modules(module):
        for name, value in vars(owner).items():
            if isinstance(value, Parameter) or name in _buffers(owner):
                array = value.data if isinstance(value, Tensor) else value
                transpose = isinstance(owner, Linear) and name == "weight"
                targets.setdefault(prefix + name, (array, transpose))
        for kind, names in IGNORED.items():
            if isinstance(owner, kind):
                ignored.update(prefix + name for name in names)
    keys = set(state_dict) - ignored
    missing, unexpected = sorted(set(targets) - keys), sorted(keys - set(targets))
    if missing or unexpected:
        raise ValueError(
            f"load_torch_state_dict: the state_dict does not fit {type(module).__name__}: "
            f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}"
        )
    values: dict[str, NDArray[Any]] = {}
    for key, (target, transpose) in targets.items():
        value = _to_numpy(state_dict[key])
        expected = target.shape[::-1] if transpose else target.shape
        if value.shape != expected:
            layout = " (PyTorch's (out, in), the transpose of compgraph's)" if transpose else ""
            raise ValueError(
                f"load_torch_state_dict: {key!r} has shape {tuple(value.shape)}, but the "
                f"model needs {tuple(expected)}{layout}"
            )
        values[key] = value.T if transpose else value
    for key, (target, _) in targets.items():  # write only once everything is known to fit
        target[...] = values[key].astype(target.dtype, copy=False)


def _named_modules(module: Module, prefix: str = "") -> Iterator[tuple[str, Module]]:
    """(prefix with its trailing dot, module) for ``module`` and every module inside it,
    named as ``named_parameters`` names them; iterative, depth-first, in order."""
    stack = [(prefix, module)]
    while stack:
        prefix, current = stack.pop()
        yield prefix, current
        children = [(f"{prefix}{name}.", child) for name, child in current.named_children()]
        stack.extend(reversed(children))


def _buffers(module: Module) -> list[str]:
    names: list[str] = module.__dict__.get("_buffer_names", [])
    return names


def _to_numpy(value: Any) -> NDArray[Any]:
    """A NumPy array from an array, a compgraph tensor or (duck-typed) a torch tensor."""
    if isinstance(value, Tensor):
        return value.data
    for step in ("detach", "cpu", "numpy"):
        if hasattr(value, step) and not isinstance(value, np.ndarray):
            value = getattr(value, step)()
    return np.asarray(value)
