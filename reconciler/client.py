"""The HTTP client for the Bold Price Rules API: the one place that talks HTTP to Bold.

Owns: ``ClientSettings`` (what a client is built from, and ``from_target``, the one place a
project target becomes settings), authentication and version headers, client-side pacing (a
token bucket shared by every thread) and bounded concurrency, retries with backoff, sending the
pages of a list (``pagination.py`` walks them and re-reads a torn list), the mapping of every
failure onto ``errors.ApiError``'s tree, and call logging on the ``reconciler.client`` logger
(INFO: one line per call; DEBUG: bodies, truncated and redacted). What the calls add up to is
kept in ``calllog.py``; which transport a target needs (the embedded sandbox in process, or the
network) is ``connect.py``'s business.

Must not: interpret API objects beyond finding them in their envelope (``state.py`` owns field
quirks), know the sandbox, print anything, or let the token reach a message, a log line, a repr
or an exception. It is the only module that catches ``httpx`` exceptions; it re-raises ours
``from`` them.

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
import json
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NoReturn, Self
from urllib.parse import quote

import httpx

from reconciler import (
    __version__,
    calllog,
    config,
    errors,
    instants,
    operations,
    pagination,
    redact,
    routes,
)
from reconciler.operations import ApiResponse
from reconciler.pacing import TokenBucket
from reconciler.routes import Method
from reconciler.transport import IN_PROCESS_URL

log = logging.getLogger("reconciler.client")

#: Sent on every call so Bold can tell who is calling (contract §1).
USER_AGENT = f"boldrules/{__version__} (+https://github.com/boldrules/boldrules)"

_BODY_LOG_LIMIT = 2000
_IDEMPOTENT: frozenset[Method] = frozenset({"GET", "PUT", "PATCH", "DELETE"})
_READS: frozenset[Method] = frozenset({"GET"})
_SECRET_KEY = re.compile(r"token|secret|password|authorization|api[_-]?key", re.IGNORECASE)
# Failures where the request never left this machine: safe to retry even for POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures that retrying cannot fix (a bad URL scheme, an illegal header we built).
_HOPELESS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)

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
    concurrency: int = 4
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
        target: config.Target,
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


class _Retry(Exception):
    """Internal: this attempt failed in a way that may be retried after ``delay`` seconds."""

    def __init__(self, final: errors.ApiError, delay: float | None) -> None:
        self.final = final
        self.delay = delay
        self.rate_limited = isinstance(final, errors.RateLimited)


class _Halted(Exception):
    """A call refused because the client was halted (``BoldClient.halt``); never shown: the
    caller that halts discards what the halted calls raise."""


class BoldClient(operations.Operations):
    """A paced, retrying client for one target; safe to share between threads."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        token: str,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """A client calling as ``settings`` say with ``token``; ``transport`` (httpx's own when
        None), ``clock``, ``sleep`` and ``rng`` are seams for tests and the embedded sandbox."""
        token = token.strip()  # surrounding whitespace is never part of a bearer token
        problem = errors.token_problem(token)
        if problem:
            # Deliberately vague: naming the bad character would start to print the token.
            raise errors.TokenInvalid(problem)
        self.settings = settings
        self.api_version = settings.api_version
        self.base_url = settings.base_url.rstrip("/")
        self.concurrency = settings.concurrency
        self.routes = routes.resolve(settings.routes)
        self._token = token
        self._shop_identifier = settings.shop_identifier
        self._shop_lock = threading.Lock()
        self._shop_failure: errors.ApiError | None = None
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._bucket = TokenBucket(settings.rate, settings.burst, clock=clock, sleep=sleep)
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._log = calllog.CallLog(clock)
        self._on_close: list[Callable[[], object]] = []
        self._halted = threading.Event()
        self._pages = threading.local()
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=settings.timeout,
            follow_redirects=False,  # a redirect would carry the token somewhere unplanned
            limits=httpx.Limits(max_connections=max(settings.concurrency, 10)),
            headers={
                "Authorization": f"Bearer {token}",
                "Bold-API-Version-Date": self.api_version,
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
        )

    def on_close(self, closer: Callable[[], object]) -> None:
        """Run ``closer`` when this client closes (``connect`` closes an embedded sandbox so)."""
        self._on_close.append(closer)

    def halt(self) -> None:
        """Send nothing more: every call from now on, and each one still waiting for its turn,
        raises before it is sent; calls already sent finish. ``plan`` halts the shop's reads so
        when the manifests it loads beside them turn out invalid."""
        self._halted.set()

    @contextlib.contextmanager
    def pages_through(
        self, convert: Callable[[pagination.Page], pagination.Page]
    ) -> Iterator[None]:
        """Every list this thread reads inside the block passes each page through ``convert``
        as it arrives, on whichever thread fetched it (``state.fetch_live`` normalises the
        objects so, and keeps of the raw JSON only what the read's checks need)."""
        self._pages.convert = convert
        try:
            yield
        finally:
            self._pages.convert = None

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
    def stats(self) -> calllog.ClientStats:
        """Calls, retries, 429s and errors so far."""
        return self._log.snapshot()

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

    def observe(self) -> contextlib.AbstractContextManager[list[calllog.Exchange]]:
        """Collect every call this thread finishes inside the block (apply's ledger uses it)."""
        return self._log.observe()

    def annotate(self, note: str) -> None:
        """Attach ``note`` to the call this thread finished last (the ledger shows it)."""
        self._log.annotate(note)

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
        if self._halted.is_set():
            raise _Halted(route)
        method = self.routes[route][0]
        path = self._path(route, path_params or {})
        where = path + ("?" + str(httpx.QueryParams(params)) if params else "")
        if json is not None and log.isEnabledFor(logging.DEBUG):  # a redacted copy costs
            log.debug("%s %s request body: %s", method, where, self._redacted(json))
        started = self._clock()
        self._log.starting()
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
                budget = (
                    self.settings.max_rate_limited
                    if retry.rate_limited
                    else self.settings.max_attempts - 1
                )
                if (
                    delay is None
                    or refusals[retry.rate_limited] > budget
                    or spent + delay > self.settings.max_retry_seconds
                ):
                    self._fail(route, method, where, started, retry.final)
                self._announce(retry, method, where, delay, refusals)
                self._sleep(delay)
                continue
            except errors.ApiError as exc:
                self._fail(route, method, where, started, exc)
            elapsed_ms = (self._clock() - started) * 1000
            self._log.finished(
                "ok",
                route=route,
                method=method,
                path=path,
                status=response.status_code,
                started=started,
                attempts=attempt,
            )
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
        method: Method,
        where: str,
        delay: float,
        refusals: Counter[bool],
    ) -> None:
        """One line per retry: what is retried, why, and when the next attempt goes."""
        final = retry.final
        if retry.rate_limited:
            why = "429 rate limited"
            budget = self.settings.max_rate_limited + 1
            level = logging.INFO  # pacing, not trouble: counted in the stats, not shouted
        else:
            status = final.status if final.status is not None else "no answer"
            why = f"{status}" + (f": {final.api_message}" if final.api_message else "")
            why += f" ({final.detail})" if final.detail else ""
            budget = self.settings.max_attempts
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
        self, route: str, method: Method, where: str, started: float, exc: errors.ApiError
    ) -> NoReturn:
        self._log.finished(
            "failed",
            route=route,
            method=method,
            path=where.partition("?")[0],
            status=exc.status,
            started=started,
            attempts=exc.attempts,
            error=exc,
        )
        status = exc.status if exc.status is not None else "no response"
        elapsed_ms = (self._clock() - started) * 1000
        retries = exc.attempts - 1
        log.info("%s %s → %s in %.0f ms, %d retries", method, where, status, elapsed_ms, retries)
        raise exc

    def _attempt(
        self,
        method: Method,
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
            self._log.paced(self._bucket.take())
            if self._halted.is_set():
                raise _Halted(route)
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
            self._log.rate_limited()
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
            return self.settings.backoff_base
        with self._rng_lock:
            ceiling = min(
                self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1)
            )
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
        if isinstance(exc, _NOT_SENT) and self.base_url != IN_PROCESS_URL:
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
        """A whole list read so that its pages hold together (``pagination.read_whole``)."""
        convert: Callable[[pagination.Page], pagination.Page] | None = getattr(
            self._pages, "convert", None
        )

        def fetch(page: int) -> pagination.Page:
            query = {**(params or {}), "limit": pagination.PAGE_LIMIT, "page": page}
            response = self.request(route, path_params=path_params, params=query)
            try:
                found = pagination.page_of(page, response.body, key, date=response.date)
            except ValueError as exc:
                raise errors.BadResponse(
                    method=response.method,
                    path=response.path,
                    status=response.status_code,
                    attempts=response.attempts,
                    detail=str(exc),
                ) from None
            total = found.pagination.get("total")
            if page != 1:
                total = 0  # the first page announced the whole list
            self._log.page(len(found.items), total if type(total) is int else None)
            return found if convert is None else convert(found)

        return pagination.read_whole(
            fetch, workers=self.concurrency, where=lambda: self._path(route, path_params or {})
        )


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
    when = pagination.http_date(text)
    return None if when is None else max(0.0, (when - instants.now()).total_seconds())


def _first(value: float | None, fallback: float) -> float:
    return fallback if value is None else value


def _read_body(method: Method, response: httpx.Response) -> tuple[Any, str | None]:
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
