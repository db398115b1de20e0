"""Every example project: apply, then plan is empty; export, adopt the export, plan is empty."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from reconciler import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROJECTS = sorted(p.parent for p in EXAMPLES.glob("*/boldrules.yaml"))


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli.main, ["-C", str(root), *args], catch_exceptions=False)


@pytest.mark.parametrize("example", PROJECTS, ids=[p.name for p in PROJECTS])
def test_apply_then_export_round_trips(example: Path, tmp_path: Path) -> None:
    root = tmp_path / example.name
    shutil.copytree(example, root, ignore=shutil.ignore_patterns(".boldrules"))
    settings = yaml.safe_load((root / "boldrules.yaml").read_text()) or {}
    default = settings.get("default_target", "sandbox")
    target = settings.setdefault("targets", {}).setdefault(
        default, {"sandbox": ".boldrules/sandbox.sqlite"}
    )
    assert "sandbox" in target, f"{example.name}: its default target should be the embedded sandbox"
    target.update(rate=1000, burst=1000)  # the embedded sandbox; pacing only slows the test
    (root / "boldrules.yaml").write_text(yaml.safe_dump(settings))

    applied = run(root, "apply", "--yes", "--allow-delete")
    assert applied.exit_code == 0, applied.stderr
    planned = run(root, "plan", "--detailed-exitcode")
    assert (planned.exit_code, planned.stdout.splitlines()[-1]) == (0, "No changes.")

    exported = run(root, "export", "--out", "exported", "--split", "--all-codes")
    assert exported.exit_code == 0, exported.stderr
    settings["manifests"] = ["exported/"]
    (root / "boldrules.yaml").write_text(yaml.safe_dump(settings))
    assert run(root, "validate").exit_code == 0
    again = run(root, "plan", "--detailed-exitcode")
    assert (again.exit_code, again.stdout.splitlines()[-1]) == (0, "No changes."), again.stdout
