"""Function forms of the nodes and losses, in PyTorch's spelling (``torch.nn.functional``).

A model written with ``F.linear``, ``F.conv2d``, ``F.max_pool2d`` … ports line by line:
each function takes PyTorch's arguments and layouts and computes what PyTorch computes,
or refuses with a one-line error; it never silently computes something else.

The losses have PyTorch's meanings, arguments and defaults (``reduction``, ``weight``,
``ignore_index``, ``label_smoothing``, ``pos_weight``, ``beta``): ``cross_entropy`` takes
logits and, by default, gives the mean loss over the batch, computed by the fused (and
stable) SoftmaxCrossEntropy node.

The argument checks at the end (sizes, padding, dtypes) are shared with the layers in
``compgraph.nn``, so ``nn.Conv2d(padding="same")`` and ``conv2d(padding="same")`` agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from compgraph.node import ShapeError, apply
from compgraph.nodes import activation, conv, linalg, loss, pool, shape
from compgraph.nodes import dropout as dropout_nodes
from compgraph.random import generator
from compgraph.tensor import Tensor, axis_names


def _target(target: Any) -> Any:
    """Labels or distributions as an array or tensor; lists become arrays."""
    return np.asarray(target) if isinstance(target, (list, tuple)) else target


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """−Σ_c w_c · q_c · log softmax(input)_c per sample, then reduced: ``F.cross_entropy``.

    q is the target, smoothed: (1 − ε) · onehot(t) + ε / C for class indices t, or
    (1 − ε) · p + ε / C for class probabilities p. ``"mean"`` divides by Σ w_(t_n) over
    the samples whose label is not ``ignore_index`` (by the number of samples for
    probabilities), as PyTorch does. Without weight, smoothing or ignored labels, this
    is the fused SoftmaxCrossEntropy node; otherwise LogSoftmax and then NLL.

    Args:
        input: logits, (N, C), (C,) or (N, C, d1, …): the classes on axis 1, as PyTorch.
        target: integer class indices (N,) / () / (N, d1, …), or class probabilities of
            input's shape; a tensor, an array or a list.
        weight: one weight per class (C,), or None. Not differentiated.
        ignore_index: the class index of samples to leave out (class indices only).
        reduction: ``"none"`` (one loss per sample), ``"mean"`` or ``"sum"``.
        label_smoothing: ε in [0, 1].

    Returns:
        A scalar tensor ('mean', 'sum'), or target's shape without the classes ('none');
        for a mean over labels its gradient is (softmax(input) − onehot(t)) / N.

    Raises:
        InputValueError: (a ValueError) a class index out of range.
    """
    loss.check_reduction("cross_entropy", reduction)
    target = _target(target)
    logits = _classes_last(input)
    values = np.asarray(_array(target))
    if values.dtype.kind in "iu":
        _check_label_shape("cross_entropy", input, values)
    fused = weight is None and label_smoothing == 0 and reduction != "sum"
    if values.dtype.kind in "iu":
        if fused and not (values == ignore_index).any():
            return apply(loss.SoftmaxCrossEntropy(reduction), (logits, target), fresh=True)
        log_probs = activation.LogSoftmax(-1)(logits)
        node = loss.NLL(_weights(weight), ignore_index, reduction, label_smoothing)
        return node(log_probs, target)
    target = _classes_last(target)  # class probabilities, laid out as the input
    if fused:
        return apply(loss.SoftmaxCrossEntropy(reduction), (logits, target), fresh=True)
    return _soft_cross_entropy(logits, target, weight, reduction, label_smoothing)


def _soft_cross_entropy(
    logits: Tensor, target: Any, weight: Any, reduction: str, label_smoothing: float
) -> Tensor:
    """Cross-entropy against class probabilities with weights or smoothing, from nodes."""
    classes = logits.shape[-1]
    if not isinstance(target, Tensor):
        target = np.asarray(target, dtype=logits.dtype)
    smoothed = target * (1 - label_smoothing) + label_smoothing / classes
    if weight is not None:
        smoothed = smoothed * np.asarray(_weights(weight), dtype=logits.dtype)
    losses = -(activation.LogSoftmax(-1)(logits) * smoothed).sum(axis=-1)
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """−w_(t_n) · input[n, t_n] per sample, then reduced: ``F.nll_loss``.

    ``"mean"`` divides by Σ w_(t_n) over the samples whose label is not ``ignore_index``.
    The node is NLL; its gradient is −w_(t_n) / D at each sample's label and 0 elsewhere.

    Args:
        input: log-probabilities, (N, C), (C,) or (N, C, d1, …), the classes on axis 1.
        target: integer class indices, input's shape without axis 1.
        weight: one weight per class (C,), or None. Not differentiated.
        ignore_index: the class index of samples to leave out.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Raises:
        InputValueError: (a ValueError) a class index out of range.
    """
    target = _target(target)
    _check_label_shape("nll_loss", input, np.asarray(_array(target)))
    node = loss.NLL(_weights(weight), ignore_index, reduction)
    return node(_classes_last(input), target)


def binary_cross_entropy(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """−w · (t · log x + (1 − t) · log(1 − x)), logs clamped at ≥ −100: ``F.binary_cross_entropy``.

    x are probabilities in [0, 1] (after a sigmoid); t has x's shape, and is differentiated
    where it requires grad. ``weight`` broadcasts to x's shape and is not differentiated.
    """
    return loss.BCE(_weights(weight), reduction)(input, _target(target))


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """−w · (p · t · log σ(z) + (1 − t) · log(1 − σ(z))) from logits z, computed stably:
    ``F.binary_cross_entropy_with_logits``.

    ``pos_weight`` p (one per class, broadcast along the last axis) weighs the positive
    term; ``weight`` w broadcasts to z's shape; neither is differentiated.
    """
    node = loss.BCEWithLogits(_weights(weight), reduction, _weights(pos_weight))
    return node(input, _target(target))


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """(x − t)² per element, then reduced (``"mean"``: (1/N)·Σ); shapes must match."""
    return loss.MSE(reduction)(input, _target(target))


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """|x − t| per element, then reduced: ``F.l1_loss``; shapes must match."""
    return loss.L1(reduction)(input, _target(target))


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """½ d²/β where |d| < β, else |d| − ½β, for d = x − t: ``F.smooth_l1_loss``."""
    return loss.SmoothL1(beta, reduction)(input, _target(target))


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """½ d² where |d| < δ, else δ · (|d| − ½δ), for d = x − t: ``F.huber_loss``.

    Computed as δ · smooth_l1_loss(beta=δ), which is the same function.
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, not {delta}")
    return loss.SmoothL1(delta, reduction)(input, _target(target)) * delta


def _weights(weight: Any) -> Any:
    """A loss's weights (a tensor, an array, a list or None) as an array or None."""
    return None if weight is None else np.asarray(_array(weight))


def _check_label_shape(caller: str, input: Any, labels: Any) -> None:
    """Refuse labels of shape (N, d1, …, dk) for an input whose classes are on the last axis
    (N, d1, …, dk, C), which compgraph's cross_entropy took before it followed PyTorch."""
    shape = np.shape(_array(input))
    if len(shape) > 2 and labels.shape == shape[:-1] and labels.shape != shape[:1] + shape[2:]:
        raise ShapeError(
            f"{caller}: input has shape {shape} and the labels {labels.shape}, but as in "
            f"PyTorch the classes are on axis 1 of an input of more than two axes; "
            f"expected labels of shape {shape[:1] + shape[2:]}. For classes on the last "
            "axis, pass input.reshape(-1, C) and labels.reshape(-1)"
        )


def _classes_last(x: Any) -> Any:
    """PyTorch's (N, C, d1, …) with the classes moved from axis 1 to the last axis, where
    the loss nodes take them; (N, C) and (C,) are returned as they are."""
    rank = np.ndim(_array(x))
    if rank <= 2:
        return x
    axes = (0, *range(2, rank), 1)
    return shape.Transpose(axes)(x) if isinstance(x, Tensor) else np.transpose(x, axes)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """y = x·Wᵀ + b with W of shape (out, in): PyTorch's ``F.linear``, layout included.

    This is PyTorch's layout, not ``nn.Linear``'s: compgraph's ``nn.Linear`` stores W as
    (in, out), the original notebook's layout, and computes x·W. A call ported from
    PyTorch passes an (out, in) weight, and for a square W the two forms cannot be told
    apart by shape, so this function follows PyTorch. For the (in, out) layout (an
    ``nn.Linear``'s own ``weight``) use the node: ``cg.nodes.Linear()(x, W, b)``.

    Args:
        x: (..., in).
        weight: W, (out, in).
        bias: b, (out,), or None.

    Raises:
        ShapeError: W is not 2-D or its second axis is not x's last.
        TypeError: x's dtype would promote W's (float64 x, float32 W; see ``check_dtype``).

    Example:
        >>> import numpy as np, compgraph as cg
        >>> weight = np.array([[1.0, 2.0], [3.0, 4.0]])  # (out, in)
        >>> cg.functional.linear(cg.tensor([[1.0, 0.0]]), weight).data  # x·Wᵀ, not x·W
        array([[1., 3.]])
    """
    x_shape, weight_shape = np.shape(_array(x)), np.shape(_array(weight))
    if len(weight_shape) != 2 or not x_shape or x_shape[-1] != weight_shape[1]:
        raise ShapeError(
            f"linear: x has shape {x_shape} and weight has shape {weight_shape}; weight must "
            "be (out, in), PyTorch's layout, with in equal to x's last axis (for an "
            "nn.Linear's (in, out) weight, use cg.nodes.Linear()(x, weight, bias))"
        )
    bias_shape = None if bias is None else np.shape(_array(bias))
    if bias_shape is not None and bias_shape != (weight_shape[0],):
        raise ShapeError(
            f"linear: bias has shape {bias_shape} but weight has shape {weight_shape}; bias "
            f"must be (out,) = ({weight_shape[0]},)"
        )
    check_dtype("linear", x, weight)
    weight_t = shape.Transpose()(weight)  # (in, out): the node's layout
    return linalg.Linear()(x, weight_t) if bias is None else linalg.Linear()(x, weight_t, bias)


def conv2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c]: PyTorch's ``F.conv2d`` (no dilation, groups).

    Args:
        x: (N, C, H, W).
        weight: W, (O, C, kh, kw), PyTorch's layout.
        bias: b, (O,), or None.
        stride: an int or a square pair (s, s).
        padding: an int, an equal pair (p, p), ``"valid"`` (0) or ``"same"`` (stride 1 and an
            odd square kernel: compgraph pads every side equally).

    Raises:
        ValueError, TypeError: settings compgraph's Conv2d node cannot take, or an x whose
            dtype would promote W's (see ``check_dtype``).
    """
    kernel = tuple(np.shape(_array(weight))[2:])
    step = square("conv2d", "stride", stride)
    pad = conv_padding("conv2d", padding, kernel, step)
    check_dtype("conv2d", x, weight)
    node = conv.Conv2d(step, pad)
    return node(x, weight) if bias is None else node(x, weight, bias)


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> Tensor:
    """y = the maximum of each k×k window, ``stride`` apart (default k): ``F.max_pool2d``.

    ``kernel_size`` and ``stride`` are ints or square pairs; no padding or dilation.
    """
    size = square("max_pool2d", "kernel_size", kernel_size)
    step = None if stride is None else square("max_pool2d", "stride", stride)
    return pool.MaxPool2d(size, step)(x)


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> Tensor:
    """y = the mean of each k×k window, ``stride`` apart (default k): ``F.avg_pool2d``.

    ``kernel_size`` and ``stride`` are ints or square pairs; no padding.
    """
    size = square("avg_pool2d", "kernel_size", kernel_size)
    step = None if stride is None else square("avg_pool2d", "stride", stride)
    return pool.AvgPool2d(size, step)(x)


def dropout(
    x: Any, p: float = 0.5, training: bool = True, rng: np.random.Generator | int | None = None
) -> Tensor:
    """Inverted dropout: y = x · m, m = 0 (probability p) or 1/(1 − p): ``F.dropout``.

    As in PyTorch, ``training`` defaults to True: in a module, pass ``self.training``.
    When it is False (or p = 0), x is returned unchanged. ``rng`` (a Generator or a
    seed) draws the mask; None draws from the generator ``cg.manual_seed`` seeds, as
    ``nn.Dropout`` does.
    p must lie in [0, 1), as for ``nn.Dropout``.
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must lie in [0, 1), got {p}")
    x = x if isinstance(x, Tensor) else Tensor(x)
    if not training or p == 0:
        return x
    keep = generator(rng).random(x.shape, dtype=np.float32) >= p
    scaled_mask = keep.astype(x.dtype) * (1.0 / (1.0 - p))
    return dropout_nodes.Dropout(scaled_mask)(x)


def embedding(indices: Any, weight: Any) -> Tensor:
    """y = W[indices]: row i of W for each index i, ``F.embedding``.

    The gradient adds dL/dy back onto the rows used (a row used twice receives the sum).

    Args:
        indices: integers in [0, num_embeddings), any shape; a tensor or an array.
        weight: W, (num_embeddings, embedding_dim).

    Returns:
        indices.shape + (embedding_dim,).

    Raises:
        TypeError: indices that are not integers. IndexError: an index out of range
            (PyTorch refuses negative indices too, where NumPy would count from the end).
    """
    index = np.asarray(_array(indices))
    rows = np.shape(_array(weight))[0]
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, not {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= rows):
        raise IndexError(
            f"embedding: indices must lie in [0, {rows}); found {index.min()}..{index.max()}"
        )
    return shape.GetItem(index)(weight)


def one_hot(labels: Any, num_classes: int = -1, dtype: DTypeLike = np.int64) -> Tensor:
    """Integer labels as one-hot rows: ``labels.shape + (num_classes,)``, ``F.one_hot``.

    Int64 by default, as PyTorch's; ``dtype=np.float32`` gives the float rows a loss wants
    (what ``compgraph.data.one_hot`` returns by default). ``num_classes=-1`` means the
    largest label plus one.
    """
    from compgraph.data import one_hot as encode  # data is imported on first use

    classes = None if num_classes == -1 else num_classes
    return Tensor(encode(np.asarray(_array(labels)), classes, dtype=dtype))


def sigmoid(x: Tensor) -> Tensor:
    return activation.Sigmoid()(x)


def relu(x: Tensor) -> Tensor:
    return activation.ReLU()(x)


def tanh(x: Tensor) -> Tensor:
    return activation.Tanh()(x)


def softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Softmax over ``axis`` (or PyTorch's ``dim``); the last axis by default."""
    chosen, _ = axis_names("softmax", axis, dim, None, None)
    return activation.Softmax(-1 if chosen is None else chosen)(x)


def log_softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """log softmax over ``axis`` (or PyTorch's ``dim``); the last axis by default."""
    chosen, _ = axis_names("log_softmax", axis, dim, None, None)
    return activation.LogSoftmax(-1 if chosen is None else chosen)(x)


# ------------------------------------------- argument checks shared with compgraph.nn
def _array(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def pair(caller: str, name: str, value: Any, minimum: int = 1) -> tuple[int, int]:
    """``value`` (an int, or a pair of ints as a tuple or a list) as a pair of ints ≥ minimum.

    Raises:
        TypeError: anything else. ValueError: a size below ``minimum``.
    """
    if _is_int(value):
        sizes = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_int, value)):
        sizes = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{caller}: {name} must be an int or a pair of ints, got {value!r}")
    if min(sizes) < minimum:
        raise ValueError(f"{caller}: {name} must be ≥ {minimum}, got {value!r}")
    return sizes


def square(caller: str, name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as one int: an int, or a pair of equal ints such as (3, 3).

    Raises:
        TypeError, ValueError: as :func:`pair`, or a pair of different ints, which
            compgraph's pooling and convolution nodes do not support.
    """
    height, width = pair(caller, name, value, minimum)
    if height != width:
        raise ValueError(
            f"{caller}: {name}={value!r}: only the same {name} along both axes is supported; "
            "pass one int"
        )
    return height


def conv_padding(caller: str, padding: Any, kernel: tuple[int, ...], stride: int) -> int:
    """Padding for every side: an int, an equal pair, ``"valid"`` (0) or ``"same"``.

    ``"same"`` keeps H and W: stride 1 (as in PyTorch) and an odd square kernel, whose
    (k − 1)/2 zeros go on every side; an even kernel would need more padding on one side
    than the other, which compgraph's Conv2d node does not support.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0
        if padding != "same":
            raise ValueError(
                f"{caller}: padding={padding!r}: expected an int, a pair, 'same' or 'valid'"
            )
        if stride != 1:
            raise ValueError(f"{caller}: padding='same' needs stride=1, got stride={stride}")
        if len(set(kernel)) != 1 or kernel[0] % 2 == 0:
            size = "×".join(map(str, kernel))
            raise ValueError(
                f"{caller}: padding='same' needs an odd square kernel, got {size}: any other "
                "needs unequal padding on opposite sides, which compgraph does not support; "
                "pass padding as an int"
            )
        return (kernel[0] - 1) // 2
    return square(caller, "padding", padding, minimum=0)


def check_dtype(caller: str, x: Any, weight: Any) -> None:
    """Refuse an input that would change the weights' precision (float64 data, float32 W).

    NumPy would quietly promote (float32 weights and float64 data give float64), so the
    layer would compute in a precision nobody chose; PyTorch refuses. An input that the
    weights' dtype holds (float32 data into a float64 layer, uint8 into float32) is
    computed in the weights' dtype, as NumPy does.

    Raises:
        TypeError: saying how to convert the input.
    """
    x_dtype = np.dtype(x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype)
    weight_dtype = np.dtype(weight.dtype if hasattr(weight, "dtype") else np.asarray(weight).dtype)
    if np.promote_types(x_dtype, weight_dtype) != weight_dtype:
        name = weight_dtype.name
        raise TypeError(
            f"{caller}: the input is {x_dtype.name} but the weights are {name}; convert the "
            f"input (x.astype(np.{name}) or cg.tensor(x, dtype=np.{name})), or build the "
            f"layer with dtype=np.{x_dtype.name}"
        )
