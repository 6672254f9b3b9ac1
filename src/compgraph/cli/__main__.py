"""``python -m compgraph.cli``: the ``compgraph`` command."""

import sys

from compgraph.cli import main

sys.exit(main())
