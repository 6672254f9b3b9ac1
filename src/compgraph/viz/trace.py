"""The backward pass as text: every node the engine runs, what reached it, what it returned.

``loss.backward(trace=True)`` prints it; :func:`trace_backward` prints it and returns
it. For each node, in the order the engine runs them (#1 is the node that computed the
loss, numbered as ``draw_graph(loss, order=True)`` numbers the boxes): dL/dy, the
gradient that arrived at its output, and dL/dx, the gradient it returned for each of its
inputs, brought to that input's shape. A tensor of at most 12 elements is written out
in full, each number to four significant digits, so that the arithmetic can be redone
by hand; a larger one as its mean, standard deviation, minimum and maximum. Where a
tensor feeds several nodes, each of its parts is marked (part 1 of 2) and the last one
shows the sum, its gradient. A node that holds its own parameters (the notebook's
Linear) also shows its ``parameters_deltas``.

The trace is a :class:`~compgraph.graph.Recorder`, as the explorer's recording is: a
plain ``backward()`` records nothing and costs nothing extra.
"""

from __future__ import annotations

import enum
import sys
from typing import TYPE_CHECKING, Any, TextIO

from compgraph import graph
from compgraph.tensor import Tensor
from compgraph.viz.graph import backward_steps, describe_box, module_names
from compgraph.viz.summary import format_shape, summary_lines
from compgraph.viz.walk import GraphReleasedError, topological_order

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from compgraph.nn.module import Module

#: How far the lines under a step are indented.
INDENT = "    "


class _Default(enum.Enum):
    STDOUT = "sys.stdout"


#: ``file``'s default: whatever ``sys.stdout`` is when a line is printed, not when this
#: module was imported (a notebook, pytest's capsys and contextlib.redirect_stdout replace it).
STDOUT = _Default.STDOUT


def trace_backward(
    loss: Tensor,
    grad: Any = None,
    retain_graph: bool = False,
    retain_grads: bool = False,
    model: Module | None = None,
    file: TextIO | _Default | None = STDOUT,
) -> str:
    """Run ``loss.backward(grad, ...)``, printing every step, and return the text printed.

    Afterwards every leaf's ``.grad`` is exactly what ``loss.backward(grad, ...)``
    leaves. Each step is printed as soon as its node has run, so a backward pass that
    fails part-way shows how far it came.

    Args:
        loss: the tensor to back-propagate from (usually the loss), its graph alive.
        grad: dL/d(loss), as for ``backward``; 1 for a one-element tensor if omitted.
        retain_graph, retain_grads: as for ``backward``.
        model: the model that computed ``loss``; names parameters by their dotted
            paths (``0.weight``), as ``draw_graph`` does.
        file: where to print, ``sys.stdout`` unless given; None prints nothing (the text
            is still returned).

    Example:
        >>> import compgraph as cg
        >>> from compgraph import viz
        >>> x = cg.tensor([1.0, 2.0], requires_grad=True, name="x")
        >>> text = viz.trace_backward((x * x).sum(), file=None)
        >>> print(text)
        backward of Sum (scalar): 2 nodes, in the order the engine runs them
        #1 Sum, output scalar
            dL/dy = 1
            → input 0, Mul (2,): dL/dx = [1, 1]
        #2 Mul, output (2,)
            dL/dy = [1, 1]
            → input 0, x (2,): dL/dx = [1, 2]   (part 1 of 2)
            → input 1, x (2,): dL/dx = [1, 2]   (part 2 of 2)
                the 2 parts summed: [2, 4]
        .grad filled: x (2,)

    Raises:
        GraphReleasedError: ``backward()`` already released the graph.
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"trace_backward() takes a tensor, not a {type(loss).__name__}")
    if loss.node is None:  # a leaf: nothing to run, and nothing the graph could name
        graph.backward(loss, grad, retain_graph=retain_graph, retain_grads=retain_grads)
        text = f"backward of a leaf ({format_shape(loss.shape)}): no node to run; .grad += dL/dy"
        return _emit(text, file)
    try:
        tensors = topological_order(loss)
    except GraphReleasedError as error:
        raise GraphReleasedError(
            "trace_backward(loss) runs the backward pass itself, and this loss's graph was "
            "already released by backward(): compute the loss again and call "
            "loss.backward(trace=True) instead"
        ) from error
    trace = Trace(tensors, model, file)
    trace.start(loss)
    graph.backward(loss, grad, retain_graph=retain_graph, retain_grads=retain_grads, recorder=trace)
    trace.finish()
    return "\n".join(trace.lines)


def _emit(text: str, file: TextIO | _Default | None) -> str:
    if file is STDOUT:
        file = sys.stdout
    if file is not None:
        print(text, file=file, flush=True)
    return text


class Trace:
    """The recorder behind :func:`trace_backward`: writes each step as the engine runs it.

    Everything it names is worked out before the backward pass starts, since the
    engine releases each node once it has run.
    """

    def __init__(
        self, tensors: list[Tensor], model: Module | None, file: TextIO | _Default | None
    ) -> None:
        self.file = file
        self.lines: list[str] = []
        names = module_names(tensors, model)
        self.titles: dict[int, str] = {}  # each tensor's name in the trace
        self.headers: dict[int, str] = {}  # each node's first line, by its output tensor
        self.uses: dict[int, int] = {}  # how many node inputs each tensor is
        self.parts: dict[int, int] = {}  # of those, how many have sent back a gradient
        self.sums: dict[int, NDArray[Any]] = {}  # and their sum so far, where there are several
        self.ran: set[int] = set()  # the nodes run so far, by their output tensor
        self.held: dict[int, int] = {}  # applications run so far, per parameter-holding node
        self.holders: dict[int, str] = {}  # and its class
        self.applications: dict[int, int] = {}  # of each parameter-holding node instance
        self.leaves: dict[int, Tensor] = {}
        steps = backward_steps(tensors)
        for t in tensors:
            _, title, module = describe_box(t, names)
            self.titles[id(t)] = title
            node = t.node
            if node is None:
                continue
            where = f" [in {module}]" if module else ""
            self.headers[id(t)] = f"#{steps[id(t)]} {title}{where}, output {_shape(t)}"
            for source in node.inputs:
                self.uses[id(source)] = self.uses.get(id(source), 0) + 1
                if source.node is None and source.requires_grad:
                    self.leaves[id(source)] = source
            template = node.__dict__.get("_template")
            if template is not None:
                self.applications[id(template)] = self.applications.get(id(template), 0) + 1
                # cg.node_parameters(template): Parameters whose .grad the engine fills too.
                held = template.__dict__.get("_parameter_tensors") or []
                for index, parameter in enumerate(held):
                    self.leaves[id(parameter)] = parameter
                    holder = f"{type(template).__name__}.parameters[{index}]"
                    self.titles[id(parameter)] = parameter.name or holder
        self.count = len(steps)

    def write(self, *lines: str) -> None:
        self.lines.extend(lines)
        _emit("\n".join(lines), self.file)

    def start(self, loss: Tensor) -> None:
        nodes = f"{self.count} node{'s' if self.count != 1 else ''}"
        title = self.titles[id(loss)]
        self.write(f"backward of {title} ({format_shape(loss.shape)}): {nodes}, "
                   "in the order the engine runs them")  # fmt: skip

    def step(self, output: Tensor, grad: NDArray[Any], leaving: list[graph.Leaving]) -> None:
        """The engine ran ``output``'s node: ``grad`` arrived, ``leaving`` went to its inputs."""
        node = output.node
        assert node is not None  # the engine releases a node only after this call
        self.ran.add(id(output))
        lines = [self.headers[id(output)], *_valued(INDENT + "dL/dy = ", grad)]
        sent = {index: gradient for index, _, gradient, _ in leaving}
        for index, source in enumerate(node.inputs):
            where = f"{INDENT}→ input {index}, {self.titles[id(source)]} {_shape(source)}: "
            if index not in sent:
                why = "needs none" if not node.needs_input_grad[index] else "returned None"
                lines.append(f"{where}no gradient ({why})")
                continue
            gradient = sent[index]
            uses = self.uses[id(source)]
            if uses == 1:
                lines += _valued(f"{where}dL/dx = ", gradient)
                continue
            # The engine's own sum of the parts, in its order (a leaf's .grad would also
            # hold what earlier backward() calls left there).
            self.parts[id(source)] = part = self.parts.get(id(source), 0) + 1
            previous = self.sums.get(id(source))
            total = self.sums[id(source)] = gradient if previous is None else previous + gradient
            lines += _valued(f"{where}dL/dx = ", gradient, f"   (part {part} of {uses})")
            if part == uses:
                lines += _valued(f"{INDENT * 2}the {uses} parts summed: ", total)
        lines += self._held(node)
        self.write(*lines)

    def _held(self, node: Any) -> list[str]:
        """The parameters_deltas of a node holding its own parameters (the notebook's Linear)."""
        template = node.__dict__.get("_template")
        if template is None:
            return []
        # The engine has just checked them and left on the instance their sums over the
        # applications of this node run so far in this pass.
        deltas = template.__dict__.get("parameters_deltas") or []
        applied = self.applications[id(template)]
        self.held[id(template)] = seen = self.held.get(id(template), 0) + 1
        self.holders[id(template)] = type(template).__name__
        note = ""
        if applied > 1:
            counted = "1" if seen == 1 else f"1 to {seen}, summed"
            note = f"   (application{'s' if seen > 1 else ''} {counted}, of {applied})"
        lines: list[str] = []
        for index, delta in enumerate(deltas):
            where = f"{INDENT}→ parameters_deltas[{index}] {format_shape(delta.shape)}: "
            lines += _valued(where, delta, note)
        return lines

    def finish(self) -> None:
        lines = []
        idle = [header.split(",")[0] for key, header in self.headers.items() if key not in self.ran]
        if idle:  # every path to them returned None: the engine skips such nodes
            lines.append(f"not run, as no gradient reached them: {', '.join(idle)}")
        filled = [f"{self.titles[key]} {_shape(leaf)}" for key, leaf in self.leaves.items()
                  if leaf._grad is not None]  # fmt: skip
        lines.append(f".grad filled: {', '.join(filled) if filled else 'none'}")
        if self.held:
            holders = ", ".join(sorted(set(self.holders.values())))
            lines.append(f"parameters_deltas left on the nodes that hold parameters: {holders}")
        self.write(*lines)


def _shape(t: Tensor) -> str:
    shape = format_shape(t.shape)
    return shape if t.dtype.kind == "f" else f"{shape} {t.dtype}"


def _valued(prefix: str, array: NDArray[Any], suffix: str = "") -> list[str]:
    """``prefix`` and the array's values (or summary); the rows of a matrix aligned under."""
    rows = summary_lines(array, extremes=True)
    lines = [prefix + rows[0], *(" " * len(prefix) + row for row in rows[1:])]
    lines[-1] += suffix
    return lines
