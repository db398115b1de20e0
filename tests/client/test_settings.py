"""Headers, version dates, token checks and the routes table with its overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from reconciler import __version__, connect, errors, routes
from reconciler.targets import Target
from tests.client.conftest import SHOP, TOKEN, MakeClient, envelope


def test_every_call_carries_auth_version_and_user_agent(make_client: MakeClient) -> None:
    bold, server = make_client(lambda r: envelope({}), api_version="2022-05-01")
    bold.ping()
    sent = server.requests[0].headers
    assert sent["authorization"] == f"Bearer {TOKEN}"
    assert sent["bold-api-version-date"] == "2022-05-01"
    assert sent["user-agent"].startswith(f"boldrules/{__version__} ")
    assert server.paths() == ["GET /price_rules/rules/v2/ping"]


@pytest.mark.parametrize(
    ("value", "wanted"),
    [
        ("2022-10-14", None),
        ("22-10-14", "not a date in the form YYYY-MM-DD"),
        ("2022-13-01", "not a real calendar date"),
        ("2022-10-14T00:00:00Z", "not a date in the form YYYY-MM-DD"),
        ("2031-01-02", "is in the future (today is 2030-01-01 UTC)"),
    ],
)
def test_version_date_is_checked(value: str, wanted: str | None) -> None:
    today = date(2030, 1, 1)
    if wanted is None:
        assert routes.check_api_version(value, today=today) == value
    else:
        with pytest.raises(
            errors.ConfigError, match=wanted.replace("(", r"\(").replace(")", r"\)")
        ):
            routes.check_api_version(value, today=today)


def test_future_version_date_needs_the_opt_in(make_client: MakeClient) -> None:
    with pytest.raises(errors.ConfigError, match="allow_future_api_version"):
        make_client(lambda r: envelope({}), api_version="2999-01-01")
    bold, server = make_client(
        lambda r: envelope({}), api_version="2999-01-01", allow_future_api_version=True
    )
    bold.ping()
    assert server.requests[0].headers["bold-api-version-date"] == "2999-01-01"


@pytest.mark.parametrize("token", ["", "  ", "abc def", "abc\ndef", "tökén"])
def test_a_token_that_cannot_be_a_header_is_refused_without_echoing_it(
    make_client: MakeClient, token: str
) -> None:
    with pytest.raises(errors.ConfigError) as caught:
        make_client(lambda r: envelope({}), token=token)
    if token.strip():
        assert token.strip() not in str(caught.value)


def test_repr_never_shows_the_token(make_client: MakeClient) -> None:
    bold, _ = make_client(lambda r: envelope({}))
    assert TOKEN not in repr(bold)
    assert SHOP in repr(bold)


def test_every_route_of_the_table_is_a_method_and_an_absolute_path() -> None:
    for name, (method, path) in routes.ROUTES.items():
        assert method in {"GET", "POST", "PUT", "PATCH", "DELETE"}, name
        assert path.startswith("/"), name
    # The paths Bold documents ([C]) are exactly as documented.
    p = "/price_rules/rules/v2/shops/{shop_identifier}"
    assert routes.ROUTES["shop_info"] == ("GET", "/shops/v1/info")
    assert routes.ROUTES["list_rulesets"] == ("GET", f"{p}/rulesets")
    assert routes.ROUTES["create_ruleset"] == ("POST", f"{p}/rulesets")
    assert routes.ROUTES["replace_ruleset_by_id"] == ("PUT", f"{p}/rulesets/{{id}}")
    assert routes.ROUTES["storefront_price"] == (
        "POST",
        "/price_rules/storefront/v2/shops/{shop_identifier}/price",
    )


def test_a_routes_override_takes_effect(make_client: MakeClient) -> None:
    corrected = "/price_rules/rules/v2/shops/{shop_identifier}/ruleset_by_ext/{external_id}"
    bold, server = make_client(
        lambda r: envelope({"ruleset": {"external_id": "spring"}}),
        routes={"get_ruleset": corrected, "patch_ruleset": "POST /custom/{external_id}/patch"},
    )
    assert bold.get_ruleset("spring") == {"external_id": "spring"}
    bold.patch_ruleset("spring", {"rules": [{"external_id": "r"}]})
    assert server.paths() == [
        f"GET /price_rules/rules/v2/shops/{SHOP}/ruleset_by_ext/spring",
        "POST /custom/spring/patch",
    ]


@pytest.mark.parametrize(
    ("overrides", "wanted"),
    [
        (
            {"get_rulset": "/x"},
            "'get_rulset' is not a route of the API; did you mean 'get_ruleset'",
        ),
        ({"get_ruleset": "x/{external_id}"}, "must start with '/'"),
        ({"get_ruleset": "/r/{rule_id}"}, r"unknown placeholder \{rule_id\}"),
        ({"get_ruleset": "/r/{external_id"}, "unbalanced braces"),
        ({"get_ruleset": "GET /a /b"}, "is not a path template or 'METHOD /path'"),
        ({"get_ruleset": "FETCH /r/{external_id}"}, "'FETCH' is not an HTTP method"),
        ({"get_ruleset": "/r/{external_id!r}"}, r"placeholder \{external_id\} .* takes no format"),
    ],
)
def test_a_bad_routes_override_is_a_config_error(
    make_client: MakeClient, overrides: dict[str, str], wanted: str
) -> None:
    with pytest.raises(errors.ConfigError, match=wanted):
        make_client(lambda r: envelope({}), routes=overrides)


def test_path_params_are_quoted_whole(make_client: MakeClient) -> None:
    bold, server = make_client(lambda r: envelope({"order_condition": {"name": "a"}}))
    bold.get_order_condition("ZONE/West", "prairies & north?")
    assert server.requests[0].url.raw_path.decode() == (
        f"/price_rules/rules/v2/shops/{SHOP}/order_conditions/ZONE%2FWest/prairies%20%26%20north%3F"
    )


def test_shop_identifier_is_asked_once_when_not_configured(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/shops/v1/info":
            return httpx.Response(200, json={"shop_identifier": "27698659388", "shop_domain": "x"})
        return envelope({"rulesets": []}, pagination={"total": 0, "total_pages": 1})

    bold, server = make_client(handler, shop_identifier=None)
    bold.list_rulesets()
    bold.list_rulesets()
    assert server.paths() == [
        "GET /shops/v1/info",
        "GET /price_rules/rules/v2/shops/27698659388/rulesets",
        "GET /price_rules/rules/v2/shops/27698659388/rulesets",
    ]


def test_activate_all_is_never_sent(make_client: MakeClient) -> None:
    bold, server = make_client(lambda r: envelope({}))
    with pytest.raises(ValueError, match="every app"):
        bold.request("activate_all_rulesets")
    assert server.requests == []


def _target(**fields: Any) -> Target:
    spec: dict[str, Any] = {
        "name": "production",
        "sandbox": None,
        "api_url": "http://127.0.0.1:9",
        "shop_identifier": SHOP,
        "token_env": "BOLD_TEST_TOKEN",
        "rate": 5.0,
        "burst": 3,
        "concurrency": 2,
        "timeout": 5.0,
    }
    return Target(**{**spec, **fields})


def test_for_target_builds_a_remote_client_and_names_the_variable_on_a_bad_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOLD_TEST_TOKEN", TOKEN)
    with connect.connect(_target()) as bold:
        assert bold.base_url == "http://127.0.0.1:9"
        assert bold.concurrency == 2
    monkeypatch.setenv("BOLD_TEST_TOKEN", "has space")
    with pytest.raises(errors.ConfigError, match=r"\$BOLD_TEST_TOKEN") as caught:
        connect.connect(_target())
    assert "has space" not in str(caught.value)


def test_for_target_reads_the_real_config_target(monkeypatch: pytest.MonkeyPatch) -> None:
    fields: dict[str, Any] = {
        "name": "production",
        "sandbox": None,
        "api_url": "http://127.0.0.1:9",
        "shop_identifier": SHOP,
        "token_env": "BOLD_TEST_TOKEN",
    }
    target = Target(**fields)
    monkeypatch.delenv("BOLD_TEST_TOKEN", raising=False)
    with pytest.raises(errors.TokenMissing, match=r"\$BOLD_TEST_TOKEN"):
        connect.connect(target)
    monkeypatch.setenv("BOLD_TEST_TOKEN", TOKEN)
    with connect.connect(target, routes={"ping": "/health"}) as bold:
        assert bold.routes["ping"] == ("GET", "/health")
