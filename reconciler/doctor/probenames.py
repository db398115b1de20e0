"""The probe objects' names: ``boldrules-doctor-<stamp>-<hex>``, unique and dated.

Every object ``doctor --write`` creates is named by ``probe_name``; ``probe_age`` reads the date
back, so that the next ``--write`` run deletes the probes a killed run left (older than
``LEFTOVER_AGE``).
"""

from __future__ import annotations

import datetime as dt
import secrets

from reconciler import instants

#: Every probe object's name starts with this (discount codes too, in the same case).
PROBE_PREFIX = "boldrules-doctor-"
#: A probe older than this is a leftover of a killed run, and the next ``--write`` deletes it.
LEFTOVER_AGE = dt.timedelta(hours=1)


def probe_name(now: dt.datetime | None = None) -> str:
    """``boldrules-doctor-20261201t091500-1a2b3c``: unique, and dated for leftover cleanup."""
    moment = (now or instants.now()).strftime("%Y%m%dt%H%M%S")
    return f"{PROBE_PREFIX}{moment}-{secrets.token_hex(3)}"


def probe_age(name: str, now: dt.datetime) -> dt.timedelta | None:
    """How old a probe is by its name (None: not a dated probe name)."""
    stamp = name[len(PROBE_PREFIX) :].split("-", 1)[0] if name.startswith(PROBE_PREFIX) else ""
    try:
        made = dt.datetime.strptime(stamp, "%Y%m%dt%H%M%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return now - made
