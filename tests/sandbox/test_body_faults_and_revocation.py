"""The sandbox's spoiled answers (truncated or empty bodies) and token revocation."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import CONTROL_TOKEN, Sandbox

from . import bodies
from .conftest import MAIN, P, client_for

BODY = bodies.ruleset(
    "x", bodies.rule("r", -5, conditions=[]), product_selection={"type": "PRODUCTS_ALL"}
)


def test_a_truncated_answer_keeps_its_status_and_a_matching_length(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    whole = api.get(f"{P}/rulesets").content
    sandbox.set_faults(truncated_body=1, body_faults_on="reads", body_faults_limit=1)
    cut = api.get(f"{P}/rulesets")
    assert (cut.status_code, cut.content) == (200, whole[: len(whole) // 2])
    assert cut.headers["content-length"] == str(len(cut.content))
    assert api.get(f"{P}/rulesets").content == whole  # the limit of one is spent
    assert sandbox.stats()["events"]["truncated_body"] == 1


def test_body_faults_hit_only_the_answers_they_are_set_on(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    sandbox.set_faults(empty_body=1, body_faults_on="writes")
    assert api.get(f"{P}/rulesets").json()["data"]["rulesets"] == []
    created = api.put(f"{P}/rulesets/external/x", json=BODY)
    assert (created.status_code, created.content) == (201, b"")
    sandbox.set_faults()
    assert api.get(f"{P}/rulesets/external/x").status_code == 200  # the write happened
    sandbox.set_faults(empty_body=1, body_faults_on="reads")
    assert api.put(f"{P}/rulesets/external/x", json=BODY).json()["data"]["ruleset"]
    missing = api.get(f"{P}/rulesets/external/nope")
    assert missing.status_code == 404 and missing.json()["type"] == "resource.not_found"


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"body_faults_on": "sometimes"}, "body_faults_on must be one of all, reads, writes"),
        ({"truncated_body": 2}, "truncated_body must be between 0 and 1"),
        ({"body_faults_limit": 1.5}, "body_faults_limit must be a whole number"),
    ],
)
def test_bad_body_fault_settings_are_refused(
    sandbox: Sandbox, bad: dict[str, object], says: str
) -> None:
    with client_for(sandbox, CONTROL_TOKEN) as control:
        answer = control.put("/__sandbox__/faults", json=bad)
    assert answer.status_code == 400
    assert answer.json()["message"] == says


def test_a_revoked_token_is_refused_from_then_on(sandbox: Sandbox, api: httpx.Client) -> None:
    assert api.get(f"{P}/rulesets").status_code == 200
    with client_for(sandbox, CONTROL_TOKEN) as control:
        assert control.request("DELETE", "/__sandbox__/tokens", json={"token": MAIN}).json() == {
            "revoked": True
        }
        again = control.request("DELETE", "/__sandbox__/tokens", json={"token": MAIN})
        assert again.status_code == 404
    refused = api.get(f"{P}/rulesets")
    assert (refused.status_code, refused.json()["type"]) == (401, "authentication.failed")
