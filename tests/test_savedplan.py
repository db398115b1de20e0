"""The saved-plan file: written whole, read back with its checksum, refused when damaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import errors, model, savedplan

from .projects import make, ruleset


def test_saved_plan_round_trip_and_tamper_check(tmp_path: Path) -> None:
    p = make([ruleset("spring", public_name="new")], [ruleset("spring")])
    path = tmp_path / "plan.json"
    savedplan.write_plan(p, path)
    saved = savedplan.read_plan(path)
    assert saved.checksum == p.checksum
    assert [c.key for c in saved.changes] == [model.ruleset_key("spring")]
    document = json.loads(path.read_text())
    assert "token" not in path.read_text().lower()
    document["changes"][0]["desired"]["body"]["public_name"] = "tampered"
    path.write_text(json.dumps(document))
    with pytest.raises(errors.PlanFileInvalid, match="edited after"):
        savedplan.read_plan(path)


@pytest.mark.parametrize("content", ["", "{", "[]", '{"format_version": 99}'])
def test_unreadable_plan_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(errors.PlanFileInvalid, match=r"plan\.json"):
        savedplan.read_plan(path)
