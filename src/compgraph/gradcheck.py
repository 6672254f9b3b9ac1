"""Check a backward pass against numerical differentiation, as the seed's ``sanity_check`` does.

For a function f and a random upstream gradient v (the seed's ``y_delta``), the
scalar L = Σ v · f(x) has dL/dx = vᵀ·J, which ``backward(v)`` computes. The
check compares it, element by element, with central differences
(L(x + ε·e_i) − L(x − ε·e_i)) / 2ε, in float64, and then once more along a
random direction of all elements together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.grad_mode import no_grad
from compgraph.tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic gradient of an input or parameter disagrees with the numerical one.

    Attributes:
        name: which input or parameter, e.g. ``"input 0"`` or ``"parameter 'weight'"``.
        index: the worst element's index (None for the random-direction check).
        analytic: the gradient backward() computed there.
        numerical: the central-difference estimate there.
    """

    def __init__(
        self,
        message: str,
        name: str,
        index: tuple[int, ...] | None,
        analytic: float,
        numerical: float,
    ) -> None:
        super().__init__(message)
        self.name, self.index = name, index
        self.analytic, self.numerical = analytic, numerical


Variable = tuple[str, Tensor]


def gradcheck(
    f: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    max_elements: int = 512,
) -> bool:
    """Check the gradients of ``f`` by central differences in float64.

    Args:
        f: a node, a module or any callable of tensors that returns a tensor.
        inputs: the arguments of ``f``. Every tensor with ``requires_grad=True`` is
            checked, and so is every parameter when ``f`` is a module. Floating
            inputs and parameters are cast to float64 for the check and restored after.
        eps: the step of the central differences.
        atol, rtol: an element passes when |analytic − numerical| ≤ atol + rtol·|numerical|.
        seed: seeds the random upstream gradient and directions.
        max_elements: a tensor with more elements is checked on a random sample
            of this many (plus the random-direction check over all of them).

    Returns:
        True when every gradient agrees.

    Raises:
        GradcheckError: naming the input or parameter, the worst element's index,
            and the analytic and numerical values there.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> x = cg.tensor(np.random.rand(3, 4), requires_grad=True)
        >>> cg.gradcheck(cg.nodes.Sigmoid(), x)
        True
    """
    rng = np.random.default_rng(seed)
    with _float64(f, inputs) as (args, variables):
        if not variables:
            raise ValueError("gradcheck: no input has requires_grad=True and f has no parameters")
        output = f(*args)
        _check_output(output)
        grad_out = rng.standard_normal(output.shape)
        output.backward(grad_out)
        probe = _Probe(f, args, grad_out, eps)
        for name, variable in variables:
            analytic = variable.grad if variable.grad is not None else np.zeros(variable.shape)
            _check_elements(probe, name, variable, analytic, rng, atol, rtol, max_elements)
            _check_direction(probe, name, variable, analytic, rng, atol, rtol)
    return True


def numdiff(
    f: Callable[..., Tensor],
    *inputs: Any,
    wrt: int | Tensor = 0,
    grad_out: Any = None,
    eps: float = 1e-6,
) -> NDArray[np.float64]:
    """The seed's ``numdiff``: numerical dL/d(wrt) for L = Σ grad_out · f(*inputs).

    Args:
        f: a node, module or callable of tensors.
        inputs: its arguments.
        wrt: the position of the input to differentiate, or a tensor (a parameter).
        grad_out: the upstream gradient dL/dy (default: all ones).
        eps: the step of the central differences.

    Returns:
        An array of wrt's shape, computed in float64 (inputs are cast and restored).
    """
    extra = () if isinstance(wrt, int) or any(wrt is value for value in inputs) else (wrt,)
    with _float64(f, inputs, extra) as (args, _):
        if isinstance(wrt, int):
            variable = args[wrt]
        else:
            position = next((i for i, value in enumerate(inputs) if value is wrt), None)
            variable = wrt if position is None else args[position]
        if not isinstance(variable, Tensor) or variable.dtype.kind != "f":
            raise TypeError("numdiff: wrt must name a floating-point tensor")
        with no_grad():
            shape = f(*args).shape
        weights = (
            np.ones(shape) if grad_out is None else np.asarray(getattr(grad_out, "data", grad_out))
        )
        probe = _Probe(f, args, weights, eps)
        result = np.empty(variable.shape)
        for index in np.ndindex(*variable.shape):
            result[index] = probe.derivative(variable, index)
        return result


# --------------------------------------------------------------------------- helpers
@contextmanager
def _float64(
    f: Any, inputs: tuple[Any, ...], extra: tuple[Tensor, ...] = ()
) -> Iterator[tuple[list[Any], list[Variable]]]:
    """Float64 stand-ins for the inputs, float64 parameters; everything restored on exit.

    Yields the arguments to call ``f`` with and the (name, tensor) pairs to check.
    ``extra`` tensors (not among the inputs) are cast in place like parameters.
    """
    args: list[Any] = []
    variables: list[Variable] = []
    for position, value in enumerate(inputs):
        if not (isinstance(value, Tensor) and value.dtype.kind == "f"):
            args.append(value)
            continue
        # A float64 input keeps its memory, so a strided (non-contiguous) input stays
        # strided; _Probe perturbs it in place and writes the original value back.
        data = value.data.astype(np.float64, copy=not value.data.flags.writeable)
        stand_in = Tensor(data, requires_grad=value.requires_grad, name=value.name)
        args.append(stand_in)
        if value.requires_grad:
            label = f"input {position}" + (f" {value.name!r}" if value.name else "")
            variables.append((label, stand_in))
    parameters: list[Variable] = []
    if hasattr(f, "named_parameters"):
        parameters = [(f"parameter {name!r}", p) for name, p in f.named_parameters()]
    # A wrt tensor may also be one of f's parameters: cast (and restore) each tensor once.
    in_place = list({id(t): t for t in (*extra, *(tensor for _, tensor in parameters))}.values())
    saved = [(tensor, tensor.data, tensor.grad) for tensor in in_place]
    try:
        for tensor in in_place:
            tensor.data = tensor.data.astype(np.float64)  # a copy: the original stays untouched
            tensor.grad = None
        yield args, variables + parameters
    finally:
        for tensor, data, grad in saved:
            tensor.data, tensor.grad = data, grad


def _check_output(output: Any) -> None:
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(output).__name__}")
    if output.dtype != np.float64:
        raise TypeError(
            f"gradcheck: f returned {output.dtype} from float64 inputs; central differences "
            "need float64 all the way through"
        )


@dataclass(frozen=True)
class _Probe:
    """L = Σ weights · f(*args), and its central differences as one input is perturbed."""

    f: Callable[..., Tensor]
    args: list[Any]
    weights: NDArray[Any]
    eps: float

    def loss(self) -> float:
        with no_grad():
            return float(np.sum(self.weights * self.f(*self.args).data))

    def derivative(self, variable: Tensor, where: Any, direction: Any = 1.0) -> float:
        """dL along ``direction`` at ``variable.data[where]`` (an element, or ``...`` for all)."""
        original = variable.data[where].copy()
        step = self.eps * direction
        try:
            variable.data[where] = original + step
            plus = self.loss()
            variable.data[where] = original - step
            minus = self.loss()
        finally:
            variable.data[where] = original  # the exact original, not original + step - step
        return (plus - minus) / (2 * self.eps)


def _check_elements(
    probe: _Probe,
    name: str,
    variable: Tensor,
    analytic: NDArray[Any],
    rng: np.random.Generator,
    atol: float,
    rtol: float,
    max_elements: int,
) -> None:
    size = variable.size
    chosen = range(size) if size <= max_elements else rng.choice(size, max_elements, replace=False)
    indices = [np.unravel_index(flat, variable.shape) for flat in chosen]
    numerical = np.array([probe.derivative(variable, index) for index in indices])
    computed = np.array([analytic[index] for index in indices])
    error = np.abs(computed - numerical)
    tolerance = atol + rtol * np.abs(numerical)
    failing = error > tolerance
    if not failing.any():
        return
    worst = int(np.argmax(error - tolerance))
    index = tuple(int(i) for i in indices[worst])
    raise GradcheckError(
        f"gradcheck failed for {name} (shape {variable.shape}) at index {index}: analytic "
        f"{computed[worst]:.10g} vs numerical {numerical[worst]:.10g} (|difference| "
        f"{error[worst]:.3g} > tolerance {tolerance[worst]:.3g}); {int(failing.sum())} of "
        f"{len(indices)} checked elements disagree",
        name,
        index,
        float(computed[worst]),
        float(numerical[worst]),
    )


def _check_direction(
    probe: _Probe,
    name: str,
    variable: Tensor,
    analytic: NDArray[Any],
    rng: np.random.Generator,
    atol: float,
    rtol: float,
) -> None:
    """One directional derivative over all elements at once, for what sampling skipped."""
    direction = rng.standard_normal(variable.shape)
    numerical = probe.derivative(variable, ..., direction)
    computed = float(np.sum(analytic * direction))
    tolerance = atol * np.sqrt(variable.size) + rtol * abs(numerical)
    if abs(computed - numerical) > tolerance:
        raise GradcheckError(
            f"gradcheck failed for {name} (shape {variable.shape}) along a random direction: "
            f"analytic {computed:.10g} vs numerical {numerical:.10g}",
            name,
            None,
            computed,
            numerical,
        )
