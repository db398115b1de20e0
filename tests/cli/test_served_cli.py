"""The real binary against a served sandbox over HTTP: a remote target, a token from the
environment, and a stop by SIGINT halfway through an apply."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox, serve

from ..conftest import APP_TOKEN

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.socket


@pytest.fixture
def remote_project(tmp_path: Path) -> Iterator[tuple[Path, Sandbox]]:
    sandbox = Sandbox()
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


def test_sigint_stops_new_calls_and_a_rerun_converges(remote_project: tuple[Path, Sandbox]) -> None:
    root, sandbox = remote_project
    sandbox.set_faults(latency_ms=20)
    process = boldrules(root, "apply", "--yes")
    deadline = time.monotonic() + 20
    while sandbox.stats()["total"] < 15 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 5, err
    assert "Stopped by SIGINT" in err
    assert "Run apply again to converge." in err
    assert "Traceback" not in err
    created = sum(1 for line in err.splitlines() if line.endswith(" ms") and "… ok" in line)
    assert 0 < created < 60
    sandbox.set_faults(latency_ms=0)
    again = boldrules(root, "apply", "--yes")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert f"Plan: {60 - created} to create, 0 to update, 0 to delete." in out
    final = boldrules(root, "plan", "--detailed-exitcode")
    out, err = final.communicate(timeout=60)
    assert (final.returncode, out.splitlines()[-1]) == (0, "No changes.")
    assert APP_TOKEN not in out + err
