"""Fixtures for the client's tests: a fake clock, and clients over a mock transport."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconciler import client
from tests.conftest import build_client

#: A token no test output may ever contain.
TOKEN = "tok-RECOGNISABLE-7f3a9c51"
SHOP = "zp3oafdor9"
BASE = "https://api.bold.test"
P = f"/price_rules/rules/v2/shops/{SHOP}"


class FakeClock:
    """Monotonic time that moves only when someone sleeps, so backoff tests never wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    """A handler wrapper that records every request it answered."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        return self.handler(request)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


MakeClient = Callable[..., tuple[client.BoldClient, Server]]


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[MakeClient]:
    """Build a client whose calls go to ``handler``; time is the fake clock's."""
    made: list[client.BoldClient] = []

    def make(handler: Handler, **kwargs: Any) -> tuple[client.BoldClient, Server]:
        server = Server(handler)
        options: dict[str, Any] = {
            "base_url": BASE,
            "token": TOKEN,
            "shop_identifier": SHOP,
            "transport": httpx.MockTransport(server),
            "clock": clock.time,
            "sleep": clock.sleep,
        }
        options.update(kwargs)
        bold = build_client(**options)
        made.append(bold)
        return bold, server

    yield make
    for bold in made:
        bold.close()


def envelope(data: Any, status: int = 200, **extra: Any) -> httpx.Response:
    """A success response in the contract's envelope."""
    return httpx.Response(status, json={"message": "ok", "data": data, **extra})


def api_error(status: int, message: str, **extra: Any) -> httpx.Response:
    """An error response in the contract's error shape."""
    return httpx.Response(status, json={"message": message, "code": "00-0", "type": "x", **extra})
