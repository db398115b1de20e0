"""Signalling a boldrules process at a known point of its run, however loaded the machine.

A test that polls until a run is "halfway" and then sends a signal races the run: on a loaded
machine the run may finish first. Instead, serve a ``HeldSandbox``: once ``arm_when()`` is true
it holds every further request that comes over a socket until the test opens ``gate``. The test
waits for ``holding``, sends the signal, waits until the kernel delivered it
(``wait_until_delivered``), then opens the gate: the run sees the signal before its next answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from reconciler.sandbox import Sandbox
from reconciler.sandbox.app import SOCKET_KEY, StartResponse

#: The longest a request is held: a test that forgets to open the gate fails, it does not hang.
HOLD_LIMIT = 50.0


class HeldSandbox(Sandbox):
    """A sandbox that holds socket requests, once armed, until ``gate`` opens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arm_when: Callable[[], bool] = lambda: False
        #: Which socket requests an armed sandbox holds (all of them unless a test narrows it).
        self.hold_only: Callable[[dict[str, Any]], bool] = lambda environ: True
        self.holding = threading.Event()
        self.gate = threading.Event()
        self._armed = False
        self._arming = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get(SOCKET_KEY) and not self.gate.is_set() and self.hold_only(environ):
            with self._arming:
                self._armed = self._armed or self.arm_when()
                armed = self._armed
            if armed:
                self.holding.set()
                self.gate.wait(timeout=HOLD_LIMIT)
        return super().__call__(environ, start_response)


def wait_for(event: threading.Event, process: Any, timeout: float = 60.0) -> bool:
    """Wait (bounded) until ``event`` is set or ``process`` (a ``Popen``) has ended."""
    deadline = time.monotonic() + timeout
    while not event.wait(0.02):
        if process.poll() is not None or time.monotonic() > deadline:
            return event.is_set()
    return True


def wait_until_delivered(pid: int, signum: int, timeout: float = 30.0) -> None:
    """Wait (bounded) until the kernel has delivered ``signum`` to process ``pid``.

    Linux shows a signal sent but not yet delivered in /proc/PID/status (ShdPnd for the process,
    SigPnd for its main thread). Elsewhere there is nothing to read: it returns at once.
    """
    status = Path(f"/proc/{pid}/status")
    bit = 1 << (signum - 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            lines = status.read_text().splitlines()
        except OSError:
            return  # not Linux, or the process is gone: nothing is pending
        pending = 0
        for line in lines:
            if line.startswith(("SigPnd:", "ShdPnd:")):
                pending |= int(line.split()[1], 16)
        if not pending & bit:
            return
        assert time.monotonic() < deadline, f"signal {signum} still pending in {pid}"
        time.sleep(0.005)
