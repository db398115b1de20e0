"""``positions``: where every field of a quickly read manifest is written, packed for the read
cache, is where the event parser reports it (and, without aliases, where the careful parse
``sources.parse_yaml`` locates it): for every path of the document, for paths just past it, keys
and nodes alike, and through a template's line map."""

from __future__ import annotations

import marshal
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler import positions, sources

DOCUMENTS = {
    "block and flow": """\
        rulesets:
          - external_id: spring
            priority: 2
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [A-1, "B-2"]}
            start_date: 2027-03-01T00:00:00Z
            rules:
              - external_id: gold
                type: DISCOUNT
                conditions:
                  - {type: CUSTOMER_GROUP, value: gold}
                  - type: QTY_BY_VARIANT
                    operator: ">="
                    value: 6
                actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]
              - {external_id: staff, type: STACKABLE_DISCOUNT, conditions: [], actions: []}
          - external_id: "ünïcode"
            public_name: 'Sommer — 20 %'
            product_selection:
              type: PRODUCTS_ALL
            rules: []
        order_conditions:
          - name: ZONE
            value: west
            field_sets:
              - customer.shipping.country_code: CA
                customer.shipping.province_code: BC
        discount_codes:
          - codes: [SPRING10, SPRING20]
            action: {type: PRICE_ADJUST_PERCENT, value: -10}
        """,
    "anchors and aliases": """\
        rulesets:
          - external_id: a
            product_selection: &everything {type: PRODUCTS_ALL}
            rules: &rules
              - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -5}]}
          - external_id: b
            product_selection: *everything
            rules: *rules
        """,
    "multi-line scalars and comments": """\
        # a comment
        rulesets:

          - external_id: long   # trailing comment
            public_name: >
              folded
              text
            description: |
              literal
            rules:
              - external_id: x
                type: DISCOUNT
                actions:
                  - type: PRICE_ADJUST_RELATIVE
                    value: -100
        """,
}


def _paths(node: Any, path: tuple[sources.PathPart, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _asked(data: Any) -> list[tuple[Any, ...]]:
    """Every path of the document, and paths just past it: a missing key, an index too far."""
    found = list(_paths(data))
    missing = [(*p, "missing") for p in found] + [(*p, 10_000) for p in found]
    return [*found, *missing, ("nothing",), ("rulesets", 99, "rules")]


def _inside(data: Any) -> list[tuple[Any, ...]]:
    """The paths of ``_asked`` that start at a top-level key of the document (the others are
    where the document itself starts, which only the careful parse marks)."""
    return [path for path in _asked(data) if path and path[0] in data]


def _reported(found: sources.PlainDocument, path: tuple[Any, ...], key: bool) -> sources.Position:
    """What the event parser reports for ``path``: its key's position when asked, else where
    the nearest node on it starts (a document's own start is never marked: (1, 1))."""
    if key and path in found.key_marks:
        return found.key_marks[path]
    for end in range(len(path), 0, -1):
        if path[:end] in found.marks:
            return found.marks[path[:end]]
    return (1, 1)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_path_is_located_where_the_event_parser_reports_it(name: str) -> None:
    text = textwrap.dedent(DOCUMENTS[name])
    every = sources.parse_plain(text, every=True)
    packed = positions.pack(text)
    assert every is not None and packed is not None
    # What the cache stores: plain data, marshal and back.
    found = positions.Positions(marshal.loads(marshal.dumps(packed)))
    for path in _asked(every.data):
        for key in (False, True):
            assert found.locate(path, key=key) == _reported(every, path, key), (path, key)


@pytest.mark.parametrize("name", ["block and flow", "multi-line scalars and comments"])
def test_without_aliases_that_is_where_the_careful_parse_locates_it(name: str) -> None:
    text = textwrap.dedent(DOCUMENTS[name])
    marked = sources.parse_yaml(text)
    packed = positions.pack(text)
    assert packed is not None
    found = positions.Positions(packed)
    for path in _inside(sources.plain(marked)):
        for key in (False, True):
            assert found.locate(path, key=key) == sources.locate(marked, path, key=key), (
                path,
                key,
            )


def test_a_template_line_map_moves_every_position_found() -> None:
    text = textwrap.dedent(DOCUMENTS["block and flow"])
    marked = sources.parse_yaml(text)
    packed = positions.pack(text)
    assert packed is not None
    found = positions.Positions(packed, line_of=lambda line: line * 10)
    for path in _inside(sources.plain(marked)):
        line, column = sources.locate(marked, path, key=True)
        assert found.locate(path, key=True) == (line * 10, column)


def test_a_text_the_quick_parser_declines_has_no_packed_positions() -> None:
    assert positions.pack("rulesets: !!python/object {}\n") is None
