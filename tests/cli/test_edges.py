"""Edges a user meets early: a ``--out`` that cannot be written, and a shop with nothing in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Run


def test_plan_out_into_a_missing_folder_fails_before_any_call(run: Run, project: Path) -> None:
    missing = project / "no" / "such" / "plan.json"
    result = run("plan", "--out", str(missing))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: --out {missing}: no folder {missing.parent}: create it first, "
        "or choose another path\n"
    )
    # No plan was made: the embedded sandbox's store was never even opened.
    assert not (project / ".boldrules").exists()


def test_plan_out_naming_a_folder_is_refused(run: Run, project: Path) -> None:
    result = run("plan", "--out", str(project))
    assert result.exit_code == 1
    assert result.stderr == f"error: --out {project}: is a folder; give a file name\n"


def test_plan_all_targets_out_is_a_folder_made_once_and_reused(run: Run, project: Path) -> None:
    folder = project / "plans" / "today"
    for _ in range(2):  # the second run writes into the folder the first one made
        result = run("plan", "--all-targets", "--out", str(folder))
        assert result.exit_code == 0, result.stderr
        assert json.loads((folder / "sandbox.json").read_text())["target"] == "sandbox"
    (project / "a-file").write_text("")
    refused = run("plan", "--all-targets", "--out", str(project / "a-file"))
    assert refused.exit_code == 1
    assert (
        refused.stderr
        == f"error: --out {project / 'a-file'}: is a file, not a folder for the plans\n"
    )


@pytest.mark.parametrize("split", [False, True], ids=["one-file-per-kind", "split"])
def test_an_empty_shop_exports_and_plans_back_to_no_changes(
    run: Run, project: Path, split: bool
) -> None:
    result = run("export", "--out", "exported", *(["--split"] if split else []))
    assert result.exit_code == 0, result.stderr
    assert (
        f"Wrote 1 file to {project / 'exported'}: 0 order conditions, 0 rulesets, 0 discount codes."
        in result.stderr
    )
    assert [p.name for p in (project / "exported").rglob("*")] == ["rulesets.yaml"]
    text = (project / "exported" / "rulesets.yaml").read_text()
    assert text.endswith(
        "# The shop held nothing this project would own, so this file declares nothing. Keep it:\n"
        "# a manifests: folder must hold at least one manifest. Add objects here or beside it.\n"
        "rulesets: []\n"
    )
    project_file = project / "boldrules.yaml"
    project_file.write_text(
        project_file.read_text().replace("manifests: [pricing/]", "manifests: [exported/]")
    )
    assert run("validate").exit_code == 0
    plan = run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stderr
    assert plan.stdout.splitlines()[-1] == "No changes."


def test_export_into_a_path_under_a_file_fails_before_any_call(run: Run, project: Path) -> None:
    (project / "notes.txt").write_text("")
    result = run("export", "--out", "notes.txt/exported")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: --out {project / 'notes.txt' / 'exported'}: {project / 'notes.txt'} is a file, "
        "not a folder\n"
    )
    assert not (project / ".boldrules").exists()
