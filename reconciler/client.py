"""The HTTP client for the Bold Price Rules API: the one place that talks to Bold.

Owns: the routes table lookup and its overrides, authentication and version headers, client-side
pacing (a token bucket shared by every thread) and bounded concurrency, retries with backoff,
pagination (sending the pages ``pagination.py`` walks, re-reading a list whose pages tear), the
mapping of every failure onto ``errors.ApiError``'s tree, and call logging on the
``reconciler.client`` logger (INFO: one line per call; DEBUG: bodies, truncated and redacted).

Must not: interpret API objects beyond finding them in their envelope (``state.py`` owns field
quirks), print anything, or let the token reach a message, a log line, a repr or an exception.
It is the only module that catches ``httpx`` exceptions; it re-raises ours ``from`` them.

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

import contextlib
import dataclasses
import email.utils
import json
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, Self
from urllib.parse import quote

import httpx

from reconciler import __version__, errors, operations, pagination, redact, routes
from reconciler.operations import ApiResponse
from reconciler.pacing import TokenBucket
from reconciler.transport import InProcessTransport

if TYPE_CHECKING:
    pass

log = logging.getLogger("reconciler.client")

#: Sent on every call so Bold can tell who is calling (contract §1).
USER_AGENT = f"boldrules/{__version__} (+https://github.com/boldrules/boldrules)"
#: The largest page the API serves (contract §3); kept here for callers of the client.
PAGE_LIMIT = pagination.PAGE_LIMIT
#: Reads of one list whose pages keep tearing before ``errors.ShopChanging``.
LIST_READS = 3
#: The base URL of the embedded sandbox: never resolved, the transport answers in process.
SANDBOX_BASE_URL = "http://sandbox.invalid"

_BODY_LOG_LIMIT = 2000
_IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_SECRET_KEY = re.compile(r"token|secret|password|authorization|api[_-]?key", re.IGNORECASE)
# Failures where the request never left this machine: safe to retry even for POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures that retrying cannot fix (a bad URL scheme, an illegal header we built).
_HOPELESS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)

# ``BoldClient`` takes the project's overrides as ``routes=``, which hides the module there.
_resolve_routes = routes.resolve
_check_api_version = routes.check_api_version

_STATUS_ERRORS: dict[int, type[errors.ApiError]] = {
    400: errors.InvalidRequest,
    401: errors.AuthenticationFailed,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    409: errors.Conflict,
    422: errors.InvalidRequest,
    429: errors.RateLimited,
}


@dataclass(frozen=True)
class ClientStats:
    """What a client has done so far: a snapshot, safe to keep."""

    #: logical calls by (method, route name); retries are not counted here
    calls: Mapping[tuple[str, str], int]
    #: extra attempts made after a retryable failure
    retries: int
    #: 429 responses seen (each one was waited out or ended the call)
    rate_limited: int
    #: calls that ended in an error (including 404s the typed operations turn into None)
    errors: int
    #: seconds from the start of the first call to the end of the last one
    wall_seconds: float
    #: objects the list reads have brought so far, and how many their first pages announced
    #: (a list read again counts again on both sides): progress for a person, nothing more
    listed: int = 0
    announced: int = 0

    @property
    def total_calls(self) -> int:
        """Logical calls of every route."""
        return sum(self.calls.values())

    @property
    def requests(self) -> int:
        """HTTP requests actually sent: calls plus retries."""
        return self.total_calls + self.retries


@dataclass(frozen=True)
class Exchange:
    """One finished call, as ``observe`` reports it: enough for a ledger line, never the token."""

    route: str
    method: str
    path: str
    status: int | None
    milliseconds: float
    attempts: int
    finished_at: str
    error: str = ""
    #: Why a failed status was not a failure of the call (``annotate``): "not there", say.
    note: str = ""
    #: Of ``milliseconds``, how long the pacing bucket held the call before it left (every
    #: attempt's wait for the rate limit added up); the rest is the call itself and its retries.
    waited_milliseconds: float = 0.0


class _Recorder:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.retries = self.rate_limited = self.errors = 0
        self.first: float | None = None
        self.last: float | None = None
        self.listed = self.announced = 0

    def page(self, items: int, announced: int | None) -> None:
        with self._lock:
            self.listed += items
            self.announced += announced or 0

    def call(self, method: str, route: str, started: float, attempts: int, ok: bool) -> None:
        with self._lock:
            self.calls[(method, route)] += 1
            self.retries += attempts - 1
            self.errors += 0 if ok else 1
            self.first = started if self.first is None else min(self.first, started)
            self.last = self._clock()

    def saw_429(self) -> None:
        with self._lock:
            self.rate_limited += 1

    def snapshot(self) -> ClientStats:
        with self._lock:
            wall = (self.last - self.first) if self.first is not None and self.last else 0.0
            return ClientStats(
                dict(self.calls),
                self.retries,
                self.rate_limited,
                self.errors,
                max(wall, 0.0),
                self.listed,
                max(self.announced, self.listed),
            )


class TargetSettings(Protocol):
    """What ``for_target`` reads from ``config.Target`` (a sibling layer, so not imported)."""

    @property
    def name(self) -> str: ...
    @property
    def sandbox(self) -> Path | None: ...
    @property
    def api_url(self) -> str | None: ...
    @property
    def shop_identifier(self) -> str | None: ...
    @property
    def token_env(self) -> str | None: ...
    @property
    def api_version(self) -> str: ...
    @property
    def allow_future_api_version(self) -> bool: ...
    @property
    def rate(self) -> float: ...
    @property
    def burst(self) -> int: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def timeout(self) -> float: ...
    def token(self) -> str: ...


class _Retry(Exception):
    """Internal: this attempt failed in a way that may be retried after ``delay`` seconds."""

    def __init__(self, final: errors.ApiError, delay: float | None) -> None:
        self.final = final
        self.delay = delay
        self.rate_limited = isinstance(final, errors.RateLimited)


class BoldClient(operations.Operations):
    """A paced, retrying client for one target; safe to share between threads."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        shop_identifier: str | None = None,
        api_version: str = "2022-10-14",
        allow_future_api_version: bool = False,
        rate: float = 10.0,
        burst: int = 10,
        concurrency: int = 4,
        timeout: float = 30.0,
        routes: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 6,
        max_retry_seconds: float = 60.0,
        max_rate_limited: int = 10,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        token = token.strip()  # surrounding whitespace is never part of a bearer token
        problem = errors.token_problem(token)
        if problem:
            # Deliberately vague: naming the bad character would start to print the token.
            raise errors.TokenInvalid(problem)
        if concurrency < 1 or max_attempts < 1 or timeout <= 0:
            raise errors.ConfigError(
                f"concurrency and max_attempts must be >= 1 and timeout > 0 "
                f"(got {concurrency}, {max_attempts}, {timeout})"
            )
        self.api_version = _check_api_version(api_version, allow_future=allow_future_api_version)
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.max_retry_seconds = max_retry_seconds
        self.max_rate_limited = max_rate_limited
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.routes = _resolve_routes(routes)
        self._token = token
        self._shop_identifier = shop_identifier
        self._shop_lock = threading.Lock()
        self._shop_failure: errors.ApiError | None = None
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._bucket = TokenBucket(rate, burst, clock=clock, sleep=sleep)
        self._slots = threading.BoundedSemaphore(concurrency)
        self._recorder = _Recorder(clock)
        self._observers = threading.local()
        #: Seconds the pacing bucket held this thread's current call (``Exchange``).
        self._paced = threading.local()
        self._on_close: list[Callable[[], object]] = []
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,  # a redirect would carry the token somewhere unplanned
            limits=httpx.Limits(max_connections=max(concurrency, 10)),
            headers={
                "Authorization": f"Bearer {token}",
                "Bold-API-Version-Date": self.api_version,
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
        )

    @classmethod
    def for_target(
        cls, target: TargetSettings, *, routes: Mapping[str, str] | None = None
    ) -> BoldClient:
        """A client for a project target: the embedded sandbox in process, or a real URL."""
        common: dict[str, Any] = {
            "api_version": target.api_version,
            "allow_future_api_version": target.allow_future_api_version,
            "rate": target.rate,
            "burst": target.burst,
            "concurrency": target.concurrency,
            "timeout": target.timeout,
            "routes": routes,
        }
        token = target.token()  # raises TokenMissing naming the variable
        problem = errors.token_problem(token.strip())
        if problem:
            raise errors.TokenInvalid(problem, target=target.name, variable=target.token_env)
        if target.sandbox is not None:
            from reconciler import sandbox  # only sandbox targets pay for importing the server

            embedded = sandbox.Sandbox.embedded(target.sandbox)
            client = cls(
                base_url=SANDBOX_BASE_URL,
                token=token,
                shop_identifier=target.shop_identifier,
                transport=InProcessTransport(embedded.wsgi_app),
                **common,
            )
            closer = getattr(embedded, "close", None)
            if callable(closer):
                client._on_close.append(closer)
            return client
        if not target.api_url:
            raise errors.ConfigError(f"target {target.name!r} has neither sandbox: nor api_url:")
        try:
            return cls(
                base_url=target.api_url,
                token=token,
                shop_identifier=target.shop_identifier,
                **common,
            )
        except errors.TokenInvalid:
            raise
        except errors.ConfigError as exc:
            raise errors.ConfigError(f"target {target.name!r}: {exc}") from None

    def __repr__(self) -> str:
        return (
            f"BoldClient(base_url={self.base_url!r}, shop_identifier={self._shop_identifier!r}, "
            f"api_version={self.api_version!r})"
        )

    def close(self) -> None:
        """Close the connection pool (and an embedded sandbox this client opened)."""
        self._http.close()
        for closer in self._on_close:
            closer()
        self._on_close.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def stats(self) -> ClientStats:
        """Calls, retries, 429s and errors so far."""
        return self._recorder.snapshot()

    @property
    def shop_identifier(self) -> str:
        """The shop this client manages; asked of ``GET /shops/v1/info`` once if not given."""
        with self._shop_lock:
            if self._shop_failure is not None:
                # Threads that queued behind a failed ask get its answer, not six more attempts.
                raise self._shop_failure
            if self._shop_identifier is None:
                try:
                    info = self.shop_info()
                except errors.ApiError as exc:
                    self._shop_failure = exc
                    raise
                ident = info.get("shop_identifier")
                if not isinstance(ident, str | int) or isinstance(ident, bool) or not str(ident):
                    raise errors.BadResponse(
                        method="GET",
                        path=self._path("shop_info", {}),
                        status=200,
                        detail="the shop info has no shop_identifier",
                    )
                self._shop_identifier = str(ident)
            return self._shop_identifier

    # ---------------------------------------------------------------- observing calls

    @contextlib.contextmanager
    def observe(self) -> Iterator[list[Exchange]]:
        """Collect every call this thread finishes inside the block (apply's ledger uses it)."""
        seen: list[Exchange] = []
        stack: list[list[Exchange]] = self._observers.__dict__.setdefault("stack", [])
        stack.append(seen)
        try:
            yield seen
        finally:
            # By identity: nested blocks hold equal lists (the same exchanges), not the same one.
            stack[:] = [other for other in stack if other is not seen]

    def annotate(self, note: str) -> None:
        """Attach ``note`` to the call this thread finished last (the ledger shows it)."""
        for seen in self._observers.__dict__.get("stack") or ():
            if seen:
                seen[-1] = dataclasses.replace(seen[-1], note=note)

    def _notify(
        self,
        route: str,
        method: str,
        path: str,
        status: int | None,
        started: float,
        attempts: int,
        error: errors.ApiError | None = None,
    ) -> None:
        stack = self._observers.__dict__.get("stack")
        if not stack:
            return
        exchange = Exchange(
            route=route,
            method=method,
            path=path,
            status=status,
            milliseconds=(self._clock() - started) * 1000,
            attempts=attempts,
            finished_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            error=str(error) if error is not None else "",
            waited_milliseconds=getattr(self._paced, "seconds", 0.0) * 1000,
        )
        for seen in stack:
            seen.append(exchange)

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock this client paces and times its calls by."""
        return self._clock

    # ---------------------------------------------------------------- the generic call

    def request(
        self,
        route: str,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        read_back: Mapping[str, Any] | None = None,
    ) -> ApiResponse:
        """Send one call of the routes table, paced and retried; raise ``errors.ApiError``."""
        if route in routes.NEVER_CALLED:
            raise ValueError(f"{route} reaches every app's rulesets; boldrules never sends it")
        if route not in self.routes:
            raise ValueError(f"unknown route {route!r}")
        method = self.routes[route][0]
        path = self._path(route, path_params or {})
        where = path + ("?" + str(httpx.QueryParams(params)) if params else "")
        if json is not None and log.isEnabledFor(logging.DEBUG):  # a redacted copy costs
            log.debug("%s %s request body: %s", method, where, self._redacted(json))
        started = self._clock()
        self._paced.seconds = 0.0
        attempt = 0
        refusals = Counter[bool]()  # failed attempts so far: 429s (True) apart from the rest
        while True:
            attempt += 1
            try:
                response, body = self._attempt(
                    method, path, params, json, attempt, route, read_back
                )
            except _Retry as retry:
                delay = retry.delay
                spent = self._clock() - started
                refusals[retry.rate_limited] += 1
                budget = self.max_rate_limited if retry.rate_limited else self.max_attempts - 1
                if (
                    delay is None
                    or refusals[retry.rate_limited] > budget
                    or spent + delay > self.max_retry_seconds
                ):
                    self._fail(route, method, where, started, retry.final)
                self._announce(retry, method, where, delay, refusals)
                self._sleep(delay)
                continue
            except errors.ApiError as exc:
                self._fail(route, method, where, started, exc)
            elapsed_ms = (self._clock() - started) * 1000
            self._recorder.call(method, route, started, attempt, ok=True)
            self._notify(route, method, path, response.status_code, started, attempt)
            log.info(
                "%s %s → %d in %.0f ms, %d retries",
                method,
                where,
                response.status_code,
                elapsed_ms,
                attempt - 1,
            )
            if body is not None and log.isEnabledFor(logging.DEBUG):
                # Only when asked (-vv): a redacted copy of every page was 65% of a fetch's CPU.
                log.debug("%s %s response body: %s", method, where, self._redacted(body))
            return ApiResponse(
                method,
                path,
                response.status_code,
                body,
                attempt,
                elapsed_ms,
                date=response.headers.get("date"),
            )

    def _announce(
        self,
        retry: _Retry,
        method: str,
        where: str,
        delay: float,
        refusals: Counter[bool],
    ) -> None:
        """One line per retry: what is retried, why, and when the next attempt goes."""
        final = retry.final
        if retry.rate_limited:
            why = "429 rate limited"
            budget = self.max_rate_limited + 1
            level = logging.INFO  # pacing, not trouble: counted in the stats, not shouted
        else:
            status = final.status if final.status is not None else "no answer"
            why = f"{status}" + (f": {final.api_message}" if final.api_message else "")
            why += f" ({final.detail})" if final.detail else ""
            budget = self.max_attempts
            level = logging.WARNING
        log.log(
            level,
            "%s %s: %s; attempt %d of %d in %.1f s",
            method,
            where,
            why,
            refusals[retry.rate_limited] + 1,
            budget,
            delay,
        )

    def _fail(
        self, route: str, method: str, where: str, started: float, exc: errors.ApiError
    ) -> NoReturn:
        self._recorder.call(method, route, started, exc.attempts, ok=False)
        self._notify(route, method, where.partition("?")[0], exc.status, started, exc.attempts, exc)
        status = exc.status if exc.status is not None else "no response"
        elapsed_ms = (self._clock() - started) * 1000
        retries = exc.attempts - 1
        log.info("%s %s → %s in %.0f ms, %d retries", method, where, status, elapsed_ms, retries)
        raise exc

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        body: Any,
        attempt: int,
        route: str,
        read_back: Mapping[str, Any] | None,
    ) -> tuple[httpx.Response, Any]:
        """One HTTP request and its parsed body (None: none); raise ``_Retry`` or ``ApiError``."""
        idempotent = method in _IDEMPOTENT
        common: dict[str, Any] = {"method": method, "path": path, "attempts": attempt}
        with self._slots:
            # The token is taken once a slot is held, so the request leaves at once: a thread
            # that took a token and then queued for a slot would reach the server late, bunched
            # with later ones, and tip Bold's window over.
            self._paced.seconds = getattr(self._paced, "seconds", 0.0) + self._bucket.take()
            try:
                response = self._http.request(method, path, params=params, json=body)
            except _NOT_SENT as exc:
                raise _Retry(self._no_response(exc, common), self._backoff(attempt)) from exc
            except _HOPELESS as exc:
                raise self._no_response(exc, common) from exc
            except httpx.TransportError as exc:  # read/write errors, timeouts, drops
                if not idempotent:
                    raise self._ambiguous(route, read_back, common, None, exc) from exc
                raise _Retry(self._no_response(exc, common), self._backoff(attempt)) from exc
            except httpx.DecodingError as exc:
                raise errors.BadResponse(
                    **common, status=None, detail="the body could not be decoded"
                ) from exc
        status = response.status_code
        if status == 429:
            self._recorder.saw_429()
            delay = _first(_retry_after(response), self._backoff(attempt))
            self._bucket.hold(delay)
            raise _Retry(self._error(errors.RateLimited, response, common), delay)
        if status >= 500:
            if not idempotent:
                raise self._ambiguous(route, read_back, common, response, None)
            delay = _first(_retry_after(response), self._backoff(attempt))
            raise _Retry(self._error(errors.ServerError, response, common), delay)
        if 300 <= status < 400:
            target = httpx.URL(response.headers.get("location", "?"))
            raise errors.BadResponse(
                **common,
                status=status,
                detail=f"redirected to {target.host}{target.path}; check the target's api_url",
            )
        if status >= 400:
            extra = {"scope": routes.SCOPES.get(route, "")} if status == 403 else {}
            raise self._error(_STATUS_ERRORS.get(status, errors.ApiError), response, common, extra)
        body, problem = _read_body(method, response)
        if problem is not None:
            if method in _READS:
                # A read is safe to repeat: a body cut short by a proxy or a hiccup usually
                # comes whole the next time.
                error = errors.BadResponse(**common, status=status, detail=problem)
                raise _Retry(error, self._backoff(attempt))
            raise self._ambiguous(route, read_back, common, response, None, problem=problem)
        return response, body

    def _backoff(self, attempt: int) -> float:
        """1 s after the first failure, then full jitter over an exponentially growing cap."""
        if attempt <= 1:
            return self.backoff_base
        with self._rng_lock:
            ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
            return self._rng.uniform(0.0, ceiling)

    def _path(self, route: str, path_params: Mapping[str, str | int]) -> str:
        template = self.routes[route][1]
        empty = sorted(k for k, v in path_params.items() if v is None or not str(v).strip())
        if empty:
            # Defence in depth: an object without an identity must be addressed by its id;
            # ``…/external/None`` would reach nothing, or another object.
            raise errors.Unaddressable(
                method=self.routes[route][0],
                path=template.replace("{shop_identifier}", "…"),
                status=None,
                detail=f"path parameter {', '.join(empty)} of {route} is empty or None; "
                "an object without an external id is addressed by its server id",
            )
        values = {key: str(value) for key, value in path_params.items()}
        if "shop_identifier" in routes.placeholders(template) and "shop_identifier" not in values:
            values["shop_identifier"] = self.shop_identifier
        missing = routes.placeholders(template) - set(values)
        if missing:
            raise ValueError(f"route {route} needs path parameters {sorted(missing)}")
        # safe="": external ids and condition names may hold "/", spaces or "?".
        return template.format_map({key: quote(value, safe="") for key, value in values.items()})

    def _error(
        self,
        kind: type[errors.ApiError],
        response: httpx.Response,
        common: dict[str, Any],
        extra: Mapping[str, Any] | None = None,
    ) -> errors.ApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            detail = f"the error body is not JSON ({_content_type(response)})"
            if kind in (errors.RateLimited, errors.ServerError):
                return kind(**common, status=response.status_code, detail=detail)
            # A non-JSON 404 or 401 is a proxy or a wrong URL talking, not the API: saying
            # "not found" would make plan believe the object is absent.
            return errors.BadResponse(
                **common, status=response.status_code, detail=detail + "; check api_url and routes"
            )
        field_errors = tuple(
            errors.FieldError(self._scrub(str(e.get("field", ""))), self._scrub(str(e["message"])))
            for e in body.get("errors") or ()
            if isinstance(e, dict) and "message" in e
        )
        return kind(
            **common,
            status=response.status_code,
            api_message=self._scrub(str(body.get("message", ""))),
            code=str(body.get("code", "")),
            field_errors=field_errors,
            **(extra or {}),
        )

    def _no_response(self, exc: httpx.HTTPError, common: dict[str, Any]) -> errors.ApiError:
        detail = self._scrub(_describe(exc))
        if isinstance(exc, _NOT_SENT) and self.base_url != SANDBOX_BASE_URL:
            url = httpx.URL(self.base_url)
            where = f"{url.host}:{url.port}" if url.port else url.host
            detail = f"could not connect to {where} ({detail})"
        error = errors.ConnectionFailed(**common, status=None, detail=detail)
        error.__cause__ = exc  # kept for when this ends up raised after the last retry
        return error

    def _ambiguous(
        self,
        route: str,
        read_back: Mapping[str, Any] | None,
        common: dict[str, Any],
        response: httpx.Response | None,
        exc: httpx.HTTPError | None,
        *,
        problem: str = "",
    ) -> errors.AmbiguousWrite:
        if exc is not None:
            what = self._scrub(_describe(exc))
        elif problem:
            what = f"the server said yes but {problem}"
        else:
            what = "the server failed mid-write"
        return errors.AmbiguousWrite(
            **common,
            status=response.status_code if response is not None else None,
            read_back=dict(read_back) if read_back is not None else {"route": route},
            detail=f"{what}; the write may or may not have happened: read back before retrying",
        )

    def _scrub(self, text: str) -> str:
        # The one scrubber (redact.py): this client's token and every secret of the environment.
        return redact.scrub(text, secrets=[self._token, *redact.secret_values()])

    def _redacted(self, value: Any) -> str:
        text = json.dumps(_redact(value), ensure_ascii=False, default=str)
        text = self._scrub(text)
        return text if len(text) <= _BODY_LOG_LIMIT else text[:_BODY_LOG_LIMIT] + "…(truncated)"

    # ---------------------------------------------------------------- pagination

    def list_all(
        self,
        route: str,
        key: str | None,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a paginated list, each once; ``key`` is ``data``'s list (None: bare)."""
        return self.read_list(route, key, path_params=path_params, params=params).items

    def read_list(
        self,
        route: str,
        key: str | None,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> pagination.Listing:
        """A whole list read so that its pages hold together (see ``reconciler.pagination``).

        A read whose pages show the list moved under it (an object on two pages, totals that
        moved, a count that does not add up) is read again, up to ``LIST_READS`` times in all;
        then ``errors.ShopChanging``: a plan must not be built on a torn read.
        """

        def fetch(page: int) -> pagination.Page:
            query = {**(params or {}), "limit": pagination.PAGE_LIMIT, "page": page}
            response = self.request(route, path_params=path_params, params=query)
            found = _page(response, key, page)
            total = found.pagination.get("total")
            if page != 1:
                total = 0  # the first page announced the whole list
            self._recorder.page(len(found.items), total if type(total) is int else None)
            return found

        reason = ""
        previous: object = None
        for attempt in range(1, LIST_READS + 1):
            try:
                pages = pagination.read(fetch, self._fetch_concurrently)
            except OverflowError as exc:
                raise errors.BadResponse(
                    method="GET",
                    path=self._path(route, path_params or {}),
                    status=200,
                    detail=str(exc),
                ) from exc
            torn = pagination.torn(pages)
            if torn is None:
                return pagination.listing(pages, reads=attempt)
            reason = f"{self._path(route, path_params or {})}: {torn}"
            shape = pagination.shape(pages)
            if shape == previous:
                # The same sign twice over the same objects: the server's own paging (a total
                # that counts something else, an object it lists twice), not a shop in motion.
                log.warning("%s, twice the same: taking the list as the server gives it", reason)
                return pagination.listing(pages, reads=attempt)
            previous = shape
            log.info("%s; the list changed while it was read, reading it again", reason)
        raise errors.ShopChanging(LIST_READS, reason)

    def _fetch_concurrently(
        self, fetch: Callable[[int], pagination.Page], numbers: range
    ) -> list[pagination.Page]:
        if not numbers:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(numbers))) as pool:
            futures: list[Future[pagination.Page]] = [pool.submit(fetch, n) for n in numbers]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()  # one page failed for good: do not spend calls on the rest
                raise


def _page(response: ApiResponse, key: str | None, number: int) -> pagination.Page:
    data = response.data
    found = data if key is None else (data.get(key) if isinstance(data, dict) else None)
    if not isinstance(found, list):
        raise errors.BadResponse(
            method=response.method,
            path=response.path,
            status=response.status_code,
            attempts=response.attempts,
            detail=f"the response has no data{'.' + key if key else ''} list",
        )
    meta = response.body.get("pagination") if isinstance(response.body, dict) else None
    items = [item for item in found if isinstance(item, dict)]
    return pagination.Page(number, items, meta if isinstance(meta, dict) else {}, response.date)


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: "***" if _SECRET_KEY.search(str(k)) else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), if any."""
    text = response.headers.get("retry-after", "").strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _first(value: float | None, fallback: float) -> float:
    return fallback if value is None else value


def _read_body(method: str, response: httpx.Response) -> tuple[Any, str | None]:
    """A 2xx answer's parsed body, and what is wrong with it (None: what the contract promises).

    Every success carries a JSON object (contract §3), except a DELETE's, which may be empty
    (204, or 200 with no body: both mean done). Parsed once, here.
    """
    content = response.content
    if not content.strip():
        return None, None if method == "DELETE" else "the answer's body was empty"
    try:
        body = json.loads(content)
    except UnicodeDecodeError:
        return None, f"the answer's body was not UTF-8 text ({_content_type(response)})"
    except json.JSONDecodeError as exc:
        at = len(exc.doc[: exc.pos].encode("utf-8"))
        if exc.doc[exc.pos :].strip() == "" or exc.msg.startswith("Unterminated string"):
            # The document is fine up to where it ends: a body cut short.
            return (
                None,
                f"the answer's body was truncated JSON (it breaks off at byte {len(content)})",
            )
        if exc.pos == 0 or not exc.doc.lstrip().startswith(("{", "[")):
            return None, f"the answer's body was not JSON ({_content_type(response)})"
        return None, f"the answer's body was invalid JSON at byte {at} ({exc.msg})"
    if not isinstance(body, dict):
        return None, f"the answer's body was a JSON {_json_kind(body)}, not an object"
    return body, None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "no content type").split(";")[0] or "?"


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {errors.cut(text, 120)}" if text else type(exc).__name__
