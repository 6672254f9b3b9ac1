"""The command line's top level."""

from __future__ import annotations

import pytest

from compgraph.cli import main


def test_unknown_command_exits_with_status_2(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["fly"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_help_lists_the_commands(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    help_text = capsys.readouterr().out
    assert "train" in help_text and "eval" in help_text
