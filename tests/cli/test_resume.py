"""A re-run of an apply that did not finish is judged against the plan that was approved, not
against what is left of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler import cli
from reconciler.sandbox import Sandbox, serve

from ..conftest import APP_TOKEN
from ..signals import HeldSandbox, wait_for, wait_until_delivered


def manifests(prices: dict[int, int], *, renamed: frozenset[int] = frozenset()) -> str:
    lines = ["rulesets:"]
    for n, percent in sorted(prices.items()):
        lines += [
            f"  - external_id: tier-{n}",
            f"    public_name: Tier {n}{' (new)' if n in renamed else ''}",
            "    product_selection: {type: PRODUCTS_ALL}",
            "    rules:",
            "      - {external_id: gold, type: DISCOUNT, conditions: [], "
            f"actions: [{{type: PRICE_ADJUST_PERCENT, value: {percent}}}]}}",
        ]
    return "\n".join(lines) + "\n"


def test_a_rerun_after_a_half_failed_forced_apply_needs_no_force(
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
            "safety: {max_update_percent: 30}\n"
        )
        tiers = root / "pricing" / "tiers.yaml"

        def run(*args: str) -> Result:
            return CliRunner().invoke(cli.main, ["-C", str(root), *args], catch_exceptions=False)

        tiers.write_text(manifests(dict.fromkeys(range(1, 21), -10)))
        assert run("apply", "--yes").exit_code == 0
        # Every price changes: 20 updates of 20, beyond the 30% limit, so approved with --force.
        # Tiers 1-10 are also renamed (a PUT); 11-20 only repriced (a PATCH), whose route breaks.
        tiers.write_text(
            manifests(dict.fromkeys(range(1, 21), -20), renamed=frozenset(range(1, 11)))
        )
        sandbox.move_routes({"PATCH P/rulesets/external/{eid}": "P/elsewhere/{eid}"})
        half = run("apply", "--yes", "--force")
        assert half.exit_code == 5, half.output
        sandbox.move_routes({})
        # What is left (10 of 20 updates, 50%) still breaks the limit; the approval covers it.
        again = run("apply", "--yes")
        assert again.exit_code == 0, again.output
        resumed = [line for line in again.stderr.splitlines() if line.startswith("Resuming")]
        assert len(resumed) == 1
        assert resumed[0].endswith(
            " that did not finish: 10 of its 20 approved changes are left, judged against that "
            "plan (approved with --force)."
        )
        taken_at = resumed[0].split("apply of ")[1].split(" that")[0]
        assert again.stdout.splitlines()[-3:-1] == [
            "Safety: 0 deletes and 10 updates of 20 managed objects (0% / 50%): limits broken, "
            f"overridden by the approval of the apply of {taken_at}:",
            f"  ! overridden by the approval of the apply of {taken_at}: update 10 of 20 "
            "rulesets (50%, limit 30% by safety.max_update_percent).",
        ]
        assert run("plan").stdout.splitlines()[-1] == "No changes."
        # That apply finished: a new change beyond the limits is refused again.
        tiers.write_text(manifests(dict.fromkeys(range(1, 21), -30)))
        refused = run("apply", "--yes")
        assert refused.exit_code == 4, refused.output
        assert "Resuming" not in refused.stderr


def test_a_different_plan_after_an_interruption_is_judged_on_its_own(
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
            "safety: {max_update_percent: 30}\n"
        )
        tiers = root / "pricing" / "tiers.yaml"

        def run(*args: str) -> Result:
            return CliRunner().invoke(cli.main, ["-C", str(root), *args], catch_exceptions=False)

        tiers.write_text(manifests(dict.fromkeys(range(1, 21), -10)))
        assert run("apply", "--yes").exit_code == 0
        tiers.write_text(
            manifests(dict.fromkeys(range(1, 21), -20), renamed=frozenset(range(1, 11)))
        )
        sandbox.move_routes({"PATCH P/rulesets/external/{eid}": "P/elsewhere/{eid}"})
        assert run("apply", "--yes", "--force").exit_code == 5
        sandbox.move_routes({})
        # The manifests moved on: the remainder is not what was approved.
        tiers.write_text(
            manifests(dict.fromkeys(range(1, 21), -25), renamed=frozenset(range(1, 11)))
        )
        refused = run("apply", "--yes")
        assert refused.exit_code == 4, refused.output
        assert "Resuming" not in refused.stderr


@pytest.mark.socket
def test_ctrl_c_halfway_through_a_forced_apply_then_a_plain_rerun_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLDRULES_TEST_TOKEN", APP_TOKEN)
    sandbox = HeldSandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    with serve(sandbox, port=0) as server:
        root = tmp_path / "shop"
        (root / "pricing").mkdir(parents=True)
        (root / "boldrules.yaml").write_text(
            "manifests: [pricing/]\ndefault_target: live\ntargets:\n  live:\n"
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n"
            "    rate: 1000\n    burst: 1000\n    concurrency: 2\n"
            "safety: {max_update_percent: 30}\n"
        )
        tiers = root / "pricing" / "tiers.yaml"
        tiers.write_text(manifests(dict.fromkeys(range(1, 61), -10)))
        first = CliRunner().invoke(cli.main, ["-C", str(root), "apply", "--yes"])
        assert first.exit_code == 0, first.output
        tiers.write_text(manifests(dict.fromkeys(range(1, 61), -20)))
        # After 20 calls every further one is held: the signal lands halfway, however loaded
        # the machine.
        before = sandbox.stats()["total"]
        sandbox.arm_when = lambda: sandbox.stats()["total"] >= before + 20
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "-C", str(root), "apply", "--yes", "--force"],
            env={**os.environ, "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert wait_for(sandbox.holding, process), process.communicate()
            process.send_signal(signal.SIGINT)
            wait_until_delivered(process.pid, signal.SIGINT)
        finally:
            sandbox.gate.set()
        _, err = process.communicate(timeout=60)
        assert process.returncode == 5, err
        again = CliRunner().invoke(cli.main, ["-C", str(root), "apply", "--yes"])
        assert again.exit_code == 0, again.output
        assert "approved changes are left, judged against that plan (approved with --force)." in (
            again.stderr
        )
        done = CliRunner().invoke(cli.main, ["-C", str(root), "plan"])
        assert done.stdout.splitlines()[-1] == "No changes."
