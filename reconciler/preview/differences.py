"""What changed between the two sides: the cart lines and carts whose price differs.

``compare`` walks the carts priced under the live and the planned rules line by line; a
``CartChange`` (with its ``LineChange`` lines) is what the plan shows, as text and as the plan
document's ``preview.carts[]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler import carts, pricing
from reconciler.preview import naming


@dataclass(frozen=True)
class LineChange:
    """One cart line whose unit price differs between the live and the planned rules."""

    index: int
    sku: str
    quantity: int
    before: int
    after: int
    why_before: str
    why_after: str

    @property
    def percent(self) -> float | None:
        """The change of the unit price in percent of the live one (None from 0)."""
        if self.before == 0:
            return None
        return 100.0 * (self.after - self.before) / self.before

    def text(self) -> str:
        """``SKU-1 ×3: 25.00 → 12.50 by [this app] sale > gold (was [other apps] x > y)``."""
        was = (
            f" (was {self.why_before})"
            if self.why_before not in ("no rule", self.why_after)
            else ""
        )
        return (
            f"{self.sku} ×{self.quantity}: {carts.money(self.before)} → "
            f"{carts.money(self.after)} by {self.why_after}{was}"
        )

    def as_json(self) -> dict[str, Any]:
        """The line as the plan document's ``preview.carts[].lines[]``."""
        return {
            "index": self.index,
            "sku": self.sku,
            "quantity": self.quantity,
            "before": self.before,
            "after": self.after,
            "why_before": self.why_before,
            "why_after": self.why_after,
        }


@dataclass(frozen=True)
class CartChange:
    """One cart whose total or some line differs between the live and the planned rules."""

    name: str
    origin: str
    before: int
    after: int
    lines: tuple[LineChange, ...]

    @property
    def change(self) -> str:
        """``-12.50 (-25.0%)``."""
        diff = self.after - self.before
        text = ("+" if diff > 0 else "") + carts.money(diff)
        if self.before:
            text += f" ({'+' if diff > 0 else ''}{100.0 * diff / self.before:.1f}%)"
        return text

    @property
    def why(self) -> str:
        """Each changed line: ``SKU-1 ×3: 25.00 → 12.50 by [this app] sale > gold``."""
        return "; ".join(line.text() for line in self.lines) or "cart-level discounts changed"

    def as_json(self) -> dict[str, Any]:
        """The cart as the plan document's ``preview.carts[]``."""
        return {
            "name": self.name,
            "origin": self.origin,
            "before": self.before,
            "after": self.after,
            "lines": [line.as_json() for line in self.lines],
        }


def compare(
    samples: Sequence[carts.SampleCart],
    before: Sequence[pricing.CartPrice],
    after: Sequence[pricing.CartPrice],
) -> list[CartChange]:
    """The carts whose total or some line price differs, line by line."""
    changed = []
    for sample, old, new in zip(samples, before, after, strict=True):
        lines = tuple(
            LineChange(
                a.index,
                naming.sku(a),
                a.item.quantity,
                a.unit_price,
                b.unit_price,
                naming.why(a),
                naming.why(b),
            )
            for a, b in zip(old.lines, new.lines, strict=True)
            if a.unit_price != b.unit_price
        )
        if lines or old.total != new.total:
            changed.append(CartChange(sample.name, sample.origin, old.total, new.total, lines))
    return changed
