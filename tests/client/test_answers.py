"""What a caller sees for each kind of answer: typed errors, odd bodies, and tolerated extras."""

from __future__ import annotations

import httpx
import pytest

from reconciler import errors
from tests.client.conftest import MakeClient, P, api_error, envelope

AUTH_FAILED = {
    "message": "This request failed to be authenticated.",
    "code": "00-1",
    "type": "authentication.failed",
}


def test_401_is_authentication_failed_with_the_contracts_message(make_client: MakeClient) -> None:
    bold, _ = make_client(lambda r: httpx.Response(401, json=AUTH_FAILED))
    with pytest.raises(errors.AuthenticationFailed) as caught:
        bold.list_rulesets()
    assert str(caught.value) == (
        f"GET {P}/rulesets → 401: This request failed to be authenticated."
    )
    assert caught.value.code == "00-1"
    assert caught.value.exit_code == 7


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (403, errors.PermissionDenied),
        (404, errors.NotFound),
        (409, errors.Conflict),
        (400, errors.InvalidRequest),
        (405, errors.ApiError),
    ],
)
def test_each_status_has_its_error(make_client: MakeClient, status: int, kind: type) -> None:
    bold, _ = make_client(lambda r: api_error(status, "the API's words"))
    with pytest.raises(kind) as caught:
        bold.request("list_discount_codes")
    scope = " — this call needs the read_discount_codes scope" if status == 403 else ""
    assert str(caught.value) == f"GET {P}/discount_codes → {status}: the API's words{scope}"


def test_422_names_each_field_error(make_client: MakeClient) -> None:
    body = {
        "message": "The ruleset is invalid.",
        "errors": [
            {"field": "rules[0].actions[0].value", "message": "must be at least -100"},
            {"field": "product_selection", "message": "is required"},
        ],
    }
    bold, _ = make_client(lambda r: httpx.Response(422, json=body))
    with pytest.raises(errors.InvalidRequest) as caught:
        bold.upsert_ruleset("spring sale", {"rules": []})
    assert str(caught.value) == (
        f"PUT {P}/rulesets/external/spring%20sale → 422: The ruleset is invalid. "
        "(rules[0].actions[0].value: must be at least -100; product_selection: is required)"
    )
    assert caught.value.field_errors[1] == errors.FieldError("product_selection", "is required")


def test_the_apis_message_is_cut_to_256_characters(make_client: MakeClient) -> None:
    bold, _ = make_client(lambda r: api_error(409, "x" * 1000))
    with pytest.raises(errors.Conflict) as caught:
        bold.create_order_condition({"name": "a", "value": "b"})
    assert len(caught.value.api_message) == 256


@pytest.mark.parametrize("status", [200, 404, 401])
def test_an_html_page_is_a_bad_response(make_client: MakeClient, status: int) -> None:
    # A non-JSON 404 is a proxy or a wrong URL talking: reporting "not found" would make a
    # plan believe the ruleset is absent and create it again.
    page = "<!DOCTYPE html><html><body><h1>Welcome to nginx</h1></body></html>"
    bold, _ = make_client(
        lambda r: httpx.Response(status, text=page, headers={"content-type": "text/html"})
    )
    with pytest.raises(errors.BadResponse) as caught:
        bold.get_ruleset("spring")
    assert "text/html" in str(caught.value)
    assert "nginx" not in str(caught.value)


def test_malformed_json_is_a_bad_response(make_client: MakeClient) -> None:
    bold, _ = make_client(
        lambda r: httpx.Response(
            200, text='{"data": {"rulesets": [', headers={"content-type": "application/json"}
        )
    )
    with pytest.raises(errors.BadResponse) as caught:
        bold.list_rulesets()
    assert str(caught.value) == (
        f"GET {P}/rulesets → 200 — the answer's body was truncated JSON (it breaks off at byte "
        "23) (after 6 attempts)"
    )


def test_json_in_the_wrong_shape_is_a_bad_response(make_client: MakeClient) -> None:
    bold, _ = make_client(lambda r: envelope({"something_else": []}))
    with pytest.raises(errors.BadResponse, match=r"no data\.rulesets list"):
        bold.list_rulesets()
    with pytest.raises(errors.BadResponse, match=r"no data\.ruleset object"):
        bold.upsert_ruleset("x", {"rules": []})


def test_a_redirect_is_not_followed(make_client: MakeClient) -> None:
    bold, server = make_client(
        lambda r: httpx.Response(301, headers={"location": "https://elsewhere.test/login?next=1"})
    )
    with pytest.raises(errors.BadResponse, match=r"redirected to elsewhere\.test/login"):
        bold.ping()
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(204), envelope({}), httpx.Response(200, text="")],
    ids=["204-no-body", "200-envelope", "200-empty"],
)
def test_deletes_accept_every_documented_success(
    make_client: MakeClient, answer: httpx.Response
) -> None:
    bold, server = make_client(lambda r: answer)
    bold.delete_ruleset("spring")
    bold.delete_order_condition("ZONE", "west")
    bold.delete_discount_code(17)
    bold.delete_rules("spring", [1, 2])
    bold.delete_field_sets("ZONE", "west", [5])
    assert server.paths() == [
        f"DELETE {P}/rulesets/external/spring",
        f"DELETE {P}/order_conditions/ZONE/west",
        f"DELETE {P}/discount_codes/17",
        f"DELETE {P}/rulesets/external/spring/rules",
        f"DELETE {P}/order_conditions/field_sets",
    ]
    assert server.requests[3].content == b'{"rule_ids":[1,2]}'


def test_a_delete_of_something_already_gone_is_fine(make_client: MakeClient) -> None:
    bold, _ = make_client(lambda r: api_error(404, "Ruleset not found"))
    bold.delete_ruleset("gone")


def test_gets_of_unknown_objects_are_none(make_client: MakeClient) -> None:
    bold, _ = make_client(lambda r: api_error(404, "not found"))
    assert bold.get_ruleset("nope") is None
    assert bold.get_order_condition("ZONE", "nope") is None
    assert bold.get_discount_code(404) is None
    assert bold.stats.errors == 3


def test_unknown_extra_fields_are_ignored_and_kept(make_client: MakeClient) -> None:
    ruleset = {"id": 1, "external_id": "x", "rules": [], "brand_new_field": {"a": 1}}
    bold, _ = make_client(
        lambda r: httpx.Response(
            200,
            json={
                "message": "ok",
                "data": {"ruleset": ruleset, "extra": True},
                "meta": {"trace": "abc"},
            },
        )
    )
    assert bold.get_ruleset("x") == ruleset


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Integers outside 64 bits stay exact integers (orjson alone would make them floats).
        (b"18446744073709551616", 18446744073709551616),
        (b"-9223372036854775809", -9223372036854775809),
        (b"123456789012345678901234567890", 123456789012345678901234567890),
        (b"9223372036854775807", 9223372036854775807),
        (b"-12.5", -12.5),
        (b"0.1", 0.1),
        (b"1e400", float("inf")),  # what json reads and orjson refuses
        (b'"\\ud800"', "\ud800"),  # a lone surrogate
        (b'"caf\xc3\xa9 \\u00e9"', "caf\u00e9 \u00e9"),
        (b"true", True),
        (b"1", 1),
        (b"1.0", 1.0),
    ],
)
def test_every_value_of_a_body_reads_as_json_reads_it(
    make_client: MakeClient, raw: bytes, expected: object
) -> None:
    body = b'{"message": "ok", "data": {"ruleset": {"id": 1, "external_id": "x", "rules": [], '
    body += b'"value": ' + raw + b"}}}"
    bold, _ = make_client(
        lambda r: httpx.Response(200, content=body, headers={"content-type": "application/json"})
    )
    found = bold.get_ruleset("x")
    assert found is not None
    assert type(found["value"]) is type(expected)
    assert found["value"] == expected


def test_a_body_with_a_byte_order_mark_still_reads(make_client: MakeClient) -> None:
    body = b'\xef\xbb\xbf{"message": "ok", "data": {"ruleset": {"id": 1, "rules": []}}}'
    bold, _ = make_client(
        lambda r: httpx.Response(200, content=body, headers={"content-type": "application/json"})
    )
    assert bold.get_ruleset("x") == {"id": 1, "rules": []}


def test_writes_send_the_contracts_bodies(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "discount_codes" in request.url.path and request.method == "POST":
            codes = [{"id": 1, "code": "A"}, {"id": 2, "code": "B"}]
            return envelope({"discount_codes": codes}, status=201)
        if "discount_codes" in request.url.path:
            return envelope({"discount_code": {"id": 1, "code": "A"}})
        if "order_conditions" in request.url.path:
            return envelope({"order_condition": {"name": "ZONE", "value": "west"}})
        return envelope({"ruleset": {"external_id": "spring"}})

    bold, server = make_client(handler)
    bold.upsert_ruleset("spring", {"external_id": "spring", "rules": []})
    bold.patch_ruleset("spring", {"ruleset": {"rules": [{"external_id": "r1"}]}})
    assert bold.create_discount_codes({"codes": ["A", "B"]}) == [
        {"id": 1, "code": "A"},
        {"id": 2, "code": "B"},
    ]
    assert bold.update_discount_code(1, {"discount_code": {"code": "A"}})["code"] == "A"
    bold.replace_order_condition("ZONE", "west", {"name": "ZONE", "value": "west"})
    bold.add_field_sets("ZONE", "west", [{"customer.shipping.country_code": "CA"}])
    bodies = [(r.method, r.content.decode()) for r in server.requests]
    assert bodies == [
        ("PUT", '{"ruleset":{"external_id":"spring","rules":[]}}'),
        ("PATCH", '{"ruleset":{"rules":[{"external_id":"r1"}]}}'),
        ("POST", '{"discount_code":{"codes":["A","B"]}}'),
        ("PUT", '{"discount_code":{"code":"A"}}'),
        ("PUT", '{"name":"ZONE","value":"west"}'),
        (
            "POST",
            '{"name":"ZONE","value":"west","field_sets":[{"customer.shipping.country_code":"CA"}]}',
        ),
    ]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "the answer's body was empty"),
        (b"<html>Bad gateway</html>", "the answer's body was not JSON (application/json)"),
        (b'[{"id": 1}]', "the answer's body was a JSON array, not an object"),
        (b'{"data": {"rulesets": [}', "the answer's body was invalid JSON at byte 23"),
        (
            b'{"data": {"rulesets": [{"external_id": "spr',
            "truncated JSON (it breaks off at byte 43)",
        ),
    ],
    ids=["empty", "html", "array", "invalid", "truncated"],
)
def test_a_garbage_2xx_is_retried_for_a_read_and_read_back_for_a_write(
    make_client: MakeClient, body: bytes, says: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    bold, server = make_client(handler)
    with pytest.raises(errors.BadResponse) as read:
        bold.list_rulesets()
    assert says in str(read.value) and str(read.value).endswith("(after 6 attempts)")
    assert len(server.requests) == 6  # a read is safe to repeat
    with pytest.raises(errors.AmbiguousWrite) as write:
        bold.upsert_ruleset("x", {"rules": []})
    assert says in str(write.value) and "read back before retrying" in str(write.value)
    assert len(server.requests) == 7  # a write is never repeated blindly
