"""compgraph: computation graphs and back propagation in NumPy.

Every operation is a :class:`Node` with an explicit ``forward`` and
``backward`` written in NumPy; a :class:`Tensor` records which node produced
it, and ``loss.backward()`` walks that graph in reverse to fill ``.grad``.
"""

import importlib
from typing import TYPE_CHECKING, Any

from compgraph import functional, kernels, nn, nodes, optim
from compgraph.anomaly import AnomalyError, detect_anomaly
from compgraph.checkpoint import CheckpointError, load, save
from compgraph.creation import (
    arange,
    cat,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    stack,
    where,
    zeros,
    zeros_like,
)
from compgraph.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from compgraph.gradcheck import GradcheckError, gradcheck, numdiff
from compgraph.graph import BackwardError
from compgraph.held import node_parameters
from compgraph.hints import CompgraphWarning
from compgraph.kernels import threads as _threads
from compgraph.kernels.memory import reuse_freed_memory
from compgraph.kernels.threads import get_num_threads, set_num_threads
from compgraph.node import ForwardError, InPlaceEditError, InputValueError, Node, ShapeError
from compgraph.random import manual_seed
from compgraph.tensor import Tensor, tensor
from compgraph.torch_weights import load_torch_state_dict

if TYPE_CHECKING:
    from compgraph import data as data
    from compgraph import distributed as distributed
    from compgraph import testing as testing
    from compgraph import train as train
    from compgraph import viz as viz
    from compgraph.testing import check_node

__version__ = "0.1.0"

_threads.apply_environment()  # COMPGRAPH_NUM_THREADS, when set


#: Subpackages reachable as ``compgraph.data`` (and so on) without importing them up
#: front: ``import compgraph`` stays fast, and each is imported on first use.
_LAZY_SUBPACKAGES = ("data", "distributed", "testing", "train", "viz")


def __getattr__(name: str) -> Any:
    # check_node is imported when first used: its op specs are not needed by `import compgraph`.
    if name == "check_node":
        from compgraph.testing import check_node

        return check_node
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f"compgraph.{name}")
    raise AttributeError(f"module 'compgraph' has no attribute {name!r}")


__all__ = [
    "AnomalyError",
    "BackwardError",
    "CheckpointError",
    "CompgraphWarning",
    "ForwardError",
    "GradcheckError",
    "InPlaceEditError",
    "InputValueError",
    "Node",
    "ShapeError",
    "Tensor",
    "arange",
    "cat",
    "check_node",
    "detect_anomaly",
    "enable_grad",
    "eye",
    "full",
    "full_like",
    "functional",
    "get_num_threads",
    "gradcheck",
    "is_grad_enabled",
    "kernels",
    "linspace",
    "load",
    "load_torch_state_dict",
    "manual_seed",
    "nn",
    "no_grad",
    "node_parameters",
    "nodes",
    "numdiff",
    "ones",
    "ones_like",
    "optim",
    "rand",
    "randint",
    "randn",
    "reuse_freed_memory",
    "save",
    "set_grad_enabled",
    "set_num_threads",
    "stack",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]
