"""The evaluator's inputs read from the API's JSON: which listed rulesets are discount codes'."""

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
