"""compgraph: computation graphs and back propagation in NumPy."""

__version__ = "0.1.0"
