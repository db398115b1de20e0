"""Where every node and key of one manifest document is written: the positions lint points at.

Owns one fact: the line and column of any field of a document the quick loader read (which
keeps positions only near the top, the price of a fast ``validate``). They come from one event
parse, ``sources.parse_plain(every=True)``, and are packed for the read cache
(``cache.ReadCache``, part ``POSITIONS``, under the text's own content key: a file that changes
has other positions, and another key).

Packed, each top-level item (``rulesets[3]``, ``discount_codes[0]``...) is a *shape*, the paths
below it in order, shared by every item built alike, and a flat array of four integers per path
(where the node starts, where its key starts; 0 when there is none), decoded the first time a
field of that item is located: a run pays for the items it points at, not for whole files, and
never builds a tuple per position. Positions are those of the text parsed; a template's line map
is applied to the position found.
"""

from __future__ import annotations

import array
import sys
from collections.abc import Callable

from reconciler import cache, sources

#: The read-cache part the packed positions are kept under.
POSITIONS = "positions"

Path = tuple[sources.PathPart, ...]
#: What the cache keeps: the node marks and key marks of the paths above the items; the shapes
#: (each a tuple of paths relative to an item, the item itself first as ``()``); and, per item,
#: the index of its shape and its positions (``array("i")`` bytes, 4 integers per path).
Packed = tuple[
    dict[Path, sources.Position],
    dict[Path, sources.Position],
    list[tuple[Path, ...]],
    dict[Path, tuple[int, bytes]],
]
_NATIVE = sys.byteorder == "little"


class Positions:
    """The positions of one document's every node and key, decoded item by item."""

    def __init__(self, packed: Packed, line_of: Callable[[int], int] | None = None) -> None:
        self._top, self._top_keys, self._shapes, self._items = packed
        self._line_of = line_of
        self._indexes: dict[int, dict[Path, int]] = {}
        self._open: dict[Path, tuple[dict[Path, int], array.array[int]] | None] = {}

    def locate(self, path: Path, *, key: bool = False) -> sources.Position:
        """Where the node at ``path`` starts (its key, when ``key``), or its nearest parent's:
        what ``sources.locate`` gives on the fully marked document."""
        found = self._find(path, key)
        if found is None:
            return (1, 1)
        return found if self._line_of is None else (self._line_of(found[0]), found[1])

    def _find(self, path: Path, key: bool) -> sources.Position | None:
        if len(path) < 2:
            if key and path in self._top_keys:
                return self._top_keys[path]
            return self._top.get(path)
        item = self._item(path[:2])
        if item is not None:
            index, numbers = item
            rest = path[2:]
            if key:
                at = index.get(rest)
                if at is not None and numbers[4 * at + 2]:
                    return (numbers[4 * at + 2], numbers[4 * at + 3])
            for end in range(len(rest), -1, -1):
                at = index.get(rest[:end])
                if at is not None and numbers[4 * at]:
                    return (numbers[4 * at], numbers[4 * at + 1])
        return self._top.get(path[:1])

    def _item(self, prefix: Path) -> tuple[dict[Path, int], array.array[int]] | None:
        if prefix in self._open:
            return self._open[prefix]
        packed = self._items.get(prefix)
        found = None
        if packed is not None:
            shape, blob = packed
            index = self._indexes.get(shape)
            if index is None:
                index = self._indexes[shape] = {p: i for i, p in enumerate(self._shapes[shape])}
            numbers = array.array("i")
            numbers.frombytes(blob)
            if not _NATIVE:
                numbers.byteswap()
            found = (index, numbers)
        self._open[prefix] = found
        return found


def load(
    text: str, readings: cache.ReadCache | None, line_of: Callable[[int], int] | None = None
) -> Positions | None:
    """The positions of the document in ``text``: kept in ``readings``, else read (and kept
    there); None when the quick parser declines the text."""
    packed = readings.get(text, part=POSITIONS) if readings is not None else None
    if packed is None:
        packed = pack(text)
        if packed is None:
            return None
        if readings is not None:
            readings.put(text, packed, part=POSITIONS)
    return Positions(packed, line_of)


def pack(text: str) -> Packed | None:
    """``text``'s positions as plain data (see ``Packed``), or None when the quick parser
    declines the text (then only the careful parse can locate in it)."""
    found = sources.parse_plain(text, every=True)
    if found is None:
        return None
    top: dict[Path, sources.Position] = {}
    top_keys: dict[Path, sources.Position] = {}
    # Per item: relative path → [line, column, key line, key column], in document order.
    items: dict[Path, dict[Path, list[int]]] = {}
    for marks, top_part, at in ((found.marks, top, 0), (found.key_marks, top_keys, 2)):
        for path, (line, column) in marks.items():
            if len(path) < 2:
                top_part[path] = (line, column)
                continue
            item = items.get(path[:2])
            if item is None:
                item = items[path[:2]] = {}
            numbers = item.get(path[2:])
            if numbers is None:
                numbers = item[path[2:]] = [0, 0, 0, 0]
            numbers[at], numbers[at + 1] = line, column
    shapes: dict[tuple[Path, ...], int] = {}
    packed: dict[Path, tuple[int, bytes]] = {}
    for prefix, item in items.items():
        shape = tuple(item)
        number = shapes.setdefault(shape, len(shapes))
        flat = array.array("i", [n for numbers in item.values() for n in numbers])
        if not _NATIVE:
            flat.byteswap()
        packed[prefix] = (number, flat.tobytes())
    return top, top_keys, list(shapes), packed
