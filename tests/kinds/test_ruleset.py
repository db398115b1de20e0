"""The ruleset kind: live JSON → model → API body, the shop, its manifest form, its references."""

from __future__ import annotations

import json
from typing import Any

from reconciler import kinds, model
from reconciler.kinds import ruleset
from tests.kinds.conftest import run_changes

SPEC = kinds.by_name[model.Kind.RULESET]

DECLARED: dict[str, Any] = {
    "external_id": "spring-sale",
    "public_name": "Spring sale",
    "priority": 10,
    "start_date": "2027-03-01T00:00:00+00:00",
    "expiry_date": "2027-03-31T23:59:59Z",
    "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-200", "SKU-100"]},
    "rules": [
        {
            "external_id": "gold",
            "type": "DISCOUNT",
            "conditions": [
                {"type": "ORDER_CONDITION", "name": "ZONE", "value": "prairies"},
                {"type": "CUSTOMER_GROUP", "value": "gold"},
            ],
            "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -20.0}],
        }
    ],
}


def test_live_json_round_trips_through_the_api_body() -> None:
    desired = SPEC.resource(DECLARED)
    body = SPEC.to_api(desired.body)
    assert body["start_date"] == "2027-03-01T00:00:00Z"
    assert body["product_selection"]["sku_ids"] == ["SKU-100", "SKU-200"]
    assert body["rules"][0]["actions"] == [{"type": "PRICE_ADJUST_PERCENT", "value": -20}]
    assert SPEC.resource(body).fingerprint() == desired.fingerprint()


def test_created_by_its_calls_and_read_back_as_declared(bold: Any) -> None:
    desired = SPEC.resource(DECLARED)
    sent = run_changes(bold, [model.Create(desired)])
    assert sent == ["create ruleset spring-sale: upsert_ruleset"]
    found = SPEC.read_one(bold, desired.key)
    assert found is not None and found.fingerprint() == desired.fingerprint()
    assert [r.key for r in SPEC.live(SPEC.read(bold).items)] == [desired.key]
    assert SPEC.exist(bold, [desired.key, model.ruleset_key("nope")]) == {
        desired.key: True,
        model.ruleset_key("nope"): False,
    }


def test_a_dates_only_change_is_a_patch_and_a_delete_removes_it(bold: Any) -> None:
    desired = SPEC.resource(DECLARED)
    run_changes(bold, [model.Create(desired)])
    live = SPEC.read_one(bold, desired.key)
    assert live is not None
    later = SPEC.resource({**DECLARED, "expiry_date": "2027-04-30T23:59:59Z"})
    sent = run_changes(bold, [model.Update(later, live, ())])
    assert sent == ["update ruleset spring-sale: patch_ruleset"]
    now = SPEC.read_one(bold, desired.key)
    assert now is not None and now.body["expiry_date"] == "2027-04-30T23:59:59Z"
    assert run_changes(bold, [model.Delete(now)]) == ["delete ruleset spring-sale: delete_ruleset"]
    assert SPEC.read_one(bold, desired.key) is None


def test_the_manifest_form_reads_back_as_the_same_object() -> None:
    desired = SPEC.resource(DECLARED)
    [(file_name, entry)] = SPEC.manifests([desired])
    assert file_name == "spring-sale"
    assert "active" not in entry and entry["priority"] == 10  # defaults left out
    assert SPEC.resource(entry).fingerprint() == desired.fingerprint()


def test_refers_to_the_order_conditions_its_rules_use() -> None:
    body = SPEC.resource(DECLARED).body
    assert SPEC.references(body) == {model.order_condition_key("ZONE", "prairies")}
    assert kinds.references(model.Kind.RULESET, body) == SPEC.references(body)


def test_a_live_ruleset_without_external_id_is_named_for_export() -> None:
    live = SPEC.resource({**DECLARED, "external_id": None, "id": 7})
    assert live.key.describe() == "ruleset #7 (no external_id)"
    [named] = SPEC.named([live], shop="shop-1")
    assert named.key == model.ruleset_key("spring-sale-7")
    assert named.handles["adopt"] == {"shop": "shop-1", "id": 7}


def test_its_priced_parts_are_its_rules() -> None:
    [part] = SPEC.priced(SPEC.resource(DECLARED).body)
    assert (part.path, part.type) == ("rules[gold]", "DISCOUNT")
    assert part.actions == (
        ("rules[gold].actions[0]", {"type": "PRICE_ADJUST_PERCENT", "value": -20}),
    )


def test_summary_line() -> None:
    assert SPEC.summary(SPEC.resource(DECLARED).body) == (
        "1 rule: ZONE=prairies and gold −20%; SKU-100, SKU-200; 2027-03-01 → 03-31"
    )
    assert ruleset.RULESET is SPEC


def test_the_words_a_shop_repeats_are_one_object_each() -> None:
    # Read from pages, every condition type, group, rule name and date was a string of its
    # own: 17 MB at 10,000 rulesets. Normalised, equal words are one object.
    def page(n: int) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            json.dumps(
                {
                    "id": n,
                    "external_id": f"rs-{n}",
                    "start_date": "2026-01-01T00:00:00Z",
                    "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": [f"SKU-{n}"]},
                    "rules": [
                        {
                            "id": 10 * n,
                            "external_id": "gold",
                            "type": "DISCOUNT",
                            "conditions": [{"type": "CUSTOMER_GROUP", "value": "gold"}],
                            "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -10}],
                        }
                    ],
                }
            )
        )
        return data

    a, b = (SPEC.resource(page(n)).body for n in (1, 2))
    ((name_a, rule_a),) = a["rules"].items()
    ((name_b, rule_b),) = b["rules"].items()
    assert name_a is name_b
    assert rule_a["type"] is rule_b["type"]
    assert rule_a["conditions"][0]["value"] is rule_b["conditions"][0]["value"]
    assert rule_a["actions"][0]["type"] is rule_b["actions"][0]["type"]
    assert a["start_date"] is b["start_date"]
