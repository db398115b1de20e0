"""Fault injection for the sandbox: what can go wrong, and the dice that decide when.

Owns the ``Faults`` settings and the ``Injector`` that rolls them with a seedable generator.
It must not answer requests itself: the app asks it what to do and acts (sleep, 5xx, 429,
drop the connection after the write committed, answer late).

Order of effects on an API request (control calls never see faults):
1. ``latency_ms`` plus a uniform ``0..jitter_ms`` is slept before anything else;
2. an ongoing 429 burst answers 429; else ``burst429`` is the chance this request starts a
   burst of ``burst429_length`` consecutive 429s (this one included) across all tokens;
3. ``p500``, ``p502``, ``p503`` are chances of answering that status without doing anything;
4. the request is handled (and committed);
5. for a successful write, ``drop_after_commit`` is the chance the client never gets a complete
   answer (a cut connection over a socket, ``ConnectionResetError`` in process); any other
   successful answer may be spoiled instead: ``truncated_body`` / ``empty_body`` are the chances
   its JSON arrives cut in half / with no body, status kept and ``Content-Length`` matching (a
   broken proxy or server, not the network), on the answers ``body_faults_on`` names, at most
   ``body_faults_limit`` times (see ``Injector.spoil_body``);
6. ``p_slow`` is the chance the answer is held for ``slow_ms`` first (after the commit, so a
   client that times out has still changed the shop, as with Bold).

``Listing`` is the other knob, deterministic rather than dice: the order lists are served in
(``id``, or ``hashed`` — a fixed scramble of the ids, so a new object lands anywhere, as on a
server that orders by something else), and a *mid-listing mutation*: after serving page K of an
unfiltered listing, run a few API requests as the listing caller's app, so the pages after K see
a different shop than the pages before (a torn read, exactly reproducible).
"""

from __future__ import annotations

import dataclasses
import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Faults:
    """Fault settings; all off by default. Probabilities are 0..1."""

    latency_ms: float = 0.0
    """Added to every API request."""
    jitter_ms: float = 0.0
    """Up to this much more, uniformly drawn, on top of latency_ms."""
    p500: float = 0.0
    """Chance of a 500 before the request is handled."""
    p502: float = 0.0
    """Chance of a 502 before the request is handled."""
    p503: float = 0.0
    """Chance of a 503 before the request is handled."""
    burst429: float = 0.0
    """Chance that a request starts a burst of 429s."""
    burst429_length: int = 5
    """Consecutive 429s in a burst, the starting request included."""
    drop_after_commit: float = 0.0
    """Chance that a successful write commits and the client then sees the connection fail."""
    slow_ms: float = 0.0
    """How long a slow answer is held (0: never slow)."""
    p_slow: float = 1.0
    """Chance an answer is slow when slow_ms is set."""
    truncated_body: float = 0.0
    """Chance a successful answer's JSON body is cut in half (status and length consistent)."""
    empty_body: float = 0.0
    """Chance a successful answer comes with an empty body (status kept)."""
    body_faults_on: str = "all"
    """Which answers truncated_body and empty_body may spoil: all, reads (GET) or writes."""
    body_faults_limit: int = 0
    """Spoil at most this many answers (0: no limit); with a chance of 1, exactly the next N."""
    seed: int | None = None
    """Seed for the dice, for reproducible runs."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        """Build from JSON; ValueError names an unknown or ill-typed setting."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"unknown fault setting {key!r}; known: {', '.join(known)}")
            if key == "body_faults_on":
                if value not in _BODY_TARGETS:
                    raise ValueError(f"body_faults_on must be one of {', '.join(_BODY_TARGETS)}")
            elif key == "seed":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise ValueError("seed must be an integer or null")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key} must be a number")
            elif key == "body_faults_limit" and not isinstance(value, int):
                raise ValueError("body_faults_limit must be a whole number")
            elif value < 0 or ((key.startswith("p") or key in _PROBABILITIES) and value > 1):
                raise ValueError(f"{key} must be between 0 and 1" if value >= 0 else f"{key} < 0")
        faults = cls(**data)
        if faults.burst429_length < 1:
            raise ValueError("burst429_length must be at least 1")
        return faults

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON."""
        return dataclasses.asdict(self)


_PROBABILITIES = frozenset({"burst429", "drop_after_commit", "truncated_body", "empty_body"})
_BODY_TARGETS = ("all", "reads", "writes")


class Injector:
    """Rolls the dice for one Faults setting; thread-safe."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(faults or Faults())

    def configure(self, faults: Faults) -> None:
        """Replace the settings and restart the generator (from the seed, if given)."""
        with self._lock:
            self.faults = faults
            self._random = random.Random(faults.seed)
            self._burst_left = 0
            self.bursts_started = 0
            self._bodies_spoiled = 0

    def delay(self) -> float:
        """Seconds to sleep before handling."""
        f = self.faults
        if not f.latency_ms and not f.jitter_ms:
            return 0.0
        with self._lock:
            jitter = self._random.uniform(0, f.jitter_ms) if f.jitter_ms else 0.0
        return (f.latency_ms + jitter) / 1000

    def early_status(self) -> int | None:
        """429, 500, 502 or 503 to answer instead of handling; None to handle."""
        f = self.faults
        with self._lock:
            if self._burst_left:
                self._burst_left -= 1
                return 429
            if f.burst429 and self._random.random() < f.burst429:
                self._burst_left = f.burst429_length - 1
                self.bursts_started += 1
                return 429
            for status, chance in ((500, f.p500), (502, f.p502), (503, f.p503)):
                if chance and self._random.random() < chance:
                    return status
        return None

    def drop(self) -> bool:
        """Whether to cut this successful write's answer."""
        chance = self.faults.drop_after_commit
        if not chance:
            return False
        with self._lock:
            return self._random.random() < chance

    def spoil_body(self, *, write: bool) -> str | None:
        """``"truncated"`` or ``"empty"``: spoil this successful answer's body; None: keep it."""
        f = self.faults
        if not f.truncated_body and not f.empty_body:
            return None
        if f.body_faults_on == ("reads" if write else "writes"):
            return None
        with self._lock:
            if f.body_faults_limit and self._bodies_spoiled >= f.body_faults_limit:
                return None
            for kind, chance in (("truncated", f.truncated_body), ("empty", f.empty_body)):
                if chance and (chance >= 1 or self._random.random() < chance):
                    self._bodies_spoiled += 1
                    return kind
        return None

    def slow(self) -> float:
        """Seconds to hold the answer back (0: answer now)."""
        f = self.faults
        if not f.slow_ms:
            return 0.0
        with self._lock:
            hit = f.p_slow >= 1 or self._random.random() < f.p_slow
        return f.slow_ms / 1000 if hit else 0.0


#: The listings a mid-listing mutation can follow (the names of their ``data`` keys).
LISTINGS = ("rulesets", "order_conditions", "discount_codes")
#: List orders: ``id`` (creation order) or ``hashed`` (a fixed scramble of the ids).
ORDERS = ("id", "hashed")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Listing:
    """How lists are served, and the shop change to make in the middle of one."""

    order: str = "id"
    """``id`` or ``hashed``: the order of every list (rulesets, order conditions, codes)."""
    mutate: str | None = None
    """The listing whose page ``after_page`` triggers the requests (None: never)."""
    after_page: int = 1
    """The page number after which the requests run (page numbers as asked by the client)."""
    times: int = 1
    """How many listings trigger them (0: every one)."""
    requests: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    """``{"method", "path", "body"?}``, ``path`` relative to ``P/``; ``{n}``: the trigger count."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Listing:
        """Build from JSON; ValueError names an unknown or ill-typed setting."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown listing setting {unknown[0]!r}; known: {', '.join(known)}")
        order = data.get("order", "id")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}")
        mutate = data.get("mutate")
        if mutate is not None and mutate not in LISTINGS:
            raise ValueError(f"mutate must be null or one of {', '.join(LISTINGS)}")
        for name in ("after_page", "times"):
            value = data.get(name, 1)
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or value < (name == "after_page")
            ):
                raise ValueError(f"{name} must be a whole number >= {int(name == 'after_page')}")
        requests = data.get("requests", ())
        if not isinstance(requests, list | tuple):
            raise ValueError("requests must be a list")
        for request in requests:
            if (
                not isinstance(request, dict)
                or str(request.get("method", "")).upper() not in _METHODS
                or not isinstance(request.get("path"), str)
                or set(request) - {"method", "path", "body"}
            ):
                raise ValueError(
                    'each request must be {"method": GET|POST|PUT|PATCH|DELETE, "path": str, '
                    '"body"?: JSON}'
                )
        return cls(
            order=order,
            mutate=mutate,
            after_page=data.get("after_page", 1),
            times=data.get("times", 1),
            requests=tuple(json.loads(json.dumps(r)) for r in requests),
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON."""
        out = dataclasses.asdict(self)
        out["requests"] = [dict(r) for r in self.requests]
        return out


class ListingHook:
    """Decides, thread-safely, whether a served page triggers the mid-listing mutation."""

    def __init__(self, listing: Listing | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(listing or Listing())

    def configure(self, listing: Listing) -> None:
        """Replace the settings and restart the trigger count."""
        with self._lock:
            self.listing = listing
            self.triggered = 0

    def fire(self, name: str, page: int) -> int | None:
        """The trigger count (1, 2, …) when serving ``page`` of listing ``name`` triggers."""
        chosen = self.listing
        if chosen.mutate != name or page != chosen.after_page or not chosen.requests:
            return None
        with self._lock:
            if chosen.times and self.triggered >= chosen.times:
                return None
            self.triggered += 1
            return self.triggered
