"""pricing-engine.md §3: the five layers, the rule-priority filter, stacking, the competitive choice.

Unless said otherwise the line is one unit at 1000, every ruleset picks every product and belongs
to app ``my-app``; ``pct(-10)`` is ``PRICE_ADJUST_PERCENT -10``.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import pricing
from tests.pricing.build import line, pct, rule, ruleset, unit, winner

GOLD = {"type": "CUSTOMER_GROUP", "value": "gold"}  # fails: the customer has no tags


def absolute(value: int) -> dict[str, Any]:
    return {"type": "PRICE_ADJUST_ABSOLUTE", "value": value}


def relative(value: int) -> dict[str, Any]:
    return {"type": "PRICE_ADJUST_RELATIVE", "value": value}


def one(
    eid: str,
    type: str,
    *actions: dict[str, Any],
    app: str = "my-app",
    priority: int = 0,
    rs_id: int | None = None,
    rule_priority: int | None = None,
    **rule_fields: Any,
) -> dict[str, Any]:
    """A ruleset ``eid`` of one rule; ``priority`` is the ruleset's, ``rule_priority`` the rule's."""
    if rule_priority is not None:
        rule_fields["priority"] = rule_priority
    fields: dict[str, Any] = {"priority": priority}
    if rs_id is not None:
        fields["id"] = rs_id
    return ruleset(
        eid, rule(f"{eid}-r", type, actions=list(actions), **rule_fields), app=app, **fields
    )


# --- layer 0: BASE_PRICE, priority filter then competitive ---------------------------------------

LAYER_0 = [
    (
        "the lowest base price wins",
        [one("b1", "BASE_PRICE", absolute(800)), one("b2", "BASE_PRICE", absolute(700))],
        700,
    ),
    ("a base price may raise the price", [one("b1", "BASE_PRICE", absolute(1200))], 1200),
    (
        "rule priority 0 shuts out priority 1 (filter before competition)",
        [
            one("b1", "BASE_PRICE", absolute(900)),
            one("b2", "BASE_PRICE", absolute(700), rule_priority=1),
        ],
        900,
    ),
    (
        "a priority-0 rule whose condition fails still shuts out priority 1",
        [
            one("b1", "BASE_PRICE", absolute(900), conditions=[GOLD]),
            one("b2", "BASE_PRICE", absolute(700), rule_priority=1),
        ],
        1000,
    ),
]

# --- layer 1: DISCOUNTABLE_ADDITION, priority filter then stacked ---------------------------------

LAYER_1 = [
    # 1000 + 100 = 1100; 1100 + round(1100 × 10 / 100) = 1210
    (
        "additions stack in stack order",
        [
            one("a1", "DISCOUNTABLE_ADDITION", relative(100), stack_order=1),
            one("a2", "DISCOUNTABLE_ADDITION", pct(10), stack_order=2),
        ],
        1210,
    ),
    # 1000 + 100 = 1100; 1100 + 100 = 1200
    (
        "stack order, not list order",
        [
            one("a1", "DISCOUNTABLE_ADDITION", relative(100), stack_order=2),
            one("a2", "DISCOUNTABLE_ADDITION", pct(10), stack_order=1),
        ],
        1200,
    ),
    (
        "the priority filter applies",
        [
            one("a1", "DISCOUNTABLE_ADDITION", relative(100), conditions=[GOLD]),
            one("a2", "DISCOUNTABLE_ADDITION", relative(50), rule_priority=1),
        ],
        1000,
    ),
    # 1000 + 100 = 1100, then the discount: 1100 - 110 = 990 (the addition is discounted)
    (
        "the addition is discounted by layer 2",
        [one("a1", "DISCOUNTABLE_ADDITION", relative(100)), one("d", "DISCOUNT", pct(-10))],
        990,
    ),
]

# --- layer 2: DISCOUNT / DISCOUNT_CODE, competitive, no priority filter -------------------------

LAYER_2 = [
    (
        "the lowest discount wins",
        [one("d1", "DISCOUNT", pct(-10)), one("d2", "DISCOUNT", pct(-20))],
        800,
    ),
    (
        "no priority filter: rule priority 5 still competes",
        [one("d1", "DISCOUNT", pct(-10)), one("d2", "DISCOUNT", pct(-20), rule_priority=5)],
        800,
    ),
    (
        "a failing rule shuts nothing out",
        [
            one("d1", "DISCOUNT", pct(-30), conditions=[GOLD]),
            one("d2", "DISCOUNT", pct(-20), rule_priority=5),
        ],
        800,
    ),
    (
        "a surcharge typed as a discount still wins when alone",
        [one("d1", "DISCOUNT", pct(25))],
        1250,
    ),
    (
        "a candidate below 0 is dropped",
        [one("d1", "DISCOUNT", relative(-1500)), one("d2", "DISCOUNT", pct(-10))],
        900,
    ),
    (
        "a candidate at exactly 0 stands",
        [one("d1", "DISCOUNT", absolute(0)), one("d2", "DISCOUNT", pct(-10))],
        0,
    ),
    (
        "stack_order 0 is no stack_order (the API fills it)",
        [one("d1", "DISCOUNT", pct(-10), stack_order=0)],
        900,
    ),
    (
        "a DISCOUNT carrying stack_order never prices",
        [one("d1", "DISCOUNT", pct(-10), stack_order=2)],
        1000,
    ),
    (
        "a DISCOUNT_CODE carrying stack_order never prices",
        [one("d1", "DISCOUNT_CODE", pct(-10), stack_order=1)],
        1000,
    ),
]

# --- layer 3: ADDITION, STACKABLE_DISCOUNT, ROUNDING, DISPLAY, SETTING: priority filter, stacked --

LAYER_3 = [
    *[
        # DISCOUNT first: 900; then the layer-3 rule: 900 + 55 = 955 (not discounted)
        (
            f"{kind} runs after the discount",
            [one("d", "DISCOUNT", pct(-10)), one("l3", kind, relative(55))],
            955,
        )
        for kind in ("ADDITION", "STACKABLE_DISCOUNT", "ROUNDING", "DISPLAY", "SETTING")
    ],
    # 1000 - 100 = 900, 900 + 55 = 955
    (
        "equal stack orders keep list order",
        [one("s1", "STACKABLE_DISCOUNT", pct(-10)), one("s2", "ADDITION", relative(55))],
        955,
    ),
    # 1000 + 55 = 1055, 1055 + round(-105.5) = 1055 - 105 = 950
    (
        "stack order decides",
        [
            one("s1", "STACKABLE_DISCOUNT", pct(-10), stack_order=2),
            one("s2", "ADDITION", relative(55), stack_order=1),
        ],
        950,
    ),
    (
        "a missing stack_order sorts as 0",
        [
            one("s1", "STACKABLE_DISCOUNT", pct(-10), stack_order=1),
            one("s2", "ADDITION", relative(55)),
        ],
        950,
    ),
    (
        "the priority filter applies",
        [
            one("s1", "STACKABLE_DISCOUNT", pct(-10), conditions=[GOLD]),
            one("s2", "STACKABLE_DISCOUNT", pct(-50), rule_priority=1),
        ],
        1000,
    ),
    # 1000 - 2000 < 0: skipped [I]; then 1000 - 100 = 900
    (
        "a stacked rule taking the price below 0 is skipped",
        [
            one("s1", "STACKABLE_DISCOUNT", relative(-2000)),
            one("s2", "STACKABLE_DISCOUNT", pct(-10)),
        ],
        900,
    ),
    (
        "CHARM_PRICE as ROUNDING",
        [
            one("d", "DISCOUNT", pct(-13)),
            one("r", "ROUNDING", {"type": "CHARM_PRICE", "value": 99}),
        ],
        899,
    ),
]


@pytest.mark.parametrize(
    ("rulesets", "expected"),
    [c[1:] for c in [*LAYER_0, *LAYER_1, *LAYER_2, *LAYER_3]],
    ids=[
        f"layer {n}: {c[0]}"
        for n, cases in enumerate([LAYER_0, LAYER_1, LAYER_2, LAYER_3])
        for c in cases
    ],
)
def test_layer(rulesets: list[dict[str, Any]], expected: int) -> None:
    assert unit(rulesets) == expected


def test_the_layers_run_in_order_each_from_the_last_price() -> None:
    priced = line(
        [
            one("charm", "ROUNDING", {"type": "CHARM_PRICE", "value": 99}, stack_order=2),
            one("staff", "STACKABLE_DISCOUNT", pct(-5), stack_order=1),
            one("sale", "DISCOUNT", pct(-10)),
            one("engraving", "DISCOUNTABLE_ADDITION", relative(100)),
            one("list", "BASE_PRICE", absolute(2000)),
        ]
    )
    # 0: 2000; 1: 2100; 2: 2100 - 210 = 1890; 3: 1890 + round(-94.5) = 1796, then charm → 1799
    assert [(s.layer, s.source.ruleset, s.after) for s in priced.steps] == [
        (0, "list", 2000),
        (1, "engraving", 2100),
        (2, "sale", 1890),
        (3, "staff", 1796),
        (3, "charm", 1799),
    ]
    assert priced.unit_price == 1799
    assert priced.base is not None and priced.base.source.ruleset == "list"
    assert [s.source.ruleset for s in priced.stacked] == ["engraving", "staff", "charm"]


# --- the competitive choice -------------------------------------------------------------------

CHOICE = [
    # my-app priority 0: 900 and 700 → 700; priority 1 (500) loses on priority; other-app 800
    (
        "per app the lowest ruleset priority, then across apps the lowest price",
        [
            one("x10", "DISCOUNT", pct(-10)),
            one("x30", "DISCOUNT", pct(-30)),
            one("x50", "DISCOUNT", pct(-50), priority=1),
            one("y20", "DISCOUNT", pct(-20), app="other-app"),
        ],
        "x30",
    ),
    (
        "another app's better price wins",
        [
            one("x30", "DISCOUNT", pct(-30)),
            one("x50", "DISCOUNT", pct(-50), priority=1),
            one("y40", "DISCOUNT", pct(-40), app="other-app"),
        ],
        "y40",
    ),
    # groups form from candidates whose conditions held: my-app's best group is then priority 1
    (
        "an app's group whose conditions fail is no group",
        [
            one("x30", "DISCOUNT", pct(-30), conditions=[GOLD]),
            one("x50", "DISCOUNT", pct(-50), priority=1),
            one("y20", "DISCOUNT", pct(-20), app="other-app"),
        ],
        "x50",
    ),
    (
        "a lower ruleset priority number wins even at a worse price",
        [one("x5", "DISCOUNT", pct(-5), priority=3), one("x50", "DISCOUNT", pct(-50), priority=7)],
        "x5",
    ),
    (
        "ties: the lower ruleset id first",
        [one("id7", "DISCOUNT", pct(-10), rs_id=7), one("id3", "DISCOUNT", pct(-10), rs_id=3)],
        "id3",
    ),
    (
        "ties across apps: the lower ruleset priority first",
        [
            one("p2", "DISCOUNT", pct(-10), priority=2, rs_id=1),
            one("p0", "DISCOUNT", pct(-10), app="other-app", rs_id=9),
        ],
        "p0",
    ),
    (
        "ties: rulesets with an id before planned ones",
        [one("new", "DISCOUNT", pct(-10)), one("old", "DISCOUNT", pct(-10), rs_id=50)],
        "old",
    ),
    (
        "ties without ids: the order given",
        [one("first", "DISCOUNT", pct(-10)), one("second", "DISCOUNT", pct(-10))],
        "first",
    ),
    # a rule that changes nothing is a candidate: my-app's priority-0 group holds it
    (
        "a rule leaving the price unchanged still competes",
        [
            one("ship", "DISCOUNT", {"type": "FREE_SHIPPING"}),
            one("x10", "DISCOUNT", pct(-10), priority=1),
        ],
        "ship",
    ),
]


@pytest.mark.parametrize(
    ("rulesets", "expected"), [c[1:] for c in CHOICE], ids=[c[0] for c in CHOICE]
)
def test_competitive_choice(rulesets: list[dict[str, Any]], expected: str) -> None:
    assert winner(rulesets) == expected


def test_ties_inside_a_ruleset_keep_rule_order() -> None:
    rs = ruleset("r", rule("first", actions=[pct(-10)]), rule("second", actions=[pct(-10)]))
    won = line([rs]).winner
    assert won is not None and won.source.rule == "first"


def test_the_winner_names_its_ruleset_rule_app_and_promotion() -> None:
    sale = ruleset(
        "spring",
        rule("gold-half-off", actions=[pct(-50)]),
        app="my-app",
        public_name="Spring sale",
        id=12,
    )
    priced = line([sale])
    assert priced.winner is not None
    assert priced.winner.source == pricing.RuleRef(
        app="my-app",
        ruleset="spring",
        rule="gold-half-off",
        type="DISCOUNT",
        public_name="Spring sale",
        ruleset_id=12,
    )
    assert str(priced.winner.source) == "[my-app] spring > gold-half-off"
    assert priced.promotion == "Spring sale"


# --- rule types the engine refuses -------------------------------------------------------------

REFUSED = [
    "CUSTOMER_GROUP",
    "QTY_BY_LINE",
    "QTY_BY_VARIANT",
    "QTY_BY_PRODUCT",
    "QTY_BY_MIX_AND_MATCH",
    "REF_URL",
    "LINE_ITEM_PROPERTY",
    "CUSTOMER_PROVINCE",
    "SUBSCRIPTION_GROUP",
    "SUBSCRIPTION_INTERVAL",
    "BUNDLE",
]


@pytest.mark.parametrize("rule_type", REFUSED)
def test_condition_names_as_rule_types_never_price(rule_type: str) -> None:
    rulesets = [one("typo", rule_type, pct(-50))]
    assert unit(rulesets) == 1000
    engine = pricing.Engine([pricing.Ruleset.from_api(r) for r in rulesets])
    [(ref, reason)] = engine.never_prices()
    assert (ref.ruleset, ref.rule) == ("typo", "typo-r")
    assert reason.startswith(f"rule type {rule_type} is not one the engine prices with")


def test_stack_order_on_a_discount_is_reported() -> None:
    refused = pricing.Rule.from_api({"type": "DISCOUNT", "stack_order": 2, "actions": [pct(-5)]})
    assert (
        pricing.why_never_prices(refused)
        == "a DISCOUNT rule must not carry stack_order (not a field of a Discount)"
    )
    assert (
        pricing.why_never_prices(
            pricing.Rule.from_api({"type": "STACKABLE_DISCOUNT", "stack_order": 2})
        )
        is None
    )
