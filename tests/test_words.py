"""reconciler.words: counted nouns read the same in every message (``1 ruleset``, ``2 rulesets``,
``0 rulesets``), and every list of problems closes with the same line."""

from __future__ import annotations

import pytest

from reconciler import errors, words


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (0, "ruleset", "0 rulesets"),
        (1, "ruleset", "1 ruleset"),
        (2, "ruleset", "2 rulesets"),
        (1, "discount code", "1 discount code"),
        (12, "rate-limit answer", "12 rate-limit answers"),
        (-1, "object", "-1 objects"),
    ],
)
def test_count(n: int, noun: str, expected: str) -> None:
    assert words.count(n, noun) == expected
    assert words.plural(n, noun) == expected.split(" ", 1)[1]


@pytest.mark.parametrize(
    ("problems", "files", "expected"),
    [
        (1, 1, "1 problem in 1 file"),
        (2, 1, "2 problems in 1 file"),
        (3, 2, "3 problems in 2 files"),
    ],
)
def test_problems_in_files(problems: int, files: int, expected: str) -> None:
    assert words.problems_in_files(problems, files) == expected


def test_invalid_manifests_close_with_the_problem_count() -> None:
    found = [
        errors.Problem("pricing/a.yaml", 3, 5, "rulesets[a]", "is wrong"),
        errors.Problem("pricing/a.yaml", 9, 5, "rulesets[b]", "is wrong"),
        errors.Problem("pricing/b.yaml", 2, 1, "rulesets[c]", "is wrong"),
    ]
    assert str(errors.ManifestInvalid(found)) == "3 problems in 2 files"
    assert str(errors.ManifestInvalid(found[:1])) == "1 problem in 1 file"


def test_a_stale_plan_counts_what_moved() -> None:
    assert str(errors.StalePlan(["ruleset spring"])).splitlines()[0] == (
        "The saved plan is stale: 1 object changed since it was made:"
    )
