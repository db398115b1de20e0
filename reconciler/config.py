"""The project file ``boldrules.yaml``: found, read, checked; safety, ownership, lint, freeze.

Owns the settings a project file gives (``Project``, ``Safety``, ``Ownership``; its targets are
``targets.py``'s) and ``load_project``, which finds, reads and checks ``boldrules.yaml`` against
``schemas/project.schema.json`` (reading and checking go through ``sources.py``, as manifests
do), and then checks what a schema cannot: ``routes:`` overrides against the routes table
(``routes.py`` says what is wrong with them), the targets (``targets.py``), manifest and cart
entries that lead out of the project, lint ids and freeze windows, so that every problem of the
project file is a located ``validate`` problem before any command builds a client.
This module must not render templates, know the manifest format, print, or read a token.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reconciler import errors, instants, lint, model, routes, schedule, sources
from reconciler.targets import (
    DEFAULT_SANDBOX_FILE,
    Target,
    build_target,
    default_target_problems,
    target_problems,
    watch_token_variables,
)

#: The sample carts folder read when the project file has no ``carts:`` (docs/pricing.md).
DEFAULT_CARTS = "carts"
PROJECT_FILE_NAMES = ("boldrules.yaml", "boldrules.yml")
#: ``ownership.unnamed_rulesets``: what plan and export do with rulesets without an external id.
UnnamedRulesets = Literal["adopt", "ignore", "delete"]


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


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
    unnamed_rulesets: UnnamedRulesets = "adopt"
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
    document: Any, path: tuple[sources.PathPart, ...]
) -> tuple[str, tuple[sources.PathPart, ...]]:
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
        document = sources.parse_yaml(sources.read_source(file, root=root))
    except sources.SourceError as exc:
        raise errors.ProjectFileInvalid(
            [errors.Problem(file.name, *exc.position, "", exc.message)]
        ) from None
    if document is None:
        document = sources.MarkedDict()  # an empty project file means "all defaults"
    if not isinstance(document, sources.MarkedDict):
        raise errors.ProjectFileInvalid(
            [
                errors.Problem(
                    file.name,
                    1,
                    1,
                    "",
                    f"the top level must be a mapping, not {sources.shown(document)}",
                )
            ]
        )
    watch_token_variables(document)
    problems = sources.schema_problems(
        "project.schema.json", document, file=file.name, describe=_describe_project
    )
    for path, key, repeat, first in sources.duplicate_keys(document):
        problems.append(
            errors.Problem(
                file.name,
                *repeat,
                sources.dotted(path),
                f"{key!r} is given twice (first at line {first[0]})",
            )
        )
    problems += default_target_problems(document, file.name)
    problems += _manifest_path_problems(root, document, file.name)
    problems += _manifest_path_problems(root, document, file.name, key="carts")
    # What the schema cannot check, said once: a field the schema already faulted is skipped.
    reported = {problem.path for problem in problems}
    problems += [
        problem
        for problem in _route_problems(document, file.name)
        + target_problems(root, document, file.name)
        + _lint_problems(document, file.name)
        + _freeze_problems(document, file.name)
        if problem.path not in reported
    ]
    if problems:
        raise errors.ProjectFileInvalid(problems)
    return _build_project(root, file, sources.plain(document), document)


def _manifest_path_problems(
    root: Path, document: sources.MarkedDict, file: str, *, key: str = "manifests"
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
            where = sources.locate(document, (key, index))
            problems.append(
                errors.Problem(
                    file,
                    *where,
                    f"{key}[{index}]",
                    f"{sources.shown(entry)} {exc.message}",
                )
            )
    return problems


def _route_problems(document: sources.MarkedDict, file: str) -> list[errors.Problem]:
    """Overrides naming no route, or whose method or placeholders the route cannot take."""
    overrides = document.get("routes")
    if not isinstance(overrides, dict):
        return []  # absent, or the schema already said what is wrong
    checkable = {name: text for name, text in overrides.items() if isinstance(text, str)}
    problems = []
    for name, about_name, message in routes.override_problems(checkable):
        where = sources.locate(document, ("routes", name), key=about_name)
        path = "routes" if about_name else f"routes.{name}"
        problems.append(errors.Problem(file, *where, path, message))
    return problems


def _build_project(
    root: Path, file: Path, data: dict[str, Any], marked: sources.MarkedDict
) -> Project:
    targets_data = data.get("targets") or {"sandbox": {"sandbox": DEFAULT_SANDBOX_FILE}}
    by_name = {name: build_target(root, name, spec) for name, spec in targets_data.items()}
    default = data.get("default_target")
    if default is None:
        default = "sandbox" if "sandbox" in by_name else next(iter(by_name))
    entries = data.get("manifests", ["pricing/"])
    origins = tuple(sources.locate(marked, ("manifests", index)) for index in range(len(entries)))
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
        targets=by_name,
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
            unnamed_rulesets=ownership.get("unnamed_rulesets", Ownership.unnamed_rulesets),
            record=ownership.get("record", Ownership.record),
        ),
        routes=dict(data.get("routes", {})),
        manifest_origins=origins,
        carts=tuple((root / entry).resolve() for entry in cart_entries),
        cart_origins=tuple(
            sources.locate(marked, ("carts", index)) for index in range(len(cart_entries))
        ),
        lint=lint.Settings.from_json(data.get("lint")),
        freeze=tuple(
            schedule.FreezeWindow(
                name=str(entry["name"]),
                start=_freeze_instant(entry["start"]),
                end=_freeze_instant(entry["end"]),
                reason=str(entry["reason"]),
                origin=model.Origin(file.name, *sources.locate(marked, ("freeze", index))),
            )
            for index, entry in enumerate(data.get("freeze", ()))
        ),
    )


def _freeze_instant(text: str) -> datetime.datetime:
    found = instants.parse_strict(text)
    assert found is not None  # the schema's date-time format holds
    return found


def _lint_problems(document: sources.MarkedDict, file: str) -> list[errors.Problem]:
    """``lint.ignore[].id`` and ``lint.error[]`` entries that name no check."""
    settings = document.get("lint")
    if not isinstance(settings, dict):
        return []
    problems = []
    known = ", ".join(lint.CHECKS)
    named: list[tuple[tuple[sources.PathPart, ...], Any]] = []
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
                    *sources.locate(document, path),
                    sources.dotted(path),
                    f"{name!r} is not a lint check: use one of {known}",
                )
            )
    return problems


def _freeze_problems(document: sources.MarkedDict, file: str) -> list[errors.Problem]:
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
                path: tuple[sources.PathPart, ...] = ("freeze", index, "name")
                problems.append(
                    errors.Problem(
                        file,
                        *sources.locate(document, path),
                        sources.dotted(path),
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
                    *sources.locate(document, path),
                    sources.dotted(path),
                    f"end {end} is not after start {start}",
                )
            )
    return problems
