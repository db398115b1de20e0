"""The public Python surface, pinned as httpx pins its own: what the docs promise is exactly what
the packages export, and every promised name exists.

Three lists are read out of the docs, not restated here: ``reconciler.__all__`` from the README's
*From Python* section, ``reconciler.sandbox.__all__`` and the methods of ``Sandbox`` from
docs/sandbox.md. Adding a public name means documenting it; removing one means changing the docs.
"""

from __future__ import annotations

import importlib
import re
import types
from pathlib import Path

import pytest

import reconciler
from reconciler import sandbox

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SANDBOX_DOC = (ROOT / "docs" / "sandbox.md").read_text(encoding="utf-8")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def section(text: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same level or higher."""
    level = heading.split(" ")[0]
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    after = re.search(rf"^#{{1,{len(level)}}} ", text[start:], re.MULTILINE)
    return text[start : start + after.start()] if after else text[start:]


def sentence(text: str, opening: str) -> str:
    """The sentence of ``text`` that starts with ``opening`` (up to its closing period)."""
    start = text.index(opening)
    match = re.compile(r"\.(\s|$)").search(text, start + len(opening))
    assert match is not None, f"no period after {opening!r}"
    return text[start : match.start()]


def code_names(text: str) -> list[str]:
    """Each name written as inline code (`name`, `name(args)`, `Class.name(...)`), in order."""
    return re.findall(r"`(?:[A-Za-z_]+\.)?(\w+)(?:\([^`]*\))?`", text)


def public(module: types.ModuleType) -> list[str]:
    """The module's public names, httpx's way: every name bound in it but private ones and
    submodules; ``__version__`` counts as public."""
    return [
        name
        for name, value in vars(module).items()
        if (not name.startswith("_") or name == "__version__")
        and not isinstance(value, types.ModuleType)
    ]


def imports_in_docs(module: str) -> set[str]:
    """Every name a code block of the README or docs/ imports ``from <module>``."""
    found: set[str] = set()
    pattern = re.compile(rf"^from {re.escape(module)} import ([\w, ]+)$", re.MULTILINE)
    for page in DOCS:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
            for names in pattern.findall(block):
                found.update(name.strip() for name in names.split(","))
    return found


# --- reconciler ------------------------------------------------------------------------------


def test_the_package_surface_is_the_one_the_readme_promises() -> None:
    promised = code_names(section(README, "## From Python"))
    promised = [name for name in promised if name not in ("reconciler", "__all__")]
    assert sorted(reconciler.__all__) == sorted(set(promised))


@pytest.mark.parametrize("name", reconciler.__all__)
def test_each_promised_name_exists(name: str) -> None:
    if name == "__version__":
        assert re.fullmatch(r"\d+\.\d+\.\d+.*", reconciler.__version__)
    else:
        assert importlib.import_module(f"reconciler.{name}") is getattr(reconciler, name)


def test_the_package_binds_nothing_public_it_does_not_promise() -> None:
    assert [n for n in public(reconciler) if n not in reconciler.__all__] == []


def test_the_docs_import_only_promised_names() -> None:
    assert imports_in_docs("reconciler") <= set(reconciler.__all__)
    assert imports_in_docs("reconciler") == {"config", "connect"}  # docs/client.md's example


# --- reconciler.sandbox ----------------------------------------------------------------------


def test_the_sandbox_exports_exactly_the_names_its_page_lists() -> None:
    listed = code_names(sentence(SANDBOX_DOC, "The package's names, all of them:"))
    assert sorted(sandbox.__all__) == sorted(listed)
    assert sorted(public(sandbox)) == sorted(sandbox.__all__)
    assert imports_in_docs("reconciler.sandbox") <= set(sandbox.__all__)


@pytest.mark.parametrize("name", sandbox.__all__)
def test_each_sandbox_name_exists(name: str) -> None:
    assert getattr(sandbox, name) is not None


def test_the_sandbox_methods_are_the_documented_ones() -> None:
    listed = code_names(sentence(SANDBOX_DOC, "`Sandbox.embedded(path)` creates"))
    listed += code_names(sentence(SANDBOX_DOC, "Every other\nmethod and property of `Sandbox`:"))
    documented = {name for name in listed if name not in ("Sandbox", "DEFAULT_TOKEN")}
    members = {name for name in vars(sandbox.Sandbox) if not name.startswith("_")}
    assert documented == members


def test_a_served_sandbox_has_what_its_page_says() -> None:
    said = set(code_names(sentence(SANDBOX_DOC, "`serve(sb, host=, port=,")))
    assert {"url", "host", "port", "close", "wait"} <= said
    with sandbox.serve(sandbox.Sandbox(), port=0) as server:
        assert server.url == f"http://{server.host}:{server.port}"
        assert callable(server.close) and callable(server.wait)
