"""The apply lock through the real CLI: a second apply exits 9 naming the holder, an expired
lock is taken over, `unlock` breaks one, and every way an apply ends releases it."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler import lock
from reconciler.sandbox import Sandbox, serve
from reconciler.sandbox.app import ALL_SCOPES

from ..conftest import APP_TOKEN
from ..signals import HeldSandbox, wait_for, wait_until_delivered
from .conftest import EXAMPLES, Run
from .test_terminal import _read_until


def take_lock(shop: Any, holder: str, *, at: dt.datetime | None = None) -> lock.Holder:
    """Another run's lock, as a run on another machine would have taken it."""
    moment = at or dt.datetime.now(dt.UTC)
    lock.ApplyLock(shop, "default", clock=lambda: moment, holder=holder).acquire()
    found = lock.read_lock(shop, "default")
    assert found is not None
    return found


def test_a_second_apply_exits_9_naming_the_holder_and_changes_nothing(run: Run, shop: Any) -> None:
    holder = take_lock(shop, "alice@ci-runner (GitHub Actions run 4242)")
    result = run("apply", "--yes")
    assert result.exit_code == 9
    assert result.stdout == ""
    assert result.stderr == (
        "error: another run holds the apply lock of project 'default' on shop sandbox-shop: "
        f"{holder.describe()}. Wait for it to finish (or re-run with --lock-timeout SECONDS to "
        "wait); if that run is gone, `boldrules unlock` breaks the lock.\n"
    )
    assert shop.list_discount_codes() == []
    assert [r["external_id"] for r in shop.list_rulesets()] == ["boldrules.lock.default"]


def test_lock_timeout_waits_and_then_gives_up_naming_the_holder(run: Run, shop: Any) -> None:
    holder = take_lock(shop, "alice@ci-runner")
    result = run("apply", "--yes", "--lock-timeout", "0.2")
    assert result.exit_code == 9
    assert f": {holder.describe()}. Wait for it to finish" in result.stderr
    assert run("apply", "--yes", "--lock-timeout", "-1").exit_code == 1  # a usage error


def test_plan_never_takes_the_lock_but_says_an_apply_is_running(run: Run, shop: Any) -> None:
    holder = take_lock(shop, "alice@ci-runner")
    result = run("plan", "--detailed-exitcode")
    assert result.exit_code == 2
    assert (
        f"Apply lock boldrules.lock.default: held by {holder.describe()}: an apply is running, "
        "and this plan may be out of date when it ends."
    ) in result.stdout.splitlines()
    assert lock.read_lock(shop, "default") == holder
    document = json.loads(run("plan", "--format", "json").stdout)
    schema = json.loads(
        resources.files("reconciler.schemas").joinpath("plan.schema.json").read_text()
    )
    jsonschema.validate(document, schema)
    assert document["lock"]["holder"] == "alice@ci-runner"
    assert document["ownership"]["action"] == "create"


def test_an_expired_lock_is_taken_over_with_a_line_saying_so(run: Run, shop: Any) -> None:
    crashed = take_lock(shop, "alice@ci-runner", at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    result = run("apply", "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"Taking over the apply lock of project 'default': it was held by {crashed.describe()}, "
        "and has expired (that run is gone or stalled)."
    )
    assert lock.read_lock(shop, "default") is None
    assert len(shop.list_discount_codes()) == 2


def test_unlock_shows_the_holder_and_breaks_the_lock_once_confirmed(run: Run, shop: Any) -> None:
    holder = take_lock(shop, "alice@ci-runner")
    refused = run("unlock")
    assert refused.exit_code == 4
    assert refused.stdout == (
        f"The apply lock boldrules.lock.default on shop sandbox-shop is held by "
        f"{holder.describe()}; it has not expired: that run may still be applying.\n"
    )
    assert "Re-run with --yes once you are sure that run is gone." in refused.stderr
    assert lock.read_lock(shop, "default") == holder
    broken = run("unlock", "--yes")
    assert broken.exit_code == 0
    assert broken.stdout.splitlines()[-1] == "Broke the apply lock boldrules.lock.default."
    assert lock.read_lock(shop, "default") is None
    again = run("unlock", "--yes")
    assert again.stdout == (
        "No apply lock boldrules.lock.default on shop sandbox-shop (target sandbox): nothing to "
        "unlock.\n"
    )
    assert run("apply", "--yes").exit_code == 0


def test_unlock_asks_on_a_terminal_and_no_keeps_the_lock(project: Path, shop: Any) -> None:
    take_lock(shop, "alice@ci-runner")
    for answer, kept in (("n", True), ("y", False)):
        main, secondary = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "-C", str(project), "unlock"],
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"},
            close_fds=True,
        )
        os.close(secondary)
        try:
            screen = _read_until(main, "[y/N]:")
            assert "is held by alice@ci-runner since " in screen
            assert "Break it? Only if that run is gone" in screen
            os.write(main, f"{answer}\n".encode())
            _read_until(main, "\x00", timeout=20.0)
            process.wait(timeout=30)
        finally:
            os.close(main)
        assert process.returncode == (1 if kept else 0)
        assert (lock.read_lock(shop, "default") is not None) is kept


def test_the_lock_is_released_when_apply_is_refused_or_fails(
    run: Run, project: Path, shop: Any
) -> None:
    assert run("apply").exit_code == 4  # no terminal, no --yes: refused after planning
    assert lock.read_lock(shop, "default") is None
    (project / "pricing" / "rulesets.yaml").write_text("rulesets: [\n")
    assert run("apply", "--yes").exit_code == 3
    assert lock.read_lock(shop, "default") is None


# --- over a socket: two processes at once, and signals ----------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, HeldSandbox]]:
    sandbox = HeldSandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    with serve(sandbox, port=0) as server:
        root = tmp_path / "shop"
        shutil.copytree(EXAMPLES / "b2b-tiers" / "pricing", root / "pricing")
        (root / "boldrules.yaml").write_text(
            "manifests: [pricing/]\ndefault_target: local\ntargets:\n  local:\n"
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n    rate: 50\n"
            "    burst: 5\n    concurrency: 2\n"
            "    vars: {tiers: {gold: -30, silver: -20, bronze: -10}}\n"
        )
        yield root, sandbox


def boldrules(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "BOLDRULES_TEST_TOKEN": APP_TOKEN, "NO_COLOR": "1", "GITHUB_RUN_ID": "77"}
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(root), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def locks(sandbox: Sandbox) -> list[str]:
    found = (str(r["ruleset"].get("external_id")) for r in sandbox.dump()["rulesets"])
    return [eid for eid in found if eid.startswith("boldrules.lock.")]


@pytest.mark.socket
def test_two_applies_at_once_the_second_exits_9_and_the_first_converges(
    served: tuple[Path, HeldSandbox],
) -> None:
    root, sandbox = served
    # The first apply takes the lock, then is held at its first write of a ruleset of the
    # manifests (never at boldrules' own bookkeeping, never at a read) until the second apply
    # has answered: however loaded the machine, the second runs while the first holds the lock.
    sandbox.hold_only = lambda environ: (
        environ["REQUEST_METHOD"] in ("PUT", "PATCH")
        and (
            "/rulesets/external/" in environ["PATH_INFO"]
            and "boldrules." not in environ["PATH_INFO"]
        )
    )
    sandbox.arm_when = lambda: True
    first = boldrules(root, "apply", "--yes")
    assert wait_for(sandbox.holding, first), first.communicate()
    second = boldrules(root, "apply", "--yes")
    out2, err2 = second.communicate(timeout=60)
    sandbox.gate.set()
    _, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 9, err2
    assert out2 == ""
    assert err2.startswith("error: another run holds the apply lock of project 'default' on shop ")
    assert "(GitHub Actions run 77) since " in err2
    assert locks(sandbox) == []
    final = boldrules(root, "plan", "--detailed-exitcode")
    out, err = final.communicate(timeout=60)
    assert (final.returncode, out.splitlines()[-1]) == (0, "No changes."), err


@pytest.mark.socket
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_an_interrupted_apply_releases_the_lock(
    served: tuple[Path, HeldSandbox], signal_name: str
) -> None:
    root, sandbox = served
    # After 15 calls every further one is held: the signal lands mid-apply, however loaded the
    # machine.
    sandbox.arm_when = lambda: sandbox.stats()["total"] >= 15
    process = boldrules(root, "apply", "--yes")
    try:
        assert wait_for(sandbox.holding, process), process.communicate()
        assert locks(sandbox) == ["boldrules.lock.default"]
        process.send_signal(getattr(signal, signal_name))
        wait_until_delivered(process.pid, getattr(signal, signal_name))
    finally:
        sandbox.gate.set()
    _, err = process.communicate(timeout=30)
    assert process.returncode == 5, err
    assert f"Stopped by {signal_name}" in err
    assert "Traceback" not in err
    assert locks(sandbox) == []
    again = boldrules(root, "apply", "--yes")
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err


@pytest.mark.socket
def test_an_apply_that_fails_releases_the_lock_and_records_what_it_declared(
    served: tuple[Path, Sandbox],
) -> None:
    root, sandbox = served
    (root / "pricing" / "codes.yaml").write_text(
        "discount_codes:\n  - codes: [B2B5]\n    action: {type: PRICE_ADJUST_PERCENT, value: -5}\n"
        "    product_selection: {type: PRODUCTS_ALL}\n"
    )
    # The token may write rulesets but not discount codes: the code's create is refused.
    scopes = [s for s in ALL_SCOPES if s != "write_discount_codes"]
    sandbox.add_token(APP_TOKEN, app="boldrules-test", scopes=scopes)
    process = boldrules(root, "apply", "--yes")
    _, err = process.communicate(timeout=60)
    assert process.returncode in (5, 7), err  # 5 today; 7 once a 403 stops a run at once
    assert "Traceback" not in err
    assert locks(sandbox) == []
    rulesets = [r["ruleset"] for r in sandbox.dump()["rulesets"]]
    record = next(r for r in rulesets if r["external_id"] == "boldrules.ownership.default")
    header = next(r for r in record["rules"] if r["external_id"] == "boldrules.header")
    # Every declared object is recorded (60 rulesets and the code the next apply creates).
    assert header["meta"]["members"] == 61
