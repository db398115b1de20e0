"""Suite-wide guards: no test reaches past 127.0.0.1, and no test writes to the real home."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:  # imported where used, so a pure test (pricing/) never loads the client
    from reconciler.client import BoldClient
    from reconciler.sandbox import Sandbox

# Hypothesis's deadline and "too slow" health check measure wall-clock time, which a loaded
# machine stretches; what a property proves does not depend on it.
settings.register_profile("boldrules", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("boldrules")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            if host == "localhost":
                return
        raise RuntimeError(
            f"test tried to reach {host!r}: tests talk only to 127.0.0.1. Use the `sandbox` "
            "fixture (in process) or the `served_sandbox` fixture (real socket) instead."
        )


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make any connection to an address other than loopback fail loudly."""

    def connect(self: socket.socket, address: Any) -> None:
        _check_address(address)
        _real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_address(address)
        return _real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield


@pytest.fixture(autouse=True)
def dont_write_to_home_directory(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point HOME at a throwaway folder so a stray write to ~ shows up nowhere real."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    yield


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from an empty temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("NO_COLOR", "1")


# --- the sandbox, in process ----------------------------------------------------------------

#: The token tests use for "our" app; recognisable so a leak is easy to find in any output.
APP_TOKEN = "test-token-OURS-5b1e"
OTHER_TOKEN = "test-token-OTHER-9c2d"


@pytest.fixture
def sandbox() -> Sandbox:
    """A fresh in-memory sandbox: no pacing, our app's token and another app's token."""
    from reconciler.sandbox import Sandbox

    sb = Sandbox()
    sb.add_token(APP_TOKEN, app="boldrules-test")
    sb.add_token(OTHER_TOKEN, app="someone-else")
    return sb


def make_bold_client(sb: Sandbox, token: str = APP_TOKEN, **options: Any) -> BoldClient:
    """A BoldClient on ``sb`` in process, fast: pacing far above what tests send."""
    from reconciler.transport import IN_PROCESS_URL, InProcessTransport

    settings: dict[str, Any] = {"rate": 10_000.0, "burst": 10_000, "concurrency": 4}
    settings.update(options)
    return build_client(
        base_url=IN_PROCESS_URL,
        token=token,
        transport=InProcessTransport(sb.wsgi_app),
        **settings,
    )


#: What ``BoldClient`` takes beside its ``ClientSettings``.
_WIRING = frozenset({"token", "transport", "clock", "sleep", "rng"})


def build_client(**options: Any) -> BoldClient:
    """A BoldClient from one set of options: ``ClientSettings`` fields and the wiring
    (token, transport, clock, sleep, rng) together, as the fixtures take them."""
    from reconciler import client, clientsettings

    wiring = {key: options.pop(key) for key in list(options) if key in _WIRING}
    return client.BoldClient(clientsettings.ClientSettings(**options), **wiring)


@pytest.fixture
def bold(sandbox: Sandbox) -> Iterator[BoldClient]:
    """Our app's client on the in-process sandbox."""
    with make_bold_client(sandbox) as c:
        yield c


@pytest.fixture
def other_app(sandbox: Sandbox) -> Iterator[BoldClient]:
    """Another app's client on the same sandbox (it owns its own rulesets)."""
    with make_bold_client(sandbox, OTHER_TOKEN) as c:
        yield c
