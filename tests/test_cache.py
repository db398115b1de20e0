"""``.boldrules/cache/``: an unchanged manifest is not read twice, and nothing can be injected."""

from __future__ import annotations

import marshal
import textwrap
from pathlib import Path

import pytest

from reconciler import config, errors, manifest

PROJECT = """\
manifests: [pricing/]
default_target: a
targets:
  a: {sandbox: a.sqlite, vars: {percent: -10}}
  b: {sandbox: b.sqlite, vars: {percent: -20}}
"""

RULESET = """\
rulesets:
  - external_id: spring
    product_selection: {type: PRODUCTS_ALL}
    rules:
      - external_id: all
        type: DISCOUNT
        conditions: [{type: CUSTOMER_GROUP, value: gold}]
        actions: [{type: PRICE_ADJUST_PERCENT, value: %s}]
"""


@pytest.fixture(autouse=True)
def _own_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    monkeypatch.delenv(manifest.CACHE_VARIABLE, raising=False)


def _project(tmp_path: Path, files: dict[str, str]) -> config.Project:
    root = tmp_path / "project"
    (root / "pricing").mkdir(parents=True)
    (root / "boldrules.yaml").write_text(PROJECT)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text))
    return config.load_project(root)


def _percents(project: config.Project, target: str) -> list[object]:
    loaded = manifest.load_manifests(project, project.target(target))
    return [
        (d.origin.line, d.data["rules"][0]["actions"][0]["value"])
        for d in loaded.objects
        if d.key.kind == "ruleset"
    ]


def _entries(project: config.Project) -> list[Path]:
    return sorted(p for p in (project.root / ".boldrules" / "cache").glob("??/*"))


def test_a_second_load_reads_the_cache_and_gives_the_same(tmp_path: Path) -> None:
    project = _project(tmp_path, {"pricing/r.yaml": RULESET % "-10"})
    assert _percents(project, "a") == [(2, -10)]
    assert len(_entries(project)) == 1
    assert (project.root / ".boldrules" / "cache" / ".gitignore").read_text().endswith("*\n")
    assert _percents(project, "a") == [(2, -10)]
    assert len(_entries(project)) == 1  # read from the entry, not written again


def test_template_output_is_the_key_so_vars_are_never_missed(tmp_path: Path) -> None:
    project = _project(tmp_path, {"pricing/r.yaml.j2": RULESET % "{{ percent }}"})
    assert _percents(project, "a") == [(2, -10)]
    assert _percents(project, "b") == [(2, -20)]
    assert _percents(project, "a") == [(2, -10)]
    assert len(_entries(project)) == 2


def test_a_committed_entry_cannot_inject_objects(tmp_path: Path) -> None:
    project = _project(tmp_path, {"pricing/r.yaml": RULESET % "-10"})
    _percents(project, "a")
    (entry,) = _entries(project)
    forged = marshal.dumps(
        ({"rulesets": [{"external_id": "evil", "rules": [{"actions": [{"value": -100}]}]}]}, {})
    )
    entry.write_bytes(b"\0" * 32 + forged)  # what a pull request could commit: no valid tag
    assert _percents(project, "a") == [(2, -10)]


def test_off_switch_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(manifest.CACHE_VARIABLE, "off")
    project = _project(tmp_path, {"pricing/r.yaml": RULESET % "-10"})
    assert _percents(project, "a") == [(2, -10)]
    assert not (project.root / ".boldrules" / "cache").exists()


def test_a_file_with_problems_is_not_cached(tmp_path: Path) -> None:
    project = _project(tmp_path, {"pricing/r.yaml": RULESET % "'-10'"})
    with pytest.raises(errors.ManifestInvalid):
        _percents(project, "a")
    assert _entries(project) == []
