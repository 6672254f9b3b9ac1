"""The kernels in plain NumPy: each is the formula it computes, and the compiled ones' reference."""

from compgraph.kernels.reference.activation import relu_backward, relu_forward
from compgraph.kernels.reference.conv import col2im, im2col, transpose_matmul
from compgraph.kernels.reference.loss import (
    first_label_out_of_range,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
)
from compgraph.kernels.reference.optim import (
    adadelta_step,
    adagrad_step,
    adam_step,
    rmsprop_step,
    sgd_step,
)
from compgraph.kernels.reference.pool import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from compgraph.kernels.reference.reduction import sum_rows

__all__ = [
    "adadelta_step",
    "adagrad_step",
    "adam_step",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "col2im",
    "first_label_out_of_range",
    "im2col",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "relu_backward",
    "relu_forward",
    "rmsprop_step",
    "sgd_step",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
    "sum_rows",
    "transpose_matmul",
]
