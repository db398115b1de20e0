"""On a real terminal apply asks before it changes anything, and a 'no' changes nothing."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import EXAMPLES, PROJECT_FILE


def _read_until(fd: int, text: str, timeout: float = 30.0) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096).decode("utf-8", "replace")
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _apply_on_a_terminal(root: Path, answer: str) -> tuple[str, int]:
    main, secondary = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(root), "apply"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    try:
        screen = _read_until(main, "[y/N]:")
        os.write(main, f"{answer}\n".encode())
        screen += _read_until(main, "\x00", timeout=20.0)  # read to the end
        return screen, process.wait(timeout=30)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
@pytest.mark.parametrize(("answer", "applied"), [("n", False), ("y", True)])
def test_apply_asks_on_a_terminal(tmp_path: Path, answer: str, applied: bool) -> None:
    root = tmp_path / "shop"
    shutil.copytree(EXAMPLES / "quickstart" / "pricing", root / "pricing")
    (root / "boldrules.yaml").write_text(PROJECT_FILE)
    screen, code = _apply_on_a_terminal(root, answer)
    assert "Plan: 7 to create, 0 to update, 0 to delete." in screen
    assert "Apply these changes to shop sandbox-shop (target sandbox)? [y/N]:" in screen
    if applied:
        assert code == 0, screen
        assert "Apply complete: 6 calls succeeded." in screen
    else:
        assert code == 1, screen
        assert "Aborted" in screen
        assert "[1/6]" not in screen
