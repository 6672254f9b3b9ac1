"""Pictures: computation graphs drawn with Graphviz, the explorer, the backward trace,
and figures of mistakes.

>>> import compgraph as cg
>>> from compgraph import viz
>>> x = cg.tensor([1.0, 2.0], requires_grad=True, name="x")
>>> y = (x * x).sum()
>>> graph = viz.draw_graph(y)  # a graphviz.Digraph; a notebook cell displays it
>>> graph.source.splitlines()[0]
'digraph compgraph {'
>>> viz.render(graph, "graph.svg")  # doctest: +SKIP
>>> text = viz.trace_backward(y, file=None)  # y.backward(), each step written down
>>> print(text.splitlines()[0])  # loss.backward(trace=True) prints the whole text
backward of Sum (scalar): 2 nodes, in the order the engine runs them

Graphviz is optional: ``pip install graphviz`` for the Python package and
``apt-get install graphviz`` (or ``brew install graphviz``) for the ``dot``
program that lays the graph out. The figures need matplotlib.
"""

from compgraph.viz.dot import (
    INSTALL_HINT,
    DotGraph,
    RendererMissingError,
    has_renderer,
    render,
)
from compgraph.viz.explorer import Explorer, ExplorerError, explore
from compgraph.viz.graph import draw_graph
from compgraph.viz.summary import summarize
from compgraph.viz.trace import trace_backward
from compgraph.viz.walk import GraphReleasedError, retain_grads, topological_order

__all__ = [
    "INSTALL_HINT",
    "DotGraph",
    "Explorer",
    "ExplorerError",
    "GraphReleasedError",
    "RendererMissingError",
    "draw_graph",
    "explore",
    "has_renderer",
    "render",
    "retain_grads",
    "summarize",
    "topological_order",
    "trace_backward",
]
