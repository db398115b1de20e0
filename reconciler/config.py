"""The project file ``boldrules.yaml``: targets, safety limits, ownership, route overrides.

Owns the settings a project file gives (``Project``, ``Target``, ``Safety``, ``Ownership``) and
``load_project``, which finds, reads and checks ``boldrules.yaml`` against
``schemas/project.schema.json`` (reading goes through ``sources.py`` and ``yamlread.py``,
checking through ``schemacheck.py``, as manifests do), and then checks what a schema cannot:
``routes:`` overrides against the routes table and each target's ``api_version`` (``routes.py``
says what is wrong with them), so that every problem of the project file is a located
``validate`` problem before any command builds a client.
This module must not render templates, know the manifest format, print, or read a token anywhere
but ``Target.token``.
"""

from __future__ import annotations

import datetime
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import (
    errors,
    instants,
    lint,
    model,
    redact,
    routes,
    schedule,
    schemacheck,
    sources,
    yamlread,
)

DEFAULT_SANDBOX_FILE = ".boldrules/sandbox.sqlite"
#: The sample carts folder read when the project file has no ``carts:`` (docs/pricing.md).
DEFAULT_CARTS = "carts"
PROJECT_FILE_NAMES = ("boldrules.yaml", "boldrules.yml")


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


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
    concurrency: int = 4
    """Calls in flight at most."""
    timeout: float = 30.0
    """Seconds allowed per call."""

    def token(self) -> str:
        """The token for this target, read from the environment only when a command needs it."""
        if self.sandbox is not None:
            # The embedded sandbox's own local token: no environment variable needed. Imported
            # here so that commands on remote targets never load the server.
            from reconciler.sandbox import DEFAULT_TOKEN

            return DEFAULT_TOKEN
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
        problem = errors.token_problem(value)
        if problem:
            raise errors.TokenInvalid(problem, target=self.name, variable=self.token_env)
        return value


@dataclass(frozen=True)
class Safety:
    """Limits a plan must respect before apply may run it without ``--force``."""

    max_deletes: int = 5
    """Most objects one apply may delete."""
    max_delete_percent: float = 30.0
    """Most owned objects of one kind, in percent, one apply may delete."""
    max_update_percent: float = 50.0
    """Most owned objects of one kind, in percent, one apply may update."""
    protected: tuple[str, ...] = ()
    """Globs on keys (``ruleset:vip-*``) that are never deleted or replaced."""
    max_percent_off: float | None = None
    """Deepest percent discount a new or changed action may give without ``--force``."""
    max_price_change_percent: float | None = None
    """Most a plan may move any previewed cart line's unit price, in percent, without
    ``--force`` (docs/pricing.md); None: no limit."""


@dataclass(frozen=True)
class Ownership:
    """Live objects a plan owns even when no manifest names them."""

    order_condition_names: tuple[str, ...] = ()
    """Order condition groups (by ``name``) owned, so their members can be deleted."""
    discount_code_prefixes: tuple[str, ...] = ()
    """Discount codes owned when their name starts with one of these."""
    unnamed_rulesets: str = "adopt"
    """The app's rulesets without an ``external_id``: ``adopt`` (export names them for adoption;
    plan leaves the rest alone and lists them), ``ignore`` (export leaves them out; plan leaves
    them alone quietly) or ``delete`` (plan deletes those no manifest adopts, by id)."""
    record: str = "default"
    """This project's name in the shop: its ownership record and apply lock are
    ``boldrules.ownership.<record>`` and ``boldrules.lock.<record>`` (docs/ownership.md)."""


@dataclass(frozen=True)
class Project:
    """Everything ``boldrules.yaml`` says, with paths resolved against its folder."""

    root: Path
    """The folder holding ``boldrules.yaml``."""
    file: Path
    """The project file itself."""
    manifests: tuple[Path, ...]
    """Manifest files and folders, resolved."""
    default_target: str
    """The target used when a command is given no ``--target``."""
    targets: Mapping[str, Target]
    """Every target, by name."""
    safety: Safety
    """Limits on deletes and updates."""
    ownership: Ownership
    """Extra ownership of live objects."""
    routes: Mapping[str, str]
    """Overrides of the client's routes table, by route name."""
    manifest_origins: tuple[sources.Position, ...] = ()
    """Line and column of each ``manifests`` entry, so a missing one can be pointed at."""
    carts: tuple[Path, ...] = ()
    """Sample cart files and folders, resolved (``carts:``; by default ``carts/`` if it exists)."""
    cart_origins: tuple[sources.Position, ...] = ()
    """Line and column of each ``carts`` entry."""
    lint: lint.Settings = field(default_factory=lint.Settings)
    """``lint:``: findings silenced (with a reason) and ids promoted to errors (docs/lint.md)."""
    freeze: tuple[schedule.FreezeWindow, ...] = ()
    """``freeze:``: windows during which ``apply`` refuses without ``--force --reason``."""

    def target(self, name: str | None) -> Target:
        """The named target, or the default one when ``name`` is None."""
        chosen = self.default_target if name is None else name
        try:
            return self.targets[chosen]
        except KeyError:
            known = ", ".join(sorted(self.targets))
            raise errors.ConfigError(
                f"no target {chosen!r} in {self.file.name}: use one of {known}"
            ) from None


# --------------------------------------------------------------------------------------------
# The project file
# --------------------------------------------------------------------------------------------


def _describe_project(
    document: Any, path: tuple[yamlread.PathPart, ...]
) -> tuple[str, tuple[yamlread.PathPart, ...]]:
    return "", path


def find_project_file(directory: Path) -> Path:
    """``boldrules.yaml`` (or ``.yml``) in ``directory``; ConfigError saying what to do if none."""
    if not directory.is_dir():
        raise errors.ConfigError(
            f"no such folder {str(directory)!r}: pass -C with the project's folder"
        )
    found = [directory / name for name in PROJECT_FILE_NAMES if (directory / name).is_file()]
    if not found:
        raise errors.ConfigError(
            f"no boldrules.yaml in {directory}: run in the project's folder or pass -C DIR"
        )
    if len(found) > 1:
        raise errors.ConfigError(f"both boldrules.yaml and boldrules.yml in {directory}: keep one")
    return found[0]


def load_project(directory: Path) -> Project:
    """Find, read and check the project file in ``directory``."""
    file = find_project_file(directory)
    root = file.parent.resolve()
    try:
        document = yamlread.parse_yaml(sources.read_source(file, root=root))
    except sources.SourceError as exc:
        raise errors.ProjectFileInvalid(
            [errors.Problem(file.name, *exc.position, "", exc.message)]
        ) from None
    if document is None:
        document = yamlread.MarkedDict()  # an empty project file means "all defaults"
    if not isinstance(document, yamlread.MarkedDict):
        raise errors.ProjectFileInvalid(
            [
                errors.Problem(
                    file.name,
                    1,
                    1,
                    "",
                    f"the top level must be a mapping, not {schemacheck.shown(document)}",
                )
            ]
        )
    _watch_token_variables(document)
    problems = schemacheck.schema_problems(
        "project.schema.json", document, file=file.name, describe=_describe_project
    )
    for path, key, repeat, first in yamlread.duplicate_keys(document):
        problems.append(
            errors.Problem(
                file.name,
                *repeat,
                schemacheck.dotted(path),
                f"{key!r} is given twice (first at line {first[0]})",
            )
        )
    problems += _default_target_problems(document, file.name)
    problems += _manifest_path_problems(root, document, file.name)
    problems += _manifest_path_problems(root, document, file.name, key="carts")
    # What the schema cannot check, said once: a field the schema already faulted is skipped.
    reported = {problem.path for problem in problems}
    problems += [
        problem
        for problem in _route_problems(document, file.name)
        + _api_version_problems(document, file.name)
        + _sandbox_problems(root, document, file.name)
        + _api_url_problems(document, file.name)
        + _lint_problems(document, file.name)
        + _freeze_problems(document, file.name)
        if problem.path not in reported
    ]
    if problems:
        raise errors.ProjectFileInvalid(problems)
    return _build_project(root, file, yamlread.plain(document), document)


def _watch_token_variables(document: yamlread.MarkedDict) -> None:
    """Have every message boldrules prints blank the values of the targets' token variables."""
    targets = document.get("targets")
    if isinstance(targets, dict):
        redact.watch(
            spec["token_env"]
            for spec in targets.values()
            if isinstance(spec, dict) and isinstance(spec.get("token_env"), str)
        )


def _default_target_problems(document: yamlread.MarkedDict, file: str) -> list[errors.Problem]:
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


def _manifest_path_problems(
    root: Path, document: yamlread.MarkedDict, file: str, *, key: str = "manifests"
) -> list[errors.Problem]:
    """Manifest (or ``key``: cart) entries that lead outside the project folder (``../x``,
    ``/``, a link out)."""
    entries = document.get(key)
    problems: list[errors.Problem] = []
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, str) or not entry:
            continue  # the schema already said what is wrong
        try:
            sources.inside(
                root, root / entry, advice="list only files and folders inside the project folder"
            )
        except sources.SourceError as exc:
            where = yamlread.locate(document, (key, index))
            problems.append(
                errors.Problem(
                    file,
                    *where,
                    f"{key}[{index}]",
                    f"{schemacheck.shown(entry)} {exc.message}",
                )
            )
    return problems


def _route_problems(document: yamlread.MarkedDict, file: str) -> list[errors.Problem]:
    """Overrides naming no route, or whose method or placeholders the route cannot take."""
    overrides = document.get("routes")
    if not isinstance(overrides, dict):
        return []  # absent, or the schema already said what is wrong
    checkable = {name: text for name, text in overrides.items() if isinstance(text, str)}
    problems = []
    for name, about_name, message in routes.override_problems(checkable):
        where = yamlread.locate(document, ("routes", name), key=about_name)
        path = "routes" if about_name else f"routes.{name}"
        problems.append(errors.Problem(file, *where, path, message))
    return problems


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


def _build_project(
    root: Path, file: Path, data: dict[str, Any], marked: yamlread.MarkedDict
) -> Project:
    targets_data = data.get("targets") or {"sandbox": {"sandbox": DEFAULT_SANDBOX_FILE}}
    targets = {name: _build_target(root, name, spec) for name, spec in targets_data.items()}
    default = data.get("default_target")
    if default is None:
        default = "sandbox" if "sandbox" in targets else next(iter(targets))
    entries = data.get("manifests", ["pricing/"])
    origins = tuple(yamlread.locate(marked, ("manifests", index)) for index in range(len(entries)))
    safety = data.get("safety", {})
    ownership = data.get("ownership", {})
    # Sample carts: as listed; by default the carts/ folder when the project has one, so that
    # adding carts/ is all it takes, and a project without it plans exactly as before.
    cart_entries = data.get("carts", ["carts/"] if (root / DEFAULT_CARTS).is_dir() else [])
    return Project(
        root=root,
        file=file.resolve(),
        manifests=tuple((root / entry).resolve() for entry in entries),
        default_target=default,
        targets=targets,
        safety=Safety(
            max_deletes=safety.get("max_deletes", Safety.max_deletes),
            max_delete_percent=float(safety.get("max_delete_percent", Safety.max_delete_percent)),
            max_update_percent=float(safety.get("max_update_percent", Safety.max_update_percent)),
            protected=tuple(safety.get("protected", ())),
            max_percent_off=(
                float(safety["max_percent_off"]) if "max_percent_off" in safety else None
            ),
            max_price_change_percent=(
                float(safety["max_price_change_percent"])
                if "max_price_change_percent" in safety
                else None
            ),
        ),
        ownership=Ownership(
            order_condition_names=tuple(ownership.get("order_conditions", ())),
            discount_code_prefixes=tuple(ownership.get("discount_code_prefixes", ())),
            unnamed_rulesets=str(ownership.get("unnamed_rulesets", Ownership.unnamed_rulesets)),
            record=ownership.get("record", Ownership.record),
        ),
        routes=dict(data.get("routes", {})),
        manifest_origins=origins,
        carts=tuple((root / entry).resolve() for entry in cart_entries),
        cart_origins=tuple(
            yamlread.locate(marked, ("carts", index)) for index in range(len(cart_entries))
        ),
        lint=lint.Settings.from_json(data.get("lint")),
        freeze=tuple(
            schedule.FreezeWindow(
                name=str(entry["name"]),
                start=_freeze_instant(entry["start"]),
                end=_freeze_instant(entry["end"]),
                reason=str(entry["reason"]),
                origin=model.Origin(file.name, *yamlread.locate(marked, ("freeze", index))),
            )
            for index, entry in enumerate(data.get("freeze", ()))
        ),
    )


def _freeze_instant(text: str) -> datetime.datetime:
    found = instants.parse_strict(text)
    assert found is not None  # the schema's date-time format holds
    return found


def _lint_problems(document: yamlread.MarkedDict, file: str) -> list[errors.Problem]:
    """``lint.ignore[].id`` and ``lint.error[]`` entries that name no check."""
    settings = document.get("lint")
    if not isinstance(settings, dict):
        return []
    problems = []
    known = ", ".join(lint.CHECKS)
    named: list[tuple[tuple[yamlread.PathPart, ...], Any]] = []
    for index, entry in enumerate(settings.get("ignore") or []):
        if isinstance(entry, dict) and "id" in entry:
            named.append((("lint", "ignore", index, "id"), entry["id"]))
    for index, name in enumerate(settings.get("error") or []):
        named.append((("lint", "error", index), name))
    for path, name in named:
        if isinstance(name, str) and name != "*" and name not in lint.CHECKS:
            problems.append(
                errors.Problem(
                    file,
                    *yamlread.locate(document, path),
                    schemacheck.dotted(path),
                    f"{name!r} is not a lint check: use one of {known}",
                )
            )
    return problems


def _freeze_problems(document: yamlread.MarkedDict, file: str) -> list[errors.Problem]:
    """Freeze windows that end before they start, and names given twice."""
    windows = document.get("freeze")
    if not isinstance(windows, list):
        return []
    problems = []
    seen: set[str] = set()
    for index, window in enumerate(windows):
        if not isinstance(window, dict):
            continue
        name = window.get("name")
        if isinstance(name, str):
            if name in seen:
                path: tuple[yamlread.PathPart, ...] = ("freeze", index, "name")
                problems.append(
                    errors.Problem(
                        file,
                        *yamlread.locate(document, path),
                        schemacheck.dotted(path),
                        f"freeze window {name!r} is named twice: give each window its own name",
                    )
                )
            seen.add(name)
        start, end = window.get("start"), window.get("end")
        if not (isinstance(start, str) and isinstance(end, str)):
            continue
        begins, ends = instants.parse_strict(start), instants.parse_strict(end)
        if begins is not None and ends is not None and ends <= begins:
            path = ("freeze", index, "end")
            problems.append(
                errors.Problem(
                    file,
                    *yamlread.locate(document, path),
                    schemacheck.dotted(path),
                    f"end {end} is not after start {start}",
                )
            )
    return problems


def _build_target(root: Path, name: str, spec: dict[str, Any]) -> Target:
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
