"""Contract tests over a real socket: every §6 endpoint, its status and its shape, negatives too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import CONTROL_TOKEN, DEFAULT_TOKEN, Sandbox, ServedSandbox, serve
from tests.sandbox import bodies
from tests.sandbox.conftest import OTHER, READER, P, S

pytestmark = pytest.mark.socket

PAGINATION_KEYS = {
    "total",
    "count",
    "per_page",
    "current_page",
    "total_pages",
    "next_url",
    "previous_url",
}


def ok(answer: httpx.Response, status: int, key: str | None = None) -> Any:
    """Assert the status and the success envelope; return data (or data[key])."""
    assert answer.status_code == status, (
        f"{answer.request.method} {answer.request.url}: {answer.text}"
    )
    if status == 204:
        assert answer.content == b""
        return None
    payload = answer.json()
    assert isinstance(payload["message"], str)
    return payload["data"] if key is None else payload["data"][key]


def error(answer: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    payload: dict[str, Any] = answer.json()
    assert set(payload) >= {"message", "code", "type"} and payload["type"] == kind
    return payload


def test_ruleset_endpoints(http: httpx.Client) -> None:
    made = ok(http.post(f"{P}/rulesets", json=bodies.ruleset()), 201, "ruleset")
    rid = made["id"]
    listed = http.get(f"{P}/rulesets").json()
    assert set(listed["pagination"]) == PAGINATION_KEYS
    assert [r["id"] for r in listed["data"]["rulesets"]] == [rid]
    assert ok(http.get(f"{P}/rulesets/{rid}"), 200, "ruleset") == made
    assert ok(http.get(f"{P}/rulesets/external/spring"), 200, "ruleset") == made
    ok(http.put(f"{P}/rulesets/{rid}", json=bodies.ruleset(public_name="P")), 200, "ruleset")
    ok(http.put(f"{P}/rulesets/external/new", json=bodies.ruleset(None)), 201, "ruleset")
    ok(http.put(f"{P}/rulesets/external/new", json=bodies.ruleset(None)), 200, "ruleset")
    patch = {"ruleset": {"rules": [bodies.rule("extra")]}}
    assert len(ok(http.patch(f"{P}/rulesets/{rid}", json=patch), 200, "ruleset")["rules"]) == 2
    ok(http.patch(f"{P}/rulesets/external/spring", json=patch), 200, "ruleset")
    rules = ok(http.get(f"{P}/rulesets/{rid}/rules"), 200)
    assert isinstance(rules, list) and len(rules) == 2
    ok(http.get(f"{P}/rulesets/external/spring/rules"), 200)
    added = ok(http.post(f"{P}/rulesets/{rid}/rules", json={"rules": [bodies.rule("c")]}), 201)
    ok(http.post(f"{P}/rulesets/external/spring/rules", json={"rules": [bodies.rule("d")]}), 201)
    rule_id = added["rules"][0]["id"]
    ok(
        http.put(f"{P}/rulesets/{rid}/rules/{rule_id}", json={"rule": bodies.rule("c", -1)}),
        200,
        "rule",
    )
    ok(
        http.put(f"{P}/rulesets/{rid}/rules/external/c", json={"rule": bodies.rule("c")}),
        200,
        "rule",
    )
    ok(
        http.put(f"{P}/rulesets/external/spring/rules/{rule_id}", json={"rule": bodies.rule("c")}),
        200,
    )
    ok(
        http.put(f"{P}/rulesets/external/spring/rules/external/c", json={"rule": bodies.rule("c")}),
        200,
    )
    ok(http.request("DELETE", f"{P}/rulesets/{rid}/rules", json={"rule_ids": [rule_id]}), 200)
    d_id = [
        r["id"] for r in ok(http.get(f"{P}/rulesets/{rid}/rules"), 200) if r["external_id"] == "d"
    ]
    ok(http.request("DELETE", f"{P}/rulesets/external/spring/rules", json={"rule_ids": d_id}), 200)
    extra = [r["id"] for r in ok(http.get(f"{P}/rulesets/{rid}/rules"), 200)][-1]
    ok(http.delete(f"{P}/rulesets/{rid}/rules/{extra}"), 200, "ruleset")
    first = ok(http.get(f"{P}/rulesets/{rid}/rules"), 200)[0]["id"]
    ok(http.delete(f"{P}/rulesets/external/spring/rules/{first}"), 200, "ruleset")
    ok(http.post(f"{P}/rulesets/deactivate"), 200)
    ok(http.post(f"{P}/rulesets/activate"), 200)
    ok(http.delete(f"{P}/rulesets/{rid}"), 204)
    ok(http.delete(f"{P}/rulesets/external/new"), 204)
    assert http.get(f"{P}/rulesets").json()["pagination"]["total"] == 0


def test_negative_cases(served_sandbox: ServedSandbox, http: httpx.Client) -> None:
    made = ok(http.post(f"{P}/rulesets", json=bodies.ruleset()), 201, "ruleset")
    assert http.get(f"{P}/rulesets", headers={"Authorization": "Bearer wrong"}).json() == {
        "message": "This request failed to be authenticated.",
        "code": "00-1",
        "type": "authentication.failed",
    }
    reader = {"Authorization": f"Bearer {READER}"}
    error(
        http.post(f"{P}/rulesets", json=bodies.ruleset("x"), headers=reader),
        403,
        "authorization.failed",
    )
    other = {"Authorization": f"Bearer {OTHER}"}
    error(http.get(f"{P}/rulesets/{made['id']}", headers=other), 404, "resource.not_found")
    error(http.post(f"{P}/rulesets", json=bodies.ruleset()), 409, "resource.conflict")
    invalid = error(http.post(f"{P}/rulesets", json={"ruleset": {}}), 422, "validation.failed")
    assert {e["field"] for e in invalid["errors"]} >= {"product_selection", "rules"}
    error(http.get(f"{P}/rulesets/424242"), 404, "resource.not_found")
    error(http.get(f"{P}/discount_codes/424242"), 404, "resource.not_found")
    error(http.get(f"{P}/order_conditions/NOPE/nope"), 404, "resource.not_found")
    past = http.get(f"{P}/rulesets", params={"page": 5}).json()
    assert past["data"]["rulesets"] == [] and past["pagination"]["current_page"] == 5
    error(http.get(f"{P}/rulesets", params={"limit": "x"}), 400, "request.malformed")
    error(
        http.post(f"{P}/rulesets", content=b"{", headers={"Content-Type": "application/json"}),
        400,
        "request.malformed",
    )
    error(http.get("/price_rules/rules/v2/shops/elsewhere/rulesets"), 404, "resource.not_found")


def test_rate_limit_over_the_socket(served_sandbox: ServedSandbox, http: httpx.Client) -> None:
    served_sandbox.sandbox.set_rate(10, burst=10)
    statuses = [http.get("/price_rules/rules/v2/ping").status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    refused = http.get(f"{P}/rulesets")
    assert refused.json() == {"message": "API rate limit exceeded"}
    assert int(refused.headers["Retry-After"]) >= 1


def test_order_condition_endpoints(http: httpx.Client) -> None:
    made = ok(http.post(f"{P}/order_conditions", json=bodies.condition()), 201, "order_condition")
    assert isinstance(made["field_sets"][0]["id"], int)
    listed = http.get(f"{P}/order_conditions", params={"deep": "true"}).json()
    assert set(listed["pagination"]) == PAGINATION_KEYS
    assert listed["data"]["order_conditions"] == [made]
    ok(http.get(f"{P}/order_conditions/ZONE/prairies"), 200, "order_condition")
    ok(http.put(f"{P}/order_conditions/ZONE/prairies", json=bodies.condition()), 200)
    assert len(ok(http.get(f"{P}/order_conditions/fields"), 200, "fields")) == 5
    fs = {
        "name": "ZONE",
        "value": "prairies",
        "field_sets": [{"customer.shipping.country": "Canada"}],
    }
    added = ok(http.post(f"{P}/order_conditions/field_sets", json=fs), 200, "order_condition")
    new_id = added["field_sets"][-1]["id"]
    page = http.get(f"{P}/order_conditions/ZONE/prairies/field_sets").json()
    assert len(page["data"]["field_sets"]) == 2 and set(page["pagination"]) == PAGINATION_KEYS
    validation = http.get(f"{P}/order_conditions/ZONE/validate").json()
    assert validation["data"] == [] and validation["message"]
    body = {"name": "ZONE", "value": "prairies", "field_set_ids": [new_id]}
    ok(http.request("DELETE", f"{P}/order_conditions/field_sets", json=body), 200)
    ok(http.delete(f"{P}/order_conditions/ZONE/fields/customer.shipping.province_code"), 200)
    ok(http.delete(f"{P}/order_conditions/ZONE/prairies"), 200)
    ok(http.post(f"{P}/order_conditions", json=bodies.condition()), 201)
    ok(http.delete(f"{P}/order_conditions/ZONE"), 200)
    error(http.post(f"{P}/order_conditions", json={"name": "Z"}), 422, "validation.failed")


def test_discount_code_endpoints(http: httpx.Client) -> None:
    codes = ok(
        http.post(f"{P}/discount_codes", json=bodies.discount("A", "B")), 201, "discount_codes"
    )
    code = codes[0]
    listed = http.get(f"{P}/discount_codes", params={"status": "ACTIVE", "name": "a"}).json()
    assert [c["code"] for c in listed["data"]["discount_codes"]] == ["A"]
    assert set(listed["pagination"]) == PAGINATION_KEYS
    assert ok(http.get(f"{P}/discount_codes/{code['id']}"), 200, "discount_code") == code
    by_ruleset = ok(
        http.get(f"{P}/discount_codes/rulesets/{code['ruleset_id']}"), 200, "discount_code"
    )
    assert by_ruleset["id"] == code["id"]
    restated = {k: v for k, v in bodies.discount()["discount_code"].items() if k != "codes"}
    ok(http.put(f"{P}/discount_codes/{code['id']}", json={"discount_code": restated}), 200)
    ok(http.post(f"{P}/discount_codes/{code['id']}/deactivate"), 200, "discount_code")
    ok(http.post(f"{P}/discount_codes/{code['id']}/activate"), 200, "discount_code")
    error(http.post(f"{P}/discount_codes", json=bodies.discount("b")), 409, "resource.conflict")
    ok(http.delete(f"{P}/discount_codes/{code['id']}"), 204)


def test_shop_info_ping_and_storefront(http: httpx.Client) -> None:
    info = http.get("/shops/v1/info").json()
    assert info["shop_identifier"] == "sandbox-shop" and info["shop_domain"]
    assert http.get("/price_rules/rules/v2/ping").json()["message"] == (
        "Successfully reached Price Rules API"
    )
    http.post(f"{P}/rulesets", json=bodies.ruleset())
    anonymous = {"Authorization": ""}
    price = http.post(
        f"{S}/price",
        json={"items": [{"id": "SKU-2", "price": 1000}], "customer": {"tags": "gold"}},
        headers=anonymous,
    )
    assert price.status_code == 200 and price.json()["actions"][0]["value"] == 800
    eligible = http.post(
        "/price_rules/storefront/v2/shops/sandbox-shop.example.com/order_condition",
        json={"customer": {"shipping": {}}},
        headers=anonymous,
    )
    assert eligible.json()["data"]["order_condition"] == {}


def test_drop_after_commit_cuts_the_connection(
    served_sandbox: ServedSandbox, http: httpx.Client
) -> None:
    served_sandbox.sandbox.set_faults(drop_after_commit=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.post(f"{P}/rulesets", json=bodies.ruleset())
    # reads are never dropped, and the write happened
    assert http.get(f"{P}/rulesets/external/spring").status_code == 200


def test_slow_answers_trip_a_client_timeout(
    served_sandbox: ServedSandbox, http: httpx.Client
) -> None:
    served_sandbox.sandbox.set_faults(slow_ms=400)
    with pytest.raises(httpx.ReadTimeout):
        http.put(f"{P}/rulesets/external/slow", json=bodies.ruleset(None), timeout=0.1)
    served_sandbox.sandbox.set_faults()
    assert http.get(f"{P}/rulesets/external/slow").status_code == 200


def test_control_over_the_socket(served_sandbox: ServedSandbox, http: httpx.Client) -> None:
    control = {"Authorization": f"Bearer {CONTROL_TOKEN}"}
    assert http.get("/__sandbox__/stats").status_code == 403
    answer = http.put("/__sandbox__/faults", json={"p500": 1}, headers=control)
    assert answer.status_code == 200
    assert http.get(f"{P}/rulesets").status_code == 500
    http.post("/__sandbox__/reset", headers=control)
    stats = http.get("/__sandbox__/stats", headers=control).json()
    assert stats["total"] == 0


def test_a_served_file_database_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    first = Sandbox.embedded(db)
    with serve(first) as server:
        made = httpx.post(f"{server.url}{P}/rulesets", json=bodies.ruleset(), headers=headers)
        assert made.status_code == 201
    first.close()
    second = Sandbox.embedded(db)
    with serve(second) as server:
        again = httpx.get(f"{server.url}{P}/rulesets/external/spring", headers=headers)
    second.close()
    assert again.json()["data"]["ruleset"] == made.json()["data"]["ruleset"]


def test_awkward_names_survive_percent_encoding(http: httpx.Client) -> None:
    eid = "spring sale/2026?"
    quoted = "spring%20sale%2F2026%3F"
    two_rules = bodies.ruleset(None, bodies.rule("a"), bodies.rule("b"))
    made = http.put(f"{P}/rulesets/external/{quoted}", json=two_rules)
    assert made.status_code == 201
    assert made.json()["data"]["ruleset"]["external_id"] == eid
    rules = http.get(f"{P}/rulesets/external/{quoted}/rules", params={"limit": 1}).json()
    assert f"/external/{quoted}/rules?" in rules["pagination"]["next_url"]
    assert len(http.get(rules["pagination"]["next_url"]).json()["data"]) == 1
    condition = bodies.condition("ZONE", "east/west")
    assert http.post(f"{P}/order_conditions", json=condition).status_code == 201
    got = http.get(f"{P}/order_conditions/ZONE/east%2Fwest")
    assert got.json()["data"]["order_condition"]["value"] == "east/west"
