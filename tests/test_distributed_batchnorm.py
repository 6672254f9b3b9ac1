"""SyncBatchNorm: BatchNorm's numbers in one process, one process's numbers on two ranks.

The two-rank test runs ``tests/mpi/sync_batchnorm_script.py`` under ``mpiexec -n 2``
(skipped, saying why, where mpi4py or mpiexec is missing) and checks the largest
differences it reports, so a failure shows the numbers.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import compgraph as cg
from compgraph import distributed, nn, nodes
from tests.mpi.launch import python_script, run_mpi

# -- on two ranks --------------------------------------------------------------------------


def test_sync_batchnorm_on_two_ranks_is_batchnorm_on_the_whole_batch(tmp_path) -> None:
    result_path = tmp_path / "result.json"
    shown = run_mpi(2, *python_script("sync_batchnorm_script.py"), str(result_path))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    result = json.loads(result_path.read_text())
    assert result["ranks"] == 2
    splits = result["splits"]
    assert set(splits) == {"8+8", "7+9", "0+16", "16+0"}
    for split, found in splits.items():
        for name in ("outputs", "gradients", "state", "eval_outputs", "ranks_differ"):
            assert found[name] <= 1e-12, f"{split}: {name} differs by {found[name]:.3g}: {found}"
        # Two layers: 2 messages forward and 1 backward each, then the gradients' one.
        assert found["messages_per_step"] == [7, 7], f"{split}: {found}"
        assert found["eval_messages"] == 0, f"{split}: {found}"


# -- in one process ------------------------------------------------------------------------


def _pair(
    sync: nn.Module, plain: nn.Module, shape: tuple[int, ...], dtype: Any, steps: int = 2
) -> None:
    """Train and evaluate both on the same batches: every number must be the same."""
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
        grad = rng.standard_normal(shape).astype(dtype)
        results = []
        for module in (sync, plain):
            inputs = cg.tensor(x, requires_grad=True)
            output = module(inputs)
            output.backward(grad)
            grads = [p.grad for p in module.parameters()]
            results.append([output.data, inputs.grad, *grads, *module.state_dict().values()])
            module.zero_grad()
        for ours, theirs in zip(*results, strict=True):
            np.testing.assert_array_equal(ours, theirs)
    x = rng.standard_normal(shape).astype(dtype)
    sync.eval()
    plain.eval()
    np.testing.assert_array_equal(sync(cg.tensor(x)).data, plain(cg.tensor(x)).data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("plain_class", "shape"), [(nn.BatchNorm2d, (4, 3, 5, 2)), (nn.BatchNorm1d, (6, 3))]
)
def test_in_one_process_sync_batchnorm_is_batchnorm(plain_class, shape, dtype) -> None:
    sync = nn.SyncBatchNorm(3, eps=1e-3, momentum=0.2, dtype=dtype)
    plain = plain_class(3, eps=1e-3, momentum=0.2, dtype=dtype)
    for module in (sync, plain):
        module.weight.data[...] = [0.5, 2.0, -1.0]
        module.bias.data[...] = [0.1, -0.3, 0.7]
    _pair(sync, plain, shape, dtype)


def _model_with_batchnorms() -> nn.Module:
    class Model(nn.Module):
        def __init__(self) -> None:
            conv = nn.Conv2d(1, 3, 3, dtype=np.float64, rng=0)
            self.features = nn.Sequential(conv, nn.BatchNorm2d(3, eps=1e-3, dtype=np.float64))
            self.heads = nn.ModuleList([nn.BatchNorm1d(4, momentum=0.5, dtype=np.float64)])
            self.named = nn.ModuleDict({"norm": nn.BatchNorm1d(2, dtype=np.float64)})
            self.shared = self.heads[0]
            self.linear = nn.Linear(2, 2, dtype=np.float64, rng=1)

        def forward(self, x: cg.Tensor) -> cg.Tensor:
            return self.features(x)

    model = Model()
    rng = np.random.default_rng(5)
    for name, array in model.state_dict().items():
        target = dict(model.named_parameters()).get(name)
        values = rng.uniform(0.5, 2.0, array.shape)
        if target is not None:
            target.data[...] = values
        else:
            dict(model.named_buffers())[name][...] = values
    model.named["norm"].eval()
    return model


def test_convert_sync_batchnorm_hands_over_weights_buffers_and_settings() -> None:
    model = _model_with_batchnorms()
    before = model.state_dict()
    parameters = [id(p) for p in model.parameters()]
    norms = [model.features[1], model.heads[0], model.named["norm"]]
    buffers = [id(norm.running_mean) for norm in norms]

    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)

    assert converted is model  # containers are changed in place, as in PyTorch
    syncs = [model.features[1], model.heads[0], model.named["norm"]]
    assert all(type(sync) is nn.SyncBatchNorm for sync in syncs)
    assert model.shared is model.heads[0]  # one BatchNorm used twice: one SyncBatchNorm
    assert type(model.features[0]) is nn.Conv2d and type(model.linear) is nn.Linear
    assert [id(p) for p in model.parameters()] == parameters  # an optimizer still steps them
    assert [id(sync.running_mean) for sync in syncs] == buffers
    after = model.state_dict()
    assert list(after) == list(before)  # BatchNorm's names, in the same order
    for name, array in before.items():
        np.testing.assert_array_equal(after[name], array)
    assert [(s.eps, s.momentum, s.training) for s in syncs] == [
        (norm.eps, norm.momentum, norm.training) for norm in norms
    ]
    assert syncs[0].affine and syncs[0].track_running_stats
    assert syncs[0].weight.dtype == np.float64
    assert nn.SyncBatchNorm.convert_sync_batchnorm(model) is model  # nothing left to convert


def test_convert_sync_batchnorm_of_a_batchnorm_itself_and_checkpoints_both_ways() -> None:
    plain = nn.BatchNorm2d(3, momentum=0.25, dtype=np.float64)
    _pair(nn.SyncBatchNorm(3, momentum=0.25, dtype=np.float64), plain, (4, 3, 2, 2), np.float64)
    sync = nn.SyncBatchNorm.convert_sync_batchnorm(plain)
    assert isinstance(sync, nn.SyncBatchNorm) and not sync.training
    assert sync.weight is plain.weight and sync.running_var is plain.running_var
    fresh_sync = nn.SyncBatchNorm(3, dtype=np.float64)
    fresh_plain = nn.BatchNorm2d(3, dtype=np.float64)
    fresh_sync.load_state_dict(plain.state_dict())
    fresh_plain.load_state_dict(fresh_sync.state_dict())
    np.testing.assert_array_equal(fresh_plain.running_mean, plain.running_mean)
    rebuilt = nn.from_config(nn.to_config(nn.SyncBatchNorm(5, affine=False, dtype=np.float64)))
    assert rebuilt.config() == {"num_features": 5, "eps": 1e-5, "momentum": 0.1,
                                "affine": False, "track_running_stats": True,
                                "dtype": "float64"}  # fmt: skip
    assert set(rebuilt.state_dict()) == {"running_mean", "running_var"}
    assert rebuilt.weight is None and rebuilt.bias is None
    untracked = nn.SyncBatchNorm(5, track_running_stats=False)
    assert set(untracked.state_dict()) == {"weight", "bias"} and untracked.running_mean is None


def test_each_call_sends_two_messages_forward_and_one_backward(monkeypatch) -> None:
    world = distributed.world()
    sizes: list[int] = []
    real = world.allreduce_sum

    def counting(buffer):
        sizes.append(buffer.size)
        return real(buffer)

    monkeypatch.setattr(world, "allreduce_sum", counting)
    norm = nn.SyncBatchNorm(3, dtype=np.float64)
    x = cg.tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)), requires_grad=True)
    output = norm(x)
    assert sizes == [4, 3]  # Σx and the count; then Σ(x − μ)²
    output.sum().backward()
    assert sizes == [4, 3, 6]  # Σg and Σg·x̂, packed
    norm(cg.tensor(x.data)).sum().backward()  # x needs no gradient: nothing to send back
    assert sizes == [4, 3, 6, 4, 3]
    norm.eval()
    norm(x)
    assert len(sizes) == 5


def test_an_empty_batch_on_every_rank_is_refused_and_bad_shapes_too() -> None:
    with pytest.raises(cg.InputValueError, match="every rank's batch is empty"):
        nn.SyncBatchNorm(3, dtype=np.float64)(cg.tensor(np.zeros((0, 3))))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.SyncBatchNorm(3)(cg.tensor(np.zeros(3, np.float32)))
    with pytest.raises(cg.ShapeError, match="SyncBatchNorm"):
        nodes.SyncBatchNorm()(np.zeros((2, 4)), np.ones(3), np.zeros(3))


@pytest.mark.parametrize(
    ("affine", "track", "shape"),
    [
        (True, True, (5, 3, 4, 4)),
        (False, True, (6, 3)),
        (True, False, (4, 3, 5)),
        (False, False, (6, 3)),
    ],
)
def test_matches_pytorch_sync_batchnorm_in_one_process(affine, track, shape) -> None:
    torch = pytest.importorskip("torch")
    ours = nn.SyncBatchNorm(3, momentum=0.3, affine=affine, track_running_stats=track,
                            dtype=np.float64)  # fmt: skip
    theirs = torch.nn.SyncBatchNorm(3, momentum=0.3, affine=affine, track_running_stats=track,
                                    dtype=torch.float64)  # fmt: skip
    rng = np.random.default_rng(1)
    for training in (True, True, False):
        ours.train(training)
        theirs.train(training)
        x = rng.standard_normal(shape) * 2 + 1
        grad = rng.standard_normal(shape)
        x_ours, x_theirs = cg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
        y_ours.backward(grad)
        y_theirs.backward(torch.tensor(grad))
        np.testing.assert_allclose(y_ours.data, y_theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
        if affine:
            for ours_p, theirs_p in zip(ours.parameters(), theirs.parameters(), strict=True):
                np.testing.assert_allclose(ours_p.grad, theirs_p.grad.numpy(), rtol=1e-10)
                ours_p.grad, theirs_p.grad = None, None
        for name, array in ours.state_dict().items():
            torch_array = theirs.state_dict()[name].numpy()
            np.testing.assert_allclose(array, torch_array, rtol=1e-10, atol=1e-12)
    fresh = nn.SyncBatchNorm(3, affine=affine, track_running_stats=track, dtype=np.float64)
    cg.load_torch_state_dict(fresh, theirs.state_dict())  # num_batches_tracked: ignored
    for name, array in fresh.state_dict().items():
        np.testing.assert_array_equal(array, theirs.state_dict()[name].numpy())
