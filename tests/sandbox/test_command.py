"""``sandbox serve`` as a user runs it: a real process, a real port, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from reconciler.sandbox import CONTROL_TOKEN, DEFAULT_TOKEN
from reconciler.sandbox.command import sandbox
from tests.sandbox import bodies
from tests.sandbox.conftest import P

pytestmark = pytest.mark.socket


@contextmanager
def running(*args: str, host: str = "127.0.0.1") -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start ``sandbox serve --port 0 ARGS``; yield its URL and process; SIGTERM it after."""
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler.sandbox.command", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(rf"http://{re.escape(host)}:\d+", line)
    assert found, (
        f"no address in {line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
    )
    try:
        yield found.group(0).replace(host, "127.0.0.1"), process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        process.stdout.close()
        if process.stderr:
            process.stderr.close()


def test_serve_prints_where_and_which_token_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    with running("--db", str(db), "--rate", "0") as (url, process):
        made = httpx.post(f"{url}{P}/rulesets", json=bodies.ruleset(), headers=headers)
        assert made.status_code == 201
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
        assert code == 0, process.stderr.read() if process.stderr else ""
    with running("--db", str(db)) as (url, _):
        again = httpx.get(f"{url}{P}/rulesets/external/spring", headers=headers)
        assert again.json()["data"]["ruleset"] == made.json()["data"]["ruleset"]
        # the default rate: eleven calls within a second on one token draw a 429. They are
        # sent side by side on kept-alive connections, in rounds until one is refused (a loaded
        # machine may spread one round over more than a second, never all twenty).
        statuses: list[int] = []
        with httpx.Client(headers=headers) as session, ThreadPoolExecutor(11) as pool:
            for _ in range(20):
                statuses += pool.map(
                    lambda _: session.get(f"{url}{P}/rulesets").status_code, range(11)
                )
                if 429 in statuses:
                    break
        assert 429 in statuses


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_while_stopping_still_stops_cleanly(signum: int) -> None:
    control = {"Authorization": f"Bearer {CONTROL_TOKEN}"}
    with running() as (url, process), ThreadPoolExecutor(1) as pool:
        # One answer held for 3 s in the server: stopping waits for it.
        assert httpx.put(f"{url}/__sandbox__/faults", json={"slow_ms": 3000}, headers=control)
        slow = pool.submit(
            httpx.get,
            f"{url}{P}/rulesets",
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
            timeout=30,
        )
        deadline = time.monotonic() + 30
        while (
            not httpx.get(f"{url}/__sandbox__/stats", headers=control).json()["events"].get("slow")
        ):
            assert time.monotonic() < deadline, "the answer was never held"
            time.sleep(0.02)
        process.send_signal(signum)
        # The server closes the held request's connection once it has begun stopping.
        with pytest.raises(httpx.TransportError):
            slow.result(timeout=30)
        process.send_signal(signum)
        code = process.wait(timeout=30)
        assert process.stderr is not None
        err = process.stderr.read()
        assert code == 0, err
        assert err.endswith("Bold sandbox stopped.\n")
        assert "Traceback" not in err


def test_tokens_and_seed_files(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(
        json.dumps([{"token": "ci", "app": "ci-app", "scopes": ["read_price_rulesets"]}])
    )
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "version": 1,
                "rulesets": [
                    {
                        "app": "ci-app",
                        "ruleset": {
                            "id": 41,
                            "external_id": "seeded",
                            "internal_name": "",
                            "public_name": "",
                            "active": True,
                            "priority": 0,
                            "start_date": None,
                            "expiry_date": None,
                            "product_selection": {"type": "PRODUCTS_ALL"},
                            "rules": [],
                            "created_at": "2026-01-01T00:00:00Z",
                            "updated_at": "2026-01-01T00:00:00Z",
                        },
                    }
                ],
            }
        )
    )
    with running("--tokens", str(tokens), "--seed", str(seed), "--no-retry-after") as (
        url,
        process,
    ):
        listed = httpx.get(f"{url}{P}/rulesets", headers={"Authorization": "Bearer ci"}).json()
        assert [r["id"] for r in listed["data"]["rulesets"]] == [41]
        refused = httpx.get(
            f"{url}{P}/rulesets", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        )
        assert refused.status_code == 401
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
        assert code == 0, process.stderr.read() if process.stderr else ""


def test_bad_tokens_file_is_a_usage_error(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"token": "x"}))
    result = CliRunner().invoke(sandbox, ["serve", "--tokens", str(tokens)])
    assert result.exit_code == 2
    assert "expected a JSON list" in result.output


REFUSAL = (
    "Error: refusing to serve on {host} with {what}: anyone who can reach it could use them. "
    "Give --tokens FILE and --control-token SECRET, listen on 127.0.0.1, or pass --insecure on "
    "a network of your own.\n"
)
BOTH = f"the token {DEFAULT_TOKEN} and the default control token (which can add tokens)"


@pytest.mark.parametrize(
    ("host", "extra", "what"),
    [
        ("0.0.0.0", [], BOTH),
        ("::", [], BOTH),
        ("sandbox.example.com", [], BOTH),
        ("0.0.0.0", ["--control-token", "c-secret"], f"the token {DEFAULT_TOKEN}"),
        ("0.0.0.0", ["--tokens", "TOKENS"], "the default control token (which can add tokens)"),
        ("0.0.0.0", ["--tokens", "DEFAULT", "--control-token", "c"], f"the token {DEFAULT_TOKEN}"),
        (
            "0.0.0.0",
            ["--tokens", "TOKENS", "--control-token", CONTROL_TOKEN],
            "the default control token (which can add tokens)",
        ),
    ],
)
def test_well_known_tokens_are_never_served_beyond_loopback(
    tmp_path: Path, host: str, extra: list[str], what: str
) -> None:
    secret = tmp_path / "tokens.json"
    secret.write_text(json.dumps([{"token": "t-secret", "app": "a"}]))
    default = tmp_path / "default.json"
    default.write_text(json.dumps([{"token": DEFAULT_TOKEN, "app": "a"}]))
    files = {"TOKENS": str(secret), "DEFAULT": str(default)}
    argv = ["serve", "--host", host, "--port", "0", *[files.get(a, a) for a in extra]]
    result = CliRunner().invoke(sandbox, argv)
    assert result.exit_code == 1
    assert result.output == REFUSAL.format(host=host, what=what)


def test_beyond_loopback_with_own_tokens_it_serves(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([{"token": "t-secret", "app": "ci-app"}]))
    args = ["--host", "0.0.0.0", "--tokens", str(tokens), "--control-token", "c-secret"]
    with running(*args, host="0.0.0.0") as (url, _):
        ok = httpx.get(f"{url}{P}/rulesets", headers={"Authorization": "Bearer t-secret"})
        assert ok.status_code == 200
        control = httpx.get(
            f"{url}/__sandbox__/stats", headers={"Authorization": f"Bearer {CONTROL_TOKEN}"}
        )
        assert control.status_code == 401


def test_insecure_serves_the_well_known_tokens_and_says_so() -> None:
    with running("--host", "0.0.0.0", "--insecure", host="0.0.0.0") as (url, process):
        ok = httpx.get(f"{url}{P}/rulesets", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})
        assert ok.status_code == 200
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        assert process.stderr is not None
        assert process.stderr.readline() == (
            f"warning: serving on 0.0.0.0 with {BOTH} (--insecure): anyone who can reach it can "
            "use them.\n"
        )
