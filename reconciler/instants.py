"""Instants: the one way to read a date-time and the few ways boldrules writes one.

Reading: ``parse`` takes a stamp as the API, a saved plan or a lock writes it (any offset or
none, any precision, a date alone); ``parse_strict`` takes only an RFC 3339 date-time with its
offset, what a manifest, the project file and ``--at`` must write. Writing: ``stamp`` (whole
seconds, ``Z``: plans, records, ledgers), ``stamp_ms`` (milliseconds: apply's timings) and
``canonical`` (the normal form both sides of a diff compare in). ``now`` is the wall clock.

This module imports nothing of reconciler. The sandbox and the pricing package keep their own
readers on purpose: the sandbox stands for Bold's server, and pricing imports nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

#: An RFC 3339 date-time with its offset (``Z``, ``z`` or ``±HH:MM``), as manifests must write it.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)


def now() -> dt.datetime:
    """The wall clock, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def parse(value: object) -> dt.datetime | None:
    """An instant as the API, a saved plan or a lock writes it, aware; None when unreadable.

    A datetime passes through; a string may use ``Z``, ``z`` or an offset (kept), any number of
    fractional digits (past microseconds dropped), no offset at all (read as UTC, as the contract
    mandates) or be a date alone (midnight UTC, as plan timelines write it).
    """
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        return _parse_text(value)
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=4096)
def _parse_text(value: str) -> dt.datetime | None:
    # Remembered: a shop's thousands of windows repeat a few dates, and datetimes are immutable.
    text = value.strip()
    if not text:
        return None
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def parse_strict(text: str) -> dt.datetime | None:
    """The instant an RFC 3339 date-time with its offset names, or None when ``text`` is not one."""
    return parse(text) if _RFC3339.match(text) else None


def earlier(text: object, moment: dt.datetime) -> bool | None:
    """Whether the instant ``text`` spells is before ``moment`` (aware, whole seconds), read
    from its spelling alone when it is UTC (``2026-12-01T10:00:00[.5]Z``, or ``+00:00``);
    None when that takes parsing (another offset or form, or the same second). A listing
    checks ten thousands of stamps against one instant: comparing strings is a tenth of a
    parse."""
    if (
        isinstance(text, str)
        and len(text) >= 20
        and (text[-1] in "Zz" or text.endswith("+00:00"))
        and text[10] == "T"
        and text[19] in ".Zz+"
    ):
        second = _second(moment)
        if text[:19] < second:
            return True
    return None


@functools.lru_cache(maxsize=64)
def _second(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def stamp(moment: dt.datetime) -> str:
    """``2026-12-01T10:00:00Z``: an aware instant in UTC to the whole second."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stamp_ms(moment: dt.datetime) -> str:
    """``2026-12-01T10:00:00.123Z``: an aware instant in UTC to the millisecond."""
    text = moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def canonical(moment: dt.datetime) -> str:
    """``2026-12-01T10:00:00Z`` or ``…:00.5Z``: UTC, the fraction without trailing zeros."""
    moment = moment.astimezone(dt.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def day(moment: dt.datetime) -> str:
    """``2027-03-01``: the UTC date of an aware instant."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d")
