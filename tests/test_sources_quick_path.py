"""The quick manifest path agrees with the careful one: same data, same verdict, or it steps aside.

``sources.parse_plain`` (libyaml events → plain data) and ``sources.conforms`` (jsonschema-rs)
are only allowed to say "fine" where ``parse_yaml`` and ``schema_problems`` would; everything
else must fall back so that the careful path words the problem.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import manifest, sources

TRICKY = [
    "yes", "No", "on", "OFF", "~", "null", "", "0x1F", "0o17", "017", "1_000", "1:30", "-1:30:00",
    "3.5", ".5", "1e3", "1.0e+3", "+12", ".inf", "-.Inf", ".nan", "2026-03-01", "2026-03-01T00:00:00Z",
    "<<", "=", "a b", "true", "False", "0b101", "-0", "1.", "text", "x" * 50, "é", "@x", "'q'",
]  # fmt: skip


def careful(text: str) -> Any:
    try:
        return ("ok", sources.plain(sources.parse_yaml(text)))
    except sources.SourceError as exc:
        return ("error", exc.message)


def agrees(text: str) -> None:
    quick = sources.parse_plain(text)
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
    assert sources.parse_plain("a: 1\na: 2\n") is None  # the careful path names the repeat
    assert sources.parse_plain("a: .nan\n") is None  # schema_problems words it
    quick = sources.parse_plain("list:\n  - x: 1\n    codes: [A, B]\n")
    assert quick is not None
    assert quick.marks[("list", 0)] == (2, 5)
    assert quick.marks[("list", 0, "codes", 1)] == (3, 16)


def test_alias_bomb_still_refused_and_big_honest_file_read() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    bomb = "\n".join(lines) + "\n"
    assert sources.parse_plain(bomb) is None
    assert careful(bomb)[0] == "error"
    honest = "items:\n" + "".join(f"  - [{i}, {i}, {i}, {i}, {i}]\n" for i in range(100_000))
    quick = sources.parse_plain(honest)  # 600,002 nodes, past the old flat 500,000
    assert quick is not None and len(quick.data["items"]) == 100_000
    assert careful(honest)[0] == "ok"


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _manifest_documents() -> list[dict[str, Any]]:
    found = []
    for path in sorted(EXAMPLES.glob("*/pricing/*.yaml")):
        data = sources.plain(sources.parse_yaml(path.read_text("utf-8")))
        if isinstance(data, dict):
            found.append(data)
    return found


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*path, index))
    return out


REPLACEMENTS = [
    None, True, False, 0, -1, 1.0, 1.5, 2**31, -(2**31) - 1, 2**53 + 1, 2**70, -(2**70), "",
    "x", "a b", "a\u2028b", "a\u00a0b", "x" * 129, "2026-13-01T00:00:00Z", "2026-03-01T00:00:00Z",
    "2026-03-01T00:00:00.1234567+05:30", "2026-03-01", "PRICE_ADJUST_PERCENT", "DISCOUNT",
    "PRODUCTS_ALL", "a@b.co", "a@b", [], [1], {}, {"type": "x"}, {"unknown": 1},
]  # fmt: skip


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data())
def test_quick_schema_check_agrees_with_jsonschema(data: st.DataObject) -> None:
    documents = _manifest_documents()
    document = copy.deepcopy(data.draw(st.sampled_from(documents)))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(document)[1:]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1])
        else:
            parent[path[-1]] = copy.deepcopy(data.draw(st.sampled_from(REPLACEMENTS)))
    if not isinstance(document, dict):
        return
    fine = not sources.schema_problems(
        manifest.SCHEMA, document, file="x.yaml", describe=manifest.describe
    )
    assert sources.conforms(manifest.SCHEMA, document) == fine, document


def test_every_example_is_read_quickly_and_alike() -> None:
    for path in sorted(EXAMPLES.glob("*/pricing/*.yaml")):
        text = path.read_text("utf-8")
        quick = sources.parse_plain(text)
        assert quick is not None, path
        assert quick.data == sources.plain(sources.parse_yaml(text))
        assert sources.conforms(manifest.SCHEMA, quick.data), path
        assert not any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(quick.data))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_yaml_dump_round_trips_read_alike() -> None:
    for document in _manifest_documents():
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
    quick = sources.parse_plain(text, every=True)
    assert quick is not None
    careful = sources.parse_yaml(text)
    paths = list(_every_path(quick.data))
    assert paths
    for path in paths:
        assert quick.marks[path] == sources.locate(careful, path), path
        if isinstance(path[-1], str):
            assert quick.key_marks[path] == sources.locate(careful, path, key=True), path
