"""Client-side pacing: a token bucket shared by every thread of one client.

Owns only the arithmetic of "at most ``rate`` calls a second, ``burst`` at once" and the hold
after a 429. It knows nothing of HTTP; ``client.py`` takes a token before every attempt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from reconciler import errors


class TokenBucket:
    """A thread-safe bucket of ``burst`` tokens, each returning ``burst / rate`` s after use.

    So at most ``burst`` takes fit in any window of ``burst / rate`` seconds, and therefore at
    most ``burst + rate * t`` in any window of t seconds: the sustained rate is ``rate`` and the
    excess never more than ``burst``. A classic refill-as-you-go bucket with the same numbers
    would allow ``burst + rate`` calls in the first second, which Bold's "about 10 a second"
    (and the sandbox's model of it) answers with 429s; this one stays under that limit.
    Every return is late by ``slack`` of the window (5%: 50 ms at Bold's 10 a second) so that
    jitter between our send and the server's arrival does not tip a full window over; the
    sustained rate is then ``rate / (1 + slack)``, a 5% toll for never meeting a 429.

    ``hold(seconds)`` makes every taker wait at least that long (used after a 429, so one
    refused thread does not leave the others to walk into the same wall).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        slack: float = 0.05,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise errors.ConfigError(f"rate must be > 0 and burst >= 1 (got {rate}, {burst})")
        self.rate = float(rate)
        self.burst = int(burst)
        self.window = self.burst / self.rate * (1.0 + slack)
        self._clock = clock
        self._sleep = sleep
        self._spent: list[Token] = []
        self._hold_until = float("-inf")
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token, sleeping until one is free; return the seconds waited."""
        return self.take_token().waited

    def take_token(self) -> Token:
        """Take one token, sleeping until one is free. It returns ``window`` after it was
        taken, or, if ``Token.sent`` says when the call actually left, after that."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._spent = [t for t in self._spent if now - t.since < self.window]
                if now >= self._hold_until and len(self._spent) < self.burst:
                    token = Token(self, now, waited)
                    self._spent.append(token)
                    return token
                full = len(self._spent) >= self.burst
                first = min(t.since for t in self._spent) if full else now
                back = first + self.window - now if full else 0
                wait = max(self._hold_until - now, back, 1e-4)
            self._sleep(wait)
            waited += wait

    def _sent(self, token: Token, when: float) -> None:
        with self._lock:
            token.since = max(token.since, when)

    def hold(self, seconds: float) -> None:
        """Let no one take a token for ``seconds`` from now."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + seconds)


class Token:
    """One call's token: when it returns to the bucket, and how long its taker waited."""

    def __init__(self, bucket: TokenBucket, since: float, waited: float) -> None:
        self._bucket = bucket
        #: The clock's time the token counts from: it returns a window later.
        self.since = since
        self.waited = waited

    def sent(self, when: float) -> None:
        """The call left at ``when`` (the clock's time, after the request was written): the
        token returns ``window`` after that, not after it was taken. A thread that took its
        token may wait for the interpreter before its request leaves (another thread parsing
        a page holds it for tens of milliseconds); counted from the take, the next window would
        open that much early at the server, and draw a 429."""
        self._bucket._sent(self, when)
