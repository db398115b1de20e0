"""What a client has done: its running totals (``ClientStats``) and the record of each call.

Owns ``Exchange`` (one finished call, as ``BoldClient.observe`` hands it to apply's ledger and
to doctor), ``ClientStats`` (calls, retries, 429s, errors, wall time and list progress, as the
CLI's summary, the bench and progress lines read them) and ``CallLog``, the thread-safe book
the client writes into as calls finish: totals for every thread, and the observers a thread
opened with ``observe()``.

Must not: send anything, know HTTP beyond a method, a path and a status, or hold a body or a
token (an ``Exchange`` goes into ledgers and reports).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from reconciler import errors, instants
from reconciler.routes import Method

#: How a call ended, as the totals count it.
Outcome = Literal["ok", "failed"]


@dataclass(frozen=True)
class ClientStats:
    """What a client has done so far: a snapshot, safe to keep."""

    #: logical calls by (method, route name); retries are not counted here
    calls: Mapping[tuple[str, str], int]
    #: extra attempts made after a retryable failure
    retries: int
    #: 429 responses seen (each one was waited out or ended the call)
    rate_limited: int
    #: calls that ended in an error (including 404s the typed operations turn into None)
    errors: int
    #: seconds from the start of the first call to the end of the last one
    wall_seconds: float
    #: objects the list reads have brought so far, and how many their first pages announced
    #: (a list read again counts again on both sides): progress for a person, nothing more
    listed: int = 0
    announced: int = 0

    @property
    def total_calls(self) -> int:
        """Logical calls of every route."""
        return sum(self.calls.values())

    @property
    def requests(self) -> int:
        """HTTP requests actually sent: calls plus retries."""
        return self.total_calls + self.retries


@dataclass(frozen=True)
class Exchange:
    """One finished call, as ``observe`` reports it: enough for a ledger line, never the token."""

    route: str
    method: Method
    path: str
    status: int | None
    milliseconds: float
    attempts: int
    finished_at: str
    error: str = ""
    #: Why a failed status was not a failure of the call (``annotate``): "not there", say.
    note: str = ""
    #: Of ``milliseconds``, how long the pacing bucket held the call before it left (every
    #: attempt's wait for the rate limit added up); the rest is the call itself and its retries.
    waited_milliseconds: float = 0.0


class CallLog:
    """The book one client keeps: totals across threads, and each thread's open observers."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str]] = Counter()
        self._retries = self._rate_limited = self._errors = 0
        self._first: float | None = None
        self._last: float | None = None
        self._listed = self._announced = 0
        self._observers = threading.local()
        #: Seconds the pacing bucket held this thread's current call.
        self._paced = threading.local()

    def starting(self) -> None:
        """This thread starts a call: its pacing wait starts from zero."""
        self._paced.seconds = 0.0

    def paced(self, seconds: float) -> None:
        """The pacing bucket held this thread's current call ``seconds`` longer."""
        self._paced.seconds = getattr(self._paced, "seconds", 0.0) + seconds

    def page(self, items: int, announced: int | None) -> None:
        """A list page brought ``items`` objects (the first page also ``announced`` a total)."""
        with self._lock:
            self._listed += items
            self._announced += announced or 0

    def rate_limited(self) -> None:
        """A 429 was answered."""
        with self._lock:
            self._rate_limited += 1

    def finished(
        self,
        outcome: Outcome,
        *,
        route: str,
        method: Method,
        path: str,
        status: int | None,
        started: float,
        attempts: int,
        error: errors.ApiError | None = None,
    ) -> None:
        """A call ended: count it, and hand its ``Exchange`` to this thread's observers."""
        with self._lock:
            self._calls[(method, route)] += 1
            self._retries += attempts - 1
            self._errors += 0 if outcome == "ok" else 1
            self._first = started if self._first is None else min(self._first, started)
            self._last = self._clock()
        stack = self._observers.__dict__.get("stack")
        if not stack:
            return
        exchange = Exchange(
            route=route,
            method=method,
            path=path,
            status=status,
            milliseconds=(self._clock() - started) * 1000,
            attempts=attempts,
            finished_at=instants.stamp_ms(instants.now()),
            error=str(error) if error is not None else "",
            waited_milliseconds=getattr(self._paced, "seconds", 0.0) * 1000,
        )
        for seen in stack:
            seen.append(exchange)

    def snapshot(self) -> ClientStats:
        """The totals so far."""
        with self._lock:
            wall = (self._last - self._first) if self._first is not None and self._last else 0.0
            return ClientStats(
                dict(self._calls),
                self._retries,
                self._rate_limited,
                self._errors,
                max(wall, 0.0),
                self._listed,
                max(self._announced, self._listed),
            )

    @contextlib.contextmanager
    def observe(self) -> Iterator[list[Exchange]]:
        """Collect every call this thread finishes inside the block."""
        seen: list[Exchange] = []
        stack: list[list[Exchange]] = self._observers.__dict__.setdefault("stack", [])
        stack.append(seen)
        try:
            yield seen
        finally:
            # By identity: nested blocks hold equal lists (the same exchanges), not the same one.
            stack[:] = [other for other in stack if other is not seen]

    def annotate(self, note: str) -> None:
        """Attach ``note`` to the call this thread finished last."""
        for seen in self._observers.__dict__.get("stack") or ():
            if seen:
                seen[-1] = dataclasses.replace(seen[-1], note=note)
