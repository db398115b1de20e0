"""The calendar of a plan: when each change takes effect, the next boundaries of the planned
state, and freeze windows.

``effect`` says of one change whether it takes effect at apply ("goes live on merge"), later
("goes live 2027-03-01, in 90 days") or ends something live now ("ends the live ruleset
spring-2026 at apply"), judged at the plan's instant. ``timeline`` lists the starts and ends of
the planned rulesets and discount codes within a horizon. ``FreezeWindow`` is one ``freeze:``
entry of the project file; ``freeze_at`` finds the one covering an instant and ``landings`` the
changes that would go live or end inside one. Windows are [start, expiry): a ruleset prices from
its start, inclusive, until its expiry, exclusive (``pricing.assumptions``). No I/O.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler import instants, kinds, model, words

#: How far ahead the plan's timeline looks by default.
DEFAULT_HORIZON = dt.timedelta(days=60)


@dataclass(frozen=True)
class FreezeWindow:
    """A period during which ``apply`` refuses to run (``freeze:`` in the project file)."""

    name: str
    start: dt.datetime
    end: dt.datetime
    reason: str
    origin: model.Origin | None = None

    def covers(self, instant: dt.datetime) -> bool:
        return self.start <= instant < self.end

    def describe(self) -> str:
        """``holiday (2026-12-15 to 2027-01-02: peak season)``."""
        return f"{self.name} ({stamp(self.start)} to {stamp(self.end)}: {self.reason})"


@dataclass(frozen=True)
class Boundary:
    """A start or an end of a planned object within the horizon."""

    at: dt.datetime
    key: model.Key
    event: str  # "starts" or "ends"

    def as_json(self) -> dict[str, Any]:
        return {"at": stamp(self.at), "object": str(self.key), "event": self.event}


def stamp(instant: dt.datetime) -> str:
    """``2027-03-01T00:00:00Z``, or ``2027-03-01`` for a midnight (UTC)."""
    instant = instant.astimezone(dt.UTC)
    return instants.day(instant) if instant.time() == dt.time(0) else instants.stamp(instant)


def _window(body: Mapping[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None]:
    return instants.parse(body.get("start_date")), instants.parse(body.get("expiry_date"))


def _live(body: Mapping[str, Any], at: dt.datetime) -> bool:
    if body.get("active") is False:
        return False
    start, end = _window(body)
    return (start is None or start <= at) and (end is None or at < end)


def until(later: dt.datetime, at: dt.datetime) -> str:
    """``in 90 days`` / ``in 5 hours`` / ``in 12 minutes``."""
    seconds = (later - at).total_seconds()
    if seconds >= 86400:
        n, unit = math.floor(seconds / 86400), "day"
    elif seconds >= 3600:
        n, unit = math.floor(seconds / 3600), "hour"
    else:
        n, unit = max(1, math.ceil(seconds / 60)), "minute"
    return f"in {words.count(n, unit)}"


def _noun(key: model.Key) -> str:
    if kinds.by_name[key.kind].secret_name:
        return key.kind.label  # named in the change's heading, masked there when asked
    return f"{key.kind.label} {key.name}"


def effect(change: model.Change, at: dt.datetime) -> str:
    """When ``change`` takes effect for customers, judged at ``at`` (the apply)."""
    key = change.key
    if not kinds.by_name[key.kind].dated:
        return "takes effect at apply"
    noun = _noun(key)
    if isinstance(change, model.Delete):
        body = change.live.body
        start, end = _window(body)
        if _live(body, at):
            return f"ends the live {noun} at apply"
        if start is not None and start > at and body.get("active") is not False:
            return f"cancels the {noun}, due to go live {stamp(start)}, {until(start, at)}"
        if end is not None and end <= at:
            return f"removes the {noun}, which ended {stamp(end)}"
        return f"removes the {noun}, not live now"
    body = change.desired.body
    start, end = _window(body)
    now = _live(body, at)
    was = isinstance(change, model.Update) and _live(change.live.body, at)
    upcoming = start is not None and start > at and body.get("active") is not False
    if now:
        text = "changes the live " + noun + " at apply" if was else "goes live on merge"
        if end is not None:
            text += f", until {stamp(end)} ({until(end, at)})"
        return text
    if upcoming:
        assert start is not None
        later = f"goes live {stamp(start)}, {until(start, at)}"
        return f"ends the live {noun} at apply; {later}" if was else later
    if was:
        return f"ends the live {noun} at apply"
    if end is not None and end <= at:
        return f"never goes live: its window ended {stamp(end)}"
    return "not live (inactive)"


def effects(changes: Iterable[model.Change], at: dt.datetime) -> dict[str, str]:
    """``str(key)`` → ``effect`` for every change."""
    return {str(c.key): effect(c, at) for c in changes}


def timeline(
    resources: Iterable[model.Resource], at: dt.datetime, horizon: dt.timedelta
) -> list[Boundary]:
    """Starts and ends of the planned rulesets and discount codes in (at, at + horizon]."""
    last = at + horizon
    found = []
    for resource in resources:
        if not kinds.by_name[resource.key.kind].dated:
            continue
        if resource.body.get("active") is False:
            continue
        start, end = _window(resource.body)
        if start is not None and at < start <= last:
            found.append(Boundary(start, resource.key, "starts"))
        if end is not None and at < end <= last:
            found.append(Boundary(end, resource.key, "ends"))
    found.sort(key=lambda b: (b.at, b.key.sort_key, b.event))
    return found


def freeze_at(windows: Sequence[FreezeWindow], at: dt.datetime) -> FreezeWindow | None:
    """The freeze window covering ``at``, if any."""
    return next((w for w in windows if w.covers(at)), None)


def landings(
    changes: Iterable[model.Change], windows: Sequence[FreezeWindow], at: dt.datetime
) -> Iterator[str]:
    """Notes on changes that would go live or end inside a freeze after ``at``."""
    if not windows:
        return
    for change in changes:
        if isinstance(change, model.Delete) or not kinds.by_name[change.key.kind].dated:
            continue
        start, end = _window(change.desired.body)
        for event, when in (("goes live", start), ("ends", end)):
            if when is None or when <= at:
                continue
            if isinstance(change, model.Update) and _window(change.live.body) == (start, end):
                continue  # a date it already had: not this plan's doing
            window = freeze_at(windows, when)
            if window is not None:
                yield (
                    f"{change.key.describe()} {event} {stamp(when)}, inside freeze window "
                    f"{window.describe()}."
                )
