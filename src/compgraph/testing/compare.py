"""Compare what a node returned with what was expected, and say how they differ."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]

#: (rtol, atol relative to the largest expected magnitude) for each dtype.
TOLERANCES = {np.dtype(np.float64): (1e-6, 1e-8), np.dtype(np.float32): (2e-4, 2e-5)}


def compare(
    got: Array, expected: Array, dtype: Any, sizes: list[int]
) -> tuple[str, str, dict[str, Any]] | None:
    """None when ``got`` matches ``expected`` to ``dtype``'s precision; else the failure's
    kind, message and details (``got``, ``expected``, ``index`` or ``factor``).

    A difference by one constant factor (−1, 2, N...) is reported as such; ``sizes`` are
    the inputs' element counts, named when the factor is one of them (a missing 1/N).
    """
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    rtol, atol = TOLERANCES.get(np.dtype(dtype), TOLERANCES[np.dtype(np.float64)])
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    close = np.isclose(got, expected, rtol=rtol, atol=atol * scale)
    if close.all():
        return None
    factor = _constant_factor(got, expected, rtol, atol * scale)
    if factor is not None:
        return (
            "off by a constant factor",
            f"is {_factor_text(factor, sizes)} times what it should be",
            {"factor": factor, "got": _summary(got), "expected": _summary(expected)},
        )
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    wrong = int((~close).sum())
    at = f"at index {index}" if index else "(a single value)"
    return (
        "wrong values",
        f"is wrong {at}{f' ({wrong} of {got.size} elements wrong)' if got.size > 1 else ''}",
        {"index": index, "got": f"{got[index]:.6g}", "expected": f"{expected[index]:.6g}"},
    )


def _constant_factor(got: Array, expected: Array, rtol: float, atol: float) -> float | None:
    """The constant c with got ≈ c · expected everywhere, if there is one (c ≠ 1)."""
    significant = np.abs(expected) > max(atol, 1e-12) * 10
    if not significant.any() or not np.isfinite(got).all():
        return None
    factor = float(np.median(got[significant] / expected[significant]))
    if not np.isfinite(factor) or factor == 0 or np.isclose(factor, 1.0, rtol=rtol):
        return None
    if not np.allclose(got, factor * expected, rtol=rtol, atol=atol):
        return None
    # One value is always some multiple of the other: a factor is named there only
    # when it is a plain one (±n or ±1/n), not any ratio.
    if significant.sum() == 1 and _plain(factor) is None:
        return None
    return factor


def _plain(factor: float) -> str | None:
    """'-1', '3' or '1/3' when the factor is (close to) ±n or ±1/n for n ≤ 10,000."""
    sign = "-" if factor < 0 else ""
    magnitude = abs(factor)
    for value, text in ((magnitude, "{}"), (1 / magnitude, "1/{}")):
        whole = round(value)
        if 1 <= whole <= 10_000 and abs(value - whole) <= 1e-6 * whole:
            return sign + text.format(whole)
    return None


def _factor_text(factor: float, sizes: list[int]) -> str:
    plain = _plain(factor)
    if plain == "-1":
        return "-1 (the sign is wrong)"
    text = plain if plain is not None else f"{factor:.6g}"
    magnitude = round(abs(factor)) if plain is not None and "/" not in plain else None
    if magnitude is not None and magnitude in sizes and magnitude > 1:
        text += f" (= N, the number of elements: a missing 1/{magnitude}?)"
    return text


def _summary(array: Array) -> str:
    """A short text of an array: the values when few, else its first few."""
    flat = array.reshape(-1)
    shown = np.array2string(flat[:6], precision=5, separator=", ")
    more = f" ... ({array.size} values, shape {array.shape})" if array.size > 6 else ""
    return shown + more
