"""The sandbox prices like Bold: its price calls answer pricing-engine.md's worked examples.

Every worked example of §6 is seeded over the admin API (each ruleset by its app's token) and
asked through the three price calls of §7, in process and over a real socket; discount codes,
order conditions, cart-level discounts and checkout actions come from what the admin calls
stored. Answers are checked whole, in the shapes of §7.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox
from tests.sandbox.conftest import MAIN, OTHER, READER, P, S, client_for

ALL = {"type": "PRODUCTS_ALL"}
ITEM = {"id": "TEE", "variant_id": "70", "product_id": "7", "price": 1500, "quantity": 5}


def pct(value: int) -> dict[str, Any]:
    return {"type": "PRICE_ADJUST_PERCENT", "value": value}


def ruleset(
    eid: str,
    rule_type: str = "DISCOUNT",
    value: int = -10,
    conditions: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "ruleset": {
            "external_id": eid,
            "public_name": f"{eid} promo",
            "product_selection": ALL,
            "rules": [
                {
                    "external_id": f"{eid}-rule",
                    "type": rule_type,
                    "conditions": conditions or [],
                    "actions": [pct(value)],
                }
            ],
            **fields,
        }
    }


A = ruleset("A", conditions=[{"type": "QTY_BY_VARIANT", "operator": ">=", "value": 5}])
B = ruleset("B", value=-5)
C = ruleset("C", value=-20)


def with_fields(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"ruleset": {**body["ruleset"], **fields}}


#: §6: (name, [(token, ruleset body)], the final unit price, the winning ruleset).
WORKED = [
    ("no priorities", [(MAIN, A), (MAIN, B), (MAIN, C)], 1200, "C"),
    (
        "C stacks as an employee discount",
        [(MAIN, A), (MAIN, B), (MAIN, ruleset("C", "STACKABLE_DISCOUNT", -20))],
        1080,
        "A",
    ),
    (
        "B at priority 1, C at 2, one app",
        [(MAIN, with_fields(B, priority=1)), (MAIN, with_fields(C, priority=2))],
        1425,
        "B",
    ),
    (
        "B at priority 1, C at 2, two apps",
        [(MAIN, with_fields(B, priority=1)), (OTHER, with_fields(C, priority=2))],
        1200,
        "C",
    ),
]


def seed(sandbox_client: httpx.Client, token: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = sandbox_client.post(
        f"{P}/rulesets", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()["data"]["ruleset"]
    return created


def refs(action: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["rule_set_eid"], r["type"]) for r in action["rule"]]


@pytest.fixture
def anonymous(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox, None) as client:
        yield client


@pytest.mark.parametrize(("name", "seeds", "unit", "winner"), WORKED, ids=[w[0] for w in WORKED])
def test_worked_examples_in_process(
    api: httpx.Client, name: str, seeds: list[Any], unit: int, winner: str
) -> None:
    for token, body in seeds:
        seed(api, token, body)
    final = api.post(f"{S}/price", json={"items": [ITEM], "lineItemIdType": "sku"}).json()
    cart = api.post(f"{S}/cart", json={"lineItems": [ITEM], "lineItemIdType": "sku"}).json()
    adjusted = api.post(
        f"{P}/adjusted_cart", json={"lineItems": [ITEM], "matchLineItemProperty": "sku"}
    ).json()
    for answer in (final, cart, adjusted):
        line = answer["actions"][0]
        assert (line["type"], line["sku"], line["variant_id"], line["value"]) == (
            "BEST_ITEM_PRICE",
            "TEE",
            "70",
            unit,
        )
        assert winner in [eid for eid, kind in refs(line) if kind == "DISCOUNT"]
    assert (cart["subtotal"], cart["total"]) == (unit * 5, unit * 5)
    assert cart["actions"][0]["line_total"] == unit * 5
    assert adjusted["total"] == unit * 5


def test_worked_examples_over_http(http: httpx.Client) -> None:
    anonymous = {"Authorization": ""}
    got = []
    for _, seeds, _, _ in WORKED:
        http.post("/__sandbox__/reset", headers={"Authorization": "Bearer sandbox-control"})
        for token, body in seeds:
            seed(http, token, body)
        answers = [
            http.post(f"{S}/price", json={"items": [ITEM]}, headers=anonymous),
            http.post(f"{S}/cart", json={"lineItems": [ITEM]}, headers=anonymous),
            http.post(f"{P}/adjusted_cart", json={"lineItems": [ITEM]}),
        ]
        assert [a.status_code for a in answers] == [200, 200, 200]
        got.append([a.json()["actions"][0]["value"] for a in answers])
    assert got == [[unit] * 3 for _, _, unit, _ in WORKED]


def test_bolds_promotion_info_example_and_the_answer_shape(
    api: httpx.Client, anonymous: httpx.Client
) -> None:
    created = seed(api, MAIN, ruleset("P", value=-20, public_name="20% off"))
    body = {"items": [{"id": "X", "price": 9000}], "lineItemIdType": "sku"}
    answer = anonymous.post(f"{S}/price", json=body).json()
    assert answer == {
        "pre_best_price_log_id": answer["pre_best_price_log_id"],
        "actions": [
            {
                "type": "BEST_ITEM_PRICE",
                "sku": "X",
                "variant_id": None,
                "value": 7200,
                "rule": [
                    {
                        "id": created["rules"][0]["id"],
                        "eid": "P-rule",
                        "rule_set_id": created["id"],
                        "rule_set_eid": "P",
                        "rule_set_public_message": "20% off",
                        "type": "DISCOUNT",
                    }
                ],
            }
        ],
    }
    assert isinstance(answer["pre_best_price_log_id"], str)


def test_an_item_no_ruleset_prices_keeps_its_price_and_names_no_rule(
    api: httpx.Client, anonymous: httpx.Client
) -> None:
    selection = {"type": "PRODUCT_SEARCH", "sku_ids": ["TEE"]}
    seed(api, MAIN, with_fields(C, product_selection=selection))
    body = {"lineItems": [ITEM, {"id": "MUG", "price": 800, "quantity": 2}]}
    answer = anonymous.post(f"{S}/cart", json=body).json()
    assert answer["actions"][1] == {
        "type": "BEST_ITEM_PRICE",
        "sku": "MUG",
        "variant_id": None,
        "value": 800,
        "rule": [],
        "line_index": 1,
        "quantity": 2,
        "line_total": 1600,
    }
    assert (answer["subtotal"], answer["total"]) == (6000 + 1600, 7600)
    assert set(answer) == {"pre_checkout_id", "actions", "subtotal", "total"}


def test_a_discount_code_prices_a_cart_that_carries_it_and_no_product_call(
    api: httpx.Client, anonymous: httpx.Client
) -> None:
    seed(api, MAIN, B)  # 1500 - 75 = 1425
    code = api.post(
        f"{P}/discount_codes",
        json={
            "discount_code": {
                "codes": ["SPRING15"],
                "action": pct(-15),
                "product_selection": ALL,
            }
        },
    ).json()["data"]["discount_codes"][0]
    cart = {"lineItems": [ITEM], "discountCode": "spring15"}  # codes ignore case (§4)
    line = anonymous.post(f"{S}/cart", json=cart).json()["actions"][0]
    # 1500 + round(1500 × -15 / 100) = 1275 beats B's 1425 across apps
    assert line["value"] == 1275
    assert line["rule"] == [
        {
            "id": line["rule"][0]["id"],
            "eid": "discount-code",
            "rule_set_id": code["ruleset_id"],
            "rule_set_eid": f"discount-code-{code['id']}",
            "rule_set_public_message": "SPRING15",
            "type": "DISCOUNT_CODE",
        }
    ]
    assert (
        anonymous.post(f"{S}/cart", json={"lineItems": [ITEM]}).json()["actions"][0]["value"]
        == 1425
    )
    wrong = {**cart, "discountCode": "AUTUMN15"}
    assert anonymous.post(f"{S}/cart", json=wrong).json()["actions"][0]["value"] == 1425
    # a single-product call has no cart, so no code (§4: cart context only)
    final = anonymous.post(f"{S}/price", json={"items": [ITEM], **cart}).json()
    assert final["actions"][0]["value"] == 1425
    # a deactivated code no longer prices
    api.post(f"{P}/discount_codes/{code['id']}/deactivate")
    assert anonymous.post(f"{S}/cart", json=cart).json()["actions"][0]["value"] == 1425


def test_order_conditions_from_the_stored_field_sets(
    api: httpx.Client, anonymous: httpx.Client
) -> None:
    api.post(
        f"{P}/order_conditions",
        json={
            "name": "ZONE",
            "value": "prairies",
            "field_sets": [
                {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "MB"},
                {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "SK"},
            ],
        },
    )
    zone = {"type": "ORDER_CONDITION", "name": "ZONE", "value": "prairies"}
    seed(api, MAIN, ruleset("prairie-deal", value=-30, conditions=[zone]))

    def price_for(shipping: dict[str, str]) -> int:
        body = {"items": [ITEM], "customer": {"shipping": shipping}}
        value: int = anonymous.post(f"{S}/price", json=body).json()["actions"][0]["value"]
        return value

    assert price_for({"country_code": "CA", "province_code": "SK"}) == 1050
    assert price_for({"country_code": "CA", "province_code": "ON"}) == 1500
    assert price_for({}) == 1500


def test_cart_context_conditions_hold_only_in_a_cart(
    api: httpx.Client, anonymous: httpx.Client
) -> None:
    five = {"type": "QTY_BY_PRODUCT", "operator": ">=", "value": 5}
    seed(api, MAIN, ruleset("bulk", value=-10, conditions=[five]))
    two_lines = [
        {**ITEM, "quantity": 3},
        {**ITEM, "id": "TEE-L", "variant_id": "71", "quantity": 2},
    ]
    cart = anonymous.post(f"{S}/cart", json={"lineItems": two_lines}).json()
    assert [a["value"] for a in cart["actions"]] == [1350, 1350]  # 5 of product 7 in the cart
    final = anonymous.post(f"{S}/price", json={"items": two_lines}).json()
    assert [a["value"] for a in final["actions"]] == [1500, 1500]


def test_cart_level_discounts_and_checkout_actions(
    api: httpx.Client, anonymous: httpx.Client
) -> None:
    body = ruleset("cart-off", "CART_LEVEL_DISCOUNT")
    body["ruleset"]["rules"][0]["actions"] = [
        {"type": "CART_LEVEL_DISCOUNT_RELATIVE", "value": -500}
    ]
    seed(api, MAIN, body)
    ship = ruleset("ship-free", "DISCOUNT", conditions=[{"type": "CUSTOMER_GROUP", "value": "vip"}])
    ship["ruleset"]["rules"][0]["actions"] = [{"type": "FREE_SHIPPING"}]
    seed(api, OTHER, ship)
    cart = {"lineItems": [ITEM], "customer": {"tags": "vip"}}
    answer = anonymous.post(f"{S}/cart", json=cart).json()
    assert (answer["subtotal"], answer["total"]) == (7500, 7000)
    kinds = [(a["type"], a.get("value")) for a in answer["actions"]]
    assert kinds == [
        ("BEST_ITEM_PRICE", 1500),
        ("CART_LEVEL_DISCOUNT", 7000),
        ("FREE_SHIPPING", None),
    ]
    assert answer["actions"][1]["subtotal"] == 7500
    assert refs(answer["actions"][2]) == [("ship-free", "DISCOUNT")]


def test_rulesets_out_of_their_dates_or_inactive_do_not_price(
    api: httpx.Client, anonymous: httpx.Client
) -> None:
    seed(api, MAIN, with_fields(C, expiry_date="2020-01-01T00:00:00Z"))
    seed(api, MAIN, with_fields(B, active=False))
    seed(api, OTHER, with_fields(A, start_date="2999-01-01T00:00:00Z"))
    answer = anonymous.post(f"{S}/price", json={"items": [ITEM]}).json()
    assert answer["actions"][0]["value"] == 1500


def test_ids_by_variant_and_product(api: httpx.Client, anonymous: httpx.Client) -> None:
    selection = {"type": "PRODUCT_SEARCH", "product_ids": ["7"]}
    seed(api, MAIN, with_fields(C, product_selection=selection))
    by_product = {"items": [{"id": "7", "price": 1500}], "lineItemIdType": "product_id"}
    by_variant = {"items": [{"id": "70", "price": 1500}], "lineItemIdType": "variant_id"}
    assert anonymous.post(f"{S}/price", json=by_product).json()["actions"][0]["value"] == 1200
    line = anonymous.post(f"{S}/price", json=by_variant).json()["actions"][0]
    assert (line["variant_id"], line["sku"], line["value"]) == ("70", None, 1500)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (f"{S}/price", {"items": []}, "items"),
        (f"{S}/price", {"items": [{"id": "X"}]}, "items[0].price"),
        (f"{S}/price", {"items": [{"id": "X", "price": -1}]}, "items[0].price"),
        (f"{S}/price", {"items": [{"price": 100}]}, "items[0].id"),
        (f"{S}/price", {"items": [ITEM], "lineItemIdType": "handle"}, "lineItemIdType"),
        (f"{S}/cart", {"lineItems": [{**ITEM, "quantity": 0}]}, "lineItems[0].quantity"),
        (f"{S}/cart", {"lineItems": [ITEM], "discountCode": 15}, "discountCode"),
        (f"{S}/cart", {"items": [ITEM]}, "lineItems"),
        (f"{S}/cart", {"lineItems": [ITEM], "customer": "gold"}, "customer"),
        (
            f"{P}/adjusted_cart",
            {"lineItems": [ITEM], "matchLineItemProperty": "x"},
            "matchLineItemProperty",
        ),
    ],
)
def test_bad_requests_name_the_field(
    api: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    answer = api.post(path, json=body)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_the_adjusted_cart_is_an_admin_call(sandbox: Sandbox, anonymous: httpx.Client) -> None:
    assert anonymous.post(f"{P}/adjusted_cart", json={"lineItems": [ITEM]}).status_code == 401
    with client_for(sandbox, READER) as reader:
        assert reader.post(f"{P}/adjusted_cart", json={"lineItems": [ITEM]}).status_code == 200
    sandbox.add_token("t-codes", app="app-main", scopes=["read_discount_codes"])
    with client_for(sandbox, "t-codes") as codes_only:
        assert codes_only.post(f"{P}/adjusted_cart", json={"lineItems": [ITEM]}).status_code == 403
