"""Datasets: the IDX format, MNIST and Fashion-MNIST, and batching."""
