"""reconciler.schema: the shipped JSON Schemas are the one source of the manifest format, down to
the defaults: a field left out and a field written with its schema ``default`` plan the same, and
``boldrules export`` leaves exactly those defaults out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import schema, state
from reconciler.kinds import order_condition, ruleset

ROOT = Path(__file__).parent.parent
RULE = {
    "external_id": "gold",
    "type": "DISCOUNT",
    "conditions": [],
    "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -10}],
}
RULESET = {"external_id": "spring", "product_selection": {"type": "PRODUCTS_ALL"}, "rules": [RULE]}
ORDER_CONDITION = {
    "name": "ZONE",
    "value": "prairies",
    "field_sets": [{"customer.shipping.country_code": "CA"}],
}


def test_texts_are_the_shipped_files() -> None:
    shipped = {p.name: p.read_text("utf-8") for p in sorted(ROOT.glob("schemas/*.schema.json"))}
    assert schema.texts() == shipped
    assert schema.document("plan.schema.json") == json.loads(shipped["plan.schema.json"])


def test_the_defaults_are_the_schemas_default_keywords_in_field_order() -> None:
    ruleset = [("internal_name", ""), ("public_name", ""), ("active", True), ("priority", 0)]
    ruleset += [("start_date", None), ("expiry_date", None)]  # null: no bound
    assert list(schema.defaults("ruleset").items()) == ruleset
    assert list(schema.defaults("rule").items()) == [
        ("meta", {}),
        ("priority", 0),
        ("stack_order", 0),
    ]
    assert schema.defaults("order_condition") == {"operator": "ONE_OF", "type": "FIELD_SET"}
    assert schema.defaults("limit") == {}


def _every_default(definition: str) -> list[tuple[str, Any]]:
    return list(schema.defaults(definition).items())


@pytest.mark.parametrize(("field", "default"), _every_default("ruleset"))
def test_a_ruleset_field_written_as_its_default_plans_as_left_out(field: str, default: Any) -> None:
    written = state.ruleset_resource({**RULESET, field: default})
    assert written.fingerprint() == state.ruleset_resource(RULESET).fingerprint()
    assert field not in ruleset.manifest(written.body)


@pytest.mark.parametrize(("field", "default"), _every_default("rule"))
def test_a_rule_field_written_as_its_default_plans_as_left_out(field: str, default: Any) -> None:
    written = state.ruleset_resource({**RULESET, "rules": [{**RULE, field: default}]})
    assert written.fingerprint() == state.ruleset_resource(RULESET).fingerprint()
    assert field not in ruleset.manifest(written.body)["rules"][0]


@pytest.mark.parametrize(("field", "default"), _every_default("order_condition"))
def test_an_order_condition_field_written_as_its_default_plans_as_left_out(
    field: str, default: Any
) -> None:
    written = state.order_condition_resource({**ORDER_CONDITION, field: default})
    assert written.fingerprint() == state.order_condition_resource(ORDER_CONDITION).fingerprint()
    assert field not in order_condition.manifest(written.body)


def test_export_writes_fields_that_differ_from_their_default_in_schema_order() -> None:
    body = state.ruleset_resource(
        {**RULESET, "priority": 3, "active": False, "public_name": "Spring sale"}
    ).body
    assert list(ruleset.manifest(body)) == [
        "external_id",
        "public_name",
        "active",
        "priority",
        "product_selection",
        "rules",
    ]
