"""The random generator compgraph draws from when it is given none, and ``manual_seed``.

compgraph's style is an explicit ``numpy.random.Generator`` (or a seed) for every
random draw: ``nn.Linear(4, 2, rng=0)``, ``DataLoader(data, 64, seed=0)``. A script
ported from PyTorch instead calls ``torch.manual_seed(1)`` once and passes nothing;
:func:`manual_seed` makes that work. Every initialiser and every ``Dropout`` given
``rng=None``, and every ``DataLoader`` given ``seed=None``, draw from one global
Generator, shared and advancing as PyTorch's default generator does:

* before any ``manual_seed``, that Generator is seeded from OS entropy, so two runs
  (and two models built in one run) differ, as they always did;
* after ``manual_seed(n)``, it restarts from ``n``, so two runs of a script build
  identical models and shuffle identically.

An explicit ``rng``/``seed`` never touches the global Generator.

This module needs NumPy only, so every layer of the package may import it.

Example:
    >>> import compgraph as cg
    >>> from compgraph.random import manual_seed
    >>> _ = manual_seed(3)
    >>> first = cg.nn.Linear(4, 2).weight.numpy().copy()
    >>> _ = manual_seed(3)
    >>> bool((cg.nn.Linear(4, 2).weight.numpy() == first).all())
    True
"""

from __future__ import annotations

import numpy as np

#: The one global Generator. ``manual_seed`` resets its state in place rather than
#: replacing it, so a module that keeps it (``Dropout.rng``) follows a later seed.
_GLOBAL = np.random.default_rng()

Seed = int | np.integer | np.random.Generator | None


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the global Generator: from now on it draws as ``np.random.default_rng(seed)``.

    PyTorch's ``torch.manual_seed(seed)``; returns the global Generator (PyTorch
    returns its ``torch.Generator``).

    Raises:
        TypeError: ``seed`` is not an integer.
        ValueError: ``seed`` is negative (NumPy seeds are non-negative).
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"manual_seed takes an integer, not {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed takes a non-negative integer, not {seed}")
    _GLOBAL.bit_generator.state = np.random.PCG64(int(seed)).state
    return _GLOBAL


def generator(rng: Seed = None) -> np.random.Generator:
    """The Generator to draw from: the global one for ``None``, else ``default_rng(rng)``.

    A Generator passed in is returned as it is; an integer seeds a new one.
    """
    if rng is None:
        return _GLOBAL
    return np.random.default_rng(rng)


def independent_generator(seed: Seed = None) -> np.random.Generator:
    """A Generator of one's own: ``default_rng(seed)``, or for ``None`` a new Generator
    seeded by one draw from the global one.

    For an object that keeps and checkpoints its generator's state (``DataLoader``):
    after ``manual_seed`` it is reproducible, yet restoring its state does not rewind
    the global Generator that the model's layers share.
    """
    if seed is None:
        return np.random.default_rng(int(_GLOBAL.integers(2**63)))
    return np.random.default_rng(seed)
