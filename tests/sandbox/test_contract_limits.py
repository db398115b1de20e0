"""The sandbox holds the contract's limits as Bold would: one product filter (§5.3), numbers the
API can store, and every RFC 3339 spelling of UTC that validate accepts."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.sandbox import bodies
from tests.sandbox.conftest import P


def test_a_product_selection_with_two_filters_is_422(api: httpx.Client) -> None:
    body = bodies.ruleset()
    body["ruleset"]["product_selection"] = {
        "type": "PRODUCT_SEARCH",
        "sku_ids": ["SKU-1"],
        "vendors": ["Acme"],
    }
    answer = api.post(f"{P}/rulesets", json=body)
    assert answer.status_code == 422, answer.text
    assert {
        "field": "product_selection",
        "message": "takes one filter; got sku_ids and vendors",
    } in (answer.json()["errors"])
    assert api.get(f"{P}/rulesets").json()["data"]["rulesets"] == []


def test_a_discount_code_with_two_filters_is_422(api: httpx.Client) -> None:
    body = bodies.discount(
        product_selection={"type": "PRODUCT_SEARCH", "titles": ["A"], "product_ids": ["1"]}
    )
    answer = api.post(f"{P}/discount_codes", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0] == {
        "field": "product_selection",
        "message": "takes one filter; got product_ids and titles",
    }


def test_one_filter_is_accepted(api: httpx.Client) -> None:
    assert api.post(f"{P}/rulesets", json=bodies.ruleset()).status_code == 201


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ('"priority": Infinity', "priority", "must be an integer, got a number"),
        (
            '"priority": 1000000000000000000000000000000',
            "priority",
            "must be from -2147483648 to 2147483647",
        ),
        ('"rules": [RULE_INF]', "rules[0].stack_order", "must be a finite number"),
        ('"rules": [RULE_NAN]', "rules[0].priority", "must be a finite number"),
        ('"rules": [RULE_BIG]', "rules[0].priority", "must be from -2147483648 to 2147483647"),
    ],
)
def test_numbers_the_api_cannot_hold_are_422(
    api: httpx.Client, raw: str, field: str, message: str
) -> None:
    rule = json.dumps(bodies.rule())[:-1]
    raw = (
        raw.replace("RULE_INF", rule + ', "stack_order": Infinity}')
        .replace("RULE_NAN", rule + ', "priority": NaN}')
        .replace("RULE_BIG", rule + ', "priority": -100000000000000000000000000}')
    )
    body: dict[str, Any] = bodies.ruleset()["ruleset"]
    if not raw.startswith('"rules"'):
        text = json.dumps(body)[:-1] + ", " + raw + "}"
    else:
        del body["rules"]
        text = json.dumps(body)[:-1] + ", " + raw + "}"
    answer = api.post(
        f"{P}/rulesets",
        content=('{"ruleset": ' + text + "}").encode(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert {"field": field, "message": message} in answer.json()["errors"]


@pytest.mark.parametrize(
    "written", ["2025-10-23T05:00:00z", "2025-10-23T05:00:00Z", "2025-10-23T05:00:00+00:00"]
)
def test_every_spelling_of_utc_that_validate_accepts_is_accepted(
    api: httpx.Client, written: str
) -> None:
    answer = api.post(f"{P}/rulesets", json=bodies.ruleset(start_date=written))
    assert answer.status_code == 201, answer.text
    moment = answer.json()["data"]["ruleset"]["start_date"]
    assert moment.startswith("2025-10-23T05:00:00")


def test_a_buy_x_get_y_priority_is_a_number_as_validate_says(api: httpx.Client) -> None:
    condition = {"type": "BUY_X_GET_Y", "buy_quantity": 2, "get_quantity": 1, "priority": 1.5}
    body = bodies.ruleset("bxgy", bodies.rule(conditions=[condition]))
    answer = api.post(f"{P}/rulesets", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["ruleset"]["rules"][0]["conditions"][0]["priority"] == 1.5
