"""The ``compgraph`` command line: ``train``, ``eval``, ``graph``, ``explore``, ``plot``, ``lab``.

Every mistake gets one line on standard error and an exit status, never a traceback
(``--debug`` or ``COMPGRAPH_DEBUG=1`` shows it):

- 0: done;
- 1: a failure while running (reading or writing a file, data that cannot be
  obtained, a training run that diverged);
- 2: something wrong in what was given (arguments, a hand-edited config.json, a
  checkpoint that does not fit, a folder that holds another run);
- 130: stopped by Ctrl-C (once: after saving a checkpoint; twice: at once).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from compgraph.cli.parser import build_parser

USAGE, FAILURE, INTERRUPTED = 2, 1, 130


class UsageError(Exception):
    """Something wrong in what the user gave; exit status 2."""


def run() -> None:
    """The ``compgraph`` program: :func:`main`, then exit with its status.

    A Ctrl-C that arrives once the status is known (say, a second one while the first
    is being handled) is ignored: Python would otherwise die of it while shutting down.
    """
    try:
        status = main()
    except KeyboardInterrupt:
        status = INTERRUPTED
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if status and quiet_rank():
        let_rank_0_speak()
    sys.exit(status)


def let_rank_0_speak() -> None:
    """Under mpiexec, before MPI is joined, wait a moment before a silent non-zero exit: the
    first rank to exit non-zero makes mpiexec end the job, and rank 0's line with it."""
    world = sys.modules.get("compgraph.distributed.world")
    if world is not None and world.size() == 1:
        import time

        time.sleep(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False) or os.environ.get("COMPGRAPH_DEBUG", "") not in ("", "0")
    from compgraph.cli.evaluate import eval_command, explore_command
    from compgraph.cli.lab import lab_command
    from compgraph.cli.pictures import graph_command, plot_command
    from compgraph.cli.train import train_command

    commands = {
        "train": train_command,
        "eval": eval_command,
        "graph": graph_command,
        "explore": explore_command,
        "plot": plot_command,
        "lab": lab_command,
    }
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"compgraph {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:
        if debug and not several_ranks():
            raise
        status, message = describe(error)
        if several_ranks() and not getattr(error, "compgraph_all_ranks_know", False):
            # This rank alone failed: the others may wait for it in a collective.
            from compgraph.distributed import stopping, world

            if debug:
                import traceback

                traceback.print_exc()
            stopping.fail(world(), error, f"compgraph {args.command}: {message}", status)
        if not quiet_rank():
            print(f"compgraph {args.command}: {message}", file=sys.stderr, flush=True)
        if several_ranks():  # the others wait here, so that none exits before this line
            from compgraph.distributed import world

            world().barrier()
        return status


def several_ranks() -> bool:
    """True in a data-parallel run of more than one rank (compgraph.distributed joined)."""
    world = sys.modules.get("compgraph.distributed.world")
    return world is not None and world.size() > 1


def quiet_rank() -> bool:
    """Whether this process leaves an error every rank shares to rank 0 to print."""
    world = sys.modules.get("compgraph.distributed.world")
    if world is None:
        return False
    return world.launch_rank() != 0 if world.size() == 1 else world.rank() != 0


def describe(error: BaseException) -> tuple[int, str]:
    """The exit status and the one line for an error that ended a command."""
    from compgraph.checkpoint import CheckpointError
    from compgraph.data import DatasetUnavailableError
    from compgraph.data.idx import IdxFormatError
    from compgraph.distributed import DistributedUnavailable
    from compgraph.kernels import KernelsUnavailable
    from compgraph.lab import LabFolderError
    from compgraph.train.config import ConfigError
    from compgraph.train.folder import RunFolderError

    given = (
        UsageError,
        ConfigError,
        RunFolderError,
        CheckpointError,
        KernelsUnavailable,
        LabFolderError,
        DistributedUnavailable,
    )
    if isinstance(error, given):
        return USAGE, str(error)
    if isinstance(error, DatasetUnavailableError):
        return FAILURE, str(error)  # lists every source tried: several lines, on purpose
    if isinstance(error, IdxFormatError):
        return FAILURE, f"{error}; delete the file to have it fetched again"
    if isinstance(error, OSError):
        return FAILURE, os_error_line(error)
    if isinstance(error, MemoryError):
        return FAILURE, "out of memory; try a smaller --batch-size"
    return FAILURE, (
        f"{type(error).__name__}: {error} (unexpected: rerun with --debug for the traceback, "
        "and please report it)"
    )


def os_error_line(error: OSError) -> str:
    """``path: reason`` for an OSError, naming both paths of a failed rename or copy."""
    reason = error.strerror or str(error)
    paths = [str(p) for p in (error.filename, error.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def usage(message: str) -> Any:
    """Raise a :class:`UsageError` (exit status 2) with ``message``."""
    raise UsageError(message)
