"""Snapshots and `boldrules restore` through the real command line: an apply that changed 20
prices (and created and deleted a ruleset) is put back exactly, and the old manifests then plan
to `No changes.`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler import cli, config, connect, state
from reconciler.sandbox import Sandbox, serve

from ..conftest import APP_TOKEN

PROJECT = """\
manifests: [pricing/]
default_target: sandbox
targets:
  sandbox:
    sandbox: .boldrules/sandbox.sqlite
    rate: 1000
    burst: 1000
safety: {max_deletes: 5, max_delete_percent: 30, max_update_percent: 100}
"""


def manifests(prices: dict[int, int]) -> str:
    """Rulesets tier-1… with one percent each; ``prices`` maps the tier number to its percent."""
    lines = ["rulesets:"]
    for n, percent in sorted(prices.items()):
        lines += [
            f"  - external_id: tier-{n}",
            f"    public_name: Tier {n}",
            f"    product_selection: {{type: PRODUCT_SEARCH, sku_ids: [SKU-{n}]}}",
            "    rules:",
            "      - external_id: gold",
            "        type: DISCOUNT",
            "        conditions: [{type: CUSTOMER_GROUP, value: gold}]",
            f"        actions: [{{type: PRICE_ADJUST_PERCENT, value: {percent}}}]",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "shop"
    (project / "pricing").mkdir(parents=True)
    (project / "boldrules.yaml").write_text(PROJECT)
    return project


def boldrules(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli.main, ["-C", str(root), *args], catch_exceptions=False)


def live_bodies(root: Path) -> dict[str, Any]:
    """The shop's rulesets (normalised bodies and rule ids), as plan sees them."""
    target = config.load_project(root).target(None)
    with connect.connect(target) as bold:
        live = state.fetch_live(bold)
    return {
        str(r.key): (json.dumps(r.body, sort_keys=True), r.handles.get("rule_ids"))
        for r in live.resources
    }


def test_restore_puts_back_an_apply_that_changed_20_prices(root: Path) -> None:
    before = {n: -10 for n in range(1, 22)}
    (root / "pricing" / "tiers.yaml").write_text(manifests(before))
    assert boldrules(root, "apply", "--yes").exit_code == 0
    original = live_bodies(root)

    # The wrong change: 20 prices changed, tier-21 deleted, tier-22 created.
    wrong = {n: -90 for n in range(1, 21)} | {22: -50}
    (root / "pricing" / "tiers.yaml").write_text(manifests(wrong))
    snap = root / "snap.json"
    applied = boldrules(root, "apply", "--yes", "--allow-delete", "--snapshot", str(snap))
    assert applied.exit_code == 0, applied.output
    assert (
        f"Saved the state of the 22 objects this run changes to {snap}; "
        f"`boldrules restore {snap}` puts them back."
    ) in applied.stderr.splitlines()
    assert live_bodies(root) != original

    restored = boldrules(root, "restore", str(snap), "--yes", "--allow-delete")
    assert restored.exit_code == 0, restored.output
    out = restored.stdout.splitlines()
    assert any(line.startswith("- ruleset tier-22") for line in out)
    assert any(line.startswith("+ ruleset tier-21") for line in out)
    assert out[1] == "Deletes 1 object: ruleset tier-22."
    assert out[3:5] == ["~ ruleset tier-1", "    rules[gold]: gold −90% → gold −10%"]
    assert out[-1] == "Plan: 1 to create, 20 to update, 1 to delete."
    assert restored.stderr.splitlines()[-1] == "Restore complete: 22 calls succeeded."

    # Exactly as before: bodies, and the rule ids of every ruleset that was only updated.
    now = live_bodies(root)
    assert now.keys() == original.keys()
    for key, (body, rule_ids) in original.items():
        assert now[key][0] == body, key
        if key != "ruleset:tier-21":  # re-created: new server ids
            assert now[key][1] == rule_ids, key

    # The old manifests plan to no changes; restoring again does nothing.
    (root / "pricing" / "tiers.yaml").write_text(manifests(before))
    plan = boldrules(root, "plan")
    assert plan.exit_code == 0
    assert plan.stdout.splitlines()[-1] == "No changes."
    again = boldrules(root, "restore", str(snap), "--yes")
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1] == "No changes."


def test_apply_saves_a_snapshot_by_default_and_restore_is_a_normal_plan(root: Path) -> None:
    (root / "pricing" / "tiers.yaml").write_text(manifests({1: -10}))
    first = boldrules(root, "apply", "--yes")
    assert first.exit_code == 0
    saved = sorted((root / ".boldrules" / "snapshots").glob("sandbox-*.json"))
    assert len(saved) == 1
    document = json.loads(saved[0].read_text())
    assert document["objects"] == [
        {"key": {"kind": "ruleset", "ident": ["tier-1"]}, "id": "ruleset:tier-1", "before": None}
    ]
    # Restoring the first apply deletes what it created: refused unattended without
    # --allow-delete, like any plan that deletes.
    refused = boldrules(root, "restore", str(saved[0]), "--yes")
    assert refused.exit_code == 4
    assert refused.stderr.splitlines()[-1] == (
        "error: Refusing to delete 1 object in an unattended run. Re-run with --allow-delete if "
        "intended."
    )
    assert "ruleset:tier-1" in live_bodies(root)


def test_restore_refuses_a_file_that_is_not_a_snapshot(root: Path) -> None:
    (root / "plan.json").write_text('{"format_version": 1}')
    result = boldrules(root, "restore", str(root / "plan.json"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {root / 'plan.json'}: not a boldrules snapshot (apply writes them to "
        ".boldrules/snapshots/)\n"
    )


def test_an_apply_that_failed_halfway_is_undone_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLDRULES_TEST_TOKEN", APP_TOKEN)
    sandbox = Sandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    with serve(sandbox, port=0) as server:
        root = tmp_path / "shop"
        (root / "pricing").mkdir(parents=True)
        (root / "boldrules.yaml").write_text(
            "manifests: [pricing/]\ndefault_target: live\ntargets:\n  live:\n"
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n"
            "    rate: 1000\n    burst: 1000\n"
            "safety: {max_deletes: 5, max_update_percent: 100}\n"
        )

        def run(*args: str) -> Result:
            return boldrules(root, *args)

        (root / "pricing" / "tiers.yaml").write_text(manifests({1: -10, 2: -10, 3: -10}))
        assert run("apply", "--yes").exit_code == 0
        original = live_bodies(root)
        # The PATCH route breaks mid-incident: the creates land, the price changes fail.
        sandbox.move_routes({"PATCH P/rulesets/external/{eid}": "P/elsewhere/{eid}"})
        (root / "pricing" / "tiers.yaml").write_text(
            manifests({1: -90, 2: -90, 3: -90, 4: -50, 5: -50})
        )
        snap = root / "snap.json"
        half = run("apply", "--yes", "--snapshot", str(snap))
        assert half.exit_code == 5, half.output
        assert set(live_bodies(root)) > set(original)
        sandbox.move_routes({})
        restored = run("restore", str(snap), "--yes", "--allow-delete")
        assert restored.exit_code == 0, restored.output
        assert restored.stdout.splitlines()[-1] == "Plan: 0 to create, 0 to update, 2 to delete."
        assert live_bodies(root) == original
