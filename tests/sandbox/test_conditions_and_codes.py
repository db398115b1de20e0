"""Order conditions, discount codes and the storefront calls, in process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox import bodies
from tests.sandbox.conftest import P, S, client_for


def test_order_condition_lifecycle_with_field_set_ids(api: httpx.Client) -> None:
    made = api.post(f"{P}/order_conditions", json=bodies.condition())
    assert made.status_code == 201
    body = made.json()["data"]["order_condition"]
    assert (body["operator"], body["type"]) == ("ONE_OF", "FIELD_SET")
    first_id = body["field_sets"][0]["id"]
    assert isinstance(first_id, int)
    assert api.post(f"{P}/order_conditions", json=bodies.condition()).status_code == 409
    # identity is case-sensitive
    assert (
        api.post(f"{P}/order_conditions", json=bodies.condition("ZONE", "Prairies")).status_code
        == 201
    )
    replaced = api.put(
        f"{P}/order_conditions/ZONE/prairies",
        json={
            "field_sets": [
                {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "MB"},
                {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "SK"},
            ]
        },
    ).json()["data"]["order_condition"]
    ids = [fs["id"] for fs in replaced["field_sets"]]
    assert ids[0] == first_id and ids[1] != first_id
    got = api.get(f"{P}/order_conditions/ZONE/prairies").json()["data"]["order_condition"]
    assert got == replaced
    assert api.delete(f"{P}/order_conditions/ZONE/prairies").status_code == 200
    assert api.get(f"{P}/order_conditions/ZONE/prairies").status_code == 404


def test_listing_is_shallow_unless_deep(api: httpx.Client, other: httpx.Client) -> None:
    api.post(f"{P}/order_conditions", json=bodies.condition())
    shallow = other.get(f"{P}/order_conditions").json()["data"]["order_conditions"][0]
    assert "field_sets" not in shallow and shallow["field_set_count"] == 1
    deep = other.get(f"{P}/order_conditions", params={"deep": "true"}).json()
    assert (
        deep["data"]["order_conditions"][0]["field_sets"][0]["customer.shipping.province_code"]
        == "MB"
    )
    assert deep["pagination"]["total"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": "x", "field_sets": []}, "name"),
        (
            {"name": "N", "value": "x", "field_sets": [{"customer.email": "a"}]},
            "field_sets[0].customer.email",
        ),
        ({"name": "N", "value": "x", "field_sets": [{}]}, "field_sets[0]"),
        ({"name": "N", "value": "x", "operator": "ALL_OF"}, "operator"),
    ],
)
def test_order_condition_validation(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    answer = api.post(f"{P}/order_conditions", json=body)
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]


def test_field_set_endpoints_and_group_operations(api: httpx.Client) -> None:
    api.post(f"{P}/order_conditions", json=bodies.condition("ZONE", "prairies"))
    api.post(
        f"{P}/order_conditions",
        json={
            "name": "ZONE",
            "value": "quebec",
            "field_sets": [{"customer.shipping.province_code": "QC"}],
        },
    )
    fields = api.get(f"{P}/order_conditions/fields").json()["data"]["fields"]
    assert len(fields) == 5 and "customer.shipping.postal_code" in fields
    report = api.get(f"{P}/order_conditions/ZONE/validate").json()
    assert report["data"] == [] and "different fields" in report["message"]
    added = api.post(
        f"{P}/order_conditions/field_sets",
        json={
            "name": "ZONE",
            "value": "prairies",
            "field_sets": [{"customer.shipping.province_code": "AB"}],
        },
    ).json()["data"]["order_condition"]
    new_id = added["field_sets"][-1]["id"]
    page = api.get(f"{P}/order_conditions/ZONE/prairies/field_sets", params={"limit": 1}).json()
    assert page["pagination"]["total"] == 2 and len(page["data"]["field_sets"]) == 1
    removed = api.request(
        "DELETE",
        f"{P}/order_conditions/field_sets",
        json={"name": "ZONE", "value": "prairies", "field_set_ids": [new_id]},
    )
    assert [fs["id"] for fs in removed.json()["data"]["order_condition"]["field_sets"]] != [new_id]
    again = api.request(
        "DELETE",
        f"{P}/order_conditions/field_sets",
        json={"name": "ZONE", "value": "prairies", "field_set_ids": [new_id]},
    )
    assert again.status_code == 404
    trimmed = api.delete(f"{P}/order_conditions/ZONE/fields/customer.shipping.country_code")
    assert trimmed.status_code == 200
    report = api.get(f"{P}/order_conditions/ZONE/validate").json()
    assert "same fields" in report["message"]
    assert api.delete(f"{P}/order_conditions/ZONE").json()["data"]["count"] == 2
    assert api.delete(f"{P}/order_conditions/ZONE").status_code == 404


def test_eligible_order_conditions_need_no_token(sandbox: Any, api: httpx.Client) -> None:
    api.post(f"{P}/order_conditions", json=bodies.condition())
    anonymous = client_for(sandbox, None)
    url = "/price_rules/storefront/v2/shops/sandbox-shop.example.com/order_condition"
    body = {"customer": {"shipping": {"country_code": "CA", "province_code": "MB"}}}
    assert anonymous.post(url, json=body).json()["data"]["order_condition"] == {"ZONE": "prairies"}
    body = {"customer": {"shipping": {"country_code": "CA", "province_code": "ON"}}}
    assert anonymous.post(url, json=body).json()["data"]["order_condition"] == {}


def test_discount_codes_one_object_per_name_backed_by_a_discount_app_ruleset(
    api: httpx.Client,
) -> None:
    made = api.post(f"{P}/discount_codes", json=bodies.discount("SPRING15", "spring-vip"))
    assert made.status_code == 201
    codes = made.json()["data"]["discount_codes"]
    assert [c["code"] for c in codes] == ["SPRING15", "spring-vip"]
    first = codes[0]
    assert first["usage_count"] == 0 and first["action"]["value"] == -15
    assert set(first) >= {
        "id",
        "limits",
        "restrict_by_emails",
        "conditions",
        "start_date",
        "ruleset_id",
    }
    # the backing ruleset belongs to the discount-code app: hidden without include_all_apps
    assert api.get(f"{P}/rulesets").json()["data"]["rulesets"] == []
    backing = api.get(f"{P}/rulesets/{first['ruleset_id']}", params={"include_all_apps": "true"})
    rule = backing.json()["data"]["ruleset"]["rules"][0]
    assert rule["type"] == "DISCOUNT_CODE"
    assert {"type": "DISCOUNT_CODE", "value": "SPRING15"} in rule["conditions"]
    by_ruleset = api.get(f"{P}/discount_codes/rulesets/{first['ruleset_id']}")
    assert by_ruleset.json()["data"]["discount_code"]["id"] == first["id"]


def test_duplicate_code_names_create_nothing(api: httpx.Client) -> None:
    api.post(f"{P}/discount_codes", json=bodies.discount("SPRING15"))
    clash = api.post(f"{P}/discount_codes", json=bodies.discount("NEW", "spring15"))
    assert clash.status_code == 409
    listed = api.get(f"{P}/discount_codes").json()
    assert [c["code"] for c in listed["data"]["discount_codes"]] == ["SPRING15"]


def test_update_renames_and_the_backing_ruleset_follows(api: httpx.Client) -> None:
    code = api.post(f"{P}/discount_codes", json=bodies.discount("A1", "B2")).json()["data"][
        "discount_codes"
    ][0]
    body = bodies.discount()["discount_code"]
    del body["codes"]
    body["action"] = {"type": "PRICE_ADJUST_PERCENT", "value": -30}
    taken = api.put(
        f"{P}/discount_codes/{code['id']}", json={"discount_code": {**body, "code": "b2"}}
    )
    assert taken.status_code == 409
    updated = api.put(
        f"{P}/discount_codes/{code['id']}", json={"discount_code": {**body, "code": "A2"}}
    )
    assert updated.status_code == 200
    assert updated.json()["data"]["discount_code"]["code"] == "A2"
    ruleset = api.get(
        f"{P}/rulesets/{code['ruleset_id']}", params={"include_all_apps": "true"}
    ).json()["data"]["ruleset"]
    assert ruleset["rules"][0]["actions"] == [{"type": "PRICE_ADJUST_PERCENT", "value": -30}]
    assert api.delete(f"{P}/discount_codes/{code['id']}").status_code == 204
    assert api.get(f"{P}/discount_codes/{code['id']}").status_code == 404
    gone = api.get(f"{P}/rulesets/{code['ruleset_id']}", params={"include_all_apps": "true"})
    assert gone.status_code == 404


def test_status_filter_and_activation(api: httpx.Client) -> None:
    api.post(f"{P}/discount_codes", json=bodies.discount("NOW"))
    api.post(
        f"{P}/discount_codes", json=bodies.discount("LATER", start_date="2099-01-01T00:00:00Z")
    )
    api.post(f"{P}/discount_codes", json=bodies.discount("OLD", expiry_date="2001-01-01T00:00:00Z"))

    def names(status: str) -> list[str]:
        answer = api.get(f"{P}/discount_codes", params={"status": status})
        return [c["code"] for c in answer.json()["data"]["discount_codes"]]

    assert (names("ACTIVE"), names("SCHEDULED"), names("EXPIRED")) == (["NOW"], ["LATER"], ["OLD"])
    assert api.get(f"{P}/discount_codes", params={"status": "SOON"}).status_code == 400
    old = api.get(f"{P}/discount_codes", params={"name": "ol"}).json()["data"]["discount_codes"][0]
    activated = api.post(f"{P}/discount_codes/{old['id']}/activate").json()["data"]["discount_code"]
    assert activated["expiry_date"] is None
    assert "OLD" in names("ACTIVE")
    api.post(f"{P}/discount_codes/{old['id']}/deactivate")
    assert "OLD" in names("EXPIRED")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"codes": []}, "codes"),
        ({"codes": ["X" * 129]}, "codes[0]"),
        ({"codes": ["a", "A"]}, "codes[1]"),
        ({"restrict_by_emails": [f"u{i}@x.test" for i in range(51)]}, "restrict_by_emails"),
        ({"limits": [{"limit_type": "per_moon", "limit_amount": 1}]}, "limits[0].limit_type"),
        ({"conditions": [{"type": "WEATHER"}]}, "conditions[0].type"),
        ({"action": {"type": "PRICE_ADJUST_PERCENT", "value": -120}}, "action.value"),
    ],
)
def test_discount_code_validation(api: httpx.Client, change: dict[str, Any], field: str) -> None:
    body = bodies.discount()
    body["discount_code"].update(change)
    answer = api.post(f"{P}/discount_codes", json=body)
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]


def test_storefront_price_applies_the_best_rule(sandbox: Any, api: httpx.Client) -> None:
    api.post(
        f"{P}/rulesets",
        json=bodies.ruleset(
            "gold",
            bodies.rule("gold", -20),
            {**bodies.rule("all", -10), "conditions": []},
        ),
    )
    anonymous = client_for(sandbox, None)
    body = {
        "items": [{"id": "SKU-1", "price": 9000}, {"id": "SKU-9", "price": 500}],
        "lineItemIdType": "sku",
    }
    plain = anonymous.post(f"{S}/price", json=body).json()["actions"]
    assert [a["value"] for a in plain] == [8100, 500]
    gold = anonymous.post(f"{S}/price", json={**body, "customer": {"tags": "vip, gold"}}).json()
    assert gold["actions"][0]["value"] == 7200
    assert gold["actions"][0]["type"] == "BEST_ITEM_PRICE"
    assert anonymous.post(f"{S}/price", json={"items": []}).status_code == 422
