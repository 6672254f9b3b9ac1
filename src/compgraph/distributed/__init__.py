"""Data-parallel training over MPI: ``mpiexec -n N python train.py``, or ``compgraph train
--distributed``.

Each rank holds the whole model, trains on its share of every global batch, and
steps with the gradient of the whole batch (:func:`allreduce_gradients`, or
:class:`DistributedOptimizer` around any optimizer). Parameters start identical on
every rank (:func:`broadcast_parameters` from rank 0) and so stay identical. A
:class:`~compgraph.data.DataLoader` built with ``shard=True`` gives each rank its share
of each global batch, so N ranks see exactly the batches one process would.

Importing this module imports no MPI: :func:`init` does, and only in a process that a
launcher (``mpiexec``, ``mpirun``, ``srun``) started. A process started on its own is
a world of one: rank 0 of size 1, every collective a no-op. ::

    import compgraph.distributed as dist
    dist.init()
    model = build_model()
    dist.broadcast_parameters(model)
    optimizer = dist.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.1))
    loader = data.DataLoader(train_set, batch_size=128, shard=True)  # 128 over all ranks
"""

from compgraph.distributed.gradients import (
    allreduce_gradients,
    broadcast_parameters,
)
from compgraph.distributed.optimizer import DistributedOptimizer
from compgraph.distributed.world import (
    INSTALL_HINT,
    DistributedUnavailable,
    barrier,
    get_rank,
    get_world_size,
    in_turn,
    init,
    is_main,
    launched_by_mpi,
    rank,
    size,
    world,
)

__all__ = [
    "INSTALL_HINT",
    "DistributedOptimizer",
    "DistributedUnavailable",
    "allreduce_gradients",
    "barrier",
    "broadcast_parameters",
    "get_rank",
    "get_world_size",
    "in_turn",
    "init",
    "is_main",
    "launched_by_mpi",
    "rank",
    "size",
    "world",
]
