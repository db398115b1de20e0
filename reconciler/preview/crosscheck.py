"""``boldrules price --check``: the carts asked of Bold's storefront, its answer compared.

``storefront_request`` is the ``POST S/price`` body for a sample cart (pricing-engine.md §7);
``check`` lists every line where Bold's answer and the local evaluation of the live rules
disagree, as ``Mismatch`` lines. It must not talk HTTP: the command sends the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import carts, pricing
from reconciler.preview import naming


def storefront_request(sample: carts.SampleCart) -> dict[str, Any]:
    """The ``POST S/price`` body asking Bold for the cart's items (pricing-engine.md §7).

    Ids go by sku (``lineItemIdType: sku``); the product and variant ids, the quantity and the
    line's properties ride along for a server that reads them.
    """
    items = []
    for item in sample.cart.items:
        entry: dict[str, Any] = {
            "id": item.sku or "",
            "price": item.price,
            "quantity": item.quantity,
        }
        if item.product_id is not None:
            entry["product_id"] = item.product_id
        if item.variant_id is not None:
            entry["variant_id"] = item.variant_id
        if item.properties:
            entry["properties"] = dict(item.properties)
        items.append(entry)
    customer: dict[str, Any] = {"tags": sorted(sample.cart.customer.tags)}
    if sample.cart.customer.province:
        customer["province"] = sample.cart.customer.province
    return {"items": items, "lineItemIdType": "sku", "customer": customer}


@dataclass(frozen=True)
class Mismatch:
    """A line where Bold's storefront and the local evaluation of the live rules disagree."""

    cart: str
    sku: str
    bold: int | None
    local: int
    local_why: str
    bold_why: str

    def text(self) -> str:
        """One line for the report."""
        bold = "no answer for this item" if self.bold is None else carts.money(self.bold)
        return (
            f"cart {self.cart} {self.sku}: Bold says {bold}, boldrules computes "
            f"{carts.money(self.local)} (by {self.local_why}; Bold's rule: {self.bold_why})"
        )

    def as_json(self) -> dict[str, Any]:
        """The mismatch as ``price --check --format json`` lists it."""
        return {
            "cart": self.cart,
            "sku": self.sku,
            "bold": self.bold,
            "local": self.local,
            "local_why": self.local_why,
            "bold_why": self.bold_why,
        }


def _bold_why(action: Mapping[str, Any]) -> str:
    found = action.get("rule")
    rules = found if isinstance(found, list) else []
    parts = []
    for rule in rules:
        if isinstance(rule, Mapping):
            ruleset = rule.get("rule_set_eid") or rule.get("rule_set_id") or rule.get("ruleset_id")
            one = rule.get("eid") or rule.get("id") or rule.get("rule_id")
            parts.append(f"{ruleset} > {one}")
    return ", ".join(parts) or "none"


def check(
    sample: carts.SampleCart, local: pricing.CartPrice, answer: Mapping[str, Any]
) -> list[Mismatch]:
    """Every line of ``sample`` whose price Bold's ``answer`` (to ``storefront_request``) and
    the local evaluation ``local`` (a single-product price call: ``cart_context=False``) do not
    agree on. Bold's actions are matched to lines in order, else by sku."""
    actions = [a for a in answer.get("actions", []) if isinstance(a, Mapping)]
    found = []
    for index, line in enumerate(local.lines):
        sku = line.item.sku or ""
        action: Mapping[str, Any] | None = None
        if index < len(actions) and str(actions[index].get("sku", sku)) == sku:
            action = actions[index]
        else:
            action = next((a for a in actions if str(a.get("sku")) == sku), None)
        value = action.get("value") if action is not None else None
        bold = value if isinstance(value, int) and not isinstance(value, bool) else None
        if bold != line.unit_price:
            found.append(
                Mismatch(
                    sample.name,
                    naming.sku(line),
                    bold,
                    line.unit_price,
                    naming.why(line),
                    _bold_why(action) if action is not None else "none",
                )
            )
    return found
