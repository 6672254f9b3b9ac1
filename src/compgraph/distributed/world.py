"""The processes of a data-parallel run: who they are, and how they meet.

A run launched by ``mpiexec -n N`` (or ``mpirun``, or a batch system's launcher)
has N processes, its *ranks*, 0 to N-1. :func:`init` finds out whether this process
is one of them from the variables the launcher sets, and only then imports mpi4py
(importing it starts MPI, so ``import compgraph`` never does). A process started
without a launcher is a world of one, and needs no MPI at all.

Every collective here waits by polling a non-blocking request rather than blocking
inside MPI, so that Python's signal handlers run while a rank waits for the others:
that is what lets a rank say why it stops when ``mpiexec`` ends the job (see
:mod:`compgraph.distributed.stopping`).
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T")

#: What to install when mpi4py is missing, in one line.
INSTALL_HINT = (
    "pip install 'compgraph[mpi]' (mpi4py and Open MPI from the package index), or "
    "pip install mpi4py built against your cluster's MPI"
)

#: Variables a launcher sets in each process it starts: Open MPI, MPICH/Hydra and
#: Intel MPI, PMIx, Slurm's srun with PMI.
_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")
_LAUNCH_VARIABLES = (*_SIZE_VARIABLES, "PMIX_RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK")


class DistributedUnavailable(RuntimeError):
    """MPI was asked for but cannot be used here; the message says what to install."""


def launch_rank() -> int:
    """This process's rank as its launcher set it (0 without one), readable before init()."""
    for name in ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"):
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


def launch_size() -> int:
    """The number of ranks the launcher started (1 without one), readable before init()."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def launched_by_mpi() -> bool:
    """True when a launcher (``mpiexec``, ``mpirun``, ``srun``) started this process."""
    return any(name in os.environ for name in _LAUNCH_VARIABLES)


def _import_mpi() -> Any:
    try:
        from mpi4py import MPI
    except ImportError:
        raise DistributedUnavailable(f"distributed training needs mpi4py: {INSTALL_HINT}") from None
    return MPI


class World:
    """This process's view of the run: its rank, the number of ranks, and the collectives.

    A world of one (no launcher) has rank 0 and size 1, and every collective returns
    its input. Use the module functions (:func:`init`, :func:`rank`, …) rather than
    building one.
    """

    def __init__(self, comm: Any = None, mpi: Any = None) -> None:
        self.comm, self.mpi = comm, mpi
        self.rank: int = comm.Get_rank() if comm is not None else 0
        self.size: int = comm.Get_size() if comm is not None else 1
        self.node: Any = None  # the ranks on this machine, split on first use
        #: Called with nothing while a collective waits; may raise to give up waiting.
        self.on_wait: Callable[[], None] | None = None

    # -- waiting -------------------------------------------------------------------------

    def wait(self, request: Any) -> None:
        """Wait for a non-blocking request, letting signal handlers run meanwhile."""
        if request.Test():
            return
        deadline = time.perf_counter() + 0.002  # spin briefly: most waits end at once
        while not request.Test():
            if self.on_wait is not None:
                self.on_wait()
            if time.perf_counter() > deadline:
                time.sleep(0.0002)  # then yield the core to a rank sharing it

    # -- collectives ---------------------------------------------------------------------

    def allreduce_sum(self, buffer: NDArray[Any]) -> NDArray[Any]:
        """Sum ``buffer`` over the ranks, in place; returns it."""
        if self.comm is not None and self.size > 1:
            self.wait(self.comm.Iallreduce(self.mpi.IN_PLACE, buffer, op=self.mpi.SUM))
        return buffer

    def barrier(self) -> None:
        if self.comm is not None and self.size > 1:
            self.wait(self.comm.Ibarrier())

    def broadcast_array(self, array: NDArray[Any], root: int = 0) -> NDArray[Any]:
        """Overwrite ``array`` on every rank with root's, in place; returns it."""
        if self.comm is not None and self.size > 1:
            contiguous = np.ascontiguousarray(array)
            self.wait(self.comm.Ibcast(contiguous, root=root))
            if contiguous is not array:
                array[...] = contiguous
        return array

    def broadcast_object(self, value: Any, root: int = 0) -> Any:
        """Root's ``value`` on every rank (a small, picklable object made by compgraph)."""
        if self.comm is None or self.size == 1:
            return value
        # Pickle is safe here: the bytes come from a rank of this same job, not a file.
        data = np.frombuffer(pickle.dumps(value), np.uint8) if self.rank == root else None
        length = np.array([0 if data is None else data.size], np.int64)
        self.broadcast_array(length, root)
        buffer = data.copy() if data is not None else np.empty(int(length[0]), np.uint8)
        self.broadcast_array(buffer, root)
        return value if self.rank == root else pickle.loads(buffer.tobytes())

    def node_ranks(self) -> tuple[int, int]:
        """(this rank's index among the ranks on its machine, how many share it)."""
        if self.comm is None or self.size == 1:
            return 0, 1
        if self.node is None:
            self.node = self.comm.Split_type(self.mpi.COMM_TYPE_SHARED)
        return self.node.Get_rank(), self.node.Get_size()

    def abort(self, status: int) -> None:
        """End every rank of the job now (after a rank failed); does not return."""
        if self.comm is not None and self.size > 1:
            self.comm.Abort(status)
        os._exit(status)


_world = World()


def init() -> World:
    """Join the run this process was launched into; a world of one without a launcher.

    Idempotent. Under ``mpiexec`` this imports mpi4py (which starts MPI), and from then
    on an exception that no code catches on one rank aborts the whole job, after its
    traceback, so that no rank waits forever in a collective for a rank that has died.

    Raises:
        DistributedUnavailable: launched by MPI, but mpi4py is not installed.
    """
    global _world
    if _world.comm is not None or not launched_by_mpi():
        return _world
    mpi = _import_mpi()
    _world = World(mpi.COMM_WORLD, mpi)
    if _world.size > 1:
        _abort_on_uncaught_exceptions()
    return _world


def _abort_on_uncaught_exceptions() -> None:
    """An exception no one catches on one rank ends every rank (as ``python -m mpi4py``
    does): otherwise the others would wait for it in their next collective forever."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, trace: Any) -> None:
        previous(kind, error, trace)  # the traceback, as without MPI
        print(
            f"rank {_world.rank} of {_world.size} raised {kind.__name__}; ending every rank",
            file=sys.stderr,
            flush=True,
        )
        _world.abort(1)

    sys.excepthook = hook


def world() -> World:
    """The world :func:`init` joined (a world of one before it)."""
    return _world


def rank() -> int:
    """This process's rank: 0 to size() - 1 (0 for a single process)."""
    return _world.rank


def size() -> int:
    """The number of ranks (1 for a single process, or before :func:`init`)."""
    return _world.size


def is_main() -> bool:
    """True on rank 0, the one that prints, writes files and saves checkpoints."""
    return _world.rank == 0


def get_rank() -> int:
    """PyTorch's spelling of :func:`rank` (``torch.distributed.get_rank``)."""
    return _world.rank


def get_world_size() -> int:
    """PyTorch's spelling of :func:`size` (``torch.distributed.get_world_size``)."""
    return _world.size


def barrier() -> None:
    """Wait until every rank reaches this call."""
    _world.barrier()


def in_turn(work: Callable[[], T]) -> T:
    """``work()`` on rank 0 first, then on one rank per other machine, then on the rest.

    For work that fills a cache every rank then reads (a dataset download, compiled
    kernels): it is done once, and the others find it done — on a shared file system
    by rank 0 alone, otherwise once per machine. An exception on rank 0 is raised there
    before the others start (they then wait until the job is stopped; see
    :func:`compgraph.distributed.fail`).
    """
    w = _world
    if w.size == 1:
        return work()
    local_rank, _ = w.node_ranks()
    result: Any = None
    if w.rank == 0:
        result = work()
    w.barrier()
    if w.rank != 0 and local_rank == 0:
        result = work()
    w.barrier()
    if local_rank != 0:
        result = work()
    return result
