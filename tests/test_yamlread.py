"""yamlread.py: YAML read within bounds (alias bombs, nesting), broken YAML said in words at its
position, and every node of a parsed document remembering where it is written.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import sources, yamlread


def parse_refusal(text: str) -> tuple[str, tuple[int, int]]:
    with pytest.raises(sources.SourceError) as caught:
        yamlread.parse_yaml(text)
    return caught.value.message, caught.value.position


def alias_bomb(levels: int) -> str:
    """Each level's list repeats the previous level nine times: 9**levels nodes expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_the_node_that_crosses_the_limit() -> None:
    assert parse_refusal(alias_bomb(12)) == (
        "the document expands to more than 500000 nodes (aliases repeated?): refused",
        (6, 5),
    )


def test_aliases_that_stay_under_the_limit_are_expanded() -> None:
    document = yamlread.parse_yaml(alias_bomb(3))
    assert yamlread.plain(document["a2"]) == [[["lol"] * 9] * 9] * 9


def test_an_alias_inside_the_node_it_names_is_refused() -> None:
    assert parse_refusal("a: &a [*a]\n") == ("an alias refers to a node that contains it", (1, 4))


def test_nesting_is_bounded_and_the_deepest_allowed_level_is_read() -> None:
    levels = yamlread.MAX_DEPTH
    assert parse_refusal("[" * (levels + 1) + "]" * (levels + 1)) == (
        "nested deeper than 64 levels",
        (1, 65),
    )
    deepest: Any = yamlread.parse_yaml("[" * levels + "]" * levels)
    for _ in range(levels - 1):
        deepest = deepest[0]
    assert deepest == []


def test_nesting_reached_through_aliases_is_bounded_too() -> None:
    text = "a: &a " + "[" * 40 + "]" * 40 + "\nb: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    message, _ = parse_refusal(text)
    assert message == "nested deeper than 64 levels"


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        (
            "rulesets:\n\t- a\n",
            "invalid YAML: while scanning for the next token: found character '\\t' that cannot "
            "start any token (indent with spaces: YAML does not allow tabs)",
            (2, 1),
        ),
        (
            "a: 1\n b: 2\n",
            "invalid YAML: mapping values are not allowed here (check the indentation)",
            (2, 3),
        ),
        (
            "a: [1, 2\n",
            "invalid YAML: while parsing a flow sequence: expected ',' or ']', but got "
            "'<stream end>'",
            (2, 1),
        ),
        (
            "a: \x07\n",
            "invalid YAML: control character #x0007 is not allowed",
            (1, 4),
        ),
    ],
    ids=["tab", "indentation", "unclosed list", "control character"],
)
def test_broken_yaml_is_said_in_words_at_its_position(
    text: str, message: str, position: tuple[int, int]
) -> None:
    assert parse_refusal(text) == (message, position)


# --- what a parsed document remembers ---------------------------------------------------------


def test_every_node_remembers_its_line_and_column() -> None:
    document = yamlread.parse_yaml("rulesets:\n  - external_id: spring\n    active: on\n")
    assert yamlread.locate(document, ("rulesets", 0, "external_id")) == (2, 18)
    assert yamlread.locate(document, ("rulesets", 0, "active"), key=True) == (3, 5)
    assert yamlread.locate(document, ("rulesets", 0, "missing", 3)) == (2, 5)  # nearest parent
    assert yamlread.written(document, ("rulesets", 0, "active")) == "on"


def test_dates_stay_the_text_written_and_keys_keep_their_spelling() -> None:
    document = yamlread.parse_yaml("start_date: 2026-03-01T00:00:00Z\n1: one\ntrue: yes\n")
    assert yamlread.plain(document) == {
        "start_date": "2026-03-01T00:00:00Z",
        "1": "one",
        "true": True,
    }


def test_keys_given_twice_are_listed_with_both_places() -> None:
    document = yamlread.parse_yaml("a: 1\nb: {c: 1, c: 2}\na: 3\n")
    assert list(yamlread.duplicate_keys(document)) == [
        ((), "a", (3, 1), (1, 1)),
        (("b",), "c", (2, 11), (2, 5)),
    ]
