"""sources.py: files read only from inside the project, YAML read within bounds, and every refusal
a message with the line and column to look at.

The manifest and project-file tests show these lines inside ``validate``'s output; here each rule
is held at the module's own edge (``read_source``, ``parse_yaml``, ``schema_problems``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from reconciler import errors, sources

OUTSIDE_ADVICE = (
    "boldrules reads only files inside the folder holding boldrules.yaml; copy the file in instead"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with one manifest, beside a folder that is not the project's."""
    root = tmp_path / "shop"
    (root / "pricing").mkdir(parents=True)
    (root / "pricing" / "spring.yaml").write_text("rulesets: []\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.yaml").write_text("token: s3cret\n")
    return root


def refusal(path: Path, root: Path) -> tuple[str, tuple[int, int]]:
    with pytest.raises(sources.SourceError) as caught:
        sources.read_source(path, root=root)
    return caught.value.message, caught.value.position


# --- reading only inside the project ---------------------------------------------------------


def test_a_file_inside_the_project_is_read_as_text_without_its_byte_order_mark(
    project: Path,
) -> None:
    (project / "pricing" / "bom.yaml").write_bytes(b"\xef\xbb\xbfrulesets: []\n")
    assert sources.read_source(project / "pricing" / "spring.yaml", root=project) == (
        "rulesets: []\n"
    )
    assert sources.read_source(project / "pricing" / "bom.yaml", root=project) == "rulesets: []\n"


def test_a_link_inside_the_project_is_followed(project: Path) -> None:
    os.symlink("spring.yaml", project / "pricing" / "alias.yaml")
    assert sources.read_source(project / "pricing" / "alias.yaml", root=project) == (
        "rulesets: []\n"
    )


def test_a_link_leading_out_is_refused_naming_its_target(project: Path) -> None:
    os.symlink("../../outside/secret.yaml", project / "pricing" / "shared.yaml")
    assert refusal(project / "pricing" / "shared.yaml", project) == (
        f"is a link to '../../outside/secret.yaml', outside the project folder: {OUTSIDE_ADVICE}",
        (1, 1),
    )


def test_a_folder_link_leading_out_is_the_link_named(project: Path) -> None:
    os.symlink("../../outside", project / "pricing" / "away")
    message, _ = refusal(project / "pricing" / "away" / "secret.yaml", project)
    assert message == (
        "is a link to '../../outside', outside the project folder (away is a link): "
        + OUTSIDE_ADVICE
    )


def test_a_path_outside_the_project_is_refused_without_being_read(project: Path) -> None:
    assert refusal(project / ".." / "outside" / "secret.yaml", project) == (
        "is outside the project folder: boldrules reads only files inside the folder holding "
        "boldrules.yaml",
        (1, 1),
    )


def test_files_under_git_are_never_read(project: Path) -> None:
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("[credential]\n")
    assert refusal(project / ".git" / "config", project) == (
        "is inside .git: boldrules does not read git's own files",
        (1, 1),
    )


def test_a_link_that_leads_back_to_itself_is_refused(project: Path) -> None:
    os.symlink("loop.yaml", project / "pricing" / "loop.yaml")
    message, _ = refusal(project / "pricing" / "loop.yaml", project)
    assert message == "is a link that leads back to itself: remove the link"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder, not a file"),
        (lambda p: os.mkfifo(p), "is not a regular file (a device, pipe or socket): refused"),
        (lambda p: os.symlink("gone.yaml", p), "no such file (a broken link?)"),
    ],
    ids=["folder", "pipe", "broken link"],
)
def test_what_is_not_a_readable_file_is_said(project: Path, make: Any, message: str) -> None:
    path = project / "pricing" / "odd.yaml"
    make(path)
    assert refusal(path, project) == (message, (1, 1))


# --- bounded reading -------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(project: Path) -> None:
    big = project / "pricing" / "big.yaml"
    with big.open("wb") as stream:  # sparse: costs no disk, and is never read
        stream.truncate(sources.MAX_FILE_BYTES + 1)
    assert refusal(big, project) == (
        "file is 64.0 MiB, over the 64 MiB limit: split it into several files",
        (1, 1),
    )


def test_a_file_at_the_size_limit_is_read(project: Path) -> None:
    path = project / "pricing" / "edge.yaml"
    path.write_bytes(b"#" * (sources.MAX_FILE_BYTES - 1) + b"\n")
    assert len(sources.read_source(path, root=project)) == sources.MAX_FILE_BYTES


def test_text_that_is_not_utf8_is_located_at_its_first_bad_byte(project: Path) -> None:
    path = project / "pricing" / "latin1.yaml"
    path.write_bytes(b"rulesets:\n  - public_name: Caf\xe9\n")
    assert refusal(path, project) == (
        "not UTF-8 text (byte 0xe9): save the file as UTF-8",
        (2, 21),
    )


def parse_refusal(text: str) -> tuple[str, tuple[int, int]]:
    with pytest.raises(sources.SourceError) as caught:
        sources.parse_yaml(text)
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
    document = sources.parse_yaml(alias_bomb(3))
    assert sources.plain(document["a2"]) == [[["lol"] * 9] * 9] * 9


def test_an_alias_inside_the_node_it_names_is_refused() -> None:
    assert parse_refusal("a: &a [*a]\n") == ("an alias refers to a node that contains it", (1, 4))


def test_nesting_is_bounded_and_the_deepest_allowed_level_is_read() -> None:
    levels = sources.MAX_DEPTH
    assert parse_refusal("[" * (levels + 1) + "]" * (levels + 1)) == (
        "nested deeper than 64 levels",
        (1, 65),
    )
    deepest: Any = sources.parse_yaml("[" * levels + "]" * levels)
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
    document = sources.parse_yaml("rulesets:\n  - external_id: spring\n    active: on\n")
    assert sources.locate(document, ("rulesets", 0, "external_id")) == (2, 18)
    assert sources.locate(document, ("rulesets", 0, "active"), key=True) == (3, 5)
    assert sources.locate(document, ("rulesets", 0, "missing", 3)) == (2, 5)  # nearest parent
    assert sources.written(document, ("rulesets", 0, "active")) == "on"


def test_dates_stay_the_text_written_and_keys_keep_their_spelling() -> None:
    document = sources.parse_yaml("start_date: 2026-03-01T00:00:00Z\n1: one\ntrue: yes\n")
    assert sources.plain(document) == {
        "start_date": "2026-03-01T00:00:00Z",
        "1": "one",
        "true": True,
    }


def test_keys_given_twice_are_listed_with_both_places() -> None:
    document = sources.parse_yaml("a: 1\nb: {c: 1, c: 2}\na: 3\n")
    assert list(sources.duplicate_keys(document)) == [
        ((), "a", (3, 1), (1, 1)),
        (("b",), "c", (2, 11), (2, 5)),
    ]


def test_the_quick_reader_gives_the_same_data_or_steps_aside() -> None:
    text = "rulesets:\n  - external_id: spring\n    priority: 2\n    start: 2026-03-01T00:00:00Z\n"
    quick = sources.parse_plain(text)
    assert quick is not None
    assert quick.data == sources.plain(sources.parse_yaml(text))
    assert quick.marks[("rulesets", 0)] == (2, 5)
    assert sources.parse_plain("a: 1\na: 2\n") is None  # the careful reader says where
    assert sources.parse_plain(alias_bomb(12)) is None


# --- schema errors as located lines ----------------------------------------------------------


def describe(document: Any, path: tuple[sources.PathPart, ...]) -> tuple[str, tuple[Any, ...]]:
    """Names the object as the manifest reader does for a ruleset: by its external id."""
    if len(path) >= 2 and path[0] == "rulesets" and isinstance(path[1], int):
        ruleset = document["rulesets"][path[1]]
        return f"ruleset {ruleset.get('external_id', path[1])}", path[2:]
    return "", path


def test_schema_errors_become_one_located_line_each() -> None:
    text = (
        "rulesets:\n"
        "  - external_id: spring\n"
        "    product_selection: {type: PRODUCTS_ALL}\n"
        "    priorty: 3\n"
        "    rules:\n"
        "      - external_id: gold\n"
        "        type: DISCOUNT\n"
        "        conditions: []\n"
        "        actions: [{type: PRICE_ADJUST_PERCENT, value: -150}]\n"
        "    start_date: tomorrow\n"
        "    public_name: .inf\n"
    )
    document = sources.parse_yaml(text)
    problems = sources.schema_problems(
        "manifest.schema.json", document, file="pricing/spring.yaml", describe=describe
    )
    assert all(isinstance(p, errors.Problem) for p in problems)
    assert [p.line_text() for p in problems] == [
        "pricing/spring.yaml:4:5: ruleset spring: unknown field 'priorty' (did you mean "
        "'priority'?)",
        "pricing/spring.yaml:9:55: ruleset spring > rules[0].actions[0].value: -150 is less than "
        "the minimum of -100",
        "pricing/spring.yaml:10:17: ruleset spring > start_date: 'tomorrow' is not an RFC 3339 "
        "date-time such as 2026-03-01T00:00:00Z",
        "pricing/spring.yaml:11:18: ruleset spring > public_name: .inf is not a number the API "
        "can hold: give a finite number",
    ]
    assert not sources.conforms("manifest.schema.json", sources.plain(document))
