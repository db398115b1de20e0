"""The order condition kind: field sets as a set, its calls on the shop, its manifest form."""

from __future__ import annotations

from typing import Any

from reconciler import kinds, model
from tests.kinds.conftest import run_changes

SPEC = kinds.by_name[model.Kind.ORDER_CONDITION]

MB = {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "MB"}
SK = {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "SK"}
DECLARED: dict[str, Any] = {"name": "ZONE", "value": "prairies", "field_sets": [SK, MB]}


def test_live_json_round_trips_through_the_api_body() -> None:
    desired = SPEC.resource(DECLARED)
    assert desired.body["operator"] == "ONE_OF" and desired.body["type"] == "FIELD_SET"
    body = SPEC.to_api(desired.body)
    assert body["field_sets"] == [MB, SK]
    assert SPEC.resource({**body, "field_sets": [{**SK, "id": 2}, {**MB, "id": 1}]}).body == (
        desired.body
    )


def test_created_then_a_field_set_added_by_its_calls(bold: Any) -> None:
    one = SPEC.resource({**DECLARED, "field_sets": [MB]})
    assert run_changes(bold, [model.Create(one)]) == [
        "create order condition ZONE=prairies: create_order_condition"
    ]
    live = SPEC.read_one(bold, one.key)
    assert live is not None and live.fingerprint() == one.fingerprint()
    two = SPEC.resource(DECLARED)
    assert run_changes(bold, [model.Update(two, live, ())]) == [
        "update order condition ZONE=prairies: add_field_sets"
    ]
    found = SPEC.read_one(bold, one.key)
    assert found is not None and found.body["field_sets"] == [MB, SK]


def test_the_manifest_form_reads_back_as_the_same_object() -> None:
    desired = SPEC.resource(DECLARED)
    [(file_name, entry)] = SPEC.manifests([desired])
    assert file_name == "ZONE"
    assert entry == {"name": "ZONE", "value": "prairies", "field_sets": [MB, SK]}
    assert SPEC.resource(entry).fingerprint() == desired.fingerprint()


def test_ours_by_its_group_declared_or_listed() -> None:
    key = model.order_condition_key("ZONE", "prairies")
    declared = kinds.Scope(declared=frozenset({model.order_condition_key("ZONE", "alberta")}))
    assert SPEC.claim(key, declared) == kinds.GONE
    assert SPEC.claim(key, kinds.Scope(listed_groups=frozenset({"ZONE"}))) == (
        kinds.BY_GROUP_SETTING
    )
    assert SPEC.claim(key, kinds.Scope()) is None
    assert SPEC.unmanaged_unit(key) == "ZONE"


def test_not_dated_and_prices_nothing_itself() -> None:
    assert not SPEC.dated
    assert SPEC.priced(SPEC.resource(DECLARED).body) == []
    assert SPEC.summary(SPEC.resource(DECLARED).body) == "2 field sets: CA/MB, CA/SK"
