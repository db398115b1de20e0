"""Pacing: the token bucket keeps every client at its rate, across threads and after a 429."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import client, clientsettings, errors, pacing
from reconciler.sandbox import Sandbox, serve
from tests.client.conftest import FakeClock, MakeClient, envelope
from tests.clocks import SimulatedClock


def worst_excess(stamps: list[float], rate: float) -> float:
    """The most requests any window held beyond ``rate * window length``."""
    stamps = sorted(stamps)
    worst = 0.0
    for i, start in enumerate(stamps):
        for j in range(i, len(stamps)):
            worst = max(worst, (j - i + 1) - rate * (stamps[j] - start))
    return worst


@pytest.mark.parametrize(("calls", "rate", "burst"), [(50, 10.0, 10), (30, 4.0, 1), (25, 20.0, 25)])
def test_n_calls_take_at_least_n_minus_burst_over_rate(
    make_client: MakeClient, clock: FakeClock, calls: int, rate: float, burst: int
) -> None:
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(clock.time())
        return envelope({})

    bold, _ = make_client(handler, rate=rate, burst=burst)
    start = clock.time()
    for _ in range(calls):
        bold.ping()
    elapsed = clock.time() - start
    assert elapsed >= (calls - burst) / rate - 1e-6
    assert elapsed <= ((calls - burst) / rate) * 1.1 + 0.1  # and not much slower than that
    assert worst_excess(stamps, rate) <= burst + 1e-6
    # Bold's model (and the sandbox's): never more than `burst` calls in `burst / rate` seconds.
    window = burst / rate
    assert all(sum(1 for t in stamps if s <= t < s + window) <= burst for s in stamps)


def test_the_bucket_is_shared_by_every_thread() -> None:
    # 4 threads x 10 calls at 100/s with a burst of 5, on simulated time: the stamps are the
    # instants the calls left, whatever the machine's load.
    clock = SimulatedClock()
    stamps: list[float] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            stamps.append(clock.time())
        return envelope({})

    bold = client.BoldClient(
        clientsettings.ClientSettings(
            base_url="https://api.bold.test",
            shop_identifier="s",
            rate=100.0,
            burst=5,
            concurrency=4,
        ),
        token="t0ken",
        transport=httpx.MockTransport(handler),
        clock=clock.time,
        sleep=clock.sleep,
    )
    start = clock.time()

    def ten_pings(_: int) -> None:
        with clock.taking_part():
            for _ in range(10):
                bold.ping()

    with bold, ThreadPoolExecutor(4) as pool:
        list(pool.map(ten_pings, range(4)))
    assert clock.time() - start >= (40 - 5) / 100.0
    # One bucket for all four threads: four buckets would let 20 calls out at the first instant.
    assert stamps.count(start) == 5
    assert worst_excess(stamps, 100.0) <= 5 + 1e-6
    window = 5 / 100.0
    assert all(sum(1 for t in stamps if s <= t < s + window) <= 5 for s in stamps)
    assert bold.stats.calls == {("GET", "ping"): 40}


def test_a_429_holds_back_every_caller(make_client: MakeClient, clock: FakeClock) -> None:
    stamps: list[float] = []
    answers = [
        httpx.Response(
            429, json={"message": "API rate limit exceeded"}, headers={"Retry-After": "5"}
        )
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(clock.time())
        return answers.pop(0) if answers else envelope({})

    bold, _ = make_client(handler)
    bold.ping()  # refused once, waits 5 s, succeeds
    bold.ping()
    assert stamps[1] - stamps[0] >= 5.0
    assert bold.stats.rate_limited == 1


def test_calls_in_flight_never_exceed_concurrency() -> None:
    # The first three calls meet at a barrier inside the server, which they can pass only if
    # the client lets three run at once; there each waits a moment for a fourth to break in,
    # which must never happen. No timing decides the outcome: a wrong limit fails every time.
    in_flight = 0
    most = 0
    arrived = 0
    lock = threading.Lock()
    three = threading.Barrier(3, timeout=30)
    fourth = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most, arrived
        with lock:
            in_flight += 1
            arrived += 1
            first_three = arrived <= 3
            most = max(most, in_flight)
            if in_flight > 3:
                fourth.set()
        try:
            if first_three:
                three.wait()  # BrokenBarrierError: three calls were never in flight together
                fourth.wait(timeout=0.05)
        finally:
            with lock:
                in_flight -= 1
        return envelope({})

    with (
        client.BoldClient(
            clientsettings.ClientSettings(
                base_url="https://api.bold.test",
                shop_identifier="s",
                rate=10_000.0,
                burst=100,
                concurrency=3,
            ),
            token="t0ken",
            transport=httpx.MockTransport(handler),
        ) as bold,
        ThreadPoolExecutor(8) as pool,
    ):
        list(pool.map(lambda _: bold.ping(), range(40)))
    assert most == 3
    assert not fourth.is_set()


def test_a_bucket_needs_a_positive_rate() -> None:
    with pytest.raises(errors.ConfigError, match="rate must be > 0"):
        pacing.TokenBucket(0, 10)


@given(
    rate=st.floats(min_value=0.5, max_value=50),
    burst=st.integers(min_value=1, max_value=12),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=60),
)
@settings(max_examples=60, deadline=None)
def test_no_window_ever_holds_more_than_rate_times_length_plus_burst(
    rate: float, burst: int, gaps: list[float]
) -> None:
    # Callers arrive after arbitrary idle gaps; whatever the pattern, the bucket's output obeys
    # both the brief's bound and Bold's "burst per burst/rate seconds".
    clock = FakeClock()
    bucket = pacing.TokenBucket(rate, burst, clock=clock.time, sleep=clock.sleep)
    stamps = []
    for gap in gaps:
        clock.now += gap
        bucket.take()
        stamps.append(clock.time())
    assert worst_excess(stamps, rate) <= burst + 1e-6
    window = burst / rate
    assert all(sum(1 for t in stamps if s <= t < s + window) <= burst for s in stamps)


@given(
    burst=st.integers(min_value=1, max_value=12),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=60),
    delays=st.lists(st.floats(min_value=0, max_value=0.2), min_size=60, max_size=60),
)
@settings(max_examples=60, deadline=None)
def test_a_call_that_leaves_late_counts_from_when_it_left(
    burst: int, gaps: list[float], delays: list[float]
) -> None:
    # A thread may take its token and then wait for the interpreter before its request is
    # written; the server counts the request when it arrives. Counted from when each call
    # left (``Token.sent``), no window of the server's ever holds more than ``burst``.
    clock = FakeClock()
    bucket = pacing.TokenBucket(10, burst, clock=clock.time, sleep=clock.sleep)
    left = []
    for gap, delay in zip(gaps, delays, strict=False):
        clock.now += gap
        token = bucket.take_token()
        token.sent(clock.time() + delay)
        left.append(clock.time() + delay)
    window = burst / 10
    assert all(sum(1 for t in left if s <= t < s + window) <= burst for s in left)


def test_a_client_counts_its_token_from_when_the_request_was_written() -> None:
    # Over a real socket httpcore says when each request was written whole: the call's token
    # returns a window after that reading of the client's clock, not after the one it was
    # taken at (the clock's second reading of the call: the first starts the call's timer).
    readings: list[float] = []

    def clock() -> float:
        readings.append(len(readings) * 0.001)
        return readings[-1]

    sb = Sandbox()
    sb.add_token("t" * 32, app="boldrules-test")
    with serve(sb, port=0) as server:
        settings = clientsettings.ClientSettings(
            base_url=server.url, shop_identifier="sandbox-shop", rate=10, burst=10
        )
        with client.BoldClient(settings, token="t" * 32, clock=clock) as bold:
            assert bold.list_rulesets() == []
            (token,) = bold._bucket._spent
    counted_from = token.since
    assert any(abs(counted_from - r) < 1e-9 for r in readings)
    assert counted_from > readings[1] + 1e-9
