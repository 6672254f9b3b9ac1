"""Convolutional layers: layouts, modules, BatchNorm statistics, the CNN preset, memory."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import compgraph as cg
from compgraph import data, functional, nodes, optim
from compgraph.node import Node
from compgraph.train import fit
from compgraph.train.presets import PRESETS


def channels_last(array: np.ndarray) -> np.ndarray:
    """The same NCHW values stored NHWC, as a convolution's output is."""
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("node", [nodes.Conv2d(padding=1), nodes.MaxPool2d(2), nodes.AvgPool2d(2)])
def test_channels_last_inputs_give_the_same_values_and_gradients(node) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 12, 6, 6))
    weight = rng.standard_normal((4, 12, 3, 3))
    extra = (weight,) if isinstance(node, nodes.Conv2d) else ()
    results = []
    for layout in (x, channels_last(x)):
        tensor = cg.tensor(layout, requires_grad=True)
        out = node(tensor, *extra)
        out.backward(np.arange(out.size, dtype=float).reshape(out.shape))
        results.append((out.data, tensor.grad))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_a_small_cnn_module_passes_gradcheck_with_its_parameters() -> None:
    rng = np.random.default_rng(1)
    model = cg.nn.Sequential(
        cg.nn.Conv2d(2, 3, 3, padding=1, rng=rng), cg.nn.ReLU(), cg.nn.MaxPool2d(2),
        cg.nn.Conv2d(3, 4, 2, rng=rng), cg.nn.Flatten(), cg.nn.Linear(16, 3, rng=rng),
    )  # fmt: skip
    x = cg.tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
    assert cg.gradcheck(model, x)


def test_first_layer_weight_gradient_from_row_chunks() -> None:
    # 8·33·33 = 8,712 output pixels and a 4×10 dL/dW: the product runs in row chunks.
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 1, 35, 35))
    weight = cg.tensor(rng.standard_normal((4, 1, 3, 3)), requires_grad=True)
    bias = cg.tensor(rng.standard_normal(4), requires_grad=True)
    out = nodes.Conv2d()(cg.tensor(x), weight, bias)
    grad = rng.standard_normal(out.shape)
    out.backward(grad)
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))  # n c i j u v
    expected = np.einsum("noij,ncijuv->ocuv", grad, windows)
    np.testing.assert_allclose(weight.grad, expected, rtol=1e-10)
    np.testing.assert_allclose(bias.grad, grad.sum(axis=(0, 2, 3)), rtol=1e-10)


def test_max_pooling_commutes_with_relu_values_and_gradients() -> None:
    # Small integers: ties, zeros and all-negative windows everywhere.
    x = np.random.default_rng(7).integers(-3, 4, (2, 3, 6, 6)).astype(np.float64)
    grad = np.random.default_rng(8).standard_normal((2, 3, 3, 3))
    results = []
    for layers in ([cg.nn.ReLU(), cg.nn.MaxPool2d(2)], [cg.nn.MaxPool2d(2), cg.nn.ReLU()]):
        tensor = cg.tensor(x, requires_grad=True)
        out = cg.nn.Sequential(*layers)(tensor)
        out.backward(grad)
        results.append((out.data, tensor.grad))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_batchnorm_running_statistics_follow_pytorch() -> None:
    torch = pytest.importorskip("torch")
    ours = cg.nn.BatchNorm2d(3, dtype=np.float64)
    theirs = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 5, 5)) * 2 + 1
        np.testing.assert_allclose(
            ours(cg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10
        )
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-10)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 5, 5))
    np.testing.assert_allclose(
        ours(cg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10
    )


def test_batchnorm_state_dict_holds_running_statistics() -> None:
    norm = cg.nn.BatchNorm1d(4)
    norm(cg.tensor(np.random.default_rng(3).standard_normal((8, 4)).astype(np.float32)))
    state = norm.state_dict()
    assert set(state) == {"weight", "bias", "running_mean", "running_var"}
    fresh = cg.nn.BatchNorm1d(4)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.running_mean, norm.running_mean)
    with pytest.raises(ValueError, match="2-D input"):
        norm(cg.tensor(np.ones((2, 4, 3, 3), np.float32)))


def test_the_cnn_preset_has_the_issue_architecture_and_learns() -> None:
    model = PRESETS["cnn"].build(np.random.default_rng(0))
    x = cg.tensor(np.zeros((2, 1, 28, 28), np.float32))
    assert model(x).shape == (2, 10)
    assert [type(layer).__name__ for layer in model] == [
        "Conv2d", "MaxPool2d", "ReLU", "Conv2d", "MaxPool2d", "ReLU", "Flatten", "Linear", "ReLU",
        "Linear",
    ]  # fmt: skip
    train = data.DataLoader(data.Synthetic("train", n=1024), 64, seed=0, flatten=False)
    history = fit(model, functional.cross_entropy, optim.Adam(model.parameters()), train, epochs=3)
    assert history[-1]["train_acc"] > 0.8  # chance is 0.1


def live_nodes() -> int:
    gc.collect()
    return sum(issubclass(type(obj), Node) for obj in gc.get_objects())  # no __class__ hooks


def test_training_frees_every_graph_buffer_and_memory_does_not_grow() -> None:
    model = PRESETS["cnn"].build(np.random.default_rng(0))
    optimizer = optim.Adam(model.parameters())
    train = data.DataLoader(data.Synthetic("train", n=256), 64, seed=0, flatten=False)
    before = live_nodes()
    tracemalloc.start()
    try:
        fit(model, functional.cross_entropy, optimizer, train, epochs=1)
        after_one = tracemalloc.get_traced_memory()[0]
        fit(model, functional.cross_entropy, optimizer, train, epochs=4)
        after_four = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert live_nodes() == before  # no node (and so no saved array) outlives its step
    assert after_four - after_one < 1_000_000, (after_one, after_four)
