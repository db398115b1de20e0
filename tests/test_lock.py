"""The apply lock on the sandbox, with fake clocks: taken atomically, waited for, taken over
once expired, renewed, released however a run ends; and the ownership record kept true when
calls fail (docs/ownership.md)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler import (
    apply,
    client,
    clientsettings,
    config,
    errors,
    lock,
    model,
    ownership,
    pipeline,
    state,
)
from reconciler.targets import Target
from reconciler.transport import IN_PROCESS_URL, InProcessTransport

from .conftest import APP_TOKEN, make_bold_client
from .projects import in_memory

T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


class FakeClock:
    """A wall clock that moves only when told (or when a fake sleep passes time)."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += dt.timedelta(seconds=seconds)


def make_lock(bold: Any, clock: FakeClock, holder: str, **kw: Any) -> lock.ApplyLock:
    return lock.ApplyLock(bold, "default", clock=clock, sleep=clock.sleep, holder=holder, **kw)


def test_the_lock_is_a_bookkeeping_ruleset_naming_its_holder(bold: Any) -> None:
    clock = FakeClock()
    make_lock(bold, clock, "alice@box (GitHub Actions run 42)").acquire()
    holder = lock.read_lock(bold, "default")
    assert holder is not None
    assert holder.describe() == (
        "alice@box (GitHub Actions run 42) since 2026-12-01T10:00:00Z, expires 2026-12-01T10:05:00Z"
    )
    live = bold.get_ruleset("boldrules.lock.default")
    assert live["active"] is False
    assert live["internal_name"].startswith("boldrules apply lock (default) — held by alice@box")
    assert state.fetch_live(bold).resources == ()


def test_a_second_run_is_refused_at_once_naming_the_holder(bold: Any) -> None:
    clock = FakeClock()
    make_lock(bold, clock, "alice@box").acquire()
    with pytest.raises(errors.LockHeld) as refused:
        make_lock(bold, clock, "bob@laptop").acquire(timeout=0)
    assert refused.value.exit_code == 9
    assert str(refused.value) == (
        "another run holds the apply lock of project 'default' on shop sandbox-shop: alice@box "
        "since 2026-12-01T10:00:00Z, expires 2026-12-01T10:05:00Z. Wait for it to finish (or "
        "re-run with --lock-timeout SECONDS to wait); if that run is gone, `boldrules unlock` "
        "breaks the lock."
    )
    assert clock.slept == []


def test_a_waiting_run_takes_the_lock_once_it_is_released(bold: Any) -> None:
    clock = FakeClock()
    first = make_lock(bold, clock, "alice@box")
    first.acquire()

    def sleep_then_release(seconds: float) -> None:
        clock.sleep(seconds)
        first.release()

    second = lock.ApplyLock(bold, "default", clock=clock, sleep=sleep_then_release, holder="bob")
    second.acquire(timeout=30)
    assert clock.slept == [lock.POLL_SECONDS]
    current = lock.read_lock(bold, "default")
    assert current is not None and current.token == second.token


def test_a_waiting_run_gives_up_after_its_timeout(bold: Any) -> None:
    clock = FakeClock()
    make_lock(bold, clock, "alice@box").acquire()
    with pytest.raises(errors.LockHeld, match="alice@box since 2026-12-01T10:00:00Z"):
        make_lock(bold, clock, "bob").acquire(timeout=5)
    assert clock.slept == [2.0, 2.0, 1.0]


def test_an_expired_lock_is_taken_over_and_its_holder_learns_it_lost(bold: Any) -> None:
    clock = FakeClock()
    crashed = make_lock(bold, clock, "alice@box")
    crashed.acquire()
    clock.now = T0 + dt.timedelta(minutes=6)
    said: list[str] = []
    taker = make_lock(bold, clock, "bob@ci", notify=said.append)
    taker.acquire()
    assert said == [
        "Taking over the apply lock of project 'default': it was held by alice@box since "
        "2026-12-01T10:00:00Z, expires 2026-12-01T10:05:00Z, and has expired (that run is gone "
        "or stalled)."
    ]
    holder = lock.read_lock(bold, "default")
    assert holder is not None and holder.holder == "bob@ci"
    assert crashed.renew() is False and crashed.lost
    crashed.release()  # a lost lock is not ours to remove
    assert lock.read_lock(bold, "default") == holder


def test_renewal_pushes_the_expiry_ahead(bold: Any) -> None:
    clock = FakeClock()
    mine = make_lock(bold, clock, "alice@box")
    mine.acquire()
    clock.now = T0 + dt.timedelta(minutes=4)
    assert mine.renew() is True
    holder = lock.read_lock(bold, "default")
    assert holder is not None
    assert holder.describe().endswith("since 2026-12-01T10:00:00Z, expires 2026-12-01T10:09:00Z")
    clock.now = T0 + dt.timedelta(minutes=8)
    with pytest.raises(errors.LockHeld):
        make_lock(bold, clock, "bob").acquire()


def test_a_broken_lock_stops_the_holder(bold: Any) -> None:
    stop = threading.Event()
    clock = FakeClock()
    mine = make_lock(bold, clock, "alice@box", notify=lambda _: None)
    with lock.held(mine, stop=stop, renew_every=dt.timedelta(milliseconds=10)):
        holder = lock.read_lock(bold, "default")
        assert holder is not None
        lock.break_lock(bold, holder)  # `boldrules unlock` from another terminal
        assert stop.wait(timeout=10)
    assert mine.lost


def test_the_lock_is_released_when_the_block_fails(bold: Any) -> None:
    clock = FakeClock()
    with pytest.raises(RuntimeError), lock.held(make_lock(bold, clock, "alice")):
        assert lock.read_lock(bold, "default") is not None
        raise RuntimeError("boom")
    assert lock.read_lock(bold, "default") is None


# --- the record when calls fail ---------------------------------------------------------------


def code_body(name: str) -> dict[str, Any]:
    return {
        "code": name,
        "action": {"type": "PRICE_ADJUST_PERCENT", "value": -10},
        "product_selection": {"type": "PRODUCTS_ALL"},
    }


class Refusing(httpx.BaseTransport):
    """The in-process sandbox, except that requests ``refuse`` picks are answered 422."""

    def __init__(self, inner: httpx.BaseTransport, refuse: Callable[[httpx.Request], bool]):
        self.inner = inner
        self.refuse = refuse

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.refuse(request):
            return httpx.Response(
                422, json={"message": "Refused by the test.", "code": "x", "type": "invalid"}
            )
        return self.inner.handle_request(request)


def a_project(record: str = "default") -> config.Project:
    return in_memory(
        target=Target("sandbox", None, "http://sandbox.invalid", None, "X"),
        safety=config.Safety(max_deletes=10, max_delete_percent=100, max_update_percent=100),
        ownership=config.Ownership(record=record),
    )


def recorded(bold: Any) -> set[str]:
    found = ownership.read_record(bold, "default")
    assert isinstance(found, ownership.Record)
    return {k.name for k in found.members}


def test_created_objects_are_recorded_and_deleted_ones_forgotten_when_other_calls_fail(
    sandbox: Any,
) -> None:
    # Earlier: the project made OLD1 and OLD2 and recorded them.
    with make_bold_client(sandbox) as bold:
        old = {k: v for k, v in code_body("OLD").items() if k != "code"}
        bold.create_discount_codes({**old, "codes": ["OLD1", "OLD2"]})
        ownership.write(bold, "default", {model.discount_code_key(n) for n in ("OLD1", "OLD2")})
    refuse_ruleset = Refusing(
        InProcessTransport(sandbox.wsgi_app),
        lambda r: r.method == "PUT" and r.url.path.endswith("/rulesets/external/broken"),
    )
    with client.BoldClient(
        clientsettings.ClientSettings(base_url=IN_PROCESS_URL, rate=10_000.0, burst=10_000),
        token=APP_TOKEN,
        transport=refuse_ruleset,
    ) as bold:
        desired = [
            state.discount_code_resource(code_body("NEW1")),
            state.ruleset_resource(
                {
                    "external_id": "broken",
                    "product_selection": {"type": "PRODUCTS_ALL"},
                    "rules": [],
                }
            ),
        ]
        p = a_project()
        result = pipeline.plan_shop(bold, p, p.target(None), pipeline.Declared(desired))
        assert [f"{c.action} {c.key}" for c in result.changes] == [
            "create ruleset:broken",
            "create discount_code:NEW1",
            "delete discount_code:OLD1",
            "delete discount_code:OLD2",
        ]
        with pytest.raises(errors.ApplyFailed):
            apply.execute_recorded(bold, result)
        assert sorted(d["code"] for d in bold.list_discount_codes()) == ["NEW1"]
        # NEW1 was created and is recorded; the deletes happened and left the record; the
        # ruleset that failed stays recorded as declared (the next apply creates it).
        assert recorded(bold) == {"NEW1", "broken"}


def test_a_token_that_cannot_write_rulesets_is_told_why_apply_needs_it(sandbox: Any) -> None:
    scopes = ["read_price_rulesets", "read_discount_codes", "write_discount_codes"]
    sandbox.add_token("codes-only-token", app="boldrules-test", scopes=scopes)
    with (
        make_bold_client(sandbox, "codes-only-token") as bold,
        pytest.raises(errors.PermissionDenied) as refused,
    ):
        make_lock(bold, FakeClock(), "alice").acquire()
    assert refused.value.exit_code == 7
    assert str(refused.value).endswith(
        "— apply keeps its lock and the ownership record as rulesets of the token's app, so the "
        "token needs the write_price_rulesets scope (docs/ownership.md)"
    )
    assert "codes-only-token" not in str(refused.value)
