"""pricing-engine.md §6: every worked example, priced to the cent with the winner named.

One item at 1500, quantity 5; rulesets A "10% for 5 or more" (QTY_BY_VARIANT >= 5, -10),
B "5% off" (-5), C "20% off" (-20), all DISCOUNT, all in one app unless said.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.pricing.build import line, pct, rule, ruleset

ITEM = {"sku": "TEE", "product_id": "7", "variant_id": "70", "price": 1500, "quantity": 5}
QTY_5 = {"type": "QTY_BY_VARIANT", "operator": ">=", "value": 5}


def a(**fields: Any) -> dict[str, Any]:
    return ruleset("A", rule("a", conditions=[QTY_5], actions=[pct(-10)]), **fields)


def b(**fields: Any) -> dict[str, Any]:
    return ruleset("B", rule("b", actions=[pct(-5)]), **fields)


def c(type: str = "DISCOUNT", **fields: Any) -> dict[str, Any]:
    return ruleset("C", rule("c", type, actions=[pct(-20)]), **fields)


def test_no_priorities_the_lowest_candidate_wins() -> None:
    # candidates 1500-150 = 1350 (A), 1500-75 = 1425 (B), 1500-300 = 1200 (C)
    priced = line([a(), b(), c()], items=[ITEM])
    assert (priced.unit_price, priced.line_total) == (1200, 6000)
    assert priced.winner is not None and priced.winner.source.ruleset == "C"
    assert priced.stacked == ()


def test_an_employee_discount_stacks_on_the_winner() -> None:
    # layer 2 picks A (1350 < 1425); layer 3 applies C: 1350 + round(1350 × -20 / 100) = 1080
    priced = line([a(), b(), c("STACKABLE_DISCOUNT")], items=[ITEM])
    assert priced.unit_price == 1080
    assert priced.winner is not None and priced.winner.source.ruleset == "A"
    assert [(s.source.ruleset, s.before, s.after) for s in priced.stacked] == [("C", 1350, 1080)]


def test_inside_one_app_ruleset_priority_beats_price() -> None:
    # B at priority 1 (1425), C at priority 2 (1200), A absent: same app → priority 1 wins
    priced = line([b(priority=1), c(priority=2)], items=[ITEM])
    assert priced.unit_price == 1425
    assert priced.winner is not None and priced.winner.source.ruleset == "B"


def test_across_apps_the_best_price_wins() -> None:
    priced = line([b(priority=1), c(priority=2, app="other-app")], items=[ITEM])
    assert priced.unit_price == 1200
    assert priced.winner is not None
    assert (priced.winner.source.app, priced.winner.source.ruleset) == ("other-app", "C")


def test_bolds_promotion_info_example() -> None:
    # 9000 + round(9000 × -20 / 100) = 9000 - 1800 = 7200
    item = {"sku": "X", "price": 9000, "quantity": 1}
    priced = line(
        [ruleset("P", rule("p", actions=[pct(-20)]), public_name="20% off")], items=[item]
    )
    assert priced.unit_price == 7200
    assert priced.promotion == "20% off"


@pytest.mark.parametrize("condition_type", ["QTY_BY_VARIANT", "QTY_BY_LINE", "QTY_BY_PRODUCT"])
def test_quantity_breaks_price_as_conditions_never_as_rule_types(condition_type: str) -> None:
    as_condition = ruleset(
        "break", rule("q", conditions=[{"type": condition_type, "operator": ">=", "value": 5}])
    )
    as_rule_type = ruleset("typo", rule("q", condition_type, actions=[pct(-50)]))
    priced = line([as_condition, as_rule_type], items=[ITEM])
    # 1500 - 150 = 1350: the rule typed as a condition name never prices (it would give 750)
    assert priced.unit_price == 1350
    assert priced.winner is not None and priced.winner.source.ruleset == "break"
