"""The listing knob: lists in id or hashed order, and a shop change between two page reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import CONTROL_TOKEN, Sandbox

from . import bodies
from .conftest import P, client_for


def names(api: httpx.Client, path: str, key: str, field: str, **query: Any) -> list[list[str]]:
    """Every page of a list at limit 10, as the objects' names."""
    pages: list[list[str]] = []
    page = 1
    while True:
        body = api.get(f"{P}/{path}", params={"limit": 10, "page": page, **query}).json()
        found = [str(item[field]) for item in body["data"][key]]
        if not found:
            return pages
        pages.append(found)
        page += 1


def seed(api: httpx.Client, count: int = 25) -> None:
    for n in range(1, count + 1):
        assert api.put(f"{P}/rulesets/external/rs-{n}", json=bodies.ruleset(f"rs-{n}")).is_success
        assert api.post(f"{P}/order_conditions", json=bodies.condition(value=f"v{n}")).is_success
        assert api.post(f"{P}/discount_codes", json=bodies.discount(f"CODE{n}")).is_success


def test_hashed_order_is_a_fixed_scramble_of_every_list(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    seed(api)
    by_id = names(api, "rulesets", "rulesets", "external_id")
    assert [n for page in by_id for n in page] == [f"rs-{n}" for n in range(1, 26)]
    sandbox.set_listing(order="hashed")
    for path, key, field in [
        ("rulesets", "rulesets", "external_id"),
        ("order_conditions", "order_conditions", "value"),
        ("discount_codes", "discount_codes", "code"),
    ]:
        hashed = [n for page in names(api, path, key, field) for n in page]
        assert len(hashed) == len(set(hashed)) == 25
        assert hashed != sorted(hashed, key=lambda n: int(n.lstrip("rsCODEv-")))
        assert hashed == [n for page in names(api, path, key, field) for n in page]  # stable


def test_a_mutation_runs_after_the_page_asked_for_and_the_next_pages_see_it(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    seed(api)
    sandbox.set_listing(
        mutate="rulesets",
        after_page=1,
        requests=[
            {"method": "DELETE", "path": "rulesets/external/rs-2"},
            {
                "method": "PUT",
                "path": "rulesets/external/new-{n}",
                "body": bodies.ruleset("new-{n}"),
            },
        ],
    )
    pages = names(api, "rulesets", "rulesets", "external_id")
    assert pages[0] == [f"rs-{n}" for n in range(1, 11)]  # built before the change
    assert pages[1][0] == "rs-12"  # rs-11 slid back onto page 1, already read: a torn read
    assert pages[-1][-1] == "new-1"
    assert sandbox.stats()["events"]["listing_mutations"] == 2
    # times=1: the next listing is left alone, and the shop is as the mutation left it
    again = [n for page in names(api, "rulesets", "rulesets", "external_id") for n in page]
    assert "rs-2" not in again and again[-1] == "new-1" and len(again) == 25


def test_lookups_never_trigger_and_every_listing_does_with_times_zero(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    seed(api, 5)
    sandbox.set_listing(
        mutate="rulesets",
        times=0,
        requests=[
            {
                "method": "PUT",
                "path": "rulesets/external/new-{n}",
                "body": bodies.ruleset("new-{n}"),
            }
        ],
    )
    for query in (
        {"external_ids": "rs-1"},
        {"include_all_apps": "true"},
        {"filter_expression": "priority = 0"},
    ):
        assert api.get(f"{P}/rulesets", params=query).status_code == 200
    assert api.get(f"{P}/rulesets", params={"page": 2, "limit": 2}).status_code == 200
    assert "listing_mutations" not in sandbox.stats()["events"]
    for _ in range(3):
        api.get(f"{P}/rulesets")
    listed = [r["external_id"] for r in api.get(f"{P}/rulesets").json()["data"]["rulesets"]]
    # each page was built before its own change: the fourth listing shows three new ones
    assert listed[-4:] == ["rs-5", "new-1", "new-2", "new-3"]
    assert sandbox.stats()["events"]["listing_mutations"] == 4


def test_a_refused_mutation_is_counted_not_raised(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.set_listing(
        mutate="discount_codes",
        requests=[{"method": "DELETE", "path": "rulesets/external/never-there"}],
    )
    assert api.get(f"{P}/discount_codes").status_code == 200
    assert sandbox.stats()["events"]["listing_mutation_failed"] == 1


def test_the_listing_knob_over_the_control_surface(sandbox: Sandbox) -> None:
    with client_for(sandbox, CONTROL_TOKEN) as control:
        assert control.get("/__sandbox__/listing").json() == {
            "order": "id",
            "mutate": None,
            "after_page": 1,
            "times": 1,
            "requests": [],
        }
        chosen = control.put(
            "/__sandbox__/listing",
            json={"order": "hashed", "mutate": "rulesets", "after_page": 2, "times": 0},
        )
        assert chosen.status_code == 200 and chosen.json()["after_page"] == 2
        assert sandbox.listing.order == "hashed"
        assert control.post("/__sandbox__/reset", json={"data": False}).status_code == 200
        assert sandbox.listing.order == "id"


@pytest.mark.parametrize(
    "bad",
    [
        {"order": "random"},
        {"mutate": "rules"},
        {"after_page": 0},
        {"times": -1},
        {"requests": [{"method": "FETCH", "path": "rulesets"}]},
        {"requests": [{"method": "GET"}]},
        {"requests": "DELETE rulesets/1"},
        {"colour": "blue"},
    ],
)
def test_bad_listing_settings_are_refused(sandbox: Sandbox, bad: dict[str, Any]) -> None:
    with client_for(sandbox, CONTROL_TOKEN) as control:
        answer = control.put("/__sandbox__/listing", json=bad)
    assert answer.status_code == 400
    assert answer.json()["type"] == "request.malformed"
