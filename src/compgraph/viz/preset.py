"""One batch through a preset model: the graph ``compgraph graph`` draws."""

from __future__ import annotations

import numpy as np

from compgraph import data, functional
from compgraph.nn.module import Module
from compgraph.tensor import Tensor
from compgraph.train.presets import PRESETS
from compgraph.viz.walk import retain_grads


def preset_loss(
    name: str, batch_size: int = 8, seed: int = 5, backward: bool = False
) -> tuple[Module, Tensor]:
    """A freshly initialised preset model and its training loss on one batch.

    The batch is drawn from :class:`compgraph.data.Synthetic` (no download, same
    shapes as MNIST) and shaped as ``compgraph train`` feeds that preset: flat
    rows, or N×1×28×28 images. The loss is ``functional.cross_entropy``, as in
    training. With ``backward``, every intermediate gradient is retained and
    back propagation runs, keeping the graph, so that it can be drawn with grads.
    """
    preset = PRESETS[name]
    model = preset.build(np.random.default_rng(seed))
    batch = data.DataLoader(
        data.Synthetic("test", n=batch_size, seed=seed),
        batch_size,
        shuffle=False,
        flatten=not preset.images,
    )
    x, y = next(iter(batch))
    logits = model(Tensor(x, name="images"))
    loss = functional.cross_entropy(logits, Tensor(y, name="labels"))
    if backward:
        retain_grads(loss).backward(retain_graph=True)
    return model, loss
