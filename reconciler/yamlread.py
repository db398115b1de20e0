"""YAML read carefully: every node with its position, alias bombs and deep nesting refused.

Owns reading one YAML document the careful way (``parse_yaml``): no implicit timestamps (dates
stay the text written), duplicate keys recorded, alias bombs refused (``MAX_NODES`` beyond the
text's length, ``node_limit``), nesting bounded (``MAX_DEPTH``), and every mapping and list
remembering the 1-based line and column of each of its children (``MarkedDict``,
``MarkedList``), so a later check can point at the exact node (``locate``, ``duplicate_keys``,
``written``, ``remap_lines``; ``leaves`` walks any document); a parse error is PyYAML's own
located message, in words. libyaml scans and composes when it is there; the limits, positions
and construction are Python's.

``yamlquick`` is the quick path over the same rules; ``sources`` reads the text.
It must not know any format (project file, manifest, cart).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import yaml
import yaml.nodes
import yaml.reader

from reconciler import sources

#: Nodes a document may hold once every alias is expanded (the billion-laughs guard).
MAX_NODES = 500_000
#: Nesting a document may reach, aliases expanded; manifests are a handful of levels deep.
MAX_DEPTH = 64

PathPart = str | int


class MarkedDict(dict[Any, Any]):
    """A mapping that remembers where it, each key and each value start (1-based)."""

    def __init__(self, mark: sources.Position = (1, 1)) -> None:
        super().__init__()
        self.mark = mark
        self.key_marks: dict[Any, sources.Position] = {}
        self.value_marks: dict[Any, sources.Position] = {}
        self.duplicates: list[tuple[Any, sources.Position, sources.Position]] = []
        """Keys given twice: (key, where the repeat is, where the first one is)."""
        self.written: dict[Any, str] = {}
        """The text written for each true/false value (``yes``, ``on``), for messages."""


class MarkedList(list[Any]):
    """A list that remembers where it and each item start (1-based)."""

    def __init__(self, mark: sources.Position = (1, 1)) -> None:
        super().__init__()
        self.mark = mark
        self.item_marks: list[sources.Position] = []
        self.written: dict[int, str] = {}
        """The text written for each true/false item (``yes``, ``on``), for messages."""


def _pos(mark: yaml.Mark) -> sources.Position:
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
                raise sources.SourceError(
                    f"nested deeper than {MAX_DEPTH} levels", _pos(event.start_mark)
                )
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
        raise sources.SourceError(f"nested deeper than {MAX_DEPTH} levels", _pos(node.start_mark))
    ident = id(node)
    if ident in memo:
        size, height = memo[ident]
    else:
        if ident in active:
            raise sources.SourceError(
                "an alias refers to a node that contains it", _pos(node.start_mark)
            )
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
        raise sources.SourceError(
            f"the document expands to more than {MAX_NODES} nodes (aliases repeated?): refused",
            _pos(node.start_mark),
        )
    if depth + height > MAX_DEPTH:
        raise sources.SourceError(f"nested deeper than {MAX_DEPTH} levels", _pos(node.start_mark))
    return size, height


_BOOL_TAG = "tag:yaml.org,2002:bool"


def _construct_mapping(loader: MarkedLoader, node: yaml.MappingNode) -> Iterator[MarkedDict]:
    data = MarkedDict(_pos(node.start_mark))
    yield data
    # Merge keys (<<) are expanded first; only keys written in this mapping count as repeats.
    own = {id(key) for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"}
    loader.flatten_mapping(node)
    first_seen: dict[Any, sources.Position] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        where = _pos(key_node.start_mark)
        if not isinstance(key, str):
            # Keys are names (JSON has no others): keep the text written, so `1:` and `true:`
            # stay distinct instead of colliding as Python's 1 == True.
            if not isinstance(key_node, yaml.ScalarNode):
                raise sources.SourceError("a mapping key must be a plain value", where)
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

    get_single_data = MarkedLoader.get_single_data


_HAVE_LIBYAML = hasattr(yaml, "CSafeLoader")


def node_limit(text: str) -> int:
    """Nodes a document may hold once aliases are expanded: ``MAX_NODES`` beyond its length.

    A written node takes at least a character, so an honest file of any size stays under it,
    while aliases cannot multiply a small text past it (the billion-laughs guard).
    """
    return MAX_NODES + len(text)


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
        raise sources.SourceError(
            f"invalid YAML: control character #x{exc.character:04x} is not allowed", (line, column)
        ) from None
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = str(exc.problem or exc.context or "cannot parse")
        if exc.context and exc.problem:
            what = f"{exc.context}: {exc.problem}"
        raise sources.SourceError(
            f"invalid YAML: {what}{_yaml_hint(what)}", _pos(mark) if mark else (1, 1)
        ) from None
    except yaml.YAMLError as exc:  # reader errors (control characters) carry no mark
        raise sources.SourceError(f"invalid YAML: {exc}") from None
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

    def moved(position: sources.Position) -> sources.Position:
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


def locate(document: Any, path: Sequence[PathPart], *, key: bool = False) -> sources.Position:
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


def leaves(
    node: Any, path: tuple[PathPart, ...] = ()
) -> Iterator[tuple[tuple[PathPart, ...], Any]]:
    """Every value in ``node`` that is neither a mapping nor a list, with its path."""
    if isinstance(node, dict):
        parts: Any = node.items()
    elif isinstance(node, list):
        parts = enumerate(node)
    else:
        yield path, node
        return
    for part, value in parts:
        yield from leaves(value, (*path, part))


def duplicate_keys(
    document: Any, path: tuple[PathPart, ...] = ()
) -> Iterator[tuple[tuple[PathPart, ...], Any, sources.Position, sources.Position]]:
    """Every key given twice in one mapping: (path of the mapping, key, repeat, first)."""
    if isinstance(document, MarkedDict):
        for key, repeat, first in document.duplicates:
            yield path, key, repeat, first
        for key, value in document.items():
            yield from duplicate_keys(value, (*path, key))
    elif isinstance(document, MarkedList):
        for index, item in enumerate(document):
            yield from duplicate_keys(item, (*path, index))


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
