"""The real binary against a served sandbox over HTTP: a remote target, a token from the
environment, and a stop by SIGINT halfway through an apply."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler import cli
from reconciler.sandbox import Sandbox, serve
from reconciler.sandbox.app import StartResponse

from ..conftest import APP_TOKEN
from ..signals import wait_until_delivered

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.socket


class GatedSandbox(Sandbox):
    """A sandbox that answers the first ``writes`` API writes, then holds every further write
    until ``gate`` opens: a run can be stopped "halfway" at a known point, with no timing."""

    def __init__(self, *, writes: int) -> None:
        super().__init__()
        self.writes = writes
        self.gate = threading.Event()
        self.holding = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        write = environ["REQUEST_METHOD"] in {"POST", "PUT", "PATCH", "DELETE"}
        if write and not environ["PATH_INFO"].startswith("/__sandbox__"):
            with self._lock:
                self.writes -= 1
                hold = self.writes < 0
            if hold:
                self.holding.set()
                assert self.gate.wait(timeout=50), "the gate was never opened"
        return super().__call__(environ, start_response)


@pytest.fixture
def remote_project(tmp_path: Path) -> Iterator[tuple[Path, GatedSandbox]]:
    sandbox = GatedSandbox(writes=15)
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    with serve(sandbox, port=0) as server:
        root = tmp_path / "shop"
        shutil.copytree(EXAMPLES / "b2b-tiers" / "pricing", root / "pricing")
        (root / "boldrules.yaml").write_text(
            "manifests: [pricing/]\ndefault_target: local\ntargets:\n  local:\n"
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n    rate: 50\n    burst: 5\n"
            "    concurrency: 2\n    vars: {tiers: {gold: -30, silver: -20, bronze: -10}}\n"
        )
        yield root, sandbox


def boldrules(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "BOLDRULES_TEST_TOKEN": APP_TOKEN, "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(root), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigint_stops_new_calls_and_a_rerun_converges(
    remote_project: tuple[Path, GatedSandbox],
) -> None:
    root, sandbox = remote_project
    process = boldrules(root, "apply", "--yes")
    # 15 writes answered, the next ones held at the server: stop the run there.
    sandbox.holding.wait(timeout=50)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGINT)
    wait_until_delivered(process.pid, signal.SIGINT)
    sandbox.gate.set()  # the calls in flight finish; no new one starts once the signal is seen
    out, err = process.communicate(timeout=30)
    assert process.returncode == 5, err
    assert "Stopped by SIGINT" in err
    assert "Run apply again to converge." in err
    assert "Traceback" not in err
    created = sum(1 for line in err.splitlines() if line.endswith(" ms") and "… ok" in line)
    # Those answered, the two held, and whatever the process finished before its main thread
    # saw the signal (a few at most, tests/apply/test_faults.py bounds it exactly): far from all.
    assert 15 <= created < 60, err
    again = boldrules(root, "apply", "--yes")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert f"Plan: {60 - created} to create, 0 to update, 0 to delete." in out
    final = boldrules(root, "plan", "--detailed-exitcode")
    out, err = final.communicate(timeout=60)
    assert (final.returncode, out.splitlines()[-1]) == (0, "No changes.")
    assert APP_TOKEN not in out + err


@pytest.fixture
def remote_quickstart(project: Path) -> Iterator[tuple[Path, Sandbox]]:
    """The quick start against a served sandbox whose very first API answer is a 429.

    Seed 7040 rolls under 0.002 once, on the first request, and never again in the next
    thousand: exactly one 429, whatever the order of the calls and however many there are.
    """
    sandbox = Sandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    sandbox.set_faults(burst429=0.002, burst429_length=1, seed=7040)
    with serve(sandbox, port=0) as server:
        (project / "boldrules.yaml").write_text(
            "manifests: [pricing/]\ndefault_target: shop\ntargets:\n  shop:\n"
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n"
            "    rate: 1000\n    burst: 1000\n"
            "ownership: {discount_code_prefixes: [SPRING]}\n"
        )
        yield project, sandbox


def test_a_429_is_absorbed_and_counted_in_the_summary(
    remote_quickstart: tuple[Path, Sandbox],
) -> None:
    root, sandbox = remote_quickstart
    env = {"BOLDRULES_TEST_TOKEN": APP_TOKEN, "NO_COLOR": "1"}
    runner = CliRunner()
    planned = runner.invoke(cli.main, ["-C", str(root), "plan"], env=env)
    assert planned.exit_code == 0, planned.stderr
    assert planned.stderr == "target shop: 1 rate-limit answer absorbed while reading the shop.\n"
    applied = runner.invoke(cli.main, ["-C", str(root), "apply", "--yes"], env=env)
    assert applied.exit_code == 0, applied.stderr
    calls = sum(1 for line in applied.stderr.splitlines() if "… ok" in line)
    assert applied.stderr.splitlines()[-1] == f"Apply complete: {calls} calls succeeded."
    assert sandbox.stats()["rate_limited"] == 1  # the plan's; the apply met none


def test_a_429_during_apply_is_counted_in_the_summary(
    remote_quickstart: tuple[Path, Sandbox],
) -> None:
    root, sandbox = remote_quickstart
    env = {"BOLDRULES_TEST_TOKEN": APP_TOKEN, "NO_COLOR": "1"}
    applied = CliRunner().invoke(cli.main, ["-C", str(root), "apply", "--yes"], env=env)
    assert applied.exit_code == 0, applied.stderr
    calls = sum(1 for line in applied.stderr.splitlines() if "… ok" in line)
    assert calls > 0
    assert applied.stderr.splitlines()[-1] == (
        f"Apply complete: {calls} calls succeeded, 1 rate-limit answer absorbed."
    )
    assert sandbox.stats()["rate_limited"] == 1
    again = CliRunner().invoke(cli.main, ["-C", str(root), "plan"], env=env)
    assert again.stdout.splitlines()[-1] == "No changes."
