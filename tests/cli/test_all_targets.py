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


AGENCY = """\
manifests: [pricing/]
default_target: alpha
targets:
  alpha: {sandbox: .boldrules/alpha.sqlite, rate: 1000, burst: 1000, vars: {discount: -10}}
  beta: {sandbox: .boldrules/beta.sqlite, rate: 1000, burst: 1000, vars: {discount: -10}}
  gamma: {sandbox: .boldrules/gamma.sqlite, rate: 1000, burst: 1000, vars: {discount: -20}}
  broken: {sandbox: .boldrules/broken.sqlite, rate: 1000, burst: 1000, vars: {discount: oops}}
"""

TEMPLATE = """\
rulesets:
  - external_id: members
    public_name: Members
    product_selection: {type: PRODUCTS_ALL}
    rules:
      - external_id: members
        type: DISCOUNT
        conditions: [{type: CUSTOMER_GROUP, value: members}]
        actions: [{type: PRICE_ADJUST_PERCENT, value: {{ discount }}}]
"""


def agency(tmp_path: Path) -> Path:
    """Four shops from one template: three with usable vars (two sharing them), one broken."""
    (tmp_path / "pricing").mkdir()
    (tmp_path / "pricing" / "members.yaml.j2").write_text(TEMPLATE)
    (tmp_path / "boldrules.yaml").write_text(AGENCY)
    return tmp_path


def test_shops_are_planned_apart_and_the_worst_exit_wins(tmp_path: Path) -> None:
    root = agency(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli.main, ["-C", str(root), "apply", "-y", "-t", "gamma"]).exit_code == 0

    result = runner.invoke(
        cli.main, ["-C", str(root), "plan", "--all-targets", "--jobs", "2", "--detailed-exitcode"]
    )

    # The broken target's manifests fail alone (exit 3, the worst here); the others are planned.
    assert result.exit_code == 3
    assert "pricing/members.yaml.j2" in result.stderr and "broken" in result.stderr
    lines = result.stdout.splitlines()
    table = lines[lines.index("target  shop          create  update  delete") :]
    assert table == [
        "target  shop          create  update  delete",
        "alpha   sandbox-shop       1       0       0  changes pending",
        "beta    sandbox-shop       1       0       0  changes pending",
        "broken                                        not planned (exit 3)",
        "gamma   sandbox-shop       0       0       0  no changes",
        "All targets: 2 to create, 0 to update, 0 to delete across 3 targets; "
        "1 could not be planned (broken).",
    ]


def test_markdown_summary_has_a_table_of_shops(tmp_path: Path) -> None:
    root = agency(tmp_path)
    (root / "boldrules.yaml").write_text(AGENCY.replace("discount: oops", "discount: -5"))
    result = CliRunner().invoke(
        cli.main, ["-C", str(root), "plan", "--all-targets", "--format", "markdown"]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:8] == [
        "<!-- boldrules-plan all-targets -->",
        "## boldrules: All targets: 4 to create, 0 to update, 0 to delete across 4 targets.",
        "",
        "| target | shop | create | update | delete | |",
        "|---|---|--:|--:|--:|---|",
        "| `alpha` | `sandbox-shop` | 1 | 0 | 0 | changes pending |",
        "| `beta` | `sandbox-shop` | 1 | 0 | 0 | changes pending |",
        "| `broken` | `sandbox-shop` | 1 | 0 | 0 | changes pending |",
    ]
    assert result.stdout.count("<!-- boldrules-plan target=") == 4


def test_jobs_needs_all_targets(tmp_path: Path) -> None:
    root = agency(tmp_path)
    result = CliRunner().invoke(cli.main, ["-C", str(root), "plan", "--jobs", "2"])
    assert result.exit_code == 1
    assert "--jobs plans several targets at once: add --all-targets" in result.stderr


def test_targets_as_a_ci_matrix(tmp_path: Path) -> None:
    root = agency(tmp_path)
    runner = CliRunner()
    matrix = runner.invoke(cli.main, ["-C", str(root), "targets", "--format", "json"])
    assert matrix.exit_code == 0
    assert json.loads(matrix.stdout) == {"target": ["alpha", "beta", "broken", "gamma"]}
    text = runner.invoke(cli.main, ["-C", str(root), "targets"])
    assert text.stdout == "alpha\nbeta\nbroken\ngamma\n"


def test_worker_processes_are_capped_by_free_memory() -> None:
    from reconciler import pipeline

    gib = 1024**3
    # 8 shops in flight per process, 40 MB + 24 KB an object each: a 10,000-ruleset project
    # needs about 2.2 GB a process, so 4 GiB free (half of it usable) allows one process.
    assert pipeline.memory_cap(10_000, available=4 * gib) == 1
    assert pipeline.memory_cap(10_000, available=24 * gib) == 5
    assert pipeline.memory_cap(500, available=24 * gib) >= 8
    assert pipeline.memory_cap(10_000, available=0) == 1  # never none at all
