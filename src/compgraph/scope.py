"""Which modules are running: each node records the stack of modules that applied it.

``Module.__call__`` pushes itself here for the duration of its ``forward``;
every node applied meanwhile keeps the stack as ``node.scope``, so a drawing of
the graph can group nodes into clusters, one per module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_stack: list[Any] = []


def current() -> tuple[Any, ...]:
    """The modules now running, outermost first (empty outside any module)."""
    return tuple(_stack)


def is_active() -> bool:
    return bool(_stack)


@contextlib.contextmanager
def entered(module: Any) -> Iterator[None]:
    _stack.append(module)
    try:
        yield
    finally:
        _stack.pop()
