"""The diff: field-level detail, identity matching, and no phantom changes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler import diff, model, state

RULE = {
    "external_id": "gold-half-off",
    "type": "DISCOUNT",
    "conditions": [{"type": "CUSTOMER_GROUP", "value": "gold"}],
    "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -50}],
}
BASE: dict[str, Any] = {
    "external_id": "spring",
    "public_name": "Spring",
    "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-1", "SKU-2"]},
    "rules": [RULE],
}


def lines(live: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    a, b = state.ruleset_resource(live), state.ruleset_resource(desired)
    return [f"{c.op} {c.path}: {c.old!r} -> {c.new!r}" for c in diff.field_changes(a.body, b.body)]


CASES = [
    ("nothing", BASE, ["none"]),
    (
        "a scalar",
        {**BASE, "public_name": "Spring sale"},
        ["changed public_name: 'Spring' -> 'Spring sale'"],
    ),
    (
        "a value deep in a rule",
        {**BASE, "rules": [{**RULE, "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -40}]}]},
        ["changed rules[gold-half-off].actions[0].value: -50 -> -40"],
    ),
    (
        "an id added to a set and one removed",
        {**BASE, "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-2", "SKU-3"]}},
        [
            "removed product_selection.sku_ids: 'SKU-1' -> None",
            "added product_selection.sku_ids: None -> 'SKU-3'",
        ],
    ),
    (
        "a new rule",
        {**BASE, "rules": [RULE, {**RULE, "external_id": "silver"}]},
        [
            "added rules[silver]: None -> {'type': 'DISCOUNT', 'conditions': [{'type': 'CUSTOMER_GROUP', 'value': 'gold'}], "
            "'actions': [{'type': 'PRICE_ADJUST_PERCENT', 'value': -50}], 'meta': {}, 'priority': 0, 'stack_order': 0}"
        ],
    ),
    (
        "a condition replaced inside a set",
        {
            **BASE,
            "rules": [{**RULE, "conditions": [{"type": "CUSTOMER_GROUP", "value": "silver"}]}],
        },
        [
            "removed rules[gold-half-off].conditions: {'type': 'CUSTOMER_GROUP', 'value': 'gold'} -> None",
            "added rules[gold-half-off].conditions: None -> {'type': 'CUSTOMER_GROUP', 'value': 'silver'}",
        ],
    ),
    (
        "a date set",
        {**BASE, "expiry_date": "2026-03-31T23:59:59+00:00"},
        ["changed expiry_date: None -> '2026-03-31T23:59:59Z'"],
    ),
]


@pytest.mark.parametrize(("why", "desired", "expected"), CASES, ids=[c[0] for c in CASES])
def test_field_changes(why: str, desired: dict[str, Any], expected: list[str]) -> None:
    assert (lines(BASE, desired) or ["none"]) == expected


def test_field_set_change_reads_as_one_set_out_and_one_in() -> None:
    def oc(province: str) -> model.Resource:
        return state.order_condition_resource(
            {
                "name": "ZONE",
                "value": "p",
                "field_sets": [
                    {
                        "customer.shipping.country_code": "CA",
                        "customer.shipping.province_code": province,
                    },
                    {
                        "customer.shipping.country_code": "CA",
                        "customer.shipping.province_code": "SK",
                    },
                ],
            }
        )

    changes = diff.field_changes(oc("MB").body, oc("AB").body)
    assert [(c.op, c.path) for c in changes] == [("removed", "field_sets"), ("added", "field_sets")]
    assert changes[0].old["customer.shipping.province_code"] == "MB"
    assert changes[1].new["customer.shipping.province_code"] == "AB"


def test_diff_resources_matches_by_identity() -> None:
    a = state.ruleset_resource(BASE)
    b = state.ruleset_resource({**BASE, "external_id": "summer"})
    c = state.ruleset_resource({**BASE, "public_name": "Changed"})
    changes = diff.diff_resources(
        desired=[c, b], live=[a, state.ruleset_resource({**BASE, "external_id": "old"})]
    )
    summary = sorted((ch.action, str(ch.key)) for ch in changes)
    assert summary == [
        ("create", "ruleset:summer"),
        ("delete", "ruleset:old"),
        ("update", "ruleset:spring"),
    ]


def test_equal_objects_never_update() -> None:
    a = state.ruleset_resource(BASE)
    b = state.ruleset_resource({**BASE, "rules": [{**RULE, "id": 5}], "id": 3, "active": True})
    assert diff.diff_resources([a], [b]) == []


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        (["rules", "gold", "actions", 0, "value"], "rules[gold].actions[0].value"),
        (["product_selection", "sku_ids"], "product_selection.sku_ids"),
        (["public_name"], "public_name"),
    ],
)
def test_format_path(parts: list[Any], text: str) -> None:
    assert diff.format_path(parts) == text


def test_a_boolean_where_a_number_was_is_a_change() -> None:
    # ``True == 1`` in Python, but not to the API: a body that says ``true`` where the manifests
    # say ``1`` must be planned as an update, never folded into "equal".
    desired = state.ruleset_resource({**BASE, "priority": 1})
    live = state.ruleset_resource({**BASE, "priority": True})
    assert desired.body == live.body  # what a plain comparison would conclude
    (change,) = diff.diff_resources([desired], [live])
    assert change.action == "update"


def test_bodies_in_another_key_order_are_equal() -> None:
    body = state.ruleset_resource(BASE).body
    reordered = dict(reversed(list(body.items())))
    assert model.exact_form(body) != model.exact_form(reordered)
    assert (
        diff.compare(
            model.Resource(key=state.ruleset_resource(BASE).key, body=reordered),
            state.ruleset_resource(BASE),
        )
        is None
    )


def test_a_page_of_the_api_and_a_manifest_stating_the_same_ruleset_are_exactly_equal() -> None:
    # A page's strings are new objects (json), a manifest's may be interned and shared between
    # rules, and the API answers a condition's fields in another order than a manifest writes
    # them: none of that is a difference, so the exact forms are equal and no fingerprint is
    # needed to tell.
    condition = {"type": "QTY_BY_PRODUCT", "operator": ">=", "value": 2}
    declared = {
        **BASE,
        "rules": [
            {**RULE, "external_id": "a", "conditions": [condition]},
            {**RULE, "external_id": "b", "conditions": [condition]},  # the same dict, shared
        ],
    }
    page = json.dumps(
        {
            **declared,
            "id": 7,
            "rules": [
                {
                    **rule,
                    "id": n,
                    "conditions": [{"value": 2, "type": "QTY_BY_PRODUCT", "operator": ">="}],
                }
                for n, rule in enumerate(declared["rules"])
            ],
        }
    )
    desired = state.ruleset_resource(declared)
    live = state.ruleset_resource(json.loads(page))
    assert desired.exact is not None
    assert desired.exact == live.exact
    assert diff.compare(desired, live) is None


def test_exact_forms_keep_types_apart() -> None:
    assert model.exact_form({"priority": 1}) != model.exact_form({"priority": True})
    assert model.exact_form({"value": 1}) != model.exact_form({"value": 1.5})
    assert model.exact_form({"a": 1, "b": 2}) != model.exact_form({"b": 2, "a": 1})
    assert model.exact_form({"x": object()}) is None
