"""Careful reading of YAML sources, and JSON Schema errors as readable, located lines.

Owns:

* the rule that boldrules reads only files inside the project folder (``inside``): links are
  followed and checked, a link leading out is refused and never read, ``.git`` is never read.
  Every file boldrules reads (project file, manifests, template includes, and any later kind
  such as sample carts) goes through ``read_source(path, root=project.root)``, which applies it;
* reading a YAML source safely (``read_source``, ``parse_yaml``): bounded size, UTF-8 only, no
  implicit timestamps, duplicate keys reported, alias bombs refused, and every mapping and list
  remembering the 1-based line and column of each of its children (``MarkedDict``,
  ``MarkedList``), so a later check can point at the exact node;
* turning JSON Schema errors into readable, located ``errors.Problem`` lines (``schema_problems``);
* the validators of the shipped schemas (``validator_for``; ``schema.py`` reads the files).

The project file and the manifests both go through here. It must not know either format.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import jsonschema.exceptions  # type: ignore[import-untyped]
import jsonschema_rs
import yaml
import yaml.nodes
import yaml.reader

from reconciler import errors, instants, redact, schema

#: Files bigger than this are refused before they are read. A file of 10,000 rulesets of five
#: rules is about 12 MB; 64 MiB leaves room for 50,000 while bounding what one file may cost.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Nodes a document may hold once every alias is expanded (the billion-laughs guard).
MAX_NODES = 500_000
#: Nesting a document may reach, aliases expanded; manifests are a handful of levels deep.
MAX_DEPTH = 64

Position = tuple[int, int]
PathPart = str | int


# --------------------------------------------------------------------------------------------
# YAML with positions
# --------------------------------------------------------------------------------------------


class MarkedDict(dict[Any, Any]):
    """A mapping that remembers where it, each key and each value start (1-based)."""

    def __init__(self, mark: Position = (1, 1)) -> None:
        super().__init__()
        self.mark = mark
        self.key_marks: dict[Any, Position] = {}
        self.value_marks: dict[Any, Position] = {}
        self.duplicates: list[tuple[Any, Position, Position]] = []
        """Keys given twice: (key, where the repeat is, where the first one is)."""
        self.written: dict[Any, str] = {}
        """The text written for each true/false value (``yes``, ``on``), for messages."""


class MarkedList(list[Any]):
    """A list that remembers where it and each item start (1-based)."""

    def __init__(self, mark: Position = (1, 1)) -> None:
        super().__init__()
        self.mark = mark
        self.item_marks: list[Position] = []
        self.written: dict[int, str] = {}
        """The text written for each true/false item (``yes``, ``on``), for messages."""


class SourceError(Exception):
    """A source that cannot be read or parsed; carries the position to report."""

    def __init__(self, message: str, position: Position = (1, 1)) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _pos(mark: yaml.Mark) -> Position:
    return (mark.line + 1, mark.column + 1)


class MarkedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with positions kept, timestamps left as text and limits enforced."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self.node_limit = node_limit(stream)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # The composer recurses per level: stopping here keeps a deep document from reaching
        # Python's recursion limit and bounds the work of everything that walks it later.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise SourceError(f"nested deeper than {MAX_DEPTH} levels", _pos(event.start_mark))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set(), 0, self.node_limit)
        return self.construct_document(node)


# Dates stay the RFC 3339 strings written: the API takes strings, and state.py compares instants.
MarkedLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _expanded_size(
    node: yaml.Node, memo: dict[int, tuple[int, int]], active: set[int], depth: int, limit: int
) -> tuple[int, int]:
    """(nodes, height) of ``node`` with aliases expanded; refuses bombs and self-reference."""
    if depth >= MAX_DEPTH:  # a node at depth 64 is the 65th level
        raise SourceError(f"nested deeper than {MAX_DEPTH} levels", _pos(node.start_mark))
    ident = id(node)
    if ident in memo:
        size, height = memo[ident]
    else:
        if ident in active:
            raise SourceError("an alias refers to a node that contains it", _pos(node.start_mark))
        active.add(ident)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                children += (key, value)
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        size, height = 1, 0
        for child in children:
            child_size, child_height = _expanded_size(child, memo, active, depth + 1, limit)
            size += child_size
            height = max(height, child_height + 1)
            if size > limit:
                break
        active.discard(ident)
        memo[ident] = (size, height)
    if size > limit:
        raise SourceError(
            f"the document expands to more than {MAX_NODES} nodes (aliases repeated?): refused",
            _pos(node.start_mark),
        )
    if depth + height > MAX_DEPTH:
        raise SourceError(f"nested deeper than {MAX_DEPTH} levels", _pos(node.start_mark))
    return size, height


_BOOL_TAG = "tag:yaml.org,2002:bool"


def _construct_mapping(loader: MarkedLoader, node: yaml.MappingNode) -> Iterator[MarkedDict]:
    data = MarkedDict(_pos(node.start_mark))
    yield data
    # Merge keys (<<) are expanded first; only keys written in this mapping count as repeats.
    own = {id(key) for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"}
    loader.flatten_mapping(node)
    first_seen: dict[Any, Position] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        where = _pos(key_node.start_mark)
        if not isinstance(key, str):
            # Keys are names (JSON has no others): keep the text written, so `1:` and `true:`
            # stay distinct instead of colliding as Python's 1 == True.
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError("a mapping key must be a plain value", where)
            key = str(key_node.value)
        if id(key_node) in own:
            if key in first_seen:
                data.duplicates.append((key, where, first_seen[key]))
            first_seen.setdefault(key, where)
        data[key] = loader.construct_object(value_node)
        if value_node.tag == _BOOL_TAG:
            data.written[key] = str(value_node.value)
        data.key_marks[key] = where
        data.value_marks[key] = _pos(value_node.start_mark)


def _construct_sequence(loader: MarkedLoader, node: yaml.SequenceNode) -> Iterator[MarkedList]:
    data = MarkedList(_pos(node.start_mark))
    data.item_marks = [_pos(child.start_mark) for child in node.value]
    data.written = {
        index: str(child.value) for index, child in enumerate(node.value) if child.tag == _BOOL_TAG
    }
    yield data
    data.extend(loader.construct_object(child) for child in node.value)


MarkedLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
MarkedLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


class _FastMarkedLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same loader over libyaml's C parser: ten times faster on large manifests.

    Only the scanning and composing are in C (libyaml refuses nesting past 1000 levels itself);
    limits, positions and construction are the same Python code as MarkedLoader's. Any parse
    error is re-raised by parsing again with MarkedLoader, so messages stay PyYAML's own.
    """

    yaml_constructors = MarkedLoader.yaml_constructors
    yaml_implicit_resolvers = MarkedLoader.yaml_implicit_resolvers

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.node_limit = node_limit(stream)

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set(), 0, self.node_limit)
        return self.construct_document(node)


_HAVE_LIBYAML = hasattr(yaml, "CSafeLoader")


# --------------------------------------------------------------------------------------------
# The quick path: libyaml's events straight into plain dicts and lists
# --------------------------------------------------------------------------------------------

# libyaml's C parser; None where PyYAML was built without it (then parse_yaml alone: slower,
# the same results).
_EventParser: Any = getattr(yaml, "CParser", None) or getattr(
    getattr(yaml, "cyaml", None), "CParser", None
)
_CONSTRUCTOR = yaml.SafeLoader("")  # only its construct_yaml_* methods are used: pure functions
_RESOLVERS = MarkedLoader.yaml_implicit_resolvers
_SCALAR_BUILDERS: dict[str, Callable[[yaml.ScalarNode], Any]] = {
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
}


class _Careful(Exception):
    """The quick path met something only the careful loader handles or words well."""


@dataclass(frozen=True)
class PlainDocument:
    """A YAML document read by the quick path: plain data and the positions kept."""

    data: Any
    """dicts, lists and scalars, exactly as ``plain(parse_yaml(text))`` gives."""
    marks: dict[tuple[PathPart, ...], Position]
    """Where the nodes near the top start: every node at most two levels down (the items of
    the top-level lists) and the items of lists two levels further (``a[0].b[1]``); with
    ``every``, where every node starts."""
    key_marks: dict[tuple[PathPart, ...], Position] = field(default_factory=dict)
    """With ``every``: where the key of every mapping entry is written, by the entry's path."""


def _plain_scalar(value: str, cache: dict[str, Any]) -> Any:
    """A plain (unquoted) scalar as PyYAML's safe loader, timestamps off, would read it."""
    if value in cache:
        return cache[value]
    resolvers = _RESOLVERS.get(value[0] if value else "", []) + _RESOLVERS.get(None, [])
    result: Any = value
    for tag, pattern in resolvers:
        if pattern.match(value):
            build = _SCALAR_BUILDERS.get(tag)
            if build is None:  # merge keys, and any tag added to the resolvers later
                raise _Careful(tag)
            result = build(yaml.ScalarNode(tag, value))
            break
    if len(cache) < 100_000:
        cache[value] = result
    return result


def parse_plain(text: str, *, every: bool = False) -> PlainDocument | None:
    """The document in ``text`` as plain data, quickly; None when ``parse_yaml`` must read it.

    Ten times cheaper than ``parse_yaml``: libyaml's C parser yields events, and they become
    dicts and lists directly, with no node tree and no positions except ``marks``. It gives the
    same data ``parse_yaml`` would, or None for every document it does not handle alike: any
    syntax error, control character, explicit tag, merge key, key given twice, key that is not a
    plain value, more than one document, nesting past ``MAX_DEPTH`` or expansion past the node
    limit. Then the caller reads it again with ``parse_yaml``, which says what is wrong, where.

    With ``every``, the positions of every node and key are kept too (``marks``, ``key_marks``):
    what a later check (lint) needs to point at any field, for a fraction of ``parse_yaml``.
    """
    if _EventParser is None or "\x85" in text or "\ufeff" in text:
        # Python's \\s counts U+0085 and U+FEFF as spaces, jsonschema-rs's regex does not: a
        # text holding them is checked by jsonschema alone, so both checks always agree.
        return None
    try:
        yaml.reader.Reader(text)  # control characters: libyaml would not refuse them
    except yaml.reader.ReaderError:
        return None
    parser = _EventParser(text)
    try:
        return _build(parser, text, every=every)
    except (_Careful, yaml.YAMLError):
        return None
    finally:
        parser.dispose()


def _build(parser: Any, text: str, *, every: bool = False) -> PlainDocument | None:
    limit = node_limit(text)
    marks: dict[tuple[PathPart, ...], Position] = {}
    key_marks: dict[tuple[PathPart, ...], Position] = {}
    anchors: dict[str, tuple[Any, int, int]] = {}  # name → (value, nodes expanded, height)
    cache: dict[str, Any] = {}
    # One frame per open collection: [container, path, pending key, nodes, height, anchor, mark]
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0
    total = 0
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    document_start = yaml.DocumentStartEvent
    no_key = _Careful  # a sentinel no key can equal

    def place(value: Any, nodes: int, height: int, mark: yaml.Mark) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        frame = stack[-1]
        container = frame[0]
        frame[3] += nodes
        if height + 1 > frame[4]:
            frame[4] = height + 1
        if type(container) is list:
            path = (*frame[1], len(container))
            container.append(value)
        else:
            key = frame[2]
            if key is no_key:  # this value is a key
                if nodes != 1 or height:
                    raise _Careful("a key that is not a plain value")
                if not isinstance(value, str):
                    raise _Careful("a key that is not text")  # the careful path keeps its text
                if value in container:
                    raise _Careful("a key given twice")
                frame[2] = value
                if every:
                    key_marks[(*frame[1], value)] = (mark.line + 1, mark.column + 1)
                return
            path = (*frame[1], key)
            container[key] = value
            frame[2] = no_key
        depth = len(path)
        if every or depth <= 2 or (depth == 4 and type(path[3]) is int):
            marks[path] = (mark.line + 1, mark.column + 1)

    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is scalar_event:
            if event.tag is not None and event.tag != "!":
                raise _Careful("an explicit tag")
            if len(stack) >= MAX_DEPTH:
                raise _Careful("nested too deep")
            value = event.value
            if event.implicit[0]:
                value = _plain_scalar(value, cache)
                if type(value) is float and not math.isfinite(value):
                    raise _Careful(".inf or .nan")  # schema_problems words these
            if event.anchor is not None:
                if event.anchor in anchors:
                    raise _Careful("an anchor defined twice")
                anchors[event.anchor] = (value, 1, 0)
            total += 1
            place(value, 1, 0, event.start_mark)
        elif kind is mapping_start or kind is sequence_start:
            if event.tag is not None and event.tag != "!":
                raise _Careful("an explicit tag")
            if len(stack) >= MAX_DEPTH:
                raise _Careful("nested too deep")
            total += 1
            path = stack[-1][1] if stack else ()
            if stack:
                frame = stack[-1]
                if type(frame[0]) is list:
                    path = (*path, len(frame[0]))
                elif frame[2] is no_key:
                    raise _Careful("a key that is not a plain value")
                else:
                    path = (*path, frame[2])
            container: Any = {} if kind is mapping_start else []
            stack.append([container, path, no_key, 1, 0, event.anchor, event.start_mark])
        elif kind is mapping_end or kind is sequence_end:
            container, _, _, nodes, height, anchor, mark = stack.pop()
            if anchor is not None:
                if anchor in anchors:
                    raise _Careful("an anchor defined twice")
                anchors[anchor] = (container, nodes, height)
            place(container, nodes, height, mark)
        elif kind is alias_event:
            if event.anchor not in anchors:
                raise _Careful("an alias to a node that contains it, or to no node")
            value, nodes, height = anchors[event.anchor]
            total += nodes
            if total > limit or len(stack) + height >= MAX_DEPTH:
                raise _Careful("expands too far")
            place(value, nodes, height, event.start_mark)
        elif kind is document_start:
            documents += 1
            if documents > 1:
                raise _Careful("more than one document")
        elif kind is yaml.StreamEndEvent:
            break
        if total > limit:
            raise _Careful("too many nodes")
    return PlainDocument(root, marks, key_marks)


def node_limit(text: str) -> int:
    """Nodes a document may hold once aliases are expanded: ``MAX_NODES`` beyond its length.

    A written node takes at least a character, so an honest file of any size stays under it,
    while aliases cannot multiply a small text past it (the billion-laughs guard).
    """
    return MAX_NODES + len(text)


_ADVICE = "boldrules reads only files inside the folder holding boldrules.yaml"


def inside(root: Path, path: Path, *, advice: str = f"{_ADVICE}; copy the file in instead") -> Path:
    """``path`` with every link followed, checked to lie inside ``root``; SourceError if not.

    Every file boldrules reads goes through here (``read_source`` calls it): a pull request
    is untrusted input, and a committed link to ``/proc/self/environ`` or ``/etc/passwd``
    must be refused, never followed. A link to a file inside the project is fine. Files under
    ``.git`` are refused too: they can hold the CI's credentials.
    """
    top = root.resolve()
    try:
        resolved = path.resolve(strict=False)
    except (OSError, RuntimeError):  # a loop of links
        raise SourceError("is a link that leads back to itself: remove the link") from None
    if not resolved.is_relative_to(top):
        link = _link_out(root, path, top)
        if link is not None:
            target = redact.excerpt(os.readlink(link), 100)
            where = "" if link == path else f" ({link.name} is a link)"
            raise SourceError(
                f"is a link to '{target}', outside the project folder{where}: {advice}"
            )
        raise SourceError(f"is outside the project folder: {_ADVICE}")
    if ".git" in resolved.relative_to(top).parts:
        raise SourceError("is inside .git: boldrules does not read git's own files")
    return resolved


def _link_out(root: Path, path: Path, top: Path) -> Path | None:
    """The first symbolic link on the way from ``root`` to ``path`` that leads out of ``top``."""
    try:
        current, parts = root, path.relative_to(root).parts
    except ValueError:
        current, parts = Path(path.anchor), path.parts[1:]
    for part in parts:
        current = current / part
        if current.is_symlink() and not current.resolve().is_relative_to(top):
            return current
    return None


def read_source(path: Path, *, root: Path) -> str:
    """The text of ``path``, a file inside ``root``: at most ``MAX_FILE_BYTES``, UTF-8.

    Raises SourceError saying what is wrong: outside ``root`` (links followed), not a regular
    file, too big, unreadable, not UTF-8.
    """
    resolved = inside(root, path)
    try:
        mode = resolved.stat().st_mode
        if stat.S_ISDIR(mode):
            raise SourceError("is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise SourceError("is not a regular file (a device, pipe or socket): refused")
        size = resolved.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(
                f"file is {size / 1024 / 1024:.1f} MiB, over the {MAX_FILE_BYTES // 1024 // 1024} "
                "MiB limit: split it into several files"
            )
        with resolved.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)  # bounded even if the file grew meanwhile
    except FileNotFoundError:
        raise SourceError("no such file (a broken link?)") from None
    except PermissionError:
        raise SourceError("cannot read the file: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SourceError(
            f"file is over the {MAX_FILE_BYTES // 1024 // 1024} MiB limit: split it into "
            "several files"
        )
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x}): save the file as UTF-8", (line, column)
        ) from None


def parse_yaml(text: str) -> Any:
    """Parse one YAML document into MarkedDict/MarkedList/scalars; None when it holds nothing."""
    if _HAVE_LIBYAML:
        try:
            yaml.reader.Reader(text)  # control characters: libyaml would not refuse them
        except yaml.reader.ReaderError:
            pass  # MarkedLoader below reports it with its position
        else:
            fast = _FastMarkedLoader(text)
            try:
                return fast.get_single_data()
            except yaml.YAMLError:
                pass  # parse again below for PyYAML's own located message
            finally:
                fast.dispose()
    try:
        loader = MarkedLoader(text)
    except yaml.reader.ReaderError as exc:  # checked up front for a whole string
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SourceError(
            f"invalid YAML: control character #x{exc.character:04x} is not allowed", (line, column)
        ) from None
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = str(exc.problem or exc.context or "cannot parse")
        if exc.context and exc.problem:
            what = f"{exc.context}: {exc.problem}"
        raise SourceError(
            f"invalid YAML: {what}{_yaml_hint(what)}", _pos(mark) if mark else (1, 1)
        ) from None
    except yaml.YAMLError as exc:  # reader errors (control characters) carry no mark
        raise SourceError(f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _yaml_hint(what: str) -> str:
    # PyYAML speaks of tokens; most of these come from one mistake a reader can act on.
    if "'\\t'" in what:
        return " (indent with spaces: YAML does not allow tabs)"
    if "<block end>" in what or "mapping values are not allowed" in what:
        return " (check the indentation)"
    return ""


def plain(data: Any) -> Any:
    """``data`` with every MarkedDict/MarkedList turned into a plain dict/list."""
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [plain(item) for item in data]
    return data


def remap_lines(node: Any, line_of: Callable[[int], int]) -> None:
    """Rewrite every position in a parsed document through ``line_of`` (a template's line map)."""

    def moved(position: Position) -> Position:
        return (line_of(position[0]), position[1])

    if isinstance(node, MarkedDict):
        node.mark = moved(node.mark)
        node.key_marks = {k: moved(v) for k, v in node.key_marks.items()}
        node.value_marks = {k: moved(v) for k, v in node.value_marks.items()}
        node.duplicates = [(k, moved(a), moved(b)) for k, a, b in node.duplicates]
        for value in node.values():
            remap_lines(value, line_of)
    elif isinstance(node, MarkedList):
        node.mark = moved(node.mark)
        node.item_marks = [moved(v) for v in node.item_marks]
        for value in node:
            remap_lines(value, line_of)


def locate(document: Any, path: Sequence[PathPart], *, key: bool = False) -> Position:
    """Where the node at ``path`` starts (its key, when ``key``), or its nearest parent."""
    node, where = document, getattr(document, "mark", (1, 1))
    for index, part in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, MarkedDict) and part in node:
            where = node.key_marks[part] if key and last else node.value_marks[part]
            node = node[part]
        elif isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            where = node.item_marks[part]
            node = node[part]
        else:
            break
    return where


def duplicate_keys(
    document: Any, path: tuple[PathPart, ...] = ()
) -> Iterator[tuple[tuple[PathPart, ...], Any, Position, Position]]:
    """Every key given twice in one mapping: (path of the mapping, key, repeat, first)."""
    if isinstance(document, MarkedDict):
        for key, repeat, first in document.duplicates:
            yield path, key, repeat, first
        for key, value in document.items():
            yield from duplicate_keys(value, (*path, key))
    elif isinstance(document, MarkedList):
        for index, item in enumerate(document):
            yield from duplicate_keys(item, (*path, index))


# --------------------------------------------------------------------------------------------
# JSON Schema → readable problems
# --------------------------------------------------------------------------------------------


def _format_checker() -> jsonschema.FormatChecker:
    # Our own date-time check, so that format checking does not depend on which optional
    # jsonschema extras happen to be installed.
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(
        lambda value: not isinstance(value, str) or bool(instants.parse_strict(value))
    )
    return checker


@cache
def validator_for(schema_name: str) -> jsonschema.Draft202012Validator:
    """A checked, format-checking validator for ``schemas/<schema_name>``."""
    document = schema.document(schema_name)
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document, format_checker=_format_checker())


@cache
def _quick_validator_for(schema_name: str) -> jsonschema_rs.Validator:
    validator_for(schema_name)  # the schema is checked once, by the validator that words errors
    return jsonschema_rs.validator_for(
        dict(schema.document(schema_name)),
        formats={"date-time": lambda value: bool(instants.parse_strict(value))},
        validate_formats=True,
    )


def conforms(schema_name: str, document: Any) -> bool:
    """Whether plain ``document`` breaks nothing in ``schemas/<schema_name>``: the quick check.

    jsonschema-rs answers a hundred times faster than ``schema_problems`` (issue 16: 26 ms
    against 2.4 s for 1,000 rulesets), with the same date-time check; only a document it
    finds fault with needs ``schema_problems`` to say what and where. Non-finite numbers are
    not its to judge: ``parse_plain`` leaves documents holding them to ``parse_yaml``.
    """
    return bool(_quick_validator_for(schema_name).is_valid(document))


_TYPE_NAMES = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "boolean": "true or false",
    "null": "null",
}


def shown(value: Any) -> str:
    """A value as a reader wrote it in YAML: ``true``, ``'text'``, ``12``.

    Text is quoted as a short excerpt (``redact.excerpt``: 40 characters at most, secrets
    blanked, control characters escaped): an error message never repeats a whole value.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{redact.excerpt(value)}'"
    return redact.excerpt(str(value))


def written(document: Any, path: Sequence[PathPart]) -> str | None:
    """The text written in YAML for the true/false value at ``path`` (``yes``), if known."""
    node: Any = document
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    table = getattr(node, "written", None)
    return table.get(path[-1]) if isinstance(table, dict) and path else None


def _type_message(error: jsonschema.exceptions.ValidationError, document: Any = None) -> str:
    wanted = (
        error.validator_value
        if isinstance(error.validator_value, list)
        else [error.validator_value]
    )
    expected = " or ".join(_TYPE_NAMES.get(str(name), str(name)) for name in wanted)
    got, instance = shown(error.instance), error.instance
    message = f"expected {expected}, got {got}"
    if "string" in wanted and isinstance(instance, bool):
        text = written(document, tuple(error.absolute_path)) or "yes/no/on/off"
        message = f"expected {expected}, got the boolean {got}"
        if text != got:
            message += f" — YAML reads {redact.excerpt(text)} as {got}: quote it"
        else:
            message += ": quote it if you mean the text"
    elif "string" in wanted and isinstance(instance, int | float):
        message += " (quote it: this field is text)"
    return message


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _messages(
    error: jsonschema.exceptions.ValidationError, document: Any = None
) -> Iterator[tuple[tuple[PathPart, ...], bool, str]]:
    """(path, point at the key?, message) for one schema error; several for several keys."""
    path = tuple(error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance
    hint = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if hint and kind in ("required", "not", "dependentRequired", "anyOf"):
        yield path, False, str(hint)
    elif kind == "additionalProperties" and isinstance(instance, dict):
        known = list(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        for name in instance:
            if name in known or any(re.search(p, str(name)) for p in patterns):
                continue
            yield (
                (*path, name),
                True,
                f"unknown field {shown(str(name))}{_suggest(str(name), known)}",
            )
    elif kind == "required" and isinstance(instance, dict):
        for name in value:
            if name not in instance:
                yield path, False, f"missing required field {name!r}"
    elif kind == "dependentRequired" and isinstance(instance, dict):
        for trigger, needed in value.items():
            for name in needed:
                if trigger in instance and name not in instance:
                    yield path, False, f"missing required field {name!r} (needed with {trigger!r})"
    elif kind in ("enum", "const"):
        choices = [str(c) for c in (value if kind == "enum" else [value])]
        # Short lists read best in full; a long one (rule types) only helps with a suggestion.
        suggestion = _suggest(str(instance), choices) if isinstance(instance, str) else ""
        if suggestion and len(choices) > 6:
            yield path, False, f"{shown(instance)} is not allowed{suggestion}"
        else:
            yield path, False, f"{shown(instance)} is not allowed: use one of {', '.join(choices)}"
    elif kind == "type":
        yield path, False, _type_message(error, document)
    elif kind == "maxLength":
        yield path, False, f"is {len(instance)} characters long, over the limit of {value}"
    elif kind == "minLength":
        yield (
            path,
            False,
            "must not be empty" if value == 1 else f"must be at least {value} characters",
        )
    elif kind == "maxItems":
        yield path, False, f"has {len(instance)} items, over the limit of {value}"
    elif kind in ("minItems", "minProperties"):
        yield path, False, "must not be empty" if value == 1 else f"needs at least {value} entries"
    elif kind == "maxProperties":
        yield path, False, f"has {len(instance)} entries, over the limit of {value}"
    elif kind == "minimum":
        yield path, False, f"{shown(instance)} is less than the minimum of {value}"
    elif kind == "maximum":
        yield path, False, f"{shown(instance)} is greater than the maximum of {value}"
    elif kind == "exclusiveMinimum":
        yield path, False, f"must be more than {value}, got {shown(instance)}"
    elif kind == "format" and value == "date-time":
        yield (
            path,
            False,
            (f"{shown(instance)} is not an RFC 3339 date-time such as 2026-03-01T00:00:00Z"),
        )
    elif kind == "pattern":
        what = error.schema.get("x-pattern-hint", f"match {value}")
        yield path, False, f"{shown(instance)} must {what}"
    elif kind == "uniqueItems":
        yield path, False, "has the same item twice"
    elif kind in ("anyOf", "oneOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        yield from _messages(best, document)
    elif kind == "not":
        yield path, False, "is not allowed here"
    else:  # minimum, maximum, exclusive bounds and the rest already read well
        yield path, False, errors.cut(error.message, 200)


def schema_problems(
    schema_name: str,
    document: Any,
    *,
    file: str,
    describe: Callable[[Any, tuple[PathPart, ...]], tuple[str, tuple[PathPart, ...]]],
) -> list[errors.Problem]:
    """Every way ``document`` breaks ``schemas/<schema_name>``, one located Problem each.

    ``describe(document, path)`` names the object a path falls in and the rest of the path,
    e.g. ``("ruleset spring-sale > rules[gold]", ("actions", 0, "value"))``.
    """
    problems: set[errors.Problem] = set()
    odd = dict(non_finite(document))
    for path, text in odd.items():
        line, column = locate(document, path)
        problems.add(
            errors.Problem(
                file,
                line,
                column,
                path_text(document, path, describe),
                f"{text} is not a number the API can hold: give a finite number",
            )
        )
    for error in _one_per_field(validator_for(schema_name).iter_errors(plain(document))):
        if tuple(error.absolute_path) in odd:
            continue  # said once above, in words that name the real problem
        for path, at_key, message in _messages(error, document):
            line, column = locate(document, path, key=at_key)
            shown_path = path[:-1] if at_key else path
            problems.add(
                errors.Problem(
                    file, line, column, path_text(document, shown_path, describe), message
                )
            )
    return sorted(problems)


def _one_per_field(
    found: Iterator[jsonschema.exceptions.ValidationError],
) -> list[jsonschema.exceptions.ValidationError]:
    """Schema errors with one type error and one bound per field: the tightest, said once.

    A field under two subschemas (``value`` of a condition is a string or a number, and a
    string for this type) would otherwise be reported twice in two wordings.
    """
    kept: dict[tuple[Any, ...], jsonschema.exceptions.ValidationError] = {}
    rest: list[jsonschema.exceptions.ValidationError] = []
    for error in found:
        kind = error.validator
        if kind not in ("type", "minimum", "maximum"):
            rest.append(error)
            continue
        key = (kind, *error.absolute_path)
        other = kept.get(key)
        if other is None or _tighter(error, other):
            kept[key] = error
    return rest + list(kept.values())


def _tighter(
    error: jsonschema.exceptions.ValidationError, other: jsonschema.exceptions.ValidationError
) -> bool:
    value, before = error.validator_value, other.validator_value
    if error.validator == "type":
        count = len(value) if isinstance(value, list) else 1
        return count < (len(before) if isinstance(before, list) else 1)
    if error.validator == "minimum":
        return bool(value > before)
    return bool(value < before)


def non_finite(
    document: Any, path: tuple[PathPart, ...] = ()
) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    """Every infinite or not-a-number value (YAML ``.inf``, ``.nan``), as written in YAML.

    JSON cannot carry them, and JSON Schema's bounds cannot catch ``.nan`` (it compares as
    neither more nor less than anything), so they are found here for every format.
    """
    if isinstance(document, float) and not math.isfinite(document):
        yield path, ".nan" if math.isnan(document) else (".inf" if document > 0 else "-.inf")
    elif isinstance(document, dict):
        for key, value in document.items():
            yield from non_finite(value, (*path, key))
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from non_finite(item, (*path, index))


def path_text(
    document: Any,
    path: tuple[PathPart, ...],
    describe: Callable[[Any, tuple[PathPart, ...]], tuple[str, tuple[PathPart, ...]]],
) -> str:
    """``head > rest``: the object ``describe`` names, then the rest as ``a[0].b``."""
    head, rest = describe(document, path)
    tail = dotted(rest)
    return f"{head} > {tail}" if head and tail else head or tail


def dotted(path: Sequence[PathPart]) -> str:
    """``("actions", 0, "value")`` → ``actions[0].value``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
