"""reconciler.atomic: a saved plan, a snapshot or an exported manifest is written whole or not at
all: a failed write leaves the previous file as it was and no temporary file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import atomic, errors, plan, safetyrules, savedplan


def test_writes_the_text_whole(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")
    atomic.write_text(target, "new — prix réduit\n")
    assert target.read_text(encoding="utf-8") == "new — prix réduit\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_makes_the_folders_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "rulesets.yaml"
    atomic.write_text(target, "rulesets: []\n", make_folders=True)
    assert target.read_text(encoding="utf-8") == "rulesets: []\n"


def test_without_make_folders_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic.write_text(tmp_path / "missing" / "plan.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.mkdir()  # renaming a file over a folder fails after the text is written
    (target / "keep").write_text("kept")
    with pytest.raises(OSError):
        atomic.write_text(target, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]
    assert (target / "keep").read_text() == "kept"


def test_a_saved_plan_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.mkdir()
    (target / "keep").write_text("kept")
    safety = safetyrules.SafetyReport(0, 0, 0, 0.0, 0.0, ())
    empty = plan.Plan("sandbox", "s", "2022-10-14", (), {}, {}, safety)
    with pytest.raises(errors.PlanFileInvalid) as raised:
        savedplan.write_plan(empty, target)
    assert str(raised.value).startswith(f"{target}: cannot write the plan (")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]
