"""Wiring a project target to a client: the one module that knows the embedded sandbox.

Owns ``connect(target)``: a target with ``sandbox:`` gets a client whose calls the embedded
sandbox answers in this process (``transport.InProcessTransport`` over its SQLite file, base URL
``transport.IN_PROCESS_URL``, never resolved); a target with ``api_url:`` gets a client over
httpx's own network transport. Either way the settings come from
``clientsettings.ClientSettings.from_target``; the token (``token_of``) is the embedded sandbox's
own for a sandbox target, else ``Target.token`` reads it from the environment.

Must not: send a call, print anything, or name the token in a message. Only sandbox targets
pay for importing the sandbox server.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler import transport
from reconciler.client import BoldClient
from reconciler.clientsettings import ClientSettings
from reconciler.targets import Target


def connect(target: Target, *, routes: Mapping[str, str] | None = None) -> BoldClient:
    """A client for a project target, with the project's ``routes:`` overrides."""
    token = token_of(target)  # TokenMissing or TokenInvalid, naming the variable
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


def token_of(target: Target) -> str:
    """The token a target's client sends: the embedded sandbox's own local token (no
    environment variable needed), else what ``Target.token`` reads from the environment."""
    if target.sandbox is not None:
        # Imported here so that commands on remote targets never load the server.
        from reconciler.sandbox import DEFAULT_TOKEN

        return DEFAULT_TOKEN
    return target.token()
