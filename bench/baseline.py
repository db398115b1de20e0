"""The baseline: the sync script a merchant's developer writes today without boldrules.

For every ruleset in the manifests it reads the ruleset by external id, then upserts it (PUT by
external id), one call after another, pacing itself to Bold's 10 calls a second and waiting a
second (or ``Retry-After``) on a 429, as Bold's documentation advises. Its pacing is given the
benefit of the doubt: starts spaced ``PACING_MARGIN`` over ``1 / rate`` apart, the same margin
our client keeps, so it runs at its floor and the comparison with boldrules is about calls,
not about a clumsier sleep. It never deletes: it
cannot tell a ruleset someone removed from the manifests from one it never knew. It is written
the way such scripts are, with plain httpx and no part of ``reconciler``, so that what is
measured is the approach, not our client. It must not read order conditions or discount codes
(the scripts we model do not) and must not print.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

#: A script gives up on a call after this many 429s in a row.
MAX_ATTEMPTS = 8
#: Starts are spaced this much over 1 / rate: exactly 1 / rate draws 429s whenever network
#: jitter bunches eleven arrivals into one second, each costing a second of waiting.
PACING_MARGIN = 1.02


@dataclass
class BaselineStats:
    """What the baseline did: calls by kind, 429s it met, retries it made, and its writes."""

    calls: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    retries: int = 0
    created: int = 0
    replaced: int = 0
    failed: list[str] = field(default_factory=list)


class _Pacer:
    """At most ``rate`` call starts a second: each start waits for ``1 / rate`` since the last."""

    def __init__(self, rate: float | None) -> None:
        self.interval = PACING_MARGIN / rate if rate else 0.0
        self.last = float("-inf")

    def wait(self) -> None:
        if not self.interval:
            return
        gap = self.last + self.interval - time.monotonic()
        if gap > 0:
            time.sleep(gap)
        self.last = time.monotonic()


def sync(
    base_url: str,
    token: str,
    shop: str,
    rulesets: Iterable[Mapping[str, Any]],
    *,
    rate: float | None = 10.0,
    api_version: str = "2022-10-14",
) -> BaselineStats:
    """Read then upsert every ruleset, in order; never delete. Returns what it did."""
    stats = BaselineStats()
    pacer = _Pacer(rate)
    prefix = f"/price_rules/rules/v2/shops/{quote(shop, safe='')}/rulesets/external/"
    headers = {"Authorization": f"Bearer {token}", "Bold-API-Version-Date": api_version}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as http:
        for ruleset in rulesets:
            path = prefix + quote(str(ruleset["external_id"]), safe="")
            found = _send(http, pacer, stats, "GET", path, None)
            if found is None or found.status_code not in (200, 404):
                stats.failed.append(str(ruleset["external_id"]))
                continue
            written = _send(http, pacer, stats, "PUT", path, {"ruleset": dict(ruleset)})
            if written is None or written.status_code not in (200, 201):
                stats.failed.append(str(ruleset["external_id"]))
            elif written.status_code == 201:
                stats.created += 1
            else:
                stats.replaced += 1
    return stats


def _send(
    http: httpx.Client,
    pacer: _Pacer,
    stats: BaselineStats,
    method: str,
    path: str,
    body: Mapping[str, Any] | None,
) -> httpx.Response | None:
    stats.calls[f"{method} ruleset by external id"] += 1
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            stats.retries += 1
        pacer.wait()
        response = http.request(method, path, json=body)
        if response.status_code != 429:
            return response
        stats.rate_limited += 1
        time.sleep(_retry_after(response.headers))
    return None


def _retry_after(headers: Mapping[str, str]) -> float:
    try:
        return max(1.0, float(headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0
