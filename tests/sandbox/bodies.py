"""Request bodies the sandbox tests share."""

from __future__ import annotations

from typing import Any


def rule(eid: str = "gold", value: int = -20, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": eid,
        "type": "DISCOUNT",
        "conditions": [{"type": "CUSTOMER_GROUP", "value": "gold"}],
        "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": value}],
        **extra,
    }


def ruleset(eid: str | None = "spring", *rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-1", "SKU-2"]},
        "rules": list(rules) if rules else [rule()],
        **extra,
    }
    if eid is not None:
        body["external_id"] = eid
    return {"ruleset": body}


def condition(name: str = "ZONE", value: str = "prairies", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "field_sets": [
            {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "MB"}
        ],
        **extra,
    }


def discount(*codes: str, **extra: Any) -> dict[str, Any]:
    return {
        "discount_code": {
            "codes": list(codes) or ["SPRING15"],
            "action": {"type": "PRICE_ADJUST_PERCENT", "value": -15},
            "product_selection": {"type": "PRODUCTS_ALL"},
            **extra,
        }
    }
