"""yamlquick.py: the quick path agrees with the careful one: same data, or it steps aside.

``yamlquick.parse_plain`` (libyaml events → plain data) and ``schemacheck.conforms``
(jsonschema-rs) are only allowed to say "fine" where ``yamlread.parse_yaml`` and
``schemacheck.schema_problems`` would; everything else must fall back so that the careful path
words the problem (the schema check's agreement is in test_schemacheck.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from reconciler import schemacheck, sources, yamlquick, yamlread
from reconciler.manifest import reading

from .projects import EXAMPLES, example_manifests

TRICKY = [
    "yes", "No", "on", "OFF", "~", "null", "", "0x1F", "0o17", "017", "1_000", "1:30", "-1:30:00",
    "3.5", ".5", "1e3", "1.0e+3", "+12", ".inf", "-.Inf", ".nan", "2026-03-01", "2026-03-01T00:00:00Z",
    "<<", "=", "a b", "true", "False", "0b101", "-0", "1.", "text", "x" * 50, "é", "@x", "'q'",
]  # fmt: skip


def careful(text: str) -> Any:
    try:
        return ("ok", yamlread.plain(yamlread.parse_yaml(text)))
    except sources.SourceError as exc:
        return ("error", exc.message)


def agrees(text: str) -> None:
    quick = yamlquick.parse_plain(text)
    if quick is None:
        return
    kind, data = careful(text)
    assert kind == "ok", (text, data)
    assert repr(quick.data) == repr(data), text  # repr: 1 and True and 1.0 differ


@given(st.lists(st.sampled_from(TRICKY), min_size=1, max_size=6), st.booleans())
def test_plain_scalars_read_alike(words: list[str], flow: bool) -> None:
    if flow:
        agrees("k: [" + ", ".join(words) + "]\n")
    else:
        agrees("".join(f"k{i}: {word}\n" for i, word in enumerate(words)))
        agrees("".join(f"- {word}\n" for word in words))
        agrees("".join(f"{word}: 1\n" for word in words))


DOCUMENTS = [
    "",
    "a: 1\na: 2\n",
    "a: &x {b: 1}\nc: *x\nd: *x\n",
    "base: &b {p: 1}\nother:\n  <<: *b\n  q: 2\n",
    "a: !!str 12\n",
    "a: !custom 12\n",
    "? [1, 2]\n: x\n",
    "1: one\ntrue: yes\n",
    "--- a\n--- b\n",
    "a: [unclosed\n",
    "a: *nowhere\n",
    "a: &x [*x]\n",
    "a: .inf\n",
    "a: 'x\x85y'\n",
    "\t- tab\n",
    "[" * 63 + "]" * 63 + "\n",
    "[" * 64 + "]" * 64 + "\n",
    "[" * 65 + "]" * 65 + "\n",
    "a: &x " + "[" * 40 + "]" * 40 + "\nb: " + "[" * 23 + "*x" + "]" * 23 + "\n",
    "a: &x " + "[" * 40 + "]" * 40 + "\nb: " + "[" * 24 + "*x" + "]" * 24 + "\n",
]


def test_hand_picked_documents_read_alike() -> None:
    for text in DOCUMENTS:
        agrees(text)


def test_what_the_quick_path_hands_back() -> None:
    assert yamlquick.parse_plain("a: 1\na: 2\n") is None  # the careful path names the repeat
    assert yamlquick.parse_plain("a: .nan\n") is None  # schema_problems words it
    quick = yamlquick.parse_plain("list:\n  - x: 1\n    codes: [A, B]\n")
    assert quick is not None
    assert quick.marks[("list", 0)] == (2, 5)
    assert quick.marks[("list", 0, "codes", 1)] == (3, 16)


def _bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    return "\n".join(lines) + "\n"


def test_the_quick_reader_gives_the_same_data_or_steps_aside() -> None:
    text = "rulesets:\n  - external_id: spring\n    priority: 2\n    start: 2026-03-01T00:00:00Z\n"
    quick = yamlquick.parse_plain(text)
    assert quick is not None
    assert quick.data == yamlread.plain(yamlread.parse_yaml(text))
    assert quick.marks[("rulesets", 0)] == (2, 5)
    assert yamlquick.parse_plain("a: 1\na: 2\n") is None  # the careful reader says where
    assert yamlquick.parse_plain(_bomb()) is None


def test_alias_bomb_still_refused() -> None:
    bomb = _bomb()
    assert yamlquick.parse_plain(bomb) is None
    assert careful(bomb)[0] == "error"


#: 600,002 nodes, past the old flat 500,000: a big honest file, read by both readers.
HONEST = "items:\n" + "".join(f"  - [{i}, {i}, {i}, {i}, {i}]\n" for i in range(100_000))


def test_big_honest_file_read_quickly() -> None:
    quick = yamlquick.parse_plain(HONEST)
    assert quick is not None and len(quick.data["items"]) == 100_000


def test_big_honest_file_read_carefully() -> None:
    assert careful(HONEST)[0] == "ok"


def test_every_example_is_read_quickly_and_alike() -> None:
    for path in sorted(EXAMPLES.glob("*/pricing/*.yaml")):
        text = path.read_text("utf-8")
        quick = yamlquick.parse_plain(text)
        assert quick is not None, path
        assert quick.data == yamlread.plain(yamlread.parse_yaml(text))
        assert schemacheck.conforms(reading.SCHEMA, quick.data), path
        assert not any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(quick.data))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_yaml_dump_round_trips_read_alike() -> None:
    for document in example_manifests():
        for flow in (True, False):
            agrees(yaml.safe_dump(document, default_flow_style=flow))


def _every_path(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _every_path(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _every_path(value, (*prefix, index))


@pytest.mark.parametrize(
    "manifest",
    sorted(
        p
        for p in (Path(__file__).parent.parent / "examples").glob("*/pricing/*.yaml")
        if p.is_file()
    ),
    ids=lambda p: f"{p.parent.parent.name}/{p.name}",
)
def test_every_position_the_quick_parser_keeps_is_the_careful_one(manifest: Path) -> None:
    # lint points at any field of a manifest the quick path read: the positions it reads on
    # demand must be those the careful loader gives, key and value alike.
    text = manifest.read_text(encoding="utf-8")
    quick = yamlquick.parse_plain(text, every=True)
    assert quick is not None
    careful = yamlread.parse_yaml(text)
    paths = list(_every_path(quick.data))
    assert paths
    for path in paths:
        assert quick.marks[path] == yamlread.locate(careful, path), path
        if isinstance(path[-1], str):
            assert quick.key_marks[path] == yamlread.locate(careful, path, key=True), path
