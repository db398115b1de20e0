"""The safety rules: count and per-kind percent limits, protection, how deep a percent off."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import config, errors, model

from .projects import code, condition, make, project, ruleset


@pytest.mark.parametrize(
    ("deletes", "managed", "limits", "violations"),
    [
        (5, 40, {}, 0),
        (6, 40, {}, 1),
        (4, 10, {}, 1),  # 40% > 30%
        (1, 2, {}, 0),  # 50% of 2: under the percent floor
        (13, 40, {"max_deletes": 100}, 1),
        (13, 40, {}, 2),
    ],
)
def test_delete_limits(deletes: int, managed: int, limits: dict[str, Any], violations: int) -> None:
    live = [ruleset(f"r{i:03}") for i in range(managed)]
    desired = live[deletes:]
    p = make(desired, live, p=project(**limits))
    assert p.safety.deletes == deletes
    assert len(p.safety.violations) == violations
    if violations:
        with pytest.raises(errors.UnsafePlan) as caught:
            p.check_safety()
        assert f"Refusing to delete {deletes} " in str(caught.value)
        assert "--force" in str(caught.value)
        p.check_safety(force=True)
    else:
        p.check_safety()


def test_update_percent_limit() -> None:
    live = [ruleset(f"r{i:03}") for i in range(10)]
    desired = [ruleset(f"r{i:03}", public_name="x") if i < 6 else live[i] for i in range(10)]
    p = make(desired, live)
    assert p.safety.violations == (
        "Refusing to update 6 of 10 rulesets (60%, limit 50% by safety.max_update_percent). Re-run with --force if intended.",
    )


def test_protected_objects_are_never_deleted_even_with_force() -> None:
    p = make([], [ruleset("vip-gold")], p=project(protected=("ruleset:vip-*",)))
    with pytest.raises(errors.UnsafePlan, match="protected ruleset vip-gold"):
        p.check_safety(force=True)


def test_percent_limits_apply_per_kind() -> None:
    conditions = [condition("ZONE", f"z{i:02}") for i in range(10)]
    rulesets = [ruleset(f"r{i:03}") for i in range(100)]
    p = make(rulesets + conditions[:6], rulesets + conditions, p=project(max_deletes=10))
    assert p.safety.violations == (
        "Refusing to delete 4 of 10 order conditions (40%, limit 30% by safety.max_delete_percent). Re-run with --force if intended.",
    )


def test_count_limit_names_the_kinds() -> None:
    p = make(
        [],
        [ruleset("a"), ruleset("b"), code("C1"), code("C2")],
        p=project(max_deletes=3, ownership=config.Ownership(discount_code_prefixes=("C",))),
    )
    assert p.safety.violations == (
        "Refusing to delete 4 objects (2 rulesets, 2 discount codes; limit 3 by safety.max_deletes). Re-run with --force if intended.",
    )


DEEP_RULE = [
    {
        "external_id": "r",
        "type": "DISCOUNT",
        "conditions": [],
        "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -90}],
    }
]


@pytest.mark.parametrize(
    ("desired", "live", "expected"),
    [
        ([ruleset("typo", rules=DEEP_RULE)], [], ["ruleset typo > rules[r].actions[0] at 90% off"]),
        (
            [
                ruleset(
                    "ok",
                    rules=[
                        {
                            **DEEP_RULE[0],
                            "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -70}],
                        }
                    ],
                )
            ],
            [],
            [],
        ),
        (
            [ruleset("old", rules=DEEP_RULE, public_name="renamed")],
            [ruleset("old", rules=DEEP_RULE)],
            [],
        ),  # unchanged rule: reviewed before
        ([code("DEEP", -95)], [], ["discount code DEEP > action at 95% off"]),
        (
            [
                ruleset(
                    "limited",
                    rules=[
                        {
                            **DEEP_RULE[0],
                            "actions": [
                                {
                                    "type": "PRICE_ADJUST_PERCENT_WITH_LIMIT",
                                    "value": -80,
                                    "limit": 1,
                                }
                            ],
                        },
                        {
                            **DEEP_RULE[0],
                            "external_id": "s",
                            "type": "CART_LEVEL_DISCOUNT",
                            "actions": [{"type": "CART_LEVEL_DISCOUNT_PERCENT", "value": 75}],
                        },
                    ],
                )
            ],
            [],
            [
                "ruleset limited > rules[r].actions[0] at 80% off",
                "ruleset limited > rules[s].actions[0] at 75% off",
            ],
        ),
        (
            [
                ruleset(
                    "abs",
                    rules=[
                        {
                            **DEEP_RULE[0],
                            "actions": [{"type": "PRICE_ADJUST_ABSOLUTE", "value": 100}],
                        }
                    ],
                )
            ],
            [],
            [],
        ),
    ],
)
def test_max_percent_off_guards_against_typos(
    desired: list[model.Resource], live: list[model.Resource], expected: list[str]
) -> None:
    p = make(desired, live, p=project(max_percent_off=70))
    found = [v.split("Refusing ")[1].split(" (limit")[0] for v in p.safety.violations]
    assert found == expected
    if expected:
        assert "(limit 70% by safety.max_percent_off)" in p.safety.violations[0]
