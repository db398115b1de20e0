"""`plan --all-targets`: every target planned in one run, one combined summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from reconciler import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PROJECT = """\
manifests: [pricing/]
default_target: east
targets:
  east: {sandbox: .boldrules/east.sqlite, rate: 1000, burst: 1000}
  west: {sandbox: .boldrules/west.sqlite, rate: 1000, burst: 1000}
  production:
    api_url: https://api.boldcommerce.com
    shop_identifier: zp3oafdor9
    token_env: BOLDRULES_ALL_TARGETS_UNSET
"""


def test_every_target_in_one_run(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "quickstart" / "pricing", tmp_path / "pricing")
    (tmp_path / "boldrules.yaml").write_text(PROJECT)
    runner = CliRunner()
    assert (
        runner.invoke(
            cli.main, ["-C", str(tmp_path), "apply", "--yes", "--target", "east"]
        ).exit_code
        == 0
    )

    result = runner.invoke(
        cli.main,
        ["-C", str(tmp_path), "plan", "--all-targets", "--detailed-exitcode"],
        env={"BOLDRULES_ALL_TARGETS_UNSET": ""},
    )
    assert result.stdout.splitlines()[-1] == (
        "All targets: 7 to create, 0 to update, 0 to delete across 2 targets; 1 could not be planned (production)."
    )
    assert (
        "Target east (shop sandbox-shop" in result.stdout
        and "Target west (shop sandbox-shop" in result.stdout
    )
    assert (
        "error: target production: target 'production' reads its token from $BOLDRULES_ALL_TARGETS_UNSET"
        in result.stderr
    )
    assert result.exit_code == 7  # the worst outcome wins: a target that could not be planned

    out = tmp_path / "plans"
    markdown = runner.invoke(
        cli.main,
        ["-C", str(tmp_path), "plan", "--all-targets", "--format", "markdown", "--out", str(out)],
        env={"BOLDRULES_ALL_TARGETS_UNSET": ""},
    )
    assert markdown.stdout.startswith(
        "<!-- boldrules-plan all-targets -->\n## boldrules: All targets: 7 to create"
    )
    assert markdown.stdout.count("<!-- boldrules-plan target=") == 2
    assert "### ❌ boldrules plan for `production`" in markdown.stdout
    assert sorted(p.name for p in out.iterdir()) == ["east.json", "west.json"]
    assert json.loads((out / "west.json").read_text())["summary"] == {
        "create": 7,
        "update": 0,
        "delete": 0,
    }


def test_all_targets_and_target_exclude_each_other(tmp_path: Path) -> None:
    (tmp_path / "boldrules.yaml").write_text(PROJECT)
    result = CliRunner().invoke(
        cli.main, ["-C", str(tmp_path), "plan", "--all-targets", "--target", "east"]
    )
    assert result.exit_code == 1
    assert "--all-targets and --target exclude each other" in result.stderr
