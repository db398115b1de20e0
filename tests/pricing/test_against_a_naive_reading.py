"""The engine (indexed, compiled, written for speed) against a naive reading of the spec.

The reference below follows pricing-engine.md §2-§5 step by step, as plainly as it can be
written: scan every ruleset, group candidates as §3 lists the steps, sort and take the first.
Hypothesis draws shops of several apps, priorities, stack orders, rule types (refused ones
too), conditions and actions (limited ones too, whose units only an applied rule uses up), and
carts; the engine must give the same unit price and the same layer-2 winner for every line.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import pricing
from reconciler.pricing import selection
from tests.pricing.build import AT

LAYER = {
    "BASE_PRICE": 0,
    "DISCOUNTABLE_ADDITION": 1,
    "DISCOUNT": 2,
    "ADDITION": 3,
    "STACKABLE_DISCOUNT": 3,
}


def js_round(x: float) -> int:
    return math.floor(x + 0.5) if x - math.floor(x) != 0.5 else math.floor(x) + 1


def holds(condition: dict[str, Any], line: dict[str, Any], cart: dict[str, Any]) -> bool:
    if condition["type"] == "CUSTOMER_GROUP":
        return condition["value"] in cart["tags"]
    quantity = sum(i["quantity"] for i in cart["items"] if i["variant_id"] == line["variant_id"])
    return bool(quantity >= condition["value"])  # QTY_BY_VARIANT >=


def act(
    actions: list[dict[str, Any]],
    price: int,
    line: dict[str, Any],
    used: dict[Any, int],
    rule_key: Any,
) -> tuple[int, list[tuple[Any, int]]]:
    """The actions on one unit; limited units counted per rule, action and variant."""
    taken = []
    for n, action in enumerate(actions):
        kind, value = action["type"], action["value"]
        base = kind.removesuffix("_WITH_LIMIT")
        if base == "PRICE_ADJUST_PERCENT":
            adjusted = price + js_round(price * value / 100)
        elif base == "PRICE_ADJUST_RELATIVE":
            adjusted = price + value
        elif base == "PRICE_ADJUST_ABSOLUTE":
            adjusted = value
        elif kind == "CHARM_PRICE":
            adjusted = price // 100 * 100 + value if price >= 100 else price
        if kind.endswith("_WITH_LIMIT"):
            key = (rule_key, n, line["variant_id"])
            units = min(line["quantity"], max(0, action["limit"] - used.get(key, 0)))
            taken.append((key, units))
            q = line["quantity"]
            adjusted = js_round((adjusted * units + price * (q - units)) / q)
        price = adjusted
    return price, taken


def naive(shop: list[dict[str, Any]], cart: dict[str, Any]) -> list[tuple[int, str | None]]:
    out = []
    used: dict[Any, int] = {}
    for line in cart["items"]:
        price = line["price"]
        picked = [
            rs
            for rs in shop
            if selection.matches(
                pricing.ProductSelection.from_api(rs["product_selection"]),
                pricing.LineItem.from_api(line),
            )
        ]
        applied: set[str] = set()
        winner = None
        for layer in range(4):
            rules = [
                (rs, i, r)
                for rs in picked
                if rs["external_id"] not in applied
                for i, r in enumerate(rs["rules"])
                if LAYER.get(r["type"]) == layer
                and not (r["type"] == "DISCOUNT" and r.get("stack_order"))
            ]
            if layer != 2 and rules:
                top = min(r.get("priority", 0) for _, _, r in rules)
                rules = [x for x in rules if x[2].get("priority", 0) == top]
            if layer in (0, 2):
                found = []
                for rs, i, r in rules:
                    if all(holds(c, line, cart) for c in r["conditions"]):
                        new, taken = act(r["actions"], price, line, used, (rs["external_id"], i))
                        if new >= 0:
                            found.append((new, rs, i, taken))
                if not found:
                    continue

                def tie(c: Any) -> tuple[Any, ...]:
                    return (c[1]["priority"], c[1]["id"], c[2])

                groups: dict[tuple[str, int], list[Any]] = {}
                for c in found:  # 1. by app, then by ruleset priority
                    groups.setdefault((c[1]["app"], c[1]["priority"]), []).append(c)
                best_of_group = {
                    k: min(v, key=lambda c: (c[0], tie(c))) for k, v in groups.items()
                }  # 2.
                per_app: dict[str, Any] = {}
                for (app, _priority), c in sorted(
                    best_of_group.items(), key=lambda kv: kv[0][1]
                ):  # 3.
                    per_app.setdefault(app, c)
                new, rs, _, taken = min(per_app.values(), key=lambda c: (c[0], tie(c)))  # 4.
                for key, units in taken:  # only the winner uses up its limited units
                    used[key] = used.get(key, 0) + units
                price = new
                applied.add(rs["external_id"])
                if layer == 2:
                    winner = rs["external_id"]
            else:
                newly = []
                for rs, i, r in sorted(rules, key=lambda x: x[2].get("stack_order", 0)):
                    if all(holds(c, line, cart) for c in r["conditions"]):
                        new, taken = act(r["actions"], price, line, used, (rs["external_id"], i))
                        if new >= 0:
                            price = new
                            newly.append(rs["external_id"])
                            for key, units in taken:
                                used[key] = used.get(key, 0) + units
                applied.update(newly)
        out.append((price, winner))
    return out


CONDITION = st.one_of(
    st.builds(
        lambda v: {"type": "CUSTOMER_GROUP", "value": v}, st.sampled_from(["gold", "silver"])
    ),
    st.builds(
        lambda v: {"type": "QTY_BY_VARIANT", "operator": ">=", "value": v}, st.integers(1, 4)
    ),
)
ACTION = st.one_of(
    st.builds(lambda v: {"type": "PRICE_ADJUST_PERCENT", "value": v}, st.integers(-100, 30)),
    st.builds(lambda v: {"type": "PRICE_ADJUST_RELATIVE", "value": v}, st.integers(-1500, 500)),
    st.builds(lambda v: {"type": "PRICE_ADJUST_ABSOLUTE", "value": v}, st.integers(0, 3000)),
    st.builds(lambda v: {"type": "CHARM_PRICE", "value": v}, st.sampled_from([0, 95, 99])),
    st.builds(
        lambda v, limit: {"type": "PRICE_ADJUST_PERCENT_WITH_LIMIT", "value": v, "limit": limit},
        st.integers(-100, 0),
        st.integers(0, 3),
    ),
    st.builds(
        lambda v, limit: {"type": "PRICE_ADJUST_ABSOLUTE_WITH_LIMIT", "value": v, "limit": limit},
        st.integers(0, 3000),
        st.integers(0, 3),
    ),
)
RULE = st.fixed_dictionaries(
    {
        "type": st.sampled_from([*LAYER, "QTY_BY_LINE"]),
        "conditions": st.lists(CONDITION, max_size=2),
        "actions": st.lists(ACTION, min_size=1, max_size=2),
    },
    optional={"priority": st.integers(0, 1), "stack_order": st.integers(0, 2)},
)
SELECTION = st.one_of(
    st.just({"type": "PRODUCTS_ALL"}),
    st.builds(
        lambda s: {"type": "PRODUCT_SEARCH", "sku_ids": s},
        st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=2),
    ),
    st.builds(
        lambda s: {"type": "PRODUCTS_EXCEPT", "sku_ids": s},
        st.lists(st.sampled_from(["A", "B", "C"]), max_size=2),
    ),
)


@st.composite
def shops(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 7))
    ids = draw(st.permutations(range(1, count + 1)))
    return [
        {
            "id": ids[n],
            "external_id": f"rs{n}",
            "app": draw(st.sampled_from(["app-x", "app-y", "app-z"])),
            "priority": draw(st.integers(0, 2)),
            "product_selection": draw(SELECTION),
            "rules": [
                {"external_id": f"r{i}", **r}
                for i, r in enumerate(draw(st.lists(RULE, min_size=1, max_size=3)))
            ],
        }
        for n in range(count)
    ]


LINE = st.builds(
    lambda sku, variant, price, quantity: {
        "sku": sku,
        "variant_id": variant,
        "price": price,
        "quantity": quantity,
    },
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(["1", "2"]),
    st.integers(0, 5000),
    st.integers(1, 4),
)
CART = st.fixed_dictionaries(
    {
        "items": st.lists(LINE, min_size=1, max_size=3),
        "tags": st.lists(st.sampled_from(["gold", "silver"]), max_size=2),
    }
)


@settings(max_examples=400, deadline=None)
@given(shop=shops(), cart=CART)
def test_the_engine_prices_as_the_spec_reads(
    shop: list[dict[str, Any]], cart: dict[str, Any]
) -> None:
    engine = pricing.Engine([pricing.Ruleset.from_api(rs) for rs in shop])
    priced = engine.price(
        pricing.Cart.from_api({"items": cart["items"], "customer": {"tags": cart["tags"]}}), at=AT
    )
    got = [
        (line.unit_price, line.winner.source.ruleset if line.winner else None)
        for line in priced.lines
    ]
    assert got == naive(shop, cart)
