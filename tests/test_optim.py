"""Optimizers and schedules: the update formulas, in-place updates, checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest

import compgraph as cg
from compgraph import optim

GRADS = [np.random.default_rng(s).standard_normal((3, 2)) for s in range(5)]
START = np.random.default_rng(99).standard_normal((3, 2))


def run(make_optimizer, steps: int = 5) -> np.ndarray:
    parameter = cg.nn.Parameter(START.copy())
    optimizer = make_optimizer([parameter])
    for grad in GRADS[:steps]:
        parameter.grad = grad.copy()
        optimizer.step()
    return parameter.data


def reference_sgd(lr, momentum=0.0, nesterov=False, weight_decay=0.0) -> np.ndarray:
    theta, velocity = START.copy(), None
    for grad in GRADS:
        g = grad + weight_decay * theta
        if momentum:
            velocity = g.copy() if velocity is None else momentum * velocity + g
            g = g + momentum * velocity if nesterov else velocity
        theta = theta - lr * g
    return theta


def reference_adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    theta, m, v = START.copy(), np.zeros_like(START), np.zeros_like(START)
    for t, grad in enumerate(GRADS, start=1):
        g = grad if decoupled else grad + weight_decay * theta
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


SGD_SETTINGS = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.9, "nesterov": True},
    {"momentum": 0.5, "weight_decay": 0.1},
    {"weight_decay": 0.01},
]


@pytest.mark.parametrize("settings", SGD_SETTINGS)
def test_sgd_follows_its_formula(settings) -> None:
    ours = run(lambda p: optim.SGD(p, lr=0.1, **settings))
    np.testing.assert_allclose(ours, reference_sgd(0.1, **settings), rtol=1e-12)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_and_adamw_follow_their_formulas(weight_decay) -> None:
    ours = run(lambda p: optim.Adam(p, lr=0.01, weight_decay=weight_decay))
    np.testing.assert_allclose(ours, reference_adam(0.01, weight_decay=weight_decay), rtol=1e-12)
    ours_w = run(lambda p: optim.AdamW(p, lr=0.01, weight_decay=weight_decay))
    expected = reference_adam(0.01, weight_decay=weight_decay, decoupled=True)
    np.testing.assert_allclose(ours_w, expected, rtol=1e-12)


TORCH_PAIRS = [
    (
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda torch, p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    ),
    (
        lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1),
        lambda torch, p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
    ),
    (lambda p: optim.AdamW(p, lr=0.01), lambda torch, p: torch.optim.AdamW(p, lr=0.01)),
]


@pytest.mark.parametrize(("ours", "theirs"), TORCH_PAIRS)
def test_matches_torch_optimizers(ours, theirs) -> None:
    torch = pytest.importorskip("torch")
    parameter = torch.tensor(START.copy(), requires_grad=True)
    optimizer = theirs(torch, [parameter])
    for grad in GRADS:
        parameter.grad = torch.tensor(grad)
        optimizer.step()
    np.testing.assert_allclose(run(ours), parameter.detach().numpy(), rtol=1e-10)


IN_PLACE = [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda p: optim.Adam(p, lr=0.1),
    lambda p: optim.AdamW(p, lr=0.1),
]


@pytest.mark.parametrize("make", IN_PLACE)
def test_updates_in_place_without_new_buffers_after_the_first_step(make) -> None:
    parameter = cg.nn.Parameter(np.ones((4, 4), np.float32))
    optimizer = make([parameter])
    data_id = id(parameter.data)
    parameter.grad = np.ones((4, 4), np.float32)
    optimizer.step()
    buffers = {key: id(array) for key, array in optimizer.state[0].items()}
    for _ in range(3):
        parameter.grad = np.ones((4, 4), np.float32)
        optimizer.step()
    assert id(parameter.data) == data_id
    assert {key: id(array) for key, array in optimizer.state[0].items()} == buffers
    assert parameter.data.dtype == np.float32
    assert all(array.dtype == np.float32 for array in optimizer.state[0].values())


def test_a_step_lowers_a_quadratic_loss() -> None:
    target = np.arange(6.0).reshape(2, 3)
    for make in (lambda p: optim.SGD(p, lr=0.1), lambda p: optim.Adam(p, lr=0.1)):
        parameter = cg.nn.Parameter(np.zeros((2, 3)))
        optimizer = make([parameter])
        losses = []
        for _ in range(20):
            optimizer.zero_grad()
            loss = cg.functional.mse_loss(parameter, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        assert losses[-1] < 0.5 * losses[0]


def test_state_dict_resumes_exactly() -> None:
    uninterrupted = run(lambda p: optim.Adam(p, lr=0.01))
    parameter = cg.nn.Parameter(START.copy())
    first = optim.Adam([parameter], lr=0.01)
    for grad in GRADS[:2]:
        parameter.grad = grad.copy()
        first.step()
    saved = first.state_dict()
    second = optim.Adam([parameter], lr=0.01)
    second.load_state_dict(saved)
    for grad in GRADS[2:]:
        parameter.grad = grad.copy()
        second.step()
    np.testing.assert_array_equal(parameter.data, uninterrupted)


def test_rejects_bad_settings() -> None:
    parameter = cg.nn.Parameter(np.ones(2))
    for make in (lambda: optim.SGD([parameter], lr=0), lambda: optim.Adam([parameter], lr=-1),
                 lambda: optim.SGD([parameter], lr=0.1, momentum=1.5),
                 lambda: optim.SGD([], lr=0.1)):  # fmt: skip
        with pytest.raises(ValueError):
            make()


def test_schedules() -> None:
    optimizer = optim.SGD([cg.nn.Parameter(np.ones(1))], lr=1.0)
    step = optim.StepLR(optimizer, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        step.step()
        lrs.append(optimizer.lr)
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]
    optimizer.lr = 1.0
    cosine = optim.CosineAnnealingLR(optimizer, t_max=4, eta_min=0.1)
    values = []
    for _ in range(4):
        cosine.step()
        values.append(optimizer.lr)
    assert values[-1] == pytest.approx(0.1)
    assert values[1] == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 2)) / 2)
