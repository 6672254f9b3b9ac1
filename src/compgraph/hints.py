"""compgraph's warning category, and the warnings that name a likely mistake and its fix.

Every warning compgraph gives about how it is used is a :class:`CompgraphWarning`,
so one filter silences them all::

    import warnings
    warnings.filterwarnings("ignore", category=cg.CompgraphWarning)

The hints inside error messages (flatten the images, use ``data.one_hot``) are
written where the error is raised; this module holds what several places share.
"""

from __future__ import annotations

import sys
import warnings
from types import FrameType
from typing import Any

#: The keys of the warnings given once per process that were already given.
_given: set[str] = set()


class CompgraphWarning(UserWarning):
    """A likely mistake that compgraph noticed and did not refuse (a hint, not an error)."""


def warn(message: str) -> None:
    """Give a :class:`CompgraphWarning`, attributed to the first caller outside compgraph."""
    warnings.warn(message, CompgraphWarning, stacklevel=_user_stacklevel())


def warn_once(key: str, message: str) -> None:
    """:func:`warn`, the first time only for this ``key`` in this process."""
    if key in _given:
        return
    _given.add(key)
    warn(message)


def given(key: str) -> bool:
    """Whether the once-per-process warning ``key`` was already given (its check can stop)."""
    return key in _given


def called_from_compgraph(depth: int) -> bool:
    """Whether the frame ``depth`` levels above the caller runs compgraph's own code."""
    frame = sys._getframe(depth + 1)
    return _is_compgraph(frame.f_globals)


def warn_non_leaf_grad(tensor: Any) -> None:
    """``.grad`` was read on a tensor a node produced, which backward() leaves None."""
    node = type(tensor.node).__name__
    warn(
        f"reading .grad of a non-leaf tensor (the output of {node}): backward() fills "
        ".grad only for leaves (tensors made by the user, such as parameters), so it is "
        "None; call y.retain_grad() before backward() to keep it for this tensor, or "
        "loss.backward(retain_grads=True) for every intermediate result"
    )


def _is_compgraph(namespace: dict[str, Any]) -> bool:
    name = namespace.get("__name__", "")
    return isinstance(name, str) and (name == "compgraph" or name.startswith("compgraph."))


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points ``warnings.warn`` at the first frame outside compgraph.

    Computed only when a warning is given, so the frames a node's forward passes
    through (``apply``, a module's ``__call__``) never need counting by hand.
    """
    level = 1  # warnings.warn's stacklevel of the frame that calls it (here: warn)
    frame: FrameType | None = sys._getframe(2)  # warn's caller
    while frame is not None and _is_compgraph(frame.f_globals):
        frame = frame.f_back
        level += 1
    return level + 1
