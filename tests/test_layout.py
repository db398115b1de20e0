"""The tests mirror the modules, as CONTRIBUTING.md promises: a reader finds a module's tests by
its name, and a test module names what it tests.

``tests/test_<module>.py`` and ``tests/test_<module>_<aspect>.py`` test ``reconciler/<module>``;
``tests/<module>/`` holds the tests of a module that has several. The few test modules about
no one module (the docs, the examples, the CI files, the public surface) are listed below with
why; a new one must be added here, with its reason.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).parent
PACKAGE = TESTS.parent / "reconciler"

#: Test modules about something other than one module of reconciler, and what they are about.
TOPICS = {
    "bench_end_to_end": "bench/: the end-to-end benchmark still runs",
    "bench_smoke": "bench/: every benchmark job still runs",
    "ci_examples": "the CI examples, the pre-commit hook and their guides",
    "examples": "examples/: every example project validates",
    "exported_members": "the public Python surface the docs promise",
    "gitlab_helper": "examples/gitlab-ci/ci/gitlab_api.py",
    "hostile_input": "an untrusted pull request, through sources, templating and redact at once",
    "install_lines": "every install line of the docs",
    "layout": "this file",
    "packaging": "the wheel ships every package of reconciler",
    "pr_flow": "docs/ci.md's pull-request flow, end to end",
}
#: Helpers the tests share; not test modules.
HELPERS = {"__init__", "conftest", "projects", "clocks", "signals"}


def modules() -> set[str]:
    """The names of reconciler's modules and subpackages."""
    files = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    return files | packages


def subject(stem: str) -> str | None:
    """The module ``test_<stem>.py`` tests: the longest module name ``stem`` starts with."""
    name = stem.removeprefix("test_")
    found = [m for m in modules() if name == m or name.startswith(m + "_")]
    return max(found, key=len) if found else None


def test_every_top_level_test_module_names_its_module_or_a_listed_topic() -> None:
    strays = [
        path.name
        for path in sorted(TESTS.glob("*.py"))
        if path.stem not in HELPERS
        and path.stem.removeprefix("test_") not in TOPICS
        and subject(path.stem) is None
    ]
    assert strays == [], "name each after the module it tests, or list it in TOPICS"


def test_every_test_folder_is_named_after_a_module() -> None:
    folders = {p.name for p in TESTS.iterdir() if (p / "__init__.py").exists()}
    assert folders - modules() == set()


def test_no_listed_topic_is_a_module_in_disguise() -> None:
    assert [t for t in TOPICS if subject(f"test_{t}") is not None] == []
    assert [t for t in TOPICS if not (TESTS / f"test_{t}.py").exists()] == []


def test_the_rule_reads_names_as_a_reader_would() -> None:
    assert subject("test_manifest_reference") == "manifest"
    assert subject("test_sources_quick_path") == "sources"
    assert subject("test_cli_validate") == "cli"
    assert subject("test_state") == "state"
    assert subject("test_nothing_here") is None
