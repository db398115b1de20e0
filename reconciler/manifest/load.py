"""Manifests: files → Jinja2 → YAML with line marks → schema → semantic checks → ``Declared``.

Owns the pipeline for one target (``load_manifests``): the files the project file names
(``discover``), each read (``reading.py``: templates rendered by ``templates.py``, then the read
cache, the quick path or the careful one) and checked against its schema, the checks across all
files (``checks.py``), every problem of every file collected before ``errors.ManifestInvalid``
is raised; then the result, ``Manifests`` of ``Declared`` objects, sorted.

It must not talk to the API, normalise for diffing (``kinds/`` does that), print, or read a
token. Objects are handed on as written, with API field names and dates as the strings written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import cache, config, discover, errors, model, schemacheck, sources
from reconciler.manifest import checks, parsed, reading, templates
from reconciler.targets import Target

PathParts = parsed.PathParts


@dataclass(frozen=True)
class Declared:
    """One object a manifest declares, as written."""

    key: model.Key
    """Its identity; a discount code entry gives one Declared per code name."""
    data: Mapping[str, Any]
    """The object with API field names; dates are the strings written. A discount code's data
    is its entry without ``codes``, plus ``"code": <that name>``."""
    origin: model.Origin
    """Where it is declared, the file relative to the project folder."""
    group: int = 0
    """Discount codes declared in one entry share a group number (from 1); 0 for the rest."""
    locate: Callable[[PathParts], sources.Position] | None = field(
        default=None, compare=False, repr=False
    )
    """Where a field of the object (of a discount code's whole entry) is written: ``locate(path)``
    gives the line and column of the field at ``path`` (its key), or of its nearest parent, so a
    later check such as ``lint`` points at the exact field. Positions are read only when asked
    for (the quick path keeps none), and are the template's lines for a template."""


@dataclass(frozen=True)
class Manifests:
    """Everything the manifests declare, for one target."""

    objects: tuple[Declared, ...]
    """Sorted by ``key.sort_key``."""
    files: tuple[str, ...]
    """The files read, relative to the project folder."""


def manifest_paths(project: config.Project, problems: list[errors.Problem]) -> list[Path]:
    """The manifest files the project file's ``manifests:`` names; what is wrong with the list
    goes to ``problems``."""
    return discover.files(
        project,
        reading.LISTING,
        entries=project.manifests,
        origins=project.manifest_origins,
        problems=problems,
    )


def load_manifests(project: config.Project, target: Target) -> Manifests:
    """Render, parse and check every manifest; raise ManifestInvalid with every problem found."""
    problems: list[errors.Problem] = []
    paths = manifest_paths(project, problems)
    readings = reading.read_cache(project.root)
    documents, files = _checked(project, target, paths, problems, readings)
    if readings is not None:
        readings.prune()
    if problems:
        raise errors.ManifestInvalid(problems)
    objects = sorted(_declared(documents), key=lambda declared: declared.key.sort_key)
    return Manifests(objects=tuple(objects), files=tuple(files))


def check_files(
    project: config.Project, target: Target, paths: list[Path], *, root: Path | None = None
) -> list[errors.Problem]:
    """What ``validate`` would find in these manifest files alone (export checks what it wrote:
    a shop may hold what the manifest format refuses), read inside ``root`` (default: the
    project folder). Through the read cache, so the first plan after an export reads the
    files from it."""
    problems: list[errors.Problem] = []
    readings = reading.read_cache(project.root)
    _checked(project, target, paths, problems, readings, root=root or project.root)
    if readings is not None:
        readings.prune()
    return problems


def _checked(
    project: config.Project,
    target: Target,
    paths: list[Path],
    problems: list[errors.Problem],
    readings: cache.ReadCache | None,
    *,
    root: Path | None = None,
) -> tuple[list[parsed.Document], list[str]]:
    """The files at ``paths`` read and checked, each problem added to ``problems``."""
    root = root or project.root
    environment = templates.environment(root)
    documents: list[parsed.Document] = []
    files: list[str] = []
    for path in paths:
        file = discover.relative(project.root, path)
        files.append(file)
        document = reading.read(environment, root, path, file, target, problems, readings)
        if document is not None:
            documents.append(document)
            if not document.checked:
                problems += schemacheck.schema_problems(
                    reading.SCHEMA, document.data, file=file, describe=parsed.describe
                )
                problems += schemacheck.duplicate_key_problems(
                    document.data, file=file, describe=parsed.describe
                )
    problems += checks.semantic_problems(documents)
    return documents, files


def warm_cache(project: config.Project, target: Target) -> None:
    """Read every manifest of ``target`` into the read cache, one file at a time, keeping
    nothing and reporting nothing (``pipeline``'s reading child: ``load_manifests`` reads the
    files again from the cache and says what is wrong)."""
    readings = reading.read_cache(project.root)
    if readings is None:
        return
    paths = manifest_paths(project, [])
    environment = templates.environment(project.root)
    for path in paths:
        file = discover.relative(project.root, path)
        reading.read(environment, project.root, path, file, target, [], readings)


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


def _locator(
    document: parsed.Document, prefix: PathParts
) -> Callable[[PathParts], sources.Position]:
    """``locate`` for the object at ``prefix`` of ``document`` (see ``Declared.locate``)."""

    def locate(path: PathParts) -> sources.Position:
        return document.locate((*prefix, *path), key=True)

    return locate


def _declared(documents: list[parsed.Document]) -> Iterator[Declared]:
    for document, index, ruleset in parsed.items(documents, "rulesets"):
        yield Declared(
            model.ruleset_key(ruleset["external_id"]),
            document.plain(ruleset),
            model.Origin(document.file, *document.position(("rulesets", index))),
            locate=_locator(document, ("rulesets", index)),
        )
    for document, index, condition in parsed.items(documents, "order_conditions"):
        yield Declared(
            model.order_condition_key(condition["name"], condition["value"]),
            document.plain(condition),
            model.Origin(document.file, *document.position(("order_conditions", index))),
            locate=_locator(document, ("order_conditions", index)),
        )
    listed = parsed.items(documents, "discount_codes")
    for group, (document, index, entry) in enumerate(listed, start=1):
        shared = {key: value for key, value in document.plain(entry).items() if key != "codes"}
        for code_index, code in enumerate(entry["codes"]):
            where = document.position(("discount_codes", index, "codes", code_index))
            yield Declared(
                model.discount_code_key(code),
                {**shared, "code": code},
                model.Origin(document.file, *where),
                group=group,
                locate=_locator(document, ("discount_codes", index)),
            )
