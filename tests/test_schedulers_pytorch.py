"""Learning-rate schedulers against torch.optim.lr_scheduler, step by step, in float64."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import compgraph as cg
from compgraph import data, functional, optim
from compgraph.train import Callback, LoopState, TrainingInterrupted, fit

torch = pytest.importorskip("torch")

STEPS = 20
LRS = (0.1, 0.03)  # group 0, group 1

# name → (compgraph scheduler, torch scheduler); each takes the optimizer and the module.
SCHEDULERS: dict[str, Callable[[Any, Any], Any]] = {
    "LambdaLR": lambda opt, m: m.LambdaLR(opt, lambda epoch: 1 / (1 + epoch) + 0.05 * epoch),
    "StepLR": lambda opt, m: m.StepLR(opt, step_size=3, gamma=0.5),
    "MultiStepLR": lambda opt, m: m.MultiStepLR(opt, milestones=[2, 5, 5, 11], gamma=0.3),
    "ExponentialLR": lambda opt, m: m.ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda opt, m: m.CosineAnnealingLR(opt, T_max=5, eta_min=0.001),
    "OneCycleLR": lambda opt, m: m.OneCycleLR(opt, max_lr=0.5, total_steps=STEPS),
    "OneCycleLR-3phase-linear": lambda opt, m: m.OneCycleLR(
        opt,
        max_lr=[0.5, 0.2][: len(opt.param_groups)],
        epochs=4,
        steps_per_epoch=5,
        pct_start=0.25,
        anneal_strategy="linear",
        three_phase=True,
        div_factor=10.0,
    ),
    "ReduceLROnPlateau": lambda opt, m: m.ReduceLROnPlateau(opt, patience=2, cooldown=1),
    "ReduceLROnPlateau-max-abs": lambda opt, m: m.ReduceLROnPlateau(
        opt,
        mode="max",
        factor=0.5,
        patience=1,
        threshold=0.05,
        threshold_mode="abs",
        min_lr=0.01,
    ),
}
# A metric that improves, stalls, wobbles within the threshold and improves again.
METRICS = [1.0, 0.9, 0.9, 0.95, 0.89995, 0.9, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.71, 0.7, 0.7,
           0.69, 0.7, 0.7, 0.7, 0.7]  # fmt: skip


def make_optimizers(groups: int, kind: str = "SGD") -> tuple[Any, Any]:
    """A compgraph and a torch optimizer over dummy float64 parameters, ``groups`` groups."""
    ours_params = [cg.nn.Parameter(np.zeros(2)) for _ in range(groups)]
    torch_params = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in range(groups)]
    settings: dict[str, Any] = {"momentum": 0.9} if kind == "SGD" else {}
    if groups == 1:
        ours = getattr(optim, kind)(ours_params, lr=LRS[0], **settings)
        theirs = getattr(torch.optim, kind)(torch_params, lr=LRS[0], **settings)
        return ours, theirs
    ours = getattr(optim, kind)(
        [{"params": [p], "lr": lr} for p, lr in zip(ours_params, LRS, strict=True)], lr=1.0,
        **settings,
    )  # fmt: skip
    if not hasattr(ours, "param_groups"):
        pytest.skip("needs optimizer param_groups")
    theirs = getattr(torch.optim, kind)(
        [{"params": [p], "lr": lr} for p, lr in zip(torch_params, LRS, strict=True)], lr=1.0,
        **settings,
    )  # fmt: skip
    return ours, theirs


def groups_of(optimizer: Any) -> list[dict[str, Any]]:
    return list(getattr(optimizer, "param_groups", None) or [{"lr": optimizer.lr}])


def advance(scheduler: Any, optimizer: Any, step: int) -> None:
    """One training step's worth: the optimizer's step, then the scheduler's."""
    optimizer.step()
    if "ReduceLROnPlateau" in type(scheduler).__name__:
        scheduler.step(METRICS[step])
    else:
        scheduler.step()


def trajectory(
    name: str, optimizer: Any, module: Any, steps: int = STEPS
) -> tuple[list[list[float]], list[list[float]]]:
    """The learning rates (get_last_lr) and momenta after construction and each step."""
    scheduler = SCHEDULERS[name](optimizer, module)

    def momenta() -> list[float]:
        return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0)
                for g in optimizer.param_groups]  # fmt: skip

    lrs, moms = [scheduler.get_last_lr()], [momenta()]
    for step in range(steps):
        advance(scheduler, optimizer, step)
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [float(g["lr"]) for g in groups_of(optimizer)]
        moms.append(momenta())
    return lrs, moms


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_trajectory_matches_pytorch(name: str, groups: int) -> None:
    ours, theirs = make_optimizers(groups)
    our_lrs, our_momenta = trajectory(name, ours, optim)
    torch_lrs, torch_momenta = trajectory(name, theirs, torch.optim.lr_scheduler)
    np.testing.assert_allclose(our_lrs, torch_lrs, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(our_momenta, torch_momenta, rtol=1e-10, atol=1e-15)
    assert isinstance(our_lrs[-1], list) and len(our_lrs[-1]) == groups


@pytest.mark.parametrize("groups", [1, 2])
def test_one_cycle_cycles_adams_beta1_like_pytorch(groups: int) -> None:
    ours, theirs = make_optimizers(groups, "Adam")
    our_lrs, our_betas = trajectory("OneCycleLR", ours, optim)
    torch_lrs, torch_betas = trajectory("OneCycleLR", theirs, torch.optim.lr_scheduler)
    np.testing.assert_allclose(our_lrs, torch_lrs, rtol=1e-10)
    np.testing.assert_allclose(our_betas, torch_betas, rtol=1e-10)
    assert ours.param_groups[0]["betas"][1] == 0.999  # β₂ stays


def test_cosine_rises_again_past_t_max_like_pytorch() -> None:
    ours, theirs = make_optimizers(1)
    our_lrs = [lr[0] for lr in trajectory("CosineAnnealingLR", ours, optim)[0]]
    torch_lrs = [
        lr[0] for lr in trajectory("CosineAnnealingLR", theirs, torch.optim.lr_scheduler)[0]
    ]
    assert our_lrs[5] == pytest.approx(0.001) and our_lrs[7] > our_lrs[6] > our_lrs[5]
    assert our_lrs[10] == pytest.approx(LRS[0])  # back to the start at 2·T_max
    np.testing.assert_allclose(our_lrs, torch_lrs, rtol=1e-10)


def test_cosine_accepts_the_older_t_max_spelling() -> None:
    parameter = cg.nn.Parameter(np.zeros(1))
    older = optim.CosineAnnealingLR(optim.SGD([parameter], lr=1.0), t_max=4, eta_min=0.1)
    newer = optim.CosineAnnealingLR(optim.SGD([parameter], lr=1.0), 4, 0.1)
    for _ in range(6):
        older.step(), newer.step()
    assert older.get_last_lr() == newer.get_last_lr() and older.t_max == 4
    with pytest.raises(TypeError):
        optim.CosineAnnealingLR(optim.SGD([parameter], lr=1.0), T_max=4, t_max=4)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_round_trip(name: str) -> None:
    """Stop after 7 steps, save, rebuild the scheduler, load, go on: the same learning rates."""
    optimizer, _ = make_optimizers(1)
    straight = trajectory(name, optimizer, optim)[0]
    optimizer, _ = make_optimizers(1)
    scheduler = SCHEDULERS[name](optimizer, optim)
    for step in range(7):
        advance(scheduler, optimizer, step)
    saved = json.loads(json.dumps(scheduler.state_dict()))  # plain data: fits a checkpoint
    lrs_then = [group["lr"] for group in groups_of(optimizer)]
    scheduler = SCHEDULERS[name](optimizer, optim)  # resets the lr for a fresh schedule
    for group, lr in zip(optimizer.param_groups, lrs_then, strict=True):
        group["lr"] = lr  # what optimizer.load_state_dict restores
    scheduler.load_state_dict(saved)
    lrs = [scheduler.get_last_lr()]
    for step in range(7, STEPS):
        advance(scheduler, optimizer, step)
        lrs.append(scheduler.get_last_lr())
    np.testing.assert_allclose(lrs, straight[7:], rtol=1e-12)


def test_optimizer_state_with_scheduler_keys_loads() -> None:
    """PyTorch's resume order: optimizer, scheduler (adds 'initial_lr'), optimizer.load_state_dict.

    This is how ``compgraph train --resume`` restores the cnn preset's CosineAnnealingLR.
    """
    optimizer, _ = make_optimizers(1)
    optim.CosineAnnealingLR(optimizer, T_max=4).step()
    saved = optimizer.state_dict()
    optimizer, _ = make_optimizers(1)
    optim.CosineAnnealingLR(optimizer, T_max=4)
    optimizer.load_state_dict(saved)
    assert optimizer.lr == pytest.approx(0.1 * (1 + math.cos(math.pi / 4)) / 2)


def test_older_state_form_still_loads() -> None:
    """``compgraph train --resume`` restores the cnn preset's cosine from base_lr and epoch."""
    optimizer = optim.SGD([cg.nn.Parameter(np.zeros(1))], lr=0.5)
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=10)
    optimizer.lr = 123.0
    scheduler.load_state_dict({"base_lr": 0.5, "epoch": 3})
    expected = 0.5 * (1 + math.cos(math.pi * 0.3)) / 2
    assert optimizer.lr == pytest.approx(expected) and scheduler.get_last_lr() == [optimizer.lr]
    assert scheduler.last_epoch == 3


def test_one_cycle_refuses_steps_past_total_like_pytorch() -> None:
    optimizer, theirs = make_optimizers(1)
    ours_scheduler = optim.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    torch_scheduler = torch.optim.lr_scheduler.OneCycleLR(theirs, max_lr=1.0, total_steps=3)
    for _ in range(3):
        ours_scheduler.step()
        theirs.step()
        torch_scheduler.step()
    with pytest.raises(ValueError):
        ours_scheduler.step()
    with pytest.raises(ValueError):
        torch_scheduler.step()


def test_one_cycle_without_momentum_cycling() -> None:
    optimizer, _ = make_optimizers(1)
    scheduler = optim.OneCycleLR(optimizer, max_lr=1.0, total_steps=10, cycle_momentum=False)
    scheduler.step()
    assert groups_of(optimizer)[0]["momentum"] == 0.9


def test_differs_on_purpose_chained_schedulers_do_not_compose() -> None:
    """Closed forms: the last scheduler stepped sets lr; PyTorch's recursive forms multiply."""
    ours, theirs = make_optimizers(1)
    ours_a, ours_b = optim.ExponentialLR(ours, gamma=0.5), optim.StepLR(ours, 1, gamma=0.5)
    torch_a = torch.optim.lr_scheduler.ExponentialLR(theirs, gamma=0.5)
    torch_b = torch.optim.lr_scheduler.StepLR(theirs, 1, gamma=0.5)
    ours.step(), theirs.step()
    for scheduler in (ours_a, ours_b, torch_a, torch_b):
        scheduler.step()
    assert ours.lr == pytest.approx(0.05)  # 0.1 · 0.5: each scheduler's own value
    assert theirs.param_groups[0]["lr"] == pytest.approx(0.025)  # 0.1 · 0.5 · 0.5


# ------------------------------------------------------------------------------ fit()
def tiny_run() -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(0)
    model = cg.nn.Sequential(
        cg.nn.Linear(784, 8, rng=rng), cg.nn.ReLU(), cg.nn.Linear(8, 10, rng=rng)
    )
    train = data.DataLoader(data.Synthetic("train", n=200), 50, seed=0)
    test = data.DataLoader(data.Synthetic("test", n=100), 100, shuffle=False)
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), train, test


class LrRecorder(Callback):
    def __init__(self, optimizer: Any) -> None:
        self.optimizer, self.lrs = optimizer, list[float]()

    def on_batch_end(self, epoch: int, step: int, state: LoopState) -> None:
        self.lrs.append(self.optimizer.lr)


def test_fit_steps_one_cycle_per_batch_as_by_hand() -> None:
    model, optimizer, train, test = tiny_run()
    scheduler = optim.OneCycleLR(optimizer, max_lr=0.5, epochs=3, steps_per_epoch=len(train))
    recorder = LrRecorder(optimizer)
    fit(model, functional.cross_entropy, optimizer, train, test, 3, [recorder], scheduler,
        scheduler_interval="batch")  # fmt: skip
    by_hand_optimizer = tiny_run()[1]
    by_hand = optim.OneCycleLR(by_hand_optimizer, max_lr=0.5, total_steps=3 * len(train))
    expected = []
    for _ in range(3 * len(train)):
        by_hand.step()
        expected.append(by_hand_optimizer.lr)
    assert recorder.lrs == expected and len(expected) == 12


def test_fit_resumes_a_per_batch_schedule_mid_epoch() -> None:
    model, optimizer, train, test = tiny_run()
    scheduler = optim.OneCycleLR(optimizer, max_lr=0.5, total_steps=3 * len(train))
    straight = LrRecorder(optimizer)
    fit(model, functional.cross_entropy, optimizer, train, test, 3, [straight], scheduler,
        scheduler_interval="batch")  # fmt: skip

    model, optimizer, train, test = tiny_run()
    scheduler = optim.OneCycleLR(optimizer, max_lr=0.5, total_steps=3 * len(train))
    resumed, state, calls = LrRecorder(optimizer), LoopState(), iter(range(100))
    with pytest.raises(TrainingInterrupted):
        fit(model, functional.cross_entropy, optimizer, train, test, 3, [resumed], scheduler,
            state, should_stop=lambda: next(calls) == 5, scheduler_interval="batch")  # fmt: skip
    saved = json.loads(json.dumps(scheduler.state_dict()))
    scheduler = optim.OneCycleLR(optimizer, max_lr=0.5, total_steps=3 * len(train))
    scheduler.load_state_dict(saved)
    fit(model, functional.cross_entropy, optimizer, train, test, 3, [resumed], scheduler,
        state, scheduler_interval="batch")  # fmt: skip
    assert resumed.lrs == straight.lrs


class MetricRecorder(optim.ReduceLROnPlateau):
    def step(self, metrics: float) -> None:
        self.seen = [*getattr(self, "seen", []), metrics]
        super().step(metrics)


@pytest.mark.parametrize("with_eval", [True, False])
def test_fit_gives_plateau_the_epochs_loss(with_eval: bool) -> None:
    model, optimizer, train, test = tiny_run()
    scheduler = MetricRecorder(optimizer, patience=0)
    history = fit(model, functional.cross_entropy, optimizer, train, test if with_eval else None,
                  2, (), scheduler)  # fmt: skip
    key = "test_loss" if with_eval else "train_loss"
    assert scheduler.seen == [row[key] for row in history]
    with pytest.raises(ValueError):
        fit(model, functional.cross_entropy, optimizer, train, None, 3, (), scheduler,
            scheduler_interval="batch")  # fmt: skip


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
def test_one_cycle_drives_the_same_updates_as_pytorch(kind: str) -> None:
    """The cycled lr and momentum (SGD's, started at 0) or β₁ (Adam's) reach the update."""
    ours_param = cg.nn.Parameter(np.linspace(-1.0, 1.0, 3))
    torch_param = torch.tensor(np.linspace(-1.0, 1.0, 3), requires_grad=True)
    ours = getattr(optim, kind)([ours_param], lr=0.1)
    theirs = getattr(torch.optim, kind)([torch_param], lr=0.1)
    ours_scheduler = optim.OneCycleLR(ours, max_lr=1.0, total_steps=10)
    torch_scheduler = torch.optim.lr_scheduler.OneCycleLR(theirs, max_lr=1.0, total_steps=10)
    for step in range(10):
        grad = np.cos(np.arange(3.0) + step)
        ours_param.grad, torch_param.grad = grad.copy(), torch.tensor(grad)
        ours.step(), theirs.step()
        ours_scheduler.step(), torch_scheduler.step()
    np.testing.assert_allclose(ours_param.data, torch_param.detach().numpy(), rtol=1e-10)
