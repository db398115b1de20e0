"""Rulesets and rules, in process: ids, defaults, app scoping, upserts, PATCH, validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox import bodies
from tests.sandbox.conftest import P


def create(api: httpx.Client, eid: str = "spring", *rules: dict[str, Any], **extra: Any) -> Any:
    response = api.post(f"{P}/rulesets", json=bodies.ruleset(eid, *rules, **extra))
    assert response.status_code == 201, response.text
    return response.json()["data"]["ruleset"]


def test_create_assigns_ids_timestamps_and_defaults(api: httpx.Client) -> None:
    made = create(api)
    assert isinstance(made["id"], int)
    assert made["internal_name"] == made["public_name"] == ""
    assert made["active"] is True
    assert made["priority"] == 0
    assert made["start_date"] is None and made["expiry_date"] is None
    (rule,) = made["rules"]
    assert isinstance(rule["id"], int)
    assert (rule["meta"], rule["priority"], rule["stack_order"]) == ({}, 0, 0)
    assert made["created_at"].endswith("+00:00") and made["updated_at"].endswith("Z")


def test_dates_are_normalised_to_utc(api: httpx.Client) -> None:
    made = create(api, start_date="2026-03-01T02:00:00+02:00", expiry_date="2026-03-31T23:59:59Z")
    assert made["start_date"] == "2026-03-01T00:00:00Z"
    assert made["expiry_date"] == "2026-03-31T23:59:59Z"


def test_duplicate_external_id_in_one_app_is_409_but_another_app_may_reuse_it(
    api: httpx.Client, other: httpx.Client
) -> None:
    create(api)
    again = api.post(f"{P}/rulesets", json=bodies.ruleset("spring"))
    assert again.status_code == 409
    assert again.json()["type"] == "resource.conflict"
    assert other.post(f"{P}/rulesets", json=bodies.ruleset("spring")).status_code == 201


def test_rulesets_are_scoped_to_their_app(api: httpx.Client, other: httpx.Client) -> None:
    mine = create(api)
    assert other.get(f"{P}/rulesets/{mine['id']}").status_code == 404
    assert other.get(f"{P}/rulesets/external/spring").status_code == 404
    assert other.get(f"{P}/rulesets").json()["data"]["rulesets"] == []
    wide = other.get(f"{P}/rulesets", params={"include_all_apps": "true"}).json()
    assert [r["id"] for r in wide["data"]["rulesets"]] == [mine["id"]]
    seen = other.get(f"{P}/rulesets/{mine['id']}", params={"include_all_apps": "true"})
    assert seen.status_code == 200
    # include_all_apps widens reads only: another app's ruleset cannot be changed
    assert other.delete(f"{P}/rulesets/{mine['id']}?include_all_apps=true").status_code == 404


def test_put_by_external_id_is_an_upsert(api: httpx.Client) -> None:
    first = api.put(f"{P}/rulesets/external/summer", json=bodies.ruleset(None))
    assert first.status_code == 201
    second = api.put(
        f"{P}/rulesets/external/summer", json=bodies.ruleset(None, public_name="Summer")
    )
    assert second.status_code == 200
    assert second.json()["data"]["ruleset"]["id"] == first.json()["data"]["ruleset"]["id"]
    assert second.json()["data"]["ruleset"]["public_name"] == "Summer"
    mismatch = api.put(f"{P}/rulesets/external/summer", json=bodies.ruleset("winter"))
    assert mismatch.status_code == 422


def test_put_keeps_rule_ids_matched_by_external_id(api: httpx.Client) -> None:
    made = create(api, "spring", bodies.rule("a"), bodies.rule("b"))
    ids = {r["external_id"]: r["id"] for r in made["rules"]}
    replaced = api.put(
        f"{P}/rulesets/{made['id']}",
        json=bodies.ruleset("spring", bodies.rule("b", -30), bodies.rule("c")),
    ).json()["data"]["ruleset"]
    new_ids = {r["external_id"]: r["id"] for r in replaced["rules"]}
    assert new_ids["b"] == ids["b"]
    assert new_ids["c"] not in ids.values()
    assert "a" not in new_ids
    assert replaced["created_at"] == made["created_at"]


def test_put_of_an_unknown_id_is_404(api: httpx.Client) -> None:
    assert api.put(f"{P}/rulesets/999", json=bodies.ruleset()).status_code == 404


def test_patch_replaces_by_id_then_external_id_and_appends_the_rest(api: httpx.Client) -> None:
    made = create(api, "spring", bodies.rule("a"), bodies.rule("b"), bodies.rule("keep"))
    a_id = made["rules"][0]["id"]
    patch = {
        "ruleset": {
            "expiry_date": "2030-01-01T00:00:00Z",
            "rules": [
                {**bodies.rule("a-renamed", -5), "id": a_id},
                bodies.rule("b", -40),
                bodies.rule("new"),
            ],
        }
    }
    patched = api.patch(f"{P}/rulesets/external/spring", json=patch)
    assert patched.status_code == 200
    rules = {r["external_id"]: r for r in patched.json()["data"]["ruleset"]["rules"]}
    assert rules["a-renamed"]["id"] == a_id
    assert rules["b"]["id"] == made["rules"][1]["id"]
    assert rules["b"]["actions"][0]["value"] == -40
    assert rules["keep"] == made["rules"][2]
    assert "new" in rules
    assert patched.json()["data"]["ruleset"]["expiry_date"] == "2030-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"rules": []}, "rules"),
        ({"rules": [{"external_id": "x"}]}, "rules[0].type"),
        ({"rules": [bodies.rule()], "active": False}, "active"),
    ],
)
def test_patch_refuses_empty_or_unpatchable_bodies(
    api: httpx.Client, patch: dict[str, Any], field: str
) -> None:
    create(api)
    answer = api.patch(f"{P}/rulesets/external/spring", json={"ruleset": patch})
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]


def test_delete_answers_204_and_the_ruleset_is_gone(api: httpx.Client) -> None:
    made = create(api)
    assert api.delete(f"{P}/rulesets/{made['id']}").status_code == 204
    assert api.get(f"{P}/rulesets/{made['id']}").status_code == 404
    assert api.delete(f"{P}/rulesets/external/spring").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"external_id": "x" * 129}, "external_id"),
        ({"public_name": "x" * 256}, "public_name"),
        ({"active": "yes"}, "active"),
        ({"priority": 1.5}, "priority"),
        ({"start_date": "tomorrow"}, "start_date"),
        ({"start_date": "2026-01-01T00:00:00"}, "start_date"),
        ({"product_selection": None}, "product_selection"),
        ({"product_selection": {"type": "SOME"}}, "product_selection.type"),
        (
            {"product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": [1]}},
            "product_selection.sku_ids[0]",
        ),
        ({"rules": None}, "rules"),
        ({"rules": [bodies.rule(type="NOPE")]}, "rules[0].type"),
        ({"rules": [{**bodies.rule(), "actions": []}]}, "rules[0].actions"),
        ({"rules": [bodies.rule(value=-101)]}, "rules[0].actions[0].value"),
        (
            {
                "rules": [
                    {**bodies.rule(), "actions": [{"type": "PRICE_ADJUST_ABSOLUTE", "value": -1}]}
                ]
            },
            "rules[0].actions[0].value",
        ),
        (
            {"rules": [{**bodies.rule(), "actions": [{"type": "BOGUS", "value": 1}]}]},
            "rules[0].actions[0].type",
        ),
        (
            {
                "rules": [
                    {
                        **bodies.rule(),
                        "conditions": [{"type": "QTY_BY_PRODUCT", "operator": "~", "value": 2}],
                    }
                ]
            },
            "rules[0].conditions[0].operator",
        ),
        ({"rules": [bodies.rule("a"), bodies.rule("a")]}, "rules[1].external_id"),
        (
            {"start_date": "2026-02-01T00:00:00Z", "expiry_date": "2026-01-01T00:00:00Z"},
            "expiry_date",
        ),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(
    api: httpx.Client, change: dict[str, Any], field: str
) -> None:
    body = bodies.ruleset()
    body["ruleset"].update(change)
    answer = api.post(f"{P}/rulesets", json=body)
    assert answer.status_code == 422, answer.text
    payload = answer.json()
    assert payload["type"] == "validation.failed"
    assert field in [e["field"] for e in payload["errors"]]


def test_every_problem_is_reported_at_once(api: httpx.Client) -> None:
    answer = api.post(f"{P}/rulesets", json={"ruleset": {"rules": [{"actions": []}]}})
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"product_selection", "rules[0].type", "rules[0].actions"} <= fields


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_malformed_bodies_are_400(api: httpx.Client, raw: bytes) -> None:
    answer = api.post(f"{P}/rulesets", content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["type"] == "request.malformed"


def test_missing_wrapper_is_422(api: httpx.Client) -> None:
    answer = api.post(f"{P}/rulesets", json=bodies.ruleset()["ruleset"])
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "ruleset"


def test_pagination_object_and_limit_clamp(api: httpx.Client) -> None:
    for i in range(7):
        create(api, f"r{i}")
    page = api.get(f"{P}/rulesets", params={"limit": 3, "page": 2}).json()
    assert [r["external_id"] for r in page["data"]["rulesets"]] == ["r3", "r4", "r5"]
    meta = page["pagination"]
    assert {k: meta[k] for k in ("total", "count", "per_page", "current_page", "total_pages")} == {
        "total": 7,
        "count": 3,
        "per_page": 3,
        "current_page": 2,
        "total_pages": 3,
    }
    assert "page=3" in meta["next_url"] and "page=1" in meta["previous_url"]
    last = api.get(meta["next_url"]).json()["pagination"]
    assert last["next_url"] is None and last["count"] == 1
    assert api.get(f"{P}/rulesets", params={"limit": 500}).json()["pagination"]["per_page"] == 100
    past = api.get(f"{P}/rulesets", params={"page": 9}).json()
    assert past["data"]["rulesets"] == [] and past["pagination"]["count"] == 0


@pytest.mark.parametrize("query", [{"page": 0}, {"limit": 0}, {"limit": "ten"}, {"page": "-1"}])
def test_bad_paging_query_is_400(api: httpx.Client, query: dict[str, Any]) -> None:
    assert api.get(f"{P}/rulesets", params=query).status_code == 400


def test_list_filters_external_ids_fields_and_expression(api: httpx.Client) -> None:
    create(api, "a", priority=5)
    create(api, "b", active=False)
    create(api, "c")
    picked = api.get(f"{P}/rulesets", params={"external_ids": "a,c"}).json()["data"]["rulesets"]
    assert [r["external_id"] for r in picked] == ["a", "c"]
    slim = api.get(f"{P}/rulesets", params={"fields": "external_id"}).json()["data"]["rulesets"]
    assert set(slim[0]) == {"id", "external_id"}
    inactive = api.get(f"{P}/rulesets", params={"filter_expression": "active = false"})
    assert [r["external_id"] for r in inactive.json()["data"]["rulesets"]] == ["b"]
    both = api.get(
        f"{P}/rulesets", params={"filter_expression": "active=true and priority>1"}
    ).json()["data"]["rulesets"]
    assert [r["external_id"] for r in both] == ["a"]
    assert api.get(f"{P}/rulesets", params={"filter_expression": "rules ~ x"}).status_code == 400
    assert api.get(f"{P}/rulesets", params={"fields": "nope"}).status_code == 400


def test_rules_list_is_a_bare_paginated_array(api: httpx.Client) -> None:
    made = create(api, "spring", bodies.rule("a"), bodies.rule("b"), bodies.rule("c"))
    answer = api.get(f"{P}/rulesets/{made['id']}/rules", params={"limit": 2}).json()
    assert [r["external_id"] for r in answer["data"]] == ["a", "b"]
    assert answer["pagination"]["total"] == 3
    by_eid = api.get(f"{P}/rulesets/external/spring/rules", params={"page": 2, "limit": 2})
    assert [r["external_id"] for r in by_eid.json()["data"]] == ["c"]


def test_add_rules_then_bulk_delete(api: httpx.Client) -> None:
    made = create(api, "spring", bodies.rule("a"))
    added = api.post(f"{P}/rulesets/{made['id']}/rules", json={"rules": [bodies.rule("b")]})
    assert added.status_code == 201
    new_id = added.json()["data"]["rules"][0]["id"]
    dup = api.post(f"{P}/rulesets/external/spring/rules", json={"rules": [bodies.rule("a")]})
    assert dup.status_code == 409
    assert api.post(f"{P}/rulesets/external/spring/rules", json={"rules": []}).status_code == 422
    unknown = api.request("DELETE", f"{P}/rulesets/{made['id']}/rules", json={"rule_ids": [999]})
    assert unknown.status_code == 404
    gone = api.request("DELETE", f"{P}/rulesets/external/spring/rules", json={"rule_ids": [new_id]})
    assert gone.status_code == 200
    assert [r["external_id"] for r in gone.json()["data"]["ruleset"]["rules"]] == ["a"]


@pytest.mark.parametrize(
    "form",
    [
        "{rs}/rules/{rid}",
        "{rs}/rules/external/{reid}",
        "external/spring/rules/{rid}",
        "external/spring/rules/external/{reid}",
    ],
)
def test_update_rule_in_its_four_forms_keeps_its_id(api: httpx.Client, form: str) -> None:
    made = create(api, "spring", bodies.rule("a"), bodies.rule("b"))
    rid = made["rules"][0]["id"]
    path = form.format(rs=made["id"], rid=rid, reid="a")
    answer = api.put(f"{P}/rulesets/{path}", json={"rule": bodies.rule("a", -60)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["rule"]["id"] == rid
    stored = api.get(f"{P}/rulesets/{made['id']}").json()["data"]["ruleset"]["rules"][0]
    assert stored["actions"][0]["value"] == -60
    clash = api.put(f"{P}/rulesets/{path}", json={"rule": bodies.rule("b")})
    assert clash.status_code == 409


def test_delete_rule_by_id_and_unknown_rule(api: httpx.Client) -> None:
    made = create(api, "spring", bodies.rule("a"), bodies.rule("b"))
    rid = made["rules"][1]["id"]
    assert api.delete(f"{P}/rulesets/external/spring/rules/{rid}").status_code == 200
    assert api.delete(f"{P}/rulesets/{made['id']}/rules/{rid}").status_code == 404
    # no delete by rule external id exists
    assert api.delete(f"{P}/rulesets/{made['id']}/rules/external/a").status_code == 405


def test_activate_and_deactivate_touch_every_app(api: httpx.Client, other: httpx.Client) -> None:
    create(api, "mine")
    other.post(f"{P}/rulesets", json=bodies.ruleset("theirs"))
    answer = api.post(f"{P}/rulesets/deactivate")
    assert answer.status_code == 200 and answer.json()["data"]["count"] == 2
    listed = api.get(f"{P}/rulesets", params={"include_all_apps": "true"}).json()
    assert {r["active"] for r in listed["data"]["rulesets"]} == {False}
    api.post(f"{P}/rulesets/activate")
    listed = other.get(f"{P}/rulesets").json()
    assert listed["data"]["rulesets"][0]["active"] is True
