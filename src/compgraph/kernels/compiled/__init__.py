"""The kernels compiled with numba: the same names, signatures and results as the reference.

Importing this package imports numba (and fails without it); compgraph does so
only at its first kernel call. Each kernel compiles on first use for the dtypes
and memory layouts it meets, and numba caches the machine code on disk (beside
the source, or in ``NUMBA_CACHE_DIR``), so later processes load it instead.
Inputs a kernel is not compiled for (float16, byte-swapped, arrays with gaps in
memory) go to the NumPy reference.
"""

from compgraph.kernels.compiled.activation import relu_backward, relu_forward
from compgraph.kernels.compiled.conv import col2im, im2col, transpose_matmul
from compgraph.kernels.compiled.loss import (
    first_label_out_of_range,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
)
from compgraph.kernels.compiled.optim import (
    adadelta_step,
    adagrad_step,
    adam_step,
    rmsprop_step,
    sgd_step,
)
from compgraph.kernels.compiled.pool import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from compgraph.kernels.compiled.reduction import sum_rows

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
