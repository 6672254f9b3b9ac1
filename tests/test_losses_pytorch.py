"""The losses of a PyTorch training script port line by line: values and gradients held to
PyTorch in float64 for each option and reduction, its edge cases, and the nn.*Loss modules."""

from __future__ import annotations

import numpy as np
import pytest

import compgraph as cg
from compgraph import functional as F
from compgraph import nn
from compgraph.node import InputValueError, ShapeError

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["none", "mean", "sum"]
WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])
rng = np.random.default_rng(0)
LOGITS = rng.standard_normal((6, 4)) * 2
LABELS = np.array([0, 3, 1, 1, 2, 3])
PROBS = rng.uniform(0.02, 0.98, (3, 4))
TARGETS = rng.uniform(0, 1, (3, 4))


def agree(ours_fn, torch_fn, *arrays: np.ndarray) -> None:
    """Values and the gradient of every float input agree with PyTorch's to 1e-10."""
    ours = [cg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    output, expected = ours_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(output.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad_out = np.random.default_rng(1).standard_normal(output.shape)
    output.backward(grad_out)
    expected.backward(torch.tensor(grad_out))
    for mine, torch_input in zip(ours, theirs, strict=True):
        if mine.requires_grad:
            np.testing.assert_allclose(mine.grad, torch_input.grad.numpy(), rtol=1e-10, atol=1e-12)


def torch_options(options: dict) -> dict:
    return {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}


# ------------------------------------------------------------------ cross_entropy, nll_loss
CROSS_ENTROPY_OPTIONS = [
    {},
    {"weight": WEIGHT},
    {"ignore_index": 1},
    {"label_smoothing": 0.15},
    {"weight": WEIGHT, "ignore_index": 3, "label_smoothing": 0.3},
    {"label_smoothing": 1.0},
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CROSS_ENTROPY_OPTIONS, ids=str)
def test_cross_entropy_with_labels_matches_torch(options: dict, reduction: str) -> None:
    agree(
        lambda z, t: F.cross_entropy(z, t, reduction=reduction, **options),
        lambda z, t: TF.cross_entropy(z, t, reduction=reduction, **torch_options(options)),
        LOGITS, LABELS,
    )  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CROSS_ENTROPY_OPTIONS[:2] + CROSS_ENTROPY_OPTIONS[3:4], ids=str)
def test_cross_entropy_with_probabilities_matches_torch(options: dict, reduction: str) -> None:
    probabilities = rng.dirichlet(np.ones(4), 6)
    agree(
        lambda z, p: F.cross_entropy(z, p, reduction=reduction, **options),
        lambda z, p: TF.cross_entropy(z, p, reduction=reduction, **torch_options(options)),
        LOGITS, probabilities,
    )  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1, "ignore_index": 2}], ids=str)
def test_cross_entropy_takes_the_classes_on_axis_1_as_torch(options, reduction) -> None:
    logits = rng.standard_normal((2, 4, 3, 2))  # (N, C, H, W)
    labels = rng.integers(0, 4, (2, 3, 2))
    agree(
        lambda z, t: F.cross_entropy(z, t, reduction=reduction, **options),
        lambda z, t: TF.cross_entropy(z, t, reduction=reduction, **options),
        logits, labels,
    )  # fmt: skip
    probabilities = rng.dirichlet(np.ones(4), (2, 3, 2)).transpose(0, 3, 1, 2).copy()
    agree(
        lambda z, p: F.cross_entropy(z, p, reduction=reduction),
        lambda z, p: TF.cross_entropy(z, p, reduction=reduction),
        logits, probabilities,
    )  # fmt: skip


def test_cross_entropy_on_one_unbatched_sample() -> None:
    agree(lambda z, t: F.cross_entropy(z, t), lambda z, t: TF.cross_entropy(z, t),
          LOGITS[0], np.array(2))  # fmt: skip
    agree(lambda z, t: F.cross_entropy(z, t, label_smoothing=0.2),
          lambda z, t: TF.cross_entropy(z, t, label_smoothing=0.2),
          LOGITS[0], np.array(2))  # fmt: skip


def test_cross_entropy_defaults_keep_the_fused_node() -> None:
    logits = cg.tensor(LOGITS, requires_grad=True)
    for reduction in ("mean", "none"):
        loss = F.cross_entropy(logits, LABELS, reduction=reduction)
        assert type(loss.node).__name__ == "SoftmaxCrossEntropy"
    ignored = np.where(LABELS == 1, -100, LABELS)  # the default ignore_index, as PyTorch
    agree(F.cross_entropy, TF.cross_entropy, LOGITS, ignored)
    assert type(F.cross_entropy(logits, ignored).node).__name__ == "NLL"


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": WEIGHT}, {"ignore_index": 3},
                                     {"weight": WEIGHT, "ignore_index": 0}], ids=str)  # fmt: skip
def test_nll_loss_matches_torch(options: dict, reduction: str) -> None:
    log_probs = np.log(rng.dirichlet(np.ones(4), 6))
    agree(
        lambda x, t: F.nll_loss(x, t, reduction=reduction, **options),
        lambda x, t: TF.nll_loss(x, t, reduction=reduction, **torch_options(options)),
        log_probs, LABELS,
    )  # fmt: skip
    images = rng.standard_normal((2, 4, 3, 2))  # (N, C, H, W)
    agree(
        lambda x, t: F.nll_loss(x, t, reduction=reduction, **options),
        lambda x, t: TF.nll_loss(x, t, reduction=reduction, **torch_options(options)),
        images, rng.integers(0, 4, (2, 3, 2)),
    )  # fmt: skip


def test_a_mean_over_only_ignored_labels_is_nan_as_torch() -> None:
    ignored = np.full(6, 2)
    ours = F.nll_loss(cg.tensor(LOGITS), ignored, ignore_index=2).item()
    theirs = TF.nll_loss(torch.tensor(LOGITS), torch.tensor(ignored), ignore_index=2).item()
    assert np.isnan(ours) and np.isnan(theirs)


@pytest.mark.parametrize("label", [4, -1, 7])
@pytest.mark.parametrize(
    "call",
    [
        lambda z, t: F.cross_entropy(z, t),
        lambda z, t: F.cross_entropy(z, t, label_smoothing=0.1),
        lambda z, t: F.nll_loss(z, t),
        lambda z, t: nn.CrossEntropyLoss(weight=WEIGHT)(z, t),
    ],
    ids=["cross_entropy", "smoothed", "nll_loss", "CrossEntropyLoss"],
)
def test_a_target_out_of_range_gets_one_line(call, label: int) -> None:
    labels = LABELS.copy()
    labels[4] = label
    with pytest.raises(InputValueError, match=rf"label {label} at index \(4,\) is out of range"):
        call(cg.tensor(LOGITS, requires_grad=True), labels)
    with pytest.raises(ValueError) as error:  # an InputValueError is a ValueError
        call(cg.tensor(LOGITS), labels)
    assert "\n" not in str(error.value)
    with pytest.raises((IndexError, RuntimeError)):  # PyTorch refuses it too
        TF.cross_entropy(torch.tensor(LOGITS), torch.tensor(labels))


def test_labels_of_the_wrong_shape_name_the_expected_one() -> None:
    with pytest.raises(ShapeError, match=r"expected \(6,\)"):
        F.nll_loss(cg.tensor(LOGITS), LABELS[:5])
    logits, labels = rng.standard_normal((2, 3, 4)), rng.integers(0, 4, (2, 3))  # classes last
    for loss in (F.cross_entropy, F.nll_loss):
        with pytest.raises(
            ShapeError, match=r"classes are on axis 1.*expected labels of shape \(2, 4\)"
        ):
            loss(cg.tensor(logits), labels)


# ------------------------------------------------------------------ binary cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, WEIGHT, rng.uniform(0.5, 2, (3, 4))], ids=str)
def test_binary_cross_entropy_matches_torch(weight, reduction: str) -> None:
    agree(
        lambda x, t: F.binary_cross_entropy(x, t, weight=weight, reduction=reduction),
        lambda x, t: TF.binary_cross_entropy(
            x, t, weight=None if weight is None else torch.tensor(weight), reduction=reduction
        ),
        PROBS, TARGETS,
    )  # fmt: skip


def test_binary_cross_entropy_clamps_the_log_at_minus_100() -> None:
    x, t = np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.0, 1.0, 0.3])
    ours = F.binary_cross_entropy(cg.tensor(x), t, reduction="none").data
    np.testing.assert_allclose(ours, [100.0, 100.0, 0.0, 0.0, np.log(2)], rtol=1e-12)
    expected = TF.binary_cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-12)


def test_binary_cross_entropy_refuses_logits() -> None:
    with pytest.raises(InputValueError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(cg.tensor(LOGITS), np.ones_like(LOGITS))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "options",
    [{}, {"weight": WEIGHT}, {"pos_weight": WEIGHT}, {"weight": WEIGHT[::-1].copy(),
                                                      "pos_weight": WEIGHT}],
    ids=str,
)  # fmt: skip
def test_binary_cross_entropy_with_logits_matches_torch(options: dict, reduction: str) -> None:
    agree(
        lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction=reduction, **options),
        lambda z, t: TF.binary_cross_entropy_with_logits(
            z, t, reduction=reduction, **torch_options(options)
        ),
        LOGITS[:3] * 3, TARGETS,
    )  # fmt: skip


def test_binary_cross_entropy_with_logits_is_finite_for_huge_logits() -> None:
    z, t = np.array([-1000.0, 1000.0, 800.0, -800.0]), np.array([1.0, 0.0, 1.0, 0.0])
    agree(
        lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction="none"),
        lambda z, t: TF.binary_cross_entropy_with_logits(z, t, reduction="none"),
        z, t,
    )  # fmt: skip
    loss = F.binary_cross_entropy_with_logits(cg.tensor(z), t, reduction="none")
    np.testing.assert_allclose(loss.data, [1000.0, 1000.0, 0.0, 0.0])


# ------------------------------------------------------------------ regression losses
REGRESSION = [
    ("mse_loss", {}),
    ("l1_loss", {}),
    ("smooth_l1_loss", {}),
    ("smooth_l1_loss", {"beta": 0.3}),
    ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {}),
    ("huber_loss", {"delta": 0.3}),
    ("huber_loss", {"delta": 2.5}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "options"), REGRESSION, ids=str)
def test_regression_losses_match_torch(name: str, options: dict, reduction: str) -> None:
    x, t = rng.standard_normal((3, 4)) * 2, rng.standard_normal((3, 4))
    agree(
        lambda x, t: getattr(F, name)(x, t, reduction=reduction, **options),
        lambda x, t: getattr(TF, name)(x, t, reduction=reduction, **options),
        x, t,
    )  # fmt: skip


def test_l1_gradient_is_zero_where_input_equals_target_as_torch() -> None:
    x = np.array([1.0, 2.0, 3.0])
    agree(F.l1_loss, TF.l1_loss, x, np.array([1.0, 0.0, 3.0]))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "cross_entropy", "nll_loss"])  # fmt: skip
def test_an_unknown_reduction_is_refused(name: str) -> None:
    target = LABELS if name in ("cross_entropy", "nll_loss") else PROBS[:, :4].repeat(2, 0)
    with pytest.raises(ValueError, match="reduction must be 'none', 'mean' or 'sum'"):
        getattr(F, name)(cg.tensor(PROBS.repeat(2, 0)), target, reduction="average")


def test_mismatched_shapes_are_refused_not_broadcast() -> None:
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy"):
        with pytest.raises(ShapeError, match="shape"):
            getattr(F, name)(cg.tensor(PROBS), PROBS[0])


# ------------------------------------------------------------------ the nn.*Loss modules
MODULES = [
    ("CrossEntropyLoss", {}, LOGITS, LABELS),
    ("CrossEntropyLoss", {"weight": WEIGHT, "ignore_index": 1, "label_smoothing": 0.1,
                          "reduction": "sum"}, LOGITS, LABELS),
    ("NLLLoss", {"weight": WEIGHT, "reduction": "none"}, LOGITS, LABELS),
    ("NLLLoss", {"ignore_index": 3}, LOGITS, LABELS),
    ("MSELoss", {"reduction": "sum"}, PROBS, TARGETS),
    ("L1Loss", {}, PROBS, TARGETS),
    ("SmoothL1Loss", {"beta": 0.2}, PROBS, TARGETS),
    ("HuberLoss", {"delta": 0.2, "reduction": "none"}, PROBS, TARGETS),
    ("BCELoss", {"weight": WEIGHT}, PROBS, TARGETS),
    ("BCEWithLogitsLoss", {"pos_weight": WEIGHT, "reduction": "sum"}, LOGITS[:3], TARGETS),
]  # fmt: skip


@pytest.mark.parametrize(("name", "options", "x", "target"), MODULES,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])  # fmt: skip
def test_loss_modules_match_torch(name: str, options: dict, x, target) -> None:
    ours, theirs = getattr(nn, name)(**options), getattr(torch.nn, name)(**torch_options(options))
    agree(ours, theirs, x, target)
    assert isinstance(ours, nn.Module) and not list(ours.parameters())
    assert f"reduction={options.get('reduction', 'mean')!r}" in repr(ours)


def test_loss_modules_refuse_an_unknown_reduction_when_built() -> None:
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction"):
        nn.CrossEntropyLoss(reduction="elementwise_mean")


def test_a_training_step_ports_line_by_line() -> None:
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    model = nn.Linear(4, 3, dtype=np.float64, rng=0)
    x = rng.standard_normal((5, 4))
    labels = np.array([0, 2, 1, 1, 0])
    loss = criterion(model(cg.tensor(x)), labels)
    loss.backward()
    weight = torch.tensor(model.weight.data.T.copy(), requires_grad=True)  # (out, in)
    bias = torch.tensor(model.bias.data.copy(), requires_grad=True)
    expected = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(
        TF.linear(torch.tensor(x), weight, bias), torch.tensor(labels)
    )
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-10)
    np.testing.assert_allclose(model.weight.grad, weight.grad.numpy().T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.bias.grad, bias.grad.numpy(), rtol=1e-10, atol=1e-12)
