"""One manifest document as parsed, and every node of it located and named.

Owns ``Document`` (one file read: its data, plain when the quick path read and checked it whole,
with the positions of every node read again only when a problem or a finding is located), how a
path names the object it falls in (``describe``: ``ruleset spring-sale > rules[gold]``), a
located ``errors.Problem`` at a path (``problem``), keys written twice, and the well-formed
entries of a manifest list (``items``) that the checks walk.

It must not read files (``reading.py``) or decide what is wrong (``checks.py``,
``references.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import cache, errors, positions, schemacheck, sources, yamlread

LISTS = ("rulesets", "order_conditions", "discount_codes")

PathParts = tuple[yamlread.PathPart, ...]


@dataclass
class Document:
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
    _marked: yamlread.MarkedDict | None = None
    #: Where every node and key starts (``positions.Positions``), read on demand.
    _positions: positions.Positions | None = None

    @property
    def marked(self) -> yamlread.MarkedDict:
        """The document with every position: read again, only when a problem is located."""
        if isinstance(self.data, yamlread.MarkedDict):
            return self.data
        if self._marked is None:
            marked = yamlread.parse_yaml(self.text)
            assert isinstance(marked, yamlread.MarkedDict)  # it parsed quickly as a mapping
            if self.line_of is not None:
                yamlread.remap_lines(marked, self.line_of)
            self._marked = marked
        return self._marked

    def plain(self, item: dict[str, Any]) -> dict[str, Any]:
        """``item`` of this document as plain dicts and lists (already so when checked)."""
        return item if self.checked else dict(yamlread.plain(item))

    def locate(self, path: PathParts, *, key: bool = False) -> sources.Position:
        """Where the node at ``path`` starts (its key, when ``key``), or its nearest parent.

        A document the quick path read keeps no positions; the first call takes them from the
        read cache, or reads them all with the quick event parser (a fraction of ``parse_yaml``)
        and keeps them there, the template's lines applied.
        """
        if isinstance(self.data, yamlread.MarkedDict):
            return yamlread.locate(self.data, path, key=key)
        if self._positions is None:
            self._positions = positions.load(self.text, self.readings, self.line_of)
            if self._positions is None:
                return yamlread.locate(self.marked, path, key=key)
        return self._positions.locate(path, key=key)

    def position(self, path: PathParts) -> sources.Position:
        """Where the node at ``path`` starts."""
        if self.marks is not None and path in self.marks:
            return self.marks[path]
        return yamlread.locate(self.marked, path)


def text(value: Any) -> str | None:
    """``value`` if it is text that is not empty, else None."""
    return value if isinstance(value, str) and value else None


def object_name(list_name: str, index: int, item: Any) -> str:
    """``ruleset spring-sale``, ``order_condition ZONE=prairies``, ``discount_code SPRING15``."""
    item = item if isinstance(item, Mapping) else {}
    if list_name == "rulesets" and text(item.get("external_id")):
        return f"ruleset {item['external_id']}"
    if list_name == "order_conditions" and text(item.get("name")) and text(item.get("value")):
        return f"order_condition {item['name']}={item['value']}"
    codes = item.get("codes")
    if list_name == "discount_codes" and isinstance(codes, list) and codes and text(codes[0]):
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
        rule_id = text(rule.get("external_id")) if isinstance(rule, Mapping) else None
        head += f" > rules[{rule_id or rest[1]}]"
        rest = rest[2:]
    return head, rest


def problem(
    document: Document, path: PathParts, message: str, *, at: PathParts | None = None
) -> errors.Problem:
    """A Problem about the node at ``path``, named by it, located at ``at`` (default ``path``)."""
    marked = document.marked
    line, column = yamlread.locate(marked, path if at is None else at)
    return errors.Problem(
        document.file, line, column, schemacheck.path_text(marked, path, describe), message
    )


def items(
    documents: list[Document], list_name: str
) -> Iterator[tuple[Document, int, dict[str, Any]]]:
    """Every well-formed mapping under ``list_name``, in file order."""
    for document in documents:
        items = document.data.get(list_name)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    yield document, index, item


class At:
    """``file:line:column`` of a node, worked out only if a message quotes it."""

    __slots__ = ("document", "path")

    def __init__(self, document: Document, path: PathParts) -> None:
        self.document, self.path = document, path

    def __str__(self) -> str:
        line, column = yamlread.locate(self.document.marked, self.path)
        return f"{self.document.file}:{line}:{column}"


def at(document: Document, path: PathParts) -> At:
    """Where the node at ``path`` is, for a message that quotes it."""
    return At(document, path)
