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
"""

from __future__ import annotations

import dataclasses
import random
import threading
from dataclasses import dataclass
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
