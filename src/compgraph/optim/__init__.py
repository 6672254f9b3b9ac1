"""Optimizers and learning-rate schedules."""

from compgraph.optim.adadelta import Adadelta
from compgraph.optim.adagrad import Adagrad
from compgraph.optim.adam import Adam, AdamW
from compgraph.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)
from compgraph.optim.optimizer import Optimizer
from compgraph.optim.rmsprop import RMSprop
from compgraph.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "MultiStepLR",
    "OneCycleLR",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "StepLR",
]
