"""A PyTorch user's model ports line by line: weights, function forms, layer arguments, dtypes
and the default initialisation, each held to PyTorch itself in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import compgraph as cg
from compgraph import functional as F
from compgraph import nn
from compgraph.nn.config import from_config, to_config
from compgraph.torch_weights import load_torch_state_dict
from compgraph.train.presets import cnn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def as_numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy()


def torch_cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 3 * 3, 16), torch.nn.ReLU(),
        torch.nn.Linear(16, 16), torch.nn.ReLU(),  # square: its shape cannot say which way round
        torch.nn.Linear(16, 10),
    ).double()  # fmt: skip


def compgraph_cnn() -> nn.Sequential:
    f64 = np.float64
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, dtype=f64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1, dtype=f64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 3 * 3, 16, dtype=f64), nn.ReLU(),
        nn.Linear(16, 16, dtype=f64), nn.ReLU(),
        nn.Linear(16, 10, dtype=f64),
    )  # fmt: skip


# ------------------------------------------------------------------ load_torch_state_dict
def test_a_pytorch_cnn_loaded_gives_the_same_logits() -> None:
    theirs, ours = torch_cnn(), compgraph_cnn()
    load_torch_state_dict(ours, theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 1, 16, 16))
    expected = as_numpy(theirs(torch.from_numpy(x)))
    np.testing.assert_allclose(ours(cg.tensor(x)).data, expected, rtol=0, atol=1e-10)


def test_a_square_linear_weight_is_transposed() -> None:
    torch.manual_seed(1)
    theirs = torch.nn.Linear(5, 5).double()
    ours = nn.Linear(5, 5, dtype=np.float64)
    load_torch_state_dict(ours, theirs.state_dict())
    np.testing.assert_array_equal(ours.weight.data, as_numpy(theirs.weight).T)
    x = np.random.default_rng(1).standard_normal((3, 5))
    expected = as_numpy(theirs(torch.from_numpy(x)))
    np.testing.assert_allclose(ours(cg.tensor(x)).data, expected, atol=1e-12)
    untransposed = x @ as_numpy(theirs.weight) + as_numpy(theirs.bias)
    assert not np.allclose(untransposed, expected)  # so the check above could fail


def test_numpy_values_and_other_dtypes_are_cast_in_place() -> None:
    ours = nn.Sequential(nn.Linear(3, 2, dtype=np.float64))
    weight = ours[0].weight
    state = {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "0.bias": [1, 2]}
    load_torch_state_dict(ours, state)
    assert ours[0].weight is weight and weight.dtype == np.float64
    np.testing.assert_array_equal(weight.data, np.arange(6.0).reshape(2, 3).T)
    np.testing.assert_array_equal(ours[0].bias.data, [1.0, 2.0])


def test_batchnorm_running_statistics_load_and_num_batches_tracked_is_ignored() -> None:
    torch.manual_seed(2)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3)).double()
    theirs(torch.randn(4, 2, 6, 6, dtype=torch.float64))  # moves the running statistics
    theirs.eval()
    assert "1.num_batches_tracked" in theirs.state_dict()
    ours = nn.Sequential(nn.Conv2d(2, 3, 3, dtype=np.float64), nn.BatchNorm2d(3, dtype=np.float64))
    load_torch_state_dict(ours, theirs.state_dict())
    ours.eval()
    x = np.random.default_rng(2).standard_normal((2, 2, 6, 6))
    expected = as_numpy(theirs(torch.from_numpy(x)))
    np.testing.assert_allclose(ours(cg.tensor(x)).data, expected, atol=1e-10)


def test_missing_unexpected_and_misshapen_keys_are_refused_and_nothing_is_written() -> None:
    theirs, ours = torch_cnn(), compgraph_cnn()
    before = ours.state_dict()
    state = dict(theirs.state_dict())
    missing = {k: v for k, v in state.items() if k != "9.bias"}
    with pytest.raises(ValueError, match=r"missing \['9.bias'\], unexpected nothing"):
        load_torch_state_dict(ours, missing)
    with pytest.raises(ValueError, match=r"missing nothing, unexpected \['12.weight'\]"):
        load_torch_state_dict(ours, {**state, "12.weight": state["11.weight"]})
    wrong = {**state, "7.weight": torch.zeros(16, 71, dtype=torch.float64)}
    with pytest.raises(ValueError, match=r"'7.weight' has shape \(16, 71\).*needs \(16, 72\)"):
        load_torch_state_dict(ours, wrong)
    wrong = {**state, "0.weight": torch.zeros(4, 1, 5, 5, dtype=torch.float64)}
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(4, 1, 5, 5\).*\(4, 1, 3, 3\)"):
        load_torch_state_dict(ours, wrong)
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_an_nn_linear_weight_loaded_untransposed_is_refused() -> None:
    ours = nn.Linear(4, 2, dtype=np.float64)
    with pytest.raises(ValueError, match=r"has shape \(4, 2\).*needs \(2, 4\).*\(out, in\)"):
        load_torch_state_dict(ours, {"weight": np.zeros((4, 2)), "bias": np.zeros(2)})


# ------------------------------------------------------------------ functional.linear
def test_linear_takes_pytorchs_out_in_weight_even_when_square() -> None:
    rng = np.random.default_rng(3)
    x, weight, bias = (rng.standard_normal(shape) for shape in [(4, 3), (3, 3), (3,)])
    ours = F.linear(cg.tensor(x), cg.tensor(weight), cg.tensor(bias))
    np.testing.assert_allclose(ours.data, x @ weight.T + bias, atol=1e-12)
    assert not np.allclose(ours.data, x @ weight + bias)


def test_linear_values_and_gradients_match_pytorch() -> None:
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((2, 4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)]
    ours = [cg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    grad = rng.standard_normal((2, 4, 5))
    out = F.linear(*ours)
    out.backward(grad)
    expected = TF.linear(*theirs)
    expected.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(out.data, as_numpy(expected), atol=1e-12)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, as_numpy(reference.grad), atol=1e-12)
    np.testing.assert_allclose(F.linear(ours[0], ours[1]).data, as_numpy(TF.linear(*theirs[:2])))


def test_linear_refuses_an_nn_linear_in_out_weight() -> None:
    layer = nn.Linear(3, 2, dtype=np.float64, rng=0)  # weight (3, 2): (in, out)
    with pytest.raises(cg.ShapeError, match=r"\(out, in\).*cg.nodes.Linear"):
        F.linear(cg.tensor(np.ones((1, 3))), layer.weight, layer.bias)
    with pytest.raises(cg.ShapeError, match=r"bias must be \(out,\)"):
        F.linear(cg.tensor(np.ones((1, 3))), cg.tensor(np.ones((2, 3))), cg.tensor(np.ones(3)))


# ------------------------------------------------------------------ the other function forms
@pytest.mark.parametrize(
    ("stride", "padding", "kernel", "bias"),
    [(1, 0, (3, 3), True), (2, 1, (3, 3), False), (1, "same", (3, 3), True),
     (1, "valid", (2, 2), True), ((2, 2), (1, 1), (3, 2), True)],
)  # fmt: skip
def test_conv2d_matches_pytorch(stride, padding, kernel, bias) -> None:
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((4, 3, *kernel))]
    arrays += [rng.standard_normal(4)] if bias else []
    ours = [cg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = F.conv2d(ours[0], ours[1], ours[2] if bias else None, stride, padding)
    expected = TF.conv2d(*theirs, stride=stride, padding=padding)
    grad = rng.standard_normal(out.shape)
    out.backward(grad)
    expected.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(out.data, as_numpy(expected), atol=1e-12)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, as_numpy(reference.grad), atol=1e-12)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize(("kernel", "stride"), [(2, None), ((3, 3), 2), (3, (1, 1))])
def test_pooling_matches_pytorch(name, kernel, stride) -> None:
    x = np.random.default_rng(6).standard_normal((2, 3, 7, 6))
    mine, reference = cg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(mine, kernel, stride)
    expected = getattr(TF, name)(reference, kernel, stride)
    grad = np.random.default_rng(7).standard_normal(out.shape)
    out.backward(grad)
    expected.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(out.data, as_numpy(expected), atol=1e-12)
    np.testing.assert_allclose(mine.grad, as_numpy(reference.grad), atol=1e-12)


def test_dropout_scales_what_it_keeps_and_is_the_identity_out_of_training() -> None:
    x = np.random.default_rng(8).uniform(1, 2, (200, 100))
    torch.manual_seed(8)
    reference = as_numpy(TF.dropout(torch.from_numpy(x), 0.3, training=True))
    tensor = cg.tensor(x, requires_grad=True)
    out = F.dropout(tensor, 0.3, rng=0)
    for y in (out.data, reference):  # the same rule as PyTorch's; the mask is random
        kept = y != 0
        assert abs(kept.mean() - 0.7) < 0.01
        np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-12)
    np.testing.assert_array_equal(F.dropout(tensor, 0.3, rng=0).data, out.data)  # seeded
    out.backward(np.ones_like(x))
    np.testing.assert_allclose(tensor.grad, (out.data != 0) / 0.7)
    for call in (lambda: F.dropout(tensor, 0.3, training=False), lambda: F.dropout(tensor, 0.0)):
        assert call() is tensor
    np.testing.assert_array_equal(as_numpy(TF.dropout(torch.from_numpy(x), 0.3, False)), x)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
        F.dropout(tensor, 1.5)


def test_embedding_matches_pytorch_and_sums_the_gradient_of_repeated_rows() -> None:
    rng = np.random.default_rng(9)
    table, indices = rng.standard_normal((6, 4)), np.array([[0, 5, 2], [2, 2, 1]])
    ours, theirs = cg.tensor(table, requires_grad=True), torch.tensor(table, requires_grad=True)
    out = F.embedding(cg.tensor(indices), ours)
    expected = TF.embedding(torch.from_numpy(indices), theirs)
    grad = rng.standard_normal(out.shape)
    out.backward(grad)
    expected.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(out.data, as_numpy(expected), atol=0)
    np.testing.assert_allclose(ours.grad, as_numpy(theirs.grad), atol=1e-12)
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 6\); found -1..2"):
        F.embedding(np.array([-1, 2]), ours)
    with pytest.raises(TypeError, match="indices must be integers"):
        F.embedding(np.array([0.0, 1.0]), ours)


def test_one_hot_is_int64_like_pytorchs_unless_asked_for_floats() -> None:
    labels = np.array([[0, 3], [2, 1]])
    expected = as_numpy(TF.one_hot(torch.from_numpy(labels)))
    ours = F.one_hot(labels)
    assert ours.dtype == np.int64 and expected.dtype == np.int64
    np.testing.assert_array_equal(ours.data, expected)
    np.testing.assert_array_equal(
        F.one_hot(cg.tensor(labels), 6).data, as_numpy(TF.one_hot(torch.from_numpy(labels), 6))
    )
    floats = F.one_hot(labels, 4, dtype=np.float32)
    assert floats.dtype == np.float32
    np.testing.assert_array_equal(floats.data, cg.data.one_hot(labels, 4))


# ------------------------------------------------------------------ layer arguments
def test_conv2d_padding_same_and_valid_match_pytorch() -> None:
    x = np.random.default_rng(10).standard_normal((2, 3, 9, 7))
    for padding, kernel in (("same", 3), ("same", (5, 5)), ("valid", (3, 2)), ((1, 1), 3)):
        torch.manual_seed(3)
        theirs = torch.nn.Conv2d(3, 4, kernel, padding=padding).double()
        ours = nn.Conv2d(3, 4, kernel, padding=padding, dtype=np.float64)
        load_torch_state_dict(ours, theirs.state_dict())
        expected = as_numpy(theirs(torch.from_numpy(x)))
        np.testing.assert_allclose(ours(cg.tensor(x)).data, expected, atol=1e-12)
    assert nn.Conv2d(3, 4, 5, padding="same").padding == 2
    assert nn.Conv2d(3, 4, (3, 3), stride=(2, 2), padding=(1, 1)).config()["kernel_size"] == 3


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"kernel_size": 4, "padding": "same"}, ValueError, "odd square kernel, got 4×4"),
        ({"kernel_size": (3, 5), "padding": "same"}, ValueError, "odd square kernel, got 3×5"),
        ({"kernel_size": 3, "stride": 2, "padding": "same"}, ValueError, "needs stride=1"),
        ({"kernel_size": 3, "padding": "full"}, ValueError, "'same' or 'valid'"),
        ({"kernel_size": 3, "padding": (1, 2)}, ValueError, "only the same padding along both"),
        ({"kernel_size": 3, "stride": (1, 2)}, ValueError, "only the same stride along both"),
        ({"kernel_size": "3"}, TypeError, "kernel_size must be an int or a pair of ints"),
        ({"kernel_size": (3, 3, 3)}, TypeError, "kernel_size must be an int or a pair"),
        ({"kernel_size": 0}, ValueError, "kernel_size must be ≥ 1"),
        ({"kernel_size": 3, "padding": -1}, ValueError, "padding must be ≥ 0"),
        ({"kernel_size": 3, "init": "xavier"}, ValueError, "unknown init 'xavier'"),
    ],
)
def test_conv2d_refuses_arguments_it_cannot_honour_in_one_line(arguments, error, message) -> None:
    with pytest.raises(error, match=message) as caught:
        nn.Conv2d(2, 3, **arguments)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("Conv2d: ")


def test_pooling_layers_take_square_tuples_and_refuse_others() -> None:
    assert nn.MaxPool2d((2, 2)).config() == {"kernel_size": 2, "stride": None}
    assert nn.AvgPool2d(3, stride=(1, 1)).config() == {"kernel_size": 3, "stride": 1}
    with pytest.raises(ValueError, match="MaxPool2d: kernel_size=\\(2, 3\\): only the same"):
        nn.MaxPool2d((2, 3))
    with pytest.raises(TypeError, match="AvgPool2d: stride must be an int or a pair"):
        nn.AvgPool2d(2, stride=1.5)


def test_normalised_settings_round_trip_through_config_and_checkpoints(tmp_path) -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 2, (3, 3), padding="same", rng=0), nn.MaxPool2d((2, 2)),
        nn.Conv2d(2, 2, (3, 2), stride=(1, 1), padding="valid", init="kaiming", rng=1),
    )  # fmt: skip
    layers = to_config(model)["args"]["layers"]
    assert layers[0]["args"]["padding"] == 1 and layers[0]["args"]["kernel_size"] == 3
    assert layers[2]["args"]["kernel_size"] == [3, 2] and layers[2]["args"]["init"] == "kaiming"
    rebuilt = from_config(to_config(model))
    assert to_config(rebuilt) == to_config(model)
    loaded = cg.load(cg.save(tmp_path / "model.npz", model))
    assert to_config(loaded) == to_config(model)
    x = cg.tensor(np.random.default_rng(11).random((1, 1, 6, 6), dtype=np.float32))
    np.testing.assert_array_equal(loaded(x).data, model(x).data)


# ------------------------------------------------------------------ dtypes
@pytest.mark.parametrize(
    ("layer", "shape"),
    [(nn.Linear(4, 2), (3, 4)), (nn.Conv2d(1, 2, 3), (1, 1, 5, 5)), (nn.BatchNorm1d(4), (3, 4))],
)
def test_float64_data_into_a_float32_layer_is_refused_with_the_conversion(layer, shape) -> None:
    data = np.ones(shape)
    with pytest.raises(TypeError, match=r"input is float64 but the weights are float32.*astype"):
        layer(cg.tensor(data))
    assert layer(cg.tensor(data, dtype=np.float32)).dtype == np.float32


def test_float64_layers_take_float64_and_gradcheck_still_casts_float32_layers() -> None:
    assert nn.Linear(4, 2, dtype=np.float64)(cg.tensor(np.ones((1, 4)))).dtype == np.float64
    rng = np.random.default_rng(12)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=rng), nn.Flatten(), nn.Linear(8, 2, rng=rng))
    assert cg.gradcheck(model, cg.tensor(rng.standard_normal((2, 1, 4, 4)), requires_grad=True))
    assert model[0].weight.dtype == np.float32  # restored


def test_functional_forms_refuse_mixed_dtypes_too() -> None:
    with pytest.raises(TypeError, match="linear: the input is float64 but the weights are float32"):
        F.linear(cg.tensor(np.ones((1, 2))), cg.tensor(np.ones((3, 2), np.float32)))
    with pytest.raises(TypeError, match="conv2d: the input is int64 but the weights are float32"):
        F.conv2d(cg.tensor(np.ones((1, 1, 3, 3), np.int64)), np.ones((1, 1, 3, 3), np.float32))
    weight = np.ones((1, 1, 3, 3))  # float64 weights hold float32 data: computed in float64
    assert F.conv2d(cg.tensor(np.ones((1, 1, 3, 3), np.float32)), weight).dtype == np.float64


# ------------------------------------------------------------------ initialisation
FLOAT32_ROUNDING = 1 + 1e-7  # a float64 draw just below the bound may round up in float32


@pytest.mark.parametrize(
    ("ours", "theirs", "fan_in"),
    [
        (lambda: nn.Linear(300, 200, rng=0), lambda: torch.nn.Linear(300, 200), 300),
        (lambda: nn.Conv2d(16, 64, 5, rng=0), lambda: torch.nn.Conv2d(16, 64, 5), 16 * 25),
        (lambda: nn.Conv2d(8, 32, (3, 5), rng=0), lambda: torch.nn.Conv2d(8, 32, (3, 5)), 8 * 15),
    ],
)
def test_default_initialisation_draws_pytorchs_distribution(ours, theirs, fan_in) -> None:
    bound = 1 / math.sqrt(fan_in)
    torch.manual_seed(0)
    for layer in (ours(), theirs()):  # ours held to the bound, and PyTorch's to the same test
        weight, bias = (values(layer.weight), values(layer.bias))
        assert 0.99 * bound < np.abs(weight).max() <= bound * FLOAT32_ROUNDING
        assert abs(weight.std() - bound / math.sqrt(3)) < 0.02 * bound
        assert 0.5 * bound < np.abs(bias).max() <= bound * FLOAT32_ROUNDING


def values(parameter) -> np.ndarray:
    return parameter.data if isinstance(parameter, cg.Tensor) else as_numpy(parameter)


def test_kaiming_conv_init_and_the_cnn_preset_are_unchanged() -> None:
    layer = nn.Conv2d(32, 64, 3, init="kaiming", rng=0)
    bound = math.sqrt(6 / (32 * 9))
    assert bound * 0.99 < np.abs(layer.weight.data).max() <= bound * FLOAT32_ROUNDING
    assert np.abs(layer.bias.data).max() <= FLOAT32_ROUNDING / math.sqrt(32 * 9)
    # The cnn preset draws what it drew before Conv2d's default became PyTorch's.
    first = cnn(np.random.default_rng(0))[0]
    old = np.random.default_rng(0)
    bound = math.sqrt(2) * math.sqrt(3 / 9)  # kaiming_uniform_ with gain √2, as before
    weight = old.uniform(-bound, bound, (32, 1, 3, 3))
    np.testing.assert_array_equal(first.weight.data, weight.astype(np.float32))
    np.testing.assert_array_equal(
        first.bias.data, old.uniform(-1 / 3, 1 / 3, 32).astype(np.float32)
    )
