"""pricing-engine.md §4: every condition type and operator, held or not.

Each case prices a cart whose first line is 1000 under one DISCOUNT rule of -10 carrying the
condition: 900 when it holds, 1000 when not.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import pricing
from reconciler.pricing import conditions
from tests.pricing.build import ITEM, cart, line, pct, rule, ruleset

ZONES: list[dict[str, Any]] = [
    {
        "name": "ZONE",
        "value": "prairies",
        "field_sets": [
            {
                "customer.shipping.country_code": "CA",
                "customer.shipping.province_code": "MB",
                "id": 4,
            },
            {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "SK"},
        ],
    },
    {"name": "ZONE", "value": "west", "field_sets": [{"customer.shipping.country_code": "CA"}]},
    {
        "name": "POST",
        "value": "winnipeg",
        "field_sets": [{"customer.shipping.postal_code": "R3C 4T3"}],
    },
    {"name": "EMPTY", "value": "anyone", "field_sets": [{}]},
]


def shipping(**fields: str) -> dict[str, Any]:
    return {"shipping": fields}


def qty(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{**ITEM, "quantity": n, **extra}]


def c(type: str, value: Any = None, operator: str | None = None, **fields: Any) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": type, **fields}
    if value is not None:
        condition["value"] = value
    if operator is not None:
        condition["operator"] = operator
    return condition


TWO_OF_A_VARIANT = [
    {**ITEM, "quantity": 2},
    {**ITEM, "sku": "SHIRT-1b", "quantity": 3},
]  # variant 1001 ×5
TWO_VARIANTS = [
    {**ITEM, "quantity": 2},
    {**ITEM, "sku": "SHIRT-2", "variant_id": "1002", "quantity": 3},
]  # product 100 ×5
MIXED = [
    {"sku": "A", "price": 1000, "quantity": 2},
    {"sku": "B", "price": 500, "quantity": 3},
    {"sku": "C", "price": 500, "quantity": 10},  # not in the selection: does not count
]
MIX_SELECTION = {"type": "PRODUCT_SEARCH", "sku_ids": ["A", "B"]}

CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # CUSTOMER_GROUP
    (
        "group: tag present",
        c("CUSTOMER_GROUP", "gold"),
        {"customer": {"tags": ["vip", "gold"]}},
        True,
    ),
    ("group: tag absent", c("CUSTOMER_GROUP", "gold"), {"customer": {"tags": ["silver"]}}, False),
    (
        "group: tags as a comma string",
        c("CUSTOMER_GROUP", "gold"),
        {"customer": {"tags": "vip, gold"}},
        True,
    ),
    (
        "group: case-sensitive [I]",
        c("CUSTOMER_GROUP", "Gold"),
        {"customer": {"tags": ["gold"]}},
        False,
    ),
    ("group: default, no tags", c("CUSTOMER_GROUP", "default"), {}, True),
    (
        "group: default, tags",
        c("CUSTOMER_GROUP", "default"),
        {"customer": {"tags": ["silver"]}},
        True,
    ),
    ("group: null, no tags", c("CUSTOMER_GROUP"), {}, True),
    ("group: null, tags", c("CUSTOMER_GROUP"), {"customer": {"tags": ["gold"]}}, False),
    (
        "group: != absent tag",
        c("CUSTOMER_GROUP", "gold", "!="),
        {"customer": {"tags": ["silver"]}},
        True,
    ),
    (
        "group: != present tag",
        c("CUSTOMER_GROUP", "gold", "!="),
        {"customer": {"tags": ["gold"]}},
        False,
    ),
    (
        "group: an ordering operator [I]",
        c("CUSTOMER_GROUP", "gold", ">"),
        {"customer": {"tags": ["gold"]}},
        False,
    ),
    # CUSTOMER_IN_ANY_GROUP_FROM_LIST
    (
        "any group: shared tag",
        c("CUSTOMER_IN_ANY_GROUP_FROM_LIST", list=["gold", "silver"]),
        {"customer": {"tags": ["silver"]}},
        True,
    ),
    (
        "any group: no shared tag",
        c("CUSTOMER_IN_ANY_GROUP_FROM_LIST", list=["gold", "silver"]),
        {"customer": {"tags": ["bronze"]}},
        False,
    ),
    ("any group: no tags", c("CUSTOMER_IN_ANY_GROUP_FROM_LIST", list=["gold"]), {}, False),
    # CUSTOMER_PROVINCE
    ("province: equal", c("CUSTOMER_PROVINCE", "MB"), {"customer": {"province": "MB"}}, True),
    ("province: other", c("CUSTOMER_PROVINCE", "MB"), {"customer": {"province": "ON"}}, False),
    ("province: unknown [I]", c("CUSTOMER_PROVINCE", "MB", "!="), {}, False),
    (
        "province: != other",
        c("CUSTOMER_PROVINCE", "MB", "!="),
        {"customer": {"province": "ON"}},
        True,
    ),
    # QTY_BY_LINE, every operator, against a line of 3
    *[
        (f"line qty 3 {op} {value}", c("QTY_BY_LINE", value, op), {"items": qty(3)}, held)
        for op, value, held in [
            ("=", 3, True),
            ("=", 2, False),
            ("!=", 2, True),
            ("!=", 3, False),
            (">", 2, True),
            (">", 3, False),
            (">=", 3, True),
            (">=", 4, False),
            ("<", 4, True),
            ("<", 3, False),
            ("<=", 3, True),
            ("<=", 2, False),
            (None, 3, True),
            (None, 4, False),  # the default operator is =
            ("=", "3", True),
            (">=", "10", False),  # numbers compare as numbers, not strings
            ("==", 3, False),
            ("=>", 3, False),  # unknown operators [I]
        ]
    ],
    ("line qty: a single-product call", c("QTY_BY_LINE", 1, ">="), {"cart_context": False}, False),
    # QTY_BY_VARIANT: 2 + 3 of variant 1001 in the cart
    (
        "variant qty: counted across lines",
        c("QTY_BY_VARIANT", 5, ">="),
        {"items": TWO_OF_A_VARIANT},
        True,
    ),
    ("variant qty: not more", c("QTY_BY_VARIANT", 6, ">="), {"items": TWO_OF_A_VARIANT}, False),
    (
        "variant qty: other variants do not count",
        c("QTY_BY_VARIANT", 5, ">="),
        {"items": TWO_VARIANTS},
        False,
    ),
    (
        "variant qty: judged on a single-product call too",
        c("QTY_BY_VARIANT", 2, ">="),
        {"items": qty(2), "cart_context": False},
        True,
    ),
    # QTY_BY_PRODUCT: 2 + 3 of product 100
    (
        "product qty: every variant counts",
        c("QTY_BY_PRODUCT", 5, ">="),
        {"items": TWO_VARIANTS},
        True,
    ),
    ("product qty: not more", c("QTY_BY_PRODUCT", 6, ">="), {"items": TWO_VARIANTS}, False),
    (
        "product qty: a single-product call",
        c("QTY_BY_PRODUCT", 1, ">="),
        {"cart_context": False},
        False,
    ),
    # QTY_BY_MIX_AND_MATCH: lines A (2) and B (3) match the ruleset's selection, C does not
    (
        "mix and match: 2 + 3 >= 5",
        c("QTY_BY_MIX_AND_MATCH", 5, ">=", label="tees"),
        {"items": MIXED, "selection": MIX_SELECTION},
        True,
    ),
    (
        "mix and match: not 6",
        c("QTY_BY_MIX_AND_MATCH", 6, ">=", label="tees"),
        {"items": MIXED, "selection": MIX_SELECTION},
        False,
    ),
    (
        "mix and match: a single-product call",
        c("QTY_BY_MIX_AND_MATCH", 1, ">="),
        {"cart_context": False},
        False,
    ),
    # LINE_ITEM_PROPERTY
    (
        "property: equal",
        c("LINE_ITEM_PROPERTY", "yes", name="engraving"),
        {"items": qty(1, properties={"engraving": "yes"})},
        True,
    ),
    (
        "property: other value",
        c("LINE_ITEM_PROPERTY", "yes", name="engraving"),
        {"items": qty(1, properties={"engraving": "no"})},
        False,
    ),
    ("property: absent [I]", c("LINE_ITEM_PROPERTY", "yes", "!=", name="engraving"), {}, False),
    (
        "property: !=",
        c("LINE_ITEM_PROPERTY", "yes", "!=", name="engraving"),
        {"items": qty(1, properties={"engraving": "no"})},
        True,
    ),
    (
        "property: numbers as numbers",
        c("LINE_ITEM_PROPERTY", 10, ">", name="size"),
        {"items": qty(1, properties={"size": "12"})},
        True,
    ),
    # ORDER_CONDITION, from the shop's field sets
    (
        "order condition: first field set",
        c("ORDER_CONDITION", "prairies", name="ZONE"),
        {"customer": shipping(country_code="CA", province_code="MB")},
        True,
    ),
    (
        "order condition: only one field set needs to match",
        c("ORDER_CONDITION", "prairies", name="ZONE"),
        {"customer": shipping(country_code="CA", province_code="SK")},
        True,
    ),
    (
        "order condition: every field of a set must match",
        c("ORDER_CONDITION", "prairies", name="ZONE"),
        {"customer": shipping(country_code="US", province_code="MB")},
        False,
    ),
    (
        "order condition: a field the address lacks",
        c("ORDER_CONDITION", "prairies", name="ZONE"),
        {"customer": shipping(country_code="CA")},
        False,
    ),
    (
        "order condition: the first value of a name wins it [I]",
        c("ORDER_CONDITION", "west", name="ZONE"),
        {"customer": shipping(country_code="CA", province_code="MB")},
        False,
    ),
    (
        "order condition: another value",
        c("ORDER_CONDITION", "west", name="ZONE"),
        {"customer": shipping(country_code="CA", province_code="ON")},
        True,
    ),
    (
        "order condition: !=",
        c("ORDER_CONDITION", "west", "!=", name="ZONE"),
        {"customer": shipping(country_code="CA", province_code="MB")},
        True,
    ),
    (
        "order condition: exact strings [I]",
        c("ORDER_CONDITION", "winnipeg", name="POST"),
        {"customer": shipping(postal_code="r3c 4t3")},
        False,
    ),
    (
        "order condition: postal code",
        c("ORDER_CONDITION", "winnipeg", name="POST"),
        {"customer": shipping(postal_code="R3C 4T3")},
        True,
    ),
    (
        "order condition: an empty field set matches nobody [I]",
        c("ORDER_CONDITION", "anyone", name="EMPTY"),
        {"customer": shipping(country_code="CA")},
        False,
    ),
    ("order condition: no address", c("ORDER_CONDITION", "prairies", name="ZONE"), {}, False),
    # DISCOUNT_CODE
    (
        "code: equal ignoring case",
        c("DISCOUNT_CODE", "SPRING15"),
        {"discount_code": "spring15"},
        True,
    ),
    ("code: another code", c("DISCOUNT_CODE", "SPRING15"), {"discount_code": "SUMMER"}, False),
    ("code: no code", c("DISCOUNT_CODE", "SPRING15"), {}, False),
    (
        "code: a single-product call",
        c("DISCOUNT_CODE", "SPRING15"),
        {"discount_code": "SPRING15", "cart_context": False},
        False,
    ),
    # checkout-only: always met (and listed as assumed)
    *[(f"checkout-only {t}", c(t, 5000, ">="), {}, True) for t in sorted(conditions.CHECKOUT_ONLY)],
    # conditions the evaluator cannot judge [I]
    *[
        (f"unknown {t}", c(t, "x"), {}, False)
        for t in ["REF_URL", "SUBSCRIPTION_GROUP", "BUY_X_GET_Y", ""]
    ],
]


@pytest.mark.parametrize(
    ("condition", "situation", "held"), [x[1:] for x in CASES], ids=[x[0] for x in CASES]
)
def test_condition(condition: dict[str, Any], situation: dict[str, Any], held: bool) -> None:
    situation = dict(situation)
    chosen = situation.pop("selection", {"type": "PRODUCTS_ALL"})
    rulesets = [
        ruleset("s", rule("r", conditions=[condition], actions=[pct(-10)]), selection=chosen)
    ]
    priced = cart(rulesets, order_conditions=ZONES, **situation)
    first = priced.lines[0]
    # the first line's list price less 10% when the condition holds
    assert first.unit_price == (first.item.price * 9 // 10 if held else first.item.price)


def test_all_conditions_must_hold() -> None:
    both = [c("CUSTOMER_GROUP", "gold"), c("CUSTOMER_PROVINCE", "MB")]
    rulesets = [ruleset("s", rule("r", conditions=both))]
    assert line(rulesets, customer={"tags": ["gold"], "province": "MB"}).unit_price == 900
    assert line(rulesets, customer={"tags": ["gold"], "province": "ON"}).unit_price == 1000


def test_no_conditions_always_hold() -> None:
    assert line([ruleset("s", rule("r", conditions=[]))]).unit_price == 900


def test_checkout_only_conditions_are_listed_as_assumed() -> None:
    rulesets = [
        ruleset(
            "s",
            rule(
                "r", conditions=[c("CART_SUBTOTAL_MIN", 5000, ">="), c("CUSTOMER_GROUP", "default")]
            ),
        )
    ]
    priced = line(rulesets)
    assert [(ref.ruleset, ref.rule, cond.describe()) for ref, cond in priced.assumed] == [
        ("s", "r", "CART_SUBTOTAL_MIN >= 5000")
    ]
    assert priced.as_json()["assumed"] == [
        {"ruleset": "s", "rule": "r", "condition": "CART_SUBTOTAL_MIN >= 5000"}
    ]


def test_the_order_condition_map() -> None:
    shop = [pricing.OrderCondition.from_api(z) for z in ZONES]
    address = pricing.Shipping.from_api(
        {"country_code": "CA", "province_code": "SK", "postal_code": "R3C 4T3"}
    )
    assert conditions.order_condition_map(shop, address) == {"ZONE": "prairies", "POST": "winnipeg"}
