"""The storefront calls, which take no token: eligible order conditions and the final price.

Owns ``POST /price_rules/storefront/v2/shops/{shop_domain}/order_condition`` and ``POST
S/price``. Both read what the admin calls stored; neither writes. It must not pretend to be
Bold's full pricing engine: the price model below is deliberately small and written down.

Price model: an item's candidates are its own price and, for every active ruleset (any app's)
within its dates whose product selection names the item (``PRODUCTS_ALL``, or the item's id in
the filter matching ``lineItemIdType``: ``sku`` → ``sku_ids``, ``variant_id`` →
``variant_ids``, ``product_id`` → ``product_ids``), each rule whose conditions all hold, with
its price actions applied in order (percent rounds half up to the cent; absolute sets; relative
adds; never below 0). Conditions the sandbox can judge: ``CUSTOMER_GROUP`` (the value among the
customer's comma-separated ``tags``) and ``QTY_BY_*`` (the item's ``quantity``, default 1,
against the value with the operator, default ``>=``). A rule with any other condition does not
apply. The lowest candidate wins; ``rule`` lists the ruleset and rule ids that produced it.
"""

from __future__ import annotations

import json
import math
import operator
import zlib
from collections.abc import Callable
from typing import Any

from reconciler.sandbox import web

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_ID_FILTERS = {"sku": "sku_ids", "variant_id": "variant_ids", "product_id": "product_ids"}


def eligible_conditions(call: web.Call) -> web.Response:
    """Which order conditions hold for a customer's shipping data: ``name → value``."""
    body = call.request.json_object()
    customer = body.get("customer")
    shipping = customer.get("shipping") if isinstance(customer, dict) else None
    if not isinstance(shipping, dict):
        raise web.field_error("customer.shipping", "is required and must be an object")
    facts = {f"customer.shipping.{k}": str(v) for k, v in shipping.items()}
    matched: dict[str, str] = {}
    with call.store.transaction() as conn:
        rows = conn.execute("SELECT body FROM order_conditions ORDER BY seq").fetchall()
    for (text,) in rows:
        condition = json.loads(text)
        if condition["name"] in matched:
            continue  # the first value (in creation order) that holds wins its name
        for field_set in condition["field_sets"]:
            wanted = {k: v for k, v in field_set.items() if k != "id"}
            if all(facts.get(k) == v for k, v in wanted.items()):
                matched[condition["name"]] = condition["value"]
                break
    return web.Response(
        200, web.envelope("Order conditions evaluated", {"order_condition": matched})
    )


def price(call: web.Call) -> web.Response:
    """POST S/price: the best price of each item under the stored rulesets."""
    body = call.request.json_object()
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise web.field_error("items", "must be a non-empty list of {id, price}")
    id_type = body.get("lineItemIdType", "sku")
    if id_type not in _ID_FILTERS:
        raise web.field_error("lineItemIdType", f"must be one of {', '.join(_ID_FILTERS)}")
    customer_raw = body.get("customer")
    customer: dict[str, Any] = customer_raw if isinstance(customer_raw, dict) else {}
    tags_raw = customer.get("tags", "")
    tags = set(tags_raw if isinstance(tags_raw, list) else str(tags_raw).split(","))
    tags = {t.strip() for t in tags if str(t).strip()}
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str | int):
            raise web.field_error(f"items[{i}].id", "is required")
        if isinstance(item.get("price"), bool) or not isinstance(item.get("price"), int):
            raise web.field_error(f"items[{i}].price", "must be a whole number of cents")
    with call.store.transaction() as conn:
        rows = conn.execute("SELECT body FROM rulesets ORDER BY id").fetchall()
    live = [r for r in (json.loads(row[0]) for row in rows) if _in_force(r)]
    actions = [_best(item, live, _ID_FILTERS[id_type], tags) for item in items]
    log_id = f"sandbox-{zlib.crc32(call.request.body):08x}"
    return web.Response(200, {"pre_best_price_log_id": log_id, "actions": actions})


def _in_force(ruleset: dict[str, Any]) -> bool:
    if not ruleset.get("active", True):
        return False
    moment = web.now()
    start = web.parse_instant(ruleset["start_date"]) if ruleset.get("start_date") else None
    expiry = web.parse_instant(ruleset["expiry_date"]) if ruleset.get("expiry_date") else None
    return (start is None or start <= moment) and (expiry is None or moment < expiry)


def _selects(selection: dict[str, Any], key: str, item_id: str) -> bool:
    if selection.get("type") == "PRODUCTS_ALL":
        return True
    return item_id in selection.get(key, [])


def _holds(condition: dict[str, Any], quantity: int, tags: set[str]) -> bool:
    kind = condition.get("type", "")
    if kind == "CUSTOMER_GROUP":
        return str(condition.get("value")) in tags
    if kind.startswith("QTY_BY_"):
        try:
            wanted = int(condition.get("value"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        compare = _OPS.get(str(condition.get("operator", ">="))) or _OPS[">="]
        return bool(compare(quantity, wanted))
    return False


def _apply(cents: int, action: dict[str, Any]) -> int | None:
    kind, value = action.get("type"), action.get("value")
    if not isinstance(value, int):
        return None
    if kind == "PRICE_ADJUST_PERCENT":
        return max(0, math.floor(cents * (100 + value) / 100 + 0.5))
    if kind == "PRICE_ADJUST_ABSOLUTE":
        return max(0, value)
    if kind == "PRICE_ADJUST_RELATIVE":
        return max(0, cents + value)
    return None


def _best(
    item: dict[str, Any], live: list[dict[str, Any]], key: str, tags: set[str]
) -> dict[str, Any]:
    item_id, original = str(item["id"]), int(item["price"])
    quantity = item.get("quantity", 1) if isinstance(item.get("quantity"), int) else 1
    best, source = original, []
    for ruleset in live:
        if not _selects(ruleset["product_selection"], key, item_id):
            continue
        for rule in ruleset["rules"]:
            if not all(_holds(c, quantity, tags) for c in rule["conditions"]):
                continue
            cents: int | None = original
            for action in rule["actions"]:
                cents = _apply(cents, action) if cents is not None else None
            if cents is not None and cents < best:
                best, source = cents, [{"ruleset_id": ruleset["id"], "rule_id": rule["id"]}]
    return {"type": "BEST_ITEM_PRICE", "sku": item_id, "value": best, "rule": source}


def routes() -> list[web.Route]:
    """The storefront rows of the route table (no scope: no token needed)."""
    return [
        web.Route("POST", "S/price", None, price),
        web.Route("POST", "S/order_condition", None, eligible_conditions),
    ]
