"""Nodes that hold their own parameters, as the notebook's Linear does.

The notebook's Linear keeps its weights on itself (``self.parameters = [W, b]``, as
arrays) and fills ``self.parameters_deltas`` with dL/dW and dL/db in ``backward``;
its update loop then runs ``p -= p_delta``. compgraph takes such a node as it is:

- a node whose ``parameters`` is a non-empty list of floating-point arrays is
  recorded in the graph even when none of its inputs needs a gradient (the
  notebook's data need none), so ``loss.backward()`` reaches it;
- after its ``backward``, the engine checks ``parameters_deltas`` (one array of each
  parameter's shape and dtype) and leaves their sum over this backward pass on the
  instance the user holds — the notebook's loop works unchanged;
- :func:`node_parameters` wraps the arrays as :class:`~compgraph.nn.Parameter`
  objects that share their memory, whose ``.grad`` the engine fills too, for
  compgraph's optimizers (``optim.SGD(cg.node_parameters(linear), lr=0.5)``) and for
  ``gradcheck``, which checks them as it checks a module's parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from compgraph.nn.parameter import Parameter


def held_parameters(node: Any) -> list[NDArray[Any]] | None:
    """The arrays a node holds as ``parameters``, or None if it holds none."""
    held = node.__dict__.get("parameters")
    if not isinstance(held, list) or not held:
        return None
    if all(isinstance(p, np.ndarray) and p.dtype.kind == "f" for p in held):
        return held
    kinds = [str(p.dtype) if isinstance(p, np.ndarray) else type(p).__name__ for p in held]
    raise TypeError(
        f"{type(node).__name__}.parameters must be a list of floating-point NumPy arrays "
        f"(the notebook's [W, b]); got {', '.join(kinds)}"
    )


def node_parameters(node: Any) -> list[Parameter]:
    """The node's own parameters as Parameters sharing their memory (made once, then reused).

    Their ``.grad`` is filled by every ``backward()`` through the node (accumulated,
    like any parameter's, until ``zero_grad``), so compgraph's optimizers train them:

        optimizer = cg.optim.SGD(cg.node_parameters(linear), lr=0.5)

    Raises:
        TypeError: the node holds no parameters.
    """
    from compgraph.nn.parameter import Parameter

    held = held_parameters(node)
    if held is None:
        raise TypeError(
            f"{type(node).__name__} holds no parameters: node_parameters() is for nodes "
            "that keep theirs in self.parameters = [W, b], as the notebook's Linear does"
        )
    wrapped: list[Parameter] = node.__dict__.get("_parameter_tensors", [])
    if len(wrapped) != len(held) or any(
        w.data is not p for w, p in zip(wrapped, held, strict=True)
    ):
        wrapped = [Parameter(array) for array in held]  # shares each array's memory
        node.__dict__["_parameter_tensors"] = wrapped
    return wrapped


def store_deltas(application: Any, passes: dict[int, list[NDArray[Any]]]) -> None:
    """After ``application.backward``: check its ``parameters_deltas`` and hand them on.

    ``application`` is the engine's copy of the node; ``application._template`` the
    instance the user holds. ``passes`` maps each template seen in this backward pass
    to the sums so far, so a node applied twice gets the sum of both deltas.
    """
    template = application._template
    held = held_parameters(template) or []
    name = type(template).__name__
    deltas = application.__dict__.get("parameters_deltas")
    if not isinstance(deltas, (list, tuple)) or len(deltas) != len(held):
        raise TypeError(
            f"{name}.backward must fill self.parameters_deltas with one gradient per "
            f"parameter ({len(held)}), as the notebook's Linear does; got {deltas!r:.60}"
        )
    checked = []
    for index, (delta, parameter) in enumerate(zip(deltas, held, strict=True)):
        delta = np.asarray(delta) if delta is not None else None
        if delta is None or delta.shape != parameter.shape or delta.dtype != parameter.dtype:
            got = "None" if delta is None else f"{delta.dtype} {delta.shape}"
            raise TypeError(
                f"{name}.parameters_deltas[{index}] is {got}, but parameter {index} is "
                f"{parameter.dtype} {parameter.shape}; give dL/dparameter of that shape and dtype"
            )
        checked.append(delta)
    sums = passes.get(id(template))
    sums = checked if sums is None else [s + d for s, d in zip(sums, checked, strict=True)]
    passes[id(template)] = sums
    own = template.__dict__.get("parameters_deltas")
    if isinstance(own, list) and len(own) == len(sums):
        own[:] = sums  # the list the notebook's loop zips over, kept
    else:
        template.parameters_deltas = list(sums)
    wrappers = template.__dict__.get("_parameter_tensors") or [None] * len(checked)
    for wrapper, delta in zip(wrappers, checked, strict=True):
        if wrapper is None:
            continue
        wrapper.grad = delta.copy() if wrapper.grad is None else wrapper.grad + delta
