"""``check_node``: the autograder of the lab, checking one node class on its spec's cases.

For each case of the node's spec it runs the node in float64 and in float32 on the
spec's inputs, with a random upstream gradient (not all ones: that would not catch
a forgotten dL/dy factor), and compares what forward and backward return with the
reference (compgraph's own node, or the ``reference`` node given): the type, the
raw shape each gradient has as backward returns it, the dtype, and the values.
In float64 it also runs :func:`compgraph.gradcheck` strictly. Anything the node
raises becomes a failure of its kind in the report, never a traceback.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.gradcheck import GradcheckError, gradcheck, raw_gradient_shapes, record_backward
from compgraph.graph import BackwardError
from compgraph.node import ForwardError, InPlaceEditError, Node, ShapeError
from compgraph.tensor import Tensor
from compgraph.testing.compare import compare
from compgraph.testing.opspec import OpSpec, Shapes
from compgraph.testing.report import Failure, NodeReport
from compgraph.testing.specs import spec_for

Array = NDArray[Any]


def check_node(
    node: Node,
    spec: OpSpec | str | None = None,
    reference: Callable[..., Tensor] | None = None,
    seed: int = 0,
) -> NodeReport:
    """Check a node's forward and backward on every case of its spec; return a report.

    Args:
        node: an instance of the node class to check (``Sigmoid()``, not ``Sigmoid``).
        spec: the spec whose cases to run: an :class:`OpSpec`, or a spec's or a node
            class's name; by default the one for ``node``'s class name
            (:data:`compgraph.testing.LAB_SPECS`: Sigmoid, Softmax, CrossEntropy,
            Mean, Linear, Tanh, ReLU, SoftmaxCrossEntropy), else the first spec that
            applies a built-in node of that name.
        reference: a node (or callable of tensors) giving the expected outputs and
            gradients; by default the spec's own function, i.e. compgraph's node.
        seed: seeds the inputs and the upstream gradients.

    Returns:
        A :class:`NodeReport`: ``print(report)`` for a readable account of every
        case, ``report.passed``, ``report.failures`` (each with a ``kind`` from
        :data:`compgraph.testing.KINDS`), ``report.to_json()``.

    Raises:
        TypeError: ``node`` is a class, or not a Node.
        LookupError: no spec is known for the node.

    Example:
        >>> import compgraph as cg
        >>> cg.check_node(cg.nodes.Sigmoid()).passed
        True
    """
    if isinstance(node, type):
        raise TypeError(f"check_node takes a node instance: check_node({node.__name__}())")
    if not isinstance(node, Node):
        raise TypeError(f"check_node takes a Node instance, got {type(node).__name__}")
    chosen = spec if isinstance(spec, OpSpec) else spec_for(node if spec is None else spec)
    report = NodeReport(type(node).__name__, chosen.name)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for number, shapes in enumerate(chosen.lab_cases or chosen.cases):
            for dtype in (np.float64, np.float32):
                run = _Case(node, chosen, reference, shapes, dtype, seed + number)
                report.cases.append(run.name)
                failure = run.check()
                if failure is not None:
                    report.failures.append(failure)
    return report


def input_names(node: Node, count: int) -> list[str]:
    """The names of forward's parameters (``x``, ``W``, ``b``), else ``input 0``, ..."""
    try:
        parameters = list(inspect.signature(node.forward).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(names) < count:
        return [f"input {i}" for i in range(count)]
    return names[:count]


class _Case:
    """One case (shapes and dtype): the node's run against the reference's."""

    def __init__(
        self,
        node: Node,
        spec: OpSpec,
        reference: Callable[..., Tensor] | None,
        shapes: Shapes,
        dtype: Any,
        seed: int,
    ) -> None:
        self.node, self.spec, self.shapes, self.dtype, self.seed = node, spec, shapes, dtype, seed
        self.reference = reference if reference is not None else spec.fn
        self.names = input_names(node, len(shapes))
        self.inputs = spec.make_tensors(shapes, dtype=dtype, seed=seed)
        described = ", ".join(f"{n} {s}" for n, s in zip(self.names, shapes, strict=True))
        labels = [
            f" ({n} {t.dtype})"
            for n, t in zip(self.names, self.inputs, strict=True)
            if t.dtype.kind in "iu"
        ]
        self.name = f"{described}, {np.dtype(dtype).name}{''.join(labels)}"

    def failure(self, kind: str, stage: str, message: str, **details: Any) -> Failure:
        return Failure(kind, self.name, stage, message, **details)

    def check(self) -> Failure | None:
        # The reference, in float64 on the same values.
        expected_inputs = self.spec.make_tensors(self.shapes, seed=self.seed)
        expected_output = self.reference(*expected_inputs)
        upstream = np.random.default_rng(self.seed + 1000).standard_normal(expected_output.shape)
        expected_shapes = raw_gradient_shapes(self.reference, expected_inputs, upstream)
        expected_output.backward(upstream)

        try:
            output = self.node(*self.inputs)
        except Exception as error:  # the student's code: every error is reported
            return self.error_failure(error, "forward", None)
        failure = self.compare_output(output, expected_output.data)
        if failure is not None:
            return failure
        returned = record_backward(output)
        try:
            output.backward(upstream.astype(output.dtype))
        except Exception as error:
            return self.error_failure(error, "backward", returned)
        failure = self.check_returned(returned[0], expected_shapes)
        if failure is not None:
            return failure
        for name, tensor, wanted in zip(self.names, self.inputs, expected_inputs, strict=True):
            if tensor.requires_grad:
                failure = self.compare_values("backward", tensor.grad, wanted.grad, name)
                if failure is not None:
                    return failure
        if self.dtype == np.float64:
            return self.gradcheck(upstream)
        return None

    def gradcheck(self, upstream: Array) -> Failure | None:
        inputs = self.spec.make_tensors(self.shapes, seed=self.seed)
        try:
            gradcheck(
                self.node, *inputs, grad_out=upstream, strict=True, shapes_from=self.reference
            )
        except GradcheckError as error:
            kind = "wrong shape" if "strict" in str(error) else "wrong values"
            return self.failure(kind, "gradcheck", str(error))
        except Exception as error:
            return self.error_failure(error, "gradcheck", None)
        return None

    def compare_output(self, output: Tensor, expected: Array) -> Failure | None:
        data = output.data
        if data.shape != expected.shape:
            return self.failure(
                "wrong shape",
                "forward",
                "the output has the wrong shape",
                got=f"shape {data.shape}",
                expected=f"shape {expected.shape}",
            )
        if self.spec.keeps_dtype and data.dtype != self.dtype:
            return self.failure(
                "wrong dtype",
                "forward",
                f"the output is {data.dtype} for {np.dtype(self.dtype).name} inputs; compute "
                "in the inputs' dtype (np.ones(shape), np.zeros(shape) and np.eye(n) are "
                "float64 unless given dtype=)",
                got=str(data.dtype),
                expected=np.dtype(self.dtype).name,
            )
        return self.compare_values("forward", data, expected, None)

    def compare_values(
        self, stage: str, got: Array | None, expected: Array | None, name: str | None
    ) -> Failure | None:
        if got is None or expected is None:
            return None
        found = compare(got, expected, self.dtype, [t.size for t in self.inputs])
        if found is None:
            return None
        kind, message, details = found
        what = "the output" if name is None else f"dL/d{name}"
        return self.failure(kind, stage, f"{what} {message}", input=name, **details)

    def check_returned(
        self, grads: tuple[Any, ...], expected_shapes: list[tuple[int, ...] | None]
    ) -> Failure | None:
        """The gradients as backward returned them: their count, type, shape and dtype."""
        count = len(self.inputs)
        needed = [t.requires_grad for t in self.inputs]
        if len(grads) == 1 and count > 1 and needed[1:] == [False] * (count - 1):
            grads = grads + (None,) * (count - 1)  # the first input's gradient alone
        if len(grads) != count:
            return self.failure(
                "wrong type",
                "backward",
                f"backward returned {len(grads)} gradient(s) for {count} inputs "
                f"({', '.join(self.names)}); return one per input, in their order",
                got=f"{len(grads)} gradient(s)",
                expected=f"{count}, one per input",
            )
        for name, grad, tensor, wanted, need in zip(
            self.names, grads, self.inputs, expected_shapes, needed, strict=True
        ):
            if not need:
                continue
            if grad is None:
                return self.failure(
                    "missing return",
                    "backward",
                    f"backward returned None for {name}, which needs a gradient",
                    input=name,
                    got="None",
                    expected=f"an array of shape {tensor.shape}",
                )
            if not isinstance(grad, (np.ndarray, np.generic)):
                kind = "a Tensor" if isinstance(grad, Tensor) else f"a {type(grad).__name__}"
                return self.failure(
                    "wrong type",
                    "backward",
                    f"backward returned {kind} for {name}; return a NumPy array"
                    + (
                        " (compute with the arrays, not Tensors)"
                        if isinstance(grad, Tensor)
                        else ""
                    ),
                    input=name,
                    got=kind,
                    expected=f"a NumPy array of shape {tensor.shape}",
                )
            shape = wanted if wanted is not None else tensor.shape
            if np.shape(grad) != shape:
                hint = ""
                if np.ndim(grad) > len(shape):
                    hint = "; sum it over the axes the forward broadcast (the rows: .sum(axis=0))"
                return self.failure(
                    "wrong shape",
                    "backward",
                    f"the gradient for {name} has shape {np.shape(grad)}; it must have the "
                    f"shape of {name}, {shape}{hint}",
                    input=name,
                    got=f"shape {np.shape(grad)}",
                    expected=f"shape {shape}",
                )
            if grad.dtype != tensor.dtype:
                return self.failure(
                    "wrong dtype",
                    "backward",
                    f"the gradient for {name} is {grad.dtype} but {name} is {tensor.dtype}; "
                    "compute it in the input's dtype (np.ones(shape) and np.full(shape, v) "
                    f"are float64 unless given dtype=, e.g. dtype={name}.dtype)",
                    input=name,
                    got=str(grad.dtype),
                    expected=str(tensor.dtype),
                )
        return None

    def error_failure(
        self, error: Exception, stage: str, returned: list[tuple[Any, ...]] | None
    ) -> Failure:
        """The failure for an exception the node raised (or the engine, about the node)."""
        message = f"{type(error).__name__}: {error}"
        if isinstance(error, BackwardError) and returned:
            found = self.check_returned(returned[0], [None] * len(self.inputs))
            if found is not None:
                return found
        if isinstance(error, InPlaceEditError):
            return self.failure("in-place edit", stage, message)
        if isinstance(error, (ForwardError, BackwardError)):
            missing = "returned None" in str(error) or "forget `return`" in str(error)
            return self.failure("missing return" if missing else "wrong type", stage, message)
        if isinstance(error, ShapeError) or (
            isinstance(error, ValueError) and ("shape" in str(error) or "broadcast" in str(error))
        ):
            return self.failure("wrong shape", stage, message)
        return self.failure("exception", stage, message)
