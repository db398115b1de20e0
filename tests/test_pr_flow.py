"""The pull-request flow of docs/ci.md, end to end against the embedded sandbox.

Owns the proof that the CI workflows' own command lines (read out of
``examples/github-actions/.github/workflows/``, not retyped) do what the guide says: a plan on
the branch saved with ``--out``; a change to the shop made meanwhile by someone else; the saved
plan refused as stale (exit 6) with nothing changed; the apply-on-merge steps (a fresh plan from
the merged commit, then apply of that plan) converging; and the nightly drift check then finding
"No changes." (exit 0). Also the exits the guide promises for deletes, safety refusals, invalid
manifests and a missing token.

Each test copies the example project to a temporary folder and runs there; nothing touches the
network, and the example itself is never changed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from reconciler import cli, client, config, connect
from tests.test_ci_examples import GITHUB, workflow_command

#: What the workflows run, read from them (with the matrix target resolved to `sandbox`).
PR_VALIDATE = workflow_command("boldrules-plan.yml", "Validate")
PR_PLAN = workflow_command("boldrules-plan.yml", "Plan")
MERGE_PLAN = workflow_command("boldrules-apply.yml", "Plan")
MERGE_APPLY = workflow_command("boldrules-apply.yml", "Apply")
NIGHTLY_DRIFT = workflow_command("boldrules-drift.yml", "Plan")

MARKER = "<!-- boldrules-plan target=sandbox -->"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The GitHub example copied to a fresh folder, run from there as CI runs from the repo root.

    The embedded sandbox paces its client like Bold (10 calls/s); the copy lifts that so the
    test stays fast.
    """
    root = tmp_path / "repo"
    shutil.copytree(GITHUB, root, ignore=shutil.ignore_patterns(".boldrules"))
    edit_project(root, lambda data: data["targets"]["sandbox"].update(rate=1000, burst=1000))
    monkeypatch.chdir(root)
    yield root


def edit_project(root: Path, change: Any) -> None:
    path = root / "boldrules.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def run(argv: list[str]) -> Result:
    """One CI step: the command line as the workflow has it, in the project folder."""
    return CliRunner().invoke(cli.main, argv)


def merge_and_apply() -> Result:
    """The apply-on-merge job: plan from the merged commit with --out, apply that file."""
    planned = run(MERGE_PLAN)
    assert planned.exit_code == 0, planned.output
    return run(MERGE_APPLY)


def edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / "pricing" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def drop_case_ruleset(root: Path) -> None:
    """The pull request deletes the case-of-twelve ruleset from the manifests."""
    path = root / "pricing" / "rulesets.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("  # Volume pricing")], encoding="utf-8")


def shop_client(root: Path) -> client.BoldClient:
    """Someone else's hands on the same shop: a client on the sandbox's SQLite file."""
    project = config.load_project(root)
    return connect.connect(project.target("sandbox"), routes=project.routes)


def test_pull_request_plan_goes_stale_then_merge_converges(project: Path) -> None:
    # main is live: what is on the default branch has been applied.
    first = merge_and_apply()
    assert first.exit_code == 0, first.output
    assert Path("ledger.jsonl").read_text(encoding="utf-8").count("\n") >= 3

    # The pull request: gold members get 25% instead of 20%, and a new ruleset.
    edit(project, "rulesets.yaml", "value: -20", "value: -25")
    with (project / "pricing" / "staff.yaml").open("w", encoding="utf-8") as handle:
        handle.write(
            "rulesets:\n"
            "  - external_id: staff\n"
            "    product_selection: {type: PRODUCTS_ALL}\n"
            "    rules:\n"
            "      - external_id: staff-thirty-off\n"
            "        type: DISCOUNT\n"
            "        conditions: [{type: CUSTOMER_GROUP, value: staff}]\n"
            "        actions: [{type: PRICE_ADJUST_PERCENT, value: -30}]\n"
        )
    assert run(PR_VALIDATE).exit_code == 0
    pr = run(PR_PLAN)
    assert pr.exit_code == 0, pr.output
    assert pr.stdout.splitlines()[0] == MARKER  # the sticky comment is found by this line
    assert "**Plan: 1 to create, 1 to update, 0 to delete.**" in pr.stdout
    saved = Path(PR_PLAN[PR_PLAN.index("--out") + 1])
    assert json.loads(saved.read_text(encoding="utf-8"))["summary"] == {
        "create": 1,
        "update": 1,
        "delete": 0,
    }
    assert "sandbox-local-token" not in saved.read_text(encoding="utf-8")
    pr_plan = saved.read_bytes()

    # Meanwhile someone edits the gold ruleset in Bold's admin.
    with shop_client(project) as shop:
        live = shop.get_ruleset("gold-members")
        assert live is not None
        shop.upsert_ruleset("gold-members", {**live, "public_name": "Edited in the admin"})

    # Applying the pull request's saved plan now is refused, naming what moved; nothing changes.
    saved.write_bytes(pr_plan)
    stale = run(["apply", str(saved), "--yes", "--allow-delete"])
    assert stale.exit_code == 6, stale.output
    assert "The saved plan is stale: 1 object changed since it was made:" in stale.stderr
    assert "gold-members" in stale.stderr
    with shop_client(project) as shop:
        assert shop.get_ruleset("staff") is None
        edited = shop.get_ruleset("gold-members")
        assert edited is not None and edited["public_name"] == "Edited in the admin"

    # The merge: a fresh plan from the merged commit, applied, converges.
    merged = merge_and_apply()
    assert merged.exit_code == 0, merged.output
    assert "Apply complete:" in merged.stderr

    # The nightly drift check finds nothing to do.
    drift = run(NIGHTLY_DRIFT)
    assert drift.exit_code == 0, drift.output
    assert drift.stdout.splitlines()[0] == MARKER
    assert "No changes." in drift.stdout
    again = run(["plan", "--detailed-exitcode"])
    assert again.exit_code == 0
    assert again.stdout.rstrip().endswith("No changes.")
    with shop_client(project) as shop:
        gold = shop.get_ruleset("gold-members")
        assert gold is not None and gold["public_name"] == "Gold member price"
        assert shop.get_ruleset("staff") is not None


def test_drift_check_exits_2_when_the_shop_differs(project: Path) -> None:
    assert merge_and_apply().exit_code == 0
    with shop_client(project) as shop:
        shop.delete_ruleset("case-of-twelve")
    drift = run(NIGHTLY_DRIFT)
    assert drift.exit_code == 2
    assert drift.stdout.splitlines()[0] == MARKER
    assert "case-of-twelve" in drift.stdout


def test_unattended_apply_deletes_only_with_allow_delete(project: Path) -> None:
    assert merge_and_apply().exit_code == 0
    drop_case_ruleset(project)
    planned = run(MERGE_PLAN)
    assert planned.exit_code == 0, planned.output
    saved = MERGE_APPLY[1]
    refused = run(["apply", saved, "--yes"])
    assert refused.exit_code == 4
    assert "Re-run with --allow-delete if intended." in refused.stderr
    applied = run(MERGE_APPLY)
    assert applied.exit_code == 0, applied.output
    assert run(["plan", "--detailed-exitcode"]).exit_code == 0


def test_a_safety_refusal_still_prints_the_plan_for_the_comment(project: Path) -> None:
    assert merge_and_apply().exit_code == 0
    edit_project(project, lambda data: data["safety"].update(max_deletes=0))
    drop_case_ruleset(project)
    pr = run(PR_PLAN)
    assert pr.exit_code == 4
    assert pr.stdout.splitlines()[0] == MARKER
    assert "[!CAUTION]" in pr.stdout
    merge = run(MERGE_PLAN)
    assert merge.exit_code == 4  # the apply job stops before apply


def test_invalid_manifests_fail_the_check_before_any_plan(project: Path) -> None:
    edit(project, "rulesets.yaml", "value: -20", "value: -150")
    result = run(PR_VALIDATE)
    assert result.exit_code == 3
    assert result.stdout.startswith("pricing/rulesets.yaml:")
    assert "-150 is less than the minimum of -100" in result.stdout


def test_a_missing_token_exits_7_naming_the_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOLD_API_TOKEN", raising=False)
    edit_project(
        project,
        lambda data: data["targets"].update(
            production={
                "api_url": "https://api.boldcommerce.com",
                "shop_identifier": "zp3oafdor9",
                "token_env": "BOLD_API_TOKEN",
            }
        ),
    )
    result = run(workflow_command("boldrules-plan.yml", "Plan", target="production"))
    assert result.exit_code == 7
    assert "$BOLD_API_TOKEN, which is not set" in result.stderr
    assert result.stdout == ""  # the workflow then posts its own "plan failed" comment
