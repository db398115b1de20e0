"""The sandbox: a local server that behaves like Bold's Price Rules API (docs/sandbox.md).

It stands apart from the rest of ``reconciler`` and imports none of it (an import-linter
contract checks this), so that tests check the client against an independent picture of the API.

    sb = Sandbox()                          # in memory; Sandbox("x.sqlite") persists
    sb.add_token("t", app="my-app")         # every scope unless told otherwise
    httpx.Client(transport=httpx.WSGITransport(app=sb.wsgi_app), base_url="http://sandbox")
    with serve(sb) as server: ...           # real HTTP on 127.0.0.1:server.port
"""

from reconciler.sandbox.app import (
    ALL_SCOPES,
    CONTROL_TOKEN,
    DEFAULT_APP,
    DEFAULT_TOKEN,
    DISCOUNT_APP,
    Sandbox,
)
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.server import ServedSandbox, serve

__all__ = [
    "ALL_SCOPES",
    "CONTROL_TOKEN",
    "DEFAULT_APP",
    "DEFAULT_TOKEN",
    "DISCOUNT_APP",
    "Faults",
    "Sandbox",
    "ServedSandbox",
    "serve",
]
