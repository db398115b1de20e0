"""Small builders for the pricing tests: plain dicts in the API's field names, priced."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler import pricing

AT = dt.datetime(2027, 3, 10, 12, 0, tzinfo=dt.UTC)
ALL = {"type": "PRODUCTS_ALL"}
ITEM = {"sku": "SHIRT-1", "product_id": "100", "variant_id": "1001", "price": 1000, "quantity": 1}


def pct(value: float) -> dict[str, Any]:
    return {"type": "PRICE_ADJUST_PERCENT", "value": value}


def rule(
    eid: str = "r",
    type: str = "DISCOUNT",
    actions: Sequence[Mapping[str, Any]] = (),
    conditions: Sequence[Mapping[str, Any]] = (),
    **fields: Any,
) -> dict[str, Any]:
    return {
        "external_id": eid,
        "type": type,
        "conditions": list(conditions),
        "actions": list(actions) or [pct(-10)],
        **fields,
    }


def ruleset(
    eid: str,
    *rules: Mapping[str, Any],
    app: str = "my-app",
    selection: Mapping[str, Any] = ALL,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "external_id": eid,
        "app": app,
        "product_selection": dict(selection),
        "rules": list(rules) or [rule(f"{eid}-rule")],
        **fields,
    }


def engine(
    rulesets: Iterable[Mapping[str, Any]], order_conditions: Iterable[Mapping[str, Any]] = ()
) -> pricing.Engine:
    return pricing.Engine(
        [pricing.Ruleset.from_api(r) for r in rulesets],
        [pricing.OrderCondition.from_api(c) for c in order_conditions],
    )


def cart(
    rulesets: Iterable[Mapping[str, Any]],
    *,
    items: Sequence[Mapping[str, Any]] = (ITEM,),
    customer: Mapping[str, Any] | None = None,
    discount_code: str | None = None,
    order_conditions: Iterable[Mapping[str, Any]] = (),
    at: dt.datetime = AT,
    cart_context: bool = True,
) -> pricing.CartPrice:
    body: dict[str, Any] = {"items": list(items), "customer": customer or {}}
    if discount_code is not None:
        body["discount_code"] = discount_code
    return engine(rulesets, order_conditions).price(
        pricing.Cart.from_api(body), at=at, cart_context=cart_context
    )


def line(rulesets: Iterable[Mapping[str, Any]], **kwargs: Any) -> pricing.LinePrice:
    priced = cart(rulesets, **kwargs)
    assert len(priced.lines) == 1
    return priced.lines[0]


def unit(rulesets: Iterable[Mapping[str, Any]], **kwargs: Any) -> int:
    return line(rulesets, **kwargs).unit_price


def winner(rulesets: Iterable[Mapping[str, Any]], **kwargs: Any) -> str | None:
    """``ruleset`` of the layer-2 winner, or None."""
    won = line(rulesets, **kwargs).winner
    return won.source.ruleset if won is not None else None
