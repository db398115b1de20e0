"""Whole carts: limits counted across lines, layer-4 cart-level discounts, discount codes as
DISCOUNT_CODE rules, single-product calls, the JSON answer, and reading inputs from plain dicts."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import pricing
from tests.pricing.build import AT, ITEM, cart, line, pct, rule, ruleset

A_LIMIT = "PRICE_ADJUST_ABSOLUTE_WITH_LIMIT"


def limited(limit_scope: str | None = None, limit: int = 2) -> dict[str, Any]:
    action: dict[str, Any] = {"type": A_LIMIT, "value": 500, "limit": limit}
    if limit_scope:
        action["limit_scope"] = limit_scope
    return ruleset("limited", rule("two-at-500", actions=[action]))


# Three lines at 1000: variant 1001 (qty 1), variant 1001 again (qty 3), variant 1002 of the same
# product (qty 3).
LINES = [
    {"sku": "S-1", "product_id": "100", "variant_id": "1001", "price": 1000, "quantity": 1},
    {"sku": "S-1b", "product_id": "100", "variant_id": "1001", "price": 1000, "quantity": 3},
    {"sku": "S-2", "product_id": "100", "variant_id": "1002", "price": 1000, "quantity": 3},
]

LIMIT_SCOPES = [
    # variant (default): 1001 gets 2 units in all: line 1 takes 1 (500); line 2 the other:
    # (500 + 2000) / 3 = 833.33 → 833; variant 1002 has its own 2: (1000 + 1000) / 3 = 666.67 → 667
    ("variant, the default", None, [500, 833, 667]),
    ("variant", "variant", [500, 833, 667]),
    # product: 2 units for product 100 in all: line 1 one, line 2 one (833), line 3 none
    ("product", "product", [500, 833, 1000]),
    # lineitem: 2 units per line: 500, (1000 + 1000) / 3 = 667 twice
    ("lineitem", "lineitem", [500, 667, 667]),
]


@pytest.mark.parametrize(
    ("scope", "expected"), [c[1:] for c in LIMIT_SCOPES], ids=[c[0] for c in LIMIT_SCOPES]
)
def test_limits_are_counted_per_scope_across_the_cart(
    scope: str | None, expected: list[int]
) -> None:
    priced = cart([limited(scope)], items=LINES)
    assert [p.unit_price for p in priced.lines] == expected


def test_only_an_applied_rule_uses_up_its_limit() -> None:
    first_only = ruleset(
        "first-only",
        rule("f", actions=[{"type": "PRICE_ADJUST_ABSOLUTE", "value": 400}]),
        app="other-app",
        selection={"type": "PRODUCT_SEARCH", "sku_ids": ["S-1"]},
    )
    two = [LINES[0], {**LINES[1], "quantity": 2}]
    priced = cart([limited(), first_only], items=two)
    # line 1: 400 (other app) beats 500, so the limited rule took nothing; line 2 gets both units
    assert [p.unit_price for p in priced.lines] == [400, 500]
    assert [p.winner.source.ruleset for p in priced.lines if p.winner] == ["first-only", "limited"]


# --- layer 4: CART_LEVEL_DISCOUNT on the subtotal -------------------------------------------------


def cart_level(eid: str, type: str, value: float, **fields: Any) -> dict[str, Any]:
    return ruleset(
        eid,
        rule(f"{eid}-r", "CART_LEVEL_DISCOUNT", actions=[{"type": type, "value": value}], **fields),
    )


REL, PCT = "CART_LEVEL_DISCOUNT_RELATIVE", "CART_LEVEL_DISCOUNT_PERCENT"
THREE = [{**ITEM, "quantity": 3}]  # subtotal 3000

CART_LEVEL = [
    ("fixed: 3000 - 500", [cart_level("c", REL, -500)], THREE, 2500),
    ("fixed: the sign does not matter, |value|", [cart_level("c", REL, 500)], THREE, 2500),
    ("fixed: down to 1", [cart_level("c", REL, -2999)], THREE, 1),
    ("fixed: a result of 0 is ignored", [cart_level("c", REL, -3000)], THREE, 3000),
    ("percent: 3000 - round(300)", [cart_level("c", PCT, -10)], THREE, 2700),
    (
        "percent: 1005 - round(100.5) = 1005 - 101",
        [cart_level("c", PCT, -10)],
        [{**ITEM, "price": 1005}],
        904,
    ),
    ("percent: 99% is taken", [cart_level("c", PCT, -99)], THREE, 30),
    ("percent: 100% is ignored", [cart_level("c", PCT, -100)], THREE, 3000),
    # stacked by stack_order: 3000 → 2700 → 2200, or 3000 → 2500 → 2250
    (
        "stacked: percent first",
        [cart_level("p", PCT, -10, stack_order=1), cart_level("f", REL, -500, stack_order=2)],
        THREE,
        2200,
    ),
    (
        "stacked: fixed first",
        [cart_level("p", PCT, -10, stack_order=2), cart_level("f", REL, -500, stack_order=1)],
        THREE,
        2250,
    ),
    (
        "a failing condition",
        [
            ruleset(
                "c",
                rule(
                    "r",
                    "CART_LEVEL_DISCOUNT",
                    actions=[{"type": REL, "value": -500}],
                    conditions=[{"type": "CUSTOMER_GROUP", "value": "gold"}],
                ),
            )
        ],
        THREE,
        3000,
    ),
    (
        "a selection picking no line",
        [
            ruleset(
                "c",
                rule("r", "CART_LEVEL_DISCOUNT", actions=[{"type": REL, "value": -500}]),
                selection={"type": "PRODUCT_SEARCH", "sku_ids": ["NOPE"]},
            )
        ],
        THREE,
        3000,
    ),
    # the line discount first: 3 × 900 = 2700; then 2700 - 500
    ("after the line prices", [ruleset("d", rule("d")), cart_level("c", REL, -500)], THREE, 2200),
    (
        "once per cart, whatever the lines it picks",
        [cart_level("c", REL, -500)],
        [ITEM, {**ITEM, "sku": "B", "variant_id": "2"}],
        1500,
    ),
]


@pytest.mark.parametrize(
    ("rulesets", "items", "total"), [c[1:] for c in CART_LEVEL], ids=[c[0] for c in CART_LEVEL]
)
def test_cart_level_discounts(
    rulesets: list[dict[str, Any]], items: list[dict[str, Any]], total: int
) -> None:
    assert cart(rulesets, items=items).total == total


def test_cart_level_steps_say_what_they_took() -> None:
    priced = cart(
        [cart_level("p", PCT, -10, stack_order=1), cart_level("f", REL, -500, stack_order=2)],
        items=THREE,
    )
    assert priced.subtotal == 3000
    assert [(s.source.ruleset, s.before, s.after) for s in priced.cart_steps] == [
        ("p", 3000, 2700),
        ("f", 2700, 2200),
    ]
    assert [p.unit_price for p in priced.lines] == [1000]  # line prices are untouched


def test_a_single_product_call_has_no_cart_level_discount() -> None:
    assert cart([cart_level("c", REL, -500)], items=THREE, cart_context=False).total == 3000


# --- discount codes: rulesets of Bold's discount-code app, DISCOUNT_CODE rules --------------------

SPRING = {
    "code": "SPRING15",
    "action": {"type": "PRICE_ADJUST_PERCENT", "value": -15},
    "product_selection": {"type": "PRODUCTS_ALL"},
    "conditions": [{"type": "CUSTOMER_IN_ANY_GROUP_FROM_LIST", "list": ["gold", "silver"]}],
    "limits": [{"limit_type": "per_customer", "limit_amount": 1}],
}


def price_with_code(
    *rulesets: dict[str, Any],
    code: str | None = "spring15",
    tags: list[str] | None = None,
    **spring: Any,
) -> pricing.LinePrice:
    engine = pricing.Engine(
        [
            pricing.Ruleset.from_discount_code({**SPRING, **spring}),
            *(pricing.Ruleset.from_api(r) for r in rulesets),
        ]
    )
    body: dict[str, Any] = {
        "items": [ITEM],
        "customer": {"tags": ["gold"] if tags is None else tags},
    }
    if code:
        body["discount_code"] = code
    return engine.price(pricing.Cart.from_api(body), at=AT).lines[0]


def test_a_discount_code_prices_as_a_discount_code_rule() -> None:
    priced = price_with_code()
    assert priced.unit_price == 850  # 1000 - 150
    assert priced.discount_code == "SPRING15"
    assert priced.winner is not None and priced.winner.source.app == pricing.DISCOUNT_CODE_APP
    found = priced.as_json()
    assert (found["ruleset"], found["rule"], found["discount_code"]) == (None, None, "SPRING15")


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        ("no code typed", {"code": None}, 1000),
        ("another code", {"code": "SUMMER"}, 1000),
        ("the code's own condition fails", {"tags": ["bronze"]}, 1000),
        ("the code has expired", {"expiry_date": "2027-01-01T00:00:00Z"}, 1000),
        (
            "the code names other products",
            {"product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["X"]}},
            1000,
        ),
    ],
)
def test_a_discount_code_needs_its_code_and_conditions(
    case: str, kwargs: dict[str, Any], expected: int
) -> None:
    assert price_with_code(**kwargs).unit_price == expected


def test_a_planned_code_names_itself() -> None:
    # a manifest entry states `codes`; the normalised body keeps the code in its identity only
    planned: dict[str, Any] = {key: value for key, value in SPRING.items() if key != "code"} | {
        "codes": ["SPRING15", "EASTER"]
    }
    engine = pricing.Engine(
        [pricing.Ruleset.from_discount_code(planned, code=code) for code in planned["codes"]]
    )
    body = {"items": [ITEM], "customer": {"tags": ["silver"]}, "discount_code": "easter"}
    priced = engine.price(pricing.Cart.from_api(body), at=AT).lines[0]
    assert (priced.unit_price, priced.discount_code) == (850, "EASTER")


def test_a_code_competes_with_other_apps_discounts_for_the_best_price() -> None:
    better = ruleset("sale", rule("twenty", actions=[pct(-20)]))
    worse = ruleset("sale", rule("ten", actions=[pct(-10)]))
    assert (price_with_code(better).unit_price, price_with_code(better).discount_code) == (
        800,
        None,
    )
    assert (price_with_code(worse).unit_price, price_with_code(worse).discount_code) == (
        850,
        "SPRING15",
    )


def test_a_live_backing_ruleset_prices_too() -> None:
    # the shape Bold (and the sandbox) list for a code's ruleset with include_all_apps
    backing = {
        "id": 88,
        "external_id": "discount-code-5",
        "public_name": "SPRING15",
        "active": True,
        "priority": 0,
        "start_date": None,
        "expiry_date": None,
        "product_selection": {"type": "PRODUCTS_ALL"},
        "rules": [
            {
                "id": 9,
                "external_id": "discount-code",
                "type": "DISCOUNT_CODE",
                "priority": 0,
                "stack_order": 0,
                "conditions": [{"type": "DISCOUNT_CODE", "value": "SPRING15"}],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -15}],
                "meta": {},
            }
        ],
    }
    engine = pricing.Engine([pricing.Ruleset.from_api(backing, app=pricing.DISCOUNT_CODE_APP)])
    priced = engine.price(
        pricing.Cart.from_api({"items": [ITEM], "discount_code": "Spring15"}), at=AT
    ).lines[0]
    assert (priced.unit_price, priced.discount_code) == (850, "SPRING15")
    assert priced.winner is not None and (
        priced.winner.source.ruleset_id,
        priced.winner.source.rule_id,
    ) == (88, 9)


# --- the answer as JSON -------------------------------------------------------------------------


def test_the_cart_as_json() -> None:
    rulesets = [
        ruleset(
            "sale",
            rule(
                "gold",
                actions=[pct(-10), {"type": "FREE_SHIPPING"}],
                conditions=[{"type": "CART_SUBTOTAL_MIN", "operator": ">=", "value": 5000}],
            ),
        ),
        ruleset("staff", rule("five", "STACKABLE_DISCOUNT", actions=[pct(-5)])),
        cart_level("bulk", REL, -100),
    ]
    priced = cart(rulesets, items=[{**ITEM, "quantity": 2}])
    assert priced.as_json() == {
        "name": None,
        "subtotal": 1710,  # 1000 → 900 → 900 - 45 = 855; × 2
        "total": 1610,
        "cart_discounts": [
            {
                "layer": 4,
                "app": "my-app",
                "ruleset": "bulk",
                "rule": "bulk-r",
                "type": "CART_LEVEL_DISCOUNT",
                "before": 1710,
                "after": 1610,
                "assumed": [],
                "at_checkout": [],
            }
        ],
        "lines": [
            {
                "sku": "SHIRT-1",
                "quantity": 2,
                "price": 1000,
                "unit_price": 855,
                "line_total": 1710,
                "app": "my-app",
                "ruleset": "sale",
                "rule": "gold",
                "discount_code": None,
                "base": None,
                "stacked": [
                    {
                        "layer": 3,
                        "app": "my-app",
                        "ruleset": "staff",
                        "rule": "five",
                        "type": "STACKABLE_DISCOUNT",
                        "before": 900,
                        "after": 855,
                    }
                ],
                "assumed": [
                    {"ruleset": "sale", "rule": "gold", "condition": "CART_SUBTOTAL_MIN >= 5000"}
                ],
                "at_checkout": [{"ruleset": "sale", "rule": "gold", "action": "FREE_SHIPPING"}],
            }
        ],
    }


def test_a_line_no_rule_prices() -> None:
    priced = line([])
    assert (priced.unit_price, priced.winner, priced.promotion, priced.stacked) == (
        1000,
        None,
        None,
        (),
    )
    assert priced.as_json()["ruleset"] is None


# --- inputs from plain dicts --------------------------------------------------------------------


def test_a_normalised_manifest_body_reads_like_the_api() -> None:
    # boldrules' normalised form keys rules by external id and keeps the server id aside
    body = {
        "external_id": "spring",
        "public_name": "",
        "active": True,
        "priority": 3,
        "start_date": None,
        "expiry_date": "2027-04-01T00:00:00Z",
        "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["SHIRT-1"]},
        "rules": {
            "gold": {
                "type": "DISCOUNT",
                "conditions": [],
                "actions": [pct(-10)],
                "meta": {},
                "priority": 0,
                "stack_order": 0,
            }
        },
    }
    ruleset_ = pricing.Ruleset.from_api(body, app="my-app", id=41)
    assert (ruleset_.id, ruleset_.app, ruleset_.priority, ruleset_.rules[0].external_id) == (
        41,
        "my-app",
        3,
        "gold",
    )
    assert (
        pricing.Engine([ruleset_])
        .price(pricing.Cart.from_api({"items": [ITEM]}), at=AT)
        .lines[0]
        .unit_price
        == 900
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "c1", "items": [{"price": "ten"}]},
            "cart c1 > items[0].price: expected a number, got 'ten'",
        ),
        ({"items": [{"price": 10.5}]}, "cart > items[0].price: expected whole cents, got 10.5"),
        ({"items": [{"price": -1}]}, "cart > items[0].price: expected cents ≥ 0, got -1"),
        (
            {"items": [{"price": 100, "quantity": 0}]},
            "cart > items[0].quantity: expected ≥ 1, got 0",
        ),
        (
            {"items": [], "at": "next tuesday"},
            "cart > at: not an RFC 3339 date-time: 'next tuesday'",
        ),
        (
            {"items": [], "customer": {"tags": 5}},
            "cart > customer.tags: expected a list of strings, got 5",
        ),
    ],
)
def test_unreadable_carts_name_the_field(body: dict[str, Any], message: str) -> None:
    with pytest.raises(pricing.PricingInputError) as caught:
        pricing.Cart.from_api(body)
    assert str(caught.value) == message


def test_unreadable_rulesets_name_the_rule() -> None:
    body = {
        "external_id": "spring",
        "product_selection": {"type": "PRODUCTS_ALL"},
        "rules": [
            {
                "external_id": "gold",
                "type": "DISCOUNT",
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": "lots"}],
            }
        ],
    }
    with pytest.raises(pricing.PricingInputError) as caught:
        pricing.Ruleset.from_api(body)
    assert (
        str(caught.value)
        == "ruleset spring > rules[gold].actions[0].value: expected a number, got 'lots'"
    )
