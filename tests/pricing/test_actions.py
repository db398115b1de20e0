"""pricing-engine.md §5: every action, with the cents worked out by hand, and JavaScript rounding.

Each case is one DISCOUNT rule carrying the actions, on one line (price and quantity given).
``Math.round`` rounds halves toward +∞: round(-100.5) = -100, round(100.5) = 101.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import pricing
from tests.pricing.build import line, rule, ruleset


def a(type: str, value: Any = None, **fields: Any) -> dict[str, Any]:
    action: dict[str, Any] = {"type": type, **fields}
    if value is not None:
        action["value"] = value
    return action


P, R, A = "PRICE_ADJUST_PERCENT", "PRICE_ADJUST_RELATIVE", "PRICE_ADJUST_ABSOLUTE"

# (id, actions, price, quantity, unit price)
CASES: list[tuple[str, list[dict[str, Any]], int, int, int]] = [
    # PRICE_ADJUST_PERCENT: price + Math.round(price × value / 100)
    ("percent -10", [a(P, -10)], 1000, 1, 900),
    (
        "percent: the spec's half, 1005 at -10: 1005 + round(-100.5) = 1005 - 100",
        [a(P, -10)],
        1005,
        1,
        905,
    ),
    ("percent: 1015 at -10: 1015 + round(-101.5) = 1015 - 101", [a(P, -10)], 1015, 1, 914),
    ("percent: 1050 at -15: round(-157.5) = -157, not Python's -158", [a(P, -15)], 1050, 1, 893),
    (
        "percent: a surcharge, 1005 at +10: 1005 + round(100.5) = 1005 + 101",
        [a(P, 10)],
        1005,
        1,
        1106,
    ),
    ("percent: 9000 at -20 (Bold's example)", [a(P, -20)], 9000, 1, 7200),
    ("percent: 999 at -33: round(-329.67) = -330", [a(P, -33)], 999, 1, 669),
    ("percent: 1 at -50: round(-0.5) = -0", [a(P, -50)], 1, 1, 1),
    ("percent: 3 at -50: round(-1.5) = -1", [a(P, -50)], 3, 1, 2),
    ("percent -100", [a(P, -100)], 1000, 1, 0),
    ("percent 0", [a(P, 0)], 1000, 1, 1000),
    ("percent: a fraction, 1001 at -12.5: round(-125.125) = -125", [a(P, -12.5)], 1001, 1, 876),
    ("percent: a numeric string value", [a(P, "-10")], 1000, 1, 900),
    # PRICE_ADJUST_RELATIVE: price + value
    ("relative -250", [a(R, -250)], 1000, 1, 750),
    ("relative +250", [a(R, 250)], 1000, 1, 1250),
    ("relative down to exactly 0", [a(R, -1000)], 1000, 1, 0),
    ("relative below 0: the candidate is dropped", [a(R, -1001)], 1000, 1, 1000),
    ("relative: half a cent up, 1000.5 → 1001 [I]", [a(R, 0.5)], 1000, 1, 1001),
    ("relative: half a cent down, 999.5 → 1000 [I]", [a(R, -0.5)], 1000, 1, 1000),
    # PRICE_ADJUST_ABSOLUTE: the value
    ("absolute 1799", [a(A, 1799)], 1000, 1, 1799),
    ("absolute 17 (the typo the guardrails catch)", [a(A, 17)], 1799, 1, 17),
    ("absolute 0", [a(A, 0)], 1000, 1, 0),
    ("absolute 12.5 → 13 [I]", [a(A, 12.5)], 1000, 1, 13),
    ("an action without a value changes nothing", [a(A)], 1000, 1, 1000),
    # *_WITH_LIMIT: the first `limit` units adjusted; round((adjusted × n + original × (qty − n)) / qty)
    (
        "absolute with limit: the spec's 1000, 500, limit 2, qty 3: round(2000 / 3 = 666.67)",
        [a(f"{A}_WITH_LIMIT", 500, limit=2)],
        1000,
        3,
        667,
    ),
    (
        "absolute with limit, qty within the limit",
        [a(f"{A}_WITH_LIMIT", 500, limit=2)],
        1000,
        2,
        500,
    ),
    (
        "absolute with limit 0: nothing adjusted",
        [a(f"{A}_WITH_LIMIT", 500, limit=0)],
        1000,
        3,
        1000,
    ),
    ("absolute with limit above the qty", [a(f"{A}_WITH_LIMIT", 500, limit=5)], 1000, 3, 500),
    ("absolute with no limit given: every unit", [a(f"{A}_WITH_LIMIT", 500)], 1000, 3, 500),
    (
        "percent with limit: 500 × 1 + 1000 × 3 = 3500 / 4 = 875",
        [a(f"{P}_WITH_LIMIT", -50, limit=1)],
        1000,
        4,
        875,
    ),
    (
        "relative with limit: 700 × 2 + 1000 × 1 = 2400 / 3 = 800",
        [a(f"{R}_WITH_LIMIT", -300, limit=2)],
        1000,
        3,
        800,
    ),
    (
        "limit blend at a half: (500 + 1001) / 2 = 750.5 → 751",
        [a(f"{A}_WITH_LIMIT", 500, limit=1)],
        1001,
        2,
        751,
    ),
    (
        "absolute 0 with limit 1 of 3: 2000 / 3 = 666.67 → 667",
        [a(f"{A}_WITH_LIMIT", 0, limit=1)],
        1000,
        3,
        667,
    ),
    # CHARM_PRICE: at 100 or more, drop the cents and add the value
    ("charm 1234 with 99", [a("CHARM_PRICE", 99)], 1234, 1, 1299),
    ("charm 1200 with 99", [a("CHARM_PRICE", 99)], 1200, 1, 1299),
    ("charm 1299 with 95", [a("CHARM_PRICE", 95)], 1299, 1, 1295),
    ("charm exactly 100", [a("CHARM_PRICE", 99)], 100, 1, 199),
    ("charm below 100: unchanged", [a("CHARM_PRICE", 99)], 99, 1, 99),
    ("charm with 0", [a("CHARM_PRICE", 0)], 1234, 1, 1200),
    # CASE_PRICING: round((⌊qty/size⌋ × case_price + (qty mod size) × price) / qty), when qty ≥ size
    ("case: short of a case", [a("CASE_PRICING", case_price=5000, case_size=6)], 1000, 5, 1000),
    (
        "case: one case, 5000 / 6 = 833.33",
        [a("CASE_PRICING", case_price=5000, case_size=6)],
        1000,
        6,
        833,
    ),
    (
        "case: one case and 1, 6000 / 7 = 857.14",
        [a("CASE_PRICING", case_price=5000, case_size=6)],
        1000,
        7,
        857,
    ),
    (
        "case: one case and 2, 7000 / 8 = 875",
        [a("CASE_PRICING", case_price=5000, case_size=6)],
        1000,
        8,
        875,
    ),
    (
        "case: two cases, 10000 / 12 = 833.33",
        [a("CASE_PRICING", case_price=5000, case_size=6)],
        1000,
        12,
        833,
    ),
    (
        "case: a half cent, 2002 / 4 = 500.5 → 501",
        [a("CASE_PRICING", case_price=2002, case_size=4)],
        1000,
        4,
        501,
    ),
    (
        "case: size 0 changes nothing [I]",
        [a("CASE_PRICING", case_price=5000, case_size=0)],
        1000,
        8,
        1000,
    ),
    ("case: no case price changes nothing", [a("CASE_PRICING", case_size=6)], 1000, 8, 1000),
    # applied at checkout: no effect on the item's price
    *[
        (f"{t}: at checkout", [a(t, -50)], 1000, 1, 1000)
        for t in [
            "FREE_SHIPPING",
            "SHIPPING_ADJUST_RELATIVE",
            "SHIPPING_ADJUST_PERCENT",
            "CART_ADJUST_RELATIVE",
            "CART_ADJUST_PERCENT",
        ]
    ],
    (
        "a cart-level action on a line rule: no effect",
        [a("CART_LEVEL_DISCOUNT_PERCENT", -10)],
        1000,
        1,
        1000,
    ),
    ("an unknown action: no effect [I]", [a("PRICE_ADJUST_MAGIC", -10)], 1000, 1, 1000),
    # in list order, each on the running price
    ("percent then relative: 900 - 50", [a(P, -10), a(R, -50)], 1000, 1, 850),
    ("relative then percent: 950 - 95", [a(R, -50), a(P, -10)], 1000, 1, 855),
    ("absolute then charm", [a(A, 2000), a("CHARM_PRICE", 99)], 1000, 1, 2099),
    (
        "below 0 midway, back above at the end: the rule stands",
        [a(R, -2000), a(A, 300)],
        1000,
        1,
        300,
    ),
]


@pytest.mark.parametrize(
    ("actions", "price", "quantity", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_action(actions: list[dict[str, Any]], price: int, quantity: int, expected: int) -> None:
    item = {"sku": "X", "variant_id": "1", "product_id": "1", "price": price, "quantity": quantity}
    priced = line([ruleset("s", rule("r", actions=actions))], items=[item])
    assert (priced.unit_price, priced.line_total) == (expected, expected * quantity)


def test_checkout_actions_are_listed_and_the_rule_still_applies() -> None:
    actions = [a("FREE_SHIPPING"), a("SHIPPING_ADJUST_PERCENT", -50), a(P, -10)]
    priced = line([ruleset("s", rule("r", actions=actions))])
    assert priced.unit_price == 900
    assert [(ref.ruleset, act.describe()) for ref, act in priced.at_checkout] == [
        ("s", "FREE_SHIPPING"),
        ("s", "SHIPPING_ADJUST_PERCENT -50"),
    ]
    assert priced.as_json()["at_checkout"] == [
        {"ruleset": "s", "rule": "r", "action": "FREE_SHIPPING"},
        {"ruleset": "s", "rule": "r", "action": "SHIPPING_ADJUST_PERCENT -50"},
    ]


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (-100.5, -100),
        (100.5, 101),
        (-0.5, 0),
        (0.5, 1),
        (-1.5, -1),
        (2.5, 3),
        (0.49999999999999994, 0),
        (-2.4, -2),
        (-2.6, -3),
        (7, 7),
        (1e15 + 0.5, 1_000_000_000_000_001),
    ],
)
def test_js_round_is_math_round(x: float, expected: int) -> None:
    assert pricing.js_round(x) == expected
