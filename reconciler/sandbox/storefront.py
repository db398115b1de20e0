"""The pricing calls: eligible order conditions, and Bold's three price calls, priced as Bold does.

Owns ``POST /price_rules/storefront/v2/shops/{shop_domain}/order_condition`` and the price
calls of pricing-engine.md §7: *Get Final Price for Product* (``POST S/price``, contract §6),
*Get Best Price for Cart* (``POST S/cart`` [I: path]) and *Get Adjusted Cart* (``POST
P/adjusted_cart`` [I: path], an admin call with ``read_price_rulesets``). Each reads what the
admin calls stored, writes nothing, and prices with ``reconciler.pricing`` (the pure evaluator of
pricing-engine.md §2-§5, as Bold's server runs Bold's engine) over the stored rulesets of every
app (discount codes' backing rulesets included: they are rulesets of ``bold-discount-codes``) and
the shop's order conditions, at the server's clock. It must not keep a price model of its own:
every pricing decision is the evaluator's.

Requests (docs/sandbox.md "Storefront pricing" has the full shapes and what is [I]):
- ``S/price``: ``{"items": [{"id", "price", "quantity"?}], "lineItemIdType"?, "customer"?}``,
  priced as a single-product call (§4: "cart context only" conditions are false, no cart-level
  discount, no discount code);
- ``S/cart``: ``{"lineItems": [...], "lineItemIdType"?, "customer"?, "discountCode"?}`` and
  ``P/adjusted_cart``: the same with ``matchLineItemProperty`` naming the id, priced as a cart.

``lineItemIdType`` (and ``matchLineItemProperty``) says which of ``sku``, ``variant_id``,
``product_id`` an item's ``id`` is (default ``sku``); an item may also state the others, its
``quantity`` (default 1), ``properties`` and the catalogue facts a product search tests
(``collection_ids``, ``vendor``, ``title``, ``product_type``) [I: Bold resolves those from the
shop's catalogue; the sandbox has none]. ``customer``: ``tags`` (a list or a comma-separated
string), ``province``, ``shipping`` (the order-condition fields).

Answers: ``{"pre_best_price_log_id" | "pre_checkout_id", "actions": [...]}``; one
``BEST_ITEM_PRICE`` action per item in request order: ``{"type", "sku", "variant_id", "value"
(the final unit price), "rule": [{"id", "eid", "rule_set_id", "rule_set_eid",
"rule_set_public_message", "type"}]}``, ``rule`` listing every rule that set the price, layer
by layer. Cart answers add per line ``line_index``, ``quantity`` and ``line_total``, then a
``CART_LEVEL_DISCOUNT`` action per layer-4 rule and one action per action left to checkout
(``FREE_SHIPPING`` …), and ``subtotal`` and ``total`` beside ``actions`` [I: line fields].
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler import pricing
from reconciler.sandbox import web

#: The id kinds an item's ``id`` may name, in the API's spelling.
ID_TYPES = ("sku", "variant_id", "product_id")
#: An item's optional fields, passed to the evaluator as they are.
_ITEM_FACTS = ("collection_ids", "vendor", "title", "product_type", "properties")


def eligible_conditions(call: web.Context) -> web.Response:
    """Which order conditions hold for a customer's shipping data: ``name → value``."""
    body = call.request.json_object()
    customer = body.get("customer")
    shipping = customer.get("shipping") if isinstance(customer, dict) else None
    if not isinstance(shipping, dict):
        raise web.field_error("customer.shipping", "is required and must be an object")
    facts = {f"customer.shipping.{k}": str(v) for k, v in shipping.items()}
    matched: dict[str, str] = {}
    for condition in _order_conditions(call):
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


# --- the price calls ----------------------------------------------------------------------------


def price(call: web.Context) -> web.Response:
    """POST S/price (*Get Final Price for Product*): each item's best unit price, no cart."""
    body = call.request.json_object()
    id_type = _id_type(body, "lineItemIdType")
    items = _items(body, "items", id_type)
    cart = pricing.Cart(items=items, customer=_customer(body))
    priced = _engine(call).price(cart, at=web.now(), cart_context=False)
    actions = [_best_item_price(line) for line in priced.lines]
    log_id = f"sandbox-{zlib.crc32(call.request.body):08x}"
    return web.Response(200, {"pre_best_price_log_id": log_id, "actions": actions})


def best_cart_price(call: web.Context) -> web.Response:
    """POST S/cart (*Get Best Price for Cart*): the cart priced line by line, then as a whole."""
    body = call.request.json_object()
    return _cart_answer(call, body, _id_type(body, "lineItemIdType"))


def adjusted_cart(call: web.Context) -> web.Response:
    """POST P/adjusted_cart (*Get Adjusted Cart*, admin): as S/cart, the id named by
    ``matchLineItemProperty``."""
    body = call.request.json_object()
    return _cart_answer(call, body, _id_type(body, "matchLineItemProperty"))


def _cart_answer(call: web.Context, body: Mapping[str, Any], id_type: str) -> web.Response:
    items = _items(body, "lineItems", id_type)
    cart = pricing.Cart(items=items, customer=_customer(body), discount_code=_code(body))
    priced = _engine(call).price(cart, at=web.now(), cart_context=True)
    actions: list[dict[str, Any]] = []
    checkout: list[dict[str, Any]] = []
    for line in priced.lines:
        actions.append(
            {
                **_best_item_price(line),
                "line_index": line.index,
                "quantity": line.item.quantity,
                "line_total": line.line_total,
            }
        )
        for source, action in line.at_checkout:
            checkout.append(
                {
                    **_action(action),
                    "line_index": line.index,
                    "sku": line.item.sku,
                    "variant_id": line.item.variant_id,
                    "rule": [_rule_ref(source)],
                }
            )
    for step in priced.cart_steps:
        actions.append(
            {
                "type": "CART_LEVEL_DISCOUNT",
                "subtotal": step.before,
                "value": step.after,
                "rule": [_rule_ref(step.source)],
            }
        )
        checkout.extend(
            {**_action(action), "rule": [_rule_ref(step.source)]} for action in step.at_checkout
        )
    answer = {
        "pre_checkout_id": f"sandbox-{zlib.crc32(call.request.body):08x}",
        "actions": actions + checkout,
        "subtotal": priced.subtotal,
        "total": priced.total,
    }
    return web.Response(200, answer)


def _best_item_price(line: pricing.LinePrice) -> dict[str, Any]:
    return {
        "type": "BEST_ITEM_PRICE",
        "sku": line.item.sku,
        "variant_id": line.item.variant_id,
        "value": line.unit_price,
        "rule": [_rule_ref(step.source) for step in line.steps],
    }


def _rule_ref(source: pricing.RuleRef) -> dict[str, Any]:
    return {
        "id": source.rule_id,
        "eid": source.rule,
        "rule_set_id": source.ruleset_id,
        "rule_set_eid": source.ruleset,
        "rule_set_public_message": source.public_name,
        "type": source.type,
    }


def _action(action: pricing.Action) -> dict[str, Any]:
    out: dict[str, Any] = {"type": action.type}
    if action.value is not None:
        out["value"] = action.value
    return out


# --- what the calls read ------------------------------------------------------------------------


def _engine(call: web.Context) -> pricing.Engine:
    """The evaluator over every app's stored rulesets (in id order) and the order conditions."""
    with call.store.transaction() as conn:
        rows = conn.execute("SELECT app, body FROM rulesets ORDER BY id").fetchall()
        conditions = [
            json.loads(text)
            for (text,) in conn.execute("SELECT body FROM order_conditions ORDER BY seq")
        ]
    # What the admin calls stored passed validation, so the evaluator reads all of it.
    rulesets = [pricing.Ruleset.from_api(json.loads(text), app=app) for app, text in rows]
    return pricing.Engine(rulesets, [pricing.OrderCondition.from_api(c) for c in conditions])


def _order_conditions(call: web.Context) -> list[dict[str, Any]]:
    with call.store.transaction() as conn:
        rows = conn.execute("SELECT body FROM order_conditions ORDER BY seq").fetchall()
    return [json.loads(text) for (text,) in rows]


def _id_type(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key, "sku")
    if value not in ID_TYPES:
        raise web.field_error(key, f"must be one of {', '.join(ID_TYPES)}, got {value!r}")
    return str(value)


def _items(body: Mapping[str, Any], key: str, id_type: str) -> tuple[pricing.LineItem, ...]:
    raw = body.get(key)
    if not isinstance(raw, list) or not raw:
        raise web.field_error(key, "must be a non-empty list of {id, price, quantity?}")
    return tuple(_item(item, f"{key}[{i}]", id_type) for i, item in enumerate(raw))


def _item(raw: Any, path: str, id_type: str) -> pricing.LineItem:
    if not isinstance(raw, dict):
        raise web.field_error(path, "must be an object {id, price, quantity?}")
    ident = raw.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
        raise web.field_error(f"{path}.id", f"is required: the item's {id_type}")
    price_ = raw.get("price")
    if isinstance(price_, bool) or not isinstance(price_, int) or price_ < 0:
        raise web.field_error(f"{path}.price", "must be a whole number of cents ≥ 0")
    quantity = raw.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise web.field_error(f"{path}.quantity", "must be a whole number ≥ 1")
    facts: dict[str, Any] = {k: raw[k] for k in _ITEM_FACTS if raw.get(k) is not None}
    for kind in ID_TYPES:
        if raw.get(kind) is not None:
            facts[kind] = raw[kind]
    facts[id_type] = ident
    try:
        return pricing.LineItem.from_api({**facts, "price": price_, "quantity": quantity})
    except pricing.PricingInputError as exc:
        raise web.field_error(path, str(exc)) from None


def _customer(body: Mapping[str, Any]) -> pricing.Customer:
    raw = body.get("customer")
    if raw is None:
        return pricing.Customer()
    if not isinstance(raw, dict):
        raise web.field_error("customer", "must be an object {tags?, province?, shipping?}")
    try:
        return pricing.Customer.from_api(raw)
    except pricing.PricingInputError as exc:
        raise web.field_error("customer", str(exc)) from None


def _code(body: Mapping[str, Any]) -> str | None:
    given: Sequence[tuple[str, Any]] = [
        (key, body[key]) for key in ("discountCode", "discount_code") if body.get(key) is not None
    ]
    for key, value in given:
        if not isinstance(value, str):
            raise web.field_error(key, "must be a string: the code typed at checkout")
    return str(given[0][1]) if given and given[0][1] else None


def routes() -> list[web.Route]:
    """The pricing rows of the route table (storefront ones take no token and no scope)."""
    return [
        web.Route("POST", "S/price", None, price),
        web.Route("POST", "S/cart", None, best_cart_price),
        web.Route("POST", "S/order_condition", None, eligible_conditions),
        web.Route("POST", "P/adjusted_cart", "read_price_rulesets", adjusted_cart),
    ]
