"""Planning: ownership, dependency order, fingerprints and checksum."""

from __future__ import annotations

import pytest

from reconciler import config, model, plan

from ..projects import code, condition, make, project, ruleset


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
