"""Check a backward pass against numerical differentiation, as the notebook's ``sanity_check`` does.

For a function f and a random upstream gradient v (the original notebook's ``y_delta``), the
scalar L = Σ v · f(x) has dL/dx = vᵀ·J, which ``backward(v)`` computes. The
check compares it, element by element, with central differences
(L(x + ε·e_i) − L(x − ε·e_i)) / 2ε, in float64, and then once more along a
random direction of all elements together.

Nothing non-finite can pass: a NaN compares false with everything, so comparisons
read ``not (difference <= tolerance)``, and NaN or inf settings, inputs, outputs
and derivatives are each reported by name.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.grad_mode import no_grad
from compgraph.held import held_parameters, node_parameters
from compgraph.node import Node
from compgraph.tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic gradient of an input or parameter disagrees with the numerical one.

    Attributes:
        name: which input or parameter, e.g. ``"input 0"`` or ``"parameter 'weight'"``.
        index: the worst element's index (None for the random-direction check).
        analytic: the gradient backward() computed there (NaN or inf when that side
            was not finite).
        numerical: the central-difference estimate there (likewise).
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
    grad_out: Any = None,
    strict: bool = False,
    shapes_from: Callable[..., Tensor] | None = None,
) -> bool:
    """Check the gradients of ``f`` by central differences in float64.

    Args:
        f: a node, a module or any callable of tensors that returns a tensor.
        inputs: the arguments of ``f``. Every tensor with ``requires_grad=True`` is
            checked, and so is every parameter when ``f`` is a module. Floating
            inputs and parameters are cast to float64 for the check and restored after.
        eps: the step of the central differences.
        atol, rtol: an element passes when |analytic − numerical| ≤ atol + rtol·|numerical|.
            Both must be finite and ≥ 0, and not both 0: that would demand an exact
            match, which central differences never give, so it could only fail.
        seed: seeds the random upstream gradient and directions.
        max_elements: a tensor with more elements is checked on a random sample
            of this many (plus the random-direction check over all of them).
        grad_out: the upstream gradient dL/dy to back-propagate, an array of the
            output's shape (default: a random one drawn from ``seed``). Prefer a
            random one to all ones: with all ones, a backward that forgets to multiply
            by dL/dy (returns y·(1 − y) for a Sigmoid) still passes.
        strict: also check the shape of every gradient ``f``'s backward returns as
            it returns it, before the engine sums it over broadcast axes: each must
            have its input's own shape, or the shape ``shapes_from`` returns. So a
            Linear whose dL/db is dL/dy itself (not summed over the rows) fails
            here, though the engine's broadcasting rule accepts it. ``f`` must then
            be a node.
        shapes_from: with ``strict``, a reference node (or a callable of tensors that
            applies one node) whose backward, on the same inputs, returns the expected
            raw shapes: for a node that leaves summing over broadcast axes to the engine.

    Returns:
        True when every gradient agrees.

    Raises:
        ValueError: a setting is invalid (eps must be finite and > 0, max_elements an
            int ≥ 1, seed an int ≥ 0), or an element of a checked input or parameter, or
            of f's output, is NaN or ±inf. No derivative exists to check there, so this
            is a misuse of the call (like nothing requiring grad), not a wrong backward:
            GradcheckError keeps that one meaning.
        GradcheckError: naming the input or parameter, the worst element's index,
            and the analytic and numerical values there; also when either is not finite,
            and (``strict``) a gradient returned in the wrong shape. The message shows
            the upstream gradient used, or says how to pass it back with ``grad_out=``.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> x = cg.tensor(np.random.rand(3, 4), requires_grad=True)
        >>> cg.gradcheck(cg.nodes.Sigmoid(), x)
        True
    """
    _check_settings(eps, atol, rtol, seed, max_elements)
    if strict and not isinstance(f, Node):
        raise ValueError("gradcheck: strict=True checks a node's own backward; f must be a Node")
    rng = np.random.default_rng(seed)
    with _float64(f, inputs) as (args, variables):
        if not variables:
            raise ValueError(
                "gradcheck: no input has requires_grad=True and f has no parameters, so there "
                "is nothing to check; pass the inputs to check as "
                "cg.tensor(..., requires_grad=True), or pass the Module itself "
                "(gradcheck(model, x), not gradcheck(lambda x: model(x), x)) so that its "
                "parameters are checked"
            )
        for name, variable in variables:
            _check_finite(variable.data, name, "make it finite: no step from NaN or inf is defined")
        output = f(*args)
        _check_output(output)
        upstream = _upstream(grad_out, output.shape, rng)
        returned = record_backward(output) if strict else None
        output.backward(upstream)
        probe = _Probe(f, args, upstream, eps)
        try:
            if returned is not None:
                expected = raw_gradient_shapes(shapes_from, args, upstream)
                _check_raw_shapes(type(f).__name__, args, returned, expected)
            for name, variable in variables:
                analytic = variable.grad if variable.grad is not None else np.zeros(variable.shape)
                _check_elements(probe, name, variable, analytic, rng, atol, rtol, max_elements)
                _check_direction(probe, name, variable, analytic, rng, atol, rtol)
        except GradcheckError as error:
            error.args = (f"{error.args[0]}; {_describe_upstream(upstream, grad_out, seed)}",)
            raise
    return True


def numdiff(
    f: Callable[..., Tensor],
    *inputs: Any,
    wrt: int | Tensor = 0,
    grad_out: Any = None,
    eps: float = 1e-6,
) -> NDArray[np.float64]:
    """The original notebook's ``numdiff``: numerical dL/d(wrt) for L = Σ grad_out · f(*inputs).

    Args:
        f: a node, module or callable of tensors.
        inputs: its arguments.
        wrt: the position of the input to differentiate, or a tensor (a parameter).
        grad_out: the upstream gradient dL/dy (default: all ones).
        eps: the step of the central differences; finite and > 0.

    Returns:
        An array of wrt's shape, computed in float64 (inputs are cast and restored).
        It is NaN or inf where f is not finite near the inputs.
    """
    _check_step("numdiff", eps)
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
#: An upstream gradient with at most this many elements is printed in a failure message.
PRINTED_UPSTREAM = 12


def _upstream(grad_out: Any, shape: tuple[int, ...], rng: np.random.Generator) -> NDArray[Any]:
    if grad_out is None:
        return rng.standard_normal(shape)
    upstream = np.array(getattr(grad_out, "data", grad_out), dtype=np.float64)
    if upstream.shape != shape:
        raise ValueError(
            f"gradcheck: grad_out has shape {upstream.shape} but f's output has shape {shape}"
        )
    _check_finite(upstream, "grad_out", "pass a finite upstream gradient")
    return upstream


def _describe_upstream(upstream: NDArray[Any], given: Any, seed: int) -> str:
    """The upstream gradient of a failed check, or how to pass the same one again."""
    source = "the grad_out given" if given is not None else f"random, from seed={seed}"
    if upstream.size <= PRINTED_UPSTREAM:
        values = " ".join(np.array2string(upstream, precision=6, separator=", ").split())
        return f"upstream gradient dL/dy ({source}): {values}"
    if given is None:
        source = f"np.random.default_rng({seed}).standard_normal({upstream.shape})"
    return (
        f"upstream gradient dL/dy: shape {upstream.shape}, too large to print ({source}); "
        "to rerun with it, or with one of your own, pass it as gradcheck(..., grad_out=...)"
    )


#: The gradients a node's backward returned, as it returned them (one tuple per call).
Returned = list[tuple[Any, ...]]


def record_backward(output: Tensor) -> Returned:
    """Keep what the backward of the node that made ``output`` returns, as it returns it.

    The list fills when back-propagation reaches that node: one tuple per call, with
    one entry per returned gradient (a lone array is a tuple of one), before the
    engine sums any of them over broadcast axes or checks them. Only this application
    of the node is watched (its instance attribute wraps the class's method).
    """
    returned: Returned = []
    node = output.node
    if node is None:
        return returned
    original = node.backward

    def backward(grad: NDArray[Any]) -> Any:
        result = original(grad)
        returned.append(tuple(result) if isinstance(result, (tuple, list)) else (result,))
        return result

    node.backward = backward  # type: ignore[method-assign]
    return returned


def raw_gradient_shapes(
    reference: Callable[..., Tensor] | None, args: list[Any], upstream: NDArray[Any]
) -> list[tuple[int, ...] | None]:
    """The shape each input's gradient is expected to have as its node's backward returns it.

    Each input's own shape, or, given a ``reference`` (a node, or a callable of tensors
    that applies one node to them), the raw shape that node's backward returns for
    the same inputs and ``upstream`` gradient (None where it returns none).
    """
    shapes: list[tuple[int, ...] | None] = [np.shape(getattr(a, "data", a)) for a in args]
    if reference is None:
        return shapes
    copies = [
        Tensor(a.data.copy(), requires_grad=a.requires_grad) if isinstance(a, Tensor) else a
        for a in args
    ]
    output = reference(*copies)
    node = output.node
    if node is None:
        return shapes
    positions = [next((i for i, c in enumerate(copies) if c is t), None) for t in node.inputs]
    returned = record_backward(output)
    output.backward(upstream.astype(output.dtype))
    grads = returned[0] if returned else ()
    if len(grads) == 1 and len(positions) > 1:  # the first input's gradient alone
        grads = grads + (None,) * (len(positions) - 1)
    for position, grad in zip(positions, grads, strict=False):
        if position is not None:
            shapes[position] = None if grad is None else np.shape(grad)
    return shapes


def _check_raw_shapes(
    name: str, args: list[Any], returned: Returned, expected: list[tuple[int, ...] | None]
) -> None:
    for grads in returned[:1]:
        for index, grad in enumerate(grads):
            wanted = expected[index] if index < len(expected) else None
            if grad is None or wanted is None or np.shape(grad) == wanted:
                continue
            shape = np.shape(getattr(args[index], "data", args[index]))
            also = "" if wanted == shape else f", where the reference returns {wanted}"
            raise GradcheckError(
                f"gradcheck (strict) failed for input {index}: {name}.backward returned a "
                f"gradient of shape {np.shape(grad)} for an input of shape {shape}{also}; "
                "sum it over the axes the forward broadcast (e.g. grad_out.sum(axis=0) for "
                "a bias added to every row)",
                f"input {index}",
                None,
                math.nan,
                math.nan,
            )


def _check_step(caller: str, eps: Any) -> None:
    if not (_is_real(eps) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"{caller}: eps must be a finite number > 0, got {eps!r}")


def _check_settings(eps: Any, atol: Any, rtol: Any, seed: Any, max_elements: Any) -> None:
    """ValueError naming the first invalid setting: a NaN or inf one would pass anything."""
    _check_step("gradcheck", eps)
    for name, value in (("atol", atol), ("rtol", rtol)):
        if not (_is_real(value) and math.isfinite(value) and value >= 0):
            raise ValueError(f"gradcheck: {name} must be a finite number >= 0, got {value!r}")
    if atol == 0 and rtol == 0:
        raise ValueError(
            "gradcheck: atol and rtol are both 0, an exact match that central differences "
            "never give; make one of them > 0"
        )
    for name, value, least in (("max_elements", max_elements, 1), ("seed", seed, 0)):
        if not (isinstance(value, numbers.Integral) and _is_real(value) and int(value) >= least):
            raise ValueError(f"gradcheck: {name} must be an int >= {least}, got {value!r}")


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_finite(array: NDArray[Any], what: str, fix: str) -> None:
    """ValueError naming the first NaN or inf element: no derivative can be checked there."""
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        index = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"gradcheck: {what} is {array[index]} at index {index} ({len(bad)} of {array.size} "
            f"elements are not finite); {fix}"
        )


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
    # A node holding its own parameters (the notebook's Linear): checked like a module's,
    # through Parameters that share the arrays in its ``parameters`` list.
    held = held_parameters(f) if isinstance(f, Node) else None
    held_originals = list(held or [])
    wrappers = node_parameters(f) if held else []
    parameters += [(f"parameter {i} of {type(f).__name__}", p) for i, p in enumerate(wrappers)]
    # A wrt tensor may also be one of f's parameters: cast (and restore) each tensor once.
    in_place = list({id(t): t for t in (*extra, *(tensor for _, tensor in parameters))}.values())
    saved = [(tensor, tensor.data, tensor.grad) for tensor in in_place]
    try:
        for tensor in in_place:
            tensor.data = tensor.data.astype(np.float64)  # a copy: the original stays untouched
            tensor.grad = None
        if held:  # the node computes with its list: point it at the float64 copies
            held[:] = [p.data for p in wrappers]
        yield args, variables + parameters
    finally:
        for tensor, data, grad in saved:
            tensor.data, tensor.grad = data, grad
        if held:
            held[:] = held_originals


def _check_output(output: Any) -> None:
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(output).__name__}")
    if output.dtype != np.float64:
        raise TypeError(
            f"gradcheck: f returned {output.dtype} from float64 inputs; central differences "
            "need float64 all the way through"
        )
    _check_finite(output.data, "the output of f", "pass inputs inside its domain")


@dataclass(frozen=True)
class _Probe:
    """L = Σ weights · f(*args), and its central differences as one input is perturbed."""

    f: Callable[..., Tensor]
    args: list[Any]
    weights: NDArray[Any]
    eps: float

    def loss(self) -> float:
        with no_grad():
            output = self.f(*self.args).data
        # An inf in the output makes L ±inf or NaN: the checks report it, so no warning here.
        with np.errstate(invalid="ignore", over="ignore"):
            return float(np.sum(self.weights * output))

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
    # A non-finite analytic element outside the sample is checked too, so it is named.
    indices += [tuple(index) for index in np.argwhere(~np.isfinite(analytic))[:1]]
    numerical = np.array([probe.derivative(variable, index) for index in indices])
    computed = np.array([analytic[index] for index in indices])
    not_finite = ~(np.isfinite(computed) & np.isfinite(numerical))
    if not_finite.any():
        first = int(np.argmax(not_finite))
        index = tuple(int(i) for i in indices[first])
        raise _not_finite(name, variable, index, computed[first], numerical[first])
    error = np.abs(computed - numerical)
    tolerance = atol + rtol * np.abs(numerical)
    failing = ~(error <= tolerance)  # not `error > tolerance`: a NaN must never count as close
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
    if not (math.isfinite(computed) and math.isfinite(numerical)):
        raise _not_finite(name, variable, None, computed, numerical)
    tolerance = atol * np.sqrt(variable.size) + rtol * abs(numerical)
    if not (abs(computed - numerical) <= tolerance):  # a NaN must never count as close
        raise GradcheckError(
            f"gradcheck failed for {name} (shape {variable.shape}) along a random direction: "
            f"analytic {computed:.10g} vs numerical {numerical:.10g} (|difference| "
            f"{abs(computed - numerical):.3g} > tolerance {tolerance:.3g} = atol·√size + "
            f"rtol·|numerical| with atol {atol:g}, rtol {rtol:g}, size {variable.size})",
            name,
            None,
            computed,
            numerical,
        )


def _not_finite(
    name: str, variable: Tensor, index: tuple[int, ...] | None, analytic: float, numerical: float
) -> GradcheckError:
    """The error for a NaN or inf on either side, saying which side and where to look."""
    where = "along a random direction" if index is None else f"at index {index}"
    if not (math.isfinite(analytic) or math.isfinite(numerical)):
        what = "neither the analytic gradient nor the numerical derivative is finite"
        fix = "check forward() and backward() there"
    elif not math.isfinite(analytic):
        what, fix = "the analytic gradient is not finite", "fix backward() there"
    else:
        what = "the numerical derivative is not finite"
        fix = "f is not finite within eps of the inputs; move them inside its domain"
    message = f"{what} (analytic {analytic:.10g} vs numerical {numerical:.10g}); {fix}"
    return GradcheckError(
        f"gradcheck failed for {name} (shape {variable.shape}) {where}: {message}",
        name,
        index,
        float(analytic),
        float(numerical),
    )
