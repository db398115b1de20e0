"""A ruleset's rules (``kinds/rules.py``): their normal form, shared between equal rules."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from reconciler import kinds, model
from reconciler.kinds import rules

SPEC = kinds.by_name[model.Kind.RULESET]


def live_rule(rule_id: int, value: Any, *, percent: Any = -10) -> dict[str, Any]:
    """A rule as a page of the API holds it (parsed from JSON, as the client does)."""
    rule: dict[str, Any] = json.loads(
        json.dumps(
            {
                "id": rule_id,
                "external_id": f"tier-{rule_id}",
                "type": "DISCOUNT",
                "conditions": [
                    {"type": "QTY_BY_PRODUCT", "value": value, "operator": ">="},
                    {"type": "CUSTOMER_GROUP", "value": "gold"},
                ],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": percent}],
                "meta": {},
                "priority": 0,
                "stack_order": 0,
            }
        )
    )
    return rule


def test_equal_rules_of_a_shop_normalise_alike_whatever_their_names() -> None:
    a, b = rules.normalise_rule(live_rule(1, 4)), rules.normalise_rule(live_rule(2, 4))
    assert (
        a
        == b
        == {
            "type": "DISCOUNT",
            "conditions": [  # a set, in the order of their canonical JSON
                {"type": "QTY_BY_PRODUCT", "value": 4, "operator": ">="},
                {"type": "CUSTOMER_GROUP", "value": "gold"},
            ],
            "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -10}],
            "meta": {},
            "priority": 0,
            "stack_order": 0,
        }
    )


def test_rules_that_differ_only_in_a_value_s_type_stay_apart() -> None:
    # 4 and 4.0 are one number to the API; 1 and True are not, nor is "1".
    seen = [
        rules.normalise_rule(live_rule(n, value))["conditions"][0]["value"]
        for n, value in enumerate((1, True, 1.0, "1", True, 1))
    ]
    assert [type(v) for v in seen] == [int, bool, int, str, bool, int]
    percents = [
        rules.normalise_rule(live_rule(9, 1, percent=p))["actions"][0]["value"]
        for p in (-10, -10.5, -10.0)
    ]
    assert [(type(p), p) for p in percents] == [(int, -10), (float, -10.5), (int, -10)]


def test_a_rule_holding_what_json_cannot_say_is_normalised_as_it_is() -> None:
    # A manifest may hold a YAML date; such a rule is not remembered, only normalised.
    rule = live_rule(3, 2)
    rule["conditions"][0]["value"] = dt.date(2027, 1, 1)
    assert rules.normalise_rule(rule)["conditions"][0]["value"] == dt.date(2027, 1, 1)


def test_a_live_ruleset_and_its_manifest_compare_equal_down_to_their_bytes() -> None:
    declared = {
        "external_id": "spring",
        "rules": [
            {
                "external_id": "tier-1",
                "type": "DISCOUNT",
                "conditions": [
                    {"type": "CUSTOMER_GROUP", "value": "gold"},
                    {"type": "QTY_BY_PRODUCT", "operator": ">=", "value": 4},
                ],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -10}],
            }
        ],
    }
    live = {"id": 7, "external_id": "spring", "rules": [live_rule(1, 4)]}
    desired = SPEC.resource(declared, model.Origin("pricing/spring.yaml", 3, 5))
    assert SPEC.resource(live).exact == desired.exact
    assert SPEC.resource({**live, "rules": [live_rule(1, 5)]}).exact != desired.exact
