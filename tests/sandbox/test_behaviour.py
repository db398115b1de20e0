"""Auth, scopes, rate limiting, faults, the control surface and persistence, in process."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import ALL_SCOPES, CONTROL_TOKEN, DEFAULT_TOKEN, Faults, Sandbox
from reconciler.sandbox.limits import RateLimiter
from tests.sandbox import bodies
from tests.sandbox.conftest import MAIN, READER, P, client_for

AUTH_FAILED = {
    "message": "This request failed to be authenticated.",
    "code": "00-1",
    "type": "authentication.failed",
}


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dDp0", "Bearer "])
def test_missing_or_bad_token_is_401_with_the_contract_body(
    sandbox: Sandbox, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    with client_for(sandbox, None) as client:
        answer = client.get(f"{P}/rulesets", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == AUTH_FAILED


def test_missing_scope_is_403(sandbox: Sandbox) -> None:
    with client_for(sandbox, READER) as reader:
        assert reader.get(f"{P}/rulesets").status_code == 200
        answer = reader.post(f"{P}/rulesets", json=bodies.ruleset())
        assert answer.status_code == 403
        assert answer.json()["type"] == "authorization.failed"
        assert "write_price_rulesets" in answer.json()["message"]
        assert reader.post(f"{P}/discount_codes", json=bodies.discount()).status_code == 403
    sandbox.add_token("t-none", app="x", scopes=[])
    with client_for(sandbox, "t-none") as bare:
        assert bare.get(f"{P}/order_conditions").status_code == 403
        # shop info and ping need a valid token but no scope
        assert bare.get("/shops/v1/info").json()["shop_identifier"] == "sandbox-shop"
        ping = bare.get("/price_rules/rules/v2/ping").json()
        assert ping == {"message": "Successfully reached Price Rules API", "data": {}}


def test_unknown_shop_path_and_method(api: httpx.Client) -> None:
    assert api.get("/price_rules/rules/v2/shops/other-shop/rulesets").status_code == 404
    assert api.get(f"{P}/nothing-here").status_code == 404
    wrong = api.patch(f"{P}/rulesets")
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]


def test_version_header_resolves_and_never_errors(sandbox: Sandbox, api: httpx.Client) -> None:
    for value in ("2022-10-14", "2023-06-01", "garbage", "2020-01-01"):
        assert api.get(f"{P}/rulesets", headers={"Bold-API-Version-Date": value}).status_code == 200
    api.get(f"{P}/rulesets")
    assert sandbox.stats()["api_versions"] == {"2022-10-14": 2, "2022-05-01": 3}


def test_rate_limit_allows_a_burst_then_429_with_the_contract_body(sandbox: Sandbox) -> None:
    sandbox.set_rate(10, burst=10)
    with client_for(sandbox) as client:
        statuses = [client.get(f"{P}/rulesets").status_code for _ in range(11)]
        assert statuses == [200] * 10 + [429]
        refused = client.get(f"{P}/rulesets")
    assert refused.json() == {"message": "API rate limit exceeded"}
    assert refused.headers["retry-after"] == "1"
    # per token: another token still has its whole bucket
    with client_for(sandbox, READER) as reader:
        assert reader.get(f"{P}/rulesets").status_code == 200
    sandbox.set_rate(10, burst=10, retry_after=False)
    with client_for(sandbox) as client:
        for _ in range(10):
            client.get(f"{P}/rulesets")
        assert "retry-after" not in client.get(f"{P}/rulesets").headers
    assert sandbox.stats()["rate_limited"] >= 2


def test_spent_tokens_come_back_one_window_later() -> None:
    now = [0.0]
    limiter = RateLimiter(10, 10, clock=lambda: now[0])
    assert all(limiter.acquire("t") is None for _ in range(10))
    assert limiter.acquire("t") == pytest.approx(1.0)
    now[0] = 0.5
    assert limiter.acquire("t") == pytest.approx(0.5)
    now[0] = 1.0
    assert limiter.acquire("t") is None


def test_faults_inject_5xx_reproducibly(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.set_faults(p503=0.5, seed=7)
    first = [api.get(f"{P}/rulesets").status_code for _ in range(20)]
    sandbox.set_faults(p503=0.5, seed=7)
    again = [api.get(f"{P}/rulesets").status_code for _ in range(20)]
    assert first == again and set(first) == {200, 503}
    sandbox.set_faults(p500=1)
    answer = api.get(f"{P}/rulesets")
    assert answer.status_code == 500 and answer.json()["type"] == "server.error"
    sandbox.set_faults(p502=1)
    assert api.post(f"{P}/rulesets", json=bodies.ruleset()).status_code == 502
    sandbox.set_faults()
    # a 5xx before handling changes nothing
    assert api.get(f"{P}/rulesets").json()["data"]["rulesets"] == []


def test_burst_of_429s(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.set_faults(burst429=1, burst429_length=3)
    statuses = [api.get(f"{P}/rulesets").status_code for _ in range(6)]
    assert statuses == [429] * 6
    assert sandbox.stats()["events"]["burst429_started"] == 2
    refused = api.get(f"{P}/rulesets")
    assert refused.json() == {"message": "API rate limit exceeded"}
    sandbox.set_faults()
    assert api.get(f"{P}/rulesets").status_code == 200


def test_drop_after_commit_raises_in_process_but_the_write_happened(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    sandbox.set_faults(drop_after_commit=1)
    with pytest.raises(ConnectionResetError):
        api.post(f"{P}/rulesets", json=bodies.ruleset())
    sandbox.set_faults()
    listed = api.get(f"{P}/rulesets").json()["data"]["rulesets"]
    assert [r["external_id"] for r in listed] == ["spring"]
    assert sandbox.stats()["events"]["dropped_after_commit"] == 1


def test_latency_and_slow_answers(sandbox: Sandbox, api: httpx.Client) -> None:
    import time

    # Lower bounds only: a sleep never ends early, but a loaded machine may end it late.
    sandbox.set_faults(latency_ms=50, jitter_ms=10, seed=3)
    started = time.perf_counter()
    api.get(f"{P}/rulesets")
    assert time.perf_counter() - started >= 0.05
    # How long it holds, within the settings: the injector's own draws (same seed, same dice).
    sandbox.set_faults(latency_ms=50, jitter_ms=10, seed=3)
    assert all(0.05 <= sandbox.injector.delay() <= 0.06 for _ in range(100))
    sandbox.set_faults(slow_ms=100)
    started = time.perf_counter()
    assert api.get(f"{P}/rulesets").status_code == 200
    assert time.perf_counter() - started >= 0.1


@pytest.mark.parametrize(
    "bad", [{"p500": 2}, {"nope": 1}, {"latency_ms": -1}, {"seed": "x"}, {"burst429_length": 0}]
)
def test_bad_fault_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Faults.from_dict(bad)


def test_control_surface(sandbox: Sandbox) -> None:
    with client_for(sandbox, CONTROL_TOKEN) as control, client_for(sandbox) as api:
        api.post(f"{P}/rulesets", json=bodies.ruleset())
        stats = control.get("/__sandbox__/stats").json()
        assert stats["by_route"] == {"POST P/rulesets": {"201": 1}}
        assert stats["total"] == 1  # control calls are not counted
        faults = control.put("/__sandbox__/faults", json={"p503": 1, "seed": 3}).json()
        assert faults["p503"] == 1 and faults["seed"] == 3
        assert control.get("/__sandbox__/faults").json()["p503"] == 1
        assert control.get("/__sandbox__/stats").status_code == 200  # never fault-injected
        assert api.get(f"{P}/rulesets").status_code == 503
        assert control.put("/__sandbox__/faults", json={"p503": 5}).status_code == 400
        dump = control.get("/__sandbox__/dump").json()
        assert control.post("/__sandbox__/reset").json()["reset"]["data"] is True
        assert sandbox.faults == Faults()
        assert api.get(f"{P}/rulesets").json()["data"]["rulesets"] == []
        assert control.post("/__sandbox__/load", json=dump).status_code == 200
        assert len(api.get(f"{P}/rulesets").json()["data"]["rulesets"]) == 1
        assert control.post("/__sandbox__/load", json={"rulesets": [{}]}).status_code == 400
        made = control.post("/__sandbox__/tokens", json={"token": "t-new", "app": "new"})
        assert made.status_code == 201 and made.json()["scopes"] == sorted(ALL_SCOPES)
        assert control.put("/__sandbox__/rate", json={"rate": 1, "burst": 1}).status_code == 200
        with client_for(sandbox, "t-new") as new:
            assert [new.get(f"{P}/rulesets").status_code for _ in range(2)] == [200, 429]
        assert control.get("/__sandbox__/nothing").status_code == 404
    with client_for(sandbox, MAIN) as api:
        assert api.get("/__sandbox__/stats").status_code == 403
    with client_for(sandbox, None) as anonymous:
        assert anonymous.get("/__sandbox__/stats").status_code == 401


def test_dump_and_load_keep_ids_and_sequences(sandbox: Sandbox, api: httpx.Client) -> None:
    made = api.post(f"{P}/rulesets", json=bodies.ruleset()).json()["data"]["ruleset"]
    api.post(f"{P}/order_conditions", json=bodies.condition())
    api.post(f"{P}/discount_codes", json=bodies.discount())
    dump = sandbox.dump()
    copy = Sandbox()
    copy.add_token(MAIN, app="app-main")
    copy.load(dump)
    assert copy.dump() == dump
    with client_for(copy) as client:
        assert client.get(f"{P}/rulesets/{made['id']}").json()["data"]["ruleset"] == made
        newer = client.post(f"{P}/rulesets", json=bodies.ruleset("later")).json()
        rule_ids = {r["id"] for r in newer["data"]["ruleset"]["rules"]}
        assert not rule_ids & {r["id"] for r in made["rules"]}


def test_a_file_database_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "s.sqlite"
    first = Sandbox.embedded(db)
    assert db.exists()
    with client_for(first, DEFAULT_TOKEN) as client:
        made = client.post(f"{P}/rulesets", json=bodies.ruleset()).json()["data"]["ruleset"]
    first.close()
    second = Sandbox.embedded(db)
    with client_for(second, DEFAULT_TOKEN) as client:
        assert client.get(f"{P}/rulesets/external/spring").json()["data"]["ruleset"] == made
        assert (
            client.post(f"{P}/rulesets", json=bodies.ruleset("b")).json()["data"]["ruleset"]["id"]
            > made["id"]
        )
    second.close()


@pytest.mark.parametrize("on_disk", [False, True])
def test_concurrent_writers_never_lose_or_duplicate(tmp_path: Path, on_disk: bool) -> None:
    sb = Sandbox(tmp_path / "c.sqlite" if on_disk else None)
    sb.add_token(MAIN, app="app-main")
    errors: list[str] = []

    def work(n: int) -> None:
        with client_for(sb) as client:
            for i in range(15):
                answer = client.put(
                    f"{P}/rulesets/external/r{i}", json=bodies.ruleset(None, public_name=str(n))
                )
                if answer.status_code not in (200, 201):
                    errors.append(answer.text)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with client_for(sb) as client:
        listed = client.get(f"{P}/rulesets", params={"limit": 100}).json()
    assert sorted(r["external_id"] for r in listed["data"]["rulesets"]) == sorted(
        f"r{i}" for i in range(15)
    )
    stats = sb.stats()["by_route"]["PUT P/rulesets/external/{eid}"]
    assert stats == {"201": 15, "200": 105}
    sb.close()
