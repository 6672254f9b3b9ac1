"""Ctrl-C as a request: finish the current batch, save, and exit cleanly."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from types import FrameType


class StopRequest:
    """Set by the first SIGINT; a second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(
            "\nstopping after this batch to save a checkpoint (Ctrl-C again to abort)",
            file=sys.stderr,
            flush=True,
        )


@contextlib.contextmanager
def stop_on_sigint() -> Iterator[StopRequest]:
    """Within the block, SIGINT sets the returned request instead of raising."""
    request = StopRequest()
    previous = signal.signal(signal.SIGINT, request._handle)
    try:
        yield request
    finally:
        signal.signal(signal.SIGINT, previous)
