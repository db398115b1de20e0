"""Per-token rate limiting for the sandbox (contract §4).

Owns the bucket arithmetic only; the app decides what a refusal looks like. It must not sleep:
a refused caller gets the wait back and the request is answered 429 at once.

The model: a bucket of ``burst`` tokens per API token, each spent token returning
``burst / rate`` seconds after it was spent. The sustained rate is ``rate`` per second, as in a
classic token bucket, but the refill is not spread out: at most ``burst`` requests fit in any
window of ``burst / rate`` seconds. With the defaults (10 per second, burst 10) eleven calls
within one second always draw a 429, which is the behaviour "about 10 requests per second"
promises a client, and a client that paces itself below the limit never sees one.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Admits or refuses requests per key; thread-safe."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst ≥ 1")
        self.rate = rate
        self.burst = burst
        self.window = burst / rate
        self._clock = clock
        self._spent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float | None:
        """Spend one token of ``key``: None when admitted, else the seconds until one returns."""
        now = self._clock()
        with self._lock:
            spent = self._spent.setdefault(key, deque())
            while spent and now - spent[0] >= self.window:
                spent.popleft()
            if len(spent) < self.burst:
                spent.append(now)
                return None
            return max(self.window - (now - spent[0]), 0.001)

    def clear(self) -> None:
        """Refill every bucket."""
        with self._lock:
            self._spent.clear()
