"""The project file's targets: the shops a project plans and applies against.

Owns ``Target`` (a ``targets:`` entry: the embedded sandbox's file or a remote API's URL, the
shop, the API version date, pacing, template variables), ``Target.token`` (a remote target's
token, read from the environment variable ``token_env`` names, only when a command needs it,
and ``token_problem``, what makes a token unusable, which the client checks too),
the checks of ``targets:`` and ``default_target`` a schema cannot make (version dates, base URLs,
sandbox files), and building a ``Target`` from a checked entry. ``config.py`` loads the project
file and calls these.

Must not: read a token anywhere but ``Target.token``, know the embedded sandbox's own token
(``connect.py`` does), or print.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import errors, redact, routes, schemacheck, yamlread

DEFAULT_SANDBOX_FILE = ".boldrules/sandbox.sqlite"


@dataclass(frozen=True)
class Target:
    """A shop to plan and apply against: the embedded sandbox or a remote API."""

    name: str
    """The target's name under ``targets:``."""
    sandbox: Path | None
    """Embedded sandbox SQLite file, resolved against the project folder; None for a remote."""
    api_url: str | None
    """Base URL of a remote API, e.g. https://api.boldcommerce.com or http://127.0.0.1:8765."""
    shop_identifier: str | None
    """The shop's identifier; None lets the client ask ``GET /shops/v1/info``."""
    token_env: str | None
    """Name of the environment variable holding the token (never the token itself)."""
    api_version: str = "2022-10-14"
    """The ``Bold-API-Version-Date`` sent with every call (YYYY-MM-DD)."""
    allow_future_api_version: bool = False
    """Allow an ``api_version`` later than today (never wanted against a production shop)."""
    vars: Mapping[str, Any] = field(default_factory=dict)
    """Variables handed to ``*.yaml.j2`` templates; templates see nothing else."""
    rate: float = 10.0
    """Client pacing: requests per second."""
    burst: int = 10
    """Client pacing: requests allowed at once before pacing starts."""
    concurrency: int = 10
    """Calls in flight at most."""
    timeout: float = 30.0
    """Seconds allowed per call."""

    def token(self) -> str:
        """The token of this remote target, read from the environment only when a command needs
        it (a sandbox target's token is the embedded sandbox's own: ``connect.token_of``)."""
        if not self.token_env:
            raise errors.ConfigError(
                f"target {self.name!r} has no token_env: add `token_env: BOLD_API_TOKEN` to it "
                "in boldrules.yaml"
            )
        # Surrounding whitespace (the trailing newline of a file or a pasted secret) is never
        # part of a bearer token (RFC 6750): dropped. Anything odd inside it is refused.
        value = os.environ.get(self.token_env, "").strip()
        if not value:
            raise errors.TokenMissing(self.name, self.token_env)
        problem = token_problem(value)
        if problem:
            raise errors.TokenInvalid(problem, target=self.name, variable=self.token_env)
        return value


def token_problem(token: str) -> str:
    """What makes ``token`` unusable in an HTTP header, without quoting any of it ("": none)."""
    if not token:
        return "is empty"
    if any(ch.isspace() for ch in token):
        return "has whitespace (a space, tab or line break) inside it"
    if any(not ("!" <= ch <= "~") for ch in token):
        return "has non-ASCII or control characters in it"
    return ""


def build_target(root: Path, name: str, spec: dict[str, Any]) -> Target:
    """The target a checked ``targets:`` entry describes, its paths resolved against ``root``."""
    sandbox = spec.get("sandbox")
    return Target(
        name=name,
        sandbox=(root / sandbox).resolve() if sandbox is not None else None,
        api_url=spec["api_url"].rstrip("/") if spec.get("api_url") else None,
        shop_identifier=spec.get("shop_identifier"),
        token_env=spec.get("token_env"),
        api_version=spec.get("api_version", Target.api_version),
        allow_future_api_version=spec.get("allow_future_api_version", False),
        vars=dict(spec.get("vars", {})),
        rate=float(spec.get("rate", Target.rate)),
        burst=spec.get("burst", Target.burst),
        concurrency=spec.get("concurrency", Target.concurrency),
        timeout=float(spec.get("timeout", Target.timeout)),
    )


def watch_token_variables(document: yamlread.MarkedDict) -> None:
    """Have every message boldrules prints blank the values of the targets' token variables."""
    targets = document.get("targets")
    if isinstance(targets, dict):
        redact.watch(
            spec["token_env"]
            for spec in targets.values()
            if isinstance(spec, dict) and isinstance(spec.get("token_env"), str)
        )


def default_target_problems(document: yamlread.MarkedDict, file: str) -> list[errors.Problem]:
    """A ``default_target`` naming no target, or none where several targets need one."""
    targets = document.get("targets") or {"sandbox": None}
    default = document.get("default_target")
    if not isinstance(targets, dict) or (default is not None and not isinstance(default, str)):
        return []  # the schema already said what is wrong
    known = ", ".join(str(name) for name in targets)
    if default is None:
        if len(targets) > 1 and "sandbox" not in targets:
            return [
                errors.Problem(
                    file,
                    *document.mark,
                    "",
                    f"several targets ({known}): set default_target to one",
                )
            ]
        return []
    if default not in targets:
        where = yamlread.locate(document, ("default_target",))
        return [
            errors.Problem(
                file, *where, "default_target", f"{default!r} is not one of the targets ({known})"
            )
        ]
    return []


def target_problems(root: Path, document: yamlread.MarkedDict, file: str) -> list[errors.Problem]:
    """What the schema cannot check of each target: its version date, its sandbox file, its URL."""
    return (
        _api_version_problems(document, file)
        + _sandbox_problems(root, document, file)
        + _api_url_problems(document, file)
    )


def _api_version_problems(document: yamlread.MarkedDict, file: str) -> list[errors.Problem]:
    """Version dates that are not real dates, or lie in the future without the opt-in."""
    targets = document.get("targets")
    if not isinstance(targets, dict):
        return []
    problems = []
    for name, spec in targets.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("api_version"), str):
            continue  # no version pinned (the default is valid), or the schema said why not
        allow_future = spec.get("allow_future_api_version") is True
        problem = routes.version_problem(spec["api_version"], allow_future=allow_future)
        if problem is not None:
            where = yamlread.locate(document, ("targets", name, "api_version"))
            problems.append(errors.Problem(file, *where, f"targets.{name}.api_version", problem))
    return problems


def _api_url_problems(document: yamlread.MarkedDict, file: str) -> list[errors.Problem]:
    """Base URLs a client could not use: no host, a bad port, a query, or credentials in it."""
    targets = document.get("targets")
    if not isinstance(targets, dict):
        return []
    problems = []
    for name, spec in targets.items():
        url = spec.get("api_url") if isinstance(spec, dict) else None
        if not isinstance(url, str):
            continue
        message = None
        try:
            parts = urllib.parse.urlsplit(url)
            parts.port  # noqa: B018 (raises ValueError for a port out of range)
        except ValueError as exc:
            message = f"{schemacheck.shown(url)} is not a usable URL ({exc})"
        else:
            if parts.username is not None or parts.password is not None:
                # Said without echoing the URL: it holds a secret.
                message = (
                    "the URL holds credentials: remove them, and put the token in the "
                    "environment variable token_env names"
                )
            elif not parts.hostname:
                message = f"{schemacheck.shown(url)} names no host"
            elif parts.query or parts.fragment:
                message = (
                    f"{schemacheck.shown(url)} has a query or fragment: give the base URL only "
                    "(boldrules adds the paths)"
                )
        if message is not None:
            where = yamlread.locate(document, ("targets", name, "api_url"))
            problems.append(errors.Problem(file, *where, f"targets.{name}.api_url", message))
    return problems


#: The first bytes of every SQLite database file: what an embedded sandbox store starts with.
_SQLITE_HEADER = b"SQLite format 3\x00"


def _sandbox_problems(root: Path, document: yamlread.MarkedDict, file: str) -> list[errors.Problem]:
    """Embedded sandbox files that cannot be a store: a folder, under a file, or another file."""
    targets = document.get("targets")
    if not isinstance(targets, dict):
        return []
    problems = []
    for name, spec in targets.items():
        given = spec.get("sandbox") if isinstance(spec, dict) else None
        if not isinstance(given, str) or not given:
            continue
        path = root / given
        message = None
        blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            shown = blocking.relative_to(root) if blocking.is_relative_to(root) else blocking
            message = f"{given!r} cannot be made: {shown} is a file"
        elif path.is_dir():
            message = f"{given!r} is a folder: name the SQLite file, e.g. {DEFAULT_SANDBOX_FILE}"
        elif path.is_file() and path.stat().st_size and not _is_sqlite(path):
            message = (
                f"{given!r} is not a sandbox store (a SQLite file): name a new file, "
                f"e.g. {DEFAULT_SANDBOX_FILE}"
            )
        if message is not None:
            where = yamlread.locate(document, ("targets", name, "sandbox"))
            problems.append(errors.Problem(file, *where, f"targets.{name}.sandbox", message))
    return problems


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as opened:
            return opened.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER
    except OSError:
        return False
