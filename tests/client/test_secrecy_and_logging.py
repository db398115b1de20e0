"""The token never shows, and ``-v``/``-vv`` logging says what a user needs to see."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import httpx
import pytest

from reconciler import errors
from tests.client.conftest import TOKEN, FakeClock, MakeClient, P, envelope


def test_the_token_appears_nowhere_across_calls_and_errors(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/ping"):
            return envelope({})
        if "external/echo" in path:
            # A server that echoes the Authorization header back into its error message.
            auth = request.headers["authorization"]
            return httpx.Response(
                422,
                json={"message": f"bad header {auth}", "errors": [{"field": "x", "message": auth}]},
            )
        if "external/drop" in path or request.method == "POST":
            raise httpx.ReadError("connection reset by peer")
        if "external/html" in path:
            return httpx.Response(
                404, text="<html>nope</html>", headers={"content-type": "text/html"}
            )
        if "external/auth" in path:
            return httpx.Response(401, json={"message": "This request failed to be authenticated."})
        return envelope({"ruleset": {"external_id": "x", "access_token": TOKEN}})

    caplog.set_level(logging.DEBUG, logger="reconciler.client")
    bold, _ = make_client(handler, max_attempts=2)
    seen: list[str] = [repr(bold), repr(bold.stats)]
    bold.ping()
    bold.upsert_ruleset("ok", {"external_id": "ok", "meta": {"api_token": TOKEN}})
    failing: list[Callable[[], object]] = [
        lambda: bold.upsert_ruleset("echo", {}),
        lambda: bold.get_ruleset("drop"),
        lambda: bold.get_ruleset("html"),
        lambda: bold.get_ruleset("auth"),
        lambda: bold.create_order_condition({"name": "a", "value": "b"}),
    ]
    for call in failing:
        with pytest.raises(errors.ApiError) as caught:
            call()
        seen += [str(caught.value), repr(caught.value)]
        seen += traceback.format_exception(caught.value)
    captured = capsys.readouterr()
    seen += [captured.out, captured.err, caplog.text]
    seen += [str(record.args) for record in caplog.records]
    assert len(seen) > 20
    leaks = [text for text in seen if TOKEN in text]
    assert leaks == []
    # The echoed header is still visible as what it was, minus the secret.
    assert any("422: bad header Bearer *** (x: Bearer ***)" in text for text in seen)


def test_info_logs_one_line_per_call(
    make_client: MakeClient, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    answers = [httpx.Response(503, json={"message": "busy"}, headers={"Retry-After": "0"})]

    def handler(request: httpx.Request) -> httpx.Response:
        clock.now += 0.042  # each answer takes 42 ms
        return (
            answers.pop(0) if answers else envelope({"rulesets": []}, pagination={"total_pages": 1})
        )

    caplog.set_level(logging.INFO, logger="reconciler.client")
    bold, _ = make_client(handler)
    bold.list_rulesets()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        # The retry is announced as it happens, visible without -v.
        (logging.WARNING, f"GET {P}/rulesets?limit=100&page=1: 503: busy; attempt 2 of 6 in 0.0 s"),
        (logging.INFO, f"GET {P}/rulesets?limit=100&page=1 → 200 in 84 ms, 1 retries"),
    ]


def test_an_error_call_is_logged_with_its_status(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.client")
    bold, _ = make_client(lambda r: httpx.Response(409, json={"message": "duplicate"}))
    with pytest.raises(errors.Conflict):
        bold.create_order_condition({"name": "a", "value": "b"})
    assert caplog.records[-1].getMessage() == f"POST {P}/order_conditions → 409 in 0 ms, 0 retries"


def test_debug_logs_bodies_redacted_and_truncated(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    big = {"external_id": "x", "rules": [{"external_id": f"r{n}"} for n in range(500)]}
    bold, _ = make_client(lambda r: envelope({"ruleset": {"external_id": "x", "secret": "s3"}}))
    caplog.set_level(logging.DEBUG, logger="reconciler.client")
    bold.upsert_ruleset("x", {"password": "hunter2", **big})
    request_line, response_line = (
        r.getMessage() for r in caplog.records if "body" in r.getMessage()
    )
    assert "hunter2" not in request_line
    assert '"password": "***"' in request_line
    assert request_line.endswith("…(truncated)")
    assert len(request_line) < 2200
    assert '"secret": "***"' in response_line


def test_no_logging_at_warning_level(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="reconciler.client")
    bold, _ = make_client(lambda r: envelope({}))
    bold.ping()
    assert caplog.records == []


def test_a_short_test_token_does_not_mangle_messages(make_client: MakeClient) -> None:
    bold, _ = make_client(
        lambda r: httpx.Response(404, json={"message": "Not the right path"}), token="t"
    )
    with pytest.raises(errors.NotFound, match="Not the right path"):
        bold.ping()
