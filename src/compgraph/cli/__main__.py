"""``python -m compgraph.cli``: the ``compgraph`` command."""

from compgraph.cli import run

run()
