"""The client against the project's sandbox: in process, and over one real socket."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import client, clientsettings, connect, errors
from reconciler.sandbox import Sandbox, serve
from reconciler.targets import Target
from reconciler.transport import IN_PROCESS_URL, InProcessTransport
from tests.client.conftest import TOKEN, FakeClock
from tests.clocks import SimulatedClock

APP = "boldrules-test"
PRODUCTS = {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-1"]}
HALF_OFF = {
    "external_id": "gold-half-off",
    "type": "DISCOUNT",
    "conditions": [{"type": "CUSTOMER_GROUP", "value": "gold"}],
    "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -50}],
}


def seed_rulesets(sb: Sandbox, count: int, *, app: str = APP, first_id: int = 1) -> None:
    stamp = "2026-01-01T00:00:00Z"
    rulesets = [
        {
            "app": app,
            "ruleset": {
                "id": n,
                "external_id": f"rs-{n}",
                "internal_name": "",
                "public_name": "",
                "active": True,
                "priority": 0,
                "start_date": None,
                "expiry_date": None,
                "product_selection": PRODUCTS,
                "rules": [],
                "created_at": stamp,
                "updated_at": stamp,
            },
        }
        for n in range(first_id, first_id + count)
    ]
    sb.load({"version": 1, "rulesets": rulesets})


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox()
    sandbox.add_token(TOKEN, app=APP)
    yield sandbox
    sandbox.close()


@pytest.fixture
def bold(sb: Sandbox, clock: FakeClock) -> Iterator[client.BoldClient]:
    with client.BoldClient(
        clientsettings.ClientSettings(base_url=IN_PROCESS_URL),
        token=TOKEN,
        transport=InProcessTransport(sb.wsgi_app),
        clock=clock.time,
        sleep=clock.sleep,
    ) as made:
        yield made


def calls_to(sb: Sandbox, method_and_template: str) -> int:
    return sum(sb.stats()["by_route"].get(method_and_template, {}).values())


def test_ruleset_round_trip_with_awkward_external_ids(bold: client.BoldClient) -> None:
    eid = "spring sale 2026?"
    created = bold.upsert_ruleset(
        eid, {"external_id": eid, "product_selection": PRODUCTS, "rules": [HALF_OFF]}
    )
    assert created["external_id"] == eid
    assert bold.shop_identifier == "sandbox-shop"
    assert bold.get_ruleset(eid) == created
    assert [r["external_id"] for r in bold.list_rulesets()] == [eid]
    more = {**HALF_OFF, "external_id": "silver", "conditions": []}
    patched = bold.patch_ruleset(eid, {"rules": [more]})
    assert [r["external_id"] for r in patched["rules"]] == ["gold-half-off", "silver"]
    assert [r["external_id"] for r in bold.list_rules(eid)] == ["gold-half-off", "silver"]
    bold.delete_rules(eid, [patched["rules"][1]["id"]])
    assert [r["external_id"] for r in bold.get_ruleset(eid)["rules"]] == ["gold-half-off"]  # type: ignore[index]
    bold.delete_ruleset(eid)
    assert bold.get_ruleset(eid) is None
    bold.delete_ruleset(eid)  # already gone: still fine


def test_a_ruleset_the_api_refuses_names_the_field(bold: client.BoldClient) -> None:
    bad = {**HALF_OFF, "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -150}]}
    with pytest.raises(errors.InvalidRequest) as caught:
        bold.upsert_ruleset("bad", {"product_selection": PRODUCTS, "rules": [bad]})
    assert caught.value.status == 422
    assert any("rules[0].actions[0]" in e.field for e in caught.value.field_errors)


def test_order_conditions_and_field_sets(bold: client.BoldClient) -> None:
    body = {
        "name": "ZONE",
        "value": "prairies west",
        "operator": "ONE_OF",
        "type": "FIELD_SET",
        "field_sets": [{"customer.shipping.country_code": "CA"}],
    }
    created = bold.create_order_condition(body)
    assert created["value"] == "prairies west"
    with pytest.raises(errors.Conflict):
        bold.create_order_condition(body)
    bold.add_field_sets("ZONE", "prairies west", [{"customer.shipping.country_code": "US"}])
    listed = bold.list_order_conditions()
    assert len(listed) == 1 and len(listed[0]["field_sets"]) == 2
    ids = [fs["id"] for fs in listed[0]["field_sets"]]
    bold.delete_field_sets("ZONE", "prairies west", ids[1:])
    again = bold.get_order_condition("ZONE", "prairies west")
    assert again is not None and len(again["field_sets"]) == 1
    replaced = bold.replace_order_condition(
        "ZONE", "prairies west", {**body, "field_sets": [{"customer.shipping.country_code": "MX"}]}
    )
    assert replaced["field_sets"][0]["customer.shipping.country_code"] == "MX"
    bold.delete_order_condition("ZONE", "prairies west")
    assert bold.get_order_condition("ZONE", "prairies west") is None


def test_discount_codes(bold: client.BoldClient) -> None:
    created = bold.create_discount_codes(
        {
            "codes": ["SPRING15", "SPRING20"],
            "action": {"type": "PRICE_ADJUST_PERCENT", "value": -15},
            "product_selection": {"type": "PRODUCTS_ALL"},
        }
    )
    assert sorted(c["code"] for c in created) == ["SPRING15", "SPRING20"]
    assert [c["code"] for c in bold.list_discount_codes(name="SPRING15")] == ["SPRING15"]
    one = bold.get_discount_code(created[0]["id"])
    assert one is not None
    restated = {k: one[k] for k in ("code", "action", "product_selection")}
    updated = bold.update_discount_code(
        one["id"], {**restated, "action": {**one["action"], "value": -20}}
    )
    assert updated["action"]["value"] == -20
    bold.delete_discount_code(one["id"])
    assert bold.get_discount_code(one["id"]) is None
    assert len(bold.list_discount_codes()) == 1


def test_only_our_apps_rulesets_are_listed(sb: Sandbox, bold: client.BoldClient) -> None:
    seed_rulesets(sb, 130, app="someone-else")
    bold.upsert_ruleset("ours", {"product_selection": PRODUCTS, "rules": [HALF_OFF]})
    assert [r["external_id"] for r in bold.list_rulesets()] == ["ours"]
    assert bold.count_rulesets_all_apps() == 131


def test_a_wrong_token_and_a_missing_scope(sb: Sandbox, clock: FakeClock) -> None:
    sb.add_token("read-only", app=APP, scopes=["read_price_rulesets"])
    transport = InProcessTransport(sb.wsgi_app)
    settings = clientsettings.ClientSettings(
        base_url=IN_PROCESS_URL, shop_identifier="sandbox-shop"
    )
    common: dict[str, Any] = {"transport": transport, "sleep": clock.sleep}
    with (
        client.BoldClient(settings, token="wrong", **common) as stranger,
        pytest.raises(errors.AuthenticationFailed) as caught,
    ):
        stranger.list_rulesets()
    assert caught.value.api_message == "This request failed to be authenticated."
    with client.BoldClient(settings, token="read-only", **common) as reader:
        assert reader.list_rulesets() == []
        with pytest.raises(errors.PermissionDenied, match="write_price_rulesets"):
            reader.upsert_ruleset("x", {"product_selection": PRODUCTS, "rules": [HALF_OFF]})


def test_the_pinned_version_reaches_the_server(sb: Sandbox, bold: client.BoldClient) -> None:
    bold.ping()
    assert sb.stats()["api_versions"] == {"2022-10-14": 1}


def test_a_dropped_post_in_process_is_ambiguous_and_sent_once(
    sb: Sandbox, bold: client.BoldClient
) -> None:
    sb.set_faults(drop_after_commit=1.0)
    body = {"name": "ZONE", "value": "east", "field_sets": [{"customer.shipping.country": "CA"}]}
    with pytest.raises(errors.AmbiguousWrite) as caught:
        bold.create_order_condition({**body, "operator": "ONE_OF", "type": "FIELD_SET"})
    assert caught.value.read_back == {
        "route": "create_order_condition",
        "name": "ZONE",
        "value": "east",
    }
    template = "POST P/order_conditions"
    assert calls_to(sb, template) == 1
    sb.set_faults()
    assert bold.get_order_condition("ZONE", "east") is not None  # it did happen


def test_a_dropped_put_is_retried_until_it_lands(sb: Sandbox, bold: client.BoldClient) -> None:
    sb.set_faults(drop_after_commit=0.6, seed=3)
    for n in range(10):
        bold.upsert_ruleset(f"rs-{n}", {"product_selection": PRODUCTS, "rules": [HALF_OFF]})
    assert sb.stats()["events"]["dropped_after_commit"] > 0
    sb.set_faults()
    assert len(bold.list_rulesets()) == 10


def test_for_target_runs_the_embedded_sandbox(tmp_path: Path) -> None:
    path = tmp_path / ".boldrules" / "sandbox.sqlite"
    target = Target(
        name="sandbox", sandbox=path, api_url=None, shop_identifier=None, token_env=None
    )

    with connect.connect(target) as bold:
        bold.upsert_ruleset("first", {"product_selection": PRODUCTS, "rules": [HALF_OFF]})
    assert path.exists()
    with connect.connect(target) as bold:
        assert [r["external_id"] for r in bold.list_rulesets()] == ["first"]


# ---------------------------------------------------------------- over a real socket


@pytest.mark.socket
def test_2000_rulesets_through_503s_and_429_bursts_arrive_exactly_once() -> None:
    # Rate and backoff are raised from the defaults only to keep the test short (each 429 still
    # waits the sandbox's Retry-After of 1 s); the server also limits at the client's rate.
    sb = Sandbox(rate=50, burst=10)
    sb.add_token(TOKEN, app=APP)
    seed_rulesets(sb, 2000)
    sb.set_faults(p503=0.2, burst429=0.1, burst429_length=3, seed=11)
    with (
        serve(sb, port=0) as server,
        client.BoldClient(
            clientsettings.ClientSettings(base_url=server.url, rate=50, backoff_base=0.25),
            token=TOKEN,
        ) as bold,
    ):
        rulesets = bold.list_rulesets()
        stats = sb.stats()
    assert len(rulesets) == 2000
    assert len({r["id"] for r in rulesets}) == 2000
    assert stats["events"].get("injected_503", 0) > 0
    assert stats["rate_limited"] > 0
    assert bold.stats.retries > 0
    assert bold.stats.calls == {("GET", "shop_info"): 1, ("GET", "list_rulesets"): 20}
    sb.close()


@pytest.mark.socket
def test_a_paced_client_never_draws_a_429_from_the_servers_limit() -> None:
    # The server limits at the client's own rate and burst, counted the way Bold counts; a
    # client that kept within them over every window is never refused. Client and server read
    # one simulated clock, which stands still while a call travels: what is checked is the
    # pacing arithmetic against the server's, not how fast this machine moves bytes. (Over a
    # real network, travel-time jitter can still bunch calls up at Bold: the client absorbs
    # such a 429, see docs/client.md.)
    clock = SimulatedClock()
    sb = Sandbox(rate=40, burst=8, clock=clock.time)
    sb.add_token(TOKEN, app=APP)
    with (
        serve(sb, port=0) as server,
        client.BoldClient(
            clientsettings.ClientSettings(base_url=server.url, rate=40, burst=8, concurrency=4),
            token=TOKEN,
            clock=clock.time,
            sleep=clock.sleep,
        ) as bold,
    ):
        start = clock.time()

        def fifteen_pings(_: int) -> None:
            with clock.taking_part():
                for _ in range(15):
                    bold.ping()

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(fifteen_pings, range(4)))
        stats = sb.stats()
    assert stats["total"] == 60
    assert stats["rate_limited"] == 0
    assert bold.stats.rate_limited == 0
    # ... and it did not get there by dawdling: 8 calls a window of 0.2 s (+5% slack), so the
    # last of 60 leaves at the start of the eighth window.
    assert clock.time() - start == pytest.approx(7 * 0.2 * 1.05)
    sb.close()


@pytest.mark.socket
def test_a_post_whose_answer_is_cut_on_the_wire_is_ambiguous() -> None:
    sb = Sandbox()
    sb.add_token(TOKEN, app=APP)
    sb.set_faults(drop_after_commit=1.0)
    with (
        serve(sb, port=0) as server,
        client.BoldClient(clientsettings.ClientSettings(base_url=server.url), token=TOKEN) as bold,
    ):
        with pytest.raises(errors.AmbiguousWrite) as caught:
            bold.create_discount_codes(
                {
                    "codes": ["WIRE10"],
                    "action": {"type": "PRICE_ADJUST_PERCENT", "value": -10},
                    "product_selection": {"type": "PRODUCTS_ALL"},
                }
            )
        assert caught.value.read_back == {"route": "create_discount_codes", "codes": ["WIRE10"]}
        assert calls_to(sb, "POST P/discount_codes") == 1
        sb.set_faults()
        assert [c["code"] for c in bold.list_discount_codes(name="WIRE10")] == ["WIRE10"]
    sb.close()


@pytest.mark.socket
def test_nobody_listening_is_connection_failed(clock: FakeClock) -> None:
    sb = Sandbox()
    server = serve(sb, port=0)
    url = server.url
    server.close()
    sb.close()
    with (
        client.BoldClient(
            clientsettings.ClientSettings(base_url=url, shop_identifier="s", max_attempts=3),
            token=TOKEN,
            sleep=clock.sleep,
        ) as bold,
        pytest.raises(errors.ConnectionFailed) as caught,
    ):
        bold.ping()
    assert caught.value.attempts == 3
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_read_pages_are_freed_while_the_collector_is_paused(
    sb: Sandbox, bold: client.BoldClient
) -> None:
    # A plan pauses the garbage collector while it reads; httpx's answers refer to their
    # streams and back, so each page's bytes stayed until the collector ran again. Read, they
    # go with their answer.
    seed_rulesets(sb, 250)
    gc.collect()  # what earlier tests left
    before = {id(o) for o in gc.get_objects() if isinstance(o, httpx.Response)}
    was = gc.isenabled()
    gc.disable()
    try:
        listed = bold.list_rulesets()
        alive = [
            o for o in gc.get_objects() if isinstance(o, httpx.Response) and id(o) not in before
        ]
    finally:
        if was:
            gc.enable()
    assert len(listed) == 250
    assert alive == []
