"""Arithmetic as Bold's JavaScript engine does it (pricing-engine.md §5).

``js_round`` is ``Math.round``: the nearest integer, halves toward +∞ (so −100.5 → −100, not
−101 as Python's ``round`` or "half away from zero" would give). Divisions are IEEE doubles, as
in JavaScript: Python's ``int / int`` is the correctly rounded double of the exact quotient, the
same value JavaScript computes from the (exactly representable) integer operands.
"""

from __future__ import annotations

import math


def js_round(x: float) -> int:
    """JavaScript's ``Math.round``: nearest integer, ties toward +∞."""
    if isinstance(x, int):
        return x
    floor = math.floor(x)
    # x - floor is exact for doubles of this magnitude, so 0.49999999999999994 stays below a half
    # (where floor(x + 0.5) would wrongly give 1).
    return floor + 1 if x - floor >= 0.5 else floor


def whole(x: float) -> int:
    """A price that may have become fractional, back to whole cents.

    ``assumptions.ASSUME_FRACTIONS_ROUNDED_PER_ACTION``: with ``Math.round``.
    """
    return x if isinstance(x, int) else js_round(x)
