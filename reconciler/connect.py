"""Wiring a project target to a client: the one module that knows the embedded sandbox.

Owns ``connect(target)``: a target with ``sandbox:`` gets a client whose calls the embedded
sandbox answers in this process (``transport.InProcessTransport`` over its SQLite file, base URL
``transport.IN_PROCESS_URL``, never resolved); a target with ``api_url:`` gets a client over
httpx's own network transport. Either way the settings come from
``client.ClientSettings.from_target`` and the token from ``config.Target.token``.

Must not: send a call, print anything, or name the token in a message. Only sandbox targets
pay for importing the sandbox server.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler import config, transport
from reconciler.client import BoldClient, ClientSettings


def connect(target: config.Target, *, routes: Mapping[str, str] | None = None) -> BoldClient:
    """A client for a project target, with the project's ``routes:`` overrides."""
    token = target.token()  # TokenMissing or TokenInvalid, naming the variable
    if target.sandbox is None:
        return BoldClient(ClientSettings.from_target(target, routes=routes), token=token)
    settings = ClientSettings.from_target(target, routes=routes, base_url=transport.IN_PROCESS_URL)
    from reconciler import sandbox  # only sandbox targets pay for importing the server

    embedded = sandbox.Sandbox.embedded(target.sandbox)
    try:
        bold = BoldClient(
            settings, token=token, transport=transport.InProcessTransport(embedded.wsgi_app)
        )
    except BaseException:
        embedded.close()
        raise
    bold.on_close(embedded.close)
    return bold
