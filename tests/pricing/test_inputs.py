"""The evaluator's inputs read from the API's JSON: which listed rulesets are discount codes';
reading rulesets with ``pricing.Parts`` gives the same rulesets and the same errors as reading
each alone, with equal rules, conditions and actions one object each."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import pricing


def code_rule(*codes: str, type: str = "DISCOUNT_CODE") -> dict[str, Any]:
    return {
        "type": type,
        "conditions": [{"type": "DISCOUNT_CODE", "value": c} for c in codes],
        "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -15}],
    }


@pytest.mark.parametrize(
    ("rules", "codes"),
    [
        ([code_rule("SPRING15")], {"spring15"}),
        ([code_rule("A"), code_rule("b")], {"a", "b"}),
        ([code_rule("A"), code_rule("B", type="DISCOUNT")], None),  # one rule not a code's
        ([code_rule()], None),  # a DISCOUNT_CODE rule naming no code
        ([], None),
        ("not a list", None),
    ],
)
def test_a_codes_ruleset_is_known_by_its_rules(rules: Any, codes: set[str] | None) -> None:
    found = pricing.backed_codes({"id": 7, "rules": rules})
    assert found == (None if codes is None else frozenset(codes))


def _ruleset(name: str, value: Any, percent: Any = -10, **rule: Any) -> dict[str, Any]:
    return {
        "external_id": name,
        "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["A"]},
        "start_date": "2027-03-01T00:00:00Z",
        "rules": [
            {
                "external_id": "gold",
                "type": "DISCOUNT",
                "conditions": [{"type": "QTY_BY_VARIANT", "operator": ">=", "value": value}],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": percent}],
                **rule,
            }
        ],
    }


BODIES = [
    _ruleset("a", 6),
    _ruleset("b", 6),  # the same rule as a's
    _ruleset("c", 6.0),  # equal to 6, printed apart
    _ruleset("d", True),
    _ruleset("e", "6"),
    _ruleset("f", 6, percent=-10.0),
    _ruleset("g", 6, priority=2),
    _ruleset("h", 6, priority=2.5),
    _ruleset("i", 6, conditions=({"type": "CUSTOMER_GROUP", "value": "gold"},)),  # a tuple
    _ruleset("j", 6, conditions=[{"type": "CUSTOMER_IN_ANY_GROUP_FROM_LIST", "list": ["x"]}]),
    _ruleset("k", 6, conditions=[{"type": "CUSTOMER_IN_ANY_GROUP_FROM_LIST", "list": ["y"]}]),
    {**_ruleset("l", 6), "rules": {"gold": _ruleset("l", 6)["rules"][0]}},  # normalised form
]


def test_parts_read_every_ruleset_as_reading_it_alone_does() -> None:
    parts = pricing.Parts()
    shared = [pricing.Ruleset.from_api(body, app="x", parts=parts) for body in BODIES]
    alone = [pricing.Ruleset.from_api(body, app="x") for body in BODIES]
    assert shared == alone
    # Equal is not enough where a value prints apart: 6, 6.0, True and "6" stay themselves.
    for got, expected in zip(shared, alone, strict=True):
        for rule, want in zip(got.rules, expected.rules, strict=True):
            assert [repr(c) for c in rule.conditions] == [repr(c) for c in want.conditions]
            assert [repr(a) for a in rule.actions] == [repr(a) for a in want.actions]
            assert repr(rule.priority) == repr(want.priority)
    assert [c.describe() for rs in shared for c in rs.rules[0].conditions][:5] == [
        "QTY_BY_VARIANT >= 6",
        "QTY_BY_VARIANT >= 6",
        "QTY_BY_VARIANT >= 6.0",
        "QTY_BY_VARIANT >= True",
        "QTY_BY_VARIANT >= 6",
    ]


def test_parts_share_equal_rules_conditions_and_actions() -> None:
    parts = pricing.Parts()
    a, b, c, *_ = [pricing.Ruleset.from_api(body, parts=parts) for body in BODIES]
    assert a.rules[0] is b.rules[0]
    assert a.rules[0].actions is c.rules[0].actions
    assert a.rules[0].conditions is not c.rules[0].conditions  # 6 and 6.0
    assert a.start_date is b.start_date


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"actions": [{"type": "PRICE_ADJUST_PERCENT", "value": "lots"}]},
            "ruleset r > rules[gold].actions[0].value: expected a number, got 'lots'",
        ),
        (
            {"conditions": [{"type": "CUSTOMER_GROUP", "value": "gold"}, {"value": {}}]},
            "ruleset r > rules[gold].conditions[1].value: expected a scalar, got {}",
        ),
        (
            {"conditions": [{"type": "CUSTOMER_GROUP", "value": ["gold"]}]},
            "ruleset r > rules[gold].conditions[0].value: expected a scalar, got ['gold']",
        ),
        (
            {"conditions": "gold"},
            "ruleset r > rules[gold].conditions: expected a list, got 'gold'",
        ),
        ({"priority": "high"}, "ruleset r > rules[gold].priority: expected a number, got 'high'"),
        ({"priority": [1]}, "ruleset r > rules[gold].priority: expected a number, got [1]"),
    ],
)
def test_parts_name_the_field_as_reading_alone_does(rule: dict[str, Any], message: str) -> None:
    body = _ruleset("r", 6, **rule)
    for parts in (None, pricing.Parts()):
        with pytest.raises(pricing.PricingInputError) as caught:
            pricing.Ruleset.from_api(body, parts=parts)
        assert str(caught.value) == message
