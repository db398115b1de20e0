"""Retries: what is retried, how long it waits, and what a caller gets when retrying ends."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable

import httpx
import pytest

from reconciler import errors
from tests.client.conftest import FakeClock, MakeClient, P, api_error, envelope


def scripted(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering with ``responses`` in turn, then 200s."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if queue else envelope({"ruleset": {"external_id": "x"}})
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


RULESET = {"ruleset": {"external_id": "x"}}


def test_429_waits_for_retry_after(make_client: MakeClient, clock: FakeClock) -> None:
    limited = httpx.Response(
        429, json={"message": "API rate limit exceeded"}, headers={"Retry-After": "3"}
    )
    bold, server = make_client(scripted(limited))
    assert bold.get_ruleset("x") == {"external_id": "x"}
    assert len(server.requests) == 2
    assert 3.0 in clock.slept
    assert bold.stats.rate_limited == 1
    assert bold.stats.retries == 1


def test_429_honours_an_http_date_retry_after(make_client: MakeClient, clock: FakeClock) -> None:
    # An hour ahead, and a retry budget to match: however late the client reads the date
    # (on a loaded machine), the wait it takes is the hour less that delay.
    when = email.utils.formatdate(time.time() + 3600, usegmt=True)
    limited = httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": when})
    bold, _ = make_client(scripted(limited), max_retry_seconds=7200)
    bold.get_ruleset("x")
    assert any(3000 <= s <= 3601 for s in clock.slept)


def test_429_without_retry_after_waits_one_second_then_backs_off(
    make_client: MakeClient, clock: FakeClock
) -> None:
    limited = [httpx.Response(429, json={"message": "API rate limit exceeded"}) for _ in range(4)]
    bold, server = make_client(scripted(*limited))
    bold.get_ruleset("x")
    assert len(server.requests) == 5
    waits = [s for s in clock.slept if s >= 0.01]  # the bucket's own tiny waits aside
    assert waits[0] == 1.0
    # Full jitter: each later wait is somewhere under its doubling ceiling.
    for n, wait in enumerate(waits[1:], start=2):
        assert 0.0 <= wait <= 2 ** (n - 1)


def test_429_on_every_attempt_ends_in_rate_limited(make_client: MakeClient) -> None:
    bold, server = make_client(
        lambda r: httpx.Response(429, json={"message": "API rate limit exceeded"}),
        max_rate_limited=2,
    )
    with pytest.raises(errors.RateLimited) as caught:
        bold.list_rulesets()
    assert len(server.requests) == 3
    assert str(caught.value) == (
        f"GET {P}/rulesets → 429: API rate limit exceeded (after 3 attempts)"
    )


def test_a_post_refused_with_429_is_retried(make_client: MakeClient) -> None:
    # 429 means the server did nothing, so even a create is safe to send again.
    bold, server = make_client(
        scripted(
            httpx.Response(429, json={"message": "API rate limit exceeded"}),
            envelope({"order_condition": {"name": "ZONE", "value": "a"}}, status=201),
        )
    )
    assert bold.create_order_condition({"name": "ZONE", "value": "a"})["value"] == "a"
    assert len(server.requests) == 2


def test_429s_and_5xx_have_separate_attempt_budgets(make_client: MakeClient) -> None:
    # Bursts of 429 say "not now", not "broken": they must not use up the 5xx budget.
    limited = httpx.Response(429, json={"message": "API rate limit exceeded"})
    answers = [limited, api_error(503, "busy"), limited, limited, api_error(503, "busy")]
    bold, server = make_client(scripted(*answers), max_attempts=3, max_rate_limited=3)
    assert bold.get_ruleset("x") == {"external_id": "x"}
    assert len(server.requests) == 6
    bold, server = make_client(scripted(*answers, limited), max_attempts=3, max_rate_limited=3)
    with pytest.raises(errors.RateLimited, match="after 6 attempts"):
        bold.get_ruleset("x")


def test_503_is_retried_until_success(make_client: MakeClient) -> None:
    bold, server = make_client(
        scripted(api_error(503, "busy"), api_error(502, "bad gateway"), httpx.ReadTimeout("slow"))
    )
    assert bold.upsert_ruleset("x", {"external_id": "x", "rules": []}) == {"external_id": "x"}
    assert [r.method for r in server.requests] == ["PUT"] * 4
    assert bold.stats.retries == 3


def test_5xx_on_every_attempt_ends_in_server_error(make_client: MakeClient) -> None:
    bold, server = make_client(
        lambda r: httpx.Response(500, text="<html>oops</html>"), max_attempts=4
    )
    with pytest.raises(errors.ServerError) as caught:
        bold.delete_ruleset("spring")
    assert len(server.requests) == 4
    assert str(caught.value).startswith(f"DELETE {P}/rulesets/external/spring → 500")
    assert "(after 4 attempts)" in str(caught.value)


def test_retrying_stops_at_the_time_budget(make_client: MakeClient, clock: FakeClock) -> None:
    bold, server = make_client(
        lambda r: httpx.Response(503, json={"message": "busy"}, headers={"Retry-After": "20"}),
        max_retry_seconds=45,
    )
    with pytest.raises(errors.ServerError):
        bold.get_ruleset("x")
    assert len(server.requests) == 3  # waits 20 + 20; a third wait would pass 45 s
    assert sum(clock.slept) <= 45


def test_dropped_connections_are_retried_for_reads(make_client: MakeClient) -> None:
    bold, server = make_client(scripted(httpx.ReadError("reset"), httpx.RemoteProtocolError("eof")))
    assert bold.get_ruleset("x") == {"external_id": "x"}
    assert len(server.requests) == 3


def test_connection_refused_every_time_is_connection_failed(make_client: MakeClient) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    bold, server = make_client(refuse, max_attempts=2)
    with pytest.raises(errors.ConnectionFailed) as caught:
        bold.ping()
    assert len(server.requests) == 2
    assert "no response" in str(caught.value)
    assert "Connection refused" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_a_post_whose_connection_never_opened_is_retried(make_client: MakeClient) -> None:
    bold, server = make_client(
        scripted(httpx.ConnectError("refused"), envelope({"order_condition": {"name": "Z"}}, 201))
    )
    assert bold.create_order_condition({"name": "Z", "value": "v"}) == {"name": "Z"}
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadError("connection reset"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        api_error(503, "Service Unavailable"),
        httpx.Response(502, text="<html>Bad Gateway</html>"),
    ],
    ids=["reset", "timeout", "disconnected", "503", "502-html"],
)
def test_a_post_with_an_unknown_outcome_is_ambiguous_and_sent_once(
    make_client: MakeClient, failure: httpx.Response | Exception
) -> None:
    bold, server = make_client(scripted(failure))
    with pytest.raises(errors.AmbiguousWrite) as caught:
        bold.create_discount_codes({"codes": ["SPRING15", "SPRING20"], "action": {}})
    assert len(server.requests) == 1
    assert caught.value.read_back == {
        "route": "create_discount_codes",
        "codes": ["SPRING15", "SPRING20"],
    }
    assert str(caught.value).startswith(f"POST {P}/discount_codes → ")
    assert "read back before retrying" in str(caught.value)


def test_ambiguous_order_condition_and_field_set_writes_say_what_to_read_back(
    make_client: MakeClient,
) -> None:
    bold, _ = make_client(lambda r: api_error(504, "Gateway Timeout"))
    with pytest.raises(errors.AmbiguousWrite) as caught:
        bold.create_order_condition({"name": "ZONE", "value": "west", "field_sets": []})
    assert caught.value.read_back == {
        "route": "create_order_condition",
        "name": "ZONE",
        "value": "west",
    }
    assert caught.value.status == 504
    with pytest.raises(errors.AmbiguousWrite) as caught:
        bold.add_field_sets("ZONE", "west", [{"customer.shipping.country_code": "CA"}])
    assert caught.value.read_back["route"] == "add_field_sets"
    assert caught.value.read_back["field_sets"] == [{"customer.shipping.country_code": "CA"}]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_never_retried(make_client: MakeClient, status: int) -> None:
    bold, server = make_client(lambda r: api_error(status, "no"))
    with pytest.raises(errors.ApiError):
        bold.upsert_ruleset("x", {"rules": []})
    assert len(server.requests) == 1


def test_a_delete_whose_retry_meets_404_counts_as_done(make_client: MakeClient) -> None:
    # The first DELETE did the work but its answer was lost; the retry finds nothing.
    bold, server = make_client(
        scripted(
            httpx.ReadError("reset"),
            api_error(404, "Ruleset not found"),
            api_error(404, "Ruleset not found"),
        )
    )
    bold.delete_ruleset("spring")
    # ... and a read confirms it is gone before the 404 is believed.
    assert server.paths() == [
        f"DELETE {P}/rulesets/external/spring",
        f"DELETE {P}/rulesets/external/spring",
        f"GET {P}/rulesets/external/spring",
    ]
