"""What the evaluator answers: each line's price and why, and the cart's total.

A ``Step`` is one rule that changed (or held) a price: its layer, which rule of which ruleset of
which app, the price before and after, the conditions taken as met because only checkout can
judge them, and the actions left to checkout. ``LinePrice`` and ``CartPrice`` read the story
back in the terms a reviewer asks about (the winner, the stacked rules, the discount code) and
give it as plain JSON-ready dicts (``as_json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.pricing import carts, inputs

#: The layer whose winner is "the" discount of a line (§3): ``DISCOUNT`` / ``DISCOUNT_CODE``.
DISCOUNT_LAYER = 2
BASE_LAYER = 0
CART_LAYER = 4


@dataclass(frozen=True)
class RuleRef:
    """Which rule: its app, its ruleset's and its own external ids (and server ids, if any)."""

    app: str
    ruleset: str | None
    rule: str | None
    type: str
    public_name: str = ""
    ruleset_id: int | None = None
    rule_id: int | None = None

    def __str__(self) -> str:
        """``spring-sale > gold-half-off`` (with ``[app]`` in front when the app is known)."""
        ruleset = self.ruleset if self.ruleset is not None else f"#{self.ruleset_id}"
        rule = self.rule if self.rule is not None else f"#{self.rule_id}"
        prefix = f"[{self.app}] " if self.app else ""
        return f"{prefix}{ruleset} > {rule}"


@dataclass(frozen=True)
class Step:
    """One rule applied: to a unit price (layers 0-3) or to the cart subtotal (layer 4)."""

    layer: int
    source: RuleRef
    before: int
    after: int
    assumed: tuple[inputs.Condition, ...] = ()
    at_checkout: tuple[inputs.Action, ...] = ()
    discount_code: str | None = None  # the code, when the rule is a DISCOUNT_CODE rule

    def as_json(self) -> dict[str, Any]:
        """``{"layer", "app", "ruleset", "rule", "type", "before", "after"}``."""
        return {
            "layer": self.layer,
            "app": self.source.app,
            "ruleset": self.source.ruleset,
            "rule": self.source.rule,
            "type": self.source.type,
            "before": self.before,
            "after": self.after,
        }


def _assumed(steps: tuple[Step, ...]) -> list[dict[str, Any]]:
    return [
        {"ruleset": s.source.ruleset, "rule": s.source.rule, "condition": c.describe()}
        for s in steps
        for c in s.assumed
    ]


def _at_checkout(steps: tuple[Step, ...]) -> list[dict[str, Any]]:
    return [
        {"ruleset": s.source.ruleset, "rule": s.source.rule, "action": a.describe()}
        for s in steps
        for a in s.at_checkout
    ]


@dataclass(frozen=True)
class LinePrice:
    """One cart line priced: the final unit price, the line total, and every step taken."""

    index: int
    item: carts.LineItem
    unit_price: int
    steps: tuple[Step, ...]

    @property
    def line_total(self) -> int:
        """The final unit price × quantity (§5)."""
        return self.unit_price * self.item.quantity

    def _layer(self, layer: int) -> Step | None:
        return next((s for s in self.steps if s.layer == layer), None)

    @property
    def winner(self) -> Step | None:
        """The layer-2 winner (the ``DISCOUNT`` or ``DISCOUNT_CODE`` rule that applied)."""
        return self._layer(DISCOUNT_LAYER)

    @property
    def base(self) -> Step | None:
        """The layer-0 winner (a ``BASE_PRICE`` rule), if any."""
        return self._layer(BASE_LAYER)

    @property
    def stacked(self) -> tuple[Step, ...]:
        """The rules of the stacked layers (1 and 3) that applied, in order."""
        return tuple(s for s in self.steps if s.layer in (1, 3))

    @property
    def discount_code(self) -> str | None:
        """The discount code whose rule won layer 2, if one did."""
        winner = self.winner
        return winner.discount_code if winner is not None else None

    @property
    def promotion(self) -> str | None:
        """The winner's ruleset ``public_name``: the promotion message shoppers see (§3)."""
        winner = self.winner
        return winner.source.public_name if winner is not None else None

    @property
    def assumed(self) -> tuple[tuple[RuleRef, inputs.Condition], ...]:
        """Conditions taken as met (checkout judges them) by the rules that applied."""
        return tuple((s.source, c) for s in self.steps for c in s.assumed)

    @property
    def at_checkout(self) -> tuple[tuple[RuleRef, inputs.Action], ...]:
        """Actions of the applied rules that checkout carries out."""
        return tuple((s.source, a) for s in self.steps for a in s.at_checkout)

    def as_json(self) -> dict[str, Any]:
        """The line as ``boldrules price --format json`` gives it (issue 14)."""
        winner = self.winner
        by_code = winner is not None and winner.discount_code is not None
        return {
            "sku": self.item.sku,
            "quantity": self.item.quantity,
            "price": self.item.price,
            "unit_price": self.unit_price,
            "line_total": self.line_total,
            "app": winner.source.app if winner is not None else None,
            "ruleset": winner.source.ruleset if winner is not None and not by_code else None,
            "rule": winner.source.rule if winner is not None and not by_code else None,
            "discount_code": self.discount_code,
            "base": self.base.as_json() if self.base is not None else None,
            "stacked": [s.as_json() for s in self.stacked],
            "assumed": _assumed(self.steps),
            "at_checkout": _at_checkout(self.steps),
        }


@dataclass(frozen=True)
class CartPrice:
    """A cart priced: its lines, the subtotal of their totals, cart-level discounts, the total."""

    lines: tuple[LinePrice, ...]
    subtotal: int
    cart_steps: tuple[Step, ...] = ()
    name: str | None = None

    @property
    def total(self) -> int:
        """The subtotal less the layer-4 discounts (§5)."""
        return self.cart_steps[-1].after if self.cart_steps else self.subtotal

    def as_json(self) -> dict[str, Any]:
        """``{"name", "subtotal", "total", "cart_discounts", "lines"}`` with integer cents."""
        return {
            "name": self.name,
            "subtotal": self.subtotal,
            "total": self.total,
            "cart_discounts": [
                {
                    **s.as_json(),
                    "assumed": _assumed((s,)),
                    "at_checkout": _at_checkout((s,)),
                }
                for s in self.cart_steps
            ],
            "lines": [line.as_json() for line in self.lines],
        }
