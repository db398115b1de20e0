"""Progress people can see: a live line on a terminal, a plain line every 10 s in a CI log."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from reconciler import progress

from .test_terminal import _read_until


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_one_plain_line_every_ten_seconds_at_most() -> None:
    clock, out = Clock(), io.StringIO()
    state = {"done": 0}

    def poll() -> progress.Snapshot:
        return progress.Snapshot(state["done"], 10_000, calls=state["done"] // 100, rate_limited=2)

    watch = progress.Watch(
        "Reading shop s1 (target t)", "objects", poll, stream=out, terminal=False, clock=clock
    )
    for second in range(0, 31):
        clock.now = float(second)
        state["done"] = second * 200
        watch.tick()
    assert out.getvalue().splitlines() == [
        "Reading shop s1 (target t): 2000/10000 objects, 10 s elapsed, about 40 s left, "
        "2.0 calls/s, 2 rate-limit answers absorbed",
        "Reading shop s1 (target t): 4000/10000 objects, 20 s elapsed, about 30 s left, "
        "2.0 calls/s, 2 rate-limit answers absorbed",
        "Reading shop s1 (target t): 6000/10000 objects, 30 s elapsed, about 20 s left, "
        "2.0 calls/s, 2 rate-limit answers absorbed",
    ]


def test_a_short_run_prints_no_progress() -> None:
    clock, out = Clock(), io.StringIO()
    watch = progress.Watch(
        "Applying",
        "calls",
        lambda: progress.Snapshot(1, 2, 1, 0),
        stream=out,
        terminal=False,
        clock=clock,
    )
    with watch:
        clock.now = 9.5
        watch.tick()
    assert out.getvalue() == ""


def test_without_a_total_no_time_left_is_guessed() -> None:
    line = progress.plain_line("Reading", "objects", progress.Snapshot(250, None, 5, 0), 75.0)
    assert line == "Reading: 250 objects, 1 min 15 s elapsed, 0.1 calls/s"


PACED = """\
manifests: [pricing/]
default_target: sandbox
targets:
  sandbox: {sandbox: .boldrules/sandbox.sqlite, rate: 2, burst: 1}
"""


def test_a_plan_past_two_seconds_shows_a_live_line_on_a_terminal(project: Path) -> None:
    # At 2 calls a second the quick start's plan reads the shop for several seconds.
    (project / "boldrules.yaml").write_text(PACED)
    main, secondary = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(project), "plan"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    try:
        screen = _read_until(main, "Plan: ", timeout=60.0)
        screen += _read_until(main, "\x00", timeout=10.0)
    finally:
        os.close(main)
        process.wait(timeout=30)
    assert "Reading shop sandbox-shop (target sandbox)" in screen
    assert "objects" in screen and "calls/s" in screen
    assert "Plan: 7 to create, 0 to update, 0 to delete." in screen
    assert process.returncode == 0
