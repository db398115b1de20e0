"""Fixtures for the sandbox's own tests: an in-process sandbox and one served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reconciler.sandbox import Sandbox, ServedSandbox, serve

P = "/price_rules/rules/v2/shops/sandbox-shop"
S = "/price_rules/storefront/v2/shops/sandbox-shop"
MAIN, OTHER, READER = "t-main", "t-other", "t-reader"
READ_SCOPES = ["read_price_rulesets", "read_price_order_conditions", "read_discount_codes"]


def add_tokens(sb: Sandbox) -> None:
    sb.add_token(MAIN, app="app-main")
    sb.add_token(OTHER, app="app-other")
    sb.add_token(READER, app="app-main", scopes=READ_SCOPES)


def frozen() -> float:
    """Time that never passes: a rate limit's window never ends, whatever the machine's load."""
    return 1000.0


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh in-memory sandbox with three tokens and no rate limit (frozen time if one is set)."""
    sb = Sandbox(clock=frozen)
    add_tokens(sb)
    yield sb
    sb.close()


def client_for(sb: Sandbox, token: str | None = MAIN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        transport=httpx.WSGITransport(app=sb.wsgi_app), base_url="http://sandbox", headers=headers
    )


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    """An httpx client driving the in-process sandbox with the main app's token."""
    with client_for(sandbox) as client:
        yield client


@pytest.fixture
def other(sandbox: Sandbox) -> Iterator[httpx.Client]:
    """The same sandbox, seen by another app's token."""
    with client_for(sandbox, OTHER) as client:
        yield client


@pytest.fixture(scope="session")
def _served_sandbox_session() -> Iterator[ServedSandbox]:
    sb = Sandbox()
    add_tokens(sb)
    with serve(sb, port=0) as server:
        yield server
    sb.close()


@pytest.fixture
def served_sandbox(_served_sandbox_session: ServedSandbox) -> ServedSandbox:
    """The session's sandbox on a real socket, emptied before each test."""
    sb = _served_sandbox_session.sandbox
    sb.reset()
    sb.set_rate(None)
    return _served_sandbox_session


@pytest.fixture
def http(served_sandbox: ServedSandbox) -> Iterator[httpx.Client]:
    """A real-socket httpx client for the served sandbox, with the main app's token."""
    with httpx.Client(
        base_url=served_sandbox.url, headers={"Authorization": f"Bearer {MAIN}"}, timeout=5
    ) as client:
        yield client
