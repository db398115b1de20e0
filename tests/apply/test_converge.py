"""Apply against the in-process sandbox: the call mapping, convergence, ownership, staleness."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler import apply, calls, config, errors, model, pipeline, plan, savedplan, state
from reconciler.targets import Target

from ..projects import in_memory

RULE = {
    "external_id": "gold",
    "type": "DISCOUNT",
    "conditions": [{"type": "CUSTOMER_GROUP", "value": "gold"}],
    "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -50}],
}


def ruleset(eid: str, *rules: dict[str, Any], **fields: Any) -> model.Resource:
    return state.ruleset_resource(
        {
            "external_id": eid,
            "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-1"]},
            "rules": list(rules or [RULE]),
            **fields,
        }
    )


def condition(value: str, *provinces: str) -> model.Resource:
    return state.order_condition_resource(
        {
            "name": "ZONE",
            "value": value,
            "field_sets": [
                {"customer.shipping.country_code": "CA", "customer.shipping.province_code": p}
                for p in provinces or ("MB",)
            ],
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


def project(ownership: config.Ownership | None = None, **safety: Any) -> config.Project:
    return in_memory(
        target=Target(
            name="test",
            sandbox=None,
            api_url="http://sandbox.invalid",
            shop_identifier=None,
            token_env="X",
        ),
        safety=config.Safety(
            **{"max_deletes": 100, "max_delete_percent": 100, "max_update_percent": 100, **safety}
        ),
        ownership=ownership or config.Ownership(discount_code_prefixes=("CODE-",)),
    )


def make_plan(
    bold: Any, desired: list[model.Resource], p: config.Project | None = None
) -> plan.Plan:
    p = p or project()
    return pipeline.plan_shop(bold, p, p.target(None), pipeline.Declared(desired))


def converge(bold: Any, desired: list[model.Resource]) -> Counter[str]:
    """Plan and apply; return the writes made, by route."""
    before = Counter({k: v for k, v in bold.stats.calls.items()})
    apply.execute(bold, make_plan(bold, desired).changes)
    after = bold.stats.calls
    writes = Counter(
        {f"{m} {r}": n - before.get((m, r), 0) for (m, r), n in after.items() if m != "GET"}
    )
    return +writes


def test_create_then_no_changes(bold: Any) -> None:
    desired = [
        condition("prairies", "MB", "SK"),
        ruleset("spring"),
        code("SPRING15"),
        code("SPRING20"),
        code("OTHER", -5),
    ]
    writes = converge(bold, desired)
    assert writes == Counter(
        {"PUT upsert_ruleset": 1, "POST create_order_condition": 1, "POST create_discount_codes": 2}
    )
    assert make_plan(bold, desired).empty


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            "rules changed",
            {"rules": [{**RULE, "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -40}]}]},
            {"PATCH patch_ruleset": 1},
        ),
        (
            "rule added",
            {"rules": [RULE, {**RULE, "external_id": "silver"}]},
            {"PATCH patch_ruleset": 1},
        ),
        (
            "rule removed",
            {"rules": [RULE], "start": [RULE, {**RULE, "external_id": "silver"}]},
            {"DELETE delete_rules": 1},
        ),
        (
            "rule changed and one removed",
            {
                "rules": [{**RULE, "priority": 3}],
                "start": [RULE, {**RULE, "external_id": "silver"}],
            },
            {"PATCH patch_ruleset": 1, "DELETE delete_rules": 1},
        ),
        ("dates only", {"expiry_date": "2027-01-01T00:00:00Z"}, {"PATCH patch_ruleset": 1}),
        ("name", {"public_name": "Spring sale"}, {"PUT upsert_ruleset": 1}),
    ],
)
def test_ruleset_update_calls(
    bold: Any, before: str, after: dict[str, Any], expected: dict[str, int]
) -> None:
    start_rules = after.pop("start", [RULE])
    converge(bold, [ruleset("spring", *start_rules)])
    rules = after.pop("rules", start_rules)
    desired = [ruleset("spring", *rules, **after)]
    assert converge(bold, desired) == Counter(expected), before
    assert make_plan(bold, desired).empty


def test_field_set_changes_use_the_field_set_endpoints(bold: Any) -> None:
    converge(bold, [condition("prairies", "MB", "SK")])
    desired = [condition("prairies", "MB", "AB")]
    assert converge(bold, desired) == Counter(
        {"POST add_field_sets": 1, "DELETE delete_field_sets": 1}
    )
    assert make_plan(bold, desired).empty


def test_discount_code_update_and_delete(bold: Any) -> None:
    converge(bold, [code("CODE-A1"), code("CODE-B2"), code("FOREIGN")])
    desired = [code("CODE-A1", -25)]
    assert converge(bold, desired) == Counter(
        {"PUT update_discount_code": 1, "DELETE delete_discount_code": 1}
    )
    assert make_plan(bold, desired).empty
    assert [d["code"] for d in bold.list_discount_codes()] == [
        "CODE-A1",
        "FOREIGN",
    ]  # not ours: kept


def test_another_apps_ruleset_with_the_same_external_id_is_never_touched(
    bold: Any, other_app: Any
) -> None:
    other_app.upsert_ruleset(
        "spring", state.ruleset_to_api(ruleset("spring", public_name="theirs").body)
    )
    other_app.upsert_ruleset("theirs-only", state.ruleset_to_api(ruleset("theirs-only").body))
    converge(bold, [ruleset("spring", public_name="ours")])
    p = make_plan(bold, [])
    assert [str(c.key) for c in p.changes] == ["ruleset:spring"]  # only our own is deleted
    apply.execute(bold, p.changes)
    theirs = {r["external_id"]: r for r in other_app.list_rulesets()}
    assert theirs["spring"]["public_name"] == "theirs"
    assert "theirs-only" in theirs
    assert make_plan(bold, []).left_alone == {
        "rulesets of other apps (not visible to this token)": 2
    }


def test_ruleset_referring_to_a_new_condition_is_created_after_it(bold: Any) -> None:
    rule = {
        **RULE,
        "conditions": [{"type": "ORDER_CONDITION", "name": "ZONE", "value": "prairies"}],
    }
    desired = [ruleset("zoned", rule), condition("prairies")]
    made = calls.calls_for(make_plan(bold, desired).changes)
    assert [c.label() for c in made] == [
        "create order condition ZONE=prairies",
        "create ruleset zoned",
    ]
    assert made[1].after == {model.order_condition_key("ZONE", "prairies")}


def test_a_failure_skips_what_depends_on_it(bold: Any, sandbox: Any) -> None:
    rule = {
        **RULE,
        "conditions": [{"type": "ORDER_CONDITION", "name": "ZONE", "value": "prairies"}],
    }
    bad = state.order_condition_resource(
        {"name": "ZONE", "value": "prairies", "field_sets": [{"customer.shipping.planet": "Mars"}]}
    )
    desired = [ruleset("zoned", rule), bad, ruleset("independent")]
    with pytest.raises(errors.ApplyFailed) as caught:
        apply.execute(bold, make_plan(bold, desired).changes)
    report = caught.value.report
    assert (report.done, report.failed, report.skipped) == (1, 1, 1)
    assert "order condition ZONE=prairies" in report.failures[0]
    assert [r["external_id"] for r in bold.list_rulesets()] == ["independent"]


def test_saved_plan_refuses_when_the_shop_moved(bold: Any, tmp_path: Path) -> None:
    converge(bold, [ruleset("changed"), ruleset("deleted"), ruleset("kept")])
    desired = [
        ruleset("changed", public_name="a"),
        ruleset("deleted", public_name="b"),
        ruleset("kept", public_name="c"),
        ruleset("raced"),
    ]
    path = tmp_path / "plan.json"
    savedplan.write_plan(make_plan(bold, desired), path)
    # Meanwhile, someone else edits the shop.
    bold.upsert_ruleset("changed", state.ruleset_to_api(ruleset("changed", priority=9).body))
    bold.delete_ruleset("deleted")
    bold.upsert_ruleset("raced", state.ruleset_to_api(ruleset("raced").body))
    with pytest.raises(errors.StalePlan) as caught:
        apply.changes_from_saved(bold, savedplan.read_plan(path))
    assert caught.value.exit_code == 6
    assert caught.value.moved == [
        "ruleset changed: changed by someone else since the plan was made",
        "ruleset deleted: deleted by someone else since the plan was made",
        "ruleset raced: planned as new, but it now exists (created by someone else since)",
    ]


def test_saved_plan_applies_exactly_its_changes(bold: Any, tmp_path: Path) -> None:
    converge(bold, [ruleset("a"), ruleset("b")])
    path = tmp_path / "plan.json"
    savedplan.write_plan(make_plan(bold, [ruleset("a", public_name="new"), ruleset("c")]), path)
    changes = apply.changes_from_saved(bold, savedplan.read_plan(path))
    apply.execute(bold, changes)
    assert sorted(r["external_id"] for r in bold.list_rulesets()) == ["a", "c"]
    assert make_plan(bold, [ruleset("a", public_name="new"), ruleset("c")]).empty


def test_unnamed_live_rule_is_replaced_in_place_not_duplicated(bold: Any, sandbox: Any) -> None:
    body = state.ruleset_to_api(ruleset("legacy").body)
    body["rules"][0].pop("external_id")
    bold.upsert_ruleset("legacy", body)
    live = state.fetch_live(bold).resources[0]
    (unnamed,) = live.body["rules"]
    assert unnamed.startswith("#")
    # A manifest from an export before 0.2 names such a rule bold-rule-<id>: still adopted.
    name = f"bold-rule-{live.handles['rule_ids'][unnamed]}"
    desired = [
        ruleset(
            "legacy",
            {
                **RULE,
                "external_id": name,
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -10}],
            },
        )
    ]
    converge(bold, desired)
    rules = bold.list_rulesets()[0]["rules"]
    assert len(rules) == 1 and rules[0]["external_id"] == name
    assert make_plan(bold, desired).empty


def test_discount_code_names_match_regardless_of_case(bold: Any) -> None:
    converge(bold, [code("CODE-SAVE")])
    assert make_plan(bold, [code("code-save")]).empty  # the same code to Bold: nothing to do
    desired = [code("Code-Save", -30)]
    assert converge(bold, desired) == Counter(
        {"PUT update_discount_code": 1}
    )  # updated, not re-created
    assert [d["code"] for d in bold.list_discount_codes()] == ["CODE-SAVE"]
    assert make_plan(bold, desired).empty


def test_a_large_saved_plan_is_checked_by_listing(bold: Any, tmp_path: Path) -> None:
    desired = [ruleset(f"bulk-{i:02}") for i in range(apply.PER_OBJECT_READS + 5)]
    path = tmp_path / "plan.json"
    savedplan.write_plan(make_plan(bold, desired), path)
    bold.upsert_ruleset("bulk-07", state.ruleset_to_api(ruleset("bulk-07").body))
    before = sum(n for (method, route), n in bold.stats.calls.items() if route == "get_ruleset")
    with pytest.raises(errors.StalePlan) as caught:
        apply.changes_from_saved(bold, savedplan.read_plan(path))
    assert caught.value.moved == [
        "ruleset bulk-07: planned as new, but it now exists (created by someone else since)"
    ]
    after = sum(n for (method, route), n in bold.stats.calls.items() if route == "get_ruleset")
    assert after == before  # listed, not read one by one
