"""``ServedSandbox.close()`` stops the server whatever state waitress's wake-up pipe is in."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, ServedSandbox, serve
from tests.sandbox.conftest import MAIN, P, add_tokens


def _closed_from_outside(server: ServedSandbox) -> None:
    """A stale close elsewhere in the process hits the number of the trigger's write end."""
    os.close(server._server.trigger.trigger)


def _closed_by_the_loop(server: ServedSandbox) -> None:
    """What waitress's loop does when its poll reports the pipe hung up or invalid."""
    server._server.trigger.handle_close()


@pytest.mark.socket
@pytest.mark.parametrize("break_trigger", [_closed_from_outside, _closed_by_the_loop])
def test_close_stops_the_server_when_its_trigger_is_gone(
    break_trigger: Callable[[ServedSandbox], Any],
) -> None:
    sandbox = Sandbox()
    add_tokens(sandbox)
    server = serve(sandbox, port=0)
    try:
        answered = httpx.get(
            f"{server.url}{P}/rulesets", headers={"Authorization": f"Bearer {MAIN}"}
        )
        assert answered.status_code == 200
        break_trigger(server)
    finally:
        server.close()
    server.wait()  # the server thread has ended (it would hang here otherwise)
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", server.port), timeout=5),
    ):
        pass
    sandbox.close()
