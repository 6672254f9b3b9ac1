"""Which modules are running: each node records the stack of modules that applied it.

``Module.__call__`` pushes itself here for the duration of its ``forward``
(push and pop, not a context manager: this runs for every module of every step);
every node applied meanwhile keeps the stack as ``node.scope``, so a drawing of
the graph can group nodes into clusters, one per module.
"""

from __future__ import annotations

from typing import Any

_stack: list[Any] = []


def current() -> tuple[Any, ...]:
    """The modules now running, outermost first (empty outside any module)."""
    return tuple(_stack)


def is_active() -> bool:
    return bool(_stack)


def push(module: Any) -> None:
    """Enter ``module``: nodes applied from now on record it (until :func:`pop`)."""
    _stack.append(module)


def pop() -> None:
    """Leave the module entered last."""
    _stack.pop()
