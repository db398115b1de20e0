"""Installing as the docs say: every ``pip install`` and ``rev:`` line is a supported form.

Owns the check that reads every Markdown, YAML and CI script file of the repository (README,
CONTRIBUTING, docs/, examples/ with their hidden CI files, .github/, .ci/run) and checks each
``pip install`` and pre-commit ``rev:`` against the forms docs/ci.md ("Installing boldrules")
documents, at the version ``pyproject.toml`` builds; that a line installing the PyPI release
says nearby what it needs; and that the release workflow which makes those lines true builds,
checks, tries and publishes as CONTRIBUTING.md says. It must not change any file it reads.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_ci_examples import check_invocation, invocations

ROOT = Path(__file__).parent.parent
VERSION: str = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"
]
RELEASE_WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"

#: The supported forms of a requirement, with what each needs (docs/ci.md says the same).
SUPPORTED = {
    # The PyPI release, pinned exactly: needs the release published (the text nearby says so).
    "release": re.compile(rf"boldrules=={re.escape(VERSION)}"),
    # The same version from the git tag of the boldrules repository the reader uses.
    "git": re.compile(
        rf"boldrules @ git\+https://github\.com/OWNER/boldrules@v{re.escape(VERSION)}"
    ),
    # A checkout (or an unpacked sdist) of boldrules: the README's quick start, CONTRIBUTING.
    "checkout": re.compile(r"\.|\.\[test\]|\./boldrules"),
    # A wheel built from a checkout (the release workflow; a vendored copy in a pricing repo).
    "wheel": re.compile(
        rf"(dist|vendor)/boldrules-({re.escape(VERSION)}|\$VERSION)-py3-none-any\.whl"
    ),
    # Other tools the docs use, by their PyPI names.
    "tool": re.compile(r"pre-commit|build|twine"),
}
#: pip options an install line may carry; those taking a value must name a file of the repository.
FLAGS = {
    "-e",
    "--editable",
    "-q",
    "--quiet",
    "-U",
    "--upgrade",
    "--disable-pip-version-check",
    "--no-cache-dir",
    "--no-deps",
    "--require-hashes",
    "--no-build-isolation",
}
FILE_OPTIONS = {"-c", "--constraint", "-r", "--requirement"}
#: A line installing the PyPI release says within this many lines what that needs.
NEARBY = 8

_SKIPPED_DIRS = {
    ".git",
    "tests",
    "build",
    "dist",
    ".boldrules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    ".import_linter_cache",
    ".venv",
}


def documents() -> list[Path]:
    """Every file a reader may copy an install line from (hidden CI folders included)."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.endswith(".egg-info")]
        for name in files:
            path = Path(folder) / name
            if path.suffix in {".md", ".yml", ".yaml"} or path == ROOT / ".ci" / "run":
                found.append(path)
    return sorted(found)


@dataclass(frozen=True)
class Install:
    """One ``pip install`` found in a file: where, and its arguments."""

    file: Path
    line: int
    args: tuple[str, ...]
    context: str

    def __str__(self) -> str:
        where = self.file.relative_to(ROOT) if self.file.is_relative_to(ROOT) else self.file.name
        return f"{where}:{self.line}: pip install {shlex.join(self.args)}"


_PIP = re.compile(r"""pip3?["']?\s+install\b([^`\n]*)""")
_END = re.compile(r"\s(&&|\|\||;|\||#)\s|\s#\s?|\)$")
_REV = re.compile(r"\brev:\s*([^\s`#]+)")


def installs(path: Path) -> Iterator[Install]:
    """Every ``pip install`` with arguments in ``path``; bare mentions of the command are prose."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        for match in _PIP.finditer(line):
            rest = _END.split(match.group(1), maxsplit=1)[0]
            args = tuple(shlex.split(rest.strip().rstrip(";,:)")))
            if args:
                window = lines[max(0, number - 1 - NEARBY) : number + 2]
                yield Install(path, number, args, "\n".join(window))


def problems_of(install: Install) -> list[str]:
    """What is wrong with one install line (nothing for a supported form)."""
    found = []
    args = list(install.args)
    requirements = 0
    while args:
        arg = args.pop(0)
        if arg in FLAGS:
            continue
        if arg in FILE_OPTIONS:
            given = args.pop(0) if args else ""
            if not ((ROOT / given).is_file() or (install.file.parent / given).is_file()):
                found.append(f"{install}: {arg} {given!r} is not a file of the repository")
            continue
        requirements += 1
        forms = [name for name, pattern in SUPPORTED.items() if pattern.fullmatch(arg)]
        if not forms:
            found.append(f"{install}: {arg!r} is not a supported form (see docs/ci.md)")
        elif forms == ["release"] and not re.search(r"PyPI|Installing boldrules", install.context):
            found.append(f"{install}: does not say nearby that it needs the release on PyPI")
    if not requirements:
        found.append(f"{install}: installs nothing")
    return found


ALL = [install for path in documents() for install in installs(path)]


def test_the_scan_finds_the_install_lines_people_copy() -> None:
    where = {str(i.file.relative_to(ROOT)) for i in ALL}
    assert {
        "README.md",
        "CONTRIBUTING.md",
        ".ci/run",
        "docs/ci.md",
        "docs/pre-commit.md",
        "examples/github-actions/README.md",
        "examples/gitlab-ci/README.md",
        "examples/gitlab-ci/.gitlab-ci.yml",
        "examples/github-actions/.github/workflows/boldrules-plan.yml",
        "examples/github-actions/.github/workflows/boldrules-apply.yml",
        "examples/github-actions/.github/workflows/boldrules-drift.yml",
        ".github/workflows/release.yml",
    } <= where


@pytest.mark.parametrize("install", ALL, ids=str)
def test_every_pip_install_is_a_supported_form(install: Install) -> None:
    assert problems_of(install) == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("pip install boldrules==0.0.9", "'boldrules==0.0.9' is not a supported form"),
        ("pip install boldrules", "'boldrules' is not a supported form"),
        ("pip install -U boldrules>=0.1", "'boldrules>=0.1' is not a supported form"),
        ("pip install -c nowhere.txt -e .", "-c 'nowhere.txt' is not a file of the repository"),
        ("pip install -e", "installs nothing"),
        (f"pip install boldrules=={VERSION}", "does not say nearby that it needs the release"),
        (
            'pip install "boldrules @ git+https://github.com/acme/boldrules@main"',
            "is not a supported form",
        ),
    ],
)
def test_the_check_catches_unsupported_lines(tmp_path: Path, line: str, problem: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"Run `{line}` first.\n", encoding="utf-8")
    (found,) = installs(page)
    assert any(problem in p for p in problems_of(found)), problems_of(found)


def test_the_check_accepts_each_documented_form(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Once 0.1.0 is on PyPI:\n"
        f"    pip install boldrules=={VERSION}\n"
        f'    pip install "boldrules @ git+https://github.com/OWNER/boldrules@v{VERSION}"\n'
        "    pip install -e . && boldrules plan\n"
        "    python -m pip install --quiet -e '.[test]'\n"
        f"    pip install vendor/boldrules-{VERSION}-py3-none-any.whl  # built once\n"
        "    pip install pre-commit\n",
        encoding="utf-8",
    )
    found = list(installs(page))
    assert len(found) == 6
    assert [p for install in found for p in problems_of(install)] == []


def rev_lines() -> list[tuple[str, str]]:
    return [
        (f"{path.relative_to(ROOT)}:{number}", match.group(1))
        for path in documents()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for match in _REV.finditer(line)
    ]


def test_every_pre_commit_rev_is_the_release_tag() -> None:
    revs = rev_lines()
    assert any(where.startswith("docs/pre-commit.md") for where, _ in revs)
    assert [(where, rev) for where, rev in revs if rev != f"v{VERSION}"] == []


# --------------------------------------------------------------------------------------------
# The release workflow that makes the pinned lines true
# --------------------------------------------------------------------------------------------


def _release() -> dict[Any, Any]:
    workflow: dict[Any, Any] = yaml.safe_load(RELEASE_WORKFLOW.read_text(encoding="utf-8"))
    return workflow


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_release_runs_on_version_tags_only() -> None:
    workflow = _release()
    assert workflow[True] == {"push": {"tags": ["v*"]}}  # YAML 1.1 reads `on:` as true
    assert workflow["permissions"] == {"contents": "read"}


def test_release_builds_checks_and_tries_the_wheel_before_publishing() -> None:
    build = _release()["jobs"]["build"]
    runs = _runs(build)
    for needed in (
        'if [ "v$version" != "$GITHUB_REF_NAME" ]',
        "python -m build",
        "twine check --strict dist/*",
        'python -m venv "$RUNNER_TEMP/fresh"',
        "dist/boldrules-$VERSION-py3-none-any.whl",
        "tar -tzf",
    ):
        assert needed in runs, needed
    used = [argv for argv in invocations(runs.replace("fresh/bin/boldrules", "boldrules"))]
    assert [argv[0] for argv in used if argv and not argv[0].startswith("-")] == [
        "validate",
        "schema",
        "plan",
    ]
    assert [p for argv in used for p in check_invocation(argv)] == []
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in build["steps"])


def test_release_publishes_with_trusted_publishing_only_after_the_build() -> None:
    publish = _release()["jobs"]["publish"]
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert uses[-1] == "pypa/gh-action-pypi-publish@release/v1"
    assert "password" not in str(publish)  # no stored PyPI token: the OIDC token is the proof


def test_the_sdist_manifest_carries_what_the_docs_link_to() -> None:
    text = (ROOT / "MANIFEST.in").read_text(encoding="utf-8")
    grafted = set(re.findall(r"^graft (\S+)$", text, re.MULTILINE))
    assert {"docs", "examples", "tests", "schemas", "bench"} <= grafted
    included = {
        w for line in re.findall(r"^include (.+)$", text, re.MULTILINE) for w in line.split()
    }
    assert {"LICENSE", "README.md", "CHANGELOG.md", "CONTRIBUTING.md"} <= included
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
