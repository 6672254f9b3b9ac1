"""Every kernel: the compiled version against the NumPy reference, on random inputs.

Each case draws inputs in float32 and float64 and in several memory layouts
(contiguous, channels-last, with gaps that the compiled kernels hand to the
reference), runs both implementations on copies, and compares what they return
and what they update in place. Pooling cases include inputs full of ties.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from compgraph import kernels
from compgraph.kernels import reference, threads

compiled = pytest.importorskip("compgraph.kernels.compiled", reason="needs numba")

Maker = Callable[[np.random.Generator, Any, str], tuple[Any, ...]]
LAYOUTS = ("contiguous", "channels_last", "gaps")


def images(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any, layout: str) -> Any:
    """Random (N, C, H, W) values in the requested memory layout."""
    values = rng.standard_normal(shape).astype(dtype)
    if layout == "channels_last":
        return np.ascontiguousarray(values.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if layout == "gaps":  # every other column of a wider array: not dense in memory
        wide = np.zeros((*shape[:-1], 2 * shape[-1]), dtype)
        wide[..., ::2] = values
        return wide[..., ::2]
    return values


def ties(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any, layout: str) -> Any:
    """Small integers: every window has ties, zeros and negatives."""
    values = images(rng, shape, dtype, layout)
    values[...] = rng.integers(-2, 3, shape)
    return values


def pool_case(shape: tuple[int, ...], k: int, s: int, make: Any = images) -> dict[str, Maker]:
    def forward(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        return make(rng, shape, dtype, layout), k, s

    def backward(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        x = make(rng, shape, dtype, layout)
        _, argmax = reference.max_pool2d_forward(x, k, s)
        grad = images(rng, argmax.shape, dtype, layout)
        if layout == "channels_last":  # as the compiled forward lays out argmax
            argmax = np.ascontiguousarray(argmax.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        return grad, argmax, shape, k, s

    def avg_backward(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        y = reference.avg_pool2d_forward(make(rng, shape, dtype, "contiguous"), k, s)
        return images(rng, y.shape, dtype, layout), shape, k, s

    return {"max_pool2d_forward": forward, "avg_pool2d_forward": forward,
            "max_pool2d_backward": backward, "avg_pool2d_backward": avg_backward}  # fmt: skip


def conv_case(shape: tuple[int, ...], kernel: tuple[int, int], s: int, p: int) -> dict[str, Maker]:
    def gather(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        return images(rng, shape, dtype, layout), kernel, s, p, bool(rng.integers(2))

    def scatter(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        cols = reference.im2col(np.zeros(shape, dtype), kernel, s, p, ones_column=False)
        grad_cols = rng.standard_normal(cols.shape).astype(dtype)
        if layout == "gaps":  # the patch columns of a matrix with a bias column, as in Conv2d
            grad_cols = np.concatenate([grad_cols, np.ones((len(cols), 1), dtype)], 1)[:, :-1]
        return grad_cols, shape, kernel, s, p

    return {"im2col": gather, "col2im": scatter}


def sgd_case(momentum: float, nesterov: bool, decay: float) -> Maker:
    def make(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        param, grad = (rng.standard_normal((300, 7)).astype(dtype) for _ in range(2))
        velocity = rng.standard_normal(param.shape).astype(dtype) if momentum else None
        return param, grad, velocity, 0.05, momentum, nesterov, decay

    return make


def adam_case(decay: float, decoupled: bool, step: int) -> Maker:
    def make(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        param, grad, m = (rng.standard_normal((300, 7)).astype(dtype) for _ in range(3))
        v = rng.uniform(0, 1, param.shape).astype(dtype)
        return param, grad, m, v, step, 1e-3, (0.9, 0.999), 1e-8, decay, decoupled

    return make


def sgd_dampening_case(nesterov: bool, dampening: float) -> Maker:
    def make(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        param, grad, velocity = (rng.standard_normal((300, 7)).astype(dtype) for _ in range(3))
        return param, grad, velocity, 0.05, 0.9, nesterov, 1e-2, dampening

    return make


def amsgrad_case(decay: float, decoupled: bool, step: int) -> Maker:
    def make(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        param, grad, m = (rng.standard_normal((300, 7)).astype(dtype) for _ in range(3))
        v, max_v = (rng.uniform(0, 1, param.shape).astype(dtype) for _ in range(2))
        return param, grad, m, v, step, 1e-3, (0.9, 0.999), 1e-8, decay, decoupled, max_v

    return make


def rmsprop_case(centered: bool, momentum: float, decay: float) -> Maker:
    def make(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        param, grad = (rng.standard_normal((300, 7)).astype(dtype) for _ in range(2))
        square_avg = rng.uniform(1, 2, param.shape).astype(dtype)
        grad_avg = rng.uniform(-0.5, 0.5, param.shape).astype(dtype) if centered else None
        velocity = rng.standard_normal(param.shape).astype(dtype) if momentum else None
        return param, grad, square_avg, grad_avg, velocity, 1e-2, 0.99, 1e-8, decay, momentum

    return make


def adagrad_case(step: int, lr_decay: float, decay: float) -> Maker:
    def make(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        param, grad = (rng.standard_normal((300, 7)).astype(dtype) for _ in range(2))
        state_sum = rng.uniform(0, 2, param.shape).astype(dtype)
        return param, grad, state_sum, step, 1e-2, lr_decay, decay, 1e-10

    return make


def adadelta_case(decay: float) -> Maker:
    def make(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        param, grad = (rng.standard_normal((300, 7)).astype(dtype) for _ in range(2))
        square_avg, acc_delta = (rng.uniform(0, 1, param.shape).astype(dtype) for _ in range(2))
        return param, grad, square_avg, acc_delta, 1.0, 0.9, 1e-6, decay

    return make


def labels_case(rows: int, classes: int) -> dict[str, Maker]:
    def forward(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        logits = rng.standard_normal((rows, classes)).astype(dtype) * 5
        if layout == "gaps":
            logits = logits.T.copy().T  # column-major
        return logits, rng.integers(0, classes, rows)

    def backward(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        logits, labels = forward(rng, dtype, layout)
        _, probs = reference.softmax_cross_entropy(logits, labels)
        return probs, labels, rng.standard_normal(rows).astype(dtype)

    def out_of_range(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        labels = rng.integers(0, classes, rows)
        if layout != "contiguous":
            labels[rng.integers(rows)] = classes if layout == "gaps" else -1
        return labels, classes

    return {"softmax_cross_entropy": forward, "softmax_cross_entropy_backward": backward,
            "first_label_out_of_range": out_of_range}  # fmt: skip


def elementwise(shape: tuple[int, ...]) -> dict[str, Maker]:
    def forward(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        return (images(rng, shape, dtype, layout),)

    def backward(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        y = np.maximum(images(rng, shape, dtype, layout), 0)
        return images(rng, shape, dtype, layout), y

    return {"relu_forward": forward, "relu_backward": backward}


def tall(rows: int, p: int, q: int) -> Maker:
    def make(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        a = rng.standard_normal((rows, p)).astype(dtype)
        b = rng.standard_normal((rows, q)).astype(dtype)
        return a, (np.asfortranarray(b) if layout == "gaps" else b)

    return make


CASES: list[tuple[str, str, Maker]] = []
for label, table in [
    ("image", elementwise((2, 3, 5, 4))),
    ("big", elementwise((4, 8, 70, 70))),  # past the threshold where kernels use threads
    ("pool2", pool_case((2, 3, 6, 6), 2, 2)),
    ("pool2_odd", pool_case((2, 4, 7, 5), 2, 2)),
    ("pool3s2", pool_case((1, 2, 7, 9), 3, 2)),
    ("pool2s1", pool_case((2, 3, 5, 5), 2, 1)),
    ("pool2_ties", pool_case((3, 4, 6, 6), 2, 2, ties)),
    ("pool3s1_ties", pool_case((2, 3, 6, 5), 3, 1, ties)),
    ("pool_big", pool_case((16, 32, 26, 26), 2, 2, ties)),
    ("conv3", conv_case((2, 3, 6, 5), (3, 3), 1, 0)),
    ("conv3_pad", conv_case((2, 4, 5, 5), (3, 3), 1, 1)),
    ("conv_stride", conv_case((1, 2, 7, 6), (2, 3), 2, 1)),
    ("conv_one_channel", conv_case((3, 1, 8, 8), (3, 3), 1, 0)),
    ("conv_big", conv_case((8, 16, 30, 30), (3, 3), 1, 1)),
    ("labels", labels_case(7, 5)),
    ("one_row", labels_case(1, 3)),
]:
    CASES += [(f"{name}-{label}", name, maker) for name, maker in table.items()]


def rows(shape: tuple[int, ...]) -> Maker:
    def make(rng: np.random.Generator, dtype: Any, layout: str) -> tuple[Any, ...]:
        x = rng.standard_normal(shape).astype(dtype)
        return (np.asfortranarray(x) if layout == "gaps" else x,)

    return make


CASES += [
    ("sum_rows-matrix", "sum_rows", rows((100, 10))),
    ("sum_rows-vector", "sum_rows", rows((37,))),
    ("sum_rows-empty", "sum_rows", rows((0, 3))),
    ("transpose_matmul-short", "transpose_matmul", tall(100, 6, 10)),
    ("transpose_matmul-chunked", "transpose_matmul", tall(5 * 2048 + 37, 6, 10)),
    ("transpose_matmul-wide", "transpose_matmul", tall(9000, 80, 70)),
    ("sgd_step-plain", "sgd_step", sgd_case(0.0, False, 0.0)),
    ("sgd_step-momentum", "sgd_step", sgd_case(0.9, False, 0.0)),
    ("sgd_step-nesterov_decay", "sgd_step", sgd_case(0.9, True, 1e-2)),
    ("adam_step-first", "adam_step", adam_case(0.0, False, 1)),
    ("adam_step-l2", "adam_step", adam_case(0.1, False, 7)),
    ("adam_step-adamw", "adam_step", adam_case(0.01, True, 3)),
    ("sgd_step-dampening", "sgd_step", sgd_dampening_case(False, 0.3)),
    ("sgd_step-nesterov_dampening", "sgd_step", sgd_dampening_case(True, 0.5)),
    ("adam_step-amsgrad", "adam_step", amsgrad_case(0.1, False, 5)),
    ("adam_step-adamw_amsgrad", "adam_step", amsgrad_case(0.01, True, 2)),
    ("rmsprop_step-plain", "rmsprop_step", rmsprop_case(False, 0.0, 0.0)),
    ("rmsprop_step-centered_momentum_decay", "rmsprop_step", rmsprop_case(True, 0.9, 0.1)),
    ("rmsprop_step-momentum", "rmsprop_step", rmsprop_case(False, 0.5, 0.0)),
    ("adagrad_step-first", "adagrad_step", adagrad_case(1, 0.0, 0.0)),
    ("adagrad_step-lr_decay_decay", "adagrad_step", adagrad_case(7, 0.05, 0.1)),
    ("adadelta_step-plain", "adadelta_step", adadelta_case(0.0)),
    ("adadelta_step-decay", "adadelta_step", adadelta_case(0.1)),
]

#: Kernels whose two versions add in different orders: equal to rounding, not bitwise.
REORDERED = {"col2im", "avg_pool2d_backward", "max_pool2d_backward", "softmax_cross_entropy",
             "softmax_cross_entropy_backward", "sum_rows", "transpose_matmul"}  # fmt: skip


def assert_same(name: str, ours: Any, theirs: Any) -> None:
    if isinstance(ours, tuple):
        for a, b in zip(ours, theirs, strict=True):
            assert_same(name, a, b)
        return
    if not isinstance(ours, np.ndarray):
        assert ours == theirs
        return
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    if name in REORDERED:
        # Rounding of sums taken in another order: relative to the result's scale.
        rtol = 1e-5 if ours.dtype == np.float32 else 1e-12
        scale = max(1.0, float(np.abs(theirs).max(initial=0)))
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale)
    else:
        np.testing.assert_array_equal(ours, theirs)


def test_both_implementations_provide_every_kernel() -> None:
    for name in kernels.KERNELS:
        assert callable(getattr(kernels, name))
        assert getattr(reference, name).__doc__, f"reference.{name} needs a docstring"
        assert callable(getattr(compiled, name))
    tested = {name for _, name, _ in CASES}
    assert tested == set(kernels.KERNELS), sorted(set(kernels.KERNELS) - tested)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "make"), [pytest.param(n, m, id=i) for i, n, m in CASES])
def test_compiled_kernel_matches_the_reference(name: str, make: Maker, dtype: Any, layout: str):
    args = make(np.random.default_rng(0), dtype, layout)
    ours_args, theirs_args = copy.deepcopy(args), copy.deepcopy(args)
    ours = getattr(compiled, name)(*ours_args)
    theirs = getattr(reference, name)(*theirs_args)
    assert_same(name, ours, theirs)
    for ours_arg, theirs_arg in zip(ours_args, theirs_args, strict=True):  # in-place updates
        if isinstance(ours_arg, np.ndarray):
            assert_same(name, ours_arg, theirs_arg)


@pytest.mark.parametrize(("name", "make"), [pytest.param(n, m, id=i) for i, n, m in CASES])
def test_compiled_kernel_gives_the_same_bits_on_one_thread_and_on_two(
    name: str, make: Maker, monkeypatch
) -> None:
    # Big enough inputs are cut into one chunk per thread; small ones run whole. Either
    # way each output is computed by one thread, in the same order: the same bits.
    monkeypatch.setattr("compgraph.kernels.compiled._jit.SPLIT_FROM", 1)
    results = []
    for count in (1, 2):
        monkeypatch.setattr(threads, "_kernel_threads", count)
        args = make(np.random.default_rng(1), np.float32, "channels_last")
        results.append((getattr(compiled, name)(*args), args))
    (one, args_one), (two, args_two) = results
    for a, b in zip((one, *args_one), (two, *args_two), strict=True):
        if isinstance(a, (np.ndarray, tuple)):
            np.testing.assert_equal(a, b)
