"""Training: the loop, the presets, and the run folder the command line writes."""

from compgraph.train.loop import (
    Callback,
    LoopState,
    TrainingDiverged,
    TrainingInterrupted,
    evaluate,
    fit,
)
from compgraph.train.presets import PRESETS, Preset

__all__ = [
    "PRESETS",
    "Callback",
    "LoopState",
    "Preset",
    "TrainingDiverged",
    "TrainingInterrupted",
    "evaluate",
    "fit",
]
