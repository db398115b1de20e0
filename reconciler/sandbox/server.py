"""Serving a ``Sandbox`` over real HTTP on 127.0.0.1 with waitress, in a background thread.

Owns the server's life: start on a port (0: any free one), mark every environ as a socket
request (so "drop after commit" cuts a real connection), stop cleanly. ``boldrules sandbox
serve`` blocks on the same object. It must not change how requests are answered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import waitress.server
from waitress import wasyncore

from reconciler.sandbox.app import SOCKET_KEY, Sandbox, StartResponse


class _QuietDrops(logging.Filter):
    """Hide waitress's warning about the short bodies the sandbox sends on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "too few bytes" not in record.getMessage()


class ServedSandbox:
    """A sandbox listening on 127.0.0.1; ``close()`` (or leaving ``with``) stops it."""

    def __init__(self, sandbox: Sandbox, *, host: str, port: int, threads: int) -> None:
        self.sandbox = sandbox

        def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            environ[SOCKET_KEY] = True
            return sandbox(environ, start_response)

        logging.getLogger("waitress").addFilter(_QuietDrops())
        # A queue in front of the worker threads is the normal state under load, not news.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._server: Any = waitress.server.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="boldrules-sandbox",
            connection_limit=1000,
            channel_timeout=30,
            asyncore_use_poll=True,
            expose_tracebacks=False,
        )
        self.host = host
        self.port = int(self._server.effective_port)
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.run, name="sandbox-http", daemon=True)
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        """Stop accepting, close every connection, and wait for the server thread.

        Whatever state the loop's trigger (its wake-up pipe) is in: waitress closes the trigger
        itself when its poll reports the pipe hung up or invalid, and a loop that already ended
        reads it no more. Only one of the loop's thread and this one closes the map.
        """
        if self._closed:
            return
        self._closed = True
        server_map = self._server._map
        claim = threading.Lock()

        def close_map() -> None:
            if claim.acquire(blocking=False):
                wasyncore.close_all(server_map, ignore_all=True)

        trigger = self._server.trigger
        pulled = False
        if self._thread.is_alive() and not trigger._closed:
            # Close the dispatchers from inside the loop's own thread (via its trigger): the loop
            # then finds its map empty and returns.
            try:
                trigger.pull_trigger(close_map)
                pulled = True
            except OSError:
                pass  # the pipe's far end is gone: the trigger can wake nothing
        if pulled:
            self._thread.join(timeout=5)
        # The trigger could not be pulled, or its byte woke nothing: close the map from here.
        # The loop finds it empty once its poll (one second at most) returns.
        close_map()
        self._thread.join(timeout=5)
        if not self._thread.is_alive() and trigger.socket is not None:
            # When its write end was closed under it, waitress's own close of the trigger stops
            # at the error and keeps the copy of the read end it polls: close that (idempotent).
            trigger.socket.close()
        self._server.task_dispatcher.shutdown(timeout=5)

    def wait(self) -> None:
        """Block until the server stops."""
        self._thread.join()

    def __enter__(self) -> ServedSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, threads: int = 16
) -> ServedSandbox:
    """Start serving ``sandbox`` in a background thread; returns the running server."""
    return ServedSandbox(sandbox, host=host, port=port, threads=threads)
