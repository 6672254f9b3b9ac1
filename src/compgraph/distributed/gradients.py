"""Data parallelism: every rank starts from rank 0's weights and steps with the global gradient.

Each rank computes the gradient of the mean loss over its own examples, g_r over n_r
of them. The gradient of the mean loss over the whole global batch is

    g = Σ_r n_r g_r / Σ_r n_r

so each rank scales its gradients by n_r, and one ``Allreduce`` (a sum) over a flat
buffer holding every gradient and n_r itself gives every rank Σ n_r g_r and Σ n_r.
Weighting by examples keeps an uneven last batch (or a rank with none) exact. The
buffer has the gradients' own dtype; a model with float32 and float64 parameters
needs one reduction per dtype.

With every rank applying the same global gradient to the same weights, the weights
stay identical on every rank without ever being sent again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.distributed.world import World, world
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter


def parameters_of(model_or_parameters: Module | Iterable[Parameter]) -> list[Parameter]:
    if isinstance(model_or_parameters, Module):
        return model_or_parameters.parameters()
    return list(model_or_parameters)


def broadcast_parameters(model_or_parameters: Module | Iterable[Parameter], root: int = 0) -> None:
    """Overwrite every parameter (and a module's buffers) with root's values, in place."""
    w = world()
    if w.size == 1:
        return
    arrays = [p.data for p in parameters_of(model_or_parameters)]
    if isinstance(model_or_parameters, Module):
        arrays += [buffer for _, buffer in model_or_parameters.named_buffers()]
    for array in arrays:
        w.broadcast_array(array, root)


def reduce_step(
    parameters: Sequence[Parameter],
    examples: int | None = None,
    extras: Sequence[float] = (),
    w: World | None = None,
) -> tuple[float, NDArray[np.float64]]:
    """Turn each parameter's ``.grad`` into the global batch's; sum ``extras`` on the way.

    Args:
        parameters: whose ``.grad`` to reduce (a missing gradient counts as zeros).
        examples: this rank's number of examples, n_r; None weighs every rank alike
            (exact when every rank's batch has the same size).
        extras: numbers to sum over the ranks in the same message (a loss sum, a
            count of correct answers, a stop flag).

    Returns:
        (Σ n_r, the summed extras as float64).
    """
    w = w if w is not None else world()
    weight = 1.0 if examples is None else float(examples)
    if w.size == 1:  # the gradients are the global batch's already: leave them untouched
        return weight, np.asarray(extras, np.float64)
    by_dtype: dict[np.dtype[Any], list[Parameter]] = {}
    for parameter in parameters:
        by_dtype.setdefault(parameter.data.dtype, []).append(parameter)
    if not by_dtype:
        by_dtype[np.dtype(np.float64)] = []
    total, summed = weight, np.asarray(extras, np.float64)
    for index, (dtype, group) in enumerate(by_dtype.items()):
        sizes = [p.data.size for p in group]
        length = sum(sizes)
        tail = 1 + len(extras) if index == 0 else 0  # n_r and the extras ride in the first
        buffer = np.empty(length + tail, dtype)
        offset = 0
        for parameter, count in zip(group, sizes, strict=True):
            part = buffer[offset : offset + count]
            if parameter.grad is None:
                part.fill(0)
            else:
                np.multiply(parameter.grad.reshape(-1), weight, out=part, casting="same_kind")
            offset += count
        if tail:
            buffer[length] = weight
            buffer[length + 1 :] = extras
        w.allreduce_sum(buffer)
        if tail:
            total = float(buffer[length])
            summed = buffer[length + 1 :].astype(np.float64)
        gradients = buffer[:length]
        if total > 0:
            np.multiply(gradients, 1.0 / total, out=gradients, casting="unsafe")
        offset = 0
        for parameter, count in zip(group, sizes, strict=True):
            parameter.grad = buffer[offset : offset + count].reshape(parameter.data.shape)
            offset += count
    return total, summed


def allreduce_gradients(
    model_or_parameters: Module | Iterable[Parameter], examples: int | None = None
) -> float:
    """Replace every ``.grad`` by the gradient of the mean loss over all ranks' examples.

    Call it after ``loss.backward()`` and before ``optimizer.step()``, on every rank.

    Args:
        model_or_parameters: a module, or its parameters.
        examples: the number of examples this rank's loss averaged over (``len(y)``);
            None weighs every rank alike, which is exact only when all batches are
            the same size (a sharded :class:`~compgraph.data.DataLoader` can give a
            rank fewer examples, even none, in the last batch of an epoch).

    Returns:
        The total number of examples over the ranks (the number of ranks when
        ``examples`` is None).
    """
    total, _ = reduce_step(parameters_of(model_or_parameters), examples)
    return total
