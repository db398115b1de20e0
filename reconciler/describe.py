"""What an object does, in words a pricing reviewer reads at a glance.

``ruleset`` gives ``2 rules: gold −20%, silver −10%; SKU-100, SKU-200; 2027-03-01 → 03-31``;
``rule`` gives ``gold −20%``; ``code`` gives ``−15% on all products; cart ≥ 50.00; 2027-03-01 →
03-31``. Money is in minor units (contract §1) and is shown with two decimals, no currency (a
shop's currency is not in the API's objects). Percentages are signed, with a true minus sign.

Pure functions over normalised bodies (``state.py``'s form); nothing here reads the shop, and
nothing here decides anything: ``render.py`` places these words in a plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler import words

#: How many items of a list (SKUs, rules) are named before "+N more".
LIST_LIMIT = 3

MINUS = "−"

_NATURAL = re.compile(r"(\d+)")


def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that orders ``bulk-2`` before ``bulk-10``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _NATURAL.split(text) if part
    )


def signed(value: Any) -> str:
    """``-20`` → ``−20``, ``5`` → ``+5``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{abs(value):g}"
    return f"{MINUS}{text}" if value < 0 else f"+{text}"


def money(value: Any, *, sign: bool = False) -> str:
    """Cents → ``17.99``; with ``sign``, ``−4.00`` / ``+4.00``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{abs(value) / 100:.2f}"
    if not sign:
        return f"{MINUS}{text}" if value < 0 else text
    return f"{MINUS}{text}" if value < 0 else f"+{text}"


def action(act: Mapping[str, Any]) -> str:
    """One action: ``−20%``, ``price 17.99``, ``−4.00``, ``free shipping``, ``shipping −50%``."""
    kind, value = str(act.get("type", "?")), act.get("value")
    kind = kind.removesuffix("_WITH_LIMIT")  # the limit is said below, with the other extras
    match kind:
        case "PRICE_ADJUST_PERCENT":
            text = f"{signed(value)}%"
        case "PRICE_ADJUST_ABSOLUTE":
            text = f"price {money(value)}"
        case "PRICE_ADJUST_RELATIVE":
            text = money(value, sign=True)
        case "FREE_SHIPPING":
            text = "free shipping"
        case "SHIPPING_ADJUST_PERCENT":
            text = f"shipping {signed(value)}%"
        case "SHIPPING_ADJUST_RELATIVE":
            text = f"shipping {money(value, sign=True)}"
        case "CART_ADJUST_PERCENT":
            text = f"cart {signed(value)}%"
        case "CART_ADJUST_RELATIVE" | "CART_LEVEL_DISCOUNT_RELATIVE":
            text = f"cart {money(value, sign=True)}"
        case "CART_LEVEL_DISCOUNT_PERCENT":
            text = f"cart {signed(value)}%"
        case "CHARM_PRICE":
            text = f"price ending .{int(value or 0):02d}" if isinstance(value, int) else "charm"
        case "CASE_PRICING":
            text = f"case of {act.get('case_size')} at {money(act.get('case_price'))}"
        case _:
            text = f"{kind} {value}" if value is not None else kind
    extras = [f"{k} {act[k]}" for k in ("qty", "limit", "limit_scope") if act.get(k) is not None]
    return text + (f" ({', '.join(extras)})" if extras else "")


def condition(cond: Mapping[str, Any]) -> str:
    """One rule condition: ``gold``, ``qty ≥ 10``, ``ZONE=prairies``, ``province = MB``."""
    kind, value = str(cond.get("type", "?")), cond.get("value")
    operator = str(cond.get("operator") or "=").replace(">=", "≥").replace("<=", "≤")
    operator = operator.replace("!=", "≠")
    if kind == "CUSTOMER_GROUP":
        return str(value) if operator == "=" else f"group {operator} {value}"
    if kind == "ORDER_CONDITION":
        return f"{cond.get('name')}={value}"
    if kind.startswith("QTY_BY_"):
        return f"qty {operator} {value}"
    if kind == "BUY_X_GET_Y":
        return f"buy {cond.get('buy_quantity')} get {cond.get('get_quantity')}"
    if value is None and cond.get("list"):
        return f"{kind.lower()} in {listed(str(item) for item in cond['list'])}"
    if value is None:
        return kind.lower()
    return f"{kind.lower()} {operator} {value}"


def rule(body: Mapping[str, Any]) -> str:
    """A rule's effect: who (its conditions; everyone when none) and what (its actions)."""
    who = " and ".join(condition(c) for c in body.get("conditions") or []) or "everyone"
    what = " and ".join(action(a) for a in body.get("actions") or []) or "no action"
    return f"{who} {what}"


def listed(items: Iterable[str], limit: int = LIST_LIMIT) -> str:
    """``a, b, c`` or ``a, b, c +4 more``."""
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" +{len(items) - limit} more" if len(items) > limit else "")


_FILTERS = (
    ("sku_ids", ""),
    ("variant_ids", "variant "),
    ("product_ids", "product "),
    ("collection_ids", "collection "),
    ("vendors", "vendor "),
    ("product_types", "type "),
    ("titles", "title "),
)


def selection(sel: Mapping[str, Any]) -> str:
    """``SKU-100, SKU-200``, ``collection 412345678``, ``all products``."""
    if sel.get("type") in ("PRODUCTS_ALL", "SHOPIFY_PRODUCTS_ALL"):
        return "all products"
    parts: list[str] = []
    for field, prefix in _FILTERS:
        values = [str(v) for v in sel.get(field) or []]
        if values:
            noun = prefix.strip()
            if noun and len(values) > 1:
                parts.append(f"{noun}s " + listed(values))
            else:
                parts.append(prefix + listed(values))
    if sel.get("type") == "PRODUCTS_EXCEPT":
        return "all products except " + ("; ".join(parts) or "none")
    return "; ".join(parts) or "no products"


def window(start: Any, expiry: Any) -> str:
    """``2027-03-01 → 03-31``, ``from 2027-03-01``, ``until 2027-03-31``, or ``""``."""
    a = str(start)[:10] if start else ""
    b = str(expiry)[:10] if expiry else ""
    if a and b:
        same_year = a[:4] == b[:4]
        return f"{a} → {b[5:] if same_year else b}"
    if a:
        return f"from {a}"
    if b:
        return f"until {b}"
    return ""


def ruleset(body: Mapping[str, Any]) -> str:
    """``2 rules: gold −20%, silver −10%; SKU-100, SKU-200; 2027-03-01 → 03-31``."""
    rules = body.get("rules") or {}
    effects = [rule(rules[name]) for name in sorted(rules, key=natural)]
    head = words.count(len(rules), "rule")
    if effects:
        head += ": " + listed(effects)
    parts = [head, selection(body.get("product_selection") or {})]
    span = window(body.get("start_date"), body.get("expiry_date"))
    if span:
        parts.append(span)
    if body.get("active") is False:
        parts.append("inactive")
    return "; ".join(parts)


def code(body: Mapping[str, Any]) -> str:
    """``−15% on all products; cart ≥ 50.00; 1 per customer; 2027-03-01 → 03-31``."""
    parts = [
        f"{action(body.get('action') or {})} on {selection(body.get('product_selection') or {})}"
    ]
    for cond in body.get("conditions") or []:
        kind, value = cond.get("type"), cond.get("value")
        if kind == "CART_SUBTOTAL_MIN":
            parts.append(f"cart ≥ {money(value)}")
        elif kind == "QTY_ON_CART":
            parts.append(f"cart qty ≥ {value}")
        else:
            parts.append(condition(cond))
    for limit in body.get("limits") or []:
        scope = str(limit.get("limit_type", "")).replace("per_", "per ")
        parts.append(f"{limit.get('limit_amount')} {scope}")
    span = window(body.get("start_date"), body.get("expiry_date"))
    if span:
        parts.append(span)
    return "; ".join(parts)


def condition_group(body: Mapping[str, Any]) -> str:
    """``3 field sets: CA/MB, CA/SK, CA/AB``."""
    sets = body.get("field_sets") or []
    shown = ["/".join(str(v) for _, v in sorted(fs.items())) for fs in sets]
    head = words.count(len(sets), "field set")
    return head + (": " + listed(shown) if shown else "")
