"""Random expression graphs, evaluated and differentiated by compgraph and by PyTorch in float64."""

from __future__ import annotations

import numpy as np
import pytest

import compgraph as cg

torch = pytest.importorskip("torch")

# (name, arity, compgraph op, torch op); every op is defined and smooth for any real input.
OPS = [
    ("add", 2, lambda a, b: a + b, lambda a, b: a + b),
    ("sub", 2, lambda a, b: a - b, lambda a, b: a - b),
    ("mul", 2, lambda a, b: a * b, lambda a, b: a * b),
    ("div", 2, lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    ("matmul", 2, lambda a, b: a @ b.T / 4, lambda a, b: a @ b.T / 4),
    ("tanh", 1, lambda a: a.tanh(), lambda a: a.tanh()),
    ("sigmoid", 1, lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    ("exp", 1, lambda a: (a.tanh()).exp(), lambda a: (a.tanh()).exp()),
    ("log", 1, lambda a: (a * a + 1).log(), lambda a: (a * a + 1).log()),
    ("square", 1, lambda a: a**2, lambda a: a**2),
    ("softmax", 1, lambda a: a.softmax(), lambda a: a.softmax(-1)),
    ("log_softmax", 1, lambda a: a.log_softmax(), lambda a: a.log_softmax(-1)),
    ("row_mean", 1, lambda a: a - a.mean(axis=-1, keepdims=True),
     lambda a: a - a.mean(-1, keepdim=True)),
    ("col_sum", 1, lambda a: a + a.sum(axis=0) / 4, lambda a: a + a.sum(0) / 4),
    ("transpose_back", 1, lambda a: a.T.T, lambda a: a.T.T),
    ("reshape_back", 1, lambda a: a.reshape(-1).reshape(4, 4),
     lambda a: a.reshape(-1).reshape(4, 4)),
    ("rows", 1, lambda a: a[np.array([3, 0, 3, 1])], lambda a: a[[3, 0, 3, 1]]),
]  # fmt: skip


@pytest.mark.parametrize("seed", range(30))
def test_random_graph_matches_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    leaves = [rng.standard_normal((4, 4)) for _ in range(3)]
    ours = [cg.tensor(x, requires_grad=True) for x in leaves]
    theirs = [torch.tensor(x, requires_grad=True) for x in leaves]
    pool_ours, pool_theirs = list(ours), list(theirs)
    for _ in range(8):
        _, arity, op, torch_op = OPS[rng.integers(len(OPS))]
        picks = rng.integers(len(pool_ours), size=arity)
        pool_ours.append(op(*(pool_ours[i] for i in picks)))
        pool_theirs.append(torch_op(*(pool_theirs[i] for i in picks)))
    # Sum the last few results so that several branches reach the loss.
    loss_ours = sum((t * t).mean() for t in pool_ours[-3:])
    loss_theirs = sum((t * t).mean() for t in pool_theirs[-3:])
    loss_ours.backward()
    loss_theirs.backward()
    np.testing.assert_allclose(loss_ours.item(), loss_theirs.item(), rtol=1e-10)
    for mine, reference in zip(ours, theirs, strict=True):
        expected = np.zeros((4, 4)) if reference.grad is None else reference.grad.numpy()
        actual = np.zeros((4, 4)) if mine.grad is None else mine.grad
        np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)


def test_linear_module_matches_torch_linear() -> None:
    layer = cg.nn.Linear(6, 4, dtype=np.float64, rng=0)
    reference = torch.nn.Linear(6, 4, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.weight.data.T))
        reference.bias.copy_(torch.tensor(layer.bias.data))
    x = np.random.default_rng(1).standard_normal((5, 6))
    out = layer(cg.tensor(x))
    out_ref = reference(torch.tensor(x))
    np.testing.assert_allclose(out.data, out_ref.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    out_ref.sum().backward()
    np.testing.assert_allclose(layer.weight.grad, reference.weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, reference.bias.grad.numpy(), rtol=1e-12)
