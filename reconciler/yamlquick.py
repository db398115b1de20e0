"""YAML read quickly: libyaml's events straight into plain dicts and lists.

Owns the quick path (``parse_plain``): ten times cheaper than ``yamlread.parse_yaml``, it
gives the same plain data for the documents it handles alike and steps aside (None) for every
other one, which the careful reader then reads and words. It keeps the positions of the nodes
near the top (``PlainDocument.marks``), or of every node and key when asked (lint's positions).
Its limits are ``yamlread``'s (``MAX_DEPTH``, ``node_limit``).

It must not word errors or know any format.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
import yaml.reader

from reconciler import sources, yamlread

# libyaml's C parser; None where PyYAML was built without it (then parse_yaml alone: slower,
# the same results).
_EventParser: Any = getattr(yaml, "CParser", None) or getattr(
    getattr(yaml, "cyaml", None), "CParser", None
)
_CONSTRUCTOR = yaml.SafeLoader("")  # only its construct_yaml_* methods are used: pure functions
_RESOLVERS = yamlread.MarkedLoader.yaml_implicit_resolvers
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
    marks: dict[tuple[yamlread.PathPart, ...], sources.Position]
    """Where the nodes near the top start: every node at most two levels down (the items of
    the top-level lists) and the items of lists two levels further (``a[0].b[1]``); with
    ``every``, where every node starts."""
    key_marks: dict[tuple[yamlread.PathPart, ...], sources.Position] = field(default_factory=dict)
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
    limit = yamlread.node_limit(text)
    marks: dict[tuple[yamlread.PathPart, ...], sources.Position] = {}
    key_marks: dict[tuple[yamlread.PathPart, ...], sources.Position] = {}
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
    max_depth = yamlread.MAX_DEPTH
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
            if len(stack) >= max_depth:
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
            if len(stack) >= max_depth:
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
            if total > limit or len(stack) + height >= max_depth:
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
