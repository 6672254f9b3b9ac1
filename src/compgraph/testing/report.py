"""What :func:`compgraph.check_node` found: one entry per case, and the failures with their kind."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

#: Every failure's ``kind`` is one of these.
KINDS = (
    "missing return",  # forward or backward returned None (a forgotten `return`)
    "wrong type",  # a list, a Tensor, or the wrong number of gradients
    "wrong shape",  # an output or gradient of the wrong shape (as backward returns it)
    "wrong dtype",  # float64 from float32 inputs (np.ones(shape) is float64), or integers
    "in-place edit",  # forward wrote into an input, or backward into grad_out
    "off by a constant factor",  # right up to one factor: −1, 2, N (a missing 1/N), ...
    "wrong values",  # the first wrong element is named, with what was expected there
    "exception",  # any other error the node raised (its type and message are given)
)


@dataclass(frozen=True)
class Failure:
    """One case the node got wrong.

    Attributes:
        kind: one of :data:`KINDS`.
        case: the case, e.g. ``"x (3, 4), float32"``.
        stage: ``"forward"``, ``"backward"`` or ``"gradcheck"`` (numerical differentiation).
        message: a sentence saying what is wrong and, where it can, what to do.
        input: the input whose gradient is wrong (its name in the node's forward), if any.
        got: what the node returned (a shape, a dtype, a value), in words.
        expected: what was expected instead.
        index: the first wrong element's index, for ``"wrong values"``.
        factor: the constant factor, for ``"off by a constant factor"``.
    """

    kind: str
    case: str
    stage: str
    message: str
    input: str | None = None
    got: str | None = None
    expected: str | None = None
    index: tuple[int, ...] | None = None
    factor: float | None = None

    def __str__(self) -> str:
        where = self.stage + (f", gradient for {self.input}" if self.input else "")
        lines = [f"{self.kind} in {where}: {self.message}"]
        if self.got is not None:
            lines.append(f"    returned: {self.got}")
        if self.expected is not None:
            lines.append(f"    expected: {self.expected}")
        return "\n".join(lines)


@dataclass
class NodeReport:
    """The result of :func:`compgraph.check_node`.

    ``print(report)`` lists every case with ``ok`` or what went wrong; ``report.passed``
    is True when every case passed; ``report.failures`` lists the :class:`Failure`
    objects (at most one per case: the first thing wrong); ``report.to_json()`` gives
    the same as a JSON string, for grading a class.

    Attributes:
        node: the class name of the node checked.
        spec: the name of the spec whose cases were run.
        cases: every case run, in order (shapes and dtype, as text).
        failures: what went wrong, in the order of the cases.
    """

    node: str
    spec: str
    cases: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.cases) and not self.failures

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        failed = {failure.case: failure for failure in self.failures}
        verdict = "passes" if self.passed else f"FAILS {len(failed)} of {len(self.cases)} cases"
        lines = [f"check_node({self.node}), cases of spec {self.spec!r}: {verdict}"]
        for case in self.cases:
            failure = failed.get(case)
            if failure is None:
                lines.append(f"  ok    {case}")
                continue
            detail = str(failure).replace("\n", "\n        ")
            lines.append(f"  FAIL  {case}\n        {detail}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        state = "passed" if self.passed else f"{len(self.failures)} failure(s)"
        return f"<NodeReport {self.node}: {state} in {len(self.cases)} cases>"

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data: node, spec, passed, cases and failures (each a dict)."""
        failures = []
        for failure in self.failures:
            entry = asdict(failure)
            entry["index"] = None if failure.index is None else list(failure.index)
            failures.append(entry)
        failed = {failure.case for failure in self.failures}
        return {
            "node": self.node,
            "spec": self.spec,
            "passed": self.passed,
            "cases": [{"case": case, "passed": case not in failed} for case in self.cases],
            "failures": failures,
        }

    def to_json(self, indent: int | None = None) -> str:
        """:meth:`to_dict` as a JSON string (``json.loads`` gives the dict back)."""
        return json.dumps(self.to_dict(), indent=indent)
