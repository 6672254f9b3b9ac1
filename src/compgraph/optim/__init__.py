"""Optimizers and learning-rate schedules."""

from compgraph.optim.adam import Adam, AdamW
from compgraph.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR
from compgraph.optim.optimizer import Optimizer
from compgraph.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "CosineAnnealingLR", "LRScheduler", "Optimizer", "StepLR"]
