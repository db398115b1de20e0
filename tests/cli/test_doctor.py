"""`boldrules doctor` through the real command line: read-only and --write against the sandbox,
a moved route named with its override, refused tokens, and cleanup when the run is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler import cli
from reconciler.doctor import probenames
from reconciler.sandbox import Sandbox, serve

from ..conftest import APP_TOKEN, OTHER_TOKEN, make_bold_client
from ..signals import HeldSandbox, wait_for, wait_until_delivered
from .conftest import Run

P = "/price_rules/rules/v2/shops/sandbox-shop"
MOVED = {"PATCH P/rulesets/external/{eid}": "P/rulesets/by-external-id/{eid}"}
FOUND = "/price_rules/rules/v2/shops/{shop_identifier}/rulesets/by-external-id/{external_id}"


def statuses(out: str) -> dict[str, str]:
    """Check title → status, from the text report."""
    found: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        status, _, rest = line.partition(" ")
        if status in ("ok", "FAIL", "skipped"):
            found[rest.strip().split(": ", 1)[0]] = status
    return found


def test_read_only_doctor_on_the_embedded_sandbox_passes_and_writes_nothing(
    run: Run, shop: Any, project: Path
) -> None:
    result = run("doctor")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"boldrules doctor: target sandbox (embedded sandbox {project}/.boldrules/sandbox.sqlite), "
        "read-only"
    )
    assert "ok       token: the embedded sandbox's own token" in lines
    assert (
        "ok       shop_info: GET /shops/v1/info → 200: shop sandbox-shop (sandbox-shop.example.com)"
        in lines
    )
    assert (
        f"ok       list_rulesets: envelope, pagination, dates: GET {P}/rulesets?limit=250&page=1 → "
        "200: envelope ok, data.rulesets: 0 on page 1; limit=250 clamped to per_page 100"
    ) in lines
    assert "skipped  write routes: read-only run: `boldrules doctor --write` checks them" in lines
    assert lines[-1] == (
        "13 ok, 0 failed, 4 skipped: target sandbox holds every assumption boldrules can check "
        "without writing; `boldrules doctor --write` checks the routes apply uses."
    )
    assert shop.list_rulesets() == []


def test_doctor_write_checks_every_apply_route_and_leaves_the_shop_as_it_was(
    run: Run, shop: Any
) -> None:
    shop.upsert_ruleset(
        "spring",
        {
            "external_id": "spring",
            "product_selection": {"type": "PRODUCTS_ALL"},
            "rules": [
                {
                    "external_id": "gold",
                    "type": "DISCOUNT",
                    "conditions": [],
                    "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -20}],
                }
            ],
        },
    )
    before = shop.list_rulesets()
    result = run("doctor", "--write")
    assert result.exit_code == 0, result.output
    found = statuses(result.stdout)
    for route in (
        "create_ruleset (apply lock)",
        "create_ruleset 409 on a duplicate",
        "upsert_ruleset (create)",
        "upsert_ruleset (replace)",
        "patch_ruleset",
        "delete_rules",
        "patch_ruleset_by_id",
        "replace_ruleset_by_id",
        "delete_rules_by_id",
        "delete_ruleset",
        "create_order_condition",
        "add_field_sets",
        "delete_field_sets",
        "replace_order_condition",
        "delete_order_condition",
        "create_discount_codes",
        "update_discount_code",
        "delete_discount_code",
        "ownership record (write)",
        "get_ruleset",
        "get_ruleset_by_id",
        "cleanup",
    ):
        assert found.get(route) == "ok", (route, result.stdout)
    assert "FAIL" not in found.values()
    assert result.stdout.splitlines()[-1].endswith(
        "failed, 2 skipped: target sandbox holds every assumption boldrules makes."
    )
    assert next(line for line in result.stdout.splitlines() if "delete_ruleset:" in line).endswith(
        "→ 204: deleted (answers 204 with no body); GET then answers 404"
    )
    # Every probe is gone: the shop holds what it held before, and no lock.
    assert shop.list_rulesets() == before
    assert shop.list_order_conditions() == []
    assert shop.list_discount_codes() == []


@contextmanager
def served_project(tmp_path: Path, sandbox: Sandbox) -> Iterator[tuple[Path, str]]:
    """A project whose target is ``sandbox`` served over HTTP, with a token from the environment."""
    with serve(sandbox, port=0) as server:
        root = tmp_path / "shop"
        (root / "pricing").mkdir(parents=True)
        (root / "boldrules.yaml").write_text(
            "manifests: [pricing/]\ndefault_target: live\ntargets:\n  live:\n"
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n"
            "    rate: 1000\n    burst: 1000\n"
        )
        yield root, server.url


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, Sandbox, str]]:
    """A project whose target is a sandbox served over HTTP, with a token from the environment."""
    sandbox = Sandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    sandbox.add_token(OTHER_TOKEN, app="someone-else")
    with served_project(tmp_path, sandbox) as (root, url):
        yield root, sandbox, url


def boldrules(root: Path, *args: str, token: str = APP_TOKEN) -> Result:
    return CliRunner().invoke(
        cli.main,
        ["-C", str(root), *args],
        env={"BOLDRULES_TEST_TOKEN": token},
        catch_exceptions=False,
    )


def test_a_moved_route_is_named_with_the_override_and_the_override_fixes_it(
    served: tuple[Path, Sandbox, str],
) -> None:
    root, sandbox, _url = served
    sandbox.move_routes(MOVED)
    result = boldrules(root, "doctor", "--write")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    failing = [i for i, line in enumerate(lines) if line.startswith("FAIL")]
    assert len(failing) == 1, result.stdout
    at = failing[0]
    assert lines[at].startswith(
        f"FAIL     patch_ruleset: PATCH {P}/rulesets/external/boldrules-doctor-"
    )
    assert lines[at].endswith(
        " is not allowed on " + lines[at].split("PATCH ")[1].split(" → ")[0] + "."
    )
    assert lines[at + 1] == (
        "         PATCH /price_rules/rules/v2/shops/{shop_identifier}/rulesets/external/"
        "{external_id} answered 405 on an object that exists: the API has no such route there"
    )
    assert lines[at + 2] == (
        f"         answers and behaves at: {FOUND} (re-checked with it applied; the override is "
        "in the summary below)"
    )
    # With the override applied, the checks after it ran as apply would run: all ok.
    assert statuses(result.stdout)["delete_rules"] == "ok"
    assert lines[-3:] == [
        "Add to boldrules.yaml (the routes the checks above found):",
        "routes:",
        f"  patch_ruleset: {FOUND}",
    ]
    with make_bold_client(sandbox) as bold:
        assert bold.list_rulesets() == []
    # The suggested override, pasted into the project file, makes every check pass.
    project = root / "boldrules.yaml"
    project.write_text(project.read_text() + f"routes:\n  patch_ruleset: {FOUND}\n")
    again = boldrules(root, "doctor", "--write")
    assert again.exit_code == 0, again.output
    assert statuses(again.stdout)["patch_ruleset"] == "ok"


def test_a_moved_read_route_is_found_without_writing(served: tuple[Path, Sandbox, str]) -> None:
    root, sandbox, _ = served
    with make_bold_client(sandbox) as bold:
        bold.upsert_ruleset(
            "spring",
            {"external_id": "spring", "product_selection": {"type": "PRODUCTS_ALL"}, "rules": []},
        )
    sandbox.move_routes({"GET P/rulesets/external/{eid}": "P/rulesets/external_id/{eid}"})
    result = boldrules(root, "doctor")
    assert result.exit_code == 1, result.output
    assert (
        f"FAIL     get_ruleset: GET {P}/rulesets/external/spring → 405: GET is not allowed on "
        f"{P}/rulesets/external/spring."
    ) in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == (
        "  get_ruleset: /price_rules/rules/v2/shops/{shop_identifier}/rulesets/external_id/"
        "{external_id}"
    )


def test_a_refused_token_exits_7_and_never_shows_the_token(
    served: tuple[Path, Sandbox, str],
) -> None:
    root, _, _ = served
    result = boldrules(root, "doctor", token="not-a-token-of-this-shop-123")
    assert result.exit_code == 7, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "ok       token: read from $BOLDRULES_TEST_TOKEN (never shown)"
    assert lines[2] == (
        "FAIL     shop_info: GET /shops/v1/info → 401: This request failed to be authenticated."
    )
    assert lines[3] == (
        "         the token was refused: check that it is this shop's and has not been revoked"
    )
    assert lines[4] == "skipped  the remaining checks: stopped: see the failure above"
    assert "not-a-token" not in result.output


def test_a_missing_token_variable_exits_7(served: tuple[Path, Sandbox, str]) -> None:
    root, _, _ = served
    result = CliRunner().invoke(
        cli.main, ["-C", str(root), "doctor"], env={"BOLDRULES_TEST_TOKEN": ""}
    )
    assert result.exit_code == 7
    assert result.stdout.splitlines()[1].startswith(
        "FAIL     token: target 'live' reads its token from $BOLDRULES_TEST_TOKEN, which is not set"
    )


def test_a_token_without_a_write_scope_names_it_and_exits_7(
    served: tuple[Path, Sandbox, str],
) -> None:
    root, sandbox, _ = served
    scopes = [
        "read_price_rulesets",
        "write_price_rulesets",
        "read_price_order_conditions",
        "write_price_order_conditions",
        "read_discount_codes",
    ]
    sandbox.add_token("test-token-NO-CODES-77aa", app="boldrules-test", scopes=scopes)
    result = boldrules(root, "doctor", "--write", token="test-token-NO-CODES-77aa")
    assert result.exit_code == 7, result.output
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("FAIL"))
    assert lines[at] == (
        f"FAIL     create_discount_codes: POST {P}/discount_codes → 403: This token lacks the "
        "write_discount_codes scope for this call."
    )
    assert lines[at + 1] == (
        "         the token lacks the write_discount_codes scope: add it to the app in Bold's "
        "account center"
    )
    with make_bold_client(sandbox) as bold:
        assert bold.list_rulesets() == [] and bold.list_order_conditions() == []


def test_json_report_for_a_bug_report(served: tuple[Path, Sandbox, str]) -> None:
    root, sandbox, url = served
    sandbox.move_routes(MOVED)
    result = boldrules(root, "doctor", "--write", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["target"] == "live" and report["api_url"] == url and report["write"] is True
    assert report["overrides"] == {"patch_ruleset": FOUND}
    assert report["exit_code"] == 1
    patch = next(c for c in report["checks"] if c["check"] == "patch_ruleset")
    assert (
        patch["status"] == "FAIL"
        and patch["override"] == FOUND
        and patch["route"] == "patch_ruleset"
    )
    assert APP_TOKEN not in result.stdout


def test_probes_left_by_a_killed_run_are_deleted_once_an_hour_old(
    served: tuple[Path, Sandbox, str],
) -> None:
    root, sandbox, _ = served
    old = f"{probenames.PROBE_PREFIX}20200101t000000-abcdef"
    recent = probenames.probe_name()
    with make_bold_client(sandbox) as bold:
        for eid in (old, recent):
            bold.upsert_ruleset(
                eid,
                {"external_id": eid, "product_selection": {"type": "PRODUCTS_ALL"}, "rules": []},
            )
    result = boldrules(root, "doctor", "--write")
    assert result.exit_code == 0, result.output
    assert f"ok       leftover probes: deleted 1 left by a killed doctor run: ruleset {old}" in (
        result.stdout.splitlines()
    )
    with make_bold_client(sandbox) as bold:
        assert [r["external_id"] for r in bold.list_rulesets()] == [recent]


@pytest.mark.socket
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_killed_doctor_write_still_deletes_every_probe(tmp_path: Path, signum: int) -> None:
    # Once a probe exists, every further request is held: the signal lands mid-run, never after
    # the last check, however loaded the machine.
    sandbox = HeldSandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")

    def probes() -> list[str]:
        with make_bold_client(sandbox) as bold:
            names = [str(r.get("external_id")) for r in bold.list_rulesets()]
        return [n for n in names if n.startswith(probenames.PROBE_PREFIX)]

    sandbox.arm_when = lambda: bool(probes())
    with served_project(tmp_path, sandbox) as (root, _):
        env = {**os.environ, "BOLDRULES_TEST_TOKEN": APP_TOKEN, "NO_COLOR": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "-C", str(root), "doctor", "--write"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert wait_for(sandbox.holding, process), process.communicate()
            assert probes(), "the probe ruleset never appeared"
            process.send_signal(signum)
            wait_until_delivered(process.pid, signum)
        finally:
            sandbox.gate.set()
        out, err = process.communicate(timeout=60)
    name = signal.Signals(signum).name
    assert process.returncode == 1, (out, err)
    assert f"interrupted ({name}); the probes were cleaned up." in out
    assert "ok       cleanup: deleted " in out
    with make_bold_client(sandbox) as bold:
        assert bold.list_rulesets() == []  # no probe, no lock
        assert bold.list_order_conditions() == [] and bold.list_discount_codes() == []


def test_sandbox_moves_a_route_and_says_which_methods_remain() -> None:
    sandbox = Sandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    assert sandbox.move_routes(MOVED) == MOVED
    with make_bold_client(sandbox) as bold:
        bold.upsert_ruleset(
            "x", {"external_id": "x", "product_selection": {"type": "PRODUCTS_ALL"}, "rules": []}
        )
        response = bold._http.patch(f"{P}/rulesets/external/x", json={"ruleset": {"rules": []}})
        assert response.status_code == 405
        assert response.headers["allow"] == "DELETE, GET, PUT"
    with pytest.raises(ValueError, match="no route 'PATCH P/nowhere'"):
        sandbox.move_routes({"PATCH P/nowhere": "P/x"})
    with pytest.raises(ValueError, match="placeholders"):
        sandbox.move_routes({"PATCH P/rulesets/external/{eid}": "P/rulesets/x"})
    sandbox.reset(faults=True)
    assert sandbox.moved_routes == {}


def test_a_token_of_another_shop_fails_the_shop_check(served: tuple[Path, Sandbox, str]) -> None:
    root, _, _ = served
    project = root / "boldrules.yaml"
    project.write_text(project.read_text() + "    shop_identifier: zp3oafdor9\n")
    result = boldrules(root, "doctor")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[2] == (
        "FAIL     shop_info: GET /shops/v1/info → 200: the token belongs to shop sandbox-shop, "
        "but the target names shop zp3oafdor9: a token of another shop (or a typo in "
        "shop_identifier)"
    )
    assert result.stdout.splitlines()[3] == (
        "skipped  the remaining checks: stopped: see the failure above"
    )


def test_doctor_write_while_an_apply_runs_exits_9_and_writes_nothing(
    served: tuple[Path, Sandbox, str],
) -> None:
    from reconciler import lock

    root, sandbox, _ = served
    with make_bold_client(sandbox) as bold:
        lock.ApplyLock(bold, "default", holder="alice@ci").acquire()
        result = boldrules(root, "doctor", "--write")
        assert result.exit_code == 9, result.output
        failing = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
        assert len(failing) == 1
        assert failing[0].startswith(
            f"FAIL     create_ruleset (apply lock): POST {P}/rulesets → 409: another run holds "
            "the apply lock: "
        )
        assert [r["external_id"] for r in bold.list_rulesets()] == ["boldrules.lock.default"]
