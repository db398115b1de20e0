"""``boldrules schema``: the JSON Schemas in a user's project, where the modelines point."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import reconciler
from reconciler import cli

ROOT = Path(__file__).parent.parent
SHIPPED = sorted((ROOT / "schemas").glob("*.schema.json"))
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/boldrules.yaml"))
MODELINE = re.compile(r"#\s*yaml-language-server:\s*\$schema=(\S+)")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def test_schema_writes_every_shipped_schema_into_the_project(tmp_path: Path) -> None:
    assert {p.name for p in SHIPPED} >= {
        "manifest.schema.json",
        "project.schema.json",
        "plan.schema.json",
    }
    result = run("schema", "-C", str(tmp_path))
    assert result.exit_code == 0
    folder = tmp_path / ".boldrules" / "schemas"
    assert result.stderr == (
        f"Wrote {len(SHIPPED)} JSON Schemas of boldrules {reconciler.__version__} to {folder}: "
        f"{', '.join(p.name for p in SHIPPED)}.\n"
    )
    assert sorted(p.name for p in folder.iterdir()) == [p.name for p in SHIPPED]
    for shipped in SHIPPED:
        assert (folder / shipped.name).read_bytes() == shipped.read_bytes()
    # Run again (after an upgrade, say): the files are replaced, nothing else is left behind.
    (folder / "manifest.schema.json").write_text("{}")
    assert run("-q", "schema", "-C", str(tmp_path)).stderr == ""
    assert (folder / "manifest.schema.json").read_bytes() == (
        ROOT / "schemas" / "manifest.schema.json"
    ).read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == [p.name for p in SHIPPED]


def test_schema_out_elsewhere_and_a_folder_it_cannot_make(tmp_path: Path) -> None:
    assert run("schema", "--out", str(tmp_path / "editor" / "schemas")).exit_code == 0
    assert (tmp_path / "editor" / "schemas" / "project.schema.json").is_file()
    (tmp_path / "a-file").write_text("")
    result = run("schema", "--out", str(tmp_path / "a-file" / "schemas"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: --out {tmp_path / 'a-file' / 'schemas'}: cannot write the schemas "
        "(Not a directory)\n"
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_modeline_of_an_example_points_at_a_schema_it_has_after_boldrules_schema(
    example: Path, tmp_path: Path
) -> None:
    project = tmp_path / example.name
    shutil.copytree(example, project, ignore=shutil.ignore_patterns(".boldrules"))
    assert run("-q", "schema", "-C", str(project)).exit_code == 0
    pointed = []
    for path in sorted(project.rglob("*")):
        if path.suffix not in {".yaml", ".yml", ".j2"} or ".github" in path.parts:
            continue
        found = MODELINE.search(path.read_text(encoding="utf-8").split("\n", 1)[0])
        if path.name == "boldrules.yaml" or "pricing" in path.parts:
            assert found, f"{path.relative_to(project)} has no modeline on its first line"
        if found:
            target = (path.parent / found.group(1)).resolve()
            assert target.is_file(), f"{path.relative_to(project)} points at {found.group(1)}"
            pointed.append(target.name)
    assert "project.schema.json" in pointed and "manifest.schema.json" in pointed
