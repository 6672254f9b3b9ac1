"""Every optimizer against PyTorch's: 20 steps in float64, the same gradients, to 1e-10.

Also parameter groups, ``state_dict`` round trips through a checkpoint, ``zero_grad``
and gradient clipping (``cg.nn.utils``) against ``torch.nn.utils``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import compgraph as cg
from compgraph import checkpoint, kernels, optim

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (2, 3)]
STEPS = 20
START = [np.random.default_rng(0).standard_normal(shape) for shape in SHAPES]
GRADS = [
    [np.random.default_rng(1 + step).standard_normal(shape) for shape in SHAPES]
    for step in range(STEPS)
]

# (id, class name shared by compgraph and torch, constructor settings, group 0's, group 1's)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("sgd", "SGD", {"lr": 0.1}, {"lr": 0.05}, {}),
    ("sgd-decay", "SGD", {"lr": 0.1, "weight_decay": 0.1}, {}, {"weight_decay": 0.0}),
    ("sgd-momentum", "SGD", {"lr": 0.1, "momentum": 0.9}, {}, {"momentum": 0.5}),
    ("sgd-dampening", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}, {}, {"lr": 0.2}),
    (
        "sgd-nesterov",
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
        {"momentum": 0.7},
        {},
    ),
    ("adam", "Adam", {"lr": 0.01}, {"betas": (0.8, 0.99)}, {}),
    ("adam-decay", "Adam", {"lr": 0.01, "weight_decay": 0.1}, {}, {"eps": 1e-6}),
    ("adam-amsgrad", "Adam", {"lr": 0.01, "amsgrad": True}, {}, {"amsgrad": False}),
    ("adamw", "AdamW", {"lr": 0.01}, {"weight_decay": 0.1}, {"lr": 0.02}),
    ("adamw-amsgrad", "AdamW", {"lr": 0.01, "weight_decay": 0.05, "amsgrad": True}, {}, {}),
    ("rmsprop", "RMSprop", {}, {"lr": 0.005}, {}),
    ("rmsprop-momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}, {}, {"alpha": 0.9}),
    (
        "rmsprop-centered",
        "RMSprop",
        {"lr": 0.01, "centered": True, "weight_decay": 0.1},
        {},
        {"centered": False},
    ),
    (
        "rmsprop-centered-momentum",
        "RMSprop",
        {"lr": 0.01, "centered": True, "momentum": 0.5},
        {"eps": 1e-4},
        {},
    ),
    ("adagrad", "Adagrad", {"lr": 0.1}, {}, {"lr": 0.05}),
    (
        "adagrad-lr_decay",
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.3},
        {},
        {"lr_decay": 0.0},
    ),
    ("adadelta", "Adadelta", {}, {"lr": 0.5}, {}),
    ("adadelta-decay", "Adadelta", {"weight_decay": 0.1, "rho": 0.8}, {}, {"eps": 1e-5}),
]
CASE_PARAMS = [pytest.param(*case[1:], id=case[0]) for case in CASES]


def groups(params: list[Any], first: dict[str, Any], second: dict[str, Any]) -> list[Any]:
    return [{"params": params[:2], **first}, {"params": params[2:], **second}]


def ours(name: str, settings: dict[str, Any], first: dict[str, Any], second: dict[str, Any]):
    params = [cg.nn.Parameter(value.copy()) for value in START]
    return params, getattr(optim, name)(groups(params, first, second), **settings)


def run_ours(params: list[Any], optimizer: Any, steps: range) -> list[list[np.ndarray]]:
    trajectory = []
    for step in steps:
        for parameter, grad in zip(params, GRADS[step], strict=True):
            parameter.grad = grad.copy()
        optimizer.step()
        trajectory.append([parameter.data.copy() for parameter in params])
    return trajectory


def run_torch(name: str, settings: dict[str, Any], first: dict[str, Any], second: dict[str, Any]):
    params = [torch.tensor(value, requires_grad=True) for value in START]
    optimizer = getattr(torch.optim, name)(groups(params, first, second), **settings)
    trajectory = []
    for step in range(STEPS):
        for parameter, grad in zip(params, GRADS[step], strict=True):
            parameter.grad = torch.tensor(grad)
        optimizer.step()
        trajectory.append([parameter.detach().numpy().copy() for parameter in params])
    return trajectory


@pytest.mark.parametrize("mode", ["numpy", "numba"])
@pytest.mark.parametrize(("name", "settings", "first", "second"), CASE_PARAMS)
def test_trajectory_matches_pytorch(name, settings, first, second, mode) -> None:
    if mode == "numba":
        pytest.importorskip("numba")
    with kernels.using(mode):
        params, optimizer = ours(name, settings, first, second)
        trajectory = run_ours(params, optimizer, range(STEPS))
    expected = run_torch(name, settings, first, second)
    for step, (mine, theirs) in enumerate(zip(trajectory, expected, strict=True)):
        for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10, err_msg=f"step {step}, {index}")


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_defaults_are_pytorchs(name: str) -> None:
    mine = getattr(optim, name)([cg.nn.Parameter(np.ones(2))])
    theirs = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)])
    assert mine.defaults == {key: theirs.defaults[key] for key in mine.defaults}
    assert set(mine.param_groups[0]) <= set(theirs.param_groups[0])


def test_param_groups_contract() -> None:
    params, optimizer = ours("SGD", {"lr": 0.01, "momentum": 0.9}, {"lr": 0.1}, {})
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 0.01]
    assert all(group["momentum"] == 0.9 for group in optimizer.param_groups)
    assert optimizer.param_groups[0]["params"] == params[:2]
    assert optimizer.lr == 0.1
    optimizer.lr = 0.5  # what today's schedulers do: every group
    assert [group["lr"] for group in optimizer.param_groups] == [0.5, 0.5]
    extra = cg.nn.Parameter(np.ones(3))
    optimizer.add_param_group({"params": [extra], "momentum": 0.0})
    assert optimizer.param_groups[2]["lr"] == 0.01 and optimizer.params[-1] is extra
    extra.grad = np.ones(3)
    optimizer.step()
    np.testing.assert_allclose(extra.data, 1 - 0.01)
    with pytest.raises(ValueError, match="two groups"):
        optimizer.add_param_group({"params": [extra]})
    with pytest.raises(ValueError, match="unknown group settings"):
        optimizer.add_param_group({"params": [cg.nn.Parameter(np.ones(1))], "betas": (0.9, 0.9)})
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD([{"params": [cg.nn.Parameter(np.ones(1))], "momentum": 2.0}], lr=0.1)


def test_add_param_group_matches_pytorch() -> None:
    params, optimizer = ours("Adam", {"lr": 0.01}, {}, {})
    added = cg.nn.Parameter(np.ones(5))
    optimizer.add_param_group({"params": added, "lr": 0.1, "weight_decay": 0.1})
    theirs_params = [torch.tensor(value, requires_grad=True) for value in START]
    theirs_added = torch.ones(5, dtype=torch.float64, requires_grad=True)
    theirs = torch.optim.Adam(groups(theirs_params, {}, {}), lr=0.01)
    theirs.add_param_group({"params": theirs_added, "lr": 0.1, "weight_decay": 0.1})
    for step in range(5):
        for parameter, tensor, grad in zip(params, theirs_params, GRADS[step], strict=True):
            parameter.grad, tensor.grad = grad.copy(), torch.tensor(grad)
        added.grad, theirs_added.grad = (
            np.full(5, step - 2.0),
            torch.full((5,), step - 2.0, dtype=torch.float64),
        )
        optimizer.step()
        theirs.step()
    np.testing.assert_allclose(added.data, theirs_added.detach().numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize(("name", "settings", "first", "second"), CASE_PARAMS)
def test_state_dict_round_trip_continues_as_uninterrupted(
    name, settings, first, second, tmp_path
) -> None:
    params, optimizer = ours(name, settings, first, second)
    uninterrupted = run_ours(params, optimizer, range(STEPS))[-1]

    params, optimizer = ours(name, settings, first, second)
    run_ours(params, optimizer, range(8))
    model = cg.nn.Sequential(cg.nn.Linear(2, 2, rng=0))
    checkpoint.save(tmp_path / "c.npz", model, optimizer)
    saved = checkpoint.read_checkpoint(tmp_path / "c.npz").optimizer_state
    # A fresh optimizer built with other learning rates takes the saved ones.
    fresh = getattr(optim, name)(groups(params, {}, {}), **{**settings, "lr": 123.0})
    fresh.load_state_dict(saved)
    assert [g["lr"] for g in fresh.param_groups] == [g["lr"] for g in optimizer.param_groups]
    assert fresh.step_count == 8
    continued = run_ours(params, fresh, range(8, STEPS))[-1]
    for a, b in zip(continued, uninterrupted, strict=True):
        np.testing.assert_array_equal(a, b)


def test_state_dict_refuses_another_optimizer_or_shape() -> None:
    params, adam = ours("Adam", {}, {}, {})
    run_ours(params, adam, range(2))
    _, sgd = ours("SGD", {"lr": 0.1, "momentum": 0.9}, {}, {})
    with pytest.raises(ValueError, match="Adam's, not SGD's") as refused:
        sgd.load_state_dict(adam.state_dict())
    assert "\n" not in str(refused.value)
    other = optim.Adam([cg.nn.Parameter(np.ones((4, 3))), *params[1:]])
    with pytest.raises(ValueError, match="parameter groups do not fit"):
        other.load_state_dict(adam.state_dict())
    flat = optim.Adam([cg.nn.Parameter(np.ones((4, 3))), *params[1:]])
    state = {k: v for k, v in adam.state_dict().items() if k != "param_groups"}
    with pytest.raises(ValueError, match="does not fit parameter 0"):
        flat.load_state_dict(state)


def test_state_without_groups_still_loads() -> None:
    """What compgraph saved before parameter groups: lr, step_count and the buffers."""
    params, optimizer = ours("SGD", {"lr": 0.1, "momentum": 0.9}, {}, {})
    run_ours(params, optimizer, range(3))
    old = {
        k: v for k, v in optimizer.state_dict().items() if k not in ("optimizer", "param_groups")
    }
    fresh = optim.SGD(params, lr=0.5, momentum=0.9)
    fresh.load_state_dict(old)
    assert fresh.lr == 0.1 and fresh.step_count == 3
    np.testing.assert_array_equal(fresh.state[0]["velocity"], optimizer.state[0]["velocity"])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none: bool) -> None:
    params, optimizer = ours("SGD", {"lr": 0.1}, {}, {})
    grads = [np.ones(shape) for shape in SHAPES]
    for parameter, grad in zip(params, grads, strict=True):
        parameter.grad = grad
    params[2].grad = None
    optimizer.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert all(parameter.grad is None for parameter in params)
    else:  # zeros, in the same arrays
        for parameter, grad in zip(params[:2], grads[:2], strict=True):
            assert parameter.grad is grad and not grad.any()
        assert params[2].grad is None
    optimizer.zero_grad()
    assert all(parameter.grad is None for parameter in params)


def clip_inputs() -> tuple[list[Any], list[Any]]:
    mine = [cg.nn.Parameter(value.copy()) for value in START]
    theirs = [torch.tensor(value, requires_grad=True) for value in START]
    for parameter, tensor, grad in zip(mine, theirs, GRADS[0], strict=True):
        parameter.grad, tensor.grad = grad.copy(), torch.tensor(grad)
    mine[1].grad, theirs[1].grad = None, None
    return mine, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_pytorch(norm_type: float, max_norm: float) -> None:
    mine, theirs = clip_inputs()
    total = cg.nn.utils.clip_grad_norm_(mine, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for parameter, tensor in zip(mine, theirs, strict=True):
        if tensor.grad is None:
            assert parameter.grad is None
        else:
            np.testing.assert_allclose(parameter.grad, tensor.grad.numpy(), rtol=1e-12, atol=0)


def test_clip_grad_value_matches_pytorch() -> None:
    mine, theirs = clip_inputs()
    before = mine[0].grad
    cg.nn.utils.clip_grad_value_(mine, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    assert mine[0].grad is before  # in place
    for parameter, tensor in zip(mine, theirs, strict=True):
        if tensor.grad is not None:
            np.testing.assert_array_equal(parameter.grad, tensor.grad.numpy())
    single = cg.nn.Parameter(np.zeros(2))
    single.grad = np.array([3.0, 4.0])
    assert cg.nn.utils.clip_grad_norm_(single, 1.0) == 5.0
    assert cg.nn.utils.clip_grad_norm_([cg.nn.Parameter(np.zeros(1))], 1.0) == 0.0
