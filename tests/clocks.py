"""Time for tests that must not depend on how busy the machine is.

``SimulatedClock`` is shared by several threads (a client's callers, and a server's rate limiter
reading it): it stands still while any thread taking part is awake (computing, sending, waiting
for an answer) and, once every one of them sleeps, jumps to the earliest wake-up. So a paced run
sees exactly the times an idle machine with a core per thread would show it, whatever the
scheduler does, and no test waits for real.
"""

from __future__ import annotations

import contextlib
import heapq
import threading
from collections.abc import Iterator


class SimulatedClock:
    """Monotonic time for several threads; pass ``time`` and ``sleep`` where a clock is taken.

    Every thread that sleeps on it must run inside ``with clock.taking_part():``. A thread
    taking part that blocks on anything but ``sleep`` (a lock or slot held by a sleeper) counts
    as awake and so stops time; after ``stall`` real seconds with nobody woken, ``sleep``
    raises rather than hang.
    """

    def __init__(self, start: float = 1000.0, *, stall: float = 30.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._stall = stall
        self._cond = threading.Condition()
        self._awake = 0
        self._wakeups: list[float] = []

    @contextlib.contextmanager
    def taking_part(self) -> Iterator[None]:
        """Count this thread among those whose sleeps move time."""
        with self._cond:
            self._awake += 1
        try:
            yield
        finally:
            with self._cond:
                self._awake -= 1
                self._advance()

    def time(self) -> float:
        """The current simulated time."""
        with self._cond:
            return self.now

    def sleep(self, seconds: float) -> None:
        """Return once simulated time has moved ``seconds`` on."""
        with self._cond:
            if self._awake < 1:
                raise RuntimeError("sleep() on a SimulatedClock outside taking_part()")
            self.slept.append(seconds)
            wake = self.now + max(seconds, 0.0)
            heapq.heappush(self._wakeups, wake)
            self._awake -= 1
            self._advance()
            while self.now < wake:
                if not self._cond.wait(timeout=self._stall):
                    raise RuntimeError(
                        f"simulated time stalled for {self._stall} s: a thread taking part is "
                        "blocked on something other than sleep()"
                    )

    def _advance(self) -> None:
        # Called with the lock held: when nobody is awake, wake the earliest sleepers.
        if self._awake or not self._wakeups:
            return
        self.now = max(self.now, self._wakeups[0])
        while self._wakeups and self._wakeups[0] <= self.now:
            heapq.heappop(self._wakeups)
            self._awake += 1
        self._cond.notify_all()
