"""Small builders for the preview's tests: a project, sample carts, discount rulesets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reconciler import carts, config, model, pricing, state

from ..projects import in_memory

NOW = dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC)


def project() -> config.Project:
    return in_memory()


def sample(name: str, *items: dict[str, Any], **extra: Any) -> carts.SampleCart:
    cart = pricing.Cart.from_api({"name": name, "items": list(items), **extra})
    return carts.SampleCart(name, cart, (None,) * len(items), None, f"carts/{name}.yaml:2")


def discount(eid: str, skus: list[str], value: int, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": eid,
        "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": skus},
        "rules": [
            {
                "external_id": "off",
                "type": "DISCOUNT",
                "conditions": [],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": value}],
            }
        ],
        **fields,
    }


def declared(body: dict[str, Any]) -> model.Resource:
    return state.ruleset_resource(body, model.Origin("pricing/x.yaml", 1, 1))
