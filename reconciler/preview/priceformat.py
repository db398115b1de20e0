"""``boldrules price``'s output forms: one priced cart as lines of text, or as JSON.

``cart_lines`` prints the total, then each line with what set its price (every step, the
conditions assumed met, the actions left to checkout); ``cart_json`` is the cart as
``schemas/price.schema.json`` describes it. A new output form of ``price`` goes here; the plan's
preview is written by ``planformat`` from ``differences``' and ``Preview``'s forms.
"""

from __future__ import annotations

from typing import Any

from reconciler import carts, pricing
from reconciler.preview import naming


def _step_text(step: pricing.Step) -> str:
    who = f"code {step.discount_code}" if step.discount_code else str(step.source)
    return f"{step.source.type} {who}: {carts.money(step.before)} → {carts.money(step.after)}"


def cart_lines(sample: carts.SampleCart, priced: pricing.CartPrice, *, at: str) -> list[str]:
    """One priced cart as ``boldrules price`` prints it: the total, then each line and why."""
    head = (
        f"cart {sample.name} ({sample.origin}) at {at}: total {carts.money(priced.total)} "
        f"(items at their own prices {carts.money(sample.list_total)})"
    )
    lines = [head]
    for line in priced.lines:
        item = line.item
        lines.append(
            f"  {naming.sku(line)} ×{item.quantity}: {carts.money(item.price)} → "
            f"{carts.money(line.unit_price)} each, {carts.money(line.line_total)}"
            + ("" if line.steps else " (no rule applies)")
        )
        lines.extend(f"      {_step_text(step)}" for step in line.steps)
        lines.extend(
            f"      assumed met (checkout judges it): {condition.describe()} ({source})"
            for source, condition in line.assumed
        )
        lines.extend(
            f"      at checkout: {action.describe()} ({source})"
            for source, action in line.at_checkout
        )
    for step in priced.cart_steps:
        lines.append(f"  cart-level {_step_text(step)}")
    return lines


def cart_json(sample: carts.SampleCart, priced: pricing.CartPrice, *, at: str) -> dict[str, Any]:
    """One priced cart as ``schemas/price.schema.json`` describes it."""
    data = priced.as_json()
    return {
        "name": sample.name,
        "origin": sample.origin,
        "at": at,
        "list_total": sample.list_total,
        "subtotal": data["subtotal"],
        "total": data["total"],
        "cart_discounts": data["cart_discounts"],
        "lines": data["lines"],
    }
