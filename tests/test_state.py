"""Normalisation: every rule of the contract's §7.3, as a table of pairs that must compare equal
(or must not)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import state

BASE: dict[str, Any] = {
    "external_id": "spring",
    "product_selection": {"type": "PRODUCTS_ALL"},
    "rules": [
        {
            "external_id": "gold",
            "type": "DISCOUNT",
            "conditions": [{"type": "CUSTOMER_GROUP", "value": "gold"}],
            "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -50}],
        }
    ],
}


def variant(**changes: Any) -> dict[str, Any]:
    data = {**BASE, **changes}
    return data


def with_rule(**changes: Any) -> dict[str, Any]:
    return {**BASE, "rules": [{**BASE["rules"][0], **changes}]}


SAME = [
    (
        "defaults filled",
        variant(),
        variant(active=True, public_name="", internal_name="", priority=0),
    ),
    ("null dates are absent dates", variant(), variant(start_date=None, expiry_date=None)),
    (
        "Z and +00:00 are one instant",
        variant(start_date="2026-03-01T00:00:00Z"),
        variant(start_date="2026-03-01T00:00:00+00:00"),
    ),
    (
        "fractional zero seconds",
        variant(start_date="2026-03-01T00:00:00Z"),
        variant(start_date="2026-03-01T00:00:00.000Z"),
    ),
    (
        "other offsets compare as instants",
        variant(start_date="2026-03-01T00:00:00Z"),
        variant(start_date="2026-02-28T19:00:00-05:00"),
    ),
    (
        "id lists are sets",
        variant(product_selection={"type": "PRODUCT_SEARCH", "sku_ids": ["B", "A"]}),
        variant(product_selection={"type": "PRODUCT_SEARCH", "sku_ids": ["A", "B"]}),
    ),
    (
        "numeric ids are strings",
        variant(product_selection={"type": "PRODUCT_SEARCH", "product_ids": [12, "13"]}),
        variant(product_selection={"type": "PRODUCT_SEARCH", "product_ids": ["12", "13"]}),
    ),
    (
        "empty filters are absent filters",
        variant(product_selection={"type": "PRODUCTS_ALL", "sku_ids": []}),
        variant(),
    ),
    ("rule defaults filled", with_rule(), with_rule(meta={}, priority=0, stack_order=0)),
    (
        "server fields are not compared",
        variant(id=1, created_at="2020-01-01T00:00:00Z"),
        variant(updated_at="x"),
    ),
    ("rule ids are not compared", with_rule(id=7), with_rule(id=8)),
    (
        "rules are matched by external id, not position",
        {**BASE, "rules": [BASE["rules"][0], {**BASE["rules"][0], "external_id": "silver"}]},
        {**BASE, "rules": [{**BASE["rules"][0], "external_id": "silver"}, BASE["rules"][0]]},
    ),
    (
        "conditions are a set",
        with_rule(
            conditions=[
                {"type": "CUSTOMER_GROUP", "value": "a"},
                {"type": "QTY_BY_PRODUCT", "operator": ">=", "value": 2},
            ]
        ),
        with_rule(
            conditions=[
                {"type": "QTY_BY_PRODUCT", "operator": ">=", "value": 2},
                {"type": "CUSTOMER_GROUP", "value": "a"},
            ]
        ),
    ),
    (
        "10.0 equals 10",
        with_rule(actions=[{"type": "PRICE_ADJUST_PERCENT", "value": -10.0}]),
        with_rule(actions=[{"type": "PRICE_ADJUST_PERCENT", "value": -10}]),
    ),
    (
        "absent optional action fields",
        with_rule(actions=[{"type": "PRICE_ADJUST_PERCENT", "value": -50, "limit": None}]),
        with_rule(),
    ),
    (
        "fields Bold adds that no manifest can state",
        with_rule(
            actions=[{"type": "PRICE_ADJUST_PERCENT", "value": -50, "id": 9, "currency": "CAD"}],
            conditions=[{"type": "CUSTOMER_GROUP", "value": "gold", "rule_id": 3}],
        ),
        with_rule(),
    ),
    (
        "a product selection field Bold adds",
        variant(product_selection={"type": "PRODUCTS_ALL", "shop_id": 7}),
        variant(),
    ),
]

DIFFERENT = [
    (
        "a different instant",
        variant(start_date="2026-03-01T00:00:00Z"),
        variant(start_date="2026-03-01T00:00:01Z"),
    ),
    ("active false", variant(), variant(active=False)),
    (
        "action order matters",
        with_rule(actions=[{"type": "A", "value": 1}, {"type": "B", "value": 2}]),
        with_rule(actions=[{"type": "B", "value": 2}, {"type": "A", "value": 1}]),
    ),
    ("a rule's external id", with_rule(), with_rule(external_id="other")),
    (
        "string 10 is not number 10",
        with_rule(actions=[{"type": "PRICE_ADJUST_PERCENT", "value": "-50"}]),
        with_rule(),
    ),
]


@pytest.mark.parametrize(("why", "a", "b"), SAME, ids=[row[0] for row in SAME])
def test_equal_after_normalisation(why: str, a: dict[str, Any], b: dict[str, Any]) -> None:
    assert state.ruleset_resource(a).fingerprint() == state.ruleset_resource(b).fingerprint(), why


@pytest.mark.parametrize(("why", "a", "b"), DIFFERENT, ids=[row[0] for row in DIFFERENT])
def test_different_after_normalisation(why: str, a: dict[str, Any], b: dict[str, Any]) -> None:
    assert state.ruleset_resource(a).fingerprint() != state.ruleset_resource(b).fingerprint(), why


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"),
        ("2026-03-01T00:00:00+00:00", "2026-03-01T00:00:00Z"),
        ("2026-03-01T01:30:00+01:30", "2026-03-01T00:00:00Z"),
        ("2026-03-01T00:00:00.250000Z", "2026-03-01T00:00:00.25Z"),
        ("2026-03-01T00:00:00", "2026-03-01T00:00:00Z"),
        (None, None),
        ("", None),
    ],
)
def test_instants(given: str | None, expected: str | None) -> None:
    assert state.normalise_instant(given) == expected


def test_field_sets_are_a_set_and_ids_become_handles() -> None:
    live = state.order_condition_resource(
        {
            "name": "ZONE",
            "value": "prairies",
            "operator": "ONE_OF",
            "type": "FIELD_SET",
            "field_sets": [
                {
                    "id": 2,
                    "customer.shipping.province_code": "SK",
                    "created_at": "2026-01-01T00:00:00Z",
                },
                {"id": 1, "customer.shipping.province_code": "MB"},
            ],
        }
    )
    desired = state.order_condition_resource(
        {
            "name": "ZONE",
            "value": "prairies",
            "field_sets": [
                {"customer.shipping.province_code": "MB"},
                {"customer.shipping.province_code": "SK"},
            ],
        }
    )
    assert live.fingerprint() == desired.fingerprint()
    assert sorted(live.handles["field_set_ids"].values()) == [1, 2]


def test_discount_code_server_fields_are_handles() -> None:
    common = {
        "code": "SPRING15",
        "action": {"type": "PRICE_ADJUST_PERCENT", "value": -15},
        "product_selection": {"type": "PRODUCTS_ALL"},
    }
    live = state.discount_code_resource(
        {**common, "id": 9, "ruleset_id": 4, "usage_count": 3, "conditions": [], "limits": []}
    )
    desired = state.discount_code_resource(common)
    assert live.fingerprint() == desired.fingerprint()
    assert live.handles == {"id": 9, "ruleset_id": 4, "usage_count": 3}


def test_a_repeated_id_is_kept_so_the_plan_can_show_it() -> None:
    twice = state.ruleset_resource(
        variant(product_selection={"type": "PRODUCT_SEARCH", "sku_ids": ["B", "A", "A"]})
    )
    assert twice.body["product_selection"]["sku_ids"] == ["A", "A", "B"]


def test_unnamed_live_rule_is_keyed_by_its_id() -> None:
    live = state.ruleset_resource(
        {**BASE, "rules": [{**BASE["rules"][0], "external_id": None, "id": 41}]}
    )
    assert list(live.body["rules"]) == ["#41"]
    assert live.handles["rule_ids"] == {"#41": 41}


def test_unnamed_live_rulesets_each_keep_a_key_of_their_own() -> None:
    first = state.ruleset_resource({**BASE, "external_id": None, "id": 7})
    second = state.ruleset_resource({**BASE, "external_id": "", "id": 8})
    assert (first.key.describe(), second.key.describe()) == (
        "ruleset #7 (no external_id)",
        "ruleset #8 (no external_id)",
    )
    assert first.key.match != second.key.match
    assert "external_id" not in first.body


def test_ruleset_round_trips_through_the_api_body() -> None:
    resource = state.ruleset_resource(variant(start_date="2026-03-01T00:00:00+00:00"))
    again = state.ruleset_resource(state.ruleset_to_api(resource.body))
    assert again.fingerprint() == resource.fingerprint()


def test_a_second_live_rule_under_one_external_id_stays_visible() -> None:
    live = state.ruleset_resource(
        {**BASE, "rules": [{**BASE["rules"][0], "id": 1}, {**BASE["rules"][0], "id": 2}]}
    )
    assert sorted(live.body["rules"]) == ["#2", "gold"]
    assert live.handles["rule_ids"] == {"gold": 1, "#2": 2}
    assert live.handles["duplicate_rules"] == {"#2": "gold"}
