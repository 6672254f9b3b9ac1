"""DistributedOptimizer: any optimizer, stepping with the gradient of the global batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.distributed.gradients import reduce_step


class DistributedOptimizer:
    """Wrap an optimizer so that ``step()`` first reduces the gradients over the ranks.

    As Horovod's ``hvd.DistributedOptimizer``: build the model and the optimizer as
    for one process, wrap the optimizer, and call
    :func:`~compgraph.distributed.broadcast_parameters` once so every rank starts
    from rank 0's weights::

        optimizer = dist.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.1))
        ...
        loss.backward()
        optimizer.step(examples=len(y))

    ``step(examples=n)`` weighs this rank's gradients by its n examples (see
    :func:`~compgraph.distributed.allreduce_gradients`); plain ``step()`` weighs the
    ranks alike. Everything else (``lr``, ``param_groups``, ``state_dict``, schedulers
    built on the wrapped optimizer) is the wrapped optimizer's.

    Attributes:
        optimizer: the wrapped optimizer.
    """

    def __init__(self, optimizer: Any) -> None:
        self.optimizer = optimizer
        self._synchronized = False

    def __getattr__(self, name: str) -> Any:
        # Only what this class lacks; never "optimizer" itself, which copy and pickle look
        # up on an instance whose __init__ has not run.
        if name == "optimizer" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.optimizer, name)

    @property
    def lr(self) -> float:
        return float(self.optimizer.lr)

    @lr.setter
    def lr(self, value: float) -> None:
        self.optimizer.lr = value

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()
        self._synchronized = False

    def synchronize(
        self, examples: int | None = None, extras: Sequence[float] = ()
    ) -> tuple[float, NDArray[np.float64]]:
        """Reduce the gradients now (one message), summing ``extras`` over the ranks too.

        Returns (the total number of examples, the summed extras). A following
        ``step()`` applies the reduced gradients without reducing them again.
        """
        result = reduce_step(self.optimizer.params, examples, extras)
        self._synchronized = True
        return result

    def step(self, examples: int | None = None) -> None:
        if not self._synchronized:
            self.synchronize(examples)
        self.optimizer.step()
        self._synchronized = False
