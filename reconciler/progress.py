"""Live progress of a long ``plan`` or ``apply``: what people watching a terminal or a CI log see.

Owns when and how a run's progress is shown, never what the run does. A ``Watch`` polls a
``Snapshot`` (objects done / total, calls made, 429s absorbed) from the running command and:

* on a terminal, once the run has lasted ``DELAY`` seconds, shows one live line drawn by rich's
  ``Progress`` (a bar, done/total, elapsed, time left, calls per second, 429s absorbed), removed
  when the run ends so the command's own output follows as before;
* off a terminal (a CI log), prints a plain line at most every ``INTERVAL`` seconds, the first
  after ``INTERVAL``: a short run prints none.

Time comes from an injected clock, and ``tick`` does one poll, so tests drive it without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import IO, TYPE_CHECKING, Protocol, Self, cast

from reconciler import words

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

#: A run shorter than this shows no live line on a terminal.
DELAY = 2.0
#: Off a terminal, at most one plain line this often.
INTERVAL = 10.0
#: How often the watching thread polls.
POLL = 0.25


class Stream(Protocol):
    """Where the progress goes: stderr, or something that writes to it."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


@dataclass(frozen=True)
class Snapshot:
    """Where a run stands."""

    done: int
    #: None while not known yet (a listing's first page tells it).
    total: int | None
    calls: int
    rate_limited: int


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest:02d} s"


def plain_line(label: str, unit: str, snapshot: Snapshot, elapsed: float) -> str:
    """``plan shop0: 1200/10000 objects, 12 s elapsed, about 1 min 28 s left, 9.8 calls/s, 2
    rate-limit answers absorbed``."""
    done = f"{snapshot.done}/{snapshot.total}" if snapshot.total else str(snapshot.done)
    parts = [f"{label}: {done} {unit}", f"{_duration(elapsed)} elapsed"]
    if snapshot.total and 0 < snapshot.done < snapshot.total:
        left = elapsed * (snapshot.total - snapshot.done) / snapshot.done
        parts.append(f"about {_duration(left)} left")
    if elapsed > 0:
        parts.append(f"{snapshot.calls / elapsed:.1f} calls/s")
    if snapshot.rate_limited:
        parts.append(f"{words.count(snapshot.rate_limited, 'rate-limit answer')} absorbed")
    return ", ".join(parts)


class Watch:
    """Shows a run's progress while it lasts (``with Watch(...):``); see the module docstring."""

    def __init__(
        self,
        label: str,
        unit: str,
        poll: Callable[[], Snapshot],
        *,
        stream: Stream | None,
        terminal: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.unit = unit
        self._poll = poll
        self._stream = stream
        self._terminal = terminal
        self._clock = clock
        self._started = clock()
        self._printed_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: Progress | None = None  # rich's, once shown
        self._task: TaskID | None = None
        self._lock = threading.Lock()

    def tick(self) -> None:
        """One poll: start, update or print the progress as the time since the start says."""
        if self._stream is None:
            return
        with self._lock:
            elapsed = self._clock() - self._started
            if self._terminal:
                if elapsed >= DELAY:
                    self._draw(self._poll(), elapsed)
            elif elapsed >= INTERVAL and (
                self._printed_at is None or elapsed - self._printed_at >= INTERVAL
            ):
                self._printed_at = elapsed
                line = plain_line(self.label, self.unit, self._poll(), elapsed)
                print(line, file=self._stream, flush=True)

    def _draw(self, snapshot: Snapshot, elapsed: float) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        extra = f"{snapshot.calls / elapsed:.1f} calls/s" if elapsed > 0 else ""
        if snapshot.rate_limited:
            extra += f", {snapshot.rate_limited} 429s absorbed"
        if self._live is None:
            live = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[extra]}"),
                console=Console(file=cast(IO[str], self._stream)),
                transient=True,
                auto_refresh=True,
                refresh_per_second=4,
            )
            live.start()
            self._task = live.add_task(self.label, total=snapshot.total, extra=extra)
            self._live = live
        assert self._task is not None
        self._live.update(
            self._task,
            completed=snapshot.done,
            total=snapshot.total,
            extra=extra,
        )

    def _run(self) -> None:
        while not self._stop.wait(POLL):
            self.tick()

    def __enter__(self) -> Self:
        if self._stream is not None:
            self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            live.stop()
