"""A PyTorch user's model ports line by line: containers, GELU, LayerNorm, Dropout2d,
Embedding, Identity, parameter counts and summary, each compared with PyTorch in float64."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

import compgraph as cg
from compgraph.checkpoint import read_checkpoint

nn = cg.nn


def as_tensor(array: np.ndarray) -> cg.Tensor:
    return cg.tensor(array, requires_grad=True)


# ---------------------------------------------------------------- containers


class ListMLP(nn.Module):
    """micrograd's MLP, layers in a plain list."""

    def __init__(self, sizes: list[int]) -> None:
        self.layers = [nn.Linear(m, n, rng=i) for i, (m, n) in enumerate(pairwise(sizes))]


class MLP(nn.Module):
    """The same with a ModuleList: it registers the layers."""

    def __init__(self, sizes: list[int], dtype=np.float32) -> None:
        pairs = enumerate(pairwise(sizes))
        self.layers = nn.ModuleList(nn.Linear(m, n, dtype=dtype, rng=i) for i, (m, n) in pairs)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = layer(x).tanh()
        return self.layers[-1](x)


def test_modules_in_a_plain_list_are_refused_naming_module_list() -> None:
    with pytest.raises(TypeError, match=r"ListMLP\.layers is a plain list .*nn\.ModuleList"):
        ListMLP([2, 16, 1])


@pytest.mark.parametrize(
    ("value", "wrapper"),
    [
        ((nn.ReLU(), nn.Tanh()), "ModuleList"),
        ({"a": nn.ReLU()}, "ModuleDict"),
        ([[nn.ReLU()]], "ModuleList"),  # nested
        ([nn.Parameter(np.zeros(2))], "ParameterList"),
    ],
    ids=["tuple", "dict", "nested", "parameters"],
)
def test_tuples_dicts_nested_lists_and_parameters_are_refused_too(value, wrapper) -> None:
    model = nn.Module()
    with pytest.raises(TypeError, match=f"nn\\.{wrapper}"):
        model.things = value


def test_a_plain_list_filled_after_assignment_is_refused_by_parameters() -> None:
    model = nn.Module()
    model.layers = []
    model.layers.append(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="ModuleList"):
        model.parameters()


def test_lists_of_plain_values_are_still_welcome() -> None:
    model = nn.Module()
    model.sizes, model.history, model.options = [4, 8], [], {"lr": 0.1}
    model.kernel = (3, 3)
    assert model.parameters() == []


def test_module_list_trains_and_names_its_layers_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    model = MLP([2, 16, 16, 1])

    class TorchMLP(torch.nn.Module):
        def __init__(self, sizes):
            super().__init__()
            self.layers = torch.nn.ModuleList(torch.nn.Linear(m, n) for m, n in pairwise(sizes))

    theirs = TorchMLP([2, 16, 16, 1]).state_dict()
    ours = model.state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[name].shape == tuple(theirs[name].shape)[::-1] for name in ours)  # W: (in, out)
    assert model.num_parameters() == sum(p.numel() for p in TorchMLP([2, 16, 16, 1]).parameters())

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 2)).astype(np.float32)
    target = (x[:, :1] * x[:, 1:]).astype(np.float32)
    optimizer = cg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(60):
        loss = ((model(cg.tensor(x)) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_module_list_operations_renumber_like_a_list() -> None:
    layers = nn.ModuleList([nn.Linear(1, 2), nn.Linear(2, 3)])
    layers.append(nn.Linear(3, 4)).extend([nn.ReLU(), nn.Linear(4, 5)])
    assert len(layers) == 5 and isinstance(layers[-1], nn.Linear) and layers[-1].out_features == 5
    sliced = layers[1:3]
    assert isinstance(sliced, nn.ModuleList) and [m.out_features for m in sliced] == [3, 4]
    layers.insert(0, nn.Linear(7, 1))
    assert [type(m).__name__ for m in layers][:2] == ["Linear", "Linear"]
    assert layers[0].in_features == 7
    assert next(iter(layers.state_dict())) == "0.weight"
    assert layers.state_dict()["0.weight"].shape == (7, 1)
    del layers[0]
    layers[3] = nn.Tanh()
    assert [name for name, _ in layers.named_parameters()] == [
        "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias", "4.weight", "4.bias",
    ]  # fmt: skip
    assert "(3): Tanh()" in repr(layers)
    with pytest.raises(TypeError, match="item 5 is a int, not a Module"):
        layers.append(3)
    with pytest.raises(TypeError, match="no forward of its own"):
        layers(cg.tensor(np.ones(1)))


def test_module_dict_names_entries_by_key_as_pytorch() -> None:
    torch = pytest.importorskip("torch")

    class Heads(nn.Module):
        def __init__(self) -> None:
            self.heads = nn.ModuleDict({"digits": nn.Linear(4, 10), "parity": nn.Linear(4, 2)})

    class TorchHeads(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = torch.nn.ModuleDict(
                {"digits": torch.nn.Linear(4, 10), "parity": torch.nn.Linear(4, 2)}
            )

    model = Heads()
    assert list(model.state_dict()) == list(TorchHeads().state_dict())
    heads = model.heads
    assert heads.keys() == ["digits", "parity"] and "digits" in heads and len(heads) == 2
    assert [m.out_features for m in heads.values()] == [10, 2]
    assert [key for key, _ in heads.items()] == list(heads)
    heads["extra"] = nn.Linear(4, 1)
    assert heads.pop("digits").out_features == 10
    assert heads.keys() == ["parity", "extra"]
    assert [name for name, _ in model.named_parameters()][-1] == "heads.extra.bias"
    with pytest.raises(KeyError, match="keys are"):
        heads["digits"]
    for bad in ["", "a.b", "_hidden", "train", 3]:
        with pytest.raises(KeyError, match="cannot name a module"):
            heads[bad] = nn.ReLU()
    with pytest.raises(TypeError, match="not a Module"):
        heads["x"] = np.zeros(3)


def test_parameter_list_registers_each_parameter_as_pytorch() -> None:
    torch = pytest.importorskip("torch")

    class Scales(nn.Module):
        def __init__(self) -> None:
            self.scales = nn.ParameterList(nn.Parameter(np.ones(3)) for _ in range(2))

    class TorchScales(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scales = torch.nn.ParameterList(
                torch.nn.Parameter(torch.ones(3)) for _ in range(2)
            )

    model = Scales()
    assert list(model.state_dict()) == list(TorchScales().state_dict()) == ["scales.0", "scales.1"]
    assert len(model.parameters()) == 2 and model.num_parameters() == 6
    with pytest.raises(TypeError, match="not a Parameter"):
        model.scales.append(np.ones(3))


def test_a_model_made_of_a_module_list_saves_its_weights(tmp_path) -> None:
    model = MLP([2, 3, 1])
    path = tmp_path / "mlp.npz"
    cg.save(path, model)
    checkpoint = read_checkpoint(path)
    assert checkpoint.architecture is None  # a module of your own: weights only
    again = MLP([2, 3, 1])
    again.load_state_dict(checkpoint.model_state)
    np.testing.assert_array_equal(again.layers[0].weight.data, model.layers[0].weight.data)
    with pytest.raises(TypeError, match="no architecture of its own"):
        model.layers.config()


# ---------------------------------------------------------------- layers against PyTorch


def test_identity_passes_its_input_through_and_takes_any_arguments() -> None:
    x = as_tensor(np.arange(3.0))
    layer = nn.Identity(54, unused="argument")
    assert layer(x) is x
    assert nn.from_config(nn.to_config(layer)).config() == {}


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch_in_float64(approximate) -> None:
    torch = pytest.importorskip("torch")
    values = np.concatenate([np.linspace(-12, 12, 2001), [0.0, -0.0, 1e-9, -40.0, 40.0]])
    x = as_tensor(values)
    y = nn.GELU(approximate)(x)
    grad_out = np.random.default_rng(0).standard_normal(values.shape)
    y.backward(grad_out)

    xt = torch.tensor(values, requires_grad=True)
    yt = torch.nn.GELU(approximate)(xt)
    yt.backward(torch.tensor(grad_out))
    # The tanh form's tails: NumPy's and PyTorch's tanh may differ by an ulp next to ±1,
    # where 1 + tanh u and 1 − tanh² u keep only that ulp (gradients of about 1e-14).
    atol = 1e-15 if approximate == "none" else 1e-13
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=atol)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=atol)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


def test_gelu_keeps_float32() -> None:
    x = cg.tensor(np.linspace(-3, 3, 7, dtype=np.float32), requires_grad=True)
    y = nn.GELU()(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("normalized_shape", "x_shape", "options"),
    [
        (5, (4, 5), {}),
        ((3, 5), (2, 4, 3, 5), {}),
        ([5], (2, 3, 5), {"elementwise_affine": False}),
        (5, (3, 5), {"bias": False}),
    ],
    ids=["last-axis", "two-axes", "no-affine", "no-bias"],
)
def test_layer_norm_matches_torch_with_the_same_weights(normalized_shape, x_shape, options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    theirs = torch.nn.LayerNorm(normalized_shape, dtype=torch.float64, **options)
    with torch.no_grad():
        for parameter in theirs.parameters():
            parameter.copy_(torch.tensor(rng.standard_normal(tuple(parameter.shape))))
    ours = nn.LayerNorm(normalized_shape, dtype=np.float64, **options)
    ours.load_state_dict({name: p.detach().numpy() for name, p in theirs.state_dict().items()})

    values = rng.standard_normal(x_shape) * 3 + 1
    grad_out = rng.standard_normal(x_shape)
    x = as_tensor(values)
    y = ours(x)
    y.backward(grad_out)
    xt = torch.tensor(values, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.tensor(grad_out))

    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, parameter in theirs.named_parameters():
        mine = dict(ours.named_parameters())[name]
        np.testing.assert_allclose(mine.grad, parameter.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_layer_norm_refuses_a_shape_that_does_not_end_in_normalized_shape() -> None:
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(4)(cg.tensor(np.ones((2, 5))))


def test_dropout2d_drops_whole_channels_like_torch() -> None:
    torch = pytest.importorskip("torch")
    p, values = 0.25, np.random.default_rng(0).uniform(1, 2, (50, 40, 3, 3))
    x = as_tensor(values)
    layer = nn.Dropout2d(p, rng=0)
    y = layer(x)
    y.backward(np.ones(values.shape))

    torch.manual_seed(0)
    yt = torch.nn.Dropout2d(p)(torch.tensor(values)).numpy()
    for result in (y.data, yt):
        kept = result != 0
        assert (kept.all(axis=(2, 3)) | ~kept.any(axis=(2, 3))).all()  # a channel is all or none
        np.testing.assert_allclose(result[kept], values[kept] / (1 - p))
        assert abs((~kept[:, :, 0, 0]).mean() - p) < 0.05  # about p of 2,000 channels dropped
    np.testing.assert_allclose(x.grad, (y.data != 0) / (1 - p))

    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        layer(cg.tensor(np.ones((2, 3))))


def test_embedding_matches_torch_with_repeated_indices_and_padding() -> None:
    torch = pytest.importorskip("torch")
    indices = np.array([[1, 3, 3, 0], [3, 2, 1, 3]])
    grad_out = np.random.default_rng(2).standard_normal((2, 4, 5))
    for padding_idx in [None, 3, -1]:
        theirs = torch.nn.Embedding(6, 5, padding_idx=padding_idx, dtype=torch.float64)
        ours = nn.Embedding(6, 5, padding_idx=padding_idx, dtype=np.float64, rng=0)
        ours.load_state_dict({"weight": theirs.weight.detach().numpy()})
        y = ours(indices)
        y.backward(grad_out)
        yt = theirs(torch.tensor(indices))
        yt.backward(torch.tensor(grad_out))
        np.testing.assert_array_equal(y.data, yt.detach().numpy())
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12)
    assert not ours.weight.grad[5].any()  # padding_idx=-1 is row 5: never looked up here


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient() -> None:
    table = nn.Embedding(4, 3, padding_idx=0, rng=0)
    assert not table.weight.data[0].any() and table.weight.data[1:].all()
    table.weight.data[0] = 7.0  # a padding vector of one's own is looked up as it stands
    y = table(cg.tensor(np.array([0, 2, 0])))
    np.testing.assert_array_equal(y.data[0], [7.0, 7.0, 7.0])
    y.sum().backward()
    np.testing.assert_array_equal(table.weight.grad[:, 0], [0.0, 0.0, 1.0, 0.0])


def test_embedding_initialisation_and_mistakes() -> None:
    table = nn.Embedding(1000, 64, rng=0)
    assert table.weight.shape == (1000, 64) and table.weight.dtype == np.float32
    assert abs(table.weight.data.std() - 1) < 0.01 and abs(table.weight.data.mean()) < 0.01
    with pytest.raises(IndexError, match="index 1000 is outside"):
        table(np.array([1, 1000]))
    with pytest.raises(TypeError, match="integer indices"):
        table(np.array([1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)


def test_new_layers_round_trip_through_a_checkpoint(tmp_path) -> None:
    model = nn.Sequential(
        nn.Embedding(10, 6, padding_idx=0, rng=0),
        nn.LayerNorm(6),
        nn.GELU("tanh"),
        nn.Identity(),
        nn.Linear(6, 3, rng=1),
    )
    path = tmp_path / "model.npz"
    cg.save(path, model)
    again = cg.load(path)
    indices = np.array([[0, 4, 9]])
    np.testing.assert_array_equal(again(indices).data, model(indices).data)
    config = nn.to_config(nn.Sequential(nn.LayerNorm((2, 3), elementwise_affine=False)))
    assert nn.from_config(config).state_dict() == {}
    conv = nn.Sequential(nn.Dropout2d(0.1), nn.LayerNorm([2, 3], bias=False))
    assert list(nn.from_config(nn.to_config(conv)).state_dict()) == ["1.weight"]


# ---------------------------------------------------------------- parameter counts, summary


def test_num_parameters_and_summary_table() -> None:
    torch = pytest.importorskip("torch")
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, rng=0),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 10, rng=1),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 10),
    )
    total = sum(p.numel() for p in theirs.parameters())
    assert model.num_parameters() == total == 40 + 8 + 1450
    running_mean = model[1].running_mean.copy()

    table = nn.summary(model, input_shape=(2, 1, 8, 8))
    text = str(table)
    assert table.total_parameters == total and f"Total parameters: {total:,}" in text
    assert [row.name for row in table.rows] == ["", "0", "1", "2", "3", "4"]
    assert [row.output_shape for row in table.rows] == [
        (2, 10), (2, 4, 6, 6), (2, 4, 6, 6), (2, 4, 6, 6), (2, 144), (2, 10),
    ]  # fmt: skip
    assert [row.parameters for row in table.rows] == [total, 40, 8, 0, 0, 1450]
    assert "Conv2d" in text and "(2, 4, 6, 6)" in text and repr(table) == text
    assert all(module.training for module in model.modules())  # the mode is restored
    np.testing.assert_array_equal(model[1].running_mean, running_mean)  # eval: untouched

    shapes_unknown = nn.summary(MLP([2, 3, 1]))
    assert [row.name for row in shapes_unknown.rows] == ["", "layers", "layers.0", "layers.1"]
    assert {row.output_shape for row in shapes_unknown.rows} == {None}
    assert "    layers.0" in str(shapes_unknown)  # indented under layers


def test_summary_with_integer_input_for_an_embedding() -> None:
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten())
    table = nn.summary(model, input_shape=(3, 5), dtype=np.int64)
    assert [row.output_shape for row in table.rows] == [(3, 20), (3, 5, 4), (3, 20)]
