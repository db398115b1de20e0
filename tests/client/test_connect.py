"""From a project target to a working client: the embedded sandbox in process, or a URL.

``connect`` is what every command uses; ``ClientSettings.from_target`` is the one place a
target's fields become a client's settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import client, clientsettings, connect, errors
from reconciler.sandbox import Sandbox, serve
from reconciler.targets import Target
from tests.client.conftest import TOKEN

PRODUCTS = {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-1"]}


def _target(**fields: Any) -> Target:
    spec: dict[str, Any] = {
        "name": "shop",
        "sandbox": None,
        "api_url": None,
        "shop_identifier": None,
        "token_env": "BOLD_CONNECT_TOKEN",
    }
    return Target(**{**spec, **fields})


def test_an_embedded_target_is_served_in_process_and_keeps_what_it_was_given(
    tmp_path: Path,
) -> None:
    target = _target(sandbox=tmp_path / "shop.sqlite", token_env=None)
    with connect.connect(target) as bold:
        assert bold.base_url == "http://sandbox.invalid"  # never resolved: no network
        bold.upsert_ruleset("spring", {"product_selection": PRODUCTS, "rules": []})
    with connect.connect(target) as bold:
        assert [r["external_id"] for r in bold.list_rulesets()] == ["spring"]


def test_closing_the_client_closes_the_embedded_sandbox(tmp_path: Path) -> None:
    target = _target(sandbox=tmp_path / "shop.sqlite", token_env=None)
    bold = connect.connect(target)
    bold.ping()
    bold.close()
    # The SQLite file is free again: a second client opens it and writes at once.
    with connect.connect(target) as again:
        again.upsert_ruleset("after", {"product_selection": PRODUCTS, "rules": []})


def test_a_remote_target_talks_http_to_its_url(monkeypatch: pytest.MonkeyPatch) -> None:
    sb = Sandbox()
    sb.add_token(TOKEN, app="boldrules-test")
    monkeypatch.setenv("BOLD_CONNECT_TOKEN", TOKEN)
    with serve(sb, port=0) as server, connect.connect(_target(api_url=server.url)) as bold:
        assert bold.base_url == server.url.rstrip("/")
        bold.ping()
    assert (sb.stats()["total"], sb.stats()["api_versions"]) == (1, {"2022-10-14": 1})
    sb.close()


def test_a_target_with_neither_sandbox_nor_url_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOLD_CONNECT_TOKEN", TOKEN)
    with pytest.raises(errors.ConfigError) as caught:
        connect.connect(_target())
    assert str(caught.value) == "target 'shop' has neither sandbox: nor api_url:"


def test_a_missing_token_names_the_variable_before_anything_opens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BOLD_CONNECT_TOKEN", raising=False)
    with pytest.raises(errors.TokenMissing, match=r"\$BOLD_CONNECT_TOKEN"):
        connect.connect(_target(api_url="http://127.0.0.1:9"))


def test_sandbox_target_needs_no_token_variable() -> None:
    local = Target("sandbox", Path("/tmp/s.sqlite"), None, None, None)
    assert connect.token_of(local) == "sandbox-local-token"


def test_settings_from_a_target_carry_its_pacing_timeout_version_and_routes() -> None:
    fields: dict[str, Any] = {
        "shop_identifier": "zp3",
        "api_version": "2022-05-01",
        "rate": 2.5,
        "burst": 3,
        "concurrency": 2,
        "timeout": 7.0,
    }
    target = _target(api_url="https://api.bold.test", **fields)
    settings = clientsettings.ClientSettings.from_target(target, routes={"ping": "/health"})
    assert settings == clientsettings.ClientSettings(
        base_url="https://api.bold.test", routes={"ping": "/health"}, **fields
    )


def test_the_settings_reach_the_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"message": "ok", "data": {}})

    target = _target(api_url="https://api.bold.test", api_version="2022-05-01")
    settings = clientsettings.ClientSettings.from_target(target, routes={"ping": "POST /health"})
    with client.BoldClient(settings, token=TOKEN, transport=httpx.MockTransport(handler)) as bold:
        bold.ping()
    assert [(r.method, str(r.url)) for r in seen] == [("POST", "https://api.bold.test/health")]
    assert seen[0].headers["bold-api-version-date"] == "2022-05-01"


@pytest.mark.parametrize(
    ("fields", "routes", "wanted"),
    [
        (
            {"concurrency": 0},
            None,
            "target 'shop': concurrency and max_attempts must be >= 1 and timeout > 0 "
            "(got 0, 6, 30.0)",
        ),
        (
            {"api_version": "2022/10/14"},
            None,
            "target 'shop': api_version '2022/10/14' is not a date in the form YYYY-MM-DD "
            "(for example 2022-10-14)",
        ),
        (
            {},
            {"pnig": "/health"},
            "target 'shop': routes: 'pnig' is not a route of the API; did you mean 'ping'?",
        ),
    ],
)
def test_refused_settings_name_the_target(
    fields: dict[str, Any], routes: dict[str, str] | None, wanted: str
) -> None:
    target = _target(api_url="https://api.bold.test", **fields)
    with pytest.raises(errors.ConfigError) as caught:
        clientsettings.ClientSettings.from_target(target, routes=routes)
    assert str(caught.value) == wanted


def test_the_settings_never_hold_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOLD_CONNECT_TOKEN", TOKEN)
    with connect.connect(_target(api_url="http://127.0.0.1:9")) as bold:
        assert TOKEN not in repr(bold.settings)
        assert TOKEN not in repr(bold)
