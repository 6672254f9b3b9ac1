"""The command line (the training issue replaces the placeholder)."""

from __future__ import annotations

import pytest

from compgraph.cli import main


def test_train_placeholder_says_it_is_not_built_yet(capsys) -> None:
    assert main(["train"]) == 1
    assert "not built yet" in capsys.readouterr().err


def test_unknown_command_exits_with_status_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["fly"])
    assert caught.value.code == 2
