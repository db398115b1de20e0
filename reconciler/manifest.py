"""Manifests: files → Jinja2 → YAML with line marks → schema → semantic checks → ``Declared``.

This module owns finding the manifest files a project names, rendering ``*.yaml.j2`` templates
in a sandbox that sees only the target's ``vars``, checking every document against
``schemas/manifest.schema.json``, and the checks a schema cannot express across all files at once
(duplicate identities, references to undeclared order conditions, order condition groups that test
different fields, dates out of order, repeated field sets and code names). It collects every
problem of every file before raising ``errors.ManifestInvalid``.

It must not talk to the API, normalise for diffing (``state.py`` does that), print, or read a
token. Objects are handed on as written, with API field names and dates as the strings written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
import jinja2.exceptions

from reconciler import (
    cache,
    config,
    errors,
    instants,
    model,
    positions,
    redact,
    schema,
    sources,
    templating,
)
from reconciler.targets import Target

SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")
TEMPLATE_SUFFIX = ".j2"
LISTS = ("rulesets", "order_conditions", "discount_codes")
SCHEMA = "manifest.schema.json"
_FIELD_PREFIX = "customer.shipping."

PathParts = tuple[sources.PathPart, ...]


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


@dataclass
class _Document:
    """One manifest read: ``data`` is plain when the quick path read and checked it whole
    (``checked``), with positions only near the top (``marks``); ``marked`` has them all."""

    file: str
    data: dict[str, Any]
    text: str = ""
    marks: dict[PathParts, sources.Position] | None = None
    checked: bool = False
    #: A template's line map (rendered line → template line), for positions read later.
    line_of: Callable[[int], int] | None = None
    #: The read cache, where the positions of every field are kept once read.
    readings: cache.ReadCache | None = None
    _marked: sources.MarkedDict | None = None
    #: Where every node and key starts (``positions.Positions``), read on demand.
    _positions: positions.Positions | None = None

    @property
    def marked(self) -> sources.MarkedDict:
        """The document with every position: read again, only when a problem is located."""
        if isinstance(self.data, sources.MarkedDict):
            return self.data
        if self._marked is None:
            marked = sources.parse_yaml(self.text)
            assert isinstance(marked, sources.MarkedDict)  # it parsed quickly as a mapping
            if self.line_of is not None:
                sources.remap_lines(marked, self.line_of)
            self._marked = marked
        return self._marked

    def plain(self, item: dict[str, Any]) -> dict[str, Any]:
        """``item`` of this document as plain dicts and lists (already so when checked)."""
        return item if self.checked else dict(sources.plain(item))

    def locate(self, path: PathParts, *, key: bool = False) -> sources.Position:
        """Where the node at ``path`` starts (its key, when ``key``), or its nearest parent.

        A document the quick path read keeps no positions; the first call takes them from the
        read cache, or reads them all with the quick event parser (a fraction of ``parse_yaml``)
        and keeps them there, the template's lines applied.
        """
        if isinstance(self.data, sources.MarkedDict):
            return sources.locate(self.data, path, key=key)
        if self._positions is None:
            self._positions = positions.load(self.text, self.readings, self.line_of)
            if self._positions is None:
                return sources.locate(self.marked, path, key=key)
        return self._positions.locate(path, key=key)

    def position(self, path: PathParts) -> sources.Position:
        """Where the node at ``path`` starts."""
        if self.marks is not None and path in self.marks:
            return self.marks[path]
        return sources.locate(self.marked, path)


def load_manifests(project: config.Project, target: Target) -> Manifests:
    """Render, parse and check every manifest; raise ManifestInvalid with every problem found."""
    problems: list[errors.Problem] = []
    paths = _discover(project, problems)
    environment = _environment(project.root)
    readings = _readings(project.root)
    documents: list[_Document] = []
    files: list[str] = []
    for path in paths:
        file = _relative(project.root, path)
        files.append(file)
        document = _read(environment, project.root, path, file, target, problems, readings)
        if document is not None:
            documents.append(document)
            if not document.checked:
                problems += sources.schema_problems(
                    SCHEMA, document.data, file=file, describe=describe
                )
                problems += _duplicate_key_problems(document)
    problems += semantic_problems(documents)
    if readings is not None:
        readings.prune()
    if problems:
        raise errors.ManifestInvalid(problems)
    objects = sorted(_declared(documents), key=lambda declared: declared.key.sort_key)
    return Manifests(objects=tuple(objects), files=tuple(files))


# --------------------------------------------------------------------------------------------
# Files and templates
# --------------------------------------------------------------------------------------------


def is_manifest_name(name: str) -> bool:
    """Whether a file name is one boldrules reads from a manifests folder."""
    return name.endswith(SUFFIXES) and not name.startswith(".")


def _relative(root: Path, path: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _discover(project: config.Project, problems: list[errors.Problem]) -> list[Path]:
    found: dict[Path, None] = {}
    project_file = project.file.name
    for index, entry in enumerate(project.manifests):
        line, column = (
            project.manifest_origins[index] if index < len(project.manifest_origins) else (1, 1)
        )
        where = f"manifests[{index}]"
        shown = _relative(project.root, entry)
        if entry.is_dir():
            before = len(problems)
            files = list(_folder_files(entry, project.root, problems, set()))
            if not files and len(problems) == before:
                problems.append(
                    errors.Problem(
                        project_file,
                        line,
                        column,
                        where,
                        f"{shown}/ holds no *.yaml, *.yml or *.yaml.j2 files",
                    )
                )
        elif entry.exists() or entry.is_symlink():
            files = [entry]
            if not entry.name.endswith(SUFFIXES):
                problems.append(
                    errors.Problem(
                        project_file,
                        line,
                        column,
                        where,
                        f"{shown} is not a manifest: name it *.yaml, *.yml or *.yaml.j2",
                    )
                )
                files = []
        else:
            problems.append(
                errors.Problem(
                    project_file, line, column, where, f"no such file or folder: {shown}"
                )
            )
            files = []
        for path in files:
            found.setdefault(path, None)
    return sorted(found, key=lambda path: _relative(project.root, path))


def _folder_files(
    folder: Path, root: Path, problems: list[errors.Problem], seen: set[Path]
) -> Iterator[Path]:
    """The manifests under ``folder``, by name; hidden names skipped.

    A link to a folder inside the project is followed (once: a link loop ends there); a link to
    a folder, or a manifest-named link to a file, outside the project is a problem and is not
    followed (``sources.inside``).
    """
    real = folder.resolve()
    if real in seen:
        return
    seen.add(real)
    try:
        items = sorted(folder.iterdir(), key=lambda item: item.name)
    except OSError as exc:
        problems.append(
            errors.Problem(_relative(root, folder), 1, 1, "", f"cannot list: {exc.strerror}")
        )
        return
    for item in items:
        if item.name.startswith("."):
            continue
        if item.is_symlink() and (item.is_dir() or is_manifest_name(item.name)):
            try:
                sources.inside(root, item)
            except sources.SourceError as exc:
                problems.append(errors.Problem(_relative(root, item), 1, 1, "", exc.message))
                continue
        if item.is_dir():
            yield from _folder_files(item, root, problems, seen)
        elif is_manifest_name(item.name):
            yield item


#: Set to ``off`` to read every manifest afresh, without ``.boldrules/cache/``.
CACHE_VARIABLE = "BOLDRULES_CACHE"


def _readings(root: Path) -> cache.ReadCache | None:
    if os.environ.get(CACHE_VARIABLE, "").lower() in ("off", "0", "no", "false"):
        return None
    # The key covers the schema: a file checked under another schema is checked again.
    return cache.ReadCache(root, salt=schema.texts()[SCHEMA])


def _environment(root: Path) -> templating.BoundedEnvironment:
    # Sandboxed, strict and budgeted (templating.py): a template is data someone reviews, not
    # code that may reach the machine, and a pull request's template is untrusted input.
    return templating.BoundedEnvironment(root)


def _read(
    environment: templating.BoundedEnvironment,
    root: Path,
    path: Path,
    file: str,
    target: Target,
    problems: list[errors.Problem],
    readings: cache.ReadCache | None = None,
) -> _Document | None:
    lines: list[int] | None = None
    try:
        text = sources.read_source(path, root=root)
        if path.name.endswith(TEMPLATE_SUFFIX):
            text, lines = _render(environment, root, path, file, text, target)
        line_of = _line_of(lines) if lines is not None else None
        known = readings.get(text) if readings is not None else None
        if known is not None:
            # The cache holds the rendered text's positions; the line map is this run's.
            data, marks = known
            return _Document(
                file,
                data,
                text=text,
                marks=_moved(marks, line_of),
                checked=True,
                line_of=line_of,
                readings=readings,
            )
        quick = sources.parse_plain(text)
        if (
            quick is not None
            and isinstance(quick.data, dict)
            and sources.conforms(SCHEMA, quick.data)
        ):
            if readings is not None:
                readings.put(text, (quick.data, quick.marks))
            return _Document(
                file,
                quick.data,
                text=text,
                marks=_moved(quick.marks, line_of),
                checked=True,
                line_of=line_of,
                readings=readings,
            )
        data = sources.parse_yaml(text)
        if line_of is not None:
            # Every position from here on (plan origins, problems) is the template's line.
            sources.remap_lines(data, line_of)
    except sources.SourceError as exc:
        line, column = exc.position
        if lines is not None:
            line = _line_of(lines)(line)
        problems.append(errors.Problem(file, line, column, "", exc.message))
        return None
    except _TemplateFailed as exc:
        problems.append(errors.Problem(exc.file, exc.line, 1, "", exc.message))
        return None
    if data is None:
        problems.append(
            errors.Problem(
                file,
                1,
                1,
                "",
                "the file is empty: a manifest holds rulesets, order_conditions "
                "and/or discount_codes",
            )
        )
        return None
    if not isinstance(data, sources.MarkedDict):
        kind = (
            "a list" if isinstance(data, list) else f"{type(data).__name__} {sources.shown(data)}"
        )
        line, column = data.mark if isinstance(data, sources.MarkedList) else (1, 1)
        problems.append(
            errors.Problem(
                file,
                line,
                column,
                "",
                f"the top level must be a mapping with rulesets, order_conditions and/or "
                f"discount_codes, not {kind}",
            )
        )
        return None
    return _Document(file, data)


class _TemplateFailed(Exception):
    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(message)
        self.file, self.line, self.message = file, line, message


def _locator(document: _Document, prefix: PathParts) -> Callable[[PathParts], sources.Position]:
    """``locate`` for the object at ``prefix`` of ``document`` (see ``Declared.locate``)."""

    def locate(path: PathParts) -> sources.Position:
        return document.locate((*prefix, *path), key=True)

    return locate


def _moved(
    marks: dict[PathParts, sources.Position], line_of: Callable[[int], int] | None
) -> dict[PathParts, sources.Position]:
    """Positions of the rendered text moved to the template's lines (as they are without one)."""
    if line_of is None:
        return marks
    return {path: (line_of(line), column) for path, (line, column) in marks.items()}


def _line_of(lines: list[int]) -> Callable[[int], int]:
    """Rendered line → the template line it came from (past the end: the last one known)."""

    def line_of(rendered: int) -> int:
        if not lines:
            return rendered
        return lines[min(max(rendered, 1), len(lines)) - 1]

    return line_of


def _render(
    environment: templating.BoundedEnvironment,
    root: Path,
    path: Path,
    file: str,
    text: str,
    target: Target,
) -> tuple[str, list[int]]:
    """Render a template with the target's vars only; output bounded like a file.

    Also returns the line map: for each rendered line, the template line its first visible
    character came from, so that a plan or a problem points at the line a person edits (a line
    inside a loop maps to the loop body's line, whatever the iteration).
    """
    environment.fresh_budget()
    try:
        code = environment.compile(text, name=file, filename=str(path))
        template = environment.template_class.from_code(
            environment, code, environment.make_globals(None)
        )
        pieces: list[str] = []
        lines = _LineMap()
        size = 0
        generator = template.generate(dict(target.vars))
        for piece in generator:
            lines.add(piece, _source_line(template, generator))
            pieces.append(piece)
            size += len(piece)
            if size > sources.MAX_FILE_BYTES:
                raise _TemplateFailed(
                    file,
                    1,
                    f"the template renders to more than {sources.MAX_FILE_BYTES} "
                    "characters: refused",
                )
        return "".join(pieces), lines.lines
    except _TemplateFailed:
        raise
    except jinja2.TemplateSyntaxError as exc:
        shown = file if exc.filename in (None, str(path)) or not exc.name else exc.name
        raise _TemplateFailed(shown, exc.lineno, f"template syntax: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        names = ", ".join(sorted(map(str, target.vars))) or "none"
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise _TemplateFailed(
            shown, line, f"template: {exc.message} (target {target.name!r} has vars: {names})"
        ) from None
    except jinja2.TemplateNotFound as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise _TemplateFailed(
            shown, line, f"template: no such file to include: {exc.name}"
        ) from None
    except templating.IncludeRefused as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise _TemplateFailed(
            shown, line, f"template: cannot include {sources.shown(exc.name)}: it {exc.message}"
        ) from None
    except RecursionError as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise _TemplateFailed(
            shown,
            line,
            "template: calls nest too deep (a macro or recursive loop that never stops?)",
        ) from None
    except templating.BudgetExceeded as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise _TemplateFailed(shown, line, f"template: {exc}") from None
    except jinja2.exceptions.SecurityError as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise _TemplateFailed(shown, line, f"template: not allowed in the sandbox: {exc}") from None
    except Exception as exc:  # a template is user code: any failure is the user's to fix
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise _TemplateFailed(
            shown,
            line,
            f"template: {type(exc).__name__}: {errors.cut(redact.printable(str(exc)), 200)}",
        ) from None


class _LineMap:
    """Builds the rendered line → template line map from the pieces a template yields."""

    def __init__(self) -> None:
        self.lines: list[int] = []
        self._started = False  # whether the current rendered line has shown a visible character

    def add(self, piece: str, line: int) -> None:
        for index, part in enumerate(piece.split("\n")):
            here = line + index
            if index or not self.lines:  # a rendered line starts here
                self._started = False
                self.lines.append(here)
            if not self._started and part.strip():
                self.lines[-1] = here
                self._started = True


def _source_line(template: jinja2.Template, generator: Any) -> int:
    """The template line of the code that yielded the last piece (the top template's line)."""
    inner = getattr(generator, "gi_yieldfrom", None)
    frame = getattr(inner, "gi_frame", None)
    if frame is None:
        return 1
    return int(template.get_corresponding_lineno(frame.f_lineno))


def _template_position(
    trace: TracebackType | None, root: Path, path: Path, file: str
) -> tuple[str, int]:
    """The template file and line a render error came from (Jinja2 rewrites its frames)."""
    shown, line = file, 1
    while trace is not None:
        name = trace.tb_frame.f_code.co_filename
        if not name.endswith(".py") and not name.startswith("<"):
            shown = file if Path(name) == path else _relative(root, Path(name))
            line = trace.tb_lineno
        trace = trace.tb_next
    return shown, line


# --------------------------------------------------------------------------------------------
# Naming what a path points at
# --------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def object_name(list_name: str, index: int, item: Any) -> str:
    """``ruleset spring-sale``, ``order_condition ZONE=prairies``, ``discount_code SPRING15``."""
    item = item if isinstance(item, Mapping) else {}
    if list_name == "rulesets" and _text(item.get("external_id")):
        return f"ruleset {item['external_id']}"
    if list_name == "order_conditions" and _text(item.get("name")) and _text(item.get("value")):
        return f"order_condition {item['name']}={item['value']}"
    codes = item.get("codes")
    if list_name == "discount_codes" and isinstance(codes, list) and codes and _text(codes[0]):
        return f"discount_code {codes[0]}"
    return f"{list_name}[{index}]"


def describe(document: Any, path: PathParts) -> tuple[str, PathParts]:
    """Split a path into the object it falls in (named) and the rest."""
    if len(path) < 2 or path[0] not in LISTS or not isinstance(path[1], int):
        return "", path
    items = document.get(path[0]) if isinstance(document, Mapping) else None
    item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
    head, rest = object_name(str(path[0]), path[1], item), path[2:]
    if path[0] == "rulesets" and len(rest) >= 2 and rest[0] == "rules" and isinstance(rest[1], int):
        rules = item.get("rules") if isinstance(item, Mapping) else None
        rule = rules[rest[1]] if isinstance(rules, list) and rest[1] < len(rules) else None
        rule_id = _text(rule.get("external_id")) if isinstance(rule, Mapping) else None
        head += f" > rules[{rule_id or rest[1]}]"
        rest = rest[2:]
    return head, rest


def _problem(
    document: _Document, path: PathParts, message: str, *, at: PathParts | None = None
) -> errors.Problem:
    marked = document.marked
    line, column = sources.locate(marked, path if at is None else at)
    return errors.Problem(
        document.file, line, column, sources.path_text(marked, path, describe), message
    )


def _duplicate_key_problems(document: _Document) -> list[errors.Problem]:
    return [
        errors.Problem(
            document.file,
            *repeat,
            sources.path_text(document.data, path, describe),
            f"{sources.shown(str(key))} is given twice (first at line {first[0]})",
        )
        for path, key, repeat, first in sources.duplicate_keys(document.data)
    ]


# --------------------------------------------------------------------------------------------
# Checks across all files
# --------------------------------------------------------------------------------------------


def _items(
    documents: list[_Document], list_name: str
) -> Iterator[tuple[_Document, int, dict[str, Any]]]:
    """Every well-formed mapping under ``list_name``, in file order."""
    for document in documents:
        items = document.data.get(list_name)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    yield document, index, item


class _At:
    """``file:line:column`` of a node, worked out only if a message quotes it."""

    __slots__ = ("document", "path")

    def __init__(self, document: _Document, path: PathParts) -> None:
        self.document, self.path = document, path

    def __str__(self) -> str:
        line, column = sources.locate(self.document.marked, self.path)
        return f"{self.document.file}:{line}:{column}"


def _at(document: _Document, path: PathParts) -> _At:
    return _At(document, path)


def semantic_problems(documents: list[_Document]) -> list[errors.Problem]:
    """Every problem the schema cannot see, across all documents at once."""
    problems = list(_ruleset_problems(documents))
    problems += _adopt_problems(documents)
    problems += _order_condition_problems(documents)
    problems += _discount_code_problems(documents)
    problems += _reference_problems(documents)
    problems += _selection_problems(documents)
    problems += _meta_problems(documents)
    for list_name in ("rulesets", "discount_codes"):
        for document, index, item in _items(documents, list_name):
            problems += _date_problems(document, (list_name, index), item)
    return problems


def _ruleset_problems(documents: list[_Document]) -> Iterator[errors.Problem]:
    seen: dict[str, _At] = {}
    for document, index, ruleset in _items(documents, "rulesets"):
        external_id = _text(ruleset.get("external_id"))
        path: PathParts = ("rulesets", index)
        if external_id is not None and model.is_reserved(external_id):
            yield _problem(
                document,
                (*path, "external_id"),
                f"external ids starting with {model.RESERVED_PREFIX!r} are reserved for "
                "boldrules' own bookkeeping in the shop (ownership record, apply lock): "
                "choose another external_id",
            )
        elif external_id is not None:
            if external_id in seen:
                yield _problem(
                    document,
                    path,
                    f"declared twice (first at {seen[external_id]})",
                    at=(*path, "external_id"),
                )
            else:
                seen[external_id] = _at(document, (*path, "external_id"))
        rules = ruleset.get("rules")
        rule_ids: dict[str, int] = {}
        for rule_index, rule in enumerate(rules if isinstance(rules, list) else []):
            rule_id = _text(rule.get("external_id")) if isinstance(rule, dict) else None
            if rule_id is None:
                continue
            rule_path = (*path, "rules", rule_index, "external_id")
            if rule_id in rule_ids:
                first_path = (*path, "rules", rule_ids[rule_id], "external_id")
                first_line = sources.locate(document.marked, first_path)[0]
                yield _problem(
                    document,
                    (*path, "rules", rule_index),
                    f"external_id {rule_id!r} is used twice in this ruleset "
                    f"(first at line {first_line})",
                    at=rule_path,
                )
            else:
                rule_ids[rule_id] = rule_index


def _adopt_problems(documents: list[_Document]) -> Iterator[errors.Problem]:
    """An ``adopt`` hint names declared rules, and no live object is adopted twice."""
    seen: dict[tuple[str, int], _At] = {}
    for document, index, ruleset in _items(documents, "rulesets"):
        adopt = ruleset.get("adopt")
        if not isinstance(adopt, dict):
            continue
        path: PathParts = ("rulesets", index, "adopt")
        shop, server_id = _text(adopt.get("shop")), adopt.get("id")
        if shop is not None and isinstance(server_id, int):
            if (shop, server_id) in seen:
                yield _problem(
                    document,
                    (*path, "id"),
                    f"ruleset {server_id} of shop {shop} is already adopted at "
                    f"{seen[shop, server_id]}; one live ruleset can become only one declaration",
                )
            else:
                seen[shop, server_id] = _at(document, (*path, "id"))
        rules = ruleset.get("rules")
        declared = {
            rule.get("external_id")
            for rule in (rules if isinstance(rules, list) else [])
            if isinstance(rule, dict)
        }
        hints = adopt.get("rules")
        first_name: dict[Any, str] = {}
        for name, rule_id in hints.items() if isinstance(hints, dict) else []:
            if name not in declared:
                yield _problem(
                    document,
                    (*path, "rules", name),
                    f"{name!r} is not the external_id of a rule of this ruleset; adopt.rules "
                    "names rules declared under rules",
                )
            if rule_id in first_name:
                yield _problem(
                    document,
                    (*path, "rules", name),
                    f"rule {rule_id} is already adopted by {first_name[rule_id]!r}",
                )
            else:
                first_name[rule_id] = name


def _field_names(field_set: Any) -> tuple[str, ...]:
    return tuple(sorted(str(name) for name in field_set)) if isinstance(field_set, dict) else ()


def _short(fields: tuple[str, ...]) -> str:
    return ", ".join(name.removeprefix(_FIELD_PREFIX) for name in fields) or "nothing"


def _order_condition_problems(documents: list[_Document]) -> Iterator[errors.Problem]:
    seen: dict[tuple[str, str], _At] = {}
    groups: dict[str, tuple[tuple[str, ...], _Document, PathParts]] = {}
    for document, index, condition in _items(documents, "order_conditions"):
        path: PathParts = ("order_conditions", index)
        name, value = _text(condition.get("name")), _text(condition.get("value"))
        if name is not None and value is not None:
            if (name, value) in seen:
                yield _problem(document, path, f"declared twice (first at {seen[name, value]})")
            else:
                seen[name, value] = _at(document, path)
        field_sets = condition.get("field_sets")
        if not isinstance(field_sets, list):
            continue
        for set_index, field_set in enumerate(field_sets):
            set_path = (*path, "field_sets", set_index)
            if not isinstance(field_set, dict) or not field_set:
                continue
            earlier = [i for i in range(set_index) if field_sets[i] == field_set]
            if earlier:
                yield _problem(document, set_path, f"the same as field_sets[{earlier[0]}]")
            if name is None:
                continue
            fields = _field_names(field_set)
            if name not in groups:
                groups[name] = (fields, document, set_path)
            elif groups[name][0] != fields:
                reference, first, first_path = groups[name]
                head = sources.path_text(first.data, first_path, describe)
                where = f"{head} ({_at(first, first_path)})"
                yield _problem(
                    document,
                    set_path,
                    f"tests {_short(fields)} but {where} tests {_short(reference)}: every order "
                    f"condition named {name} must test the same fields",
                )


def _discount_code_problems(documents: list[_Document]) -> Iterator[errors.Problem]:
    seen: dict[str, tuple[str, _At]] = {}
    for document, index, entry in _items(documents, "discount_codes"):
        codes = entry.get("codes")
        in_entry: dict[str, str] = {}
        for code_index, code in enumerate(codes if isinstance(codes, list) else []):
            if not _text(code):
                continue
            path = ("discount_codes", index, "codes", code_index)
            folded = code.casefold()
            if folded in in_entry:
                same = (
                    ""
                    if in_entry[folded] == code
                    else f" (as {in_entry[folded]!r}; case is ignored)"
                )
                yield _problem(document, path, f"{code!r} appears twice in this list{same}")
                continue
            in_entry[folded] = code
            if folded in seen:
                first, where = seen[folded]
                same = (
                    "" if first == code else f" as {first!r} (codes are unique regardless of case)"
                )
                yield _problem(document, path, f"{code!r} is already declared{same} at {where}")
            else:
                seen[folded] = (code, _at(document, path))


def _reference_problems(documents: list[_Document]) -> Iterator[errors.Problem]:
    declared: dict[str, set[str]] = {}
    for _, _, condition in _items(documents, "order_conditions"):
        name, value = _text(condition.get("name")), _text(condition.get("value"))
        if name is not None and value is not None:
            declared.setdefault(name, set()).add(value)
    for document, index, ruleset in _items(documents, "rulesets"):
        rules = ruleset.get("rules")
        for rule_index, rule in enumerate(rules if isinstance(rules, list) else []):
            conditions = rule.get("conditions") if isinstance(rule, dict) else None
            for cond_index, condition in enumerate(
                conditions if isinstance(conditions, list) else []
            ):
                if not isinstance(condition, dict) or condition.get("type") != "ORDER_CONDITION":
                    continue
                name, value = _text(condition.get("name")), condition.get("value")
                if name is None or not isinstance(value, str) or value in declared.get(name, ()):
                    continue
                known = declared.get(name)
                hint = (
                    f"{name} has {', '.join(sorted(known))}"
                    if known
                    else "declare it under order_conditions"
                )
                yield _problem(
                    document,
                    ("rulesets", index, "rules", rule_index, "conditions", cond_index),
                    f"order condition {name}={value} is not declared in any manifest ({hint})",
                )


def _selections(
    list_name: str, item: Mapping[str, Any], path: PathParts
) -> Iterator[tuple[PathParts, Any]]:
    """Every product selection in a ruleset (its rules' conditions too) or discount code entry."""
    yield (*path, "product_selection"), item.get("product_selection")
    rules = item.get("rules") if list_name == "rulesets" else [item]
    for rule_index, holder in enumerate(rules if isinstance(rules, list) else []):
        base = (*path, "rules", rule_index) if list_name == "rulesets" else path
        conditions = holder.get("conditions") if isinstance(holder, dict) else None
        for index, condition in enumerate(conditions if isinstance(conditions, list) else []):
            if isinstance(condition, dict) and "buy_product_selection" in condition:
                yield (
                    (*base, "conditions", index, "buy_product_selection"),
                    condition["buy_product_selection"],
                )


def _selection_problems(documents: list[_Document]) -> Iterator[errors.Problem]:
    """A product selection takes one filter (contract §5.3): two would be ambiguous."""
    for list_name in ("rulesets", "discount_codes"):
        for document, index, item in _items(documents, list_name):
            for path, selection in _selections(list_name, item, (list_name, index)):
                if not isinstance(selection, dict):
                    continue
                given = [name for name in model.SELECTION_FILTERS if name in selection]
                if len(given) > 1:
                    names = ", ".join(given[:-1]) + f" and {given[-1]}"
                    yield _problem(
                        document,
                        path,
                        f"a product selection takes one filter; got {names}: keep one",
                        at=(*path, given[1]),
                    )


#: Whole numbers JSON carries exactly everywhere (JavaScript's safe integers): meta is free-form,
#: so this is the only range it can be held to.
SAFE_INTEGER = 2**53


def _meta_problems(documents: list[_Document]) -> Iterator[errors.Problem]:
    """Whole numbers in a rule's free-form ``meta`` that JSON cannot carry exactly."""
    for document, index, ruleset in _items(documents, "rulesets"):
        rules = ruleset.get("rules")
        for rule_index, rule in enumerate(rules if isinstance(rules, list) else []):
            meta = rule.get("meta") if isinstance(rule, dict) else None
            base = ("rulesets", index, "rules", rule_index, "meta")
            for path, value in _numbers(meta, base):
                if isinstance(value, int) and abs(value) > SAFE_INTEGER:
                    yield _problem(
                        document,
                        path,
                        f"{sources.shown(value)} is too large for the API: whole numbers here "
                        f"lie within ±{SAFE_INTEGER} (quote it to keep it as text)",
                    )


def _numbers(value: Any, path: PathParts) -> Iterator[tuple[PathParts, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, key))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _numbers(item, (*path, position))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path, value


def _date_problems(
    document: _Document, path: PathParts, item: Mapping[str, Any]
) -> list[errors.Problem]:
    start, expiry = item.get("start_date"), item.get("expiry_date")
    if not isinstance(start, str) or not isinstance(expiry, str):
        return []
    start_at, expiry_at = instants.parse_strict(start), instants.parse_strict(expiry)
    if start_at is None or expiry_at is None or expiry_at > start_at:
        return []
    return [_problem(document, (*path, "expiry_date"), f"{expiry} is not after start_date {start}")]


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


def _declared(documents: list[_Document]) -> Iterator[Declared]:
    for document, index, ruleset in _items(documents, "rulesets"):
        yield Declared(
            model.ruleset_key(ruleset["external_id"]),
            document.plain(ruleset),
            model.Origin(document.file, *document.position(("rulesets", index))),
            locate=_locator(document, ("rulesets", index)),
        )
    for document, index, condition in _items(documents, "order_conditions"):
        yield Declared(
            model.order_condition_key(condition["name"], condition["value"]),
            document.plain(condition),
            model.Origin(document.file, *document.position(("order_conditions", index))),
            locate=_locator(document, ("order_conditions", index)),
        )
    listed = _items(documents, "discount_codes")
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
