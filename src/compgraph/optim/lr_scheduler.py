"""Learning-rate schedulers with PyTorch's protocol (``torch.optim.lr_scheduler``).

Construct a scheduler after its optimizer (construction sets the epoch-0 learning
rate), call ``step()`` after ``optimizer.step()`` — once per epoch, or once per batch
for :class:`OneCycleLR` — and read ``get_last_lr()``, one value per parameter group.

Each schedule is computed in closed form from ``last_epoch`` and the group's
``initial_lr``, so ``state_dict()`` (plain numbers only) is all a resumed run needs.
PyTorch computes most of them recursively from the group's current ``lr``; the
trajectories agree (to rounding), but PyTorch's compose when two schedulers drive one
optimizer, where here the last one stepped sets the learning rate.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any

from compgraph.optim.optimizer import Optimizer


class _OptimizerAsGroup(MutableMapping[str, Any]):
    """An optimizer without ``param_groups`` seen as its one group.

    ``'lr'``, ``'momentum'`` and ``'betas'`` read and write the optimizer's attributes of
    those names; other keys (``'initial_lr'``, ``'max_lr'``) are kept here.
    """

    ATTRIBUTES = ("lr", "momentum", "betas")

    def __init__(self, optimizer: Any) -> None:
        self.optimizer, self.extra = optimizer, dict[str, Any]()

    def _attribute(self, key: str) -> bool:
        return key in self.ATTRIBUTES and hasattr(self.optimizer, key)

    def __getitem__(self, key: str) -> Any:
        return getattr(self.optimizer, key) if self._attribute(key) else self.extra[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if self._attribute(key):
            setattr(self.optimizer, key, value)
        else:
            self.extra[key] = value

    def __delitem__(self, key: str) -> None:
        del self.extra[key]

    def __iter__(self) -> Iterator[str]:
        yield from (key for key in self.ATTRIBUTES if self._attribute(key))
        yield from self.extra

    def __len__(self) -> int:
        return sum(1 for _ in self)


class LRScheduler:
    """Base class: sets each group's ``'lr'`` from ``last_epoch``; subclasses give :meth:`get_lr`.

    Args:
        optimizer: whose parameter groups' ``'lr'`` to set (``optimizer.lr`` when it has
            no ``param_groups``).
        last_epoch: -1 starts the schedule (and stores each group's ``'initial_lr'``);
            a larger value resumes it and needs ``'initial_lr'`` in the groups.

    Attributes:
        base_lrs: each group's ``'initial_lr'``.
        last_epoch: the number of ``step()`` calls since the schedule started.
    """

    #: Keys of ``__dict__`` that :meth:`state_dict` leaves out (objects, functions).
    _not_state: tuple[str, ...] = ("optimizer", "_own_group")

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self._own_group = _OptimizerAsGroup(optimizer)
        for index, group in enumerate(self.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"resuming needs 'initial_lr' in param_groups[{index}]")
        self.base_lrs = [float(group["initial_lr"]) for group in self.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    @property
    def param_groups(self) -> Sequence[MutableMapping[str, Any]]:
        """The optimizer's ``param_groups``, or the optimizer itself as one group."""
        groups = getattr(self.optimizer, "param_groups", None)
        return groups if groups is not None else [self._own_group]

    def get_lr(self) -> list[float]:
        """The learning rate of each group at ``last_epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch (or batch) and set each group's learning rate."""
        self.last_epoch += 1
        for group, lr in zip(self.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [float(group["lr"]) for group in self.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer and functions (as PyTorch's), plain numbers and lists."""
        return {
            key: list(value) if isinstance(value, list) else value
            for key, value in self.__dict__.items()
            if key not in self._not_state
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s result; learning rates come with the optimizer's state.

        The older form ``{"base_lr": …, "epoch": …}`` is accepted too and sets the
        learning rates of that epoch.
        """
        if "last_epoch" not in state and "epoch" in state:
            self.base_lrs = [float(state["base_lr"])] * len(self.param_groups)
            self.last_epoch = int(state["epoch"])
            for group, lr in zip(self.param_groups, self.get_lr(), strict=True):
                group["lr"] = lr
            self._last_lr = [float(group["lr"]) for group in self.param_groups]
            return
        self.__dict__.update({k: list(v) if isinstance(v, list) else v for k, v in state.items()})


class LambdaLR(LRScheduler):
    """lr = initial_lr · lr_lambda(last_epoch).

    Args:
        optimizer: whose learning rates to set.
        lr_lambda: a function of the epoch, or one per parameter group. Not saved by
            ``state_dict()`` (PyTorch saves a callable object's ``__dict__``).
    """

    _not_state = (*LRScheduler._not_state, "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        groups = getattr(optimizer, "param_groups", None) or [optimizer]
        if callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * len(groups)
        elif len(lr_lambda) == len(groups):
            self.lr_lambdas = list(lr_lambda)
        else:
            raise ValueError(f"LambdaLR: expected {len(groups)} lr_lambdas, got {len(lr_lambda)}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base * f(self.last_epoch)
            for base, f in zip(self.base_lrs, self.lr_lambdas, strict=True)
        ]


class StepLR(LRScheduler):
    """lr = initial_lr · γ^⌊last_epoch / step_size⌋.

    Args:
        optimizer: whose learning rates to set.
        step_size: epochs between decays.
        gamma: the decay factor.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be ≥ 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = initial_lr · γ^(number of milestones ≤ last_epoch).

    Args:
        optimizer: whose learning rates to set.
        milestones: epochs at which to decay (a milestone given twice decays twice).
        gamma: the decay factor.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones, self.gamma = sorted(int(m) for m in milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = initial_lr · γ^last_epoch.

    Args:
        optimizer: whose learning rates to set.
        gamma: the decay factor per epoch.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (initial_lr − η_min) · (1 + cos(π · last_epoch / T_max)) / 2.

    Periodic, as PyTorch's: after T_max epochs at η_min the learning rate rises again,
    back to initial_lr at 2·T_max.

    Args:
        optimizer: whose learning rates to set.
        T_max: the epoch at which lr reaches η_min (``t_max`` is the older spelling).
        eta_min: the lowest learning rate.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int | None = None,  # PyTorch's spelling
        eta_min: float = 0.0,
        last_epoch: int = -1,
        *,
        t_max: int | None = None,
    ) -> None:
        if (T_max is None) == (t_max is None):
            raise TypeError("CosineAnnealingLR: give T_max (or its older spelling t_max), once")
        period = T_max if T_max is not None else t_max
        assert period is not None
        if period < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be ≥ 1, got {period}")
        self.T_max, self.eta_min = period, eta_min
        super().__init__(optimizer, last_epoch)

    @property
    def t_max(self) -> int:
        """The older name of ``T_max``."""
        return self.T_max

    def get_lr(self) -> list[float]:
        # π · (e / T), not (π · e) / T: the cnn preset's numbers stay bit for bit as before.
        cosine = math.cos(math.pi * (self.last_epoch / self.T_max))
        return [self.eta_min + (base - self.eta_min) * (1 + cosine) / 2 for base in self.base_lrs]


def _per_group(name: str, groups: Sequence[Any], value: float | Sequence[float]) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)] * len(groups)
    if len(value) != len(groups):
        raise ValueError(f"expected {len(groups)} values for {name}, got {len(value)}")
    return [float(v) for v in value]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topsakal, 2018), stepped once per batch.

    lr warms from max_lr / div_factor up to max_lr over the first ``pct_start`` of
    ``total_steps``, then anneals to max_lr / (div_factor · final_div_factor) (with
    ``three_phase``: back down to the start value, then to the minimum). Each phase
    interpolates with ``anneal_strategy``: 'cos', start + (end − start)(1 − cos(π·pct))/2,
    or 'linear'. With ``cycle_momentum`` the momentum (SGD) or β₁ (Adam) moves the
    opposite way, between max_momentum and base_momentum. The optimizer's own lr is
    ignored, as in PyTorch.

    Args:
        optimizer: whose learning rates (and momentum or β₁) to set.
        max_lr: the peak learning rate, or one per group.
        total_steps: the number of ``step()`` calls; or give epochs and steps_per_epoch.
        pct_start: the fraction of the cycle spent warming up.
        anneal_strategy: 'cos' or 'linear'.
        cycle_momentum: cycle momentum / β₁ too (needs an optimizer that has one).
        base_momentum, max_momentum: the momentum's bounds, or one per group each.
        div_factor: initial_lr = max_lr / div_factor.
        final_div_factor: min_lr = initial_lr / final_div_factor.
        three_phase: warm up, cool down symmetrically, then anneal to min_lr.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        self.total_steps = total_steps
        if self.total_steps < 1:
            raise ValueError(f"OneCycleLR: total_steps must be ≥ 1, got {self.total_steps}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must lie in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy is 'cos' or 'linear', not {anneal_strategy!r}"
            )
        self.anneal_strategy = anneal_strategy
        warm_end = float(pct_start * self.total_steps) - 1
        # (end step, start key, end key, start momentum key, end momentum key), as PyTorch's.
        self.phases: list[tuple[float, str, str, str, str]] = [
            (warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]
        if three_phase:
            self.phases[1:] = [
                (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                 "base_momentum", "max_momentum"),
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]  # fmt: skip
        self._own_group = _OptimizerAsGroup(optimizer)
        self.optimizer = optimizer
        groups = self.param_groups
        if last_epoch == -1:
            for group, peak in zip(groups, _per_group("max_lr", groups, max_lr), strict=True):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in groups[0] and "betas" not in groups[0]:
                raise ValueError(
                    "OneCycleLR: the optimizer has no momentum or betas to cycle; "
                    "pass cycle_momentum=False"
                )
            self.use_beta1 = "betas" in groups[0]
            if last_epoch == -1:
                tops = _per_group("max_momentum", groups, max_momentum)
                bottoms = _per_group("base_momentum", groups, base_momentum)
                for group, top, bottom in zip(groups, tops, bottoms, strict=True):
                    self._set_momentum(group, top)
                    group["max_momentum"], group["base_momentum"] = top, bottom
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: MutableMapping[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, total_steps is {self.total_steps}")
        lrs = []
        for group in self.param_groups:
            start_step = 0.0
            for index, (end_step, lr_from, lr_to, momentum_from, momentum_to) in enumerate(
                self.phases
            ):
                if step <= end_step or index == len(self.phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal(group[momentum_from], group[momentum_to], pct)
                        self._set_momentum(group, momentum)
                    break
                start_step = end_step
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """lr ← max(lr · factor, min_lr) when the metric stopped improving for ``patience`` epochs.

    ``step(metric)`` takes the epoch's metric (a validation loss, say). In mode 'min'
    with threshold_mode 'rel' a metric improves on the best so far when it is below
    best · (1 − threshold) ('abs': below best − threshold; mode 'max' mirrors). After a
    reduction, ``cooldown`` epochs pass before bad epochs count again. A reduction
    smaller than ``eps`` is skipped.

    Args:
        optimizer: whose learning rates to reduce.
        mode: 'min' or 'max'.
        factor: the multiplier, < 1.
        patience: bad epochs tolerated before reducing.
        threshold, threshold_mode: what counts as an improvement ('rel' or 'abs').
        cooldown: epochs to wait after a reduction.
        min_lr: a floor, or one per group.
        eps: the smallest change worth making.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: mode is 'min' or 'max' and threshold_mode 'rel' or "
                f"'abs', got {mode!r} and {threshold_mode!r}"
            )
        self.optimizer = optimizer
        self._own_group = _OptimizerAsGroup(optimizer)
        self.min_lrs = _per_group("min_lr", self.param_groups, min_lr)
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter, self.last_epoch = 0, 0, 0
        self._last_lr = [float(group["lr"]) for group in self.param_groups]

    def is_better(self, value: float, best: float) -> bool:
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        relative = self.threshold_mode == "rel"
        if self.mode == "min":
            return value < (best * (1 - self.threshold) if relative else best - self.threshold)
        return value > (best * (1 + self.threshold) if relative else best + self.threshold)

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """Record one epoch's metric; reduce the learning rates after a plateau."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.param_groups, self.min_lrs, strict=True):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, floor)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [float(group["lr"]) for group in self.param_groups]
