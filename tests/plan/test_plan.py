"""Planning: ownership, dependency order, safety limits, checksum and the saved-plan file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import config, errors, model, plan, state

from ..projects import in_memory


def project(**safety: Any) -> config.Project:
    ownership = safety.pop("ownership", config.Ownership())
    return in_memory(safety=config.Safety(**safety), ownership=ownership)


def ruleset(eid: str, **fields: Any) -> model.Resource:
    rules = fields.pop(
        "rules",
        [
            {
                "external_id": "r",
                "type": "DISCOUNT",
                "conditions": [],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -5}],
            }
        ],
    )
    return state.ruleset_resource(
        {
            "external_id": eid,
            "product_selection": {"type": "PRODUCTS_ALL"},
            "rules": rules,
            **fields,
        }
    )


def condition(name: str, value: str, province: str = "MB") -> model.Resource:
    return state.order_condition_resource(
        {
            "name": name,
            "value": value,
            "field_sets": [{"customer.shipping.province_code": province}],
        }
    )


def code(name: str, value: int = -15) -> model.Resource:
    return state.discount_code_resource(
        {
            "code": name,
            "action": {"type": "PRICE_ADJUST_PERCENT", "value": value},
            "product_selection": {"type": "PRODUCTS_ALL"},
        }
    )


def make(
    desired: list[model.Resource],
    live: list[model.Resource],
    *,
    foreign: int = 0,
    p: config.Project | None = None,
    **kw: Any,
) -> plan.Plan:
    p = p or project()
    return plan.plan_changes(
        desired,
        state.LiveState(tuple(live), foreign, "shop-1"),
        target=p.target(None),
        project=p,
        **kw,
    )


def summary(p: plan.Plan) -> list[str]:
    return [f"{c.action} {c.key}" for c in p.changes]


def test_order_conditions_first_on_the_way_in_and_last_on_the_way_out() -> None:
    p = make(
        desired=[ruleset("new"), condition("ZONE", "west"), code("NEW10")],
        live=[ruleset("old"), condition("ZONE", "east"), code("OLD10"), ruleset("keep")],
        p=project(ownership=config.Ownership(discount_code_prefixes=("OLD",))),
    )
    assert summary(p) == [
        "create order_condition:ZONE=west",
        "create ruleset:new",
        "create discount_code:NEW10",
        "delete discount_code:OLD10",
        "delete ruleset:keep",
        "delete ruleset:old",
        "delete order_condition:ZONE=east",
    ]


@pytest.mark.parametrize(
    ("live", "ownership", "expected", "left"),
    [
        (
            [condition("OTHER", "x")],
            config.Ownership(),
            [],
            {"order condition groups not managed here": 1},
        ),
        (
            [condition("OTHER", "x")],
            config.Ownership(order_condition_names=("OTHER",)),
            ["delete order_condition:OTHER=x"],
            {},
        ),
        ([condition("ZONE", "east")], config.Ownership(), ["delete order_condition:ZONE=east"], {}),
        ([code("THEIRS")], config.Ownership(), [], {"discount codes not managed here": 1}),
        (
            [code("SPRING20")],
            config.Ownership(discount_code_prefixes=("SPRING",)),
            ["delete discount_code:SPRING20"],
            {},
        ),
    ],
)
def test_ownership(
    live: list[model.Resource],
    ownership: config.Ownership,
    expected: list[str],
    left: dict[str, int],
) -> None:
    p = make([condition("ZONE", "west")], live, p=project(ownership=ownership, max_deletes=10))
    assert [s for s in summary(p) if not s.startswith("create")] == expected
    assert dict(p.left_alone) == left


def test_foreign_rulesets_are_counted_not_touched() -> None:
    p = make([ruleset("spring")], [ruleset("spring")], foreign=12)
    assert p.empty
    assert dict(p.left_alone) == {"rulesets of other apps (not visible to this token)": 12}


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


def test_filters_make_a_partial_plan() -> None:
    p = make([ruleset("a"), ruleset("b")], [], filters=plan.Filters(only=("ruleset:a*",)))
    assert summary(p) == ["create ruleset:a"]
    assert p.partial


def test_fingerprints_name_the_live_state_of_each_touched_object() -> None:
    live = ruleset("spring")
    p = make([ruleset("spring", public_name="new"), ruleset("fresh")], [live])
    assert p.fingerprints == {"ruleset:spring": live.fingerprint(), "ruleset:fresh": None}


def test_checksum_follows_the_changes() -> None:
    a = make([ruleset("a")], [])
    b = make([ruleset("a")], [])
    c = make([ruleset("a", priority=2)], [])
    assert a.checksum == b.checksum != c.checksum


def test_saved_plan_round_trip_and_tamper_check(tmp_path: Path) -> None:
    p = make([ruleset("spring", public_name="new")], [ruleset("spring")])
    path = tmp_path / "plan.json"
    plan.write_plan(p, path)
    saved = plan.read_plan(path)
    assert saved.checksum == p.checksum
    assert [c.key for c in saved.changes] == [model.ruleset_key("spring")]
    document = json.loads(path.read_text())
    assert "token" not in path.read_text().lower()
    document["changes"][0]["desired"]["body"]["public_name"] = "tampered"
    path.write_text(json.dumps(document))
    with pytest.raises(errors.PlanFileInvalid, match="edited after"):
        plan.read_plan(path)


@pytest.mark.parametrize("content", ["", "{", "[]", '{"format_version": 99}'])
def test_unreadable_plan_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(errors.PlanFileInvalid, match=r"plan\.json"):
        plan.read_plan(path)


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


NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("desired", "live", "expected"),
    [
        (
            [ruleset("past", expiry_date="2026-03-31T23:59:59Z")],
            [],
            [
                "ruleset past: expiry_date 2026-03-31T23:59:59Z is already past: it will never apply."
            ],
        ),
        (
            [ruleset("ends", expiry_date="2026-11-01T00:00:00Z")],
            [ruleset("ends")],
            [
                "ruleset ends: expiry_date 2026-11-01T00:00:00Z is already past: it stops applying at once."
            ],
        ),
        (
            [ruleset("old", expiry_date="2026-03-31T23:59:59Z", public_name="x")],
            [ruleset("old", expiry_date="2026-03-31T23:59:59Z")],
            [],
        ),  # expired before: not news
        ([ruleset("soon", start_date="2027-03-01T00:00:00Z")], [], []),
        (
            [ruleset("typo", start_date="2207-03-01T00:00:00Z")],
            [],
            [
                "ruleset typo: start_date 2207-03-01T00:00:00Z is more than two years away: a typo in the year?"
            ],
        ),
        (
            [
                state.discount_code_resource(
                    {
                        "code": "OLD",
                        "action": {"type": "PRICE_ADJUST_PERCENT", "value": -5},
                        "product_selection": {"type": "PRODUCTS_ALL"},
                        "expiry_date": "2025-01-01T00:00:00Z",
                    }
                )
            ],
            [],
            [
                "discount code OLD: expiry_date 2025-01-01T00:00:00Z is already past: it will never apply."
            ],
        ),
    ],
)
def test_review_notes(
    desired: list[model.Resource], live: list[model.Resource], expected: list[str]
) -> None:
    assert list(make(desired, live, now=NOW).notes) == expected
