"""The retry policy: which failures are retried, how long each wait is, and when retrying ends.

Owns ``Retry`` (an attempt that failed in a way that may be retried), the methods that are safe
to send again, ``Retry-After`` read from an answer, the backoff (full jitter under a doubling
cap), the budgets that end retrying, and the one log line that announces each retry.
``client.py`` sends the requests and raises ``Retry``; this module only decides.

Must not: send anything, import httpx, or know a route.

Retry rules, in one place:

* 429: retried for every method (the server refused before doing anything), waiting for
  ``Retry-After`` when sent, else 1 s, then exponential backoff with full jitter; every thread
  of the client holds off for that long, not just the one that was refused.
* 5xx, timeouts and dropped connections: retried for GET, PUT, PATCH and DELETE (idempotent
  here: PUT and PATCH by external id restate the same object). For POST the outcome is unknown,
  so ``errors.AmbiguousWrite`` is raised at once, carrying ``read_back``.
* A connection that was never made (refused, connect timeout) is retried for every method:
  nothing was sent.
* A 2xx whose body is not a JSON object (empty, cut short, an HTML page): a GET is retried like
  a 5xx (reads are safe to repeat), and ends in ``errors.BadResponse`` saying what was wrong with
  the body (empty, truncated JSON at byte N, not an object); a write raises
  ``errors.AmbiguousWrite`` at once (the server said yes, but what it did cannot be read from the
  answer), so the caller reads back. A DELETE's empty body is its documented success.
* Everything else (400, 401, 403, 404, 409, 422, ...) is final; a 403 names the scope the route
  needs (``routes.SCOPES``).

Every retry except a 429's is announced as it happens, one WARNING line on the
``reconciler.client`` logger (what, why, when the next attempt goes), so a run against an
unreachable API is never silent; a 429 is pacing, not trouble, and is logged at INFO.

Retries are capped per call by ``max_retry_seconds`` of total time, by ``max_attempts`` attempts
for 5xx and connection failures, and separately by ``max_rate_limited`` retries after a 429: a
429 says "not now" rather than "broken", and under bursts of them a shared budget would give up
on a healthy server.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Mapping

from reconciler import errors, instants, pagination
from reconciler.clientsettings import ClientSettings
from reconciler.routes import Method

log = logging.getLogger("reconciler.client")

#: Methods sent again after a 5xx, a timeout or a dropped connection.
IDEMPOTENT: frozenset[Method] = frozenset({"GET", "PUT", "PATCH", "DELETE"})
#: Methods sent again after a 2xx whose body cannot be read.
READS: frozenset[Method] = frozenset({"GET"})


class Retry(Exception):
    """This attempt failed in a way that may be retried after ``delay`` seconds."""

    def __init__(self, final: errors.ApiError, delay: float) -> None:
        self.final = final
        self.delay = delay
        self.rate_limited = isinstance(final, errors.RateLimited)


class Backoff:
    """The wait before each retry of a call; safe to share between threads."""

    def __init__(self, settings: ClientSettings, rng: random.Random | None = None) -> None:
        self.settings = settings
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()

    def delay(self, attempt: int) -> float:
        """1 s after the first failure, then full jitter over an exponentially growing cap."""
        if attempt <= 1:
            return self.settings.backoff_base
        with self._rng_lock:
            ceiling = min(
                self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1)
            )
            return self._rng.uniform(0.0, ceiling)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), if any."""
    text = headers.get("retry-after", "").strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    when = pagination.http_date(text)
    return None if when is None else max(0.0, (when - instants.now()).total_seconds())


def first(value: float | None, fallback: float) -> float:
    return fallback if value is None else value


def exhausted(
    retry: Retry, refusals: Counter[bool], spent: float, settings: ClientSettings
) -> bool:
    """Whether retrying ends with ``retry``: its budget (429s apart from the rest, counted in
    ``refusals``) is used up, or its wait would take the call past ``max_retry_seconds``."""
    budget = settings.max_rate_limited if retry.rate_limited else settings.max_attempts - 1
    return refusals[retry.rate_limited] > budget or spent + retry.delay > settings.max_retry_seconds


def announce(
    retry: Retry,
    method: Method,
    where: str,
    refusals: Counter[bool],
    settings: ClientSettings,
) -> None:
    """One line per retry: what is retried, why, and when the next attempt goes."""
    final = retry.final
    if retry.rate_limited:
        why = "429 rate limited"
        budget = settings.max_rate_limited + 1
        level = logging.INFO  # pacing, not trouble: counted in the stats, not shouted
    else:
        status = final.status if final.status is not None else "no answer"
        why = f"{status}" + (f": {final.api_message}" if final.api_message else "")
        why += f" ({final.detail})" if final.detail else ""
        budget = settings.max_attempts
        level = logging.WARNING
    log.log(
        level,
        "%s %s: %s; attempt %d of %d in %.1f s",
        method,
        where,
        why,
        refusals[retry.rate_limited] + 1,
        budget,
        retry.delay,
    )
