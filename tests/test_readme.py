"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:  # later blocks use names from earlier ones, as a reader would
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["layer"].weight.grad.shape == (784, 10)
    assert namespace["report"].passed  # the README's Sigmoid passes check_node


def test_every_row_of_coming_from_pytorch_names_a_test_that_exists() -> None:
    text = README.read_text()
    section = text.split("## Coming from PyTorch", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 20
    folder = README.parent / "tests"
    files = [*folder.glob("test_*pytorch*.py"), folder / "test_torch_port.py"]
    tests = "".join(path.read_text() for path in [*files, folder / "test_optim.py"])
    for row in rows:
        named = re.findall(r"`(test_\w+)`", row.rsplit("|", 2)[-2])
        assert named, f"a row of 'Coming from PyTorch' names no test: {row}"
        for test in named:
            assert f"def {test}(" in tests, f"{test} (README) is not a test"
