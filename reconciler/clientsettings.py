"""What a client is built from: ``ClientSettings``, and the one place a project target becomes them.

Owns the client's settings (where it calls, its shop, the API version date it sends, pacing,
concurrency, timeout, the retry budget, the project's ``routes:`` overrides), checked when built,
and ``ClientSettings.from_target``. Never holds the token: ``BoldClient`` takes that on its own.

Must not: send a call or import httpx (``client.py`` is the httpx boundary).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler import errors, routes
from reconciler.targets import Target


@dataclass(frozen=True)
class ClientSettings:
    """What a client is built from: where it calls, and how carefully. Checked when built.

    Safe to log: it never holds the token (``BoldClient`` takes that on its own).
    """

    base_url: str
    """Base URL of every call (``https://api.boldcommerce.com``, a served sandbox, ...)."""
    shop_identifier: str | None = None
    """Fills ``{shop_identifier}``; None asks ``GET /shops/v1/info`` once."""
    api_version: str = "2022-10-14"
    """Sent as ``Bold-API-Version-Date``: a real ``YYYY-MM-DD`` date, not after today."""
    allow_future_api_version: bool = False
    """Allow an ``api_version`` after today (never wanted against a production shop)."""
    rate: float = 10.0
    """Pacing: calls per second, over every thread of the client."""
    burst: int = 10
    """Pacing: calls allowed at once before pacing starts."""
    concurrency: int = 10
    """Calls in flight at most; also the size of the page-fetching pool."""
    timeout: float = 30.0
    """Seconds allowed per HTTP request."""
    routes: Mapping[str, str] = field(default_factory=dict)
    """The project's ``routes:`` overrides, by route name (``routes.py`` checks them)."""
    max_attempts: int = 6
    """Attempts per call after 5xx answers and connection failures."""
    max_retry_seconds: float = 60.0
    """Total time one call may spend on retries."""
    max_rate_limited: int = 10
    """Retries per call after 429 answers (counted apart: a 429 says "not now")."""
    backoff_base: float = 1.0
    """Seconds before the first retry; later ones jitter under a doubling cap."""
    backoff_cap: float = 30.0
    """The most seconds one backoff may last."""

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.max_attempts < 1 or self.timeout <= 0:
            raise errors.ConfigError(
                f"concurrency and max_attempts must be >= 1 and timeout > 0 "
                f"(got {self.concurrency}, {self.max_attempts}, {self.timeout})"
            )
        routes.check_api_version(self.api_version, allow_future=self.allow_future_api_version)
        routes.resolve(self.routes)

    @classmethod
    def from_target(
        cls,
        target: Target,
        *,
        routes: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> ClientSettings:
        """The settings a project target gives (its URL unless ``base_url`` says where its
        calls go, its shop, version, pacing and timeout) with the project's ``routes:``;
        ConfigError naming the target when a value is refused."""
        url = base_url or target.api_url
        if not url:
            raise errors.ConfigError(f"target {target.name!r} has neither sandbox: nor api_url:")
        try:
            return cls(
                base_url=url,
                shop_identifier=target.shop_identifier,
                api_version=target.api_version,
                allow_future_api_version=target.allow_future_api_version,
                rate=target.rate,
                burst=target.burst,
                concurrency=target.concurrency,
                timeout=target.timeout,
                routes=dict(routes or {}),
            )
        except errors.ConfigError as exc:
            raise errors.ConfigError(f"target {target.name!r}: {exc}") from None
