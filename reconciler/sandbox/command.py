"""``boldrules sandbox serve``: the click group the main command line mounts.

Owns option parsing, loading the tokens and seed files, the refusal to offer the well-known
tokens beyond this machine, the one line saying where the sandbox listens, and a clean stop on
Ctrl-C or SIGTERM. It must not implement behaviour: it builds a
``Sandbox`` and hands it to ``serve``, the same code the tests use.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click

from reconciler.sandbox.app import ALL_SCOPES, CONTROL_TOKEN, DEFAULT_APP, DEFAULT_TOKEN, Sandbox
from reconciler.sandbox.server import serve as start_server


@click.group()
def sandbox() -> None:
    """The local Bold-compatible server."""


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"cannot read {what} {path}: {exc}") from exc


def _tokens(path: Path) -> list[tuple[str, str, list[str]]]:
    data = _read_json(path, "tokens file")
    out = []
    if not isinstance(data, list):
        raise click.BadParameter(f'{path}: expected a JSON list of {{"token", "app", "scopes"}}')
    for i, entry in enumerate(data):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("token"), str)
            or not isinstance(entry.get("app"), str)
        ):
            raise click.BadParameter(f'{path}: entry {i} needs "token" and "app" strings')
        scopes = entry.get("scopes", list(ALL_SCOPES))
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise click.BadParameter(f'{path}: entry {i}: "scopes" must be a list of strings')
        out.append((entry["token"], entry["app"], scopes))
    return out


def _loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def _check_exposure(
    host: str, tokens: list[tuple[str, str, list[str]]] | None, control_token: str | None
) -> str | None:
    """Refuse well-known tokens on a non-loopback address; the warning to print, if any.

    ``sandbox-local-token`` and the default control token are printed in the docs: anyone who
    can reach the port could use them, and the control token can add tokens and load data.
    """
    if _loopback(host):
        return None
    well_known = []
    if tokens is None or any(token == DEFAULT_TOKEN for token, _, _ in tokens):
        well_known.append(f"the token {DEFAULT_TOKEN}")
    if control_token is None or control_token == CONTROL_TOKEN:
        well_known.append("the default control token (which can add tokens)")
    return " and ".join(well_known) or None


@sandbox.command()
@click.option("--port", type=int, default=8765, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file to keep the data in (created if missing). Default: in memory.",
)
@click.option(
    "--rate",
    type=float,
    default=10.0,
    show_default=True,
    help="Requests per second per token; 0 = off.",
)
@click.option("--burst", type=int, default=10, show_default=True, help="Burst per token.")
@click.option("--latency", type=float, default=0.0, help="Added latency per request, ms.")
@click.option("--jitter", type=float, default=0.0, help="Extra random latency up to this, ms.")
@click.option("--no-retry-after", is_flag=True, help="Answer 429 without a Retry-After header.")
@click.option(
    "--tokens",
    "tokens_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON list of {"token", "app", "scopes"}; replaces the default token.',
)
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON dump to load at start (replaces what the database holds).",
)
@click.option("--threads", type=int, default=16, show_default=True, help="Worker threads.")
@click.option(
    "--control-token",
    default=None,
    help="Token for /__sandbox__/ calls (default: the well-known one in docs/sandbox.md).",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow the well-known tokens on an address other machines can reach.",
)
def serve(
    port: int,
    host: str,
    db: Path | None,
    rate: float,
    burst: int,
    latency: float,
    jitter: float,
    no_retry_after: bool,
    tokens_file: Path | None,
    seed_file: Path | None,
    threads: int,
    control_token: str | None,
    insecure: bool,
) -> None:
    """Serve the sandbox over HTTP until Ctrl-C or SIGTERM.

    On an address other than loopback it needs --tokens and --control-token (or --insecure).
    """
    if burst < 1:
        raise click.BadParameter("--burst must be at least 1")
    tokens = _tokens(tokens_file) if tokens_file is not None else None
    exposed = _check_exposure(host, tokens, control_token)
    if exposed and not insecure:
        raise click.ClickException(
            f"refusing to serve on {host} with {exposed}: anyone who can reach it could use "
            "them. Give --tokens FILE and --control-token SECRET, listen on 127.0.0.1, or pass "
            "--insecure on a network of your own."
        )
    if exposed:
        click.echo(
            f"warning: serving on {host} with {exposed} (--insecure): anyone who can reach it "
            "can use them.",
            err=True,
        )
    box = Sandbox(db, rate=rate or None, burst=burst, retry_after=not no_retry_after)
    box.control_token = control_token or CONTROL_TOKEN
    if tokens is not None:
        for token, app, scopes in tokens:
            box.add_token(token, app=app, scopes=scopes)
        who = f"the tokens in {tokens_file}"
    else:
        box.add_token(DEFAULT_TOKEN, app=DEFAULT_APP)
        who = f"Authorization: Bearer {DEFAULT_TOKEN}"
    if seed_file is not None:
        try:
            box.load(_read_json(seed_file, "seed file"))
        except (ValueError, KeyError, TypeError) as exc:
            raise click.BadParameter(f"cannot load seed {seed_file}: {exc!r}") from exc
    if latency or jitter:
        box.set_faults(latency_ms=latency, jitter_ms=jitter)
    try:
        server = start_server(box, host=host, port=port, threads=threads)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    # The handler only appends to a list: it takes no lock (a handler calling Event.set()
    # deadlocks when the signal lands while the main thread holds that event's lock), and a
    # signal that arrives before the loop below is not lost.
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        where = "in memory" if db is None else f"in {db}"
        click.echo(
            f"Bold sandbox listening on {server.url} (shop {box.shop.identifier}, data {where}); "
            f"use {who}",
            err=False,
        )
        while not received:
            time.sleep(0.2)
    finally:
        # Still ours while stopping: a second Ctrl-C or SIGTERM does not cut the stop short.
        server.close()
        box.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        click.echo("Bold sandbox stopped.", err=True)


if __name__ == "__main__":
    sandbox()
