"""``compgraph lab DIR``: the student's notebook and its solutions (see :mod:`compgraph.lab`)."""

from __future__ import annotations

import argparse

from compgraph.lab import write_lab


def lab_command(args: argparse.Namespace) -> int:
    student, solutions = write_lab(args.folder, overwrite=args.overwrite)
    print(f"wrote {student}: the backward passes to write, each checked by cg.check_node")
    print(f"wrote {solutions}: the same notebook, solved (for the teacher)")
    print(f"open it with: jupyter lab {student}  (pip install 'compgraph[notebook]')")
    return 0
